/**
 * Perceptual hash for near-duplicate detection: a 64-bit difference hash (dHash) over a 9x8
 * greyscale thumbnail made by sharp. Written here because it is the product's own logic (the
 * threshold and grouping semantics matter) and it is ten lines on top of sharp's resize.
 * JPEGs are shrunk on load by libjpeg, so hashing is about as fast as decoding.
 */
import sharp from 'sharp';

export const HASH_BITS = 64;

/** dHash of an image file; rejects with the sharp error for unreadable images. */
export async function imageHash(path: string): Promise<bigint> {
  const { data } = await sharp(path, { failOn: 'error' })
    .rotate() // respect EXIF orientation: a rotated copy is still the same picture to the user
    .greyscale()
    .resize(9, 8, { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return dhashFromPixels(data);
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
 * Pairs of items whose hashes are within `threshold` bits. Uses the pigeonhole trick: split the
 * 64 bits into (threshold + 1) bands; two hashes within `threshold` agree exactly on at least one
 * band, so only items sharing a band value are compared. Near-linear for realistic data.
 */
export function nearDuplicatePairs(hashes: readonly (bigint | undefined)[], threshold: number): Array<[number, number, number]> {
  if (threshold < 0) return [];
  const bands = Math.min(threshold + 1, 16);
  const width = Math.ceil(HASH_BITS / bands);
  const seen = new Set<string>();
  const out: Array<[number, number, number]> = [];
  for (let b = 0; b < bands; b++) {
    const shift = BigInt(b * width);
    const mask = (1n << BigInt(Math.min(width, HASH_BITS - b * width))) - 1n;
    const buckets = new Map<bigint, number[]>();
    hashes.forEach((h, i) => {
      if (h === undefined) return;
      const key = (h >> shift) & mask;
      const list = buckets.get(key);
      if (list) list.push(i);
      else buckets.set(key, [i]);
    });
    for (const list of buckets.values()) {
      if (list.length < 2) continue;
      for (let x = 0; x < list.length; x++) {
        for (let y = x + 1; y < list.length; y++) {
          const i = list[x]!, j = list[y]!;
          const k = `${i},${j}`;
          if (seen.has(k)) continue;
          const d = hammingDistance(hashes[i]!, hashes[j]!);
          if (d <= threshold) {
            seen.add(k);
            out.push([i, j, d]);
          }
        }
      }
    }
  }
  return out;
}
