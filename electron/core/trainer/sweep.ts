/**
 * Sweeps: a queue of runs over a small grid (e.g. lr0 × imgsz), trained one after the other, with a
 * results table at the end. The record is `<workspace>/runs/_sweeps/<UTC>_<label>.json` (rewritten
 * atomically as the sweep advances) and `<UTC>_<label>.results.md` beside it once it ends. Each run is
 * an ordinary run folder in runs/ (label `<label>-lr0=0.01-imgsz=320`) whose spotter-run.json names the
 * sweep. A failed run does not stop the sweep; stopping the sweep stops the current run gracefully and
 * skips the rest. Files are the record: the list is rebuilt from them, the runs' own records win over
 * what the sweep wrote (a sweep run resumed later shows its new status), and a sweep whose process is
 * gone reads as stopped.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { RunMetrics, RunStatus, SweepSummary } from '../../shared/contract.js';
import { TRAIN_ARG_NAME, TrainRequest } from '../../shared/contract.js';
import type { CoreContext } from '../context.js';
import { writeFileAtomic } from '../fsutil.js';
import { CancelledError, type JobContext } from '../jobs/jobs.js';
import { isSameProcess, PROCESS_STARTED_MS } from './proc.js';
import { loadAnyRun, reserveRunDir, runsDir, sanitizeLabel, SWEEPS_DIR, utcStamp, type TrainOutcome, type TrainRequestParsed } from './runs.js';
import { cell, f3, formatDuration } from './summary.js';

export type GridValue = number | string | boolean;
export type Grid = Record<string, GridValue[]>;
export type Params = Record<string, GridValue>;

const GridValueSchema = z.union([z.number(), z.string(), z.boolean()]);
const Metrics = z.object({ precision: z.number(), recall: z.number(), mAP50: z.number(), mAP50_95: z.number() });
const SweepRunRecord = z.object({
  params: z.record(z.string(), GridValueSchema),
  label: z.string(),
  /** the run folder's name in runs/ (relative: the workspace can move); null until it starts */
  run: z.string().nullable().default(null),
  status: z.enum(['queued', 'skipped', 'running', 'done', 'stopped', 'failed', 'crashed']),
  metrics: Metrics.nullable().default(null),
  duration_seconds: z.number().nullable().default(null),
  error: z.string().nullable().default(null),
});

/** `runs/_sweeps/<id>.json` */
export const SweepRecord = z
  .object({
    spotter_version: z.string(),
    id: z.string(),
    label: z.string(),
    created_at: z.string(),
    ended_at: z.string().nullable().default(null),
    status: z.enum(['running', 'done', 'stopped', 'failed']),
    /** who runs it: a `running` sweep whose process is gone on this machine was interrupted */
    host: z.string(),
    pid: z.number().int().nullable().default(null),
    /** when that process started (ms since the epoch): a reused pid is not the sweep's process */
    pid_started_ms: z.number().nullable().default(null),
    /** the request every run starts from (Ultralytics names), before the grid's values are applied */
    request: z.record(z.string(), z.unknown()),
    grid: z.record(z.string(), z.array(GridValueSchema)),
    runs: z.array(SweepRunRecord),
    /** the finished run with the best mAP50-95 (its folder name) */
    best: z.string().nullable().default(null),
    error: z.string().nullable().default(null),
  })
  .passthrough();
export type SweepRecord = z.infer<typeof SweepRecord>;

/** TrainRequest fields a grid may vary directly; any other name is an Ultralytics argument (`extra`). */
const REQUEST_FIELDS = new Set(['model', 'epochs', 'imgsz', 'batch', 'device', 'workers', 'patience', 'optimizer', 'lr0', 'cos_lr', 'seed', 'cache']);
/** Names a grid may not vary: what the run is trained on, and where it is written. */
const NOT_SWEEPABLE = new Set(['dataset', 'data', 'label', 'note', 'project', 'name', 'exist_ok', 'resume', 'tensorboard', 'overridehealth', 'override_health', 'mode', 'task']);
export const MAX_SWEEP_RUNS = 24;

export function sweepsDir(workspace: string): string {
  return path.join(runsDir(workspace), SWEEPS_DIR);
}

export function sweepFile(workspace: string, id: string): string {
  return path.join(sweepsDir(workspace), `${id}.json`);
}

export function resultsFile(workspace: string, id: string): string {
  return path.join(sweepsDir(workspace), `${id}.results.md`);
}

// ------------------------------------------------------------------ planning

/** Every combination of the grid's values, the first argument varying slowest. */
export function expandGrid(grid: Grid): Params[] {
  let out: Params[] = [{}];
  for (const [k, values] of Object.entries(grid)) out = out.flatMap((p) => values.map((v) => ({ ...p, [k]: v })));
  return out;
}

