/**
 * A model's predictions on a source, cached in `<workspace>/cache/predictions/<key>.jsonl`: the key is
 * the model file (absolute path, size, mtime), the source (dataset + split, or folder), the conf floor
 * and the NMS IoU. Written atomically; a changed model file gets a new key.
 *
 * The file is JSON lines: a header (the set without its images, plus the format, its version and the
 * counts), then one line per image in the compact form of shared/review-codec.ts (boxes to 0.001 px,
 * scores as float32). Written and read line by line, so a set of any size can be cached and used by the
 * core (the labelling batch); review.get sends a set in one message, up to MAX_MESSAGE_BYTES.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { CompactImage, ReviewSet, ReviewSetWire, ReviewSource } from '../../shared/review.js';
import { decodeReviewSet, encodeImage, GT_STRIDE, PRED_STRIDE } from '../../shared/review-codec.js';
import type { HandlerDeps } from '../deps.js';

/** Predictions are kept down to this score, like Ultralytics' val (the UI filters above it). */
export const CONF_FLOOR = 0.001;
export const REVIEW_IOU = 0.7;
export const MAX_DET = 300;

export function predictionsDir(workspace: string): string {
  return path.join(workspace, 'cache', 'predictions');
}

/** The source with absolute paths and its default split, as the key and the set record it. */
export function normalizeSource(s: ReviewSource): ReviewSource {
  const model = path.resolve(s.model);
  if (s.dataset) return { model, dataset: path.resolve(s.dataset), split: s.split ?? 'val' };
  if (s.folder) return { model, folder: path.resolve(s.folder) };
  throw new Error('a review source needs a dataset (and split) or a folder of images');
}

export async function reviewKey(source: ReviewSource, confFloor = CONF_FLOOR, iou = REVIEW_IOU): Promise<string> {
  const s = normalizeSource(source);
  let st;
  try {
    st = await fs.stat(s.model);
  } catch {
    throw new Error(`${s.model}: no such model file`);
  }
  const id = JSON.stringify({ model: s.model, size: st.size, mtime: Math.round(st.mtimeMs), dataset: s.dataset ?? null, split: s.dataset ? s.split : null, folder: s.folder ?? null, confFloor, iou });
  return `${path.basename(s.model, path.extname(s.model)).replace(/[^\w.-]+/g, '_').slice(0, 40)}-${createHash('sha1').update(id).digest('hex').slice(0, 16)}`;
}

export const CACHE_FORMAT = 'spotter-predictions';
export const CACHE_VERSION = 3;
/**
 * The most review.get sends in one message (its JSON): the serve transport's JSON text and the
 * renderer's parse of it must stay well under V8's longest string (~512 MiB), and the renderer holds
 * the decoded set besides (about 4× the message). 10,000 images × 300 predictions is ~117 MiB.
 */
export const MAX_MESSAGE_BYTES = 256 * 2 ** 20;

/** The header line of a cache file. */
interface CacheHeader extends Omit<ReviewSetWire, 'images' | 'encoding'> {
  format: typeof CACHE_FORMAT;
  version: number;
  encoding: 'compact-1';
  images: number;
  predictions: number;
}

export function cacheFile(workspace: string, key: string): string {
  return path.join(predictionsDir(workspace), `${key}.jsonl`);
}

/** Write a set into the cache (atomically, line by line); returns the file and its size. */
export async function writeReviewSet(workspace: string, set: ReviewSet): Promise<{ file: string; bytes: number }> {
  const file = cacheFile(workspace, set.key);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  const { images, ...rest } = set;
  const header: CacheHeader = {
    format: CACHE_FORMAT,
    version: CACHE_VERSION,
    ...rest,
    encoding: 'compact-1',
    images: images.length,
    predictions: images.reduce((n, i) => n + i.pred.length, 0),
  };
  let bytes = 0;
  const fh = await fs.open(tmp, 'w');
  try {
    let chunk = JSON.stringify(header) + '\n';
    for (const im of images) {
      chunk += JSON.stringify(encodeImage(im)) + '\n';
      if (chunk.length > 1 << 22) {
        bytes += (await fh.write(chunk)).bytesWritten;
        chunk = '';
      }
    }
    if (chunk) bytes += (await fh.write(chunk)).bytesWritten;
    await fh.close();
    await fs.rename(tmp, file);
  } catch (err) {
    await fh.close().catch(() => {});
    await fs.rm(tmp, { force: true });
    throw err;
  }
  // the single-JSON cache of Spotter before version 2 (same key): superseded
  await fs.rm(file.replace(/\.jsonl$/, '.json'), { force: true }).catch(() => {});
  return { file, bytes };
}

