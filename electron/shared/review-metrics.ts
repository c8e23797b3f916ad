/**
 * Matching predictions to ground truth and the metrics of the review gallery: per-image TP/FP/FN,
 * per-class precision/recall/F1 at any confidence threshold (one for all classes or one per class),
 * AP50 and AP50-95 exactly as Ultralytics' validator computes them, PR curves and F1-optimal
 * thresholds. Pure TypeScript (no node:*, no DOM, no zod): the renderer's live slider and the core/CLI
 * import the same functions.
 *
 * How the slider stays fast: predictions are matched ONCE per IoU threshold, greedily in descending
 * score (each to the best-IoU unmatched ground-truth box of its class at or above the IoU
 * threshold). Greedy matching in score order is prefix-stable: the matches of the top-k predictions
 * do not depend on the predictions below them. So the counts at a confidence threshold t are prefix
 * counts of the score-sorted predictions, found by binary search in sorted arrays
 * (`buildMatchIndex` once, then `countsAt` for every slider move).
 *
 * Agreement with Ultralytics (ultralytics/engine/validator.py `match_predictions`, non-scipy branch,
 * and ultralytics/utils/metrics.py `ap_per_class` / `compute_ap`, version 8.4): the same greedy
 * (detections in descending confidence, each to the unclaimed target with the highest IoU, first
 * target on ties, correct when that IoU ≥ the threshold; classes never match across), the same
 * `box_iou` (with its eps 1e-7), the same AP (recall = tp/(n_l + 1e-16), precision envelope, 101-point
 * interpolation, trapezoidal integral) and mAP over the classes that have ground truth. Known
 * differences, all at the level of floating-point ties:
 * - IoU is computed in float64 in original-image pixels; Ultralytics uses float32 in letterboxed
 *   network pixels (the same IoU up to rounding), so a pair within ~1e-6 of an IoU threshold can be
 *   judged differently.
 * - Predictions with exactly equal scores keep a stable order here (image order, then the image's
 *   own order); `np.argsort(-conf)` is not stable, so with tied scores the order inside a tie — and
 *   so the intermediate PR points — may differ (AP can then differ in the last digits).
 * - Older Ultralytics (< 8.3.x) matched all pairs sorted by IoU instead of by confidence; the
 *   installed 8.4 validator matches by confidence, as here.
 */
import type { Box, ReviewBox, ReviewPrediction, ReviewSet } from './review.js';

/** Ultralytics' 10 IoU thresholds of mAP50-95: 0.50, 0.55, …, 0.95. */
export const IOU_THRESHOLDS: readonly number[] = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];

/** What the metrics need of a ReviewSet (a ReviewSet satisfies it). */
export interface MatchInput {
  classes: readonly string[];
  images: ReadonlyArray<{ gt: readonly ReviewBox[] | null; pred: readonly ReviewPrediction[] }>;
}

/** IoU of two boxes (x1, y1, x2, y2), as Ultralytics' `box_iou` computes it (eps 1e-7 in the union). */
export function boxIou(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  const inter = (iw > 0 ? iw : 0) * (ih > 0 ? ih : 0);
  const areaA = (a[2] - a[0]) * (a[3] - a[1]);
  const areaB = (b[2] - b[0]) * (b[3] - b[1]);
  return inter / (areaA + areaB - inter + 1e-7);
}

/** Indices of `pred` in descending score, stable (equal scores keep their order). */
export function scoreOrder(pred: readonly { score: number }[]): number[] {
  const idx = pred.map((_, i) => i);
  let sorted = true;
  for (let i = 1; i < pred.length && sorted; i++) if (pred[i]!.score > pred[i - 1]!.score) sorted = false;
  if (!sorted) idx.sort((a, b) => pred[b]!.score - pred[a]!.score || a - b);
  return idx;
}

/**
 * Greedy matching of one image at several IoU thresholds (Ultralytics' `match_predictions`):
 * predictions in descending score (stable), each to the unclaimed ground-truth box of its class
 * with the highest IoU (the first on ties); correct when that IoU ≥ the threshold, and the box is
 * then claimed at that threshold. Returns, per prediction in the ORIGINAL order of `pred`, the
 * index of the matched ground-truth box per threshold (-1: a false positive), flat
 * `[pred * thresholds.length + t]`.
 */
