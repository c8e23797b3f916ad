import { describe, expect, it } from 'vitest';
import {
  RleError,
  decodeCvatMaskRle,
  decodeRle,
  maskToPolygons,
  parseCocoRle,
  rleBBox,
  rleCountsFromString,
  rleToPolygons,
} from '../electron/core/datasets/rle.js';

// ---- an independent encoder, transcribed from pycocotools maskApi.c (rleEncode + rleToString)

/** counts of a row-major mask, scanned column-major as COCO does, starting with a background run */
function encodeCounts(mask: Uint8Array, w: number, h: number): number[] {
  const counts: number[] = [];
  let p = 0, c = 0;
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      const v = mask[y * w + x]!;
      if (v !== p) { counts.push(c); c = 0; p = v; }
      c++;
    }
  }
  counts.push(c);
  return counts;
}

function countsToString(cnts: number[]): string {
  let s = '';
  for (let i = 0; i < cnts.length; i++) {
    let x = cnts[i]!;
    if (i > 2) x -= cnts[i - 2]!;
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x >>= 5; // arithmetic shift, as `long x >>= 5` in C
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}

// deterministic pseudo-random masks with blobs, thin lines and single pixels
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
function randomMask(w: number, h: number, seed: number, density: number): Uint8Array {
  const r = lcg(seed);
  const m = new Uint8Array(w * h);
  for (let i = 0; i < m.length; i++) m[i] = r() < density ? 1 : 0;
  return m;
}

function extent(mask: Uint8Array, w: number, h: number): [number, number, number, number] {
  let x1 = Infinity, y1 = Infinity, x2 = -1, y2 = -1;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (mask[y * w + x]) {
    x1 = Math.min(x1, x); y1 = Math.min(y1, y); x2 = Math.max(x2, x); y2 = Math.max(y2, y);
  }
  return x2 < 0 ? [0, 0, 0, 0] : [x1, y1, x2 - x1 + 1, y2 - y1 + 1];
}

/** pixel centres inside any polygon (even-odd rule per polygon) */
function rasterize(polys: number[][], w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h);
  for (const p of polys) {
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const px = x + 0.5, py = y + 0.5;
      let inside = false;
      for (let i = 0, j = p.length - 2; i < p.length; j = i, i += 2) {
        const xi = p[i]!, yi = p[i + 1]!, xj = p[j]!, yj = p[j + 1]!;
        if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
      }
      if (inside) out[y * w + x] = 1;
    }
  }
  return out;
}

/** the mask with its holes filled: everything not reachable from outside through 4-connected background */
function filled(mask: Uint8Array, w: number, h: number): Uint8Array {
  const outside = new Uint8Array(w * h);
  const stack: number[] = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    if ((x === 0 || y === 0 || x === w - 1 || y === h - 1) && !mask[y * w + x]) { outside[y * w + x] = 1; stack.push(y * w + x); }
  }
  while (stack.length) {
    const p = stack.pop()!, x = p % w, y = (p - x) / w;
    for (const [nx, ny] of [[x + 1, y], [x - 1, y], [x, y + 1], [x, y - 1]] as const) {
      const q = ny * w + nx;
      if (nx >= 0 && ny >= 0 && nx < w && ny < h && !mask[q] && !outside[q]) { outside[q] = 1; stack.push(q); }
    }
  }
  return outside.map((o) => (o ? 0 : 1));
}

function components8(mask: Uint8Array, w: number, h: number): number {
  const seen = new Uint8Array(w * h);
  let n = 0;
  for (let i = 0; i < w * h; i++) {
    if (!mask[i] || seen[i]) continue;
    n++;
    const stack = [i];
    seen[i] = 1;
    while (stack.length) {
      const p = stack.pop()!, x = p % w, y = (p - x) / w;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx, ny = y + dy, q = ny * w + nx;
        if (nx >= 0 && ny >= 0 && nx < w && ny < h && mask[q] && !seen[q]) { seen[q] = 1; stack.push(q); }
      }
    }
  }
  return n;
}

const fromRows = (rows: string[]) => {
  const h = rows.length, w = rows[0]!.length;
  return { w, h, mask: Uint8Array.from(rows.join('').split(''), (c) => (c === '#' ? 1 : 0)) };
};

