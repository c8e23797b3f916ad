/**
 * Long work with progress and cancel. A job function gets a JobContext: report progress, check the
 * signal. The manager turns that into `job.progress` / `job.finished` events for whichever transport
 * listens, throttling progress so a million-item loop does not flood the UI.
 */
import { randomUUID } from 'node:crypto';
import type { JobFinished, JobKind, JobProgress } from '../../shared/contract.js';

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

export interface JobContext {
  readonly signal: AbortSignal;
  /** report progress: `done` of `total` items in the named stage */
  progress(stage: string, done: number, total: number): void;
  /** throws CancelledError when the job was cancelled */
  throwIfCancelled(): void;
}

/** A context for work run outside a manager (tests, library use). */
export function standaloneJob(
  onProgress?: (stage: string, done: number, total: number) => void,
  signal: AbortSignal = new AbortController().signal,
): JobContext {
  return {
    signal,
    progress: (stage, done, total) => onProgress?.(stage, done, total),
    throwIfCancelled() {
      if (signal.aborted) throw new CancelledError();
    },
  };
}

export interface JobEvents {
  progress(p: JobProgress): void;
  finished(f: JobFinished): void;
}

interface Running {
  kind: JobKind;
  controller: AbortController;
  promise: Promise<unknown>;
}

/** How long finished jobs are remembered for clients that (re)connect after the fact. */
const RECENT_MS = 10 * 60_000;
const RECENT_MAX = 20;

export class JobManager {
  private readonly running = new Map<string, Running>();
  private readonly lastProgress = new Map<string, JobProgress>();
  private recent: Array<{ at: number; finished: JobFinished }> = [];

  constructor(
    private readonly events: JobEvents,
    private readonly throttleMs = 100,
  ) {}

  start<T>(kind: JobKind, work: (job: JobContext) => Promise<T>): string {
    const jobId = randomUUID();
    const controller = new AbortController();
    let last = 0;
    let lastStage = '';
    const ctx: JobContext = {
      signal: controller.signal,
      progress: (stage, done, total) => {
        const now = Date.now();
        // always pass stage changes and completion; throttle the rest
        if (stage === lastStage && done < total && now - last < this.throttleMs) return;
        last = now;
        lastStage = stage;
        const p = { jobId, kind, stage, done, total };
        this.lastProgress.set(jobId, p);
        this.events.progress(p);
      },
      throwIfCancelled() {
        if (controller.signal.aborted) throw new CancelledError();
      },
    };
    const promise = (async () => {
      // let the caller receive the job id before any event fires
      await new Promise((r) => setImmediate(r));
      try {
        const result = await work(ctx);
        this.finish({ jobId, kind, status: controller.signal.aborted ? 'cancelled' : 'done', result });
      } catch (err) {
        const cancelled = controller.signal.aborted || err instanceof CancelledError;
        this.finish({
          jobId,
          kind,
          status: cancelled ? 'cancelled' : 'failed',
          error: cancelled ? undefined : err instanceof Error ? err.message : String(err),
        });
      } finally {
        this.running.delete(jobId);
        this.lastProgress.delete(jobId);
      }
    })();
    this.running.set(jobId, { kind, controller, promise });
    return jobId;
  }

  private finish(f: JobFinished): void {
    const now = Date.now();
    this.recent = [...this.recent.filter((r) => now - r.at < RECENT_MS), { at: now, finished: f }].slice(-RECENT_MAX);
    this.events.finished(f);
  }

  /**
   * The state a client that connects now has missed: the last progress of every running job and
   * the jobs that finished in the last minutes. Serve mode replays it to every new WebSocket, so a
   * reconnect never loses a `job.finished`; the UI ignores what it already knows.
   */
  snapshot(): { progress: JobProgress[]; finished: JobFinished[] } {
    const now = Date.now();
    return { progress: [...this.lastProgress.values()], finished: this.recent.filter((r) => now - r.at < RECENT_MS).map((r) => r.finished) };
  }

  cancel(jobId: string): boolean {
    const job = this.running.get(jobId);
    if (!job) return false;
    job.controller.abort();
    return true;
  }

  /** wait for a job to end (tests, CLI) */
  async wait(jobId: string): Promise<void> {
    await this.running.get(jobId)?.promise;
  }

  get active(): number {
    return this.running.size;
  }
}
