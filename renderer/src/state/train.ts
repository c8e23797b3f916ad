/**
 * Training set-up: the trainer environment (trainer.env, the env-setup job and its log) and the
 * wizard (dataset → model → preset → settings → review → Start). The request sent to `runs.start` is
 * built from the wizard's form by `selectTrainRequest`, the single place that translates UI choices
 * to a TrainRequest; the review's `yolo` command is built from that same request.
 */
import type {
  DatasetDetail,
  DatasetListItem,
  JobFinished,
  RunEstimate,
  TrainerEnvStatus,
  TrainRequest,
} from '../../../electron/shared/contract';
import { yoloCommandLine } from '../../../electron/shared/shell';
import { errorMessage } from '../lib/paths';
import type { SliceCreator, State } from './store';

// ---------------------------------------------------------------- form

export type ModelSource = 'yaml' | 'pt' | 'run';
export type ModelFamily = 'yolov8' | 'yolo11' | 'yolo26';
export type ModelSize = 'n' | 's' | 'm';
export type PresetName = 'smoke' | 'baseline' | 'full';
export type AugPresetName = 'default' | 'microscopy' | 'small-objects' | 'custom';

/** Ultralytics' augmentation fields with their defaults (ultralytics/cfg/default.yaml, 8.4). */
export const AUG_DEFAULTS = {
  hsv_h: 0.015,
  hsv_s: 0.7,
  hsv_v: 0.4,
  degrees: 0,
  translate: 0.1,
  scale: 0.5,
  shear: 0,
  perspective: 0,
  flipud: 0,
  fliplr: 0.5,
  bgr: 0,
  mosaic: 1,
  mixup: 0,
  cutmix: 0,
  copy_paste: 0,
  close_mosaic: 10,
} as const;
export type AugKey = keyof typeof AUG_DEFAULTS;
export type AugValues = Record<AugKey, number>;
export const AUG_KEYS = Object.keys(AUG_DEFAULTS) as AugKey[];

/** Domain presets: what a user of that domain changes first. */
export const AUG_PRESETS: Record<Exclude<AugPresetName, 'custom'>, { label: string; description: string; values: Partial<AugValues> }> = {
  default: { label: 'Ultralytics defaults', description: 'mosaic, horizontal flips, HSV and scale jitter', values: {} },
  microscopy: {
    label: 'Microscopy',
    description: 'no up or down in a slide: rotations up to 180° and vertical flips',
    values: { degrees: 180, flipud: 0.5 },
  },
  'small-objects': {
    label: 'Small objects',
    description: 'less mosaic (it shrinks objects further), milder scale jitter, no mixup',
    values: { mosaic: 0.2, scale: 0.6, mixup: 0 },
  },
};

export const PRESETS: Record<PresetName, { label: string; description: string; epochs: number; patience: number | null }> = {
  smoke: { label: 'Smoke', description: '1 epoch: does everything run end to end?', epochs: 1, patience: null },
  baseline: { label: 'Baseline', description: '10 epochs: a first number to compare against', epochs: 10, patience: null },
  full: { label: 'Full', description: '100 epochs, early stop after 20 without improvement', epochs: 100, patience: 20 },
};

export const IMGSZ_CHOICES = [416, 640, 1280] as const;
export const OPTIMIZERS = ['auto', 'SGD', 'MuSGD', 'Adam', 'Adamax', 'AdamW', 'NAdam', 'RAdam', 'RMSProp'] as const;

