/**
 * Runs: `<workspace>/runs/<UTC yyyymmdd-HHMMSS>_<label>/`, a folder Ultralytics writes into directly
 * (args.yaml, results.csv, weights/, plots) plus Spotter's own files:
 *   preflight.json   dataset health + the environment report, before starting
 *   command.sh       the equivalent `yolo … train` command (executable)
 *   spec.json        what the sidecar was asked to do
 *   spotter-run.json status, label, note, model, dataset hash, timestamps (rewritten atomically)
 *   train.log        the trainer's human log (stderr)
 *   events.ndjson    every validated sidecar event: the live view is rebuilt from it
 *   summary.md       at the end: data, settings, metrics, per-class AP, environment, note
 *   eval-<split>.json the last evaluation of best.pt on a split (`spotter val`, runs.evaluate)
 * Files are the record: a run is always rebuilt from its folder, and a run whose process died without
 * `done` reads as `crashed`.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import type { PerClassMetrics, RunDetail, RunMetrics, RunStatus, RunSummary } from '../../shared/contract.js';
import { TrainRequest } from '../../shared/contract.js';
import type { HealthReport } from '../../shared/schemas.js';
import { ErrorCode, type EnvReport, type TrainerEvent, type TrainSpec } from '../../shared/trainer.js';
import type { CoreContext } from '../context.js';
import { checkDataset } from '../datasets/health.js';
import { exists, writeFileAtomic } from '../fsutil.js';
import type { JobContext } from '../jobs/jobs.js';
import { datasetInfo, type DatasetInfo } from './dataset.js';
import { isSameProcess, processStartMs, PROCESS_STARTED_MS } from './proc.js';
import { checkpointEpoch } from './checkpoint.js';
import { bestRow, parseResultsCsv, pickMetrics, rowRecord } from './results.js';
import { parseEventLine, startSidecar, type Sidecar, type SidecarFailure } from './sidecar.js';
import { shellQuote, yoloCommandLine } from '../../shared/shell.js';
import { writeSummaryMd } from './summary.js';

export type TrainRequestParsed = z.output<typeof TrainRequest>;

const Metrics = z.object({ precision: z.number(), recall: z.number(), mAP50: z.number(), mAP50_95: z.number() });
const PerClass = z.object({ name: z.string(), images: z.number(), instances: z.number(), p: z.number(), r: z.number(), ap50: z.number(), ap50_95: z.number() });

/** spotter-run.json */
export const RunRecord = z
  .object({
    spotter_version: z.string(),
    name: z.string(),
    label: z.string(),
    note: z.string().default(''),
    status: z.enum(['running', 'done', 'stopped', 'failed', 'crashed']),
    created_at: z.string(),
    /** start of the current (or last) training process */
    started_at: z.string().nullable().default(null),
    ended_at: z.string().nullable().default(null),
    /** seconds trained in finished processes (a resume adds to it) */
    duration_seconds: z.number().default(0),
    /** who runs it: a `running` run whose process is gone on this machine (or since a reboot) crashed */
    host: z.string(),
    boot_time: z.number(),
    pid: z.number().int().nullable().default(null),
    /** when that process started (ms since the epoch): a reused pid is not the run's process */
    pid_started_ms: z.number().nullable().default(null),
    model: z.string(),
    task: z.enum(['detect', 'segment']).default('detect'),
    dataset: z.object({
      data_yaml: z.string(),
      root: z.string(),
      hash: z.string().nullable(),
      classes: z.array(z.string()),
      split_seed: z.number().nullable(),
      train_images: z.number().nullable(),
    }),
    /** Ultralytics train arguments as passed (device and batch resolved) */
    settings: z.record(z.string(), z.unknown()),
    env: z
      .object({ python: z.string(), torch: z.string().nullable(), torchvision: z.string().nullable(), ultralytics: z.string().nullable(), numpy: z.string().nullable(), cuda: z.string().nullable(), gpus: z.array(z.string()), platform: z.string() })
      .nullable()
      .default(null),
    epochs_completed: z.number().int().default(0),
    /** best validation so far; the final validation of best.pt once done */
    metrics: Metrics.nullable().default(null),
    per_class: z.array(PerClass).default([]),
    error: z.object({ code: ErrorCode, message: z.string(), hint: z.string().nullable() }).nullable().default(null),
    /** the final validation of best.pt (the `done` event), kept apart from the best-so-far `metrics` */
    final_metrics: Metrics.nullable().default(null),
    /** the test split was evaluated (a decision was made on it) */
    test_evaluated: z.boolean().default(false),
    /** every explicit evaluation of best.pt on a split (spotter val, runs.evaluate), oldest first */
    evaluations: z
      .array(z.object({ split: z.string(), set: z.string().optional(), at: z.string(), weights: z.string(), metrics: Metrics.nullable(), file: z.string() }))
      .default([]),
    /** Ultralytics' local TensorBoard logging (SPOTTER_TENSORBOARD for the sidecar) */
    tensorboard: z.boolean().default(false),
    /** the run whose best.pt this one fine-tunes */
    finetuned_from: z.string().nullable().default(null),
    resumes: z.number().int().default(0),
    /** the sweep this run belongs to (its id: runs/_sweeps/<id>.json) */
    sweep: z.string().nullable().default(null),
  })
  .passthrough();
