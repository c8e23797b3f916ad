/**
 * From raw model outputs to detections in original pixels, as Ultralytics' predictor does it
 * (utils/nms.py non_max_suppression, utils/ops.py scale_boxes / process_mask, models/yolo/segment):
 *
 * - `yolo` layout, 1 × (4+nc[+nm]) × N (YOLOv8/YOLO11): candidates whose best class score is > conf,
 *   best class only, at most max_nms (30000) by score, class-aware NMS (boxes offset by class × 7680,
 *   IoU > iou suppresses, torchvision's order), first max_det (300) kept.
 * - `end2end` layout, 1 × N × (6[+nm]) (YOLO26, exports with nms=True): boxes are final; rows with
 *   score > conf, in model order, first max_det.
 * - segmentation: mask = sigmoid-free logits coeffs · protos, upsampled bilinearly to the network input
 *   (align_corners=False), > 0, cropped to the box; detections whose mask is empty are dropped (as
 *   Ultralytics does); the outline of the mask becomes a polygon in original pixels.
 *
 * Box arithmetic is done in float32 (Math.fround) where Ultralytics works on float32 tensors, so scores
 * and boxes match to the last bits rather than to 1e-4.
 */
import type { Letterbox } from './preprocess.js';

const f32 = Math.fround;

/** Ultralytics' max_wh: the per-class offset that keeps classes apart in one NMS pass. */
const MAX_WH = 7680;

export interface DecodeOptions {
  conf: number;
  iou: number;
  maxDet?: number;
  maxNms?: number;
  agnostic?: boolean;
}

/** A detection in network-input pixels (before scale_boxes), with its mask coefficients. */
export interface RawDet {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  cls: number;
  coeffs: Float32Array | null;
}

/**
 * torchvision.ops.nms on float32 boxes: indices kept, best score first. Stops once `limit` are kept
 * (the caller keeps only the first max_det, and later keeps never change earlier ones).
 */
export function nms(boxes: Float32Array, scores: Float32Array, iou: number, limit = Infinity): number[] {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
  const areas = new Float32Array(n);
  for (let i = 0; i < n; i++) areas[i] = f32(f32(boxes[i * 4 + 2]! - boxes[i * 4]!) * f32(boxes[i * 4 + 3]! - boxes[i * 4 + 1]!));
  const suppressed = new Uint8Array(n);
  const keep: number[] = [];
  for (let oi = 0; oi < n && keep.length < limit; oi++) {
    const i = order[oi]!;
    if (suppressed[i]) continue;
    keep.push(i);
    const ix1 = boxes[i * 4]!, iy1 = boxes[i * 4 + 1]!, ix2 = boxes[i * 4 + 2]!, iy2 = boxes[i * 4 + 3]!;
    const ia = areas[i]!;
    for (let oj = oi + 1; oj < n; oj++) {
      const j = order[oj]!;
      if (suppressed[j]) continue;
      const xx1 = Math.max(ix1, boxes[j * 4]!);
      const yy1 = Math.max(iy1, boxes[j * 4 + 1]!);
      const xx2 = Math.min(ix2, boxes[j * 4 + 2]!);
      const yy2 = Math.min(iy2, boxes[j * 4 + 3]!);
      const w = Math.max(0, f32(xx2 - xx1));
      const h = Math.max(0, f32(yy2 - yy1));
      const inter = f32(w * h);
      const ovr = f32(inter / f32(f32(ia + areas[j]!) - inter));
      if (ovr > iou) suppressed[j] = 1;
    }
  }
  return keep;
}

/** The `yolo` layout: out is C × N channel-major (C = 4 + nc + nm). */
export function decodeYolo(out: Float32Array, channels: number, anchors: number, nc: number, nm: number, o: DecodeOptions): RawDet[] {
  if (channels !== 4 + nc + nm) throw new Error(`output has ${channels} channels, expected 4 + ${nc} + ${nm}`);
  const maxDet = o.maxDet ?? 300;
  const maxNms = o.maxNms ?? 30000;
  const N = anchors;
  // best class per anchor, candidates above conf
  const cand: number[] = [];
  const candScore: number[] = [];
  const candCls: number[] = [];
  const best = new Float32Array(N).fill(-Infinity);
  const bestCls = new Int32Array(N);
  for (let c = 0; c < nc; c++) {
    const row = (4 + c) * N;
    for (let i = 0; i < N; i++) {
      const v = out[row + i]!;
      if (v > best[i]!) {
        best[i] = v;
        bestCls[i] = c;
      }
    }
  }
  for (let i = 0; i < N; i++) {
    if (best[i]! > o.conf) {
      cand.push(i);
      candScore.push(best[i]!);
      candCls.push(bestCls[i]!);
    }
  }
  let idx = cand.map((_, k) => k);
  if (idx.length > maxNms) idx = idx.sort((a, b) => candScore[b]! - candScore[a]!).slice(0, maxNms);
  const n = idx.length;
  const boxes = new Float32Array(n * 4);
  const off = new Float32Array(n * 4);
  const scores = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const i = cand[idx[k]!]!;
    const cx = out[i]!, cy = out[N + i]!, w = out[2 * N + i]!, h = out[3 * N + i]!;
    const hw = f32(w / 2), hh = f32(h / 2);
    boxes[k * 4] = f32(cx - hw);
    boxes[k * 4 + 1] = f32(cy - hh);
    boxes[k * 4 + 2] = f32(cx + hw);
    boxes[k * 4 + 3] = f32(cy + hh);
    const c = o.agnostic ? 0 : f32(candCls[idx[k]!]! * MAX_WH);
    for (let j = 0; j < 4; j++) off[k * 4 + j] = f32(boxes[k * 4 + j]! + c);
    scores[k] = candScore[idx[k]!]!;
  }
  const keep = nms(off, scores, o.iou, maxDet);
  return keep.map((k) => {
    const i = cand[idx[k]!]!;
    let coeffs: Float32Array | null = null;
    if (nm) {
      coeffs = new Float32Array(nm);
      for (let m = 0; m < nm; m++) coeffs[m] = out[(4 + nc + m) * N + i]!;
    }
    return { x1: boxes[k * 4]!, y1: boxes[k * 4 + 1]!, x2: boxes[k * 4 + 2]!, y2: boxes[k * 4 + 3]!, score: scores[k]!, cls: candCls[idx[k]!]!, coeffs };
  });
}

