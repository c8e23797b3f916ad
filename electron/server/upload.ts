/**
 * Dropped files in serve mode: the browser cannot hand us paths, so it streams each file here and
 * the import reads the copy. Bodies go straight from the socket to disk (any size, constant memory);
 * a dropped folder keeps its relative layout under one folder per drop (the batch).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage } from 'node:http';
import { isInside } from '../core/fsutil.js';

export class UploadError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const BATCH_RE = /^[A-Za-z0-9_-]{1,64}$/;
// control characters, and what Windows cannot store (a server may be either)
const ODD_CHARS = /[\u0000-\u001f\u007f\\:*?"<>|]/;

/** Split a client-given relative path into safe segments, or explain why it is refused. */
export function uploadSegments(name: string): string[] {
  if (!name) throw new UploadError('upload: missing ?name=');
  if (name.length > 4096) throw new UploadError('upload: name too long');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw new UploadError(`upload: absolute path refused: "${name}"`);
  const segments = name.split('/');
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..') throw new UploadError(`upload: path segment "${s}" refused in "${name}"`);
    if (ODD_CHARS.test(s)) throw new UploadError(`upload: unsupported character in "${name}"`);
    if (Buffer.byteLength(s) > 255) throw new UploadError(`upload: name segment too long in "${name}"`);
    if (/[. ]$/.test(s)) throw new UploadError(`upload: name segment ending in a dot or space refused in "${name}"`);
  }
  return segments;
}

export function checkBatch(batch: string | null): string {
  if (!batch || !BATCH_RE.test(batch)) throw new UploadError('upload: ?batch= must be 1-64 characters of A-Z a-z 0-9 _ -');
  return batch;
}

export interface UploadResult {
  /** server-side path of the written file */
  path: string;
  /** server-side path of the top-level dropped item this file belongs to (the file, or its dropped folder) */
  top: string;
  size: number;
}

export async function receiveUpload(req: IncomingMessage, uploadsDir: string, batch: string | null, name: string | null): Promise<UploadResult> {
  const batchDir = path.join(uploadsDir, checkBatch(batch));
  const segments = uploadSegments(name ?? '');
  const dest = path.join(batchDir, ...segments);
  if (!isInside(batchDir, dest) || dest === batchDir) throw new UploadError(`upload: "${name}" escapes its folder`);
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  // the folders we just made must not lead elsewhere (a symlink planted in the uploads folder)
  const realParent = await fsp.realpath(path.dirname(dest));
  const realBatch = await fsp.realpath(batchDir);
  if (!isInside(realBatch, realParent)) throw new UploadError(`upload: "${name}" escapes its folder`, 403);

  const part = path.join(path.dirname(dest), `.${segments.at(-1)}.${randomBytes(4).toString('hex')}.part`);
  let size = 0;
  try {
    await pipeline(req, fs.createWriteStream(part, { flags: 'wx' }));
    size = (await fsp.stat(part)).size;
    const expected = req.headers['content-length'];
    if (expected !== undefined && Number(expected) !== size) {
      throw new UploadError(`upload: "${name}" ended after ${size} of ${expected} bytes`);
    }
    await fsp.rename(part, dest);
  } catch (err) {
    await fsp.rm(part, { force: true });
    throw err;
  }
  return { path: dest, top: path.join(batchDir, segments[0]!), size };
}
