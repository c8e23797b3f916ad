/**
 * Cached thumbnails of dataset images for the grid (serve mode's /api/thumb and Electron's
 * spotter-file://thumb). Keyed by (real path, mtime, byte size, thumbnail size), so an edited image
 * gets a fresh thumbnail; concurrent requests for one key share one sharp pipeline.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import sharp from 'sharp';

export const THUMB_MIN = 16;
export const THUMB_MAX = 1024;
export const THUMB_MIME = 'image/webp';

const inflight = new Map<string, Promise<string>>();

/** Clamp a requested size to what we render (a grid never needs more than 1024 px). */
export function thumbSize(requested: number): number {
  if (!Number.isFinite(requested)) return 256;
  return Math.min(THUMB_MAX, Math.max(THUMB_MIN, Math.round(requested)));
}

/**
 * Path of a WebP thumbnail (longest side `size` px, never enlarged, EXIF orientation applied) of
 * `imagePath`, rendering it into `cacheDir` when not cached yet.
 */
export async function thumbnail(imagePath: string, size: number, cacheDir: string): Promise<string> {
  const abs = path.resolve(imagePath);
  const px = thumbSize(size);
  const st = await fs.stat(abs);
  if (!st.isFile()) throw new Error(`${abs}: not a file`);
  const key = createHash('sha256').update(`${abs}\0${st.mtimeMs}\0${st.size}\0${px}`).digest('hex');
  const out = path.join(cacheDir, key.slice(0, 2), `${key}.webp`);

  const pending = inflight.get(key);
  if (pending) return pending;
  const work = (async () => {
    try {
      await fs.access(out);
      return out;
    } catch {
      // not cached yet
    }
    await fs.mkdir(path.dirname(out), { recursive: true });
    // render beside the target, then rename: a reader never sees a half-written thumbnail
    const tmp = `${out}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await sharp(abs, { failOn: 'none' })
        .rotate()
        .resize(px, px, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 80 })
        .toFile(tmp);
      await fs.rename(tmp, out);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw new Error(`${abs}: cannot make a thumbnail: ${err instanceof Error ? err.message : String(err)}`);
    }
    return out;
  })();
  inflight.set(key, work);
  try {
    return await work;
  } finally {
    inflight.delete(key);
  }
}
