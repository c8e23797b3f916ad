/**
 * Perceptual hashing throughput vs bare sharp decode of the same 640x480 JPEGs, same concurrency,
 * interleaved rounds in one process so both see the same machine state.
 */
import sharp from 'sharp';
import { imageHash } from '../electron/core/datasets/phash.js';
import { mapLimit } from '../electron/core/pool.js';

export async function benchPhash(files: string[], rounds = 3, concurrency = 4) {
  const decode = async () => {
    const t = performance.now();
    await mapLimit(files, concurrency, async (f) => {
      await sharp(f).raw().toBuffer();
    });
    return performance.now() - t;
  };
  const hash = async () => {
    const t = performance.now();
    await mapLimit(files, concurrency, (f) => imageHash(f));
    return performance.now() - t;
  };
  await decode(); // warm-up: file cache and libvips
  await hash();
  const d: number[] = [], h: number[] = [];
  for (let r = 0; r < rounds; r++) {
    d.push(await decode());
    h.push(await hash());
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  const decodeIps = (files.length / median(d)) * 1000;
  const hashIps = (files.length / median(h)) * 1000;
  return { images: files.length, rounds, concurrency, decode_images_per_s: decodeIps, hash_images_per_s: hashIps, ratio: hashIps / decodeIps };
}
