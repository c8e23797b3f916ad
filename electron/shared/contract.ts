/**
 * The one typed contract between the UI and the core: every call (request -> response) and every
 * event (core -> UI). Electron IPC (main/preload) and serve mode (HTTP + WebSocket) both carry exactly
 * this; `contract.test-d.ts` fails to compile when a side misses a call or an event.
 * Inputs are validated with zod at the edge (main/ipc.ts, server/), then trusted inside.
 */
import { z } from 'zod';
import {
  DatasetReport,
  HealthReport,
  ImportOptions,
  MappingFile,
  SplitName,
} from './schemas.js';

export type { DatasetReport, HealthReport, MappingFile };
import { type EnvReport, type TrainerEvent } from './trainer.js';
export type { EnvReport, TrainerEvent };

// ---------------------------------------------------------------- results

export interface AppInfo {
  version: string;
  mode: 'electron' | 'serve';
  platform: string;
  dataDir: string;
  workspace: string;
  sampleDataset: string;
}

export interface WorkspaceInfo {
  path: string;
  datasets: DatasetListItem[];
}

export interface DatasetListItem {
  name: string;
  dir: string;
  createdAt: string;
  task: 'detect' | 'segment';
  images: number;
  classes: string[];
  ok: boolean;
  errors: number;
  warnings: number;
}

export interface DetectedSource {
  /** the path the user gave */
  input: string;
  format: string;
  /** annotation files read */
  files: string[];
  images: number;
  subsets: string[];
}

export interface InspectClass {
  /** source category name */
  source: string;
  instances: number;
  images: number;
  /** proposed target: a class name, or null when dropped by default (unused) */
  target: string | null;
}

export interface InspectNote {
  severity: 'error' | 'warning' | 'info';
  code: string;
  message: string;
  file?: string;
  item?: string;
}

export interface InspectResult {
  sources: DetectedSource[];
  classes: InspectClass[];
  images: number;
  negatives: number;
  missingImages: number;
  objects: number;
  subsets: string[];
  grouping: DatasetReport['grouping'];
  licenses: DatasetReport['licenses'];
  counts: Record<string, number>;
  notes: InspectNote[];
}

export interface ImportResult {
  dir: string;
  dataYaml: string;
  report: DatasetReport;
  health: HealthReport;
  mapping: MappingFile;
}

export interface DatasetDetail {
  dir: string;
  dataYaml: string;
  report: DatasetReport;
  health: HealthReport;
  mapping: MappingFile;
}

export interface DatasetImageLabel {
  cls: number;
  /** normalized xywh (centre) */
  box: [number, number, number, number];
  /** normalized flat polygon, when the dataset is a segmentation set */
  polygon?: number[];
}

export interface DatasetImage {
  file: string;
  path: string;
  source: string;
  split: SplitName;
  group: string;
  labels: DatasetImageLabel[];
}

export interface DatasetImagesPage {
  total: number;
  offset: number;
  items: DatasetImage[];
}

export type JobKind = 'inspect' | 'import' | 'check' | 'env-setup' | 'train' | 'evaluate';

// ---------------------------------------------------------------- training

export interface TrainerEnvStatus {
  /** the trainer environment exists and its import check passed */
  ready: boolean;
  /** the environment's interpreter (null before set-up) */
  python: string | null;
  venv: string;
  /** the import check's report (null before set-up or when the interpreter cannot run) */
  env: EnvReport | null;
  /** what the hardware detection found: decides which torch build set-up installs */
  hardware: { kind: 'nvidia' | 'apple' | 'cpu'; gpus: string[]; driver: string | null; note: string | null };
  /** plain-language problems (missing packages, driver too old, …) */
  problems: string[];
}

export type RunStatus = 'running' | 'done' | 'stopped' | 'failed' | 'crashed';

export interface RunMetrics {
  precision: number;
  recall: number;
  mAP50: number;
  mAP50_95: number;
}

export interface RunSummary {
  dir: string;
  name: string;
  label: string;
  status: RunStatus;
  createdAt: string;
  model: string;
  imgsz: number;
  epochs: number;
  epochsCompleted: number;
  /** data.yaml path and the dataset's content hash */
  dataset: string;
  datasetHash: string | null;
  /** best validation metrics so far (final ones when done) */
  metrics: RunMetrics | null;
  durationSeconds: number | null;
  note: string;
  isBaseline: boolean;
  /** the test split was evaluated in this run (a decision was made on it) */
  testEvaluated: boolean;
}

