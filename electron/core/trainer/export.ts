/**
 * One-shot sidecar commands on a run's weights: export (ONNX and every format Ultralytics exports)
 * and evaluation on a split. Evaluating on the test split is recorded in the run (`test_evaluated`):
 * the test split is for the final check, and the UI warns once a decision has been made on it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { PerClassMetrics, RunMetrics } from '../../shared/contract.js';
import type { TrainerEvent } from '../../shared/trainer.js';
import type { CoreContext } from '../context.js';
import type { JobContext } from '../jobs/jobs.js';
import { requireReadyEnv } from './env.js';
import { pickMetrics } from './results.js';
import { loadRun, writeRecord } from './runs.js';
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
  const sc = startSidecar(ctx, { python, args, logFile, signal: job?.signal, onEvent, stopTimeoutMs: 10_000 });
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

export interface Evaluation {
  split: string;
  metrics: RunMetrics | null;
  raw: Record<string, number>;
  perClass: PerClassMetrics[];
}

/** Validate a run's best.pt on a split of its dataset; the test split is recorded in the run. */
export async function evaluateRun(ctx: CoreContext, dir: string, split: 'val' | 'test' | 'train', job?: JobContext): Promise<Evaluation> {
  const rec = await loadRun(dir);
  const weights = runWeights(dir);
  const args = ['val', '--weights', weights, '--data', rec.dataset.data_yaml, '--split', split, '--imgsz', String(rec.settings.imgsz ?? 640)];
  if (typeof rec.settings.device === 'string') args.push('--device', rec.settings.device);
  job?.progress(`evaluate ${split}`, 0, 1);
  const r = await oneShot(ctx, args, path.join(dir, 'train.log'), job);
  if (!r.done) throw new Error(`the evaluation of ${weights} reported no metrics (see train.log)`);
  if (split === 'test') {
    const now = await loadRun(dir);
    now.test_evaluated = true;
    await writeRecord(dir, now);
  }
  job?.progress(`evaluate ${split}`, 1, 1);
  return { split, metrics: pickMetrics(r.done.metrics), raw: r.done.metrics, perClass: r.done.per_class };
}
