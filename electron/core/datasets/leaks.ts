/**
 * Near-duplicate pairs across splits, counted as pairs: every pair of images in two different splits whose
 * perceptual hashes are within the threshold, each pair once, whatever the order of the files.
 *
 * The linking pairs of phash.nearDuplicatePairs are enough to merge clusters (a spanning forest), but their
 * number depends on the order of the files and is not a count of anything a user can check. The audit needs
 * the real number. Pigeonhole over bands as there: two hashes within t bits agree on at least one of t + 1
 * bands, so only items sharing a band value are compared, and a pair is taken in the first band it agrees on
 * (so never twice). Written by hand: it is the product's own audit.
 */
import { HASH_BITS, MAX_DUP_THRESHOLD } from './phash.js';

/**
 * Calls `visit(i, j, distance)` once for every pair i < j of items that have a hash (and pass `take`), are within
 * `threshold` bits, and are not set apart by `skip`. Returns the number of pairs visited.
 */
export function forEachPairWithin(
  hashes: readonly (bigint | undefined)[],
  threshold: number,
  visit: (i: number, j: number, distance: number) => void,
  take: (i: number) => boolean = () => true,
  skip: (i: number, j: number) => boolean = () => false,
): number {
  if (threshold < 0) return 0;
  const t = Math.min(threshold, MAX_DUP_THRESHOLD);
  const idx: number[] = [];
  hashes.forEach((h, i) => {
    if (h !== undefined && take(i)) idx.push(i);
  });
  const hi = new Uint32Array(hashes.length);
  const lo = new Uint32Array(hashes.length);
  for (const i of idx) {
    hi[i] = Number(hashes[i]! >> 32n);
    lo[i] = Number(hashes[i]! & 0xffffffffn);
  }
  const bands = t + 1;
  const width = Math.ceil(HASH_BITS / bands);
  // band values per item (as numbers: bands are at most 64 bits wide only when t = 0, then the whole hash)
  const bandKey: (number | bigint)[][] = [];
  for (let b = 0; b < bands; b++) {
    const shift = BigInt(b * width);
    const w = Math.min(width, HASH_BITS - b * width);
    const mask = (1n << BigInt(w)) - 1n;
    const keys = new Array<number | bigint>(hashes.length);
    for (const i of idx) {
      const k = (hashes[i]! >> shift) & mask;
      keys[i] = w <= 52 ? Number(k) : k;
    }
    bandKey.push(keys);
  }
  let n = 0;
  for (let b = 0; b < bands; b++) {
    const buckets = new Map<number | bigint, number[]>();
    for (const i of idx) {
      const k = bandKey[b]![i]!;
      const l = buckets.get(k);
      if (l) l.push(i);
      else buckets.set(k, [i]);
    }
    for (const members of buckets.values()) {
      if (members.length < 2) continue;
      for (let x = 0; x < members.length; x++) {
        const i = members[x]!;
        for (let y = x + 1; y < members.length; y++) {
          const j = members[y]!;
          if (skip(i, j)) continue;
          const d = pop32(hi[i]! ^ hi[j]!) + pop32(lo[i]! ^ lo[j]!);
          if (d > t) continue;
          let earlier = false;
          for (let e = 0; e < b && !earlier; e++) earlier = bandKey[e]![i] === bandKey[e]![j];
          if (earlier) continue;
          n++;
          if (i < j) visit(i, j, d);
          else visit(j, i, d);
        }
      }
    }
  }
  return n;
}

/**
 * Calls `visit(i, j, distance)` once for every pair i < j of items that both have a hash and a split,
 * sit in different splits, and are within `threshold` bits. Returns the number of pairs.
 */
export function forEachCrossSplitPair(
  hashes: readonly (bigint | undefined)[],
  splits: readonly (string | null | undefined)[],
  threshold: number,
  visit: (i: number, j: number, distance: number) => void = () => {},
): number {
  return forEachPairWithin(hashes, threshold, visit, (i) => splits[i] != null, (i, j) => splits[i] === splits[j]);
}

const pop32 = (x: number): number => {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
};