export interface WizardForm {
  /** dataset folder; null: none chosen yet */
  dataset: string | null;
  overrideHealth: boolean;
  modelSource: ModelSource;
  family: ModelFamily;
  size: ModelSize;
  /** a local .pt file */
  ptPath: string;
  /** a previous run's weights/best.pt */
  runWeights: string | null;
  preset: PresetName | 'custom';
  epochs: number;
  /** null: Ultralytics' default (100) */
  patience: number | null;
  imgsz: number;
  /** -1: auto (AutoBatch on a GPU; Spotter uses 8 on the CPU) */
  batch: number;
  /** 'auto' | 'cpu' | '0' | '0,1' | 'mps' */
  device: string;
  optimizer: string;
  /** null: Ultralytics' default (picked by the optimizer) */
  lr0: number | null;
  cos_lr: boolean;
  seed: number;
  cache: 'off' | 'ram' | 'disk';
  workers: number;
  /** Ultralytics' own local TensorBoard logging into the run folder */
  tensorboard: boolean;
  augPreset: AugPresetName;
  aug: AugValues;
  label: string;
  note: string;
}

export const DEFAULT_FORM: WizardForm = {
  dataset: null,
  overrideHealth: false,
  modelSource: 'yaml',
  family: 'yolov8',
  size: 'n',
  ptPath: '',
  runWeights: null,
  preset: 'smoke',
  epochs: PRESETS.smoke.epochs,
  patience: PRESETS.smoke.patience,
  imgsz: 640,
  batch: -1,
  device: 'auto',
  optimizer: 'auto',
  lr0: null,
  cos_lr: false,
  seed: 0,
  cache: 'off',
  workers: 2,
  tensorboard: false,
  augPreset: 'default',
  aug: { ...AUG_DEFAULTS },
  label: '',
  note: '',
};

export const WIZARD_STEPS = ['dataset', 'model', 'preset', 'settings', 'review'] as const;

/** Arguments a sweep commonly varies (any Ultralytics train argument name can be typed). */
export const SWEEP_ARGS = ['lr0', 'imgsz', 'batch', 'epochs', 'optimizer', 'mosaic', 'degrees', 'scale', 'fliplr', 'cos_lr', 'model'] as const;
export const SWEEP_MAX_ARGS = 3;
export const SWEEP_MAX_RUNS = 24;

/** The wizard's optional sweep: up to 3 arguments, each with comma-separated values. */
export interface SweepForm {
  enabled: boolean;
  args: Array<{ name: string; values: string }>;
  label: string;
}

export const DEFAULT_SWEEP: SweepForm = { enabled: false, args: [{ name: 'lr0', values: '0.01, 0.001' }], label: '' };

/** A grid value as typed: numbers and booleans when they look like them (as `spotter sweep --grid`). */
export function parseGridValue(raw: string): number | string | boolean {
  const t = raw.trim();
  if (/^(true|false)$/i.test(t)) return t.toLowerCase() === 'true';
  if (t !== '' && Number.isFinite(Number(t))) return Number(t);
  return t;
}

/** The sweep form's grid, or why it is not one yet. */
export function sweepGridOf(f: SweepForm): { grid: Record<string, Array<number | string | boolean>>; runs: number } | { error: string } {
  const grid: Record<string, Array<number | string | boolean>> = {};
  for (const a of f.args) {
    const name = a.name.trim();
    if (!name) continue;
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) return { error: `"${name}" is not an Ultralytics argument name` };
    if (name in grid) return { error: `"${name}" is listed twice` };
    const values = a.values
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean)
      .map(parseGridValue);
    if (!values.length) return { error: `give values for ${name}` };
    if (new Set(values.map((v) => `${typeof v}:${v}`)).size !== values.length) return { error: `${name} lists a value twice` };
    grid[name] = values;
  }
  const n = Object.keys(grid).length;
  if (n === 0) return { error: 'choose an argument to vary' };
  if (n > SWEEP_MAX_ARGS) return { error: `a sweep varies at most ${SWEEP_MAX_ARGS} arguments` };
  const runs = Object.values(grid).reduce((k, v) => k * v.length, 1);
  if (runs > SWEEP_MAX_RUNS) return { error: `${runs} runs: a sweep has at most ${SWEEP_MAX_RUNS}` };
  return { grid, runs };
}

// ---------------------------------------------------------------- slice

export interface SetupState {
  jobId: string;
  repair: boolean;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  error?: string;
  /** the last lines of pip and the import check, oldest first */
  log: string[];
}

