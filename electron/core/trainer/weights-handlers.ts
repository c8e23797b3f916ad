/**
 * The weights.* calls: whether pretrained weights of an architecture are here or can be downloaded,
 * and downloading them as a 'download' job (one per file at a time).
 */
import type { CallHandlers, JobResults } from '../../shared/contract.js';
import type { HandlerDeps } from '../deps.js';
import { downloadPretrained, pretrainedInfo, pretrainedName } from './weights.js';

type WeightsCall = Extract<keyof CallHandlers, `weights.${string}`>;
export type WeightsHandlers = Pick<CallHandlers, WeightsCall>;

export function createWeightsHandlers(deps: HandlerDeps): WeightsHandlers {
  const { ctx, jobs } = deps;
  const downloading = new Set<string>();
  return {
    'weights.pretrained': async ({ model }) => pretrainedInfo(ctx, model),
    'weights.download': async ({ model }) => {
      const name = pretrainedName(model);
      if (downloading.has(name)) throw new Error(`${name} is being downloaded already`);
      downloading.add(name);
      const jobId = jobs.start('download', async (job): Promise<JobResults['download']> => {
        try {
          return await downloadPretrained(ctx, name, job);
        } finally {
          downloading.delete(name);
        }
      });
      return { jobId };
    },
  };
}
