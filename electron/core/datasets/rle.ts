/**
 * Run-length encoded masks: COCO RLE (pycocotools, column-major) and CVAT's own mask RLE (row-major),
 * decoded to binary masks, boxes and outline polygons.
 *
 * Written by hand: the decoding rules are the format itself (pycocotools' maskApi.c is the reference)
 * and no JS library both decodes COCO RLE and traces pixel outlines.
 *
 * Conventions:
 * - A decoded mask is a `Uint8Array` of `height * width` bytes, ROW-major (index `y * width + x`),
 *   1 = object, 0 = background (COCO's own memory order is column-major; we transpose on decode).
 * - Polygons trace the pixel *edges* (corner coordinates): a single pixel at (3, 4) becomes the square
 *   3,4 4,4 4,5 3,5. So a polygon's bounds equal the mask's pixel extent, which is what `rleBBox` gives,
 *   and its area equals the pixel count.
 */

export class RleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RleError';
  }
}

/** A COCO RLE with its counts decoded to numbers. `counts` alternate background/object runs, column-major. */
export interface Rle {
  height: number;
  width: number;
  counts: ArrayLike<number>;
}

/** COCO `segmentation` when it is an RLE: `{ size: [h, w], counts: string | number[] }`. */
export interface CocoRleJson {
  size: [number, number] | number[];
  counts: string | number[];
}

/**
 * Decode pycocotools' compressed counts string (rleFrString): each count is a little-endian base-32
 * number in 5-bit groups (0x20 = more groups follow, 0x10 in the last group = negative), offset by 48
 * into printable ASCII; from the fourth count on, the value is a delta to the count two places back.
 */
export function rleCountsFromString(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new RleError(`compressed RLE string ends inside a count (at character ${p})`);
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new RleError(`compressed RLE string has an invalid character ${JSON.stringify(s[p])} at ${p}`);
      // arithmetic instead of bit shifts: JS shifts wrap at 32 bits
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && (c & 0x10) !== 0) x -= 2 ** (5 * k);
      if (k > 7) throw new RleError(`compressed RLE string has a count longer than 7 characters at ${p}`);
    }
    if (counts.length > 2) x += counts[counts.length - 2]!;
    if (x < 0) throw new RleError(`compressed RLE string decodes to a negative count at character ${p}`);
    counts.push(x);
  }
  return counts;
}