export type RunRecord = z.infer<typeof RunRecord>;

export const RUN_FILE = 'spotter-run.json';

/**
 * A run that could not start (or resume): the code says what kind of problem it is, for `train --json`
 * and the UI; the message names the file.
 */
export class RunStartError extends Error {
  constructor(
    readonly code: 'dataset-not-found' | 'bad-spec' | 'not-resumable' | 'env-not-ready',
    message: string,
    readonly hint: string | null = null,
  ) {
    super(message);
    this.name = 'RunStartError';
  }
}

/** `<workspace>/runs/_sweeps`: the sweep records (sweep.ts), not a run */
export const SWEEPS_DIR = '_sweeps';

export function runsDir(workspace: string): string {
  return path.join(workspace, 'runs');
}

/** Boot time to the minute: a pid from before a reboot says nothing about a process now. */
function bootTime(): number {
  return Math.round((Date.now() - os.uptime() * 1000) / 60_000) * 60_000;
}

// ------------------------------------------------------------------ naming

export function sanitizeLabel(label: string): string {
  return (
    label
      .normalize('NFKD')
      .replace(/[^\w.-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '')
      .slice(0, 60) || 'run'
  );
}

export function utcStamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

export function defaultLabel(req: Pick<TrainRequestParsed, 'model' | 'imgsz'>): string {
  const stem = path.basename(req.model).replace(/\.(ya?ml|pt)$/i, '');
  return `${stem === 'best' || stem === 'last' ? 'finetune' : stem}-${req.imgsz}`;
}

const reserved = new Set<string>();

/** A new run folder name, unique among existing and reserved ones (two starts in one second). */
export function reserveRunDir(workspace: string, label: string | undefined, req: Pick<TrainRequestParsed, 'model' | 'imgsz'>): string {
  const base = `${utcStamp()}_${sanitizeLabel(label || defaultLabel(req))}`;
  let name = base;
  for (let i = 2; existsSync(path.join(runsDir(workspace), name)) || reserved.has(path.join(runsDir(workspace), name)); i++) name = `${base}-${i}`;
  const dir = path.join(runsDir(workspace), name);
  reserved.add(dir);
  return dir;
}

// ------------------------------------------------------------------ record i/o

export async function readRecord(dir: string): Promise<RunRecord> {
  const file = path.join(dir, RUN_FILE);
  const text = await fs.readFile(file, 'utf8').catch(() => {
    throw new Error(`${file}: missing — is ${dir} a Spotter run folder?`);
  });
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const r = RunRecord.safeParse(data);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${file}: unexpected content at ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return r.data;
}

export async function writeRecord(dir: string, rec: RunRecord): Promise<void> {
  await writeFileAtomic(path.join(dir, RUN_FILE), JSON.stringify(rec, null, 2) + '\n');
}

/** The record as it stands now: a `running` run whose process is gone is `crashed` (and saved so). */
export async function loadRun(dir: string, active?: ReadonlySet<string>): Promise<RunRecord> {
  const rec = await readRecord(dir);
  if (rec.status === 'running' && !active?.has(path.resolve(dir))) {
    const sameBoot = rec.host === os.hostname() && Math.abs(rec.boot_time - bootTime()) <= 120_000;
    // another host's run (a shared workspace) cannot be judged from here: left as it is
    if (rec.host === os.hostname() && (!sameBoot || rec.pid === null || !isSameProcess(rec.pid, rec.pid_started_ms))) {
      const ended = await lastActivity(dir);
      rec.status = 'crashed';
      rec.ended_at = ended;
      if (rec.started_at) rec.duration_seconds += Math.max(0, (Date.parse(ended) - Date.parse(rec.started_at)) / 1000);
      rec.pid = null;
      rec.pid_started_ms = null;
      const fromCsv = await metricsFromResults(dir);
      if (fromCsv) {
        rec.metrics = fromCsv.metrics;
        rec.epochs_completed = Math.max(rec.epochs_completed, fromCsv.epochs);
      }
      await writeRecord(dir, rec).catch(() => {}); // a read-only workspace still reads
    }
  }
  return rec;
}

async function lastActivity(dir: string): Promise<string> {
  let t = 0;
  for (const f of ['events.ndjson', 'train.log', 'results.csv', RUN_FILE]) {
    const st = await fs.stat(path.join(dir, f)).catch(() => null);
    if (st) t = Math.max(t, st.mtimeMs);
  }
  return new Date(t || Date.now()).toISOString();
}

export async function readResults(dir: string): Promise<ReturnType<typeof parseResultsCsv>> {
  return parseResultsCsv(await fs.readFile(path.join(dir, 'results.csv'), 'utf8').catch(() => ''));
}

async function metricsFromResults(dir: string): Promise<{ metrics: RunMetrics; epochs: number } | null> {
  const t = await readResults(dir);
  const i = bestRow(t);
  if (i < 0) return null;
  const m = pickMetrics(rowRecord(t, i));
  const epochCol = t.columns.indexOf('epoch');
  const epochs = epochCol >= 0 ? Math.max(...t.rows.map((r) => r[epochCol] ?? 0)) : t.rows.length;
  return m ? { metrics: m, epochs } : null;
}

export function toSummary(dir: string, rec: RunRecord, baseline: string | null): RunSummary {
  const live = rec.status === 'running' && rec.started_at ? (Date.now() - Date.parse(rec.started_at)) / 1000 : 0;
  const epochs = Number(rec.settings.epochs ?? 0);
  return {
    dir: path.resolve(dir),
    name: rec.name,
    label: rec.label,
    status: rec.status,
    createdAt: rec.created_at,
    model: rec.model,
    imgsz: Number(rec.settings.imgsz ?? 0),
    epochs,
    epochsCompleted: rec.epochs_completed,
    dataset: rec.dataset.data_yaml,
    datasetHash: rec.dataset.hash,
    metrics: rec.metrics,
    durationSeconds: rec.status === 'running' ? rec.duration_seconds + live : rec.ended_at || rec.duration_seconds > 0 ? rec.duration_seconds : null,
    note: rec.note,
    isBaseline: baseline !== null && path.resolve(baseline) === path.resolve(dir),
    testEvaluated: rec.test_evaluated,
    evalSets: evalSetMetrics(rec),
    sweep: typeof rec.sweep === 'string' ? rec.sweep : null,
  };
}

/** The latest metrics on each named evaluation set (a failed evaluation is recorded as null). */
export function evalSetMetrics(rec: RunRecord): Record<string, RunMetrics | null> {
  const out: Record<string, RunMetrics | null> = {};
  for (const e of rec.evaluations) if (e.split === 'set' && e.set) out[e.set] = e.metrics;
  return out;
}

/**
 * A plain Ultralytics run folder (args.yaml + results.csv, no spotter-run.json): listed and compared
 * like Spotter's own, so runs made with `yolo train` by hand sit in the same table.
 */
async function recordFromUltralytics(dir: string): Promise<RunRecord | null> {
  const argsText = await fs.readFile(path.join(dir, 'args.yaml'), 'utf8').catch(() => null);
  if (argsText === null) return null;
  const args = (YAML.parse(argsText) ?? {}) as Record<string, unknown>;
  const st = await fs.stat(path.join(dir, 'args.yaml'));
  const fromCsv = await metricsFromResults(dir);
  const epochs = Number(args.epochs ?? 0);
  // done: every epoch is in results.csv, or last.pt was made final (stripped: early stop by patience);
  // best.pt alone says nothing (it is written from the first epoch on, an interrupted run has one too)
  const done = (fromCsv?.epochs ?? 0) >= epochs || (await checkpointEpoch(path.join(dir, 'weights', 'last.pt'))) === -1;
  return RunRecord.parse({
    spotter_version: 'ultralytics',
    name: path.basename(dir),
    label: path.basename(dir),
    status: done ? 'done' : 'stopped',
    created_at: (st.birthtimeMs > 0 ? st.birthtime : st.mtime).toISOString(),
    host: '',
    boot_time: 0,
    model: String(args.model ?? '?'),
    task: args.task === 'segment' ? 'segment' : 'detect',
    dataset: { data_yaml: String(args.data ?? '?'), root: path.dirname(String(args.data ?? '')), hash: null, classes: [], split_seed: null, train_images: null },
    settings: args,
    epochs_completed: fromCsv?.epochs ?? 0,
    metrics: fromCsv?.metrics ?? null,
  });
}

/** A run folder's record: Spotter's, else rebuilt from Ultralytics' own files. */
export async function loadAnyRun(dir: string, active?: ReadonlySet<string>): Promise<RunRecord> {
  if (existsSync(path.join(dir, RUN_FILE))) return loadRun(dir, active);
  const u = await recordFromUltralytics(dir);
  if (!u) throw new Error(`${dir}: not a run folder (no ${RUN_FILE}, no args.yaml)`);
  return u;
}

// ------------------------------------------------------------------ baseline

const BaselineFile = z.object({ run: z.string(), set_at: z.string() });

export async function getBaseline(workspace: string): Promise<string | null> {
  const r = BaselineFile.safeParse(JSON.parse(await fs.readFile(path.join(runsDir(workspace), 'baseline.json'), 'utf8').catch(() => 'null')));
  if (!r.success) return null;
  const dir = path.resolve(runsDir(workspace), r.data.run);
  return existsSync(dir) ? dir : null;
}

/** Stored as the folder name (relative): the workspace can move. */
export async function setBaseline(workspace: string, dir: string | null): Promise<string | null> {
  const file = path.join(runsDir(workspace), 'baseline.json');
  if (dir === null) {
    await fs.rm(file, { force: true });
    return null;
  }
  const abs = path.resolve(dir);
  await loadAnyRun(abs); // must be a run
  await fs.mkdir(runsDir(workspace), { recursive: true });
  const rel = path.relative(runsDir(workspace), abs);
  await writeFileAtomic(file, JSON.stringify({ run: rel, set_at: new Date().toISOString() }, null, 2) + '\n');
  return abs;
}

export async function listRuns(workspace: string, active?: ReadonlySet<string>): Promise<RunSummary[]> {
  const root = runsDir(workspace);
  const names = await fs.readdir(root).catch(() => [] as string[]);
  const baseline = await getBaseline(workspace);
  const out: RunSummary[] = [];
  for (const name of names) {
    if (name.startsWith('.') || name === SWEEPS_DIR) continue; // runs being prepared; sweep records
    const dir = path.join(root, name);
    if (!(await fs.stat(dir).catch(() => null))?.isDirectory()) continue;
    try {
      out.push(toSummary(dir, await loadAnyRun(dir, active), baseline));
    } catch {
      /* not a run folder */
    }
  }
  return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.name.localeCompare(a.name));
}

