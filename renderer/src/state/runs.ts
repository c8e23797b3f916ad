/**
 * Runs: the workspace's run list (runs.list, kept current by runs.changed), the comparison with the
 * baseline, the selected run's detail (runs.get: rows of results.csv, log tail, last event) and the
 * live state of every run this window hears about (run.event), reduced by `applyRunEvent`.
 * Files are the record: the detail is re-read when a run validates an epoch or ends, and while it
 * trains (for the log); the live state only fills in between.
 * Evaluating a run on its test split is an explicit 'evaluate' job (runs.evaluate); its result is kept
 * here by run folder, and the run is then listed as testEvaluated (the test split is spent).
 * Sweeps (runs.sweeps, kept current by sweeps.changed) are listed with their grid results; a sweep
 * this window started ('sweep' job) can be stopped from here.
 */
import type { JobFinished, JobResults, RunComparison, RunDetail, RunMetrics, RunSummary, SweepSummary, TrainerEvent } from '../../../electron/shared/contract';
import { errorMessage } from '../lib/paths';
import type { SliceCreator, State } from './store';

/** What the event stream tells about a run between two reads of its folder. */
export interface LiveRun {
  /** the last set-up message (loading the model, scanning the dataset, …) */
  stage: string | null;
  /** the epoch in progress (1-based; 0 before the first), of `epochs` */
  epoch: number;
  epochs: number;
  epochsDone: number;
  batch: number;
  batches: number;
  /** first observation of this epoch on this client's clock: batch rate for the ETA */
  anchor: { t: number; epoch: number; batch: number } | null;
  /** wall seconds of whole epochs (training and validation) timed here */
  epochSeconds: number[];
  lastEpochStart: number | null;
  gpuMemGb: number | null;
  device: string | null;
  /** per epoch, values under results.csv's column names (train/box_loss, metrics/mAP50-95(B), lr/pg0) */
  rows: Record<number, Record<string, number>>;
  error: { code: string; message: string; hint: string | null } | null;
  finished: boolean;
  updatedAt: number;
}

export const EMPTY_LIVE: LiveRun = {
  stage: null,
  epoch: 0,
  epochs: 0,
  epochsDone: 0,
  batch: 0,
  batches: 0,
  anchor: null,
  epochSeconds: [],
  lastEpochStart: null,
  gpuMemGb: null,
  device: null,
  rows: {},
  error: null,
  finished: false,
  updatedAt: 0,
};

/** results.csv names for an event's train losses ("box_loss" -> "train/box_loss"). */
function trainKeys(rec: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(rec).map(([k, v]) => [k.includes('/') ? k : `train/${k}`, v]));
}

/** The live state after one sidecar event (pure: `now` is the client's clock in ms). */
export function applyRunEvent(prev: LiveRun | undefined, e: TrainerEvent, now: number): LiveRun {
  const l: LiveRun = { ...(prev ?? EMPTY_LIVE), updatedAt: now };
  switch (e.type) {
    case 'hello':
      return { ...l, finished: false, error: null, stage: 'trainer started' };
    case 'setup':
      return { ...l, stage: e.message };
    case 'train_start':
      return {
        ...l,
        stage: null,
        epochs: e.epochs,
        epoch: Math.max(l.epoch, e.start_epoch),
        epochsDone: Math.max(l.epochsDone, e.start_epoch),
        batches: e.batches,
        device: e.device,
      };
    case 'epoch_start': {
      const secs = l.lastEpochStart !== null && e.epoch === l.epoch + 1 ? [...l.epochSeconds, (now - l.lastEpochStart) / 1000] : l.epochSeconds;
      return { ...l, stage: null, epoch: e.epoch, epochs: e.epochs, batch: 0, anchor: { t: now, epoch: e.epoch, batch: 0 }, lastEpochStart: now, epochSeconds: secs };
    }
    case 'batch': {
      const anchor = l.anchor && l.anchor.epoch === e.epoch ? l.anchor : { t: now, epoch: e.epoch, batch: e.batch };
      return { ...l, stage: null, epoch: e.epoch, batch: e.batch, batches: e.batches, anchor, gpuMemGb: e.gpu_mem_gb ?? l.gpuMemGb };
    }
    case 'epoch_end': {
      const row = { ...l.rows[e.epoch], epoch: e.epoch, ...trainKeys(e.losses), ...e.lr };
      return {
        ...l,
        epoch: e.epoch,
        epochs: e.epochs,
        batch: l.batches || l.batch,
        epochsDone: Math.max(l.epochsDone, e.epoch),
        gpuMemGb: e.gpu_mem_gb ?? l.gpuMemGb,
        rows: { ...l.rows, [e.epoch]: row },
      };
    }
    case 'val':
      return { ...l, rows: { ...l.rows, [e.epoch]: { ...l.rows[e.epoch], epoch: e.epoch, ...e.metrics } } };
    case 'done':
      return { ...l, finished: true, stage: null, epochsDone: Math.max(l.epochsDone, e.epochs_completed) };
    case 'error':
      return { ...l, finished: true, error: { code: e.code, message: e.message, hint: e.hint } };
    default:
      return l;
  }
}