describe('compressed COCO RLE strings', () => {
  it('decodes hand-encoded strings, including the delta from the fourth count and a negative delta', () => {
    // 0 -> "0"; 20 = 0b10100: low group 20 has bit 0x10, so a continuation (0x20) is needed: 20|0x20=52 -> 'd', then 0 -> '0'
    expect(rleCountsFromString('0d0n0')).toEqual([0, 20, 30]);
    // fourth count written as 5 - 4 = 1
    expect(rleCountsFromString('3421')).toEqual([3, 4, 2, 5]);
    // fourth count 3 written as 3 - 10 = -7: low 5 bits of -7 are 25 (sign bit 0x10 set, no more) -> 'I'
    expect(rleCountsFromString('5:2I')).toEqual([5, 10, 2, 3]);
  });

  it('agrees with the pycocotools encoder on the hand cases', () => {
    expect(countsToString([0, 20, 30])).toBe('0d0n0');
    expect(countsToString([3, 4, 2, 5])).toBe('3421');
    expect(countsToString([5, 10, 2, 3])).toBe('5:2I');
  });

  it('round-trips random masks through the pycocotools encoding', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const w = 3 + (seed % 37), h = 2 + ((seed * 7) % 41);
      const mask = randomMask(w, h, seed, seed % 2 ? 0.15 : 0.6);
      const counts = encodeCounts(mask, w, h);
      const s = countsToString(counts);
      expect(rleCountsFromString(s)).toEqual(counts);
      const rle = parseCocoRle({ size: [h, w], counts: s });
      expect(decodeRle(rle)).toEqual(mask);
      // on masks pycocotools itself encoded, toBbox is the exact pixel extent
      expect(rleBBox(rle)).toEqual(extent(mask, w, h));
    }
  });

  it('handles counts past 32 bits of groups (large images)', () => {
    const counts = [2_000_000, 1_500_000, 3_000_000, 100];
    const s = countsToString(counts);
    expect(rleCountsFromString(s)).toEqual(counts);
  });

  it('rejects broken strings and sizes with a reason', () => {
    expect(() => rleCountsFromString('0d')).toThrow(/ends inside a count/);
    expect(() => rleCountsFromString('0\u0020')).toThrow(/invalid character/);
    expect(() => parseCocoRle({ size: [10, 5], counts: [0, 20, 31] })).toThrow(/sum to 51 .* 10x5 holds 50/);
    expect(() => parseCocoRle({ size: [10], counts: [50] })).toThrow(RleError);
    expect(() => parseCocoRle({ size: [10, 5], counts: [0, -1, 51] })).toThrow(/counts\[1\]/);
  });
});

describe('rleBBox (pycocotools toBbox)', () => {
  it('gives hand-computed boxes', () => {
    // 10 high, 5 wide; 0 background then 20 object pixels = columns 0 and 1 entirely
    expect(rleBBox({ height: 10, width: 5, counts: [0, 20, 30] })).toEqual([0, 0, 2, 10]);
    // 5 high, 10 wide: columns 2-3 and 5-6 (Datumaro's stuff fixture)
    expect(rleBBox({ height: 5, width: 10, counts: [10, 10, 5, 10, 15] })).toEqual([2, 0, 5, 5]);
    // 4 high, 3 wide: pixels 5 and 6 in column order = column 1, rows 1-2
    expect(rleBBox({ height: 4, width: 3, counts: [5, 2, 5] })).toEqual([1, 1, 1, 2]);
    // a run crossing a column boundary spans the full height even if it covers little of either column
    expect(rleBBox({ height: 4, width: 3, counts: [3, 2, 7] })).toEqual([0, 0, 2, 4]);
    expect(rleBBox({ height: 4, width: 3, counts: [12] })).toEqual([0, 0, 0, 0]);
    expect(rleBBox({ height: 4, width: 3, counts: [0, 12] })).toEqual([0, 0, 3, 4]);
  });
});

