/**
 * The gallery's view of the matching and metrics module: what the review slice needs from a
 * ReviewSet at an IoU threshold (matched once, `matchReview`) and at an operating point (one pass
 * over the predictions per slider move, `evaluateReview`). Pure functions over typed arrays: a set of
 * 10,000 images with tens of predictions each evaluates in a few milliseconds.
 */
import type { ReviewSet } from '../../../../electron/shared/contract';
import {
  averagePrecision,
  buildMatchIndex,
  countAtLeast,
  countsAt,
  f1OptimalThresholds,
  prPoints,
  resolveThresholds,
  type ApResult,
  type MatchIndex,
  type PrCounts,
} from '../../../../electron/shared/review-metrics';

/** The operating point: a confidence threshold for every class, and the classes that have their own. */
export interface Operating {
  conf: number;
  /** class name → threshold */
  perClass: Record<string, number>;
}

export interface ClassCurve {
  /** [recall, precision] along descending score at the match IoU, thinned for drawing */
  points: Array<[number, number]>;
}

/** A ReviewSet matched to its ground truth at one IoU threshold: independent of the confidence. */
export interface ReviewMatching {
  set: ReviewSet;
  iou: number;
  /** the metrics module's slider index (prefix counts per class and per image) */
  index: MatchIndex;
  /** AP50 and AP50-95 per class, Ultralytics' way (independent of the match IoU and the threshold) */
  ap: ApResult;
  /** per image, per prediction: the ground-truth box it matched, or -1 */
  predGt: Int32Array[];
  /** per image, per ground-truth box: the prediction that matched it, or -1 */
  gtPred: Int32Array[];
  /** ground-truth boxes per class */
  gtCount: Int32Array;
  /** per class with ground truth: its PR curve at the match IoU; null for the others */
  curves: Array<ClassCurve | null>;
  /** whether the source has ground truth at all */
  labelled: boolean;
}

const MAX_POINTS = 200;
/** AP is computed at Ultralytics' 10 IoU thresholds once per set, whatever the match IoU */
const apCache = new WeakMap<ReviewSet, ApResult>();

export function matchReview(set: ReviewSet, iou: number): ReviewMatching {
  const index = buildMatchIndex(set, iou);
  let ap = apCache.get(set);
  if (!ap) apCache.set(set, (ap = averagePrecision(set)));
  const gtPred = set.images.map((image, i) => {
    const g = new Int32Array(image.gt?.length ?? 0).fill(-1);
    const m = index.matches[i]!;
    for (let k = 0; k < m.length; k++) if (m[k]! >= 0) g[m[k]!] = k;
    return g;
  });
  const curves = set.classes.map((_, c): ClassCurve | null => {
    const pts = prPoints(index, c);
    if (!pts.length) return null;
    const step = Math.max(1, Math.ceil(pts.length / MAX_POINTS));
    const points: Array<[number, number]> = [];
    for (let i = 0; i < pts.length; i += step) points.push([pts[i]!.recall, pts[i]!.precision]);
    if ((pts.length - 1) % step) points.push([pts[pts.length - 1]!.recall, pts[pts.length - 1]!.precision]);
    return { points };
  });
  return {
    set,
    iou,
    index,
    ap,
    predGt: index.matches,
    gtPred,
    gtCount: index.classGt,
    curves,
    labelled: set.images.some((im) => im.gt !== null),
  };
}

/** Each class's threshold at an operating point (by class index). */
export function classThresholds(classes: string[], op: Operating): Float64Array {
  return resolveThresholds(classes, { default: op.conf, perClass: op.perClass });
}

/** precision, recall and F1 are NaN where undefined (no predictions kept / no ground truth) */
export interface ClassRow extends PrCounts {
  cls: number;
  name: string;
  threshold: number;
  /** the class has its own threshold */
  custom: boolean;
  gt: number;
  /** predictions kept, on every image (labelled or not) */
  det: number;
  ap50: number;
  ap50_95: number;
  /** whether the class is one of the dataset's (ground truth can only use those) */
  inDataset: boolean;
}

/** precision, recall and F1 are NaN where undefined */
export interface Totals extends PrCounts {
  map50: number;
  map50_95: number;
  /** images with at least one error */
  imagesWithErrors: number;
  /** predictions kept on images without ground truth */
  unlabelledDetections: number;
}

export interface ReviewEvaluation {
  thresholds: Float64Array;
  /** the class the per-image counts are restricted to (null: all) */
  focus: number | null;
  /** per image, at the operating point (restricted to the focus class when there is one) */
  tp: Int32Array;
  fp: Int32Array;
  fn: Int32Array;
  /** per image: predictions kept (labelled or not) */
  det: Int32Array;
  /** per image: the lowest score among the predictions kept (NaN: none kept) */
  minScore: Float32Array;
  /** per image: the class appears (ground truth or a kept prediction); all 1 without a focus */
  hasFocus: Uint8Array;
  classes: ClassRow[];
  totals: Totals;
}

/**
 * Counts per image and per class at an operating point (the metrics module's `countsAt`), plus what
 * the gallery sorts and filters on, read from the same prefix index: each image's lowest kept score,
 * and its counts for one class when the gallery is narrowed to it.
 */