export interface TrainSlice {
  trainerEnv: TrainerEnvStatus | null;
  trainerEnvStatus: 'idle' | 'loading' | 'ready' | 'error';
  trainerEnvError: string | null;
  setup: SetupState | null;
  setupStarting: boolean;
  wizardStep: number;
  form: WizardForm;
  /** the chosen dataset's detail (health report), for the dataset step */
  wizardDataset: { dir: string; detail: DatasetDetail | null; error: string | null } | null;
  estimate: { key: string; value: RunEstimate | null; error: string | null; loading: boolean } | null;
  trainStarting: boolean;
  trainError: string | null;
  sweepForm: SweepForm;
  setSweepForm(patch: Partial<SweepForm>): void;
  /** runs.sweep with the wizard's request and the sweep form's grid; navigates to Runs. */
  startSweep(): Promise<boolean>;
  loadTrainerEnv(): Promise<void>;
  startSetup(opts: { repair: boolean; wheelhouse?: string }): Promise<void>;
  setupLogLine(p: { jobId: string; line: string }): void;
  setWizardStep(step: number): void;
  setForm(patch: Partial<WizardForm>): void;
  setAug(key: AugKey, value: number): void;
  applyPreset(preset: PresetName): void;
  applyAugPreset(preset: Exclude<AugPresetName, 'custom'>): void;
  /** open the wizard (navigates to Train) with some fields set: "Train on this dataset", "Fine-tune from this" */
  openWizard(patch: Partial<WizardForm>, step?: number): void;
  resetWizard(): void;
  loadWizardDataset(dir: string): Promise<void>;
  loadEstimate(): Promise<RunEstimate | null>;
  /** runs.start with the wizard's request; navigates to the new run. Returns whether it started. */
  startTraining(): Promise<boolean>;
  trainJobFinished(f: JobFinished): void;
}

const SETUP_LOG_MAX = 2000;

