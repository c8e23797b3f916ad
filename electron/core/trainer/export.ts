/**
 * One-shot sidecar commands on a run's weights: export (ONNX and every format Ultralytics exports)
 * and evaluation on a split. Evaluating on the test split is recorded in the run (`test_evaluated`):
 * the test split is for the final check, and the UI warns once a decision has been made on it.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { Evaluation } from '../../shared/contract.js';
import type { TrainerEvent } from '../../shared/trainer.js';
import type { CoreContext } from '../context.js';
import { writeFileAtomic } from '../fsutil.js';
import type { JobContext } from '../jobs/jobs.js';
import { requireReadyEnv } from './env.js';
import { pickMetrics } from './results.js';
import { loadRun, writeRecord } from './runs.js';
import { writeSummaryMd } from './summary.js';
import { startSidecar, type SidecarResult } from './sidecar.js';

/** best.pt of a run folder (last.pt when the run never validated), or a .pt path as it is. */
export function runWeights(runOrWeights: string): string {
  const abs = path.resolve(runOrWeights);
  if (abs.endsWith('.pt')) return abs;
  for (const f of ['best.pt', 'last.pt']) if (existsSync(path.join(abs, 'weights', f))) return path.join(abs, 'weights', f);
  throw new Error(`${abs}: no weights/best.pt or weights/last.pt — not a finished run folder`);
}

async function oneShot(ctx: CoreContext, args: string[], logFile: string, job?: JobContext, onEvent?: (e: TrainerEvent) => void): Promise<SidecarResult> {
  const { python } = await requireReadyEnv(ctx);
  const sc = startSidecar(ctx, { python, args, logFile, signal: job?.signal, onEvent, stopTimeoutMs: 10_000, stopSignal: 'SIGTERM' });
  const r = await sc.result;
  job?.throwIfCancelled();
  if (r.failure) throw new Error(`${r.failure.message}${r.failure.hint ? ` — ${r.failure.hint}` : ''}`);
  return r;
}

export interface ExportOptions {
  format?: string;
  imgsz?: number;
  half?: boolean;
  dynamic?: boolean;
}

/** Export a run's best.pt; returns the exported file (or folder, for formats that write one). */
export async function exportRun(ctx: CoreContext, runOrWeights: string, opts: ExportOptions = {}, job?: JobContext): Promise<{ path: string; format: string }> {
  const weights = runWeights(runOrWeights);
  const run = path.basename(path.dirname(weights)) === 'weights' ? path.dirname(path.dirname(weights)) : path.dirname(weights);
  const args = ['export', '--weights', weights, '--format', opts.format ?? 'onnx'];
  if (opts.imgsz) args.push('--imgsz', String(opts.imgsz));
  if (opts.half) args.push('--half');
  if (opts.dynamic) args.push('--dynamic');
  job?.progress('export', 0, 1);
  let out: { path: string; format: string } | null = null;
  await oneShot(ctx, args, path.join(run, 'export.log'), job, (e) => {
    if (e.type === 'export_done') out = { path: e.path, format: e.format };
  });
  job?.progress('export', 1, 1);
  if (!out) throw new Error(`the export of ${weights} reported no file (see ${path.join(run, 'export.log')})`);
  return out;
}

export type { Evaluation };

/**
 * Validate a run's best.pt on a split of its dataset, as an explicit, recorded action: the result goes
 * to eval-<split>.json (plots to eval-<split>/), the record lists it under `evaluations`, the test split
 * marks the run `test_evaluated`, and summary.md is rewritten to say so.
 */
export async function evaluateRun(ctx: CoreContext, dirIn: string, split: 'val' | 'test', job?: JobContext): Promise<Evaluation> {
  const dir = path.resolve(dirIn);
  const rec = await loadRun(dir);
  if (rec.status === 'running') throw new Error(`${dir}: the run is still training; evaluate it once it has ended`);
  const weights = runWeights(dir);
  const dataYaml = rec.dataset.data_yaml;
  let doc: Record<string, unknown>;
  try {
    doc = (YAML.parse(await fs.readFile(dataYaml, 'utf8')) ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${dataYaml}: cannot read the run's dataset (${(err as Error).message.split('\n')[0]})`);
  }
  if (!doc[split]) throw new Error(`${dataYaml}: the dataset has no ${split} split to evaluate on`);
  const out = path.join(dir, `eval-${split}`);
  const args = ['val', '--weights', weights, '--data', dataYaml, '--split', split, '--imgsz', String(rec.settings.imgsz ?? 640), '--out', out];
  if (typeof rec.settings.device === 'string') args.push('--device', rec.settings.device);
  job?.progress(`evaluate ${split}`, 0, 1);
  const r = await oneShot(ctx, args, path.join(dir, 'eval.log'), job);
  if (!r.done) throw new Error(`the evaluation of ${weights} reported no metrics (see ${path.join(dir, 'eval.log')})`);
  const at = new Date().toISOString();
  const metrics = pickMetrics(r.done.metrics);
  const file = path.join(dir, `eval-${split}.json`);
  await writeFileAtomic(
    file,
    JSON.stringify({ split, evaluated_at: at, weights, data: dataYaml, dataset_hash: rec.dataset.hash, imgsz: rec.settings.imgsz ?? null, metrics, raw: r.done.metrics, per_class: r.done.per_class, seconds: r.done.seconds }, null, 2) + '\n',
  );
  // re-read: the record may have changed while the evaluation ran (a note, another evaluation)
  const now = await loadRun(dir);
  if (split === 'test') now.test_evaluated = true;
  now.evaluations.push({ split, at, weights: path.relative(dir, weights), metrics, file: path.basename(file) });
  await writeRecord(dir, now);
  await writeSummaryMd(dir, now, null);
  job?.progress(`evaluate ${split}`, 1, 1);
  return { dir, split, weights, metrics, raw: r.done.metrics, perClass: r.done.per_class, file };
}
