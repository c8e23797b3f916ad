/**
 * Evaluation of a run's best.pt on a split of its dataset or on one of the dataset's named evaluation
 * sets. Evaluating on the test split is recorded in the run (`test_evaluated`): the test split is for
 * the final check, and the UI warns once a decision has been made on it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import type { Evaluation } from '../../shared/contract.js';
import type { CoreContext } from '../context.js';
import { evalSetDataYaml, listEvalSets } from '../datasets/evalsets.js';
import { writeFileAtomic } from '../fsutil.js';
import type { JobContext } from '../jobs/jobs.js';
import { oneShot, runWeights } from './export.js';
import { pickMetrics } from './results.js';
import { loadRun, writeRecord } from './runs.js';
import { writeSummaryMd } from './summary.js';

export type { Evaluation };

/** What to evaluate on: a split of the run's dataset, or one of the dataset's named evaluation sets. */
export type EvalTarget = { split: 'val' | 'test' } | { set: string };

const targetName = (t: EvalTarget) => ('set' in t ? `set-${t.set}` : t.split);
const targetWords = (t: EvalTarget) => ('set' in t ? `evaluation set ${t.set}` : `${t.split} split`);

/**
 * Validate a run's best.pt on a split of its dataset or on a named evaluation set, as an explicit,
 * recorded action: the result goes to eval-<split>.json / eval-set-<name>.json (plots beside it in a
 * folder of that name), the record lists it under `evaluations`, the test split marks the run
 * `test_evaluated`, and summary.md is rewritten to say so.
 */
export async function evaluateRun(ctx: CoreContext, dirIn: string, target: EvalTarget | 'val' | 'test', job?: JobContext): Promise<Evaluation> {
  const t: EvalTarget = typeof target === 'string' ? { split: target } : target;
  const dir = path.resolve(dirIn);
  const rec = await loadRun(dir);
  if (rec.status === 'running') throw new Error(`${dir}: the run is still training; evaluate it once it has ended`);
  const weights = runWeights(dir);
  let dataYaml = rec.dataset.data_yaml;
  if ('set' in t) {
    dataYaml = await evalSetDataYaml(rec.dataset.root, t.set);
  } else {
    let doc: Record<string, unknown>;
    try {
      doc = (YAML.parse(await fs.readFile(dataYaml, 'utf8')) ?? {}) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`${dataYaml}: cannot read the run's dataset (${(err as Error).message.split('\n')[0]})`);
    }
    if (!doc[t.split]) throw new Error(`${dataYaml}: the dataset has no ${t.split} split to evaluate on`);
  }
  const name = targetName(t);
  const out = path.join(dir, `eval-${name}`);
  const args = ['val', '--weights', weights, '--data', dataYaml, '--split', 'set' in t ? 'val' : t.split, '--imgsz', String(rec.settings.imgsz ?? 640), '--out', out];
  if (typeof rec.settings.device === 'string') args.push('--device', rec.settings.device);
  job?.progress(`evaluate ${targetWords(t)}`, 0, 1);
  const r = await oneShot(ctx, args, path.join(dir, 'eval.log'), job);
  if (!r.done) throw new Error(`the evaluation of ${weights} on the ${targetWords(t)} reported no metrics (see ${path.join(dir, 'eval.log')})`);
  const at = new Date().toISOString();
  const metrics = pickMetrics(r.done.metrics);
  const file = path.join(dir, `eval-${name}.json`);
  const split = 'set' in t ? 'set' : t.split;
  const set = 'set' in t ? t.set : undefined;
  await writeFileAtomic(
    file,
    JSON.stringify({ split, set, evaluated_at: at, weights, data: dataYaml, dataset_hash: rec.dataset.hash, imgsz: rec.settings.imgsz ?? null, metrics, raw: r.done.metrics, per_class: r.done.per_class, seconds: r.done.seconds }, null, 2) + '\n',
  );
  // re-read: the record may have changed while the evaluation ran (a note, another evaluation)
  const now = await loadRun(dir);
  if (split === 'test') now.test_evaluated = true;
  now.evaluations.push({ split, ...(set ? { set } : {}), at, weights: path.relative(dir, weights), metrics, file: path.basename(file) });
  await writeRecord(dir, now);
  await writeSummaryMd(dir, now, null);
  job?.progress(`evaluate ${targetWords(t)}`, 1, 1);
  return { dir, split, ...(set ? { set } : {}), evaluatedAt: at, weights, metrics, raw: r.done.metrics, perClass: r.done.per_class, file };
}

/**
 * Validate a finished run on every named evaluation set of its dataset (after training, and from
 * `spotter val --sets`). A set that fails is logged and skipped; the others still run.
 */
export async function evaluateEvalSets(ctx: CoreContext, dirIn: string, job?: JobContext): Promise<Evaluation[]> {
  const dir = path.resolve(dirIn);
  const rec = await loadRun(dir);
  const sets = await listEvalSets(rec.dataset.root).catch(() => []);
  const out: Evaluation[] = [];
  for (const s of sets) {
    job?.throwIfCancelled();
    try {
      out.push(await evaluateRun(ctx, dir, { set: s.name }, job));
    } catch (err) {
      if (job?.signal.aborted) throw err;
      ctx.logger.warn(`${dir}: evaluation on set ${s.name} failed: ${(err as Error).message}`);
    }
  }
  return out;
}

const EvalFile = z.object({
  split: z.string(),
  set: z.string().optional(),
  evaluated_at: z.string(),
  weights: z.string(),
  metrics: z.object({ precision: z.number(), recall: z.number(), mAP50: z.number(), mAP50_95: z.number() }).nullable(),
  raw: z.record(z.string(), z.number()).default({}),
  per_class: z.array(z.object({ name: z.string(), images: z.number(), instances: z.number(), p: z.number(), r: z.number(), ap50: z.number(), ap50_95: z.number() })).default([]),
});

/** Every evaluation recorded in a run, oldest first, read back from its eval-*.json (a missing file is skipped). */
export async function readEvaluations(dirIn: string): Promise<Evaluation[]> {
  const dir = path.resolve(dirIn);
  const rec = await loadRun(dir);
  const out: Evaluation[] = [];
  for (const e of rec.evaluations) {
    const file = path.join(dir, path.basename(e.file));
    let parsed: z.infer<typeof EvalFile>;
    try {
      parsed = EvalFile.parse(JSON.parse(await fs.readFile(file, 'utf8')));
    } catch {
      continue;
    }
    // eval-<x>.json is rewritten by a later evaluation of the same target: report each file once, as it is now
    if (out.some((o) => o.file === file)) continue;
    const split = parsed.split === 'test' || parsed.split === 'val' || parsed.split === 'set' ? parsed.split : 'val';
    out.push({ dir, split, ...(parsed.set ? { set: parsed.set } : {}), evaluatedAt: parsed.evaluated_at, weights: parsed.weights, metrics: parsed.metrics, raw: parsed.raw, perClass: parsed.per_class, file });
  }
  return out;
}