describe('maskToPolygons', () => {
  it('traces pixel edges: a single pixel is its square', () => {
    const { w, h, mask } = fromRows(['...', '.#.', '...']);
    expect(maskToPolygons(mask, w, h)).toEqual([[1, 1, 2, 1, 2, 2, 1, 2]]);
  });

  it('keeps only corners of an L shape, clockwise on screen', () => {
    const { w, h, mask } = fromRows(['#...', '#...', '###.']);
    expect(maskToPolygons(mask, w, h)).toEqual([[0, 0, 1, 0, 1, 2, 3, 2, 3, 3, 0, 3]]);
  });

  it('joins diagonal neighbours (8-connectivity) and gives one polygon per component', () => {
    const diag = fromRows(['#.', '.#']);
    expect(maskToPolygons(diag.mask, diag.w, diag.h)).toEqual([[0, 0, 1, 0, 1, 1, 2, 1, 2, 2, 1, 2, 1, 1, 0, 1]]);
    const two = fromRows(['##..#', '##..#', '.....']);
    expect(maskToPolygons(two.mask, two.w, two.h)).toEqual([[0, 0, 2, 0, 2, 2, 0, 2], [4, 0, 5, 0, 5, 2, 4, 2]]);
  });

  it('traces only the outer outline of a ring; an island inside the hole is its own polygon', () => {
    const { w, h, mask } = fromRows(['#####', '#...#', '#.#.#', '#...#', '#####']);
    expect(maskToPolygons(mask, w, h)).toEqual([[0, 0, 5, 0, 5, 5, 0, 5], [2, 2, 3, 2, 3, 3, 2, 3]]);
  });

  it('on random masks: polygons fill exactly the components with holes filled, one per component', () => {
    for (let seed = 100; seed < 130; seed++) {
      const w = 5 + (seed % 19), h = 4 + ((seed * 3) % 17);
      const mask = randomMask(w, h, seed, [0.2, 0.45, 0.7][seed % 3]!);
      const polys = maskToPolygons(mask, w, h);
      expect(polys.length).toBe(components8(mask, w, h));
      expect(rasterize(polys, w, h)).toEqual(filled(mask, w, h));
      for (const p of polys) expect(p.length).toBeGreaterThanOrEqual(8);
    }
  });

  it('rleToPolygons crops to the object but answers in image coordinates', () => {
    const { w, h, mask } = fromRows(['......', '..##..', '..#...', '......']);
    const rle = parseCocoRle({ size: [h, w], counts: encodeCounts(mask, w, h) });
    expect(rleToPolygons(rle)).toEqual(maskToPolygons(mask, w, h));
    expect(rleToPolygons(rle)).toEqual([[2, 1, 4, 1, 4, 2, 3, 2, 3, 3, 2, 3]]);
    expect(rleToPolygons({ height: 3, width: 3, counts: [9] })).toEqual([]);
  });
});

describe('decodeCvatMaskRle', () => {
  it('decodes row-major runs inside the left/top/width/height box to image coordinates', () => {
    // 3 wide, 2 high: bg 1, fg 2 -> (1,0),(2,0); bg 1 -> (0,1); fg 2 -> (1,1),(2,1)
    const r = decodeCvatMaskRle('1, 2, 1, 2', 10, 20, 3, 2);
    expect(r.bbox).toEqual([11, 20, 2, 2]);
    expect(r.polygons).toEqual([[11, 20, 13, 20, 13, 22, 11, 22]]);
  });

  it('finds separate parts and the tight box', () => {
    // 4 wide, 3 high:  #...  /  ....  /  ..##
    const r = decodeCvatMaskRle('0,1,9,2', 100, 50, 4, 3);
    expect(r.bbox).toEqual([100, 50, 4, 3]);
    expect(r.polygons).toEqual([[100, 50, 101, 50, 101, 51, 100, 51], [102, 52, 104, 52, 104, 53, 102, 53]]);
  });

  it('rejects runs that do not fill the box or are not numbers', () => {
    expect(() => decodeCvatMaskRle('1, 2, 1', 0, 0, 3, 2)).toThrow(/cover 4 pixels .* holds 6/);
    expect(() => decodeCvatMaskRle('1, 9', 0, 0, 3, 2)).toThrow(/more than the 3x2 box/);
    expect(() => decodeCvatMaskRle('1, x, 3', 0, 0, 3, 2)).toThrow(/value 2 is "x"/);
    expect(() => decodeCvatMaskRle('6', 0, 0, 0, 2)).toThrow(RleError);
  });
});
