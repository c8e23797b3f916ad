/**
 * The models.* calls: the export formats (available / missing packages / blocked here), exporting a run
 * as an 'export' job, installing a format's packages as an 'install' job (pip's lines go out as
 * `trainer.setupLog` events with the job id), deploying an export into the workspace's models/ as the next
 * version as a 'deploy' job (exporting ONNX first when the run has none), and the list of deployed models.
 */
import path from 'node:path';
import type { CallHandlers, JobResults } from '../../shared/contract.js';
import type { HandlerDeps } from '../deps.js';
import { isInside } from '../fsutil.js';
import { runsDir } from '../trainer/runs.js';
import { deployModel, listDeployed } from './deploy.js';
import { exportModel } from './export.js';
import { installFormat, listFormats, normalizeFormat } from './formats.js';

type ModelsCall = Extract<keyof CallHandlers, `models.${string}`>;
export type ModelsHandlers = Pick<CallHandlers, ModelsCall>;

export function createModelsHandlers(deps: HandlerDeps): ModelsHandlers {
  const { ctx, emit, jobs } = deps;
  /** runs being exported (absolute folders) */
  const exporting = new Set<string>();
  let installJob: string | null = null;

  /** a run folder named by the UI: only inside this workspace's runs/ */
  const runDir = (dir: string) => {
    const abs = path.resolve(dir);
    if (!isInside(runsDir(deps.workspace()), abs)) throw new Error(`${abs}: not a run of the workspace ${deps.workspace()}`);
    return abs;
  };

  return {
    'models.formats': async () => listFormats(ctx),
    'models.export': async ({ dir, format, imgsz, half, int8, dynamic, simplify, nms }) => {
      const abs = runDir(dir);
      if (exporting.has(abs)) throw new Error(`${abs}: an export of this run is already running`);
      exporting.add(abs);
      const jobId = jobs.start('export', async (job): Promise<JobResults['export']> => {
        try {
          return await exportModel(ctx, abs, { format: normalizeFormat(format), imgsz, half, int8, dynamic, simplify, nms }, job);
        } finally {
          exporting.delete(abs);
        }
      });
      return { jobId };
    },
    'models.install': async ({ format }) => {
      if (installJob) throw new Error('another export format is being installed; wait for it to finish');
      let jobId = '';
      jobId = jobs.start('install', async (job): Promise<JobResults['install']> => {
        try {
          return await installFormat(ctx, format, job, (line) => emit('trainer.setupLog', { jobId, line }));
        } finally {
          installJob = null;
        }
      });
      installJob = jobId;
      return { jobId };
    },
    'models.deploy': async ({ dir, file, name }) => {
      const abs = runDir(dir);
      if (exporting.has(abs)) throw new Error(`${abs}: an export of this run is running; deploy once it has finished`);
      exporting.add(abs);
      // a job: without an ONNX export yet, deploying exports it first (a minute, with progress)
      const jobId = jobs.start('deploy', async (job): Promise<JobResults['deploy']> => {
        try {
          return await deployModel(ctx, deps.workspace(), { dir: abs, file, name }, job);
        } finally {
          exporting.delete(abs);
        }
      });
      return { jobId };
    },
    'models.list': async () => listDeployed(deps.workspace()),
  };
}