/** The tail of a text file without reading all of it (event logs grow to megabytes). */
async function readTail(file: string, bytes: number): Promise<string> {
  const fh = await fs.open(file, 'r').catch(() => null);
  if (!fh) return '';
  try {
    const { size } = await fh.stat();
    const start = Math.max(0, size - bytes);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    const text = buf.toString('utf8');
    return start > 0 ? text.slice(text.indexOf('\n') + 1) : text;
  } finally {
    await fh.close();
  }
}

export async function lastEvent(dir: string): Promise<TrainerEvent | null> {
  const lines = (await readTail(path.join(dir, 'events.ndjson'), 64 * 1024)).split('\n').filter((l) => l.trim());
  for (let i = lines.length - 1; i >= 0; i--) {
    const p = parseEventLine(lines[i]!);
    if (p.ok) return p.event;
  }
  return null;
}

export async function readRunDetail(dir: string, workspace: string, active?: ReadonlySet<string>): Promise<RunDetail> {
  const abs = path.resolve(dir);
  const rec = await loadAnyRun(abs, active);
  const read = (f: string) => fs.readFile(path.join(abs, f), 'utf8').catch(() => '');
  const argsText = await read('args.yaml');
  let args: Record<string, unknown> = {};
  try {
    args = (YAML.parse(argsText) as Record<string, unknown>) ?? {};
  } catch {
    /* a damaged args.yaml: shown empty */
  }
  const t = await readResults(abs);
  const logTail = (await readTail(path.join(abs, 'train.log'), 32 * 1024)).split('\n').slice(-200).join('\n');
  return {
    summary: toSummary(abs, rec, await getBaseline(workspace)),
    args,
    columns: t.columns,
    rows: t.rows,
    perClass: rec.per_class as PerClassMetrics[],
    commandSh: await read('command.sh'),
    summaryMd: await read('summary.md'),
    logTail,
    lastEvent: await lastEvent(abs),
  };
}