export function matchImage(gt: readonly ReviewBox[], pred: readonly ReviewPrediction[], thresholds: readonly number[] = [0.5]): Int32Array {
  const nt = thresholds.length;
  const out = new Int32Array(pred.length * nt).fill(-1);
  if (!gt.length || !pred.length) return out;
  const claimed = new Uint8Array(gt.length * nt);
  const ious = new Float64Array(gt.length);
  const cand = new Int32Array(gt.length);
  let minThr = Infinity;
  for (const t of thresholds) if (t < minThr) minThr = t;
  for (const j of scoreOrder(pred)) {
    const p = pred[j]!;
    // only boxes of its class that reach the lowest threshold can match (as in Ultralytics, which
    // skips detections without any IoU ≥ min(thresholds)); the best of them per threshold wins
    let nc = 0;
    for (let g = 0; g < gt.length; g++) {
      if (gt[g]!.cls !== p.cls) continue;
      const v = boxIou(gt[g]!.box, p.box);
      if (v >= minThr) {
        ious[g] = v;
        cand[nc++] = g;
      }
    }
    if (!nc) continue;
    for (let t = 0; t < nt; t++) {
      let best = -1, bestIou = 0;
      for (let q = 0; q < nc; q++) {
        const g = cand[q]!;
        const v = claimed[g * nt + t] ? 0 : ious[g]!;
        if (v > bestIou) {
          bestIou = v;
          best = g;
        }
      }
      if (best >= 0 && bestIou >= thresholds[t]!) {
        out[j * nt + t] = best;
        claimed[best * nt + t] = 1;
      }
    }
  }
  return out;
}

// ------------------------------------------------------------------ the slider index

/**
 * Everything the confidence slider needs at one IoU threshold, in flat typed arrays. Built once by
 * `buildMatchIndex`; `countsAt` then answers in O(images × classes-per-image × log n).
 */
export interface MatchIndex {
  iou: number;
  classes: readonly string[];
  /** per image: its ground-truth boxes, -1 when the image has no ground truth (unlabelled) */
  gtCount: Int32Array;
  /** per class: ground-truth boxes over the labelled images */
  classGt: Int32Array;
  /** per class: scores of its predictions on labelled images, descending */
  classScores: Float64Array[];
  /** per class: classCumTp[c][k] = true positives among its k best predictions (length n + 1) */
  classCumTp: Int32Array[];
  /** segments (one per image and predicted class): image i owns segments imgSeg[i] .. imgSeg[i+1]-1 */
  imgSeg: Int32Array;
  segClass: Int32Array;
  /** segment s holds the flat predictions segStart[s] .. segStart[s+1]-1 (length segments + 1) */
  segStart: Int32Array;
  /** flat scores, descending inside each segment */
  scores: Float64Array;
  /** flat: true positives among the segment's predictions up to and including this one */
  cumTp: Int32Array;
  /** per image, per prediction in the image's own order: matched ground-truth index, -1 = FP (or unlabelled) */
  matches: Int32Array[];
}

/**
 * Match every prediction of every image at one IoU threshold and index the result for `countsAt`.
 * Predictions of unlabelled images (gt null) are indexed for detection counts only.
 */
