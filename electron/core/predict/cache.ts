/**
 * A model's predictions on a source, cached in `<workspace>/cache/predictions/<key>.json`: the key is
 * the model file (absolute path, size, mtime), the source (dataset + split, or folder), the conf floor
 * and the NMS IoU. Written atomically; a changed model file gets a new key.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ReviewSet, ReviewSource } from '../../shared/review.js';
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

export function cacheFile(workspace: string, key: string): string {
  return path.join(predictionsDir(workspace), `${key}.json`);
}

/** The cached ReviewSet of a model on a source, or null when it was not predicted yet (or the model changed since). */
export async function getReviewSet(deps: HandlerDeps, source: ReviewSource): Promise<ReviewSet | null> {
  const key = await reviewKey(source);
  const file = cacheFile(deps.workspace(), key);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const set = JSON.parse(text) as ReviewSet;
    return set.key === key ? set : null;
  } catch (err) {
    deps.ctx.logger.warn(`${file}: unreadable prediction cache, ignored (${(err as Error).message})`);
    return null;
  }
}