// ------------------------------------------------------------------ preparing a run

export class HealthRefusal extends Error {
  constructor(
    readonly dataYaml: string,
    readonly health: HealthReport,
  ) {
    const first = health.issues.filter((i) => i.severity === 'error').slice(0, 3).map((i) => `${i.code}: ${i.message}`);
    super(`${dataYaml}: the dataset's health check found ${health.counts.errors} error(s), so the run was not started (override to train anyway): ${first.join(' | ')}`);
    this.name = 'HealthRefusal';
  }
}

/** 'auto' → the GPU the environment can use; batch -1 (auto) needs CUDA, elsewhere 8. */
export function resolveDevice(device: string, batch: number, env: EnvReport): { device: string; batch: number } {
  const d = device === 'auto' || device === '' ? (env.cuda_available ? '0' : env.mps_available ? 'mps' : 'cpu') : device;
  const cuda = d !== 'cpu' && d !== 'mps';
  return { device: d, batch: !cuda && batch < 1 ? 8 : batch };
}

/** The `yolo` command that trains the same thing without Spotter. */
export function yoloCommand(task: string, spec: TrainSpec): string {
  // every `k=v` is one quoted word (electron/shared/shell.ts, also the wizard's preview): keys come from
  // the request too (TrainRequest allows only plain names; the quoting keeps command.sh safe whatever a
  // spec.json says)
  const args: Array<[string, unknown]> = [];
  const kv = (k: string, v: unknown) => args.push([k, v]);
  kv('data', spec.data);
  kv('model', spec.model);
  kv('epochs', spec.epochs);
  kv('imgsz', spec.imgsz);
  kv('batch', spec.batch);
  kv('device', spec.device);
  kv('workers', spec.workers);
  kv('project', path.dirname(spec.run_dir));
  kv('name', path.basename(spec.run_dir));
  kv('exist_ok', true);
  for (const k of ['patience', 'optimizer', 'lr0', 'cos_lr', 'seed', 'cache'] as const) if (spec[k] !== undefined) kv(k, spec[k]);
  for (const [k, v] of Object.entries(spec.extra ?? {})) kv(k, v);
  return yoloCommandLine(task, 'train', args);
}

