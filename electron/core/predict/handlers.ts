/**
 * The review.* calls about models and predictions: review.models (run exports and deployed models),
 * review.modelInfo, review.predict (a 'predict' job over a dataset split or a folder, cached per
 * model and source), review.get (the cached set, compact), review.saveThresholds (the model card beside the ONNX).
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { CallHandlers, CallParsed } from '../../shared/contract.js';
import type { ModelCard, ModelListItem, ReviewBox, ReviewImage, ReviewSet, ReviewSetSummary, ReviewSource } from '../../shared/review.js';
import { readDatasetDetail, readDatasetImages } from '../datasets/store.js';
import type { HandlerDeps } from '../deps.js';
import { isImageFile, walkFiles } from '../fsutil.js';
import type { JobContext } from '../jobs/jobs.js';
import { readModelCard, writeModelCard } from '../models/card.js';
import { loadAnyRun } from '../trainer/runs.js';
import { CONF_FLOOR, MAX_DET, REVIEW_IOU, cachedSummary, getReviewSetWire, normalizeSource, reviewKey, writeReviewSet } from './cache.js';
import { modelInfo, readModelMeta } from './onnx-meta.js';
import { openPool, predictFiles } from './pool.js';
import { twinsInTrain } from '../datasets/twins.js';

type PredictCall = 'review.models' | 'review.modelInfo' | 'review.predict' | 'review.get' | 'review.saveThresholds';
export type PredictHandlers = Pick<CallHandlers, PredictCall>;

async function onnxIn(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).filter((f) => f.toLowerCase().endsWith('.onnx')).map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/** ONNX files in runs/<run>/weights/ and in models/, newest first. */
export async function listModels(workspace: string): Promise<ModelListItem[]> {
  const items: ModelListItem[] = [];
  const add = async (file: string, origin: 'run' | 'deployed', run: string | null) => {
    const st = await fs.stat(file).catch(() => null);
    if (!st?.isFile()) return;
    let card: ModelCard | null = null;
    try {
      card = await readModelCard(file);
    } catch {
      /* an unreadable card: listed without it */
    }
    items.push({ path: file, origin, name: card?.name ?? path.basename(file, '.onnx'), run, card, modifiedAt: st.mtime.toISOString() });
  };
  const runs = path.join(workspace, 'runs');
  for (const r of await fs.readdir(runs).catch(() => [] as string[])) {
    if (r.startsWith('.') || r.startsWith('_')) continue;
    for (const f of await onnxIn(path.join(runs, r, 'weights'))) await add(f, 'run', path.join(runs, r));
  }
  for (const f of await onnxIn(path.join(workspace, 'models'))) await add(f, 'deployed', null);
  return items.sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt));
}

/** The run folder a model was exported into (`<run>/weights/x.onnx`), or null. */
function runOf(model: string): string | null {
  const dir = path.dirname(model);
  if (path.basename(dir) !== 'weights') return null;
  const run = path.dirname(dir);
  return existsSync(path.join(run, 'spotter-run.json')) || existsSync(path.join(run, 'args.yaml')) ? run : null;
}

/** Update the thresholds of the card beside a model, or write a new card from its metadata (and its run). */
export async function saveThresholds(modelIn: string, thresholds: ModelCard['thresholds']): Promise<ModelCard> {
  const model = path.resolve(modelIn);
  const now = new Date().toISOString();
  const existing = await readModelCard(model);
  let card: ModelCard;
  if (existing) card = { ...existing, thresholds, updatedAt: now };
  else {
    const meta = await readModelMeta(model);
    card = {
      schema: 1,
      name: path.basename(model, path.extname(model)),
      version: null,
      file: path.basename(model),
      format: 'onnx',
      task: meta.task,
      imgsz: meta.imgsz,
      names: meta.names,
      thresholds,
      metrics: null,
      perClass: [],
      run: null,
      createdAt: now,
      updatedAt: now,
    };
    const run = runOf(model);
    if (run) {
      try {
        const rec = await loadAnyRun(run);
        card.run = { dir: run, name: rec.name, label: rec.label, dataset: rec.dataset.data_yaml, datasetHash: rec.dataset.hash };
        card.metrics = rec.final_metrics ?? rec.metrics ?? null;
        card.perClass = rec.per_class;
      } catch {
        /* a run folder that cannot be read: the card says nothing about it */
      }
    }
  }
  await writeModelCard(model, card);
  return card;
}