/** Validate a COCO RLE segmentation and decode its counts. Throws RleError with a plain reason. */
export function parseCocoRle(seg: CocoRleJson): Rle {
  const size = seg.size;
  if (!Array.isArray(size) || size.length !== 2 || !isCount(size[0]) || !isCount(size[1])) {
    throw new RleError(`RLE size must be [height, width], got ${JSON.stringify(size)}`);
  }
  const [height, width] = size as [number, number];
  let counts: number[];
  if (typeof seg.counts === 'string') counts = rleCountsFromString(seg.counts);
  else if (Array.isArray(seg.counts)) {
    counts = seg.counts;
    for (let i = 0; i < counts.length; i++) {
      if (!isCount(counts[i])) throw new RleError(`RLE counts[${i}] is ${JSON.stringify(counts[i])}, not a non-negative integer`);
    }
  } else throw new RleError('RLE counts must be a string or a list of numbers');
  let sum = 0;
  for (let i = 0; i < counts.length; i++) sum += counts[i]!;
  if (sum !== height * width) {
    throw new RleError(`RLE counts sum to ${sum} pixels but size ${height}x${width} holds ${height * width}`);
  }
  return { height, width, counts };
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** Decode a COCO RLE to a row-major binary mask (see the file comment). */
export function decodeRle(rle: Rle): Uint8Array {
  const { height: h, width: w, counts } = rle;
  const mask = new Uint8Array(h * w);
  let t = 0;
  for (let j = 0; j < counts.length; j++) {
    const n = counts[j]!;
    if (j % 2 === 1) {
      for (let k = t; k < t + n; k++) {
        const x = Math.floor(k / h);
        mask[(k - x * h) * w + x] = 1;
      }
    }
    t += n;
  }
  return mask;
}

/**
 * [x, y, w, h] of a COCO RLE exactly as pycocotools `toBbox` (rleToBbox in maskApi.c), quirks included:
 * a trailing unpaired run is ignored, arithmetic is unsigned 32-bit, an empty mask gives [0, 0, 0, 0].
 */
export function rleBBox(rle: Rle): [number, number, number, number] {
  const { height: h, width: w, counts } = rle;
  const m = Math.floor(counts.length / 2) * 2;
  if (m === 0 || h === 0) return [0, 0, 0, 0];
  let xs = w, ys = h, xe = 0, ye = 0, cc = 0, xp = 0;
  for (let j = 0; j < m; j++) {
    cc = (cc + counts[j]!) >>> 0;
    const t = (cc - (j % 2)) >>> 0;
    const y = t % h;
    const x = (t - y) / h;
    if (j % 2 === 0) xp = x;
    else if (xp < x) {
      // a run crossing a column boundary covers the whole height
      ys = 0;
      ye = h - 1;
    }
    if (x < xs) xs = x;
    if (x > xe) xe = x;
    if (y < ys) ys = y;
    if (y > ye) ye = y;
  }
  return [xs, ys, xe - xs + 1, ye - ys + 1];
}

/**
 * Outer contours of a row-major binary mask (non-zero = object), one polygon per 8-connected component,
 * as flat corner-coordinate lists [x1, y1, x2, y2, ...], clockwise on screen, only corner points kept
 * (collinear points dropped). Holes are not traced: they are not expressible in YOLO polygons.
 *
 * Method: label components by flood fill in raster order; the first pixel of each component has its
 * top-left corner on the outer boundary; walk the pixel edges from there keeping the object on the right
 * (crack following). At a vertex where two object pixels touch only diagonally the walk turns toward the
 * diagonal pixel, so 8-connected pixels stay one polygon (touching itself at that vertex).
 */
export function maskToPolygons(mask: ArrayLike<number>, width: number, height: number): number[][] {
  const w = width, h = height;
  if (mask.length < w * h) throw new RleError(`mask has ${mask.length} bytes, expected ${w}x${h}`);
  const seen = new Uint8Array(w * h);
  const stack = new Int32Array(w * h);
  const fg = (x: number, y: number) => x >= 0 && y >= 0 && x < w && y < h && mask[y * w + x] !== 0;
  const polygons: number[][] = [];
  for (let start = 0; start < w * h; start++) {
    if (mask[start] === 0 || seen[start]) continue;
    // flood-fill the component so later pixels of it are not traced again
    let sp = 0;
    stack[sp++] = start;
    seen[start] = 1;
    while (sp > 0) {
      const p = stack[--sp]!;
      const px = p % w, py = (p - px) / w;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = py + dy;
        if (ny < 0 || ny >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = px + dx;
          if (nx < 0 || nx >= w) continue;
          const q = ny * w + nx;
          if (mask[q] !== 0 && !seen[q]) {
            seen[q] = 1;
            stack[sp++] = q;
          }
        }
      }
    }
    const poly = traceOuter(fg, start % w, Math.floor(start / w));
    if (poly.length >= 6) polygons.push(poly);
  }
  return polygons;
}

// directions E, S, W, N (y grows downward); turning right = +1
const DX = [1, 0, -1, 0];
const DY = [0, 1, 0, -1];

function traceOuter(fg: (x: number, y: number) => boolean, x0: number, y0: number): number[] {
  const out = [x0, y0];
  let x = x0, y = y0, d = 0;
  // the start vertex has only its bottom-right pixel set (it is the component's first pixel in raster
  // order), so the walk passes it exactly once: arriving there ends the loop
  for (;;) {
    x += DX[d]!;
    y += DY[d]!;
    if (x === x0 && y === y0) break;
    // the two pixels ahead of the vertex, left and right of the direction of travel
    let al: boolean, ar: boolean;
    if (d === 0) { al = fg(x, y - 1); ar = fg(x, y); }
    else if (d === 1) { al = fg(x, y); ar = fg(x - 1, y); }
    else if (d === 2) { al = fg(x - 1, y); ar = fg(x - 1, y - 1); }
    else { al = fg(x - 1, y - 1); ar = fg(x, y - 1); }
    const nd = al ? (d + 3) % 4 : ar ? d : (d + 1) % 4;
    if (nd !== d) {
      out.push(x, y);
      d = nd;
    }
  }
  return out;
}