function commandSh(rec: RunRecord, spec: TrainSpec, python: string): string {
  return [
    '#!/bin/sh',
    `# Spotter run ${rec.name}: the equivalent Ultralytics command (reproduces this run without the app).`,
    `# Trainer environment: ${python.replace(/[\r\n]/g, ' ')} (its bin/ holds \`yolo\`).`,
    `# Ultralytics decides its own defaults for every argument not listed; see args.yaml for all of them.`,
    ...(rec.tensorboard ? ['# TensorBoard logging was on: Ultralytics setting tensorboard=True (`yolo settings tensorboard=True`).'] : []),
    '# Never touch the network (as Spotter trains): no downloads, no pip installs, no update checks.',
    'export YOLO_OFFLINE=1',
    yoloCommand(rec.task, spec),
    '',
  ].join('\n');
}

export interface PreparedRun {
  dir: string;
  record: RunRecord;
  spec: TrainSpec;
}

/** The run whose weights a model path points into (`<run>/weights/best.pt`), if it is a run folder. */
function runOfWeights(model: string): string | null {
  const m = path.resolve(model);
  if (!/\.pt$/i.test(m) || path.basename(path.dirname(m)) !== 'weights') return null;
  const run = path.dirname(path.dirname(m));
  return existsSync(path.join(run, RUN_FILE)) || existsSync(path.join(run, 'args.yaml')) ? run : null;
}

/**
 * Preflight and write the run folder: dataset health (refused with errors unless overridden), the
 * environment report, command.sh, spec.json and spotter-run.json, built in a hidden sibling and renamed
 * into place, so a refused or cancelled start leaves nothing that looks like a run.
 */