export interface PerClassMetrics {
  name: string;
  images: number;
  instances: number;
  p: number;
  r: number;
  ap50: number;
  ap50_95: number;
}

export interface RunDetail {
  summary: RunSummary;
  /** args.yaml as Ultralytics wrote it */
  args: Record<string, unknown>;
  /** results.csv: columns from its header, one row per epoch */
  columns: string[];
  rows: number[][];
  perClass: PerClassMetrics[];
  commandSh: string;
  summaryMd: string;
  logTail: string;
  /** the last event of a running run (live view rebuilt after reopening) */
  lastEvent: TrainerEvent | null;
}

export interface MetricDelta {
  base: number;
  run: number;
  delta: number;
}

/** A run's best.pt validated on a split of its dataset (runs.evaluate, `spotter val`). */
export interface Evaluation {
  dir: string;
  split: 'val' | 'test';
  weights: string;
  metrics: RunMetrics | null;
  raw: Record<string, number>;
  perClass: PerClassMetrics[];
  /** eval-<split>.json in the run folder (plots beside it in eval-<split>/) */
  file: string;
}

export interface RunComparison {
  baseline: RunSummary;
  threshold: number;
  runs: Array<{
    run: RunSummary;
    metrics: Record<keyof RunMetrics, MetricDelta>;
    perClass: Array<{ name: string; ap50: MetricDelta | null; ap50_95: MetricDelta | null }>;
    verdict: 'better' | 'same' | 'degraded';
  }>;
}

export interface RunEstimate {
  seconds: number;
  /** how the estimate was made, in words */
  basis: string;
  /** run over an hour, or on the CPU only: ask before starting */
  confirm: string | null;
}

export interface JobProgress {
  jobId: string;
  kind: JobKind;
  stage: string;
  done: number;
  total: number;
}

export interface JobFinished {
  jobId: string;
  kind: JobKind;
  status: 'done' | 'failed' | 'cancelled';
  error?: string;
  result?: unknown;
}

export interface JobStarted {
  jobId: string;
}

// ---------------------------------------------------------------- inputs

const Empty = z.object({}).strict();

/** What an Ultralytics train argument name looks like (`extra` keys, the CLI's --set keys). */
export const TRAIN_ARG_NAME = /^[a-z_][a-z0-9_]*$/;

/** A training request from the wizard or the CLI (Ultralytics names). */
export const TrainRequest = z.object({
  /** dataset folder or its data.yaml */
  dataset: z.string().min(1),
  /** model yaml name (yolov8n.yaml, yolo11s.yaml, yolo26n.yaml), a local .pt, or a previous run's best.pt */
  model: z.string().min(1).default('yolov8n.yaml'),
  label: z.string().max(80).optional(),
  /** why this run exists: goes into summary.md and the report */
  note: z.string().max(2000).default(''),
  epochs: z.number().int().positive().default(1),
  imgsz: z.number().int().positive().default(640),
  batch: z.number().default(-1),
  device: z.string().default('auto'),
  workers: z.number().int().min(0).default(2),
  patience: z.number().int().min(0).optional(),
  optimizer: z.string().optional(),
  lr0: z.number().positive().optional(),
  cos_lr: z.boolean().optional(),
  seed: z.number().int().optional(),
  cache: z.union([z.boolean(), z.enum(['ram', 'disk'])]).optional(),
  /** any other Ultralytics train argument (augmentation fields, …); names as Ultralytics spells them
   *  (they also go into command.sh, so nothing else may pass) */
  extra: z
    .record(z.string().regex(TRAIN_ARG_NAME, 'not an Ultralytics argument name (lower-case letters, digits and _)'), z.union([z.number(), z.string(), z.boolean(), z.null()]))
    .default({}),
  /** Ultralytics' local TensorBoard logging into the run folder */
  tensorboard: z.boolean().default(false),
  /** start even though the dataset's health check has errors */
  overrideHealth: z.boolean().default(false),
});
export type TrainRequest = z.input<typeof TrainRequest>;
const DirInput = z.object({ dir: z.string().min(1) });