/** The `end2end` layout: out is N × (6 + nm) rows of x1, y1, x2, y2, score, class[, coeffs]. */
export function decodeEnd2End(out: Float32Array, rows: number, width: number, nm: number, o: DecodeOptions): RawDet[] {
  if (width !== 6 + nm) throw new Error(`output rows have ${width} values, expected 6${nm ? ` + ${nm} mask coefficients` : ''}`);
  const maxDet = o.maxDet ?? 300;
  const dets: RawDet[] = [];
  for (let r = 0; r < rows && dets.length < maxDet; r++) {
    const b = r * width;
    const score = out[b + 4]!;
    if (!(score > o.conf)) continue;
    dets.push({
      x1: out[b]!,
      y1: out[b + 1]!,
      x2: out[b + 2]!,
      y2: out[b + 3]!,
      score,
      cls: Math.round(out[b + 5]!),
      coeffs: nm ? out.slice(b + 6, b + 6 + nm) : null,
    });
  }
  return dets;
}

/** scale_boxes + clip_boxes: network-input pixels → original pixels (float32 like the torch tensors). */
export function scaleBox(d: RawDet, lb: Letterbox): [number, number, number, number] {
  const gx = f32(lb.newW / lb.width);
  const gy = f32(lb.newH / lb.height);
  const clip = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  return [
    clip(f32(f32(d.x1 - lb.padX) / gx), lb.width),
    clip(f32(f32(d.y1 - lb.padY) / gy), lb.height),
    clip(f32(f32(d.x2 - lb.padX) / gx), lb.width),
    clip(f32(f32(d.y2 - lb.padY) / gy), lb.height),
  ];
}

// ---------------------------------------------------------------- masks

/** A binary mask at network-input resolution, limited to its box's rectangle. */
export interface BoxMask {
  /** rectangle in input pixels: columns [x0, x1), rows [y0, y1) */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** (y1-y0) × (x1-x0), 1 inside the mask */
  data: Uint8Array;
  /** any pixel set */
  any: boolean;
}

/**
 * process_mask(upsample=True) for one detection: logits = coeffs · protos (mh × mw), bilinear to
 * inH × inW (align_corners=False, like F.interpolate), > 0, cropped to the box (columns c with
 * x1 <= c < x2). Only the pixels inside the box are computed: everything else is zero anyway.
 */