export const createTrainSlice: SliceCreator<TrainSlice> = (set, get, transport) => {
  let envSeq = 0;
  // lines that arrive before the setup call returned its job id
  let orphanLines: { jobId: string; line: string }[] = [];
  /** runs.estimate calls in flight, by request */
  const estimateCalls = new Map<string, Promise<RunEstimate>>();

  return {
    trainerEnv: null,
    trainerEnvStatus: 'idle',
    trainerEnvError: null,
    setup: null,
    setupStarting: false,
    wizardStep: 0,
    form: DEFAULT_FORM,
    wizardDataset: null,
    estimate: null,
    trainStarting: false,
    trainError: null,
    sweepForm: DEFAULT_SWEEP,

    setSweepForm(patch) {
      set({ sweepForm: { ...get().sweepForm, ...patch }, trainError: null });
    },

    async startSweep() {
      const req = selectTrainRequest(get());
      const g = sweepGridOf(get().sweepForm);
      if (!req || get().trainStarting) return false;
      if ('error' in g) {
        set({ trainError: `Sweep: ${g.error}.` });
        return false;
      }
      set({ trainStarting: true, trainError: null });
      try {
        const label = get().sweepForm.label.trim() || undefined;
        let sweep = '';
        const { jobId, early } = await get().startJob('sweep', async () => {
          const r = await transport.call('runs.sweep', { request: req, grid: g.grid, label });
          sweep = r.sweep;
          return r;
        });
        get().sweepStarted(sweep, jobId);
        if (early) get().runJobFinished(early);
        get().pruneJobs();
        get().navigate({ name: 'runs' });
        return true;
      } catch (e) {
        set({ trainError: errorMessage(e) });
        return false;
      } finally {
        set({ trainStarting: false });
      }
    },

    async loadTrainerEnv() {
      const seq = ++envSeq;
      set({ trainerEnvStatus: 'loading', trainerEnvError: null });
      try {
        const env = await transport.call('trainer.env', {});
        if (seq === envSeq) set({ trainerEnv: env, trainerEnvStatus: 'ready' });
      } catch (e) {
        if (seq === envSeq) set({ trainerEnvStatus: 'error', trainerEnvError: errorMessage(e) });
      }
    },

    async startSetup({ repair, wheelhouse }) {
      if (get().setupStarting || get().setup?.status === 'running') return;
      set({ setupStarting: true, trainerEnvError: null });
      try {
        const { jobId, early } = await get().startJob('env-setup', () => transport.call('trainer.setup', { repair, wheelhouse: wheelhouse || undefined }));
        const log = orphanLines.filter((l) => l.jobId === jobId).map((l) => l.line);
        orphanLines = [];
        set({ setup: { jobId, repair, status: 'running', log } });
        if (early) get().trainJobFinished(early);
        get().pruneJobs();
      } catch (e) {
        set({ trainerEnvError: errorMessage(e) });
      } finally {
        set({ setupStarting: false });
      }
    },

    setupLogLine({ jobId, line }) {
      const setup = get().setup;
      if (!setup || setup.jobId !== jobId) {
        // the job id is not known yet (the call is in flight): keep a few lines for it
        if (get().setupStarting) orphanLines = [...orphanLines, { jobId, line }].slice(-SETUP_LOG_MAX);
        return;
      }
      const log = setup.log.length >= SETUP_LOG_MAX ? [...setup.log.slice(-SETUP_LOG_MAX + 1), line] : [...setup.log, line];
      set({ setup: { ...setup, log } });
    },

    setWizardStep(step) {
      set({ wizardStep: Math.max(0, Math.min(WIZARD_STEPS.length - 1, step)) });
    },

    setForm(patch) {
      const form = { ...get().form, ...patch };
      // editing epochs or patience by hand leaves the preset
      if (('epochs' in patch || 'patience' in patch) && !('preset' in patch) && form.preset !== 'custom') {
        const p = PRESETS[form.preset];
        if (p.epochs !== form.epochs || p.patience !== form.patience) form.preset = 'custom';
      }
      set({ form, trainError: null });
      if ('dataset' in patch && patch.dataset && patch.dataset !== get().wizardDataset?.dir) void get().loadWizardDataset(patch.dataset);
    },

    setAug(key, value) {
      const aug = { ...get().form.aug, [key]: value };
      set({ form: { ...get().form, aug, augPreset: augPresetOf(aug) } });
    },

    applyPreset(preset) {
      const p = PRESETS[preset];
      set({ form: { ...get().form, preset, epochs: p.epochs, patience: p.patience } });
    },

    applyAugPreset(preset) {
      set({ form: { ...get().form, augPreset: preset, aug: { ...AUG_DEFAULTS, ...AUG_PRESETS[preset].values } } });
    },

    openWizard(patch, step) {
      get().setForm(patch);
      if (step !== undefined) get().setWizardStep(step);
      get().navigate({ name: 'train' });
    },

    resetWizard() {
      set({ form: DEFAULT_FORM, sweepForm: DEFAULT_SWEEP, wizardStep: 0, estimate: null, trainError: null });
    },

    async loadWizardDataset(dir) {
      set({ wizardDataset: { dir, detail: null, error: null } });
      try {
        const detail = await transport.call('datasets.get', { dir });
        if (get().wizardDataset?.dir === dir) set({ wizardDataset: { dir, detail, error: null } });
      } catch (e) {
        if (get().wizardDataset?.dir === dir) set({ wizardDataset: { dir, detail: null, error: errorMessage(e) } });
      }
    },

    async loadEstimate() {
      const req = selectTrainRequest(get());
      if (!req) return null;
      const key = JSON.stringify(req);
      const cur = get().estimate;
      if (cur?.key === key && cur.value) return cur.value;
      // the same request in flight (a first estimate may time a few batches: seconds): wait for it, so
      // Start never skips the confirmation because the estimate was still loading
      const pending = estimateCalls.get(key);
      if (cur?.key === key && cur.loading && pending) return pending.catch(() => null);
      set({ estimate: { key, value: null, error: null, loading: true } });
      try {
        const call = transport.call('runs.estimate', req);
        estimateCalls.set(key, call);
        void call.catch(() => {}).finally(() => estimateCalls.delete(key));
        const value = await call;
        if (get().estimate?.key === key) set({ estimate: { key, value, error: null, loading: false } });
        return value;
      } catch (e) {
        if (get().estimate?.key === key) set({ estimate: { key, value: null, error: errorMessage(e), loading: false } });
        return null;
      }
    },

    async startTraining() {
      const req = selectTrainRequest(get());
      if (!req || get().trainStarting) return false;
      set({ trainStarting: true, trainError: null });
      try {
        let dir = '';
        const { jobId, early } = await get().startJob('train', async () => {
          const r = await transport.call('runs.start', req);
          dir = r.dir;
          return r;
        });
        get().runStarted(dir, jobId, req.label || null);
        if (early) get().runJobFinished(early);
        get().pruneJobs();
        get().navigate({ name: 'runs', dir });
        return true;
      } catch (e) {
        set({ trainError: errorMessage(e) });
        return false;
      } finally {
        set({ trainStarting: false });
      }
    },

    trainJobFinished(f) {
      const setup = get().setup;
      if (f.kind !== 'env-setup' || !setup || f.jobId !== setup.jobId) return;
      set({ setup: { ...setup, status: f.status, error: f.error } });
      if (f.status === 'done' && f.result) set({ trainerEnv: f.result as TrainerEnvStatus, trainerEnvStatus: 'ready' });
      else void get().loadTrainerEnv();
    },
  };
};