/**
 * Polygons of a COCO RLE in image pixel coordinates. Rasterises only the mask's extent, so a small
 * object in a 4K frame costs what its box costs.
 */
export function rleToPolygons(rle: Rle): number[][] {
  const { height: h, counts } = rle;
  // exact pixel extent of the object runs
  let x1 = Infinity, y1 = Infinity, x2 = -1, y2 = -1, t = 0;
  for (let j = 0; j < counts.length; j++) {
    const n = counts[j]!;
    if (j % 2 === 1 && n > 0) {
      const cs = Math.floor(t / h), ce = Math.floor((t + n - 1) / h);
      const rs = t - cs * h, re = t + n - 1 - ce * h;
      if (cs < x1) x1 = cs;
      if (ce > x2) x2 = ce;
      if (cs !== ce) { y1 = 0; y2 = Math.max(y2, h - 1); }
      else { if (rs < y1) y1 = rs; if (re > y2) y2 = re; }
    }
    t += n;
  }
  if (x2 < 0) return [];
  const cw = x2 - x1 + 1, ch = y2 - y1 + 1;
  const crop = new Uint8Array(cw * ch);
  t = 0;
  for (let j = 0; j < counts.length; j++) {
    const n = counts[j]!;
    if (j % 2 === 1) {
      for (let k = t; k < t + n; k++) {
        const x = Math.floor(k / h);
        crop[(k - x * h - y1) * cw + (x - x1)] = 1;
      }
    }
    t += n;
  }
  return offsetPolygons(maskToPolygons(crop, cw, ch), x1, y1);
}

function offsetPolygons(polys: number[][], dx: number, dy: number): number[][] {
  if (dx === 0 && dy === 0) return polys;
  for (const poly of polys) {
    for (let i = 0; i < poly.length; i += 2) {
      poly[i]! += dx;
      poly[i + 1]! += dy;
    }
  }
  return polys;
}

/**
 * CVAT's own mask (CVAT for images/video XML `<mask rle="..." left top width height>`): `rle` holds
 * comma-separated run lengths over the width x height box, row-major, starting with a background run.
 * Returns the tight pixel box and outline polygons, both in image coordinates.
 * Throws RleError when the runs are not numbers or do not fill the box.
 */
export function decodeCvatMaskRle(
  rle: string,
  left: number,
  top: number,
  width: number,
  height: number,
): { bbox: [number, number, number, number]; polygons: number[][] } {
  if (!isCount(width) || !isCount(height) || width === 0 || height === 0) {
    throw new RleError(`mask size must be positive integers, got width=${width} height=${height}`);
  }
  const mask = new Uint8Array(width * height);
  const parts = rle.split(',');
  let t = 0;
  for (let i = 0; i < parts.length; i++) {
    const s = parts[i]!.trim();
    if (s === '' && parts.length === 1) break; // empty rle: empty mask
    const n = Number(s);
    if (s === '' || !isCount(n)) throw new RleError(`mask rle value ${i + 1} is ${JSON.stringify(s)}, not a run length`);
    if (t + n > mask.length) throw new RleError(`mask rle runs cover more than the ${width}x${height} box`);
    if (i % 2 === 1) mask.fill(1, t, t + n);
    t += n;
  }
  if (t !== mask.length) throw new RleError(`mask rle runs cover ${t} pixels but the ${width}x${height} box holds ${mask.length}`);
  let x1 = Infinity, y1 = Infinity, x2 = -1, y2 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (mask[row + x] !== 0) {
        if (x < x1) x1 = x;
        if (x > x2) x2 = x;
        if (y < y1) y1 = y;
        y2 = y;
      }
    }
  }
  if (x2 < 0) return { bbox: [0, 0, 0, 0], polygons: [] };
  return {
    bbox: [left + x1, top + y1, x2 - x1 + 1, y2 - y1 + 1],
    polygons: offsetPolygons(maskToPolygons(mask, width, height), left, top),
  };
}