export async function prepareRun(
  ctx: CoreContext,
  dir: string,
  reqIn: TrainRequest,
  env: { python: string; report: EnvReport },
  job: JobContext,
  opts: { sweep?: string } = {},
): Promise<PreparedRun> {
  const req = TrainRequest.parse(reqIn);
  job.progress('preflight', 0, 1);
  let ds: DatasetInfo;
  try {
    ds = await datasetInfo(req.dataset);
  } catch (err) {
    throw new RunStartError('dataset-not-found', (err as Error).message, 'Choose a dataset folder that holds a data.yaml, or the data.yaml itself.');
  }
  const health = await checkDataset(ds.dataYaml, { imgsz: req.imgsz, signal: job.signal, onProgress: (s, d, t) => job.progress(`preflight: ${s}`, d, t) });
  job.throwIfCancelled();
  if (!health.ok && !req.overrideHealth) throw new HealthRefusal(ds.dataYaml, health);

  const { device, batch } = resolveDevice(req.device, req.batch, env.report);
  const modelLocal = /\.(pt|ya?ml)$/i.test(req.model) && existsSync(path.resolve(req.model));
  const model = modelLocal ? path.resolve(req.model) : req.model;
  if (/\.pt$/i.test(model) && !modelLocal) throw new RunStartError('bad-spec', `${model}: no such weights file (Spotter never downloads weights; train from a model .yaml or pick a local .pt)`);
  const spec: TrainSpec = {
    data: ds.dataYaml,
    model,
    run_dir: dir,
    epochs: req.epochs,
    imgsz: req.imgsz,
    batch,
    device,
    workers: req.workers,
    ...(req.patience !== undefined && { patience: req.patience }),
    ...(req.optimizer !== undefined && { optimizer: req.optimizer }),
    ...(req.lr0 !== undefined && { lr0: req.lr0 }),
    ...(req.cos_lr !== undefined && { cos_lr: req.cos_lr }),
    ...(req.seed !== undefined && { seed: req.seed }),
    ...(req.cache !== undefined && { cache: req.cache }),
    extra: req.extra,
  };
  const { data: _d, model: _m, run_dir: _r, extra, ...settings } = spec;
  const now = new Date().toISOString();
  const rec: RunRecord = RunRecord.parse({
    spotter_version: ctx.version,
    name: path.basename(dir),
    label: req.label?.trim() || defaultLabel(req),
    note: req.note,
    status: 'running',
    created_at: now,
    host: os.hostname(),
    boot_time: bootTime(),
    pid: process.pid,
    pid_started_ms: PROCESS_STARTED_MS,
    model,
    task: /-seg\b/.test(path.basename(model)) ? 'segment' : ds.task,
    dataset: { data_yaml: ds.dataYaml, root: ds.root, hash: ds.hash, classes: ds.classes, split_seed: ds.splitSeed, train_images: ds.trainImages },
    settings: { ...settings, ...extra },
    env: {
      python: env.python,
      torch: env.report.torch,
      torchvision: env.report.torchvision,
      ultralytics: env.report.ultralytics,
      numpy: env.report.numpy,
      cuda: env.report.cuda,
      gpus: env.report.gpus.map((g) => g.name),
      platform: env.report.platform,
    },
    finetuned_from: runOfWeights(model),
    tensorboard: req.tensorboard,
    sweep: opts.sweep ?? null,
  });

  const tmp = path.join(path.dirname(dir), `.tmp-${path.basename(dir)}`);
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  try {
    await fs.writeFile(path.join(tmp, 'preflight.json'), JSON.stringify({ checked_at: now, dataset: ds.dataYaml, dataset_hash: ds.hash, override_health: req.overrideHealth, health, env: env.report }, null, 2) + '\n');
    await fs.writeFile(path.join(tmp, 'command.sh'), commandSh(rec, spec, env.python), { mode: 0o755 });
    await fs.writeFile(path.join(tmp, 'spec.json'), JSON.stringify(spec, null, 2) + '\n');
    await fs.writeFile(path.join(tmp, 'train.log'), '');
    await fs.writeFile(path.join(tmp, 'events.ndjson'), '');
    await writeRecord(tmp, rec);
    job.throwIfCancelled();
    await fs.rename(tmp, dir);
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  } finally {
    reserved.delete(dir);
  }
  return { dir, record: rec, spec };
}

// ------------------------------------------------------------------ training

export interface TrainHooks {
  onEvent?: (e: TrainerEvent) => void;
  onLog?: (line: string) => void;
  /** the sidecar started (its handle: stop()) */
  onStart?: (sidecar: Sidecar) => void;
  stopTimeoutMs?: number;
}

export interface TrainOutcome {
  summary: RunSummary;
  status: RunStatus;
  failure: SidecarFailure | null;
  /** a resume that ended before training started: the run folder was put back as it was */
  restored: boolean;
}

/**
 * Train (or resume) the run in `dir` with the sidecar: events appended to events.ndjson and handed
 * on, progress per batch over the whole run, the record kept current, summary.md written at the end.
 * Cancelling the job is a graceful stop. A resume that ends before training starts (a failure, or a
 * stop) leaves the folder as it was: record, spec.json, command.sh, events.ndjson and summary.md.
 */