/** A cache file read back: the compact set and the size of its lines. Null when missing or stale; throws when unreadable. */
async function readCache(file: string, key: string): Promise<{ wire: ReviewSetWire; bytes: number; predictions: number } | null> {
  let stream;
  try {
    await fs.access(file);
    stream = createReadStream(file, { encoding: 'utf8' });
  } catch {
    return null;
  }
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let header: CacheHeader | null = null;
  const images: CompactImage[] = [];
  let bytes = 0, predictions = 0, n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (!line) continue;
      bytes += line.length + 1;
      if (!header) {
        const h = JSON.parse(line) as CacheHeader;
        if (h?.format !== CACHE_FORMAT || h.version !== CACHE_VERSION) throw new Error(`not a Spotter prediction cache of version ${CACHE_VERSION}`);
        if (h.key !== key) return null;
        header = h;
        continue;
      }
      let im: CompactImage;
      try {
        im = JSON.parse(line) as CompactImage;
      } catch (err) {
        throw new Error(`line ${n}: ${(err as Error).message}`);
      }
      decodeCheck(im, n);
      predictions += im[5].length / PRED_STRIDE;
      images.push(im);
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  if (!header) throw new Error('empty file');
  if (images.length !== header.images || predictions !== header.predictions) {
    throw new Error(`holds ${images.length} images and ${predictions} predictions, its header says ${header.images} and ${header.predictions} (cut short?)`);
  }
  const { format: _f, version: _v, images: _n, predictions: _p, ...rest } = header;
  return { wire: { ...rest, images }, bytes, predictions };
}

/** The shape of one image line (cheap: the renderer decodes the boxes; decodeImage checks them again). */
function decodeCheck(im: CompactImage, line: number): void {
  const ok =
    Array.isArray(im) &&
    im.length === 6 &&
    typeof im[0] === 'string' &&
    typeof im[1] === 'string' &&
    typeof im[2] === 'number' &&
    typeof im[3] === 'number' &&
    (im[4] === null || (Array.isArray(im[4]) && im[4].length % GT_STRIDE === 0)) &&
    Array.isArray(im[5]) &&
    im[5].length % PRED_STRIDE === 0;
  if (!ok) throw new Error(`line ${line}: not an image entry (${JSON.stringify(im).slice(0, 80)})`);
}

async function cached(deps: HandlerDeps, source: ReviewSource) {
  const key = await reviewKey(source);
  const file = cacheFile(deps.workspace(), key);
  try {
    const hit = await readCache(file, key);
    return hit && { ...hit, file };
  } catch (err) {
    deps.ctx.logger.warn(`${file}: unreadable prediction cache, ignored (${(err as Error).message})`);
    return null;
  }
}

/** The cached ReviewSet of a model on a source, or null when it was not predicted yet (or the model changed since). */
export async function getReviewSet(deps: HandlerDeps, source: ReviewSource): Promise<ReviewSet | null> {
  const hit = await cached(deps, source);
  return hit ? decodeReviewSet(hit.wire) : null;
}

/** How many images and predictions the cache holds for a source (null: nothing cached). */
export async function cachedSummary(deps: HandlerDeps, source: ReviewSource): Promise<{ key: string; images: number; predictions: number; seconds: number } | null> {
  const hit = await cached(deps, source);
  return hit ? { key: hit.wire.key, images: hit.wire.images.length, predictions: hit.predictions, seconds: hit.wire.seconds } : null;
}

/**
 * review.get's answer: the cached set in its compact form, in one message. A set too large for one
 * message is an error that says so (the batch and the CLI can still use it: they read the file).
 */
export async function getReviewSetWire(deps: HandlerDeps, source: ReviewSource, maxBytes = MAX_MESSAGE_BYTES): Promise<ReviewSetWire | null> {
  const hit = await cached(deps, source);
  if (!hit) return null;
  if (hit.bytes > maxBytes) {
    const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
    throw new Error(
      `${hit.file}: ${hit.wire.images.length} images with ${hit.predictions} predictions are ${mib(hit.bytes)}, more than the gallery takes in one message (${mib(maxBytes)}); ` +
        'review a smaller split or folder (the labelling batch and `spotter review batch` still work on this set)',
    );
  }
  return hit.wire;
}
