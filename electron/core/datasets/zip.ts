/**
 * Safe extraction of export zips (CVAT, Roboflow) with yauzl: every entry name is checked before
 * anything is written — absolute paths, `..` segments, drive letters and symlinks are refused with
 * an error naming the zip and the entry — and the zip is extracted into a fresh folder that is
 * removed again when extraction fails or is cancelled.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { ImportError } from './model.js';

export interface ExtractOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** refuse archives expanding beyond this many bytes (zip bombs); default 64 GiB */
  maxBytes?: number;
}

function checkEntryName(zipPath: string, name: string): string {
  const norm = name.replace(/\\/g, '/');
  if (norm.startsWith('/') || /^[a-zA-Z]:/.test(norm) || norm.split('/').some((seg) => seg === '..')) {
    throw new ImportError('unsafe entry path in zip (absolute or leaving the archive); nothing was extracted', zipPath, name);
  }
  if (norm.includes('\0')) throw new ImportError('entry name contains a NUL byte', zipPath, name);
  return norm;
}

function openZip(zipPath: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true, autoClose: false, strictFileNames: false, decodeStrings: true }, (err, zip) => {
      if (err || !zip) reject(new ImportError(`not a readable zip archive (${err?.message ?? 'unknown error'})`, zipPath));
      else resolve(zip);
    });
  });
}

function listEntries(zip: yauzl.ZipFile, zipPath: string): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on('entry', (e: yauzl.Entry) => {
      entries.push(e);
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', (err: Error) => reject(new ImportError(`corrupt zip archive: ${err.message}`, zipPath)));
    zip.readEntry();
  });
}

/** Extract `zipPath` into `dest` (which must not exist yet). Removes `dest` on any failure. */
export async function extractZip(zipPath: string, dest: string, opts: ExtractOptions = {}): Promise<void> {
  const zip = await openZip(zipPath);
  let created = false;
  try {
    const entries = await listEntries(zip, zipPath);
    // validate everything first: a bad entry means nothing is written at all
    let total = 0;
    for (const e of entries) {
      checkEntryName(zipPath, e.fileName);
      const mode = (e.externalFileAttributes >>> 16) & 0o170000;
      if (mode === 0o120000) throw new ImportError('symbolic links in zips are not accepted', zipPath, e.fileName);
      total += e.uncompressedSize;
    }
    if (total > (opts.maxBytes ?? 64 * 2 ** 30)) {
      throw new ImportError(`archive would expand to ${(total / 2 ** 30).toFixed(1)} GiB; refusing`, zipPath);
    }
    await fsp.mkdir(dest, { recursive: false });
    created = true;
    let done = 0;
    for (const e of entries) {
      if (opts.signal?.aborted) throw new ImportError('cancelled', zipPath);
      const rel = checkEntryName(zipPath, e.fileName);
      const target = path.join(dest, ...rel.split('/').filter(Boolean));
      if (rel.endsWith('/')) {
        await fsp.mkdir(target, { recursive: true });
      } else {
        await fsp.mkdir(path.dirname(target), { recursive: true });
        const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
          zip.openReadStream(e, (err, s) => (err || !s ? reject(new ImportError(`cannot read entry: ${err?.message}`, zipPath, e.fileName)) : resolve(s))),
        );
        try {
          await pipeline(stream, fs.createWriteStream(target, { flags: 'wx' }));
        } catch (err) {
          throw new ImportError(`cannot extract entry: ${(err as Error).message}`, zipPath, e.fileName);
        }
      }
      done++;
      opts.onProgress?.(done, entries.length);
    }
  } catch (err) {
    if (created) await fsp.rm(dest, { recursive: true, force: true }).catch(() => {});
    throw err;
  } finally {
    zip.close();
  }
}
