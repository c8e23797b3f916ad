/**
 * The review.* calls this module owns: 'review.exportBatch' writes the next labelling batch for
 * CVAT as a 'batch' job, from the cached predictions of a model on a source (predict first).
 */
import path from 'node:path';
import type { CallHandlers, JobResults } from '../../shared/contract.js';
import type { HandlerDeps } from '../deps.js';
import { getReviewSet } from '../predict/cache.js';
import { writeBatch } from './batch.js';

export type ReviewBatchHandlers = Pick<CallHandlers, 'review.exportBatch'>;

/** Default folder of labelling batches: `<workspace>/batches`. */
export function batchesDir(workspace: string): string {
  return path.join(workspace, 'batches');
}

export function createReviewHandlers(deps: HandlerDeps): ReviewBatchHandlers {
  return {
    'review.exportBatch': async ({ source, selection, format, conf, out }) => {
      const jobId = deps.jobs.start('batch', async (job): Promise<JobResults['batch']> => {
        job.progress('Loading predictions', 0, 1);
        const set = await getReviewSet(deps, source);
        if (!set) throw new Error(`${source.model}: no predictions on ${source.dataset ?? source.folder} yet; predict first`);
        return writeBatch(set, { out: out ? path.resolve(out) : batchesDir(deps.workspace()), format, conf, selection }, job);
      });
      return { jobId };
    },
  };
}
