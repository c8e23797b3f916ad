/**
 * Perceptual hash for near-duplicate detection: a 64-bit difference hash (dHash) over a 9x8
 * greyscale thumbnail made by sharp. Written here because it is the product's own logic (the
 * threshold and grouping semantics matter) and it is ten lines on top of sharp's resize.
 * JPEGs are shrunk on load by libjpeg, so hashing is about as fast as decoding.
 */
import sharp from 'sharp';

export const HASH_BITS = 64;

/**
 * dHash of an image (file path or its bytes); rejects with the sharp error for unreadable or
 * truncated images (`failOn: 'error'` plus a full decode of the shrunk image catches truncation).
 * The image is shrunk to 9x8 in colour and turned grey here: asking libvips for greyscale first
 * converts the full-size image and was measured ~25% slower.
 */
export async function imageHash(input: string | Buffer): Promise<bigint> {
  const { data, info } = await sharp(input, { failOn: 'error', autoOrient: true }) // EXIF: a rotated copy is the same picture
    .resize(9, 8, { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return dhashFromPixels(toGrey(data, info.channels));
}

/** Rec. 601 luma of interleaved pixels with 1-4 channels (alpha ignored). */
function toGrey(px: Uint8Array, channels: number): Uint8Array {
  if (channels <= 2) return channels === 1 ? px : px.filter((_, i) => i % 2 === 0);
  const n = px.length / channels;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * channels;
    out[i] = Math.round(0.299 * px[o]! + 0.587 * px[o + 1]! + 0.114 * px[o + 2]!);
  }
  return out;
}

/** dHash from 9x8 greyscale pixels (row-major): bit set where a pixel is brighter than its right neighbour. */
export function dhashFromPixels(px: Uint8Array): bigint {
  let hash = 0n;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      const left = px[y * 9 + x]!;
      const right = px[y * 9 + x + 1]!;
      hash = (hash << 1n) | (left > right ? 1n : 0n);
    }
  }
  return hash;
}

export function hammingDistance(a: bigint, b: bigint): number {
  let v = a ^ b;
  let n = 0;
  while (v) {
    v &= v - 1n;
    n++;
  }
  return n;
}

export function hashToHex(h: bigint): string {
  return h.toString(16).padStart(16, '0');
}

/**
 * Linked pairs `[i, j, distance]` of items whose hashes are within `threshold` bits: enough pairs
 * to connect every near-duplicate cluster (what grouping needs), not every pair of a cluster.
 * Pigeonhole: split the 64 bits into (threshold + 1) bands; two hashes within `threshold` agree on
 * at least one band, so only items sharing a band value are compared. Inside a bucket each item is
 * compared with the bucket's representatives only, so a static camera's thousand identical frames
 * cost a thousand comparisons, not half a million. Thresholds are capped at 15 (16 bands of 4 bits).
 */
export function nearDuplicatePairs(hashes: readonly (bigint | undefined)[], threshold: number): Array<[number, number, number]> {
  if (threshold < 0) return [];
  const t = Math.min(threshold, MAX_DUP_THRESHOLD);
  const bands = t + 1;
  const width = Math.ceil(HASH_BITS / bands);
  const parent = hashes.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const out: Array<[number, number, number]> = [];
  for (let b = 0; b < bands; b++) {
    const shift = BigInt(b * width);
    const mask = (1n << BigInt(Math.min(width, HASH_BITS - b * width))) - 1n;
    const reps = new Map<bigint, number[]>();
    hashes.forEach((h, i) => {
      if (h === undefined) return;
      const key = (h >> shift) & mask;
      const list = reps.get(key);
      if (!list) {
        reps.set(key, [i]);
        return;
      }
      let linked = false;
      for (const r of list) {
        const d = hammingDistance(h, hashes[r]!);
        if (d > t) continue;
        linked = true;
        const a = find(i), c = find(r);
        if (a !== c) {
          parent[a] = c;
          out.push([r, i, d]);
        }
        break;
      }
      if (!linked) list.push(i);
    });
  }
  return out;
}

/** The largest near-duplicate threshold the band index supports. */
export const MAX_DUP_THRESHOLD = 15;