export function buildMatchIndex(set: MatchInput, iou = 0.5): MatchIndex {
  const nc = set.classes.length;
  const n = set.images.length;
  const gtCount = new Int32Array(n);
  const classGt = new Int32Array(nc);
  const matches: Int32Array[] = [];
  const imgSeg = new Int32Array(n + 1);
  const segClass: number[] = [];
  const segStart: number[] = [];
  const scores: number[] = [];
  const cumTp: number[] = [];
  const perClass: Array<Array<[number, number]>> = Array.from({ length: nc }, () => []);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const img = set.images[i]!;
    const labelled = img.gt !== null;
    gtCount[i] = labelled ? img.gt!.length : -1;
    if (labelled) for (const g of img.gt!) if (g.cls >= 0 && g.cls < nc) classGt[g.cls]!++;
    const m = labelled ? matchImage(img.gt!, img.pred, [iou]) : new Int32Array(img.pred.length).fill(-1);
    matches.push(m);
    imgSeg[i] = segClass.length;
    byClass.clear();
    for (const j of scoreOrder(img.pred)) {
      const c = img.pred[j]!.cls;
      const l = byClass.get(c);
      if (l) l.push(j);
      else byClass.set(c, [j]);
    }
    for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
      segClass.push(c);
      segStart.push(scores.length);
      let tp = 0;
      for (const j of byClass.get(c)!) {
        const s = img.pred[j]!.score;
        const hit = m[j]! >= 0 ? 1 : 0;
        tp += hit;
        scores.push(s);
        cumTp.push(tp);
        if (labelled && c >= 0 && c < nc) perClass[c]!.push([s, hit]);
      }
    }
  }
  imgSeg[n] = segClass.length;
  segStart.push(scores.length);
  const classScores: Float64Array[] = [];
  const classCumTp: Int32Array[] = [];
  for (const list of perClass) {
    // stable: equal scores keep image order (Array.prototype.sort is stable)
    list.sort((a, b) => b[0] - a[0]);
    const sc = new Float64Array(list.length);
    const cum = new Int32Array(list.length + 1);
    list.forEach(([s, hit], k) => {
      sc[k] = s;
      cum[k + 1] = cum[k]! + hit;
    });
    classScores.push(sc);
    classCumTp.push(cum);
  }
  return {
    iou,
    classes: set.classes,
    gtCount,
    classGt,
    classScores,
    classCumTp,
    imgSeg,
    segClass: Int32Array.from(segClass),
    segStart: Int32Array.from(segStart),
    scores: Float64Array.from(scores),
    cumTp: Int32Array.from(cumTp),
    matches,
  };
}

/** How many of the descending `arr[from..to)` are ≥ t (binary search). */
export function countAtLeast(arr: ArrayLike<number>, t: number, from = 0, to = arr.length): number {
  let lo = from, hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! >= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - from;
}

/** A confidence threshold for all classes, or a default with per-class overrides (by class name). */
export type ConfThresholds = number | { default: number; perClass?: Readonly<Record<string, number>> };

/** One threshold per class index (a class's own threshold where given, else the default). */
export function resolveThresholds(classes: readonly string[], thr: ConfThresholds): Float64Array {
  const out = new Float64Array(classes.length);
  if (typeof thr === 'number') return out.fill(thr);
  classes.forEach((name, c) => {
    const own = thr.perClass?.[name];
    out[c] = own !== undefined ? own : thr.default;
  });
  return out;
}

/** True and false positives, false negatives, and the precision, recall and F1 they give. */
export interface PrCounts {
  tp: number;
  fp: number;
  fn: number;
  /** tp / (tp + fp); 0 when nothing is detected */
  precision: number;
  /** tp / (tp + fn); 0 when there is no ground truth */
  recall: number;
  f1: number;
}

export interface ClassCounts extends PrCounts {
  cls: number;
  name: string;
  /** ground-truth boxes of the class (labelled images) */
  gt: number;
  /** predictions at or above the class's threshold (labelled images) */
  det: number;
}

export interface Counts {
  /** per image (typed arrays indexed like the set's images); unlabelled images: tp = fn = 0, fp = 0 */
  tp: Int32Array;
  fp: Int32Array;
  fn: Int32Array;
  /** per image: predictions at or above their class's threshold (labelled or not) */
  det: Int32Array;
  /** per class */
  classes: ClassCounts[];
  /** all classes together */
  total: PrCounts;
}

const f1Of = (p: number, r: number) => (p + r > 0 ? (2 * p * r) / (p + r) : 0);

/**
 * Counts at a confidence threshold (one for all, or per class): per image TP/FP/FN, per class
 * precision/recall/F1. A prediction counts when its score ≥ its class's threshold (a threshold
 * above 1, e.g. Infinity, leaves a class out). Predictions of classes without ground truth in a
 * labelled image are false positives.
 */