/** `lr0=0.01-imgsz=320`: how a run of the sweep is named (label and table). */
export function paramsText(params: Params, sep = '-'): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(sep);
}

/** A grid value as typed on a command line: numbers and booleans when they look like them. */
export function parseGridValue(raw: string): GridValue {
  const t = raw.trim();
  if (/^(true|false)$/i.test(t)) return t.toLowerCase() === 'true';
  if (t !== '' && Number.isFinite(Number(t))) return Number(t);
  return t;
}

export interface SweepPlan {
  label: string;
  grid: Grid;
  request: TrainRequestParsed;
  runs: Array<{ params: Params; label: string; request: TrainRequestParsed }>;
}

/**
 * Check the grid and build every run's request up front (a bad value fails the whole sweep before
 * anything trains, naming the argument and value).
 */
export function planSweep(input: { request: TrainRequest; grid: Grid; label?: string }): SweepPlan {
  const where = 'runs.sweep';
  const base = TrainRequest.safeParse(input.request);
  if (!base.success) {
    const i = base.error.issues[0]!;
    throw new Error(`${where}: request: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const keys = Object.keys(input.grid);
  if (keys.length < 1 || keys.length > 3) throw new Error(`${where}: a sweep varies 1 to 3 arguments, not ${keys.length}`);
  for (const k of keys) {
    if (!TRAIN_ARG_NAME.test(k)) throw new Error(`${where}: "${k}" is not an Ultralytics argument name (lower-case letters, digits and _)`);
    if (NOT_SWEEPABLE.has(k.toLowerCase())) throw new Error(`${where}: "${k}" cannot be swept (a sweep varies training arguments, not the data or the run folder)`);
    const values = input.grid[k]!;
    if (!values.length) throw new Error(`${where}: "${k}" has no values`);
    const seen = new Set(values.map((v) => `${typeof v}:${v}`));
    if (seen.size !== values.length) throw new Error(`${where}: "${k}" lists a value twice`);
  }
  const combos = expandGrid(input.grid);
  if (combos.length > MAX_SWEEP_RUNS) throw new Error(`${where}: ${combos.length} runs; a sweep has at most ${MAX_SWEEP_RUNS}`);
  const label = (input.label?.trim() || base.data.label?.trim() || 'sweep').slice(0, 40);
  const runs = combos.map((params) => {
    const raw: Record<string, unknown> = { ...base.data, extra: { ...base.data.extra } };
    for (const [k, v] of Object.entries(params)) {
      if (REQUEST_FIELDS.has(k)) raw[k] = v;
      else (raw.extra as Record<string, unknown>)[k] = v;
    }
    const runLabel = `${label}-${paramsText(params)}`.slice(0, 80);
    raw.label = runLabel;
    const r = TrainRequest.safeParse(raw);
    if (!r.success) {
      const i = r.error.issues[0]!;
      const field = String(i.path[i.path.length - 1] ?? '');
      const bad = Object.keys(params).find((k) => k === field) ?? field;
      throw new Error(`${where}: ${bad}=${bad in params ? String(params[bad]) : '?'}: ${i.message} (run ${paramsText(params, ', ')})`);
    }
    return { params, label: runLabel, request: r.data };
  });
  return { label, grid: input.grid, request: base.data, runs };
}

// ------------------------------------------------------------------ record i/o

const reservedIds = new Set<string>();

export async function readSweep(file: string): Promise<SweepRecord> {
  const text = await fs.readFile(file, 'utf8').catch(() => {
    throw new Error(`${file}: missing`);
  });
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const r = SweepRecord.safeParse(data);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${file}: unexpected content at ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}

/** A new sweep record with every run queued (written before anything trains). */
export async function createSweep(ctx: CoreContext, workspace: string, plan: SweepPlan): Promise<{ id: string; file: string; record: SweepRecord }> {
  const dir = sweepsDir(workspace);
  await fs.mkdir(dir, { recursive: true });
  const base = `${utcStamp()}_${sanitizeLabel(plan.label)}`;
  let id = base;
  for (let i = 2; existsSync(sweepFile(workspace, id)) || reservedIds.has(path.join(dir, id)); i++) id = `${base}-${i}`;
  reservedIds.add(path.join(dir, id));
  const record = SweepRecord.parse({
    spotter_version: ctx.version,
    id,
    label: plan.label,
    created_at: new Date().toISOString(),
    status: 'running',
    host: os.hostname(),
    pid: process.pid,
    pid_started_ms: PROCESS_STARTED_MS,
    request: plan.request,
    grid: plan.grid,
    runs: plan.runs.map((r) => ({ params: r.params, label: r.label, status: 'queued' })),
  });
  try {
    await writeFileAtomic(sweepFile(workspace, id), JSON.stringify(record, null, 2) + '\n');
  } finally {
    reservedIds.delete(path.join(dir, id));
  }
  return { id, file: sweepFile(workspace, id), record };
}

/** The finished run with the best mAP50-95 (index), or -1. */
function bestIndex(runs: Array<{ status: string; metrics: RunMetrics | null }>): number {
  let best = -1;
  runs.forEach((r, i) => {
    if (r.status === 'done' && r.metrics && (best < 0 || r.metrics.mAP50_95 > runs[best]!.metrics!.mAP50_95)) best = i;
  });
  return best;
}

/**
 * The sweep as it stands now: each started run as its own record says (status, metrics, duration), a
 * `running` sweep whose process is gone on this machine as stopped with its queue skipped.
 */
export async function sweepSummary(workspace: string, rec: SweepRecord, file: string, active?: ReadonlySet<string>): Promise<SweepSummary> {
  const interrupted = rec.status === 'running' && rec.host === os.hostname() && (rec.pid === null || !isSameProcess(rec.pid, rec.pid_started_ms));
  const runs: SweepSummary['runs'] = [];
  for (const r of rec.runs) {
    const dir = r.run ? path.join(runsDir(workspace), r.run) : null;
    let status: SweepSummary['runs'][number]['status'] = r.status === 'queued' && interrupted ? 'skipped' : (r.status as RunStatus | 'queued' | 'skipped');
    let metrics: RunMetrics | null = r.metrics;
    let durationSeconds = r.duration_seconds;
    if (dir && existsSync(dir)) {
      const run = await loadAnyRun(dir, active).catch(() => null);
      if (run) {
        status = run.status;
        metrics = run.metrics;
        durationSeconds = run.status === 'running' ? null : run.duration_seconds || durationSeconds;
      }
    }
    runs.push({ params: r.params, dir: dir ? path.resolve(dir) : null, status, metrics, durationSeconds });
  }
  const b = bestIndex(runs);
  return {
    id: rec.id,
    file: path.resolve(file),
    label: rec.label,
    createdAt: rec.created_at,
    status: interrupted ? 'stopped' : rec.status,
    grid: rec.grid,
    runs,
    best: b >= 0 ? runs[b]!.dir : null,
  };
}

/** Every sweep of the workspace, newest first; unreadable records are skipped. */
export async function listSweeps(workspace: string, active?: ReadonlySet<string>): Promise<SweepSummary[]> {
  const dir = sweepsDir(workspace);
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
  const out: SweepSummary[] = [];
  for (const n of names) {
    const file = path.join(dir, n);
    try {
      out.push(await sweepSummary(workspace, await readSweep(file), file, active));
    } catch {
      /* not a sweep record */
    }
  }
  return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
}

// ------------------------------------------------------------------ results.md

export function resultsMarkdown(s: SweepSummary, rec: Pick<SweepRecord, 'request' | 'runs'>): string {
  const keys = Object.keys(s.grid);
  const req = rec.request;
  const L: string[] = [`# Sweep ${s.label}`, ''];
  L.push(`Sweep \`${s.id}\`, started ${s.createdAt}, ${s.status}: ${s.runs.length} run(s) over ${keys.map((k) => `${k} ∈ {${s.grid[k]!.join(', ')}}`).join(' × ')}.`);
  L.push('', `Every run: dataset \`${String(req.dataset ?? '')}\`, model \`${String(req.model ?? '')}\`, ${String(req.epochs ?? '?')} epoch(s), imgsz ${String(req.imgsz ?? '?')} (unless varied).`);
  L.push('Metrics are the final validation of best.pt on the val split (best epoch so far for unfinished runs). ★ marks the best finished run by mAP50-95.', '');
  L.push(`| | ${keys.map(cell).join(' | ')} | status | P | R | mAP50 | mAP50-95 | duration | run |`);
  L.push(`|---|${keys.map(() => '---|').join('')}---|---|---|---|---|---|---|`);
  s.runs.forEach((r, i) => {
    const m = r.metrics;
    const best = r.dir !== null && r.dir === s.best;
    const err = rec.runs[i]?.error;
    L.push(
      `| ${best ? '★' : ''} | ${keys.map((k) => cell(String(r.params[k] ?? ''))).join(' | ')} | ${r.status}${err && r.status === 'failed' ? `: ${cell(err.slice(0, 160))}` : ''} | ${f3(m?.precision)} | ${f3(m?.recall)} | ${f3(m?.mAP50)} | ${f3(m?.mAP50_95)} | ${formatDuration(r.durationSeconds)} | ${r.dir ? `\`${path.basename(r.dir)}\`` : ''} |`,
    );
  });
  L.push('');
  return L.join('\n');
}

// ------------------------------------------------------------------ running

/** Trains one run of the sweep in `dir` (prepare + train, as runs.start does) and says how it ended. */
export type TrainOne = (p: { dir: string; request: TrainRequestParsed; sweep: string; job: JobContext }) => Promise<TrainOutcome>;

export interface SweepHooks {
  trainOne: TrainOne;
  /** the record changed (a run started or ended, the sweep ended) */
  onChange?: () => void;
  /** a run of the sweep starts in `dir`; `stop` stops that run alone (the sweep goes on) */
  onRunStart?: (dir: string, stop: () => void) => void;
  onRunEnd?: (dir: string) => void;
}

function errorText(err: unknown): string {
  const e = err as Error & { hint?: unknown };
  return `${e?.message ?? String(err)}${typeof e?.hint === 'string' && e.hint ? ` — ${e.hint}` : ''}`;
}

/**
 * Train the sweep's queue one run after the other. Progress is runs done of the total (the stage names
 * the run and its epoch); cancelling the job stops the current run gracefully and skips the rest.
 * Returns the final summary; results.md is written beside the record.
 */
export async function runSweep(ctx: CoreContext, workspace: string, sweep: { id: string; record: SweepRecord }, plan: SweepPlan, job: JobContext, hooks: SweepHooks): Promise<SweepSummary> {
  const rec = sweep.record;
  const file = sweepFile(workspace, sweep.id);
  let writing: Promise<void> = Promise.resolve();
  const save = () => {
    const text = JSON.stringify(rec, null, 2) + '\n';
    writing = writing.then(() => writeFileAtomic(file, text)).catch((err) => ctx.logger.warn(`${file}: could not update: ${(err as Error).message}`));
    return writing;
  };
  const n = plan.runs.length;
  try {
    for (let i = 0; i < n; i++) {
      const item = rec.runs[i]!;
      const planned = plan.runs[i]!;
      const what = `run ${i + 1}/${n} (${paramsText(planned.params, ', ')})`;
      if (job.signal.aborted) break;
      job.progress(what, i, n);
      const dir = reserveRunDir(workspace, planned.label, planned.request);
      item.run = path.basename(dir);
      item.status = 'running';
      await save();
      hooks.onChange?.();

      // the run's own job: cancelled with the sweep, or alone (runs.stop on it)
      const controller = new AbortController();
      const abort = () => controller.abort();
      if (job.signal.aborted) controller.abort();
      else job.signal.addEventListener('abort', abort, { once: true });
      const runJob: JobContext = {
        signal: controller.signal,
        progress: (stage) => job.progress(`${what}: ${stage}`, i, n),
        throwIfCancelled() {
          if (controller.signal.aborted) throw new CancelledError();
        },
      };
      hooks.onRunStart?.(dir, abort);
      try {
        const out = await hooks.trainOne({ dir, request: planned.request, sweep: sweep.id, job: runJob });
        item.status = out.status;
        item.metrics = out.summary.metrics;
        item.duration_seconds = out.summary.durationSeconds;
        item.error = out.failure ? errorText(out.failure) : null;
      } catch (err) {
        const cancelled = err instanceof CancelledError || controller.signal.aborted;
        item.error = cancelled ? null : errorText(err);
        // stopped or refused before training: nothing was written unless the folder exists
        if (!existsSync(dir)) item.run = null;
        item.status = cancelled ? (item.run ? 'stopped' : 'skipped') : 'failed';
      } finally {
        job.signal.removeEventListener('abort', abort);
        hooks.onRunEnd?.(dir);
      }
      job.progress(what, i + 1, n);
      await save();
      hooks.onChange?.();
    }
  } catch (err) {
    rec.error = errorText(err);
  } finally {
    for (const r of rec.runs) if (r.status === 'queued' || r.status === 'running') r.status = 'skipped';
    const ran = rec.runs.filter((r) => r.status !== 'skipped');
    rec.status = job.signal.aborted ? 'stopped' : rec.error || (ran.length > 0 && ran.every((r) => r.status === 'failed')) ? 'failed' : 'done';
    rec.ended_at = new Date().toISOString();
    rec.pid = null;
    rec.pid_started_ms = null;
    const b = bestIndex(rec.runs);
    rec.best = b >= 0 ? rec.runs[b]!.run : null;
    await save();
  }
  const summary = await sweepSummary(workspace, rec, file);
  await writeFileAtomic(resultsFile(workspace, sweep.id), resultsMarkdown(summary, rec));
  hooks.onChange?.();
  return summary;
}
