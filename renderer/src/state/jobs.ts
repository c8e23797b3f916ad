/**
 * Long-running jobs (inspect, import, check) as the core reports them. A job may finish before the
 * call that started it returns (events and responses travel separately), so entries are created by
 * whichever arrives first and the owning slice re-checks after it learns the job id.
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
  jobFinished(f: JobFinished): void;
  cancelJob(jobId: string): Promise<void>;
}

export const createJobsSlice: SliceCreator<JobsSlice> = (set, get, transport) => ({
  jobs: {},

  jobStarted(jobId, kind) {
    if (get().jobs[jobId]) return;
    set((s) => ({ jobs: { ...s.jobs, [jobId]: { jobId, kind, stage: 'starting', done: 0, total: 0, status: 'running' } } }));
  },

  async startJob(kind, start) {
    const { jobId } = await start();
    get().jobStarted(jobId, kind);
    return { jobId, early: finishedEventOf(get().jobs[jobId]) };
  },

  jobProgress(p) {
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
  },

  async cancelJob(jobId) {
    const job = get().jobs[jobId];
    if (!job || job.status !== 'running') return;
    set((s) => ({ jobs: { ...s.jobs, [jobId]: { ...job, cancelling: true } } }));
    try {
      await transport.call('jobs.cancel', { jobId });
    } catch (e) {
      set((s) => ({ jobs: { ...s.jobs, [jobId]: { ...job, cancelling: false, error: errorMessage(e) } } }));
    }
  },
});

/** Rebuild the finished event of a job already recorded (see the note at the top). */
export function finishedEventOf(job: JobState | undefined): JobFinished | null {
  if (!job || job.status === 'running') return null;
  return { jobId: job.jobId, kind: job.kind, status: job.status, error: job.error, result: job.result };
}

export const selectJob = (jobId: string | null | undefined) => (s: State) => (jobId ? s.jobs[jobId] : undefined);
export const selectRunningJobCount = (s: State) =>
  Object.values(s.jobs).reduce((n, j) => n + (j.status === 'running' ? 1 : 0), 0);
