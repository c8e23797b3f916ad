/**
 * How a leak audit (schemas.LeakAudit, computed by core/datasets/split.ts auditSplits) is judged and said: one rule
 * and one sentence for the CLI, the reports and the UI's badges.
 */
import type { LeakAudit } from './schemas.js';

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

/** The audit in one sentence, the same wherever it is printed. */
export function auditSentence(a: LeakAudit): string {
  const twins = a.held_out_images !== undefined ? `; val/test images with a twin in train: ${a.held_out_with_twin ?? 0} of ${a.held_out_images}` : '';
  const near =
    a.dup_threshold === -1
      ? 'near-duplicates not compared (no image hashes)'
      : `${plural(a.near_duplicate_crossings, 'near-duplicate pair')}${a.dup_threshold !== undefined ? ` (dHash ≤ ${a.dup_threshold})` : ''}`;
  return `${plural(a.group_crossings, 'group')} crossing splits, ${near} and ${plural(a.exact_duplicate_crossings, 'identical pair')} across splits${twins}`;
}

/** Nothing crosses: no group, no near-duplicate or identical pair, no val/test image with a twin in train. */
export function auditIsClean(a: LeakAudit): boolean {
  return a.group_crossings === 0 && a.near_duplicate_crossings === 0 && a.exact_duplicate_crossings === 0 && (a.held_out_with_twin ?? 0) === 0;
}
