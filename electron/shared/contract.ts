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
import type {
  BatchResult,
  DeployedModel,
  ExportFormatInfo,
  ExportResult,
  ModelCard,
  ModelInfo,
  ModelListItem,
  ReviewSetWire,
  ReviewSetSummary,
} from './review.js';
export type * from './review.js';

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
  /** when importing as a new version of a dataset (ImportOptions.base): what the merge would do */
  merge?: MergePreview;
}

/** A corrected re-import merged into a new version of a dataset, before it runs. */
export interface MergePreview {
  /** the base dataset's folder and name */
  base: string;
  baseName: string;
  baseImages: number;
  baseClasses: string[];
  /** base images whose labels the re-import replaces */
  replaced: number;
  /** of those, images the base labels but the re-import has no object on: they become empty */
  emptied: number;
  /** re-imported images that are new to the base */
  added: number;
  /** re-imported images whose names match several base images that differ in content: not used */
  ambiguous: number;
  /** classes the base lacks, appended after its own */
  newClasses: string[];
  /** a class that differs from a base class only in case or spacing: the merge refuses it until mapped */
  conflict: string | null;
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
  /** named evaluation sets kept out of training (night, winter, a new camera) */
  evalSets: EvalSetInfo[];
}

/** A named evaluation set of a dataset: `<dataset>/evalsets/<name>/{images,labels}`, never trained on. */
export interface EvalSetInfo {
  name: string;
  dir: string;
  images: number;
  objects: number;
  /** where it was imported from */
  source: string;
  addedAt: string;
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

export type JobKind =
  | 'inspect'
  | 'import'
  | 'check'
  | 'evalset'
  | 'env-setup'
  | 'train'
  | 'sweep'
  | 'evaluate'
  | 'predict'
  | 'batch'
  | 'export'
  | 'install'
  | 'download'
  | 'deploy';

// ---------------------------------------------------------------- training

/** Pretrained (COCO) weights of one of the wizard's architectures, in the app's data folder once downloaded. */
export interface PretrainedInfo {
  /** e.g. yolo11n.pt */
  name: string;
  /** where it is, or will be once downloaded */
  path: string;
  url: string;
  downloaded: boolean;
  bytes: number | null;
  /** whether the server answers (null when downloaded, or not asked) */
  online: boolean | null;
}

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
  /** validation metrics on each of the dataset's named evaluation sets (null: not evaluated / failed) */
  evalSets: Record<string, RunMetrics | null>;
  /** the sweep this run belongs to */
  sweep: string | null;
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
  /** a split of the run's dataset, or one of its named evaluation sets (`set`) */
  split: 'val' | 'test' | 'set';
  /** the evaluation set's name when split is 'set' */
  set?: string;
  evaluatedAt: string;
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

/** A small grid of runs trained one after the other (`runs/_sweeps/<id>.json`). */
export interface SweepSummary {
  id: string;
  file: string;
  label: string;
  createdAt: string;
  status: 'running' | 'done' | 'stopped' | 'failed';
  /** argument name → values; the runs are the grid's product */
  grid: Record<string, Array<number | string | boolean>>;
  runs: Array<{
    params: Record<string, number | string | boolean>;
    /** null while queued */
    dir: string | null;
    status: RunStatus | 'queued' | 'skipped';
    metrics: RunMetrics | null;
    durationSeconds: number | null;
  }>;
  /** the finished run with the best mAP50-95 */
  best: string | null;
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
const GridValue = z.union([z.number(), z.string(), z.boolean()]);
/** A review source: a model on a dataset split or on a folder of images. */
const ReviewSourceInput = z
  .object({
    model: z.string().min(1),
    dataset: z.string().min(1).optional(),
    split: z.enum(['train', 'val', 'test', 'all']).default('val'),
    folder: z.string().min(1).optional(),
  })
  .refine((s) => Boolean(s.dataset) !== Boolean(s.folder), { message: 'give either a dataset (and split) or a folder of images' });
const ThresholdsInput = z.object({
  default: z.number().min(0).max(1),
  perClass: z.record(z.string(), z.number().min(0).max(1)).default({}),
  iou: z.number().min(0.05).max(0.95).default(0.7),
});

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
  'weights.pretrained': z.object({ model: z.string().min(1) }),
  'weights.download': z.object({ model: z.string().min(1) }),
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
  /** every evaluation recorded in a run (eval-*.json read back) */
  'runs.evaluations': DirInput,
  /** a queue of runs over a small grid (e.g. lr0 × imgsz), trained one after the other */
  'runs.sweep': z.object({
    request: TrainRequest,
    grid: z
      .record(z.string().regex(TRAIN_ARG_NAME), z.array(GridValue).min(1).max(6))
      .refine((g) => Object.keys(g).length >= 1 && Object.keys(g).length <= 3, 'a sweep varies 1 to 3 arguments')
      .refine((g) => Object.values(g).reduce((n, v) => n * v.length, 1) <= 24, 'a sweep has at most 24 runs'),
    label: z.string().max(80).optional(),
  }),
  'runs.sweeps': Empty,
  /** import a source (any format the importer reads) as a named evaluation set of a dataset: a job */
  'datasets.addEvalSet': DirInput.extend({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/, 'letters, digits, _ . - (up to 40)'),
    sources: z.array(z.string().min(1)).min(1),
  }),
  'datasets.removeEvalSet': DirInput.extend({ name: z.string().min(1) }),
  /** ONNX models the gallery can use (run exports and deployed models) */
  'review.models': Empty,
  /** read an ONNX model's metadata and card */
  'review.modelInfo': z.object({ model: z.string().min(1) }),
  /** run a model over a source: a 'predict' job (cached per model and source) */
  'review.predict': z.object({ source: ReviewSourceInput, force: z.boolean().default(false) }),
  /** the cached predictions with ground truth (null when not predicted yet) */
  'review.get': z.object({ source: ReviewSourceInput }),
  /** save per-class thresholds into the model card beside the ONNX */
  'review.saveThresholds': z.object({ model: z.string().min(1), thresholds: ThresholdsInput }),
  /** write the next labelling batch for CVAT: a 'batch' job */
  'review.exportBatch': z.object({
    source: ReviewSourceInput,
    selection: z.object({
      mode: z.enum(['uncertain', 'disagree', 'unlabelled']),
      low: z.number().min(0).max(1).default(0.25),
      high: z.number().min(0).max(1).default(0.6),
      conf: z.number().min(0).max(1).default(0.25),
      /** class name → its own threshold (the gallery's); absent: the model card's */
      perClass: z.record(z.string(), z.number().min(0).max(1)).optional(),
      iou: z.number().min(0.05).max(0.95).default(0.5),
      limit: z.number().int().min(1).max(10000).default(200),
    }),
    format: z.enum(['coco', 'cvat']),
    /** pre-annotations: predictions at or above this score */
    conf: z.number().min(0).max(1).default(0.25),
    /** where the batch folder goes (default: workspace batches/) */
    out: z.string().optional(),
  }),
  /** the export formats and whether each can be built here */
  'models.formats': Empty,
  /** export a run's best.pt: an 'export' job */
  'models.export': DirInput.extend({
    format: z.string().regex(/^[a-z]+$/),
    imgsz: z.number().int().positive().optional(),
    half: z.boolean().default(false),
    int8: z.boolean().default(false),
    dynamic: z.boolean().default(false),
    simplify: z.boolean().default(true),
    nms: z.boolean().default(false),
  }),
  /** install the Python packages a format needs into the trainer environment: an 'install' job */
  'models.install': z.object({ format: z.string().regex(/^[a-z]+$/) }),
  /** copy a run's export into workspace models/ as the next version, with a model card */
  'models.deploy': DirInput.extend({ file: z.string().optional(), name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$/).optional() }),
  'models.list': Empty,
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
  'weights.pretrained': PretrainedInfo;
  'weights.download': JobStarted;
  'runs.list': RunSummary[];
  'runs.get': RunDetail;
  'runs.start': JobStarted & { dir: string };
  'runs.estimate': RunEstimate;
  'runs.stop': { stopping: boolean };
  'runs.resume': JobStarted & { dir: string };
  'runs.setBaseline': { baseline: string | null };
  'runs.compare': RunComparison;
  'runs.evaluate': JobStarted & { dir: string };
  'runs.evaluations': Evaluation[];
  'runs.sweep': JobStarted & { sweep: string };
  'runs.sweeps': SweepSummary[];
  'datasets.addEvalSet': JobStarted;
  'datasets.removeEvalSet': DatasetDetail;
  'review.models': ModelListItem[];
  'review.modelInfo': ModelInfo;
  'review.predict': JobStarted;
  /** compact (decodeReviewSet in shared/review-codec.ts turns it into a ReviewSet) */
  'review.get': ReviewSetWire | null;
  'review.saveThresholds': ModelCard;
  'review.exportBatch': JobStarted;
  'models.formats': ExportFormatInfo[];
  'models.export': JobStarted;
  'models.install': JobStarted;
  'models.deploy': JobStarted;
  'models.list': DeployedModel[];
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
  sweep: SweepSummary;
  evalset: DatasetDetail;
  predict: ReviewSetSummary;
  batch: BatchResult;
  export: ExportResult;
  install: ExportFormatInfo[];
  download: PretrainedInfo;
  /** models.deploy: the run's export copied into models/ as the next version (exported first when missing) */
  deploy: DeployedModel;
}

export interface EventPayloads {
  'job.progress': JobProgress;
  'job.finished': JobFinished;
  'workspace.changed': WorkspaceInfo;
  /** every validated sidecar event of a run, live */
  'run.event': { dir: string; event: TrainerEvent };
  /** the run list changed (a run started, ended, or the baseline moved) */
  'runs.changed': { runs: RunSummary[]; baseline: string | null };
  /** a line of the environment set-up log (pip output; also format installs) */
  'trainer.setupLog': { jobId: string; line: string };
  /** a sweep advanced (a run started or ended) */
  'sweeps.changed': { sweeps: SweepSummary[] };
}
export type EventName = keyof EventPayloads;
export const EVENT_NAMES = [
  'job.progress',
  'job.finished',
  'workspace.changed',
  'run.event',
  'runs.changed',
  'trainer.setupLog',
  'sweeps.changed',
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