/** YOLO label (normalized cx, cy, w, h) → pixel corners. */
function pixelBox(b: [number, number, number, number], w: number, h: number): [number, number, number, number] {
  const [cx, cy, bw, bh] = b;
  return [(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h];
}

interface SourceImage {
  file: string;
  path: string;
  labels: Array<{ cls: number; box: [number, number, number, number] }> | null;
}

/** Run a model over a source and build the ReviewSet (not cached: see runPredictJob). */
export async function buildReviewSet(sourceIn: ReviewSource, job: JobContext, o: { workers?: number; warn?: (msg: string) => void } = {}): Promise<ReviewSet> {
  const source = normalizeSource(sourceIn);
  const t0 = performance.now();
  const key = await reviewKey(source);
  const meta = await readModelMeta(source.model);
  let datasetClasses: string[] = [];
  let images: SourceImage[];
  if (source.dataset) {
    const detail = await readDatasetDetail(source.dataset);
    datasetClasses = detail.report.names;
    const page = await readDatasetImages(source.dataset, { split: source.split === 'all' ? undefined : source.split, offset: 0, limit: Number.MAX_SAFE_INTEGER });
    images = page.items.map((it) => ({ file: it.file.replace(/^images\//, ''), path: it.path, labels: it.labels.map((l) => ({ cls: l.cls, box: l.box as [number, number, number, number] })) }));
  } else {
    const folder = source.folder!;
    const st = await fs.stat(folder).catch(() => null);
    if (!st?.isDirectory()) throw new Error(`${folder}: not a folder`);
    const files = (await walkFiles(folder, job.signal)).filter(isImageFile);
    images = files.map((f) => ({ file: path.relative(folder, f), path: f, labels: null }));
  }
  job.throwIfCancelled();
  if (images.length === 0) throw new Error(`${source.dataset ?? source.folder}: no images${source.dataset ? ` in the ${source.split} split` : ''}`);
  const classes = [...datasetClasses, ...meta.names.filter((n) => !datasetClasses.includes(n))];
  const modelToSet = meta.names.map((n) => classes.indexOf(n));
  const out: Array<ReviewImage | null> = new Array(images.length).fill(null);
  const pool = await openPool(meta.path, { workers: o.workers });
  let done = 0;
  job.progress('predict', 0, images.length);
  try {
    await predictFiles(
      pool,
      images.map((i) => i.path),
      { conf: CONF_FLOOR, iou: REVIEW_IOU, maxDet: MAX_DET, polygons: false },
      (i, r, err) => {
        const im = images[i]!;
        done++;
        job.progress('predict', done, images.length);
        if (!r) {
          // an unreadable image is left out of the set, with a warning naming it
          o.warn?.(`predict: skipped ${err?.message ?? im.path}`);
          return;
        }
        const gt: ReviewBox[] | null = im.labels ? im.labels.map((l) => ({ cls: l.cls, box: pixelBox(l.box, r.width, r.height) })) : null;
        out[i] = {
          file: im.file,
          path: im.path,
          width: r.width,
          height: r.height,
          gt,
          pred: r.detections.map((d) => ({ cls: modelToSet[d.classId] ?? d.classId, box: d.box, score: d.score })).sort((a, b) => b.score - a.score),
        };
      },
      job.signal,
    );
  } finally {
    await pool.close();
  }
  job.throwIfCancelled();
  const kept = out.filter((x): x is ReviewImage => x !== null);
  // the leak's price: which images of a val or test split have a twin in train (on 'all', train images would mix in)
  const flags = source.dataset && (source.split === 'val' || source.split === 'test') ? await twinsInTrain(source.dataset, job) : null;
  return {
    key,
    source,
    model: await modelInfo(meta.path),
    ...(flags ? { twinInTrain: kept.map((im) => flags.byFile.get(`images/${im.file}`) ?? false) } : {}),
    classes,
    datasetClasses: datasetClasses.length,
    confFloor: CONF_FLOOR,
    iou: REVIEW_IOU,
    images: kept,
    createdAt: new Date().toISOString(),
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The 'predict' job's work: answer from the cache unless forced, else predict and cache. */
export async function runPredictJob(deps: HandlerDeps, source: ReviewSource, force: boolean, job: JobContext): Promise<ReviewSetSummary> {
  if (!force) {
    const hit = await cachedSummary(deps, source);
    if (hit) return { ...hit, cached: true };
  }
  const set = await buildReviewSet(source, job, { warn: (m) => deps.ctx.logger.warn(m) });
  await writeReviewSet(deps.workspace(), set);
  return { key: set.key, images: set.images.length, predictions: set.images.reduce((n, i) => n + i.pred.length, 0), seconds: set.seconds, cached: false };
}

export function createPredictHandlers(deps: HandlerDeps): PredictHandlers {
  return {
    'review.models': async () => listModels(deps.workspace()),
    'review.modelInfo': async ({ model }) => modelInfo(path.resolve(model)),
    'review.predict': async ({ source, force }: CallParsed<'review.predict'>) => {
      // fail fast on a bad model, before a job starts
      await readModelMeta(path.resolve(source.model));
      const jobId = deps.jobs.start('predict', (job) => runPredictJob(deps, source, force, job));
      return { jobId };
    },
    'review.get': async ({ source }) => getReviewSetWire(deps, source),
    'review.saveThresholds': async ({ model, thresholds }) => saveThresholds(model, thresholds),
  };
}
