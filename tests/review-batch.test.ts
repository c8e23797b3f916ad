/**
 * Labelling batches (electron/core/review/batch.ts) on real data: the blood-cell export renamed to
 * spaces, Cyrillic and XML-special characters, imported with Spotter's importer; a batch written in
 * both CVAT formats; each re-imported with Spotter's importer: images, boxes (1e-3 px), class names
 * and the confidence attribute survive. Per-class thresholds (the gallery's, else the model card's)
 * in 'disagree' and in the pre-annotations. The review.exportBatch job runs on real predictions of the
 * fixture run's ONNX export over rbc8 (one epoch at imgsz 64: it scores below 0.01, so its band and conf are
 * set there).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CancelledError, JobManager, standaloneJob } from '../electron/core/jobs/jobs.js';
import { createReviewHandlers } from '../electron/core/review/handlers.js';
import { runPredictJob } from '../electron/core/predict/handlers.js';
import { getReviewSet } from '../electron/core/predict/cache.js';
import { CallInputs, type JobFinished } from '../electron/shared/contract.js';
import type { HandlerDeps } from '../electron/core/deps.js';
import { fixtureOnnx, hasTrainer, trainDatasetCopy } from './trainer-fixture.js';
import { extractZip } from '../electron/core/datasets/zip.js';
import { parseXmlFile } from '../electron/core/datasets/xml.js';
import { selectBatch, writeBatch } from '../electron/core/review/batch.js';
import { buildMatchIndex, countsAt } from '../electron/shared/review-metrics.js';
import type { Box, ModelCard, ReviewSet } from '../electron/shared/review.js';
import { writeModelCard } from '../electron/core/models/card.js';
import type { CoreContext } from '../electron/core/context.js';
import { tempDir, testContext } from './helpers/core.js';
import { datasetImages, importDataset, perturbedReviewSet, renamedRbcExport, WBC_NAME } from './review-fixture.js';

let ctx: CoreContext;
let work: string;
let dataset: string;
let set: ReviewSet;

beforeAll(async () => {
  ctx = await testContext();
  work = await tempDir('spotter-batch-');
  const src = await renamedRbcExport(work);
  dataset = path.join(work, 'datasets', 'rbc');
  await importDataset(ctx, [src], dataset);
  set = await perturbedReviewSet(dataset);
});

describe('choosing the batch', () => {
  it('uncertain: images with scores in the band, most such predictions first', () => {
    const picked = selectBatch(set, { mode: 'uncertain', low: 0.3, high: 0.5, limit: 5 });
    expect(picked.length).toBe(5);
    const n = (i: number) => set.images[i]!.pred.filter((p) => p.score >= 0.3 && p.score <= 0.5).length;
    for (const p of picked) expect(p.score).toBe(n(p.index));
    for (let k = 1; k < picked.length; k++) expect(picked[k - 1]!.score).toBeGreaterThanOrEqual(picked[k]!.score);
    const best = Math.max(...set.images.map((_, i) => n(i)));
    expect(picked[0]!.score).toBe(best);
  });

  it('disagree: images with FP or FN, most errors first', () => {
    const picked = selectBatch(set, { mode: 'disagree', conf: 0.3, iou: 0.5, limit: 1000 });
    const c = countsAt(buildMatchIndex(set, 0.5), 0.3);
    const wrong = set.images.map((_, i) => c.fp[i]! + c.fn[i]!).filter((e) => e > 0);
    expect(picked.length).toBe(wrong.length);
    expect(picked.length).toBeGreaterThan(0);
    expect(picked[0]!.score).toBe(Math.max(...wrong));
  });

  it('unlabelled: only images without ground truth', () => {
    expect(selectBatch(set, { mode: 'unlabelled' })).toEqual([]);
    const folderSet: ReviewSet = { ...set, images: set.images.map((im) => ({ ...im, gt: null })) };
    expect(selectBatch(folderSet, { mode: 'unlabelled', limit: 3 })).toHaveLength(3);
  });
});

/** Boxes of a re-imported dataset, by its source name, in pixels. */
async function reimportedBoxes(dir: string): Promise<Map<string, Array<{ cls: string; box: Box }>>> {
  const { names, images } = await datasetImages(dir);
  const split = JSON.parse(await fs.readFile(path.join(dir, 'split.json'), 'utf8')) as Array<{ source: string; file: string }>;
  const sourceOf = new Map(split.map((e) => [e.file.replace(/^images\//, ''), e.source]));
  return new Map(images.map((im) => [path.posix.basename(sourceOf.get(im.file)!), im.gt.map((g) => ({ cls: names[g.cls]!, box: g.box }))]));
}

const r2 = (v: number) => Math.round(v * 100);
const sortBoxes = <T extends { box: Box }>(l: T[]) => [...l].sort((a, b) => r2(a.box[0]) - r2(b.box[0]) || r2(a.box[1]) - r2(b.box[1]) || r2(a.box[2]) - r2(b.box[2]));

async function checkRoundTrip(batchDir: string, importRoot: string, conf: number): Promise<void> {
  const manifest = JSON.parse(await fs.readFile(path.join(batchDir, 'batch.json'), 'utf8')) as { files: Array<{ name: string; from: string }> };
  const out = path.join(work, 'reimport', path.basename(batchDir));
  const res = await importDataset(ctx, [importRoot], out, { ratios: [1, 0, 0] });
  const boxes = await reimportedBoxes(out);
  expect(boxes.size).toBe(manifest.files.length);
  // class names survive (a class without any pre-annotation is dropped as unused, visibly)
  for (const n of res.report.names) expect(set.classes).toContain(n);
  expect(res.report.names).toContain(WBC_NAME);
  let compared = 0;
  for (const f of manifest.files) {
    expect(boxes.has(f.name), f.name).toBe(true);
    const img = set.images.find((i) => i.path === f.from)!;
    const want = sortBoxes(
      img.pred
        .filter((p) => p.score >= conf)
        .map((p) => ({ cls: set.classes[p.cls]!, box: [Math.max(0, p.box[0]), Math.max(0, p.box[1]), Math.min(img.width, p.box[2]), Math.min(img.height, p.box[3])] as Box })),
    );
    const got = sortBoxes(boxes.get(f.name)!);
    expect(got.map((b) => b.cls)).toEqual(want.map((b) => b.cls));
    got.forEach((b, k) => {
      for (let q = 0; q < 4; q++) expect(Math.abs(b.box[q]! - want[k]!.box[q]!), `${f.name} ${JSON.stringify(b)} ${JSON.stringify(want[k])}`).toBeLessThan(1e-3);
    });
    compared += got.length;
    // the image bytes are the dataset's
    expect(await fs.readFile(path.join(batchDir, 'images', f.name))).toEqual(await fs.readFile(f.from));
  }
  expect(compared).toBeGreaterThan(20);
}

/** confidence per box, in file order, from the written annotation file. */
function expectedScores(batchDir: string, files: Array<{ from: string }>, conf: number): number[] {
  return files.flatMap((f) => set.images.find((i) => i.path === f.from)!.pred.filter((p) => p.score >= conf).map((p) => Math.round(p.score * 1e4) / 1e4));
}

describe('writing a batch and importing it back', () => {
  it('COCO 1.0 (annotations.zip as CVAT exports it)', async () => {
    const conf = 0.3;
    const r = await writeBatch(set, { out: path.join(work, 'batches'), name: 'coco batch', format: 'coco', conf, selection: { mode: 'uncertain', low: 0.25, high: 0.6, limit: 8 } }, standaloneJob());
    expect(r.images).toBe(8);
    expect(path.basename(r.annotations)).toBe('annotations.zip');
    const names = (await fs.readdir(path.join(r.dir, 'images'))).sort();
    expect(names.some((n) => /кровь образец \d+ & 'x'\.jpg/.test(n))).toBe(true);
    // what the user gets back from CVAT: the annotations folder beside images/
    const cvatExport = path.join(work, 'cvat-export-coco');
    await extractZip(r.annotations, cvatExport);
    await fs.cp(path.join(r.dir, 'images'), path.join(cvatExport, 'images'), { recursive: true });
    const coco = JSON.parse(await fs.readFile(path.join(cvatExport, 'annotations', 'instances_default.json'), 'utf8'));
    expect(coco.categories.map((c: { id: number; name: string }) => [c.id, c.name])).toEqual(set.classes.map((n, i) => [i + 1, n]));
    const manifest = JSON.parse(await fs.readFile(path.join(r.dir, 'batch.json'), 'utf8'));
    expect(coco.annotations.map((a: { attributes: { confidence: number; occluded: boolean } }) => a.attributes.confidence)).toEqual(expectedScores(r.dir, manifest.files, conf));
    expect(coco.annotations.every((a: { attributes: { occluded: boolean } }) => a.attributes.occluded === false)).toBe(true);
    expect(coco.annotations.length).toBe(r.boxes);
    await checkRoundTrip(r.dir, cvatExport, conf);
  });

  it('CVAT for images 1.1 (annotations.xml, escaped, with a confidence attribute per label)', async () => {
    const conf = 0.2;
    const r = await writeBatch(set, { out: path.join(work, 'batches'), name: 'cvat batch', format: 'cvat', conf, selection: { mode: 'disagree', conf: 0.3, iou: 0.5, limit: 10 } }, standaloneJob());
    expect(path.basename(r.annotations)).toBe('annotations.xml');
    const xml = await fs.readFile(r.annotations, 'utf8');
    expect(xml).toContain('&lt;белые&gt; &amp; &quot;co&quot;');
    const labelAttrs: string[] = [];
    const scores: number[] = [];
    let inLabels = false, inAttrName = false, inConf = false;
    await parseXmlFile(r.annotations, {
      open(name, attrs) {
        if (name === 'labels') inLabels = true;
        if (inLabels && name === 'name') inAttrName = true;
        if (name === 'attribute' && attrs.name === 'confidence') inConf = true;
      },
      close(name) {
        if (name === 'labels') inLabels = false;
        if (name === 'name') inAttrName = false;
        if (name === 'attribute') inConf = false;
      },
      text(t) {
        if (inLabels && inAttrName) labelAttrs.push(t);
        if (inConf) scores.push(Number(t));
      },
    });
    // each label declares the confidence attribute
    expect(labelAttrs.filter((t) => t === 'confidence')).toHaveLength(set.classes.length);
    expect(labelAttrs).toContain(WBC_NAME);
    const manifest = JSON.parse(await fs.readFile(path.join(r.dir, 'batch.json'), 'utf8'));
    expect(scores).toEqual(expectedScores(r.dir, manifest.files, conf));
    await checkRoundTrip(r.dir, r.dir, conf);
  });

  it('leaves nothing behind when cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    const out = path.join(work, 'cancelled');
    await expect(writeBatch(set, { out, format: 'coco', conf: 0.3, selection: { mode: 'uncertain' } }, standaloneJob(undefined, ac.signal))).rejects.toBeInstanceOf(CancelledError);
    expect(await fs.readdir(out)).toEqual([]);
  });
});

describe.skipIf(!hasTrainer)('the review.exportBatch job with a real model', () => {
  it('says "predict first" without cached predictions, then writes the batch from the real predictions', async () => {
    const ws = path.join(work, 'ws');
    const finished: JobFinished[] = [];
    const jobs = new JobManager({ progress: () => {}, finished: (f) => finished.push(f) });
    const deps: HandlerDeps = { ctx, emit: () => {}, jobs, workspace: () => ws };
    const ds = path.join(ws, 'datasets', 'rbc8');
    await importDataset(ctx, [path.join(await trainDatasetCopy(work), 'data.yaml')], ds, { keepSplits: true, dupThreshold: -1 });
    const handlers = createReviewHandlers(deps);
    const source = { model: await fixtureOnnx(), dataset: ds, split: 'val' as const };
    // the fixture model's scores lie between the 0.001 floor and 0.01: the band and conf of the batch are there
    const input = { source, selection: { mode: 'uncertain' as const, low: 0.001, high: 0.01, conf: 0.001, iou: 0.5, limit: 10 }, format: 'cvat' as const, conf: 0.001 };
    const first = await handlers['review.exportBatch'](input);
    await jobs.wait(first.jobId);
    const f1 = finished.find((f) => f.jobId === first.jobId)!;
    expect(f1.status).toBe('failed');
    expect(f1.error).toMatch(/predict first/);
    // (runPredictJob creates the cache folder itself)
    await runPredictJob(deps, source, false, standaloneJob());
    const predicted = (await getReviewSet(deps, source))!;
    const inBand = predicted.images.filter((im) => im.pred.some((p) => p.score >= 0.001 && p.score <= 0.01));
    expect(inBand.length).toBeGreaterThan(0);
    const second = await handlers['review.exportBatch'](input);
    await jobs.wait(second.jobId);
    const f2 = finished.find((f) => f.jobId === second.jobId)!;
    expect(f2.error).toBeUndefined();
    expect(f2.status).toBe('done');
    const r = f2.result as { dir: string; images: number; boxes: number; annotations: string };
    expect(path.dirname(r.dir)).toBe(path.join(ws, 'batches'));
    // every val image with a prediction in the band, each with its predictions at or above the batch conf
    expect(r.images).toBe(inBand.length);
    expect(r.boxes).toBe(inBand.reduce((n, im) => n + im.pred.filter((p) => p.score >= 0.001).length, 0));
    expect((await fs.readdir(path.join(r.dir, 'images'))).length).toBe(r.images);
    const xml = await fs.readFile(r.annotations, 'utf8');
    expect((xml.match(/<box /g) ?? []).length).toBe(r.boxes);
  }, 660_000);
});

describe('per-class thresholds', () => {
  const conf = 0.3, raised = 0.7;
  /** the class with the most false positives scored in [conf, raised), and how many it has per image */
  let X = '';
  let fpsOfX: number[] = [];
  const disagree = (extra: { perClass?: Record<string, number> } = {}) => ({ mode: 'disagree' as const, conf, iou: 0.5, limit: 1000, ...extra });
  const cardWith = (perClass: Record<string, number>): ModelCard => ({
    schema: 1,
    name: 'perturbed',
    version: null,
    file: 'perturbed.onnx',
    format: 'onnx',
    task: 'detect',
    imgsz: [416, 416],
    names: set.classes,
    thresholds: { default: 0.5, perClass, iou: 0.7 },
    metrics: null,
    perClass: [],
    run: null,
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
  });

  beforeAll(() => {
    const m = buildMatchIndex(set, 0.5).matches;
    const perClass = set.classes.map((_, c) => set.images.map((im, i) => im.pred.filter((p, k) => p.cls === c && p.score >= conf && p.score < raised && m[i]![k]! < 0).length));
    const best = perClass.map((l) => l.reduce((a, b) => a + b, 0)).reduce((b, n, c, all) => (n > all[b]! ? c : b), 0);
    X = set.classes[best]!;
    fpsOfX = perClass[best]!;
  });

  it("disagree: a class with a raised threshold drops its false positives from the selection", () => {
    expect(fpsOfX.reduce((a, b) => a + b, 0)).toBeGreaterThan(1);
    const plain = selectBatch(set, disagree());
    const own = selectBatch(set, disagree({ perClass: { [X]: raised } }));
    const c = countsAt(buildMatchIndex(set, 0.5), { default: conf, perClass: { [X]: raised } });
    const c0 = countsAt(buildMatchIndex(set, 0.5), conf);
    // exactly the images with an error at the gallery's operating point, each with its error count
    expect(own.map((p) => p.index).sort((a, b) => a - b)).toEqual(set.images.map((_, i) => i).filter((i) => c.fp[i]! + c.fn[i]! > 0));
    for (const p of own) expect(p.score).toBe(c.fp[p.index]! + c.fn[p.index]!);
    expect(own[0]!.reason).toContain(`conf ${conf} (${X} ${raised})`);
    // X's false positives below the raised threshold are gone, image by image
    const xi = set.classes.indexOf(X);
    expect(c.classes[xi]!.fp).toBe(c0.classes[xi]!.fp - fpsOfX.reduce((a, b) => a + b, 0));
    set.images.forEach((_, i) => expect(c.fp[i]).toBe(c0.fp[i]! - fpsOfX[i]!));
    // the selection says so: its false positives, summed from the reasons, are fewer by exactly those
    const fpOf = (l: typeof own) => l.reduce((n, p) => n + Number(/^(\d+) FP, \d+ FN at /.exec(p.reason)![1]), 0);
    expect(fpOf(own)).toBe(fpOf(plain) - fpsOfX.reduce((a, b) => a + b, 0));
  });

  it("the model card's saved thresholds apply when the selection has none; the selection's own (even none) win", () => {
    const card = cardWith({ [X]: raised });
    const own = selectBatch(set, disagree({ perClass: { [X]: raised } }));
    expect(selectBatch(set, disagree(), card)).toEqual(own);
    expect(selectBatch(set, disagree({ perClass: {} }), card)).toEqual(selectBatch(set, disagree()));
    // the card's default too, when the selection gives no conf
    expect(selectBatch(set, { mode: 'disagree', iou: 0.5, limit: 1000 }, card)).toEqual(selectBatch(set, { mode: 'disagree', conf: 0.5, perClass: { [X]: raised }, iou: 0.5, limit: 1000 }));
  });

  it("review.exportBatch takes the gallery's per-class thresholds (0 to 1) with the selection", () => {
    const input = { source: { model: '/m.onnx', dataset: '/d' }, format: 'coco', selection: { mode: 'disagree', conf, perClass: { [X]: raised } } };
    expect(CallInputs['review.exportBatch'].parse(input).selection).toMatchObject({ conf, perClass: { [X]: raised }, iou: 0.5 });
    expect(CallInputs['review.exportBatch'].parse({ ...input, selection: { mode: 'disagree' } }).selection.perClass).toBeUndefined();
    expect(CallInputs['review.exportBatch'].safeParse({ ...input, selection: { mode: 'disagree', perClass: { [X]: 1.5 } } }).success).toBe(false);
  });

  /** COCO annotations of a written batch: [class name, confidence] per box. */
  async function cocoBoxes(r: { annotations: string }, into: string): Promise<Array<[string, number]>> {
    await extractZip(r.annotations, into);
    const coco = JSON.parse(await fs.readFile(path.join(into, 'annotations', 'instances_default.json'), 'utf8')) as {
      categories: Array<{ id: number; name: string }>;
      annotations: Array<{ category_id: number; attributes: { confidence: number } }>;
    };
    const name = new Map(coco.categories.map((c) => [c.id, c.name]));
    return coco.annotations.map((a) => [name.get(a.category_id)!, a.attributes.confidence]);
  }

  function expectedBoxes(files: Array<{ from: string }>, thr: (cls: string) => number): Array<[string, number]> {
    return files.flatMap((f) =>
      set.images
        .find((i) => i.path === f.from)!
        .pred.filter((p) => p.score >= thr(set.classes[p.cls]!))
        .map((p): [string, number] => [set.classes[p.cls]!, Math.round(p.score * 1e4) / 1e4]),
    );
  }

  it('the written pre-annotations: the class keeps its own threshold, the others go down to the batch conf', async () => {
    const pre = 0.2;
    const r = await writeBatch(set, { out: path.join(work, 'per-class'), name: 'own', format: 'coco', conf: pre, selection: disagree({ perClass: { [X]: raised } }) }, standaloneJob());
    const manifest = JSON.parse(await fs.readFile(path.join(r.dir, 'batch.json'), 'utf8'));
    expect(manifest.per_class_conf).toEqual({ [X]: raised });
    const boxes = await cocoBoxes(r, path.join(work, 'per-class-coco'));
    expect(boxes).toEqual(expectedBoxes(manifest.files, (n) => (n === X ? raised : pre)));
    expect(boxes.filter(([n]) => n === X).length).toBeGreaterThan(0);
    expect(boxes.every(([n, s]) => n !== X || s >= raised)).toBe(true);
    // the other classes are not cut at the raised threshold
    expect(boxes.some(([n, s]) => n !== X && s < raised)).toBe(true);
    expect(await fs.readFile(path.join(r.dir, 'README.md'), 'utf8')).toContain(`\`${X}\` ${raised}`);
  });

  it('the card saved beside the model after predicting applies when the selection carries none', async () => {
    const model = path.join(work, 'models', 'perturbed.onnx');
    await fs.mkdir(path.dirname(model), { recursive: true });
    await writeModelCard(model, cardWith({ [X]: raised }));
    // the set was predicted before the card existed (its recorded card: none)
    const later: ReviewSet = { ...set, model: { ...set.model, path: model, card: null } };
    const r = await writeBatch(later, { out: path.join(work, 'per-class'), name: 'card', format: 'coco', conf: 0.2, selection: disagree() }, standaloneJob());
    const manifest = JSON.parse(await fs.readFile(path.join(r.dir, 'batch.json'), 'utf8'));
    expect(manifest.files.map((f: { from: string }) => f.from)).toEqual(selectBatch(set, disagree({ perClass: { [X]: raised } })).map((p) => set.images[p.index]!.path));
    const boxes = await cocoBoxes(r, path.join(work, 'per-class-card-coco'));
    expect(boxes).toEqual(expectedBoxes(manifest.files, (n) => (n === X ? raised : 0.2)));
  });
});