/** Which domain preset the values are (or 'custom' once edited by hand). */
function augPresetOf(aug: AugValues): AugPresetName {
  for (const [name, p] of Object.entries(AUG_PRESETS)) {
    const want = { ...AUG_DEFAULTS, ...p.values };
    if (AUG_KEYS.every((k) => want[k] === aug[k])) return name as AugPresetName;
  }
  return 'custom';
}

/** The model the form names: a yaml (with -seg for segmentation datasets), a .pt, or a run's best.pt. */
export function modelOf(form: WizardForm, task: 'detect' | 'segment' = 'detect'): string {
  if (form.modelSource === 'pt') return form.ptPath.trim();
  if (form.modelSource === 'run') return form.runWeights ?? '';
  return `${form.family}${form.size}${task === 'segment' ? '-seg' : ''}.yaml`;
}

/** The form's dataset among the workspace's (its list entry: health counts, task). */
export function datasetItemOf(s: State): DatasetListItem | undefined {
  return s.workspace?.datasets.find((d) => d.dir === s.form.dataset);
}

/**
 * The wizard's request now. A new object on every call: use it with getState(), or memoise
 * `trainRequestOf` on the form in components.
 */
export function selectTrainRequest(s: State): WizardRequest | null {
  return trainRequestOf(s.form, datasetItemOf(s)?.task);
}

/**
 * The single translation of the wizard's form into a TrainRequest (null until a dataset and a model
 * are chosen). Fields left at Ultralytics' defaults are left out, so the command stays short.
 */
/** A TrainRequest with the fields the wizard always sets. */
export type WizardRequest = TrainRequest & Required<Pick<TrainRequest, 'model' | 'epochs' | 'imgsz' | 'batch' | 'device' | 'workers' | 'extra' | 'note' | 'overrideHealth'>>;

