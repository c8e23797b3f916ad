/**
 * The gallery's order: which images show (class, FP/FN, better/worse filters) and in which order
 * (most errors, lowest confidence, most FN, name, most changed). One pass to filter, one sort of
 * image indices; nothing per cell.
 */
import type { ReviewEvaluation, ReviewMatching } from './evaluate';

export type ReviewSort = 'errors' | 'lowconf' | 'fn' | 'fp' | 'name' | 'change';
export type ErrorFilter = 'all' | 'errors' | 'fp' | 'fn' | 'correct';
export type CompareFilter = 'all' | 'better' | 'worse' | 'same';

export interface Comparison {
  /** baseline errors (FP+FN) per image of the candidate set; -1 where the baseline lacks the image */
  baseErrors: Int32Array;
  better: number;
  worse: number;
  same: number;
  missing: number;
}

/** Per image of the candidate: its errors against the baseline's on the same image (matched by path). */
export function compareSets(cand: ReviewMatching, candEval: ReviewEvaluation, base: ReviewMatching, baseEval: ReviewEvaluation): Comparison {
  const byPath = new Map<string, number>();
  base.set.images.forEach((im, i) => byPath.set(im.path, i));
  const n = cand.set.images.length;
  const baseErrors = new Int32Array(n).fill(-1);
  let better = 0;
  let worse = 0;
  let same = 0;
  let missing = 0;
  for (let i = 0; i < n; i++) {
    const j = byPath.get(cand.set.images[i]!.path);
    if (j === undefined) {
      missing++;
      continue;
    }
    const b = baseEval.fp[j]! + baseEval.fn[j]!;
    const c = candEval.fp[i]! + candEval.fn[i]!;
    baseErrors[i] = b;
    if (c < b) better++;
    else if (c > b) worse++;
    else same++;
  }
  return { baseErrors, better, worse, same, missing };
}

/** Each image's rank by file name, once per set (sort ties break on it without comparing strings). */
const rankCache = new WeakMap<object, Int32Array>();
function nameRank(m: ReviewMatching): Int32Array {
  let r = rankCache.get(m.set);
  if (!r) {
    const images = m.set.images;
    const idx = images.map((_, i) => i).sort((a, b) => (images[a]!.file < images[b]!.file ? -1 : images[a]!.file > images[b]!.file ? 1 : 0));
    r = new Int32Array(images.length);
    idx.forEach((i, k) => (r![i] = k));
    rankCache.set(m.set, r);
  }
  return r;
}

export interface OrderOptions {
  sort: ReviewSort;
  errors: ErrorFilter;
  compare: CompareFilter;
}

export function orderImages(m: ReviewMatching, ev: ReviewEvaluation, opts: OrderOptions, cmp: Comparison | null): Int32Array {
  const images = m.set.images;
  const keep: number[] = [];
  for (let i = 0; i < images.length; i++) {
    if (!ev.hasFocus[i]) continue;
    const fp = ev.fp[i]!;
    const fn = ev.fn[i]!;
    if (opts.errors === 'fp' && fp === 0) continue;
    if (opts.errors === 'fn' && fn === 0) continue;
    if (opts.errors === 'errors' && fp + fn === 0) continue;
    if (opts.errors === 'correct' && fp + fn > 0) continue;
    if (cmp && opts.compare !== 'all') {
      const b = cmp.baseErrors[i]!;
      if (b < 0) continue;
      const d = fp + fn - b;
      if (opts.compare === 'better' && d >= 0) continue;
      if (opts.compare === 'worse' && d <= 0) continue;
      if (opts.compare === 'same' && d !== 0) continue;
    }
    keep.push(i);
  }
  const rank = nameRank(m);
  const byName = (a: number, b: number) => rank[a]! - rank[b]!;
  let cmpFn: (a: number, b: number) => number;
  switch (opts.sort) {
    case 'errors':
      cmpFn = (a, b) => ev.fp[b]! + ev.fn[b]! - (ev.fp[a]! + ev.fn[a]!) || byName(a, b);
      break;
    case 'fn':
      cmpFn = (a, b) => ev.fn[b]! - ev.fn[a]! || ev.fp[b]! - ev.fp[a]! || byName(a, b);
      break;
    case 'fp':
      cmpFn = (a, b) => ev.fp[b]! - ev.fp[a]! || ev.fn[b]! - ev.fn[a]! || byName(a, b);
      break;
    case 'lowconf':
      // images whose weakest kept prediction is weakest first; images with none kept last
      cmpFn = (a, b) => {
        const x = ev.minScore[a]!;
        const y = ev.minScore[b]!;
        if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) === Number.isNaN(y) ? byName(a, b) : Number.isNaN(x) ? 1 : -1;
        return x - y || byName(a, b);
      };
      break;
    case 'change':
      // biggest change against the baseline first (either way); images it lacks last
      cmpFn = cmp
        ? (a, b) => {
            const da = cmp.baseErrors[a]! < 0 ? -1 : Math.abs(ev.fp[a]! + ev.fn[a]! - cmp.baseErrors[a]!);
            const db = cmp.baseErrors[b]! < 0 ? -1 : Math.abs(ev.fp[b]! + ev.fn[b]! - cmp.baseErrors[b]!);
            return db - da || byName(a, b);
          }
        : byName;
      break;
    default:
      cmpFn = byName;
  }
  keep.sort(cmpFn);
  return Int32Array.from(keep);
}