/** RunMetrics from a `val` event's Ultralytics names (box metrics); null without mAP. */
export function metricsOfVal(m: Record<string, number>): RunMetrics | null {
  const get = (name: string) => m[`metrics/${name}(B)`] ?? m[`metrics/${name}`];
  const mAP50_95 = get('mAP50-95');
  const mAP50 = get('mAP50');
  if (mAP50_95 === undefined || mAP50 === undefined) return null;
  return { mAP50_95, mAP50, precision: get('precision') ?? 0, recall: get('recall') ?? 0 };
}

/**
 * A listed run as its events move it on: running, epochs done and the best validation so far
 * (runs.changed only comes when a run starts or ends). Returns the same object when nothing changed.
 */
export function patchSummary(r: RunSummary, e: TrainerEvent): RunSummary {
  // the trainer talks: the run trains (a resumed run is listed with its old status until it ends)
  if (r.status !== 'running' && ['hello', 'setup', 'train_start', 'epoch_start', 'batch'].includes(e.type)) return { ...r, status: 'running' };
  if (e.type === 'epoch_end' && e.epoch > r.epochsCompleted) return { ...r, epochsCompleted: e.epoch };
  if (e.type === 'val') {
    const m = metricsOfVal(e.metrics);
    if (m && (!r.metrics || m.mAP50_95 >= r.metrics.mAP50_95)) return { ...r, metrics: m, epochsCompleted: Math.max(r.epochsCompleted, e.epoch) };
  }
  return r;
}

/** Seconds left in the run from the batch rate and epoch times seen; null when unknown. */
export function etaSeconds(l: LiveRun, now: number): number | null {
  if (l.finished || !l.epochs || !l.batches || !l.anchor) return null;
  const doneBatches = l.batch - l.anchor.batch;
  const perBatch = doneBatches > 0 ? (now - l.anchor.t) / 1000 / doneBatches : null;
  const perEpoch = l.epochSeconds.length ? l.epochSeconds.reduce((a, b) => a + b, 0) / l.epochSeconds.length : perBatch !== null ? perBatch * l.batches : null;
  if (perEpoch === null) return null;
  const inEpoch = perBatch !== null ? perBatch * Math.max(0, l.batches - l.batch) : perEpoch * (1 - l.batch / l.batches);
  return inEpoch + Math.max(0, l.epochs - l.epoch) * perEpoch;
}

/** A train job this window started (runs.start or runs.resume), by run folder. */
export interface RunJob {
  jobId: string;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  error?: string;
}

/** An evaluation of a run on its test split this window started (runs.evaluate), by run folder. */
export interface EvalJob {
  jobId: string;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  error?: string;
  result?: JobResults['evaluate'];
}

