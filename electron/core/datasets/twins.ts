/**
 * Which val/test images of a dataset have a twin in train — a near-duplicate, an identical file, a member of their
 * group or a neighbouring frame of their sequence — by the one leak audit (split.ts auditSplits) on the dataset as
 * it sits (split.json for groups and frames, report.json for the guard gap and the near-duplicate threshold, the
 * images' own hashes). The review gallery shows the metrics on both halves side by side: the leak's price.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { SplitEntry } from '../../shared/schemas.js';
import type { JobContext } from '../jobs/jobs.js';
import { mapLimit } from '../pool.js';
import { imageHash } from './phash.js';
import { readAuditSettings } from './health.js';
import { auditSplits } from './split.js';

export interface TwinFlags {
  /** dataset-relative file (`images/val/x.jpg`) → has a twin in train */
  byFile: Map<string, boolean>;
  /** the near-duplicate threshold compared at */
  dupThreshold: number;
}

/** Twin flags of every val/test image of a Spotter dataset; null where it has no split.json (not made by Spotter). */
export async function twinsInTrain(datasetDir: string, job: JobContext): Promise<TwinFlags | null> {
  const entries = await fs
    .readFile(path.join(datasetDir, 'split.json'), 'utf8')
    .then((t) => z.array(SplitEntry).parse(JSON.parse(t)))
    .catch(() => null);
  if (!entries) return null;
  const recorded = await readAuditSettings(datasetDir);
  const dupThreshold = recorded.dupThreshold ?? 4;
  let done = 0;
  job.progress('twins', 0, entries.length);
  const hashes = await mapLimit(entries, 4, async (e) => {
    job.throwIfCancelled();
    const h = await imageHash(path.join(datasetDir, e.file)).catch(() => undefined);
    job.progress('twins', ++done, entries.length);
    return h;
  });
  const twins = new Uint8Array(entries.length);
  auditSplits(
    entries.map((e) => ({ name: e.file, classes: [] })),
    entries.map((e) => e.group),
    entries.map((e) => e.split),
    { hashes, dupThreshold, frames: entries.map((e) => e.frame), ...(recorded.guardGap ? { guardGap: recorded.guardGap } : {}), twinsOut: twins, maxExamples: 0 },
  );
  return { byFile: new Map(entries.map((e, i) => [e.file.split(path.sep).join('/'), twins[i] === 1])), dupThreshold };
}