export function countsAt(index: MatchIndex, thresholds: ConfThresholds): Counts {
  const thr = resolveThresholds(index.classes, thresholds);
  const n = index.gtCount.length;
  const tp = new Int32Array(n), fp = new Int32Array(n), fn = new Int32Array(n), det = new Int32Array(n);
  const { imgSeg, segClass, segStart, scores, cumTp } = index;
  for (let i = 0; i < n; i++) {
    let t = 0, d = 0;
    for (let s = imgSeg[i]!; s < imgSeg[i + 1]!; s++) {
      const c = segClass[s]!;
      const th = c >= 0 && c < thr.length ? thr[c]! : Infinity;
      const a = segStart[s]!;
      const k = countAtLeast(scores, th, a, segStart[s + 1]!);
      d += k;
      if (k) t += cumTp[a + k - 1]!;
    }
    det[i] = d;
    const g = index.gtCount[i]!;
    if (g >= 0) {
      tp[i] = t;
      fp[i] = d - t;
      fn[i] = g - t;
    }
  }
  let TP = 0, FP = 0, FN = 0;
  const classes = index.classes.map((name, c): ClassCounts => {
    const k = countAtLeast(index.classScores[c]!, thr[c]!);
    const ctp = index.classCumTp[c]![k]!;
    const gt = index.classGt[c]!;
    const precision = k ? ctp / k : 0;
    const recall = gt ? ctp / gt : 0;
    TP += ctp;
    FP += k - ctp;
    FN += gt - ctp;
    return { cls: c, name, gt, det: k, tp: ctp, fp: k - ctp, fn: gt - ctp, precision, recall, f1: f1Of(precision, recall) };
  });
  const P = TP + FP ? TP / (TP + FP) : 0;
  const R = TP + FN ? TP / (TP + FN) : 0;
  return { tp, fp, fn, det, classes, total: { tp: TP, fp: FP, fn: FN, precision: P, recall: R, f1: f1Of(P, R) } };
}

export interface F1Optimum {
  cls: number;
  name: string;
  /** the lowest score kept (predictions with score ≥ threshold count); null: the class has no ground truth or no predictions */
  threshold: number | null;
  f1: number;
  precision: number;
  recall: number;
  tp: number;
  fp: number;
  fn: number;
}

/**
 * The confidence threshold that maximises each class's F1 at the index's IoU (exact, over every
 * distinct score; on equal F1 the higher threshold wins). Use it to suggest per-class thresholds.
 */
export function f1OptimalThresholds(index: MatchIndex): F1Optimum[] {
  return index.classes.map((name, c) => {
    const sc = index.classScores[c]!, cum = index.classCumTp[c]!, gt = index.classGt[c]!;
    let best: F1Optimum = { cls: c, name, threshold: null, f1: 0, precision: 0, recall: 0, tp: 0, fp: 0, fn: gt };
    if (!gt) return best;
    for (let k = 1; k <= sc.length; k++) {
      if (k < sc.length && sc[k] === sc[k - 1]) continue; // a threshold keeps a whole run of equal scores
      const t = cum[k]!, p = t / k, r = t / gt, f = f1Of(p, r);
      if (f > best.f1) best = { cls: c, name, threshold: sc[k - 1]!, f1: f, precision: p, recall: r, tp: t, fp: k - t, fn: gt - t };
    }
    return best;
  });
}

// ------------------------------------------------------------------ AP (Ultralytics' ap_per_class)

/** `np.interp(x, xp, fp)` for increasing x and non-decreasing xp, with numpy's handling of repeated xp. */
export function npInterp(x: ArrayLike<number>, xp: ArrayLike<number>, fp: ArrayLike<number>, left?: number, right?: number): Float64Array {
  const n = xp.length;
  const out = new Float64Array(x.length);
  const lval = left ?? fp[0]!, rval = right ?? fp[n - 1]!;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v > xp[n - 1]!) {
      out[i] = rval;
      continue;
    }
    if (v < xp[0]!) {
      out[i] = lval;
      continue;
    }
    // j: the last index with xp[j] <= v (numpy's binary_search_with_guess)
    let lo = 0, hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (v >= xp[mid]!) lo = mid + 1;
      else hi = mid;
    }
    const j = lo - 1;
    if (j === n - 1) out[i] = fp[j]!;
    else if (xp[j] === v) out[i] = fp[j]!;
    else {
      const slope = (fp[j + 1]! - fp[j]!) / (xp[j + 1]! - xp[j]!);
      let r = slope * (v - xp[j]!) + fp[j]!;
      if (Number.isNaN(r)) {
        r = slope * (v - xp[j + 1]!) + fp[j + 1]!;
        if (Number.isNaN(r) && fp[j] === fp[j + 1]) r = fp[j]!;
      }
      out[i] = r;
    }
  }
  return out;
}