export async function trainRun(ctx: CoreContext, dirIn: string, python: string, job: JobContext, hooks: TrainHooks = {}, opts: { resume?: boolean } = {}): Promise<TrainOutcome> {
  const dir = path.resolve(dirIn);
  const rec = await readRecord(dir);
  const specFile = path.join(dir, 'spec.json');
  const commandFile = path.join(dir, 'command.sh');
  const eventsFile = path.join(dir, 'events.ndjson');
  const specText = await fs.readFile(specFile, 'utf8');
  const spec = JSON.parse(specText) as TrainSpec;
  const size = async (f: string) => (await fs.stat(f).catch(() => null))?.size ?? 0;
  let restore: { record: string; spec: string; commandSize: number; eventsSize: number } | null = null;
  if (opts.resume) {
    const last = path.join(dir, 'weights', 'last.pt');
    if (!existsSync(last)) throw new RunStartError('not-resumable', `${last}: missing — this run saved no checkpoint to resume from`);
    if (!existsSync(spec.data)) throw dataGone(spec.data);
    restore = { record: await fs.readFile(path.join(dir, RUN_FILE), 'utf8'), spec: specText, commandSize: await size(commandFile), eventsSize: await size(eventsFile) };
    // the run is the folder we were given, wherever spec.json says it was made (a moved workspace, a copy)
    spec.run_dir = dir;
    spec.resume = true; // the sidecar continues from weights/last.pt of run_dir
    rec.name = path.basename(dir);
    rec.resumes += 1;
    await writeFileAtomic(specFile, JSON.stringify(spec, null, 2) + '\n');
    await fs.appendFile(commandFile, `# resumed ${new Date().toISOString()}:\n# YOLO_OFFLINE=1 yolo ${rec.task} train resume ${shellQuote(`model=${last}`)}\n`);
  }
  const started = new Date();
  rec.status = 'running';
  rec.started_at = started.toISOString();
  rec.ended_at = null;
  rec.error = null;
  rec.host = os.hostname();
  rec.boot_time = bootTime();

  // one writer at a time: events arrive faster than atomic renames finish
  let writing: Promise<void> = Promise.resolve();
  const save = () => {
    const snapshot = JSON.parse(JSON.stringify(rec)) as RunRecord;
    writing = writing.then(() => writeRecord(dir, snapshot)).catch((err) => ctx.logger.warn(`${dir}: could not update ${RUN_FILE}: ${(err as Error).message}`));
    return writing;
  };
  await save();

  const events = (await fs.open(eventsFile, 'a')).createWriteStream();
  let epochs = spec.epochs;
  let batches = 1;
  let trainStarted = false;
  const onEvent = (e: TrainerEvent) => {
    events.write(JSON.stringify(e) + '\n');
    switch (e.type) {
      case 'train_start':
        trainStarted = true;
        epochs = e.epochs;
        batches = Math.max(1, e.batches);
        job.progress(`epoch ${e.start_epoch + 1}/${epochs}`, e.start_epoch * batches, epochs * batches);
        break;
      case 'epoch_start':
        job.progress(`epoch ${e.epoch}/${e.epochs}`, (e.epoch - 1) * batches, e.epochs * batches);
        break;
      case 'batch':
        batches = Math.max(1, e.batches);
        job.progress(`epoch ${e.epoch}/${epochs}`, (e.epoch - 1) * batches + e.batch, epochs * batches);
        break;
      case 'epoch_end':
        rec.epochs_completed = Math.max(rec.epochs_completed, e.epoch);
        job.progress(`epoch ${e.epoch}/${e.epochs}`, e.epoch * batches, e.epochs * batches);
        void save();
        break;
      case 'val': {
        const m = pickMetrics(e.metrics);
        if (m && (!rec.metrics || m.mAP50_95 >= rec.metrics.mAP50_95)) rec.metrics = m;
        rec.epochs_completed = Math.max(rec.epochs_completed, e.epoch);
        void save();
        break;
      }
      case 'done': {
        rec.epochs_completed = Math.max(rec.epochs_completed, e.epochs_completed);
        const final = pickMetrics(e.metrics);
        rec.metrics = final ?? rec.metrics;
        rec.final_metrics = final ?? rec.final_metrics;
        if (e.per_class.length) rec.per_class = e.per_class;
        break;
      }
      default:
        break;
    }
    hooks.onEvent?.(e);
  };

  const sidecar = startSidecar(ctx, {
    python,
    args: ['train', '--spec', specFile],
    cwd: dir,
    logFile: path.join(dir, 'train.log'),
    onEvent,
    onLog: hooks.onLog,
    signal: job.signal,
    stopTimeoutMs: hooks.stopTimeoutMs,
    env: { SPOTTER_TENSORBOARD: rec.tensorboard ? '1' : '0' },
  });
  rec.pid = sidecar.pid ?? process.pid;
  rec.pid_started_ms = sidecar.pid ? processStartMs(sidecar.pid) : PROCESS_STARTED_MS;
  await save();
  hooks.onStart?.(sidecar);
  const r = await sidecar.result;
  await new Promise<void>((res) => events.end(() => res()));
  const workspace = path.dirname(path.dirname(dir));

  let failure = r.failure;
  if (restore && !trainStarted) {
    // nothing was trained: put the run back as it was (still resumable), and say why in train.log
    await writing;
    await writeFileAtomic(path.join(dir, RUN_FILE), restore.record);
    await writeFileAtomic(specFile, restore.spec);
    await fs.truncate(commandFile, restore.commandSize).catch(() => {});
    await fs.truncate(eventsFile, restore.eventsSize).catch(() => {});
    const why = failure ? `failed (${failure.code}): ${failure.message}` : r.stopRequested ? 'was stopped' : 'ended without training';
    await fs.appendFile(path.join(dir, 'train.log'), `[spotter] the resume ${why} before training started; the run was left as it was\n`).catch(() => {});
    if (!failure && !r.stopRequested) failure = { code: 'unknown', message: 'the trainer exited before training started', hint: 'See train.log in the run folder.' };
    const prev = await readRecord(dir);
    return { summary: toSummary(dir, prev, await getBaseline(workspace)), status: failure ? 'failed' : 'stopped', failure, restored: true };
  }

  const ended = new Date();
  let status: RunStatus;
  if (r.done && !failure) status = r.stopRequested && r.done.stopped ? 'stopped' : 'done';
  else if (failure) status = 'failed';
  else if (r.stopRequested) status = 'stopped';
  else {
    status = 'failed';
    failure = { code: 'unknown', message: 'the trainer exited without reporting the end of training', hint: 'See train.log in the run folder.' };
  }
  rec.status = status;
  rec.error = failure;
  rec.ended_at = ended.toISOString();
  rec.duration_seconds += (ended.getTime() - started.getTime()) / 1000;
  rec.pid = null;
  rec.pid_started_ms = null;
  if (!r.done) {
    const fromCsv = await metricsFromResults(dir);
    if (fromCsv) {
      rec.metrics = fromCsv.metrics;
      rec.epochs_completed = Math.max(rec.epochs_completed, fromCsv.epochs);
    }
  }
  await writing;
  await writeSummaryMd(dir, rec, r.done);
  await writeRecord(dir, rec);
  if ((status === 'done' || status === 'stopped') && !job.signal.aborted && (await exists(path.join(dir, 'weights', 'best.pt')))) {
    // every run is validated on each named evaluation set of its dataset (kept out of training);
    // imported here, not at the top: evaluate.ts builds on this module
    const { evaluateEvalSets } = await import('./evaluate.js');
    const evals = await evaluateEvalSets(ctx, dir, job).catch((err: unknown) => {
      ctx.logger.warn(`${dir}: evaluation sets: ${(err as Error).message}`);
      return [];
    });
    if (evals.length) {
      // summary.md keeps the final validation of the done event beside the sets
      const now = await loadRun(dir);
      await writeSummaryMd(dir, now, r.done);
      return { summary: toSummary(dir, now, await getBaseline(workspace)), status, failure, restored: false };
    }
  }
  return { summary: toSummary(dir, rec, await getBaseline(workspace)), status, failure, restored: false };
}