export function boxMask(d: RawDet, protos: Float32Array, nm: number, mh: number, mw: number, inH: number, inW: number): BoxMask {
  const coeffs = d.coeffs!;
  const x0 = Math.max(0, Math.ceil(d.x1));
  const y0 = Math.max(0, Math.ceil(d.y1));
  const x1 = Math.min(inW, Math.ceil(d.x2));
  const y1 = Math.min(inH, Math.ceil(d.y2));
  const bw = Math.max(0, x1 - x0);
  const bh = Math.max(0, y1 - y0);
  const data = new Uint8Array(bw * bh);
  if (bw === 0 || bh === 0) return { x0, y0, x1: x0 + bw, y1: y0 + bh, data, any: false };
  // source rows/cols needed (PyTorch: src = (dst + 0.5) * scale - 0.5, clamped at 0)
  const sy = mh / inH;
  const sx = mw / inW;
  const srcIdx = (d0: number, scale: number, n: number) => {
    const real = Math.max(0, f32(f32(scale * (d0 + 0.5)) - 0.5));
    const i0 = Math.floor(real);
    const i1 = i0 < n - 1 ? i0 + 1 : i0;
    const l1 = f32(real - i0);
    return { i0: Math.min(i0, n - 1), i1: Math.min(i1, n - 1), l1, l0: f32(1 - l1) };
  };
  const ys = Array.from({ length: bh }, (_, k) => srcIdx(y0 + k, sy, mh));
  const xs = Array.from({ length: bw }, (_, k) => srcIdx(x0 + k, sx, mw));
  const r0 = Math.min(...ys.map((y) => y.i0));
  const r1 = Math.max(...ys.map((y) => y.i1));
  const c0 = Math.min(...xs.map((x) => x.i0));
  const c1 = Math.max(...xs.map((x) => x.i1));
  const lw = c1 - c0 + 1;
  const logits = new Float32Array((r1 - r0 + 1) * lw);
  const plane = mh * mw;
  for (let r = r0; r <= r1; r++) {
    for (let c = c0; c <= c1; c++) {
      let s = 0;
      const p = r * mw + c;
      for (let m = 0; m < nm; m++) s += coeffs[m]! * protos[m * plane + p]!;
      logits[(r - r0) * lw + (c - c0)] = s;
    }
  }
  let any = false;
  for (let k = 0; k < bh; k++) {
    const y = ys[k]!;
    const a = (y.i0 - r0) * lw;
    const b = (y.i1 - r0) * lw;
    for (let j = 0; j < bw; j++) {
      const x = xs[j]!;
      const v = y.l0 * (x.l0 * logits[a + x.i0 - c0]! + x.l1 * logits[a + x.i1 - c0]!) + y.l1 * (x.l0 * logits[b + x.i0 - c0]! + x.l1 * logits[b + x.i1 - c0]!);
      if (v > 0) {
        data[k * bw + j] = 1;
        any = true;
      }
    }
  }
  return { x0, y0, x1, y1, data, any };
}

/**
 * The outer boundary of the largest 8-connected region of a mask (Moore-neighbour tracing), with
 * straight runs reduced to their end points (like CHAIN_APPROX_SIMPLE), as pixel coordinates of the
 * mask's frame. Written here: no maintained pure-JS contour library does this without a canvas.
 */
export function maskOutline(m: BoxMask): number[] {
  const w = m.x1 - m.x0;
  const h = m.y1 - m.y0;
  if (!m.any) return [];
  // label regions, find the largest
  const label = new Int32Array(w * h);
  let bestLabel = 0;
  let bestSize = 0;
  let bestStart = -1;
  let next = 0;
  const stack: number[] = [];
  for (let p = 0; p < w * h; p++) {
    if (!m.data[p] || label[p]) continue;
    next++;
    let size = 0;
    stack.push(p);
    label[p] = next;
    while (stack.length) {
      const q = stack.pop()!;
      size++;
      const qx = q % w;
      const qy = (q - qx) / w;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = qx + dx;
          const ny = qy + dy;
          if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
          const r = ny * w + nx;
          if (m.data[r] && !label[r]) {
            label[r] = next;
            stack.push(r);
          }
        }
      }
    }
    if (size > bestSize) {
      bestSize = size;
      bestLabel = next;
      bestStart = p; // the first pixel in raster order: its left and upper neighbours are outside
    }
  }
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < w && y < h && label[y * w + x] === bestLabel;
  // Moore neighbourhood, clockwise from west (image y grows downward)
  const DX = [-1, -1, 0, 1, 1, 1, 0, -1];
  const DY = [0, -1, -1, -1, 0, 1, 1, 1];
  const sx = bestStart % w;
  const sy = (bestStart - sx) / w;
  const pts: Array<[number, number]> = [[sx, sy]];
  let cx = sx;
  let cy = sy;
  let dir = 0; // we came from the west (background)
  for (let steps = 0; steps < 4 * w * h + 8; steps++) {
    let found = false;
    for (let k = 0; k < 8; k++) {
      const d = (dir + 1 + k) % 8;
      const nx = cx + DX[d]!;
      const ny = cy + DY[d]!;
      if (inside(nx, ny)) {
        cx = nx;
        cy = ny;
        dir = (d + 4) % 8; // the direction back to where we came from
        found = true;
        break;
      }
    }
    if (!found) break; // a single pixel
    if (cx === sx && cy === sy) break;
    pts.push([cx, cy]);
  }
  // keep only the corners
  const out: number[] = [];
  const n = pts.length;
  for (let i = 0; i < n; i++) {
    const p = pts[i]!;
    const a = pts[(i - 1 + n) % n]!;
    const b = pts[(i + 1) % n]!;
    if (n > 2 && p[0] - a[0] === b[0] - p[0] && p[1] - a[1] === b[1] - p[1]) continue;
    out.push(p[0] + m.x0, p[1] + m.y0);
  }
  return out;
}

/** scale_coords for a flat [x, y, …] outline in input pixels → original pixels, clipped. */
export function scalePolygon(poly: number[], lb: Letterbox): number[] {
  const gx = lb.newW / lb.width;
  const gy = lb.newH / lb.height;
  const out = new Array<number>(poly.length);
  for (let i = 0; i < poly.length; i += 2) {
    out[i] = Math.min(Math.max((poly[i]! - lb.padX) / gx, 0), lb.width);
    out[i + 1] = Math.min(Math.max((poly[i + 1]! - lb.padY) / gy, 0), lb.height);
  }
  return out;
}