/** `np.linspace(0, 1, n)`. */
export function linspace01(n: number): Float64Array {
  const out = new Float64Array(n);
  const step = 1 / (n - 1);
  for (let i = 0; i < n; i++) out[i] = i * step;
  if (n > 1) out[n - 1] = 1;
  return out;
}

const AP_X = linspace01(101);

/** `np.trapezoid(y, x)`. */
function trapz(y: ArrayLike<number>, x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 1; i < x.length; i++) s += ((x[i]! - x[i - 1]!) * (y[i]! + y[i - 1]!)) / 2;
  return s;
}

/**
 * Ultralytics' `compute_ap`: sentinels, precision envelope, 101-point interpolation, trapezoids.
 * Returns the AP and the envelope (mrec, mpre) the PR curve is drawn from.
 */
export function computeAp(recall: ArrayLike<number>, precision: ArrayLike<number>): { ap: number; mrec: Float64Array; mpre: Float64Array } {
  const n = recall.length;
  const mrec = new Float64Array(n + 3);
  const mpre = new Float64Array(n + 3);
  mrec[0] = 0;
  mpre[0] = 1;
  for (let i = 0; i < n; i++) {
    mrec[i + 1] = recall[i]!;
    mpre[i + 1] = precision[i]!;
  }
  mrec[n + 1] = n ? recall[n - 1]! : 1;
  mrec[n + 2] = 1;
  mpre[n + 1] = 0;
  mpre[n + 2] = 0;
  for (let i = mpre.length - 2; i >= 0; i--) if (mpre[i + 1]! > mpre[i]!) mpre[i] = mpre[i + 1]!;
  return { ap: trapz(npInterp(AP_X, mrec, mpre), AP_X), mrec, mpre };
}

export interface ClassAp {
  cls: number;
  name: string;
  /** ground-truth boxes */
  gt: number;
  /** predictions (labelled images, down to the conf floor) */
  pred: number;
  /** AP at each of IOU_THRESHOLDS */
  apPerIou: number[];
  ap50: number;
  /** mean over the 10 thresholds */
  ap50_95: number;
  /** the PR envelope at IoU 0.5 (drawn as the PR curve) */
  pr: { recall: number[]; precision: number[] };
}

export interface ApResult {
  /** classes WITH ground truth, in class order (Ultralytics leaves the others out of mAP) */
  classes: ClassAp[];
  /** classes that only predictions use (no ground truth): not in mAP, as in Ultralytics */
  predictionOnly: number[];
  map50: number;
  map50_95: number;
}

/**
 * Ultralytics' `ap_per_class` over the labelled images of a set: matches at the 10 IoU thresholds,
 * then per class with ground truth AP at each threshold; mAP50 and mAP50-95 are means over those
 * classes. `prPoints` sets how many recall points the PR curve gets (Ultralytics plots 1000).
 */
