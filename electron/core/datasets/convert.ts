/**
 * Geometry → YOLO label lines. Boxes are clipped to the image (and counted), zero-area objects are
 * dropped (and counted); polygons are clipped point-wise and multi-part polygons are joined into one
 * outline the way Ultralytics' own COCO converter does (connect parts at their closest points), since
 * a YOLO segment line holds exactly one polygon.
 */
import type { SourceObject } from './model.js';

export interface ConvertCounts {
  boxes_clipped: number;
  objects_dropped_zero_area: number;
  boxes_as_polygons: number;
  multipart_polygons_joined: number;
}

export function emptyConvertCounts(): ConvertCounts {
  return { boxes_clipped: 0, objects_dropped_zero_area: 0, boxes_as_polygons: 0, multipart_polygons_joined: 0 };
}

const f6 = (v: number) => v.toFixed(6);
const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** One YOLO detection line `cls cx cy w h` (normalized, 6 decimals), or null when nothing is left after clipping. */
export function boxLine(cls: number, bbox: readonly number[], W: number, H: number, counts: ConvertCounts): string | null {
  const [x, y, w, h] = bbox as [number, number, number, number];
  let x1 = x, y1 = y, x2 = x + w, y2 = y + h;
  if (x1 < 0 || y1 < 0 || x2 > W || y2 > H) {
    // tolerate float noise of exporters (e.g. 640.0000001) without counting it as a clip
    const eps = 1e-3;
    if (x1 < -eps || y1 < -eps || x2 > W + eps || y2 > H + eps) counts.boxes_clipped++;
    x1 = Math.max(0, x1);
    y1 = Math.max(0, y1);
    x2 = Math.min(W, x2);
    y2 = Math.min(H, y2);
  }
  const bw = x2 - x1, bh = y2 - y1;
  if (!(bw > 0 && bh > 0)) {
    counts.objects_dropped_zero_area++;
    return null;
  }
  return `${cls} ${f6((x1 + bw / 2) / W)} ${f6((y1 + bh / 2) / H)} ${f6(bw / W)} ${f6(bh / H)}`;
}

function sqDist(a: number[], i: number, b: number[], j: number): number {
  const dx = a[i]! - b[j]!, dy = a[i + 1]! - b[j + 1]!;
  return dx * dx + dy * dy;
}

/**
 * Join the parts of a multi-part polygon into one outline: walk around each part once and, at its
 * point closest to the next part, detour around that part and come back along the same zero-width
 * bridge (what Ultralytics' `merge_multi_segment` produces, written as a recursive walk).
 */
export function joinPolygonParts(parts: number[][]): number[] {
  if (parts.length === 1) return parts[0]!;
  const n = parts.length;
  // exit[k] = point index in part k closest to part k+1; entry[k+1] = the matching index in part k+1
  const exit: number[] = [];
  const entry: number[] = [0];
  for (let k = 0; k + 1 < n; k++) {
    const a = parts[k]!, b = parts[k + 1]!;
    let best = Infinity, bi = 0, bj = 0;
    for (let i = 0; i + 1 < a.length; i += 2) {
      for (let j = 0; j + 1 < b.length; j += 2) {
        const d = sqDist(a, i, b, j);
        if (d < best) [best, bi, bj] = [d, i, j];
      }
    }
    exit.push(bi);
    entry.push(bj);
  }
  const out: number[] = [];
  const visit = (k: number, start: number): void => {
    const p = parts[k]!;
    const m = Math.floor(p.length / 2);
    for (let s = 0; s <= m; s++) {
      const i = ((start / 2 + s) % m) * 2;
      out.push(p[i]!, p[i + 1]!);
      if (k + 1 < n && i === exit[k] && s < m) {
        visit(k + 1, entry[k + 1]!);
        out.push(p[i]!, p[i + 1]!);
      }
    }
  };
  visit(0, exit[0]!);
  return out;
}

/** One YOLO segment line `cls x1 y1 x2 y2 ...` (normalized), or null when degenerate. */
export function polygonLine(cls: number, obj: SourceObject, W: number, H: number, counts: ConvertCounts): string | null {
  let poly: number[];
  if (obj.polygons && obj.polygons.length) {
    if (obj.polygons.length > 1) counts.multipart_polygons_joined++;
    poly = joinPolygonParts(obj.polygons);
  } else {
    // a plain box in a segmentation set: its rectangle, reported
    const [x, y, w, h] = obj.bbox;
    poly = [x, y, x + w, y, x + w, y + h, x, y + h];
    counts.boxes_as_polygons++;
  }
  const parts: string[] = [String(cls)];
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  let clipped = false;
  for (let i = 0; i + 1 < poly.length; i += 2) {
    const nx = poly[i]! / W, ny = poly[i + 1]! / H;
    const cx = clamp01(nx), cy = clamp01(ny);
    if (Math.abs(cx - nx) > 1e-6 || Math.abs(cy - ny) > 1e-6) clipped = true;
    minX = Math.min(minX, cx);
    maxX = Math.max(maxX, cx);
    minY = Math.min(minY, cy);
    maxY = Math.max(maxY, cy);
    parts.push(f6(cx), f6(cy));
  }
  if (clipped) counts.boxes_clipped++;
  if (parts.length < 7 || !(maxX - minX > 0 && maxY - minY > 0)) {
    counts.objects_dropped_zero_area++;
    return null;
  }
  return parts.join(' ');
}
