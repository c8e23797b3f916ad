/**
 * What every group of call handlers is given (trainer, predict, review, models): the core context,
 * the event emitter, the job manager and the current workspace.
 */
import type { EventName, EventPayloads } from '../shared/contract.js';
import type { CoreContext } from './context.js';
import type { JobManager } from './jobs/jobs.js';

export type Emit = <E extends EventName>(event: E, payload: EventPayloads[E]) => void;

export interface HandlerDeps {
  ctx: CoreContext;
  emit: Emit;
  jobs: JobManager;
  /** the workspace in use now (it can change while the app runs) */
  workspace: () => string;
  /** keep the computer awake while something long runs; returns the release function */
  keepAwake?: (reason: string) => () => void;
}