export function evaluateReview(m: ReviewMatching, op: Operating, focus: number | null): ReviewEvaluation {
  const { set, index } = m;
  const n = set.images.length;
  const thr = classThresholds(set.classes, op);
  const counts = countsAt(index, { default: op.conf, perClass: op.perClass });
  const minScore = new Float32Array(n).fill(NaN);
  const hasFocus = new Uint8Array(n);
  let tp = counts.tp;
  let fp = counts.fp;
  let fn = counts.fn;
  let det = counts.det;
  if (focus !== null) {
    tp = new Int32Array(n);
    fp = new Int32Array(n);
    fn = new Int32Array(n);
    det = new Int32Array(n);
  }
  const { imgSeg, segClass, segStart, scores, cumTp } = index;
  const classDet = new Int32Array(set.classes.length);
  let imagesWithErrors = 0;
  let unlabelledDetections = 0;
  for (let i = 0; i < n; i++) {
    let low = Infinity;
    let ft = 0;
    let fd = 0;
    for (let s = imgSeg[i]!; s < imgSeg[i + 1]!; s++) {
      const c = segClass[s]!;
      const a = segStart[s]!;
      const k = countAtLeast(scores, thr[c] ?? Infinity, a, segStart[s + 1]!);
      if (!k) continue;
      classDet[c] = (classDet[c] ?? 0) + k;
      if (focus !== null && c !== focus) continue;
      if (scores[a + k - 1]! < low) low = scores[a + k - 1]!;
      fd += k;
      ft += cumTp[a + k - 1]!;
    }
    if (low !== Infinity) minScore[i] = low;
    const gt = set.images[i]!.gt;
    if (focus !== null) {
      let g = 0;
      for (const b of gt ?? []) if (b.cls === focus) g++;
      det[i] = fd;
      if (gt) {
        tp[i] = ft;
        fp[i] = fd - ft;
        fn[i] = g - ft;
      }
      hasFocus[i] = fd > 0 || g > 0 ? 1 : 0;
    } else hasFocus[i] = 1;
    if (!gt) unlabelledDetections += counts.det[i]!;
    if (counts.fp[i]! + counts.fn[i]! > 0) imagesWithErrors++;
  }
  const apOf = new Map(m.ap.classes.map((c) => [c.cls, c]));
  const classes = counts.classes.map((c): ClassRow => {
    const ap = apOf.get(c.cls);
    return {
      cls: c.cls,
      name: c.name,
      threshold: thr[c.cls]!,
      custom: op.perClass[c.name] !== undefined,
      gt: c.gt,
      tp: c.tp,
      fp: c.fp,
      fn: c.fn,
      det: classDet[c.cls]!,
      precision: c.det ? c.precision : NaN,
      recall: c.gt ? c.recall : NaN,
      f1: c.det || c.gt ? c.f1 : NaN,
      ap50: ap ? ap.ap50 : NaN,
      ap50_95: ap ? ap.ap50_95 : NaN,
      inDataset: c.cls < set.datasetClasses,
    };
  });
  const t = counts.total;
  const labelled = m.labelled;
  return {
    thresholds: thr,
    focus,
    tp,
    fp,
    fn,
    det,
    minScore,
    hasFocus,
    classes,
    totals: {
      tp: t.tp,
      fp: t.fp,
      fn: t.fn,
      precision: t.tp + t.fp ? t.precision : NaN,
      recall: t.tp + t.fn ? t.recall : NaN,
      f1: t.tp + t.fp + t.fn ? t.f1 : NaN,
      map50: labelled && m.ap.classes.length ? m.ap.map50 : NaN,
      map50_95: labelled && m.ap.classes.length ? m.ap.map50_95 : NaN,
      imagesWithErrors,
      unlabelledDetections,
    },
  };
}

/** Per class with ground truth and predictions: the threshold where its F1 peaks (the metrics module's). */
export function suggestF1Thresholds(m: ReviewMatching): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of f1OptimalThresholds(m.index)) if (o.threshold !== null) out[o.name] = o.threshold;
  return out;
}

/** 'kept': at or above the threshold on an image without ground truth (neither right nor wrong) */
export type PredStatus = 'tp' | 'fp' | 'kept' | 'below';
export type GtStatus = 'tp' | 'fn';

/** What each box of one image is at an operating point (for the viewer and the thumbnails). */
export function imageStatus(m: ReviewMatching, index: number, thresholds: Float64Array): { pred: PredStatus[]; gt: GtStatus[] } {
  const image = m.set.images[index]!;
  const pg = m.predGt[index]!;
  const gp = m.gtPred[index]!;
  const labelled = image.gt !== null;
  const pred = image.pred.map((p, k): PredStatus => (p.score < (thresholds[p.cls] ?? Infinity) ? 'below' : !labelled ? 'kept' : pg[k]! >= 0 ? 'tp' : 'fp'));
  const gt = (image.gt ?? []).map((_, j): GtStatus => {
    const k = gp[j]!;
    return k >= 0 && pred[k] === 'tp' ? 'tp' : 'fn';
  });
  return { pred, gt };
}
