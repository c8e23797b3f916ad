/**
 * The compact form of a ReviewSet: how the prediction cache stores it (one line per image) and how
 * review.get sends it: per image one array, boxes as integers (x1, y1, width, height in 1/1000 px).
 * Measured on 10,000 images × 100 predictions (1920×1080 frames): 41 MiB instead of 122 MiB as plain
 * objects at full float precision; JSON.parse 0.3 s (+ 0.2 s to decode) instead of 3.5 s.
 *
 * Rounding (what matching can notice of it):
 * - predicted boxes to 0.001 px (the network's float32 outputs scaled to the original image are only
 *   good to ~1e-4 px). An IoU computed from boxes moved by up to 0.0005 px changes by ~1e-5 for a
 *   10 px box, so only a pair that close to an IoU threshold can change sides: none on the real sets
 *   of tests/review-cache.test.ts (blood cells, coco8 with the int8 YOLO11n: counts and AP identical),
 *   12 of 1.8 million match results on a synthetic set built to have many pairs at the thresholds
 *   (0.01 px: 89, and one flip at IoU 0.95 on the blood cells, AP 4e-4 off);
 * - ground-truth boxes to 0.0001 px (YOLO label files hold ~6 decimals of the image size);
 * - scores: the shortest decimal that is the same float32 (no rounding: rounding to 1e-5 made ties
 *   among the low scores and moved mAP50-95 by ~2e-4).
 *
 * Pure TypeScript: the core and the renderer share it.
 */
import type { CompactImage, ReviewImage, ReviewPrediction, ReviewSet, ReviewSetWire } from './review.js';

export const PRED_STRIDE = 6;
export const GT_STRIDE = 5;
/** stored boxes are integers: predictions in 1/BOX_SCALE px, ground truth in 1/GT_SCALE px (+ 0: no -0, JSON makes it 0) */
export const BOX_SCALE = 1000;
export const GT_SCALE = 1e4;

/**
 * A score as the shortest decimal that is the same float32 (the model's scores are float32):
 * 0.30000001192092896 → 0.3. Distinct float32 scores stay distinct and in order, so no ties appear
 * and AP stays exactly as it was (rounding to 1e-5 instead moved mAP50-95 by ~2e-4 through ties).
 */
export function shortScore(v: number): number {
  const f = Math.fround(v);
  for (let d = 6; d < 9; d++) {
    const x = Number(v.toPrecision(d));
    if (Math.fround(x) === f) return x;
  }
  return Number(f.toPrecision(9));
}


/** A box as integers: x1, y1 in 1/scale px, and the width and height in the same units (shorter than x2, y2). */
function putBox(out: number[], o: number, b: readonly number[], scale: number): void {
  const x1 = Math.round(b[0]! * scale) + 0, y1 = Math.round(b[1]! * scale) + 0;
  out[o] = x1;
  out[o + 1] = y1;
  out[o + 2] = Math.round(b[2]! * scale) - x1 + 0;
  out[o + 3] = Math.round(b[3]! * scale) - y1 + 0;
}

export function encodeImage(im: ReviewImage): CompactImage {
  let gt: number[] | null = null;
  if (im.gt) {
    gt = new Array<number>(im.gt.length * GT_STRIDE);
    im.gt.forEach((g, k) => {
      gt![k * GT_STRIDE] = g.cls;
      putBox(gt!, k * GT_STRIDE + 1, g.box, GT_SCALE);
    });
  }
  const pred = new Array<number>(im.pred.length * PRED_STRIDE);
  im.pred.forEach((p, k) => {
    pred[k * PRED_STRIDE] = p.cls;
    putBox(pred, k * PRED_STRIDE + 1, p.box, BOX_SCALE);
    pred[k * PRED_STRIDE + 5] = shortScore(p.score);
  });
  return [im.file, im.path, im.width, im.height, gt, pred];
}

/** The compact image back as a ReviewImage; throws naming the image when it is malformed. */
export function decodeImage(c: CompactImage): ReviewImage {
  if (!Array.isArray(c) || c.length !== 6 || typeof c[0] !== 'string' || typeof c[1] !== 'string' || !Array.isArray(c[5])) {
    throw new Error(`not a compact review image: ${JSON.stringify(c).slice(0, 80)}`);
  }
  const [file, path, width, height, g, p] = c;
  if ((g && g.length % GT_STRIDE) || p.length % PRED_STRIDE) throw new Error(`${file}: malformed boxes in the prediction cache`);
  let gt: ReviewImage['gt'] = null;
  if (g) {
    gt = new Array(g.length / GT_STRIDE);
    for (let i = 0, k = 0; i < g.length; i += GT_STRIDE, k++) {
      const x1 = g[i + 1]!, y1 = g[i + 2]!;
      gt[k] = { cls: g[i]!, box: [x1 / GT_SCALE, y1 / GT_SCALE, (x1 + g[i + 3]!) / GT_SCALE, (y1 + g[i + 4]!) / GT_SCALE] };
    }
  }
  const pred = new Array<ReviewPrediction>(p.length / PRED_STRIDE);
  for (let i = 0, k = 0; i < p.length; i += PRED_STRIDE, k++) {
    const x1 = p[i + 1]!, y1 = p[i + 2]!;
    pred[k] = { cls: p[i]!, box: [x1 / BOX_SCALE, y1 / BOX_SCALE, (x1 + p[i + 3]!) / BOX_SCALE, (y1 + p[i + 4]!) / BOX_SCALE], score: p[i + 5]! };
  }
  return { file, path, width, height, gt, pred };
}

export function encodeReviewSet(set: ReviewSet): ReviewSetWire {
  return { ...set, encoding: 'compact-1', images: set.images.map(encodeImage) };
}

export function decodeReviewSet(wire: ReviewSetWire): ReviewSet {
  if (wire.encoding !== 'compact-1') throw new Error(`predictions in an unknown encoding (${String(wire.encoding)})`);
  const { encoding: _encoding, images, ...rest } = wire;
  return { ...rest, images: images.map(decodeImage) };
}

/** The set as the cache stores it: what review.get and the batch see after a round trip. */
export function roundReviewSet(set: ReviewSet): ReviewSet {
  return decodeReviewSet(encodeReviewSet(set));
}
