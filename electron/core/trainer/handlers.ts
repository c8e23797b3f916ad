/**
 * The trainer.* and runs.* calls of the contract. Training runs as a 'train' job: runs.start answers
 * at once with the job id and the run folder it will use (runs.evaluate likewise, as an 'evaluate'
 * job); every sidecar event goes out as `run.event`, and `runs.changed` fires when a run starts or ends or the baseline moves. The computer is kept awake
 * while anything trains.
 */
import path from 'node:path';
import type { CallHandlers, JobResults, RunSummary } from '../../shared/contract.js';
import { TrainRequest } from '../../shared/contract.js';
import type { EnvReport, TrainerEvent } from '../../shared/trainer.js';
import type { Emit } from '../api.js';
import type { CoreContext } from '../context.js';
import { isInside } from '../fsutil.js';
import type { JobContext, JobManager } from '../jobs/jobs.js';
import { envStatus, requireReadyEnv, setupEnv } from './env.js';
import { evaluateRun } from './export.js';
import { compareRuns, estimateRun } from './reports.js';
import { checkResumable, getBaseline, RunStartError, listRuns, prepareRun, readRunDetail, reserveRunDir, runsDir, setBaseline, trainRun, type TrainRequestParsed } from './runs.js';

export interface TrainerHandlerOptions {
  ctx: CoreContext;
  emit: Emit;
  jobs: JobManager;
  workspace: () => string;
  keepAwake?: (reason: string) => () => void;
}

type TrainerCall = Extract<keyof CallHandlers, `trainer.${string}` | `runs.${string}`>;
export type TrainerHandlers = Pick<CallHandlers, TrainerCall>;

export function createTrainerHandlers(o: TrainerHandlerOptions): TrainerHandlers {
  const { ctx, emit, jobs } = o;
  /** runs this process trains, by absolute folder → job id */
  const active = new Map<string, string>();
  /** runs being evaluated (absolute folders) */
  const evaluating = new Set<string>();
  const activeSet = { has: (d: string) => active.has(path.resolve(d)) } as ReadonlySet<string>;
  let setupJob: string | null = null;
  let envCache: { at: number; env: EnvReport | null } | null = null;

  /** a run folder named by the UI: only inside this workspace's runs/ */
  const runDir = (dir: string) => {
    const abs = path.resolve(dir);
    if (!isInside(runsDir(o.workspace()), abs)) throw new Error(`${abs}: not a run of the workspace ${o.workspace()}`);
    return abs;
  };
  const changed = async () => {
    const ws = o.workspace();
    try {
      emit('runs.changed', { runs: await listRuns(ws, activeSet), baseline: await getBaseline(ws) });
    } catch (err) {
      ctx.logger.warn(`runs.changed: ${(err as Error).message}`);
    }
  };

  const trainJob = (dir: string, prepare: ((job: JobContext, python: string, env: EnvReport) => Promise<void>) | null) => {
    let jobId = '';
    jobId = jobs.start('train', async (job): Promise<RunSummary> => {
      const release = o.keepAwake?.(`Spotter is training ${path.basename(dir)}`);
      try {
        const { python, env } = await requireReadyEnv(ctx);
        envCache = { at: Date.now(), env };
        if (prepare) await prepare(job, python, env);
        void changed();
        const onEvent = (event: TrainerEvent) => {
          emit('run.event', { dir, event });
          // the record says `running` once training starts (a resumed run was `stopped` until now)
          if (event.type === 'train_start') void changed();
        };
        const out = await trainRun(ctx, dir, python, job, { onEvent }, { resume: !prepare });
        if (out.status === 'failed' && out.failure) {
          throw new Error(`${out.failure.message}${out.failure.hint ? ` — ${out.failure.hint}` : ''}${out.restored ? ' (the run was left as it was)' : ''}`);
        }
        return out.summary;
      } catch (err) {
        if (err instanceof RunStartError && err.hint) throw new Error(`${err.message} — ${err.hint}`);
        throw err;
      } finally {
        active.delete(dir);
        release?.();
        void changed();
      }
    });
    active.set(dir, jobId);
    return jobId;
  };

  return {
    'trainer.env': async () => {
      const s = await envStatus(ctx);
      envCache = { at: Date.now(), env: s.env };
      return s;
    },
    'trainer.setup': async ({ repair, wheelhouse }) => {
      if (setupJob) return { jobId: setupJob };
      let jobId = '';
      jobId = jobs.start('env-setup', async (job) => {
        try {
          const s = await setupEnv(ctx, { repair, wheelhouse }, job, (line) => emit('trainer.setupLog', { jobId, line }));
          envCache = { at: Date.now(), env: s.env };
          return s;
        } finally {
          setupJob = null;
        }
      });
      setupJob = jobId;
      return { jobId };
    },
    'runs.list': async () => listRuns(o.workspace(), activeSet),
    'runs.get': async ({ dir }) => readRunDetail(runDir(dir), o.workspace(), activeSet),
    'runs.start': async (req) => {
      const ws = o.workspace();
      const dir = reserveRunDir(ws, req.label, req);
      const jobId = trainJob(dir, async (job, python, env) => {
        await prepareRun(ctx, dir, req, { python, report: env }, job);
      });
      return { jobId, dir };
    },
    'runs.estimate': async (req) => {
      let env = envCache && Date.now() - envCache.at < 5 * 60_000 ? envCache.env : undefined;
      if (env === undefined) {
        env = (await envStatus(ctx)).env;
        envCache = { at: Date.now(), env };
      }
      return estimateRun(o.workspace(), TrainRequest.parse(req) as TrainRequestParsed, env);
    },
    'runs.stop': async ({ dir }) => {
      const jobId = active.get(runDir(dir));
      return { stopping: jobId ? jobs.cancel(jobId) : false };
    },
    'runs.resume': async ({ dir }) => {
      const abs = runDir(dir);
      if (active.has(abs)) throw new Error(`${abs}: the run is already training`);
      if (evaluating.has(abs)) throw new Error(`${abs}: the run is being evaluated`);
      await checkResumable(abs).catch((err: unknown) => {
        throw err instanceof RunStartError && err.hint ? new Error(`${err.message} — ${err.hint}`) : err;
      });
      return { jobId: trainJob(abs, null), dir: abs };
    },
    // an 'evaluate' job (an explicit, recorded action: the test split marks the run test_evaluated);
    // its result is the contract's Evaluation (JobResults['evaluate'])
    'runs.evaluate': async ({ dir, split }) => {
      const abs = runDir(dir);
      if (active.has(abs)) throw new Error(`${abs}: the run is training; evaluate it once it has ended`);
      if (evaluating.has(abs)) throw new Error(`${abs}: the run is already being evaluated`);
      evaluating.add(abs);
      const jobId = jobs.start('evaluate', async (job): Promise<JobResults['evaluate']> => {
        try {
          return await evaluateRun(ctx, abs, split, job);
        } finally {
          evaluating.delete(abs);
          void changed();
        }
      });
      return { jobId, dir: abs };
    },
    'runs.setBaseline': async ({ dir }) => {
      const baseline = await setBaseline(o.workspace(), dir === null ? null : runDir(dir));
      void changed();
      return { baseline };
    },
    'runs.compare': async ({ baseline, runs, threshold }) =>
      compareRuns(o.workspace(), { baseline: baseline ? runDir(baseline) : undefined, runs: runs.map(runDir), threshold }),
  };
}