export interface RunsSlice {
  runs: RunSummary[] | null;
  /** when `runs` was read (running runs' durations count on from there) */
  runsAt: number;
  runsError: string | null;
  baseline: string | null;
  comparison: RunComparison | null;
  comparisonError: string | null;
  /** the run shown (its live view) */
  runDir: string | null;
  runDetail: RunDetail | null;
  runDetailError: string | null;
  live: Record<string, LiveRun>;
  runJobs: Record<string, RunJob>;
  evalJobs: Record<string, EvalJob>;
  /** Stop pressed, until the run ends */
  stopping: Record<string, boolean>;
  runActionBusy: 'stop' | 'resume' | 'baseline' | null;
  runActionError: string | null;
  sweeps: SweepSummary[] | null;
  sweepsError: string | null;
  /** sweep jobs this window started, by sweep id */
  sweepJobs: Record<string, RunJob>;
  loadSweeps(): Promise<void>;
  sweepsChanged(p: { sweeps: SweepSummary[] }): void;
  sweepStarted(id: string, jobId: string): void;
  /** stop the sweep: its current run stops gracefully, the rest are skipped */
  stopSweep(id: string): Promise<void>;
  loadRuns(): Promise<void>;
  /** bumped when a model was deployed (the models list reloads) */
  modelsVersion: number;
  modelDeployed(): void;
  runsChanged(p: { runs: RunSummary[]; baseline: string | null }): void;
  openRun(dir: string | null): Promise<void>;
  /** re-read the shown run's folder */
  refreshRun(): Promise<void>;
  runEvent(p: { dir: string; event: TrainerEvent }): void;
  runStarted(dir: string, jobId: string, label: string | null): void;
  runJobFinished(f: JobFinished): void;
  stopRun(dir: string): Promise<void>;
  resumeRun(dir: string): Promise<void>;
  /** validate the run's best.pt on the test split (the final check: recorded, marks the run) */
  evaluateRun(dir: string): Promise<void>;
  setBaseline(dir: string | null): Promise<void>;
  loadComparison(): Promise<void>;
}