export function averagePrecision(set: MatchInput, opts: { prPoints?: number } = {}): ApResult {
  const nc = set.classes.length;
  const nt = IOU_THRESHOLDS.length;
  const nGt = new Int32Array(nc);
  // per class: score and correct-flags (bit t: correct at IOU_THRESHOLDS[t]) of each prediction, in set order
  const preds: Array<Array<{ s: number; tp: number }>> = Array.from({ length: nc }, () => []);
  const predOnly = new Set<number>();
  for (const img of set.images) {
    if (img.gt === null) continue;
    for (const g of img.gt) if (g.cls >= 0 && g.cls < nc) nGt[g.cls]!++;
    const m = matchImage(img.gt, img.pred, IOU_THRESHOLDS);
    for (const j of scoreOrder(img.pred)) {
      const p = img.pred[j]!;
      if (p.cls < 0 || p.cls >= nc) continue;
      let flags = 0;
      for (let t = 0; t < nt; t++) if (m[j * nt + t]! >= 0) flags |= 1 << t;
      preds[p.cls]!.push({ s: p.score, tp: flags });
    }
  }
  const x = linspace01(opts.prPoints ?? 101);
  const classes: ClassAp[] = [];
  for (let c = 0; c < nc; c++) {
    const list = preds[c]!;
    const nl = nGt[c]!;
    if (!nl) {
      if (list.length) predOnly.add(c);
      continue;
    }
    const apPerIou = new Array<number>(nt).fill(0);
    let pr = { recall: Array.from(x), precision: new Array<number>(x.length).fill(0) };
    if (list.length) {
      list.sort((a, b) => b.s - a.s); // stable
      for (let t = 0; t < nt; t++) {
        const recall = new Float64Array(list.length);
        const precision = new Float64Array(list.length);
        let tpc = 0;
        for (let k = 0; k < list.length; k++) {
          tpc += (list[k]!.tp >> t) & 1;
          const fpc = k + 1 - tpc;
          recall[k] = tpc / (nl + 1e-16);
          precision[k] = tpc / (tpc + fpc);
        }
        const r = computeAp(recall, precision);
        apPerIou[t] = r.ap;
        if (t === 0) pr = { recall: Array.from(x), precision: Array.from(npInterp(x, r.mrec, r.mpre)) };
      }
    }
    classes.push({
      cls: c,
      name: set.classes[c]!,
      gt: nl,
      pred: list.length,
      apPerIou,
      ap50: apPerIou[0]!,
      ap50_95: apPerIou.reduce((a, b) => a + b, 0) / nt,
      pr,
    });
  }
  const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0);
  return {
    classes,
    predictionOnly: [...predOnly],
    map50: mean(classes.map((c) => c.ap50)),
    map50_95: mean(classes.map((c) => c.ap50_95)),
  };
}

export interface PrPoint {
  /** the lowest score kept at this point */
  score: number;
  precision: number;
  recall: number;
}

/**
 * The raw precision-recall points of one class at the index's IoU, one per distinct score (for a
 * chart with the confidence under the cursor). Empty when the class has no ground truth.
 */
export function prPoints(index: MatchIndex, cls: number): PrPoint[] {
  const sc = index.classScores[cls], cum = index.classCumTp[cls], gt = index.classGt[cls];
  if (!sc || !cum || !gt) return [];
  const out: PrPoint[] = [];
  for (let k = 1; k <= sc.length; k++) {
    if (k < sc.length && sc[k] === sc[k - 1]) continue;
    out.push({ score: sc[k - 1]!, precision: cum[k]! / k, recall: cum[k]! / gt });
  }
  return out;
}

/** Metrics of a subset of the set's images. */
export interface SubsetAp {
  images: number;
  map50: number;
  map50_95: number;
}

/**
 * The leak's price: mAP on the labelled images that have a twin in train (a near-duplicate, group member or
 * neighbouring frame there, by the dataset's leak audit) beside those that have none. Null where the set carries no
 * twin flags (a folder, or a train split) or no ground truth.
 */
export interface LeakPrice {
  all: SubsetAp;
  withTwin: SubsetAp;
  without: SubsetAp;
}

const priceCache = new WeakMap<ReviewSet, LeakPrice | null>();

export function leakPrice(set: ReviewSet): LeakPrice | null {
  if (priceCache.has(set)) return priceCache.get(set)!;
  let out: LeakPrice | null = null;
  const flags = set.twinInTrain;
  if (flags && flags.length === set.images.length) {
    const labelled = set.images.map((im, i) => ({ im, twin: flags[i]! })).filter((x) => x.im.gt !== null);
    if (labelled.length) {
      const ap = (list: typeof labelled): SubsetAp => {
        if (!list.length) return { images: 0, map50: NaN, map50_95: NaN };
        const r = averagePrecision({ classes: set.classes, images: list.map((x) => x.im) });
        return { images: list.length, map50: r.map50, map50_95: r.map50_95 };
      };
      out = { all: ap(labelled), withTwin: ap(labelled.filter((x) => x.twin)), without: ap(labelled.filter((x) => !x.twin)) };
    }
  }
  priceCache.set(set, out);
  return out;
}