function dataGone(dataYaml: string): RunStartError {
  return new RunStartError(
    'dataset-not-found',
    `${dataYaml}: the dataset this run trained on is not there any more (moved or deleted)`,
    'Put the dataset back where it was to resume the run, or start a new run on the dataset where it is now.',
  );
}

/**
 * A run that can be resumed: stopped, crashed or failed, with a weights/last.pt that is not final
 * (Ultralytics refuses to resume a checkpoint whose epochs are all trained), and its dataset in place.
 */
export async function checkResumable(dirIn: string): Promise<RunRecord> {
  const dir = path.resolve(dirIn);
  const rec = await loadRun(dir);
  const finetune = 'Fine-tune from its weights/best.pt as a new run instead (resume cannot add epochs).';
  if (rec.status === 'running') throw new RunStartError('not-resumable', `${dir}: the run is still running`);
  if (rec.status === 'done') throw new RunStartError('not-resumable', `${dir}: the run completed; nothing to resume`, finetune);
  const last = path.join(dir, 'weights', 'last.pt');
  if (!(await exists(last))) throw new RunStartError('not-resumable', `${last}: missing — the run stopped before its first checkpoint; start it again`);
  let spec: TrainSpec;
  try {
    spec = JSON.parse(await fs.readFile(path.join(dir, 'spec.json'), 'utf8')) as TrainSpec;
  } catch (err) {
    throw new RunStartError('not-resumable', `${path.join(dir, 'spec.json')}: not readable (${(err as Error).message})`);
  }
  const epochs = Number(spec.epochs ?? rec.settings.epochs ?? 0);
  const saved = await checkpointEpoch(last);
  if (saved === -1) throw new RunStartError('not-resumable', `${last}: a final checkpoint (training ended and its optimizer state was removed); nothing to resume`, finetune);
  const trained = saved !== null ? saved + 1 : ((await metricsFromResults(dir))?.epochs ?? 0);
  if (trained >= epochs) throw new RunStartError('not-resumable', `${dir}: the run trained all ${epochs} epochs; nothing to resume`, finetune);
  if (!existsSync(spec.data)) throw dataGone(spec.data);
  return rec;
}
