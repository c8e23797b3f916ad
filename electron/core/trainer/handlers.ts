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
import { evaluateRun, readEvaluations } from './evaluate.js';
import { compareRuns, estimateRun } from './reports.js';
import { checkResumable, getBaseline, RunStartError, listRuns, prepareRun, readRunDetail, reserveRunDir, runsDir, setBaseline, trainRun, type TrainOutcome, type TrainRequestParsed } from './runs.js';
import { createSweep, listSweeps, planSweep, runSweep, type TrainOne } from './sweep.js';
import { timingSource } from './bench.js';

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
  /** runs of a sweep: stopping one stops that run alone (the sweep goes on) */
  const sweepRunStops = new Map<string, () => void>();
  let setupJob: string | null = null;
  let envCache: { at: number; env: EnvReport | null; python: string | null } | null = null;

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

  const sweepsChanged = async () => {
    try {
      emit('sweeps.changed', { sweeps: await listSweeps(o.workspace(), activeSet) });
    } catch (err) {
      ctx.logger.warn(`sweeps.changed: ${(err as Error).message}`);
    }
  };

  type Prepare = (job: JobContext, python: string, env: EnvReport) => Promise<void>;
  /**
   * The one path a run trains by (runs.start, runs.resume and every run of a sweep): the ready
   * environment, the run folder prepared (a new run) or not (a resume), events out as `run.event`.
   */
  const trainInJob = async (job: JobContext, dir: string, prepare: Prepare | null): Promise<TrainOutcome> => {
    const { python, env } = await requireReadyEnv(ctx);
    envCache = { at: Date.now(), env, python };
    if (prepare) await prepare(job, python, env);
    void changed();
    const onEvent = (event: TrainerEvent) => {
      emit('run.event', { dir, event });
      // the record says `running` once training starts (a resumed run was `stopped` until now)
      if (event.type === 'train_start') void changed();
    };
    return trainRun(ctx, dir, python, job, { onEvent }, { resume: !prepare });
  };

  const trainJob = (dir: string, prepare: Prepare | null) => {
    let jobId = '';
    jobId = jobs.start('train', async (job): Promise<RunSummary> => {
      const release = o.keepAwake?.(`Spotter is training ${path.basename(dir)}`);
      try {
        const out = await trainInJob(job, dir, prepare);
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
      envCache = { at: Date.now(), env: s.env, python: s.ready ? s.python : null };
      return s;
    },
    'trainer.setup': async ({ repair, wheelhouse }) => {
      if (setupJob) return { jobId: setupJob };
      let jobId = '';
      jobId = jobs.start('env-setup', async (job) => {
        try {
          const s = await setupEnv(ctx, { repair, wheelhouse }, job, (line) => emit('trainer.setupLog', { jobId, line }));
          envCache = { at: Date.now(), env: s.env, python: s.ready ? s.python : null };
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
      let cached = envCache && Date.now() - envCache.at < 5 * 60_000 ? envCache : null;
      if (!cached) {
        const s = await envStatus(ctx);
        cached = envCache = { at: Date.now(), env: s.env, python: s.ready ? s.python : null };
      }
      const { env, python } = cached;
      // a short timing on this machine when no earlier run compares; never while something trains
      // (it would slow the training down and time a busy machine)
      const timing = env && python ? timingSource(ctx, python, env, { busy: active.size > 0 ? 'a run is training now' : null }) : undefined;
      return estimateRun(o.workspace(), TrainRequest.parse(req) as TrainRequestParsed, env, { timing });
    },
    'runs.stop': async ({ dir }) => {
      const abs = runDir(dir);
      const stopOne = sweepRunStops.get(abs);
      if (stopOne) {
        stopOne();
        return { stopping: true };
      }
      const jobId = active.get(abs);
      return { stopping: jobId ? jobs.cancel(jobId) : false };
    },
    // a 'sweep' job: the grid's runs one after the other, through the same path as runs.start
    'runs.sweep': async ({ request, grid, label }) => {
      const ws = o.workspace();
      const plan = planSweep({ request, grid, label });
      const sweep = await createSweep(ctx, ws, plan);
      const trainOne: TrainOne = async ({ dir, request: req, sweep: id, job }) =>
        trainInJob(job, dir, async (j, python, env) => {
          await prepareRun(ctx, dir, req, { python, report: env }, j, { sweep: id });
        });
      let jobId = '';
      jobId = jobs.start('sweep', async (job): Promise<JobResults['sweep']> => {
        const release = o.keepAwake?.(`Spotter is training the sweep ${sweep.id}`);
        try {
          return await runSweep(ctx, ws, sweep, plan, job, {
            trainOne,
            onChange: () => void sweepsChanged(),
            onRunStart: (dir, stop) => {
              active.set(dir, jobId);
              sweepRunStops.set(dir, stop);
            },
            onRunEnd: (dir) => {
              active.delete(dir);
              sweepRunStops.delete(dir);
              void changed();
            },
          });
        } finally {
          release?.();
          void changed();
          void sweepsChanged();
        }
      });
      void sweepsChanged();
      return { jobId, sweep: sweep.id };
    },
    'runs.sweeps': async () => listSweeps(o.workspace(), activeSet),
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
    'runs.evaluations': async ({ dir }) => readEvaluations(runDir(dir)),
    'runs.setBaseline': async ({ dir }) => {
      const baseline = await setBaseline(o.workspace(), dir === null ? null : runDir(dir));
      void changed();
      return { baseline };
    },
    'runs.compare': async ({ baseline, runs, threshold }) =>
      compareRuns(o.workspace(), { baseline: baseline ? runDir(baseline) : undefined, runs: runs.map(runDir), threshold }),
  };
}
