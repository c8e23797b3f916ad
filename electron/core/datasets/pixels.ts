/**
 * Structure from the pixels: names can be hashes, so images whose appearance says they are one scene are linked
 * before the split. Two kinds of links:
 * - every pair within the fixed near-duplicate threshold (the `dupThreshold` the audit counts at), as before;
 * - mutual nearest neighbours within a threshold learned from this dataset's own nearest-neighbour distances:
 *   where the distances fall into a near group (copies, neighbouring frames) and a far group (other pictures),
 *   the cut between them (Otsu's criterion on their histogram). Mutual links only, so a chain of look-alikes
 *   cannot swallow the dataset.
 * Written by hand: the product's own grouping logic, on the hashes phash.ts computes.
 */
import { forEachPairWithin } from './leaks.js';

/** The learned threshold is searched up to this distance (of 64 bits). */
export const MAX_LEARNED_THRESHOLD = 10;

/** Each image's nearest neighbours within `tMax` bits: the distance and every image at it (ties kept). */
export function nearestNeighbours(hashes: readonly (bigint | undefined)[], tMax: number): { d: Int8Array; nn: number[][] } {
  const d = new Int8Array(hashes.length).fill(-1);
  const nn: number[][] = Array.from({ length: hashes.length }, () => []);
  const offer = (i: number, j: number, dist: number) => {
    if (d[i] === -1 || dist < d[i]!) {
      d[i] = dist;
      nn[i] = [j];
    } else if (dist === d[i]) nn[i]!.push(j);
  };
  forEachPairWithin(hashes, tMax, (i, j, dist) => {
    offer(i, j, dist);
    offer(j, i, dist);
  });
  return { d, nn };
}

/**
 * The cut between near and far nearest-neighbour distances (Otsu on their histogram, images without a neighbour
 * within tMax counted at tMax + 1), or undefined where the distances show no two groups (all near, all far).
 */
export function learnedThreshold(d: Int8Array, tMax: number): number | undefined {
  const hist = new Array<number>(tMax + 2).fill(0);
  let n = 0;
  for (const x of d) {
    hist[x < 0 ? tMax + 1 : x]!++;
    n++;
  }
  if (n < 4) return undefined;
  const total = hist.reduce((a, c, k) => a + c * k, 0);
  let best = -1, cut: number | undefined;
  let w0 = 0, s0 = 0;
  for (let t = 0; t <= tMax; t++) {
    w0 += hist[t]!;
    s0 += hist[t]! * t;
    const w1 = n - w0;
    if (w0 === 0 || w1 === 0) continue;
    const m0 = s0 / w0, m1 = (total - s0) / w1;
    const between = w0 * w1 * (m1 - m0) ** 2;
    if (between > best) {
      best = between;
      cut = t;
    }
  }
  if (cut === undefined) return undefined;
  // two groups only where the near one is clearly nearer: its mean at most half the far one's
  let a = 0, wa = 0, b = 0, wb = 0;
  hist.forEach((c, k) => {
    if (k <= cut!) {
      a += c * k;
      wa += c;
    } else {
      b += c * k;
      wb += c;
    }
  });
  return wa && wb && a / wa <= 0.5 * (b / wb) ? cut : undefined;
}

export interface PixelLinks {
  /** pairs to merge groups by: [i, j, distance] */
  pairs: Array<[number, number, number]>;
  /** the learned threshold of the mutual-nearest-neighbour links, when the distances show one */
  learned?: number;
  /** mutual-nearest-neighbour links beyond the fixed threshold */
  mutual: number;
}

/** Links for mergeNearDuplicates: the fixed-threshold pairs plus mutual nearest neighbours within the learned threshold. */
export function pixelLinks(hashes: readonly (bigint | undefined)[], dupThreshold: number): PixelLinks {
  if (dupThreshold < 0) return { pairs: [], mutual: 0 };
  // every pair within the threshold is looked at (leaks.ts), and those joining two clusters kept: exact clusters, so
  // no near-duplicate pair is left between two groups (phash.nearDuplicatePairs compares with bucket representatives only)
  const parent = Int32Array.from(hashes, (_h, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]!]!;
    return x;
  };
  const pairs: Array<[number, number, number]> = [];
  forEachPairWithin(hashes, dupThreshold, (i, j, dist) => {
    const a = find(i), b = find(j);
    if (a === b) return;
    parent[a] = b;
    pairs.push([i, j, dist]);
  });
  const { d, nn } = nearestNeighbours(hashes, MAX_LEARNED_THRESHOLD);
  const learned = learnedThreshold(d, MAX_LEARNED_THRESHOLD);
  let mutual = 0;
  if (learned !== undefined && learned > dupThreshold) {
    for (let i = 0; i < nn.length; i++) {
      if (d[i]! <= dupThreshold || d[i]! > learned) continue;
      for (const j of nn[i]!) {
        if (j > i && nn[j]!.includes(i)) {
          pairs.push([i, j, d[i]!]);
          mutual++;
        }
      }
    }
  }
  return { pairs, ...(learned !== undefined ? { learned } : {}), mutual };
}