export function trainRequestOf(f: WizardForm, task: 'detect' | 'segment' = 'detect'): WizardRequest | null {
  const model = modelOf(f, task);
  if (!f.dataset || !model) return null;
  const extra: Record<string, number> = {};
  for (const k of AUG_KEYS) if (f.aug[k] !== AUG_DEFAULTS[k]) extra[k] = f.aug[k];
  const req: WizardRequest = {
    dataset: f.dataset,
    model,
    note: f.note.trim(),
    epochs: f.epochs,
    imgsz: f.imgsz,
    batch: f.batch,
    device: f.device,
    workers: f.workers,
    extra,
    overrideHealth: f.overrideHealth,
  };
  if (f.label.trim()) req.label = f.label.trim();
  if (f.patience !== null) req.patience = f.patience;
  if (f.optimizer !== 'auto') req.optimizer = f.optimizer;
  if (f.lr0 !== null) req.lr0 = f.lr0;
  if (f.cos_lr) req.cos_lr = true;
  if (f.seed !== 0) req.seed = f.seed;
  if (f.cache !== 'off') req.cache = f.cache;
  if (f.tensorboard) req.tensorboard = true;
  return req;
}

/**
 * The `yolo … train` command equivalent to the request (as the run's command.sh will hold it, less
 * project/name; device 'auto' and batch -1 are resolved by the core at start). Quoted by the same
 * function as command.sh (electron/shared/shell.ts).
 */
export function yoloCommandOf(req: WizardRequest, dataYaml: string, task: 'detect' | 'segment' = 'detect'): string {
  const args: Array<[string, unknown]> = [];
  const kv = (k: string, v: unknown) => args.push([k, v]);
  kv('data', dataYaml);
  kv('model', req.model);
  kv('epochs', req.epochs);
  kv('imgsz', req.imgsz);
  kv('batch', req.batch);
  if (req.device && req.device !== 'auto') kv('device', req.device);
  kv('workers', req.workers);
  for (const k of ['patience', 'optimizer', 'lr0', 'cos_lr', 'seed', 'cache'] as const) if (req[k] !== undefined) kv(k, req[k]);
  for (const [k, v] of Object.entries(req.extra ?? {})) kv(k, v);
  return yoloCommandLine(task, 'train', args);
}

/** Why Start cannot be pressed now, in words; null when it can. */
export function selectStartBlocker(s: State): string | null {
  if (!s.trainerEnv?.ready) return s.trainerEnvStatus === 'loading' || s.trainerEnvStatus === 'idle' ? 'Checking the trainer environment…' : 'Set up the trainer environment first.';
  if (s.setup?.status === 'running') return 'The trainer environment is being set up.';
  if (!s.form.dataset) return 'Choose a dataset.';
  const item = datasetItemOf(s);
  const health = s.wizardDataset?.dir === s.form.dataset ? s.wizardDataset.detail?.health : undefined;
  const errors = health ? health.counts.errors : (item?.errors ?? 0);
  if (errors > 0 && !s.form.overrideHealth) return `The dataset's health check found ${errors} error(s): fix them, or tick "train anyway".`;
  if (!modelOf(s.form, item?.task)) return s.form.modelSource === 'run' ? 'Choose a previous run.' : 'Give the path of a .pt file.';
  if (s.form.modelSource === 'pt' && !/\.pt$/i.test(s.form.ptPath.trim())) return 'The weights file must be a .pt file.';
  if (!(s.form.imgsz >= 32)) return 'imgsz must be at least 32.';
  if (!(s.form.epochs >= 1)) return 'epochs must be at least 1.';
  return null;
}

export const selectTrainerEnv = (s: State) => s.trainerEnv;
export const selectTrainerEnvStatus = (s: State) => s.trainerEnvStatus;
export const selectTrainerEnvError = (s: State) => s.trainerEnvError;
export const selectSetup = (s: State) => s.setup;
export const selectSetupJob = (s: State) => (s.setup ? s.jobs[s.setup.jobId] : undefined);
export const selectSetupStarting = (s: State) => s.setupStarting;
export const selectForm = (s: State) => s.form;
export const selectWizardStep = (s: State) => s.wizardStep;
export const selectWizardDataset = (s: State) => s.wizardDataset;
export const selectEstimate = (s: State) => s.estimate;
export const selectTrainStarting = (s: State) => s.trainStarting;
export const selectTrainError = (s: State) => s.trainError;
export const selectSweepForm = (s: State) => s.sweepForm;
