import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** Write a file by writing a temporary sibling and renaming it over the target. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

/** True when `child` is `root` or inside it (after resolving `..`). */
export function isInside(root: string, child: string): boolean {
  const rel = path.relative(path.resolve(root), path.resolve(child));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff', '.gif', '.dng', '.mpo', '.heic', '.pfm']);

export function isImageFile(p: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(p).toLowerCase());
}

/** All files under a folder (recursive), skipping hidden folders such as __MACOSX / .git. */
export async function walkFiles(root: string, signal?: AbortSignal): Promise<string[]> {
  const out: string[] = [];
  const stack = [root];
  while (stack.length) {
    if (signal?.aborted) break;
    const dir = stack.pop()!;
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === '__MACOSX') continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) out.push(p);
    }
  }
  return out.sort();
}

/**
 * Remove what crashed or killed jobs left in the temporary folder (zip extractions, uploads)
 * once it is older than `maxAgeMs`; younger entries may belong to a job still running.
 */
export async function sweepStaleTemp(tempDir: string, maxAgeMs = 24 * 3600_000): Promise<void> {
  const now = Date.now();
  const uid = process.getuid?.();
  for (const dir of [tempDir, path.join(tempDir, 'uploads')]) {
    // only a real folder of our own: never follow a symlink planted in place of the temp folder
    const own = await fs.lstat(dir).catch(() => null);
    if (!own?.isDirectory() || (uid !== undefined && own.uid !== uid)) continue;
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isDirectory() || e.name === 'uploads') continue; // Dirent of a symlink is not a directory
      const p = path.join(dir, e.name);
      const st = await fs.lstat(p).catch(() => null);
      if (st?.isDirectory() && now - st.mtimeMs > maxAgeMs) await fs.rm(p, { recursive: true, force: true }).catch(() => {});
    }
  }
}
