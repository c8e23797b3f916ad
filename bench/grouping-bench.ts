/**
 * Grouping and the leak audit at scale (issue: leak-free splits on exports Spotter has never seen):
 * (a) 100,000 names in the `<6-hex video>_<clip>_<frame>_png.rf.<hash>.jpg` convention (1,000 videos × 10 clips × 10
 *     frames): computeGroups (the inferred hierarchy with its trial splits) + splitDataset + auditSplits, against the
 *     floor of reading the names once (parseName + nameFields over every name);
 * (b) 10,000 real images (crops of the repository's real frames and slides, distinct pixels): the whole grouping
 *     path with pixels (hashes in, pixelLinks, computeGroups, splitDataset with guard widening, auditSplits) against
 *     hashing the same images alone.
 * Wall time and the heap/RSS growth, in one process.
 */
import { computeGroups, mergeNearDuplicates, nameFields, parseName, type GroupItem } from '../electron/core/datasets/groups.js';
import { imageHash } from '../electron/core/datasets/phash.js';
import { pixelLinks } from '../electron/core/datasets/pixels.js';
import { auditSplits, splitDataset } from '../electron/core/datasets/split.js';
import { mapLimit } from '../electron/core/pool.js';

const mb = () => process.memoryUsage().rss / 2 ** 20;

function hexNames(n: number): GroupItem[] {
  const items: GroupItem[] = [];
  let rnd = 99;
  const r = () => (rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let v = 0; items.length < n; v++) {
    const id = ((v + 1) * 2654435761 >>> 0).toString(16).padStart(8, '0').slice(-6);
    for (let c = 1; c <= 10 && items.length < n; c++) {
      for (let f = 0; f < 10 && items.length < n; f++) {
        const hash = ((items.length + 7) * 40503 >>> 0).toString(16);
        items.push({ name: `${id}_${c}_${String(f * 3).padStart(4, '0')}_png.rf.${hash}.jpg`, classes: Array.from({ length: Math.floor(r() * 4) }, () => Math.floor(r() * 3)) });
      }
    }
  }
  return items;
}

export function benchNames(n = 100_000) {
  const items = hexNames(n);
  const floorT = performance.now();
  let fields = 0;
  for (const it of items) fields += nameFields(parseName(it.name).stem).wordEnds.length;
  const floor = performance.now() - floorT;
  const rss0 = mb();
  const t0 = performance.now();
  const g = computeGroups(items, 'auto', { ratios: [0.8, 0.1, 0.1], seed: 0 });
  const t1 = performance.now();
  const s = splitDataset(items, g.keys, { ratios: [0.8, 0.1, 0.1], seed: 0, frames: g.frames });
  const t2 = performance.now();
  const a = auditSplits(items, g.keys, s.splits, { frames: g.frames });
  const t3 = performance.now();
  return {
    names: n,
    fields,
    level: g.level,
    groups: g.groups,
    levels: g.levels.map((l) => `${l.id} ${l.groups}`),
    group_crossings: a.group_crossings,
    seconds: { floor: floor / 1000, grouping: (t1 - t0) / 1000, split: (t2 - t1) / 1000, audit: (t3 - t2) / 1000, total: (t3 - t0) / 1000 },
    ratio_to_floor: Number(((t3 - t0) / floor).toFixed(1)),
    rss_growth_mb: Math.round(mb() - rss0),
  };
}

export async function benchImages(files: string[], dupThreshold = 4) {
  const items: GroupItem[] = files.map((f, i) => ({ name: `${((i + 1) * 2654435761 >>> 0).toString(16)}.jpg`, classes: [] }));
  const t0 = performance.now();
  const hashes = await mapLimit(files, 4, (f) => imageHash(f));
  const t1 = performance.now();
  const rss0 = mb();
  const links = pixelLinks(hashes, dupThreshold);
  const g = computeGroups(items, 'auto', { hashes, ratios: [0.8, 0.1, 0.1], seed: 0 });
  const merged = mergeNearDuplicates(g.keys, links.pairs);
  const s = splitDataset(items, merged.keys, { ratios: [0.8, 0.1, 0.1], seed: 0, frames: g.frames, hashes, dupThreshold });
  const a = auditSplits(items, merged.keys, s.splits, { hashes, dupThreshold, frames: g.frames });
  const t2 = performance.now();
  return {
    images: files.length,
    groups_from_names: g.groups,
    groups_after_pixels: new Set(merged.keys).size,
    learned_threshold: links.learned ?? null,
    mutual_links: links.mutual,
    near_duplicate_crossings: a.near_duplicate_crossings,
    held_out_with_twin: a.held_out_with_twin,
    dropped: s.dropped,
    seconds: { hashing: (t1 - t0) / 1000, grouping_split_audit: (t2 - t1) / 1000, total: (t2 - t0) / 1000 },
    ratio_to_hashing: Number(((t2 - t0) / (t1 - t0)).toFixed(3)),
    rss_growth_mb: Math.round(mb() - rss0),
  };
}
