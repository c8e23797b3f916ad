/**
 * Labelling batches (electron/core/review/batch.ts) on real data: the blood-cell export renamed to
 * spaces, Cyrillic and XML-special characters, imported with Spotter's importer; a batch written in
 * both CVAT formats; each re-imported with Spotter's importer: images, boxes (1e-3 px), class names
 * and the confidence attribute survive.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CancelledError, JobManager, standaloneJob } from '../electron/core/jobs/jobs.js';
import { createReviewHandlers } from '../electron/core/review/handlers.js';
import { runPredictJob } from '../electron/core/predict/handlers.js';
import type { JobFinished } from '../electron/shared/contract.js';
import type { HandlerDeps } from '../electron/core/deps.js';
import { coco8Copy } from './trainer-fixture.js';
import { shared } from './helpers/shared.js';
import { extractZip } from '../electron/core/datasets/zip.js';
import { parseXmlFile } from '../electron/core/datasets/xml.js';
import { selectBatch, writeBatch } from '../electron/core/review/batch.js';
import { buildMatchIndex, countsAt } from '../electron/shared/review-metrics.js';
import type { Box, ReviewSet } from '../electron/shared/review.js';
import type { CoreContext } from '../electron/core/context.js';
import { hasSharedData } from './helpers/shared.js';
import { tempDir, testContext } from './helpers/core.js';
import { datasetImages, importDataset, perturbedReviewSet, renamedRbcExport, WBC_NAME } from './review-fixture.js';

let ctx: CoreContext;
let work: string;
let dataset: string;
let set: ReviewSet;

beforeAll(async () => {
  if (!hasSharedData) return;
  ctx = await testContext();
  work = await tempDir('spotter-batch-');
  const src = await renamedRbcExport(work);
  dataset = path.join(work, 'datasets', 'rbc');
  await importDataset(ctx, [src], dataset);
  set = await perturbedReviewSet(dataset);
});

describe.skipIf(!hasSharedData)('choosing the batch', () => {
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

describe.skipIf(!hasSharedData)('writing a batch and importing it back', () => {
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

describe.skipIf(!hasSharedData)('the review.exportBatch job with a real model', () => {
  it('says "predict first" without cached predictions, then writes the batch from the real predictions', async () => {
    const ws = path.join(work, 'ws');
    const finished: JobFinished[] = [];
    const jobs = new JobManager({ progress: () => {}, finished: (f) => finished.push(f) });
    const deps: HandlerDeps = { ctx, emit: () => {}, jobs, workspace: () => ws };
    const ds = path.join(ws, 'datasets', 'coco8');
    await importDataset(ctx, [path.join(await coco8Copy(work), 'data.yaml')], ds, { keepSplits: true, dupThreshold: -1 });
    const handlers = createReviewHandlers(deps);
    const source = { model: shared('weights', 'yolov8n_int8.onnx'), dataset: ds, split: 'val' as const };
    const input = { source, selection: { mode: 'uncertain' as const, low: 0.25, high: 0.6, conf: 0.25, iou: 0.5, limit: 10 }, format: 'cvat' as const, conf: 0.25 };
    const first = await handlers['review.exportBatch'](input);
    await jobs.wait(first.jobId);
    const f1 = finished.find((f) => f.jobId === first.jobId)!;
    expect(f1.status).toBe('failed');
    expect(f1.error).toMatch(/predict first/);
    // (runPredictJob does not create the cache folder itself yet: reported to its owner)
    await fs.mkdir(path.join(ws, 'cache', 'predictions'), { recursive: true });
    await runPredictJob(deps, source, false, standaloneJob());
    const second = await handlers['review.exportBatch'](input);
    await jobs.wait(second.jobId);
    const f2 = finished.find((f) => f.jobId === second.jobId)!;
    expect(f2.error).toBeUndefined();
    expect(f2.status).toBe('done');
    const r = f2.result as { dir: string; images: number; boxes: number; annotations: string };
    expect(path.dirname(r.dir)).toBe(path.join(ws, 'batches'));
    expect(r.images).toBeGreaterThan(0);
    expect((await fs.readdir(path.join(r.dir, 'images'))).length).toBe(r.images);
    const xml = await fs.readFile(r.annotations, 'utf8');
    expect((xml.match(/<box /g) ?? []).length).toBe(r.boxes);
  });
});
