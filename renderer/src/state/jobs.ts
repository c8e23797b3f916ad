/**
 * Long-running jobs (inspect, import, check) as the core reports them. A job may finish before the
 * call that started it returns (events and responses travel separately), so entries are created by
 * whichever arrives first and the owning slice re-checks after it learns the job id.
 *
 * A slice owns a job while it holds its id (inspectJobId, runJobId, checkJobId). Serve mode replays
 * the progress of running jobs and recent job.finished events on every (re)connect, so jobs nobody
 * here owns show up too: running ones are listed in the navbar (with Cancel); finished ones are
 * pruned once their owner consumed them, so the map never keeps full results around.
 */
import type { JobFinished, JobKind, JobProgress } from '../../../electron/shared/contract';
import { errorMessage } from '../lib/paths';
import type { SliceCreator, State } from './store';

export interface JobState {
  jobId: string;
  kind: JobKind;
  stage: string;
  done: number;
  total: number;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  error?: string;
  result?: unknown;
  cancelling?: boolean;
}

export interface JobsSlice {
  jobs: Record<string, JobState>;
  jobStarted(jobId: string, kind: JobKind): void;
  /**
   * Start a job through `start` (the call that returns its id) and track it. `early` is its
   * job.finished when that event overtook the call's response: the caller handles it as if it had
   * arrived after.
   */
  startJob(kind: JobKind, start: () => Promise<{ jobId: string }>): Promise<{ jobId: string; early: JobFinished | null }>;
  jobProgress(p: JobProgress): void;
  /** Record a job's end; false when it was already handled (a replay) or pruned before. */
  jobFinished(f: JobFinished): boolean;
  cancelJob(jobId: string): Promise<void>;
  /**
   * Drop finished jobs no slice owns and the results of owned ones (their owner has consumed them
   * by now). Jobs finished while a start call is pending are kept: one of them may be its `early`.
   */
  pruneJobs(): void;
}

/** Ids of pruned jobs: late or replayed events about them are ignored. Bounded, oldest out first. */
const FORGOTTEN_MAX = 500;

export const createJobsSlice: SliceCreator<JobsSlice> = (set, get, transport) => {
  let pendingStarts = 0;
  const forgotten = new Set<string>();
  const forget = (jobId: string) => {
    forgotten.add(jobId);
    if (forgotten.size > FORGOTTEN_MAX) forgotten.delete(forgotten.values().next().value!);
  };

  return {
    jobs: {},

    jobStarted(jobId, kind) {
      if (get().jobs[jobId]) return;
      set((s) => ({ jobs: { ...s.jobs, [jobId]: { jobId, kind, stage: 'starting', done: 0, total: 0, status: 'running' } } }));
    },

    async startJob(kind, start) {
      pendingStarts++;
      try {
        const { jobId } = await start();
        forgotten.delete(jobId);
        get().jobStarted(jobId, kind);
        return { jobId, early: finishedEventOf(get().jobs[jobId]) };
      } finally {
        pendingStarts--;
      }
    },

    jobProgress(p) {
      if (forgotten.has(p.jobId)) return;
      set((s) => {
        const prev = s.jobs[p.jobId];
        if (prev && prev.status !== 'running') return s; // a late progress event after finish
        return {
          jobs: {
            ...s.jobs,
            [p.jobId]: { ...prev, jobId: p.jobId, kind: p.kind, stage: p.stage, done: p.done, total: p.total, status: 'running' },
          },
        };
      });
    },

    jobFinished(f) {
      const known = get().jobs[f.jobId];
      if (forgotten.has(f.jobId) || (known && known.status !== 'running')) return false;
      set((s) => {
        const prev = s.jobs[f.jobId];
        return {
          jobs: {
            ...s.jobs,
            [f.jobId]: {
              stage: f.status,
              done: prev?.total ?? 0,
              total: prev?.total ?? 0,
              ...prev,
              jobId: f.jobId,
              kind: f.kind,
              status: f.status,
              error: f.error,
              result: f.result,
              cancelling: false,
            },
          },
        };
      });
      return true;
    },

    async cancelJob(jobId) {
      const job = get().jobs[jobId];
      if (!job || job.status !== 'running' || job.cancelling) return;
      set((s) => ({ jobs: { ...s.jobs, [jobId]: { ...job, cancelling: true } } }));
      try {
        await transport.call('jobs.cancel', { jobId });
      } catch (e) {
        set((s) => ({ jobs: { ...s.jobs, [jobId]: { ...job, cancelling: false, error: errorMessage(e) } } }));
      }
    },

    pruneJobs() {
      const s = get();
      const owned = new Set(ownedJobIds(s));
      let changed = false;
      const jobs: Record<string, JobState> = {};
      for (const [id, job] of Object.entries(s.jobs)) {
        if (job.status === 'running') jobs[id] = job;
        else if (owned.has(id)) {
          if (job.result !== undefined) changed = true;
          jobs[id] = job.result === undefined ? job : { ...job, result: undefined };
        } else if (pendingStarts > 0) jobs[id] = job;
        else {
          changed = true;
          forget(id);
        }
      }
      if (changed) set({ jobs });
    },
  };
};

/** Rebuild the finished event of a job already recorded (see the note at the top). */
export function finishedEventOf(job: JobState | undefined): JobFinished | null {
  if (!job || job.status === 'running') return null;
  return { jobId: job.jobId, kind: job.kind, status: job.status, error: job.error, result: job.result };
}

/** The jobs some slice holds the id of. */
/** the Review page's own jobs: predictions (its model and the baseline's) and the labelling batch */
function reviewJobIds(s: State): string[] {
  return [s.reviewPredictJob?.jobId, s.reviewBaseline?.job?.jobId, s.reviewBatch?.jobId].filter((id): id is string => !!id);
}

function ownedJobIds(s: State): string[] {
  return [s.inspectJobId, s.runJobId, s.checkJobId, s.evalSetJobId, ...reviewJobIds(s)].filter((id): id is string => !!id);
}

/** The jobs the current page shows itself (with progress and Cancel). */
function pageJobIds(s: State): string[] {
  if (s.page.name === 'import') return [s.inspectJobId, s.runJobId].filter((id): id is string => !!id);
  if (s.page.name === 'dataset' && s.page.dir === s.datasetDir) return [s.checkJobId, s.evalSetJobId].filter((id): id is string => !!id);
  if (s.page.name === 'review') return reviewJobIds(s);
  return [];
}

export const selectJob = (jobId: string | null | undefined) => (s: State) => (jobId ? s.jobs[jobId] : undefined);
export const selectRunningJobCount = (s: State) =>
  Object.values(s.jobs).reduce((n, j) => n + (j.status === 'running' ? 1 : 0), 0);
/**
 * Running jobs the current page does not show: another page's (an import while on Home) or nobody's
 * (replayed after a reload, or a check of a dataset since closed). Use with useShallow.
 */
export const selectBackgroundJobs = (s: State): JobState[] => {
  const shown = new Set(pageJobIds(s));
  return Object.values(s.jobs).filter((j) => j.status === 'running' && !shown.has(j.jobId));
};
/** Whether a slice owns the job (then its page can show it). */
export const selectJobOwned = (jobId: string) => (s: State) => ownedJobIds(s).includes(jobId);