export const CallInputs = {
  'app.info': Empty,
  'workspace.get': Empty,
  'workspace.set': z.object({ path: z.string().min(1) }),
  /** opens a native folder/file picker in Electron; serve mode answers null (the UI shows a path field) */
  'dialog.pick': z.object({ kind: z.enum(['folder', 'files']), title: z.string().optional() }),
  'import.inspect': ImportOptions,
  'import.run': ImportOptions,
  'jobs.cancel': z.object({ jobId: z.string() }),
  'datasets.get': DirInput,
  'datasets.images': DirInput.extend({
    split: SplitName.optional(),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(1000).default(200),
  }),
  'datasets.check': DirInput.extend({ imgsz: z.number().int().positive().default(640) }),
  'trainer.env': Empty,
  'trainer.setup': z.object({ repair: z.boolean().default(false), wheelhouse: z.string().optional() }),
  'runs.list': Empty,
  'runs.get': DirInput,
  'runs.start': TrainRequest,
  'runs.estimate': TrainRequest,
  'runs.stop': DirInput,
  'runs.resume': DirInput,
  'runs.setBaseline': z.object({ dir: z.string().nullable() }),
  'runs.compare': z.object({ baseline: z.string().optional(), runs: z.array(z.string()).default([]), threshold: z.number().min(0).default(0.01) }),
  /** validate the run's best.pt on a split: a job; evaluating on test is recorded in the run */
  'runs.evaluate': DirInput.extend({ split: z.enum(['test', 'val']) }),
} as const;

export interface CallOutputs {
  'app.info': AppInfo;
  'workspace.get': WorkspaceInfo;
  'workspace.set': WorkspaceInfo;
  'dialog.pick': string[] | null;
  'import.inspect': JobStarted;
  'import.run': JobStarted;
  'jobs.cancel': { cancelled: boolean };
  'datasets.get': DatasetDetail;
  'datasets.images': DatasetImagesPage;
  'datasets.check': JobStarted;
  'trainer.env': TrainerEnvStatus;
  'trainer.setup': JobStarted;
  'runs.list': RunSummary[];
  'runs.get': RunDetail;
  'runs.start': JobStarted & { dir: string };
  'runs.estimate': RunEstimate;
  'runs.stop': { stopping: boolean };
  'runs.resume': JobStarted & { dir: string };
  'runs.setBaseline': { baseline: string | null };
  'runs.compare': RunComparison;
  'runs.evaluate': JobStarted & { dir: string };
}

export type CallName = keyof typeof CallInputs;
export type CallInput<K extends CallName> = z.input<(typeof CallInputs)[K]>;
export type CallParsed<K extends CallName> = z.output<(typeof CallInputs)[K]>;
export type CallOutput<K extends CallName> = CallOutputs[K];

/** Results carried by `job.finished` per job kind. */
export interface JobResults {
  inspect: InspectResult;
  import: ImportResult;
  check: HealthReport;
  'env-setup': TrainerEnvStatus;
  train: RunSummary;
  /** runs.evaluate: best.pt validated on a split */
  evaluate: Evaluation;
}

export interface EventPayloads {
  'job.progress': JobProgress;
  'job.finished': JobFinished;
  'workspace.changed': WorkspaceInfo;
  /** every validated sidecar event of a run, live */
  'run.event': { dir: string; event: TrainerEvent };
  /** the run list changed (a run started, ended, or the baseline moved) */
  'runs.changed': { runs: RunSummary[]; baseline: string | null };
  /** a line of the environment set-up log (pip output) */
  'trainer.setupLog': { jobId: string; line: string };
}
export type EventName = keyof EventPayloads;
export const EVENT_NAMES = [
  'job.progress',
  'job.finished',
  'workspace.changed',
  'run.event',
  'runs.changed',
  'trainer.setupLog',
] as const satisfies readonly EventName[];
export const CALL_NAMES = Object.keys(CallInputs) as CallName[];

/** What the core implements and both transports expose: one handler per call (inputs already parsed). */
export type CallHandlers = { [K in CallName]: (input: CallParsed<K>) => Promise<CallOutput<K>> };

/** What the renderer sees, whatever the transport. Every subscription returns its unsubscribe. */
export interface SpotterApi {
  call<K extends CallName>(name: K, input: CallInput<K>): Promise<CallOutput<K>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayloads[E]) => void): () => void;
}

/** Errors cross the transport as this shape. */
export interface WireError {
  message: string;
  code?: string;
}

/** What the preload script exposes as `window.spotter` (contextBridge). */
export interface PreloadBridge extends SpotterApi {
  /** the real path of a dropped File (Electron's webUtils.getPathForFile) */
  pathForFile(file: File): string;
}

export { FILE_PROTOCOL } from './constants.js';
