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

export type JobKind = 'inspect' | 'import' | 'check';

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
}

export interface EventPayloads {
  'job.progress': JobProgress;
  'job.finished': JobFinished;
  'workspace.changed': WorkspaceInfo;
}
export type EventName = keyof EventPayloads;
export const EVENT_NAMES = ['job.progress', 'job.finished', 'workspace.changed'] as const satisfies readonly EventName[];
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