export const createRunsSlice: SliceCreator<RunsSlice> = (set, get, transport) => {
  let detailSeq = 0;
  let compareSeq = 0;
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;
  /** re-read the shown run soon (events come in bursts: epoch_end, val, checkpoint) */
  const refreshSoon = () => {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      void get().refreshRun();
    }, 400);
  };

  return {
    runs: null,
    modelsVersion: 0,
    modelDeployed() {
      set({ modelsVersion: get().modelsVersion + 1 });
    },
    runsAt: 0,
    runsError: null,
    baseline: null,
    comparison: null,
    comparisonError: null,
    runDir: null,
    runDetail: null,
    runDetailError: null,
    live: {},
    runJobs: {},
    evalJobs: {},
    stopping: {},
    runActionBusy: null,
    runActionError: null,
    sweeps: null,
    sweepsError: null,
    sweepJobs: {},

    async loadSweeps() {
      try {
        get().sweepsChanged({ sweeps: await transport.call('runs.sweeps', {}) });
      } catch (e) {
        set({ sweepsError: errorMessage(e) });
      }
    },

    sweepsChanged({ sweeps }) {
      set({ sweeps, sweepsError: null });
    },

    sweepStarted(id, jobId) {
      set({ sweepJobs: { ...get().sweepJobs, [id]: { jobId, status: 'running' } } });
      void get().loadSweeps();
    },

    async stopSweep(id) {
      const job = get().sweepJobs[id];
      if (!job || job.status !== 'running') return;
      await get().cancelJob(job.jobId);
    },

    async loadRuns() {
      try {
        const runs = await transport.call('runs.list', {});
        get().runsChanged({ runs, baseline: runs.find((r) => r.isBaseline)?.dir ?? null });
      } catch (e) {
        set({ runsError: errorMessage(e) });
      }
    },

    runsChanged({ runs, baseline }) {
      const prevBaseline = get().baseline;
      // a run that ended is no longer stopping
      const stopping = Object.fromEntries(Object.entries(get().stopping).filter(([d]) => runs.find((r) => r.dir === d)?.status === 'running'));
      set({ runs, runsAt: Date.now(), baseline, runsError: null, stopping });
      const { runDir, runDetail } = get();
      if (runDir) {
        const r = runs.find((x) => x.dir === runDir);
        if (r && (!runDetail || runDetail.summary.status !== r.status || runDetail.summary.isBaseline !== r.isBaseline)) refreshSoon();
      }
      if (baseline) void get().loadComparison();
      else if (prevBaseline || get().comparison) set({ comparison: null, comparisonError: null });
    },

    async openRun(dir) {
      if (dir === get().runDir) {
        if (dir) await get().refreshRun();
        return;
      }
      set({ runDir: dir, runDetail: null, runDetailError: null, runActionError: null });
      if (dir) await get().refreshRun();
    },

    async refreshRun() {
      const dir = get().runDir;
      if (!dir) return;
      // a run being prepared (preflight) has no folder yet: runs.changed lists it once it has
      if (get().runJobs[dir]?.status === 'running' && !get().runs?.some((r) => r.dir === dir)) return;
      const seq = ++detailSeq;
      try {
        const detail = await transport.call('runs.get', { dir });
        if (seq !== detailSeq || get().runDir !== dir) return;
        const live = get().live[dir];
        // reopened while it trains: the last event seeds the live view until new ones arrive
        const seeded = !live && detail.lastEvent && detail.summary.status === 'running' ? applyRunEvent(undefined, detail.lastEvent, Date.now()) : null;
        set({ runDetail: detail, runDetailError: null, ...(seeded && { live: { ...get().live, [dir]: seeded } }) });
      } catch (e) {
        if (seq !== detailSeq || get().runDir !== dir) return;
        // a run being prepared has no folder yet: its job shows the progress; runs.changed retries
        if (get().runJobs[dir]?.status === 'running') set({ runDetailError: null });
        else set({ runDetailError: errorMessage(e) });
      }
    },

    runEvent({ dir, event }) {
      set({ live: { ...get().live, [dir]: applyRunEvent(get().live[dir], event, Date.now()) } });
      const runs = get().runs;
      const i = runs?.findIndex((r) => r.dir === dir) ?? -1;
      if (runs && i >= 0) {
        const patched = patchSummary(runs[i]!, event);
        if (patched !== runs[i]) set({ runs: runs.map((r, j) => (j === i ? patched : r)) });
      }
      if (dir === get().runDir && ['train_start', 'val', 'done', 'error'].includes(event.type)) refreshSoon();
    },

    runStarted(dir, jobId) {
      const { [dir]: _old, ...live } = get().live;
      // a resume keeps what was learnt of the rows; a new run starts empty
      set({
        runJobs: { ...get().runJobs, [dir]: { jobId, status: 'running' } },
        live: _old ? { ...live, [dir]: { ...EMPTY_LIVE, rows: _old.rows, epochSeconds: [] } } : live,
        runActionError: null,
      });
    },

    runJobFinished(f) {
      if (f.kind === 'evaluate') {
        const entry = Object.entries(get().evalJobs).find(([, j]) => j.jobId === f.jobId);
        if (entry) {
          const [dir, job] = entry;
          const result = f.status === 'done' ? (f.result as JobResults['evaluate'] | undefined) : undefined;
          set({ evalJobs: { ...get().evalJobs, [dir]: { ...job, status: f.status, error: f.error, result } } });
        }
        // the record changed (evaluations, test_evaluated, summary.md), whoever started it
        if (get().runDir) refreshSoon();
        void get().loadRuns();
        return;
      }
      if (f.kind === 'sweep') {
        const sweepEntry = Object.entries(get().sweepJobs).find(([, j]) => j.jobId === f.jobId);
        if (sweepEntry) set({ sweepJobs: { ...get().sweepJobs, [sweepEntry[0]]: { ...sweepEntry[1], status: f.status, error: f.error } } });
        if (get().runDir) refreshSoon();
        void get().loadRuns();
        void get().loadSweeps();
        return;
      }
      if (f.kind !== 'train') return;
      const entry = Object.entries(get().runJobs).find(([, j]) => j.jobId === f.jobId);
      if (!entry) {
        if (get().runDir) refreshSoon();
        return;
      }
      const [dir, job] = entry;
      set({ runJobs: { ...get().runJobs, [dir]: { ...job, status: f.status, error: f.error } } });
      const { [dir]: _s, ...stopping } = get().stopping;
      set({ stopping });
      if (dir === get().runDir) refreshSoon();
      void get().loadRuns();
    },

    async stopRun(dir) {
      set({ runActionBusy: 'stop', runActionError: null });
      try {
        const { stopping } = await transport.call('runs.stop', { dir });
        if (stopping) set({ stopping: { ...get().stopping, [dir]: true } });
        else set({ runActionError: 'This Spotter process is not training that run (it may have been started from the command line, or it just ended).' });
      } catch (e) {
        set({ runActionError: errorMessage(e) });
      } finally {
        set({ runActionBusy: null });
      }
    },

    async resumeRun(dir) {
      set({ runActionBusy: 'resume', runActionError: null });
      try {
        const { jobId, early } = await get().startJob('train', () => transport.call('runs.resume', { dir }));
        get().runStarted(dir, jobId, null);
        if (early) get().runJobFinished(early);
        get().pruneJobs();
        refreshSoon();
      } catch (e) {
        set({ runActionError: errorMessage(e) });
      } finally {
        set({ runActionBusy: null });
      }
    },

    async evaluateRun(dir) {
      if (get().evalJobs[dir]?.status === 'running') return;
      set({ runActionError: null });
      try {
        const { jobId, early } = await get().startJob('evaluate', () => transport.call('runs.evaluate', { dir, split: 'test' }));
        set({ evalJobs: { ...get().evalJobs, [dir]: { jobId, status: 'running' } } });
        if (early) get().runJobFinished(early);
        get().pruneJobs();
      } catch (e) {
        set({ runActionError: errorMessage(e) });
      }
    },

    async setBaseline(dir) {
      set({ runActionBusy: 'baseline', runActionError: null });
      try {
        await transport.call('runs.setBaseline', { dir });
        await get().loadRuns();
      } catch (e) {
        set({ runActionError: errorMessage(e) });
      } finally {
        set({ runActionBusy: null });
      }
    },

    async loadComparison() {
      const seq = ++compareSeq;
      const base = get().runs?.find((r) => r.isBaseline);
      if (!base?.metrics) {
        set({ comparison: null, comparisonError: base ? 'The baseline has no metrics yet (it ended before its first validation).' : null });
        return;
      }
      try {
        const comparison = await transport.call('runs.compare', {});
        if (seq === compareSeq) set({ comparison, comparisonError: null });
      } catch (e) {
        if (seq === compareSeq) set({ comparison: null, comparisonError: errorMessage(e) });
      }
    },
  };
};

