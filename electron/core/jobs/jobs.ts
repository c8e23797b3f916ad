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

export class JobManager {
  private readonly running = new Map<string, Running>();

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
        this.events.progress({ jobId, kind, stage, done, total });
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
        this.events.finished({ jobId, kind, status: controller.signal.aborted ? 'cancelled' : 'done', result });
      } catch (err) {
        const cancelled = controller.signal.aborted || err instanceof CancelledError;
        this.events.finished({
          jobId,
          kind,
          status: cancelled ? 'cancelled' : 'failed',
          error: cancelled ? undefined : err instanceof Error ? err.message : String(err),
        });
      } finally {
        this.running.delete(jobId);
      }
    })();
    this.running.set(jobId, { kind, controller, promise });
    return jobId;
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