export const selectRuns = (s: State) => s.runs;
export const selectModelsVersion = (s: State) => s.modelsVersion;
export const selectSweeps = (s: State) => s.sweeps;
export const selectSweepsError = (s: State) => s.sweepsError;
export const selectSweepJob = (id: string) => (s: State) => s.sweepJobs[id];
export const selectRunsAt = (s: State) => s.runsAt;
export const selectRunsError = (s: State) => s.runsError;
export const selectBaseline = (s: State) => s.baseline;
export const selectComparison = (s: State) => s.comparison;
export const selectComparisonError = (s: State) => s.comparisonError;
export const selectRunDir = (s: State) => s.runDir;
export const selectRunDetail = (s: State) => (s.runDetail && s.runDetail.summary.dir === s.runDir ? s.runDetail : null);
export const selectRunDetailError = (s: State) => s.runDetailError;
export const selectRunActionBusy = (s: State) => s.runActionBusy;
export const selectRunActionError = (s: State) => s.runActionError;
export const selectLive = (dir: string | null) => (s: State) => (dir ? s.live[dir] : undefined);
export const selectRunJob = (dir: string | null) => (s: State) => (dir ? s.runJobs[dir] : undefined);
export const selectRunJobProgress = (dir: string | null) => (s: State) => {
  const j = dir ? s.runJobs[dir] : undefined;
  return j ? s.jobs[j.jobId] : undefined;
};
export const selectEvalJob = (dir: string | null) => (s: State) => (dir ? s.evalJobs[dir] : undefined);
export const selectEvalJobProgress = (dir: string | null) => (s: State) => {
  const j = dir ? s.evalJobs[dir] : undefined;
  return j ? s.jobs[j.jobId] : undefined;
};
/**
 * Runs of a dataset (`dataset`: its data.yaml or the folder holding it) whose test split was
 * evaluated: its test numbers are no longer an unbiased final check. Use with useShallow.
 */
export const selectTestSpentBy = (dataset: string | null | undefined) => (s: State): RunSummary[] => {
  if (!dataset || !s.runs) return EMPTY_RUNS;
  const norm = (p: string) => p.replace(/\\/g, '/').replace(/\/+$/, '');
  const d = norm(dataset);
  const hit = s.runs.filter((r) => {
    if (!r.testEvaluated) return false;
    const y = norm(r.dataset);
    return y === d || y.slice(0, y.lastIndexOf('/')) === d;
  });
  return hit.length ? hit : EMPTY_RUNS;
};
const EMPTY_RUNS: RunSummary[] = [];
export const selectStopping = (dir: string | null) => (s: State) => (dir ? !!s.stopping[dir] : false);
/** The summary of a run from the list (fresher than the detail between two reads). */
export const selectRunSummary = (dir: string | null) => (s: State) => s.runs?.find((r) => r.dir === dir) ?? null;
/** The comparison row of a run (when a baseline with metrics exists and the run has metrics). */
export const selectRunComparison = (dir: string | null) => (s: State) => s.comparison?.runs.find((r) => r.run.dir === dir) ?? null;
/** Runs whose weights can seed a fine-tune: they validated at least one epoch. */
export const selectFinetuneSources = (s: State) => s.runs?.filter((r) => r.epochsCompleted > 0 && r.status !== 'running') ?? [];
