/**
 * The prediction cache at scale (electron/core/predict/cache.ts, shared/review-codec.ts): a synthetic
 * set of 10,000 images × 100 predictions through the real write/read path (size bound, round trip of
 * everything matching uses), review.get's one-message limit as a clear error, a cut-short or stale
 * file as a miss; and the rounding of stored predictions on real sets — the blood-cell ground truth
 * perturbed, the fixture run's ONNX export on rbc8 through the real cache, and (shared data only: AGPL
 * weights) the int8 YOLO11n ONNX model's own predictions on coco8 — leaves the counts at every threshold
 * and IoU, and AP50/AP50-95, as they were.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import path from 'node:path';
import { silentLogger, type CoreContext } from '../electron/core/context.js';
import type { HandlerDeps } from '../electron/core/deps.js';
import { JobManager, standaloneJob } from '../electron/core/jobs/jobs.js';
import { mulberry32 } from '../electron/core/datasets/split.js';
import { cacheFile, cachedSummary, getReviewSet, getReviewSetWire, MAX_MESSAGE_BYTES, reviewKey, writeReviewSet } from '../electron/core/predict/cache.js';
import { buildReviewSet, createPredictHandlers } from '../electron/core/predict/handlers.js';
import { decodeReviewSet, encodeReviewSet, roundReviewSet } from '../electron/shared/review-codec.js';
import { averagePrecision, buildMatchIndex, countsAt, IOU_THRESHOLDS, matchImage } from '../electron/shared/review-metrics.js';
import type { Box, ReviewImage, ReviewPrediction, ReviewSet, ReviewSource } from '../electron/shared/review.js';
import { fixture, itShared, shared } from './helpers/shared.js';
import { fixtureOnnx, hasTrainer } from './trainer-fixture.js';
import { tempDir, testContext } from './helpers/core.js';
import { importDataset, perturbedReviewSet, renamedRbcExport } from './review-fixture.js';

const N_IMAGES = 10_000;
const PER_IMAGE = 100;

/** Predictions as the ONNX pipeline makes them: float32 network values scaled to a 1920×1080 frame. */
function syntheticImages(seed: number): ReviewImage[] {
  const rnd = mulberry32(seed);
  const f = Math.fround;
  const s = 1920 / 640;
  return Array.from({ length: N_IMAGES }, (_, i) => {
    const gt = Array.from({ length: 8 }, () => {
      const x = rnd() * 1800, y = rnd() * 1000;
      return { cls: Math.floor(rnd() * 5), box: [x, y, x + 10 + rnd() * 100, y + 10 + rnd() * 80] as Box };
    });
    const pred: ReviewPrediction[] = Array.from({ length: PER_IMAGE }, (_, k) => {
      // half of them near a ground-truth box, the rest anywhere
      const g = gt[k % gt.length]!;
      const near = k % 2 === 0;
      const x = near ? f((g.box[0] + (rnd() - 0.5) * 8) / s) * s : f(rnd() * 600) * s;
      const y = near ? f((g.box[1] + (rnd() - 0.5) * 8) / s) * s : f(rnd() * 330) * s;
      const w = near ? f((g.box[2] - g.box[0] + (rnd() - 0.5) * 8) / s) * s : f(rnd() * 40) * s;
      const h = near ? f((g.box[3] - g.box[1] + (rnd() - 0.5) * 8) / s) * s : f(rnd() * 30) * s;
      return { cls: near ? g.cls : Math.floor(rnd() * 5), box: [x, y, x + w, y + h] as Box, score: f(0.001 + 0.998 * rnd() ** 3) };
    }).sort((a, b) => b.score - a.score);
    const name = `frame_${String(i).padStart(6, '0')}.jpg`;
    return { file: `val/${name}`, path: `/data/datasets/drains_v3/images/val/${name}`, width: 1920, height: 1080, gt: i % 10 === 9 ? null : gt, pred };
  });
}

/** The first difference of two sets (toEqual would build a diff of a million boxes), or null. */
function difference(a: ReviewSet, b: ReviewSet): string | null {
  const { images: ia, ...ha } = a;
  const { images: ib, ...hb } = b;
  if (!isDeepStrictEqual(ha, hb)) return `headers: ${JSON.stringify(ha)} vs ${JSON.stringify(hb)}`;
  if (ia.length !== ib.length) return `${ia.length} vs ${ib.length} images`;
  for (let i = 0; i < ia.length; i++) if (!isDeepStrictEqual(ia[i], ib[i])) return `image ${i}: ${JSON.stringify(ia[i])} vs ${JSON.stringify(ib[i])}`.slice(0, 2000);
  return null;
}

async function depsIn(ws: string, warns: string[] = []): Promise<HandlerDeps> {
  const ctx: CoreContext = { ...(await testContext()), logger: { ...silentLogger, warn: (m: string) => void warns.push(m) } };
  return { ctx, emit: () => {}, jobs: new JobManager({ progress: () => {}, finished: () => {} }), workspace: () => ws };
}

/** The counts at several IoU and confidence thresholds (per-class ones too), and AP: what the gallery shows. */
function metricsOf(set: ReviewSet) {
  const out: unknown[] = [];
  for (const iou of [0.5, 0.75]) {
    const index = buildMatchIndex(set, iou);
    for (const t of [0.01, 0.1, 0.25, 0.5, 0.8, { default: 0.3, perClass: { [set.classes[0]!]: 0.6 } }]) {
      const c = countsAt(index, t);
      out.push({ iou, t, tp: [...c.tp], fp: [...c.fp], fn: [...c.fn], classes: c.classes.map((k) => [k.tp, k.fp, k.fn]) });
    }
  }
  const ap = averagePrecision(set);
  return { counts: out, ap: ap.classes.map((c) => ({ cls: c.cls, gt: c.gt, pred: c.pred, apPerIou: c.apPerIou })), map50: ap.map50, map50_95: ap.map50_95 };
}

function expectSameMetrics(a: ReturnType<typeof metricsOf>, b: ReturnType<typeof metricsOf>) {
  expect(b.counts).toEqual(a.counts);
  expect(b.ap.map((c) => [c.cls, c.gt, c.pred])).toEqual(a.ap.map((c) => [c.cls, c.gt, c.pred]));
  a.ap.forEach((c, k) => c.apPerIou.forEach((v, t) => expect(Math.abs(b.ap[k]!.apPerIou[t]! - v), `AP of class ${c.cls} at IoU index ${t}`).toBeLessThan(1e-9)));
  expect(Math.abs(b.map50 - a.map50)).toBeLessThan(1e-9);
  expect(Math.abs(b.map50_95 - a.map50_95)).toBeLessThan(1e-9);
}

describe('the prediction cache at 10,000 images × 100 predictions', () => {
  let ws = '';
  let source: ReviewSource;
  let set: ReviewSet;
  let deps: HandlerDeps;
  const warns: string[] = [];

  beforeAll(async () => {
    ws = await tempDir('spotter-cache-');
    const model = path.join(ws, 'models', 'big.onnx');
    await fs.mkdir(path.dirname(model), { recursive: true });
    await fs.writeFile(model, 'not read: the key only needs its size and time');
    source = { model, folder: path.join(ws, 'frames') };
    deps = await depsIn(ws, warns);
    set = {
      key: await reviewKey(source),
      source,
      model: { path: model, task: 'detect', imgsz: [640, 640], stride: 32, names: ['a', 'b', 'c', 'd', 'e'], layout: 'yolo', card: null },
      classes: ['a', 'b', 'c', 'd', 'e'],
      datasetClasses: 5,
      confFloor: 0.001,
      iou: 0.7,
      images: syntheticImages(5),
      createdAt: new Date().toISOString(),
      seconds: 123.4,
    };
  });

  it('is written in under 44 MiB and reads back equal to 0.0005 px, scores the same float32', async () => {
    const { file, bytes } = await writeReviewSet(ws, set);
    expect(file).toBe(cacheFile(ws, set.key));
    expect((await fs.stat(file)).size).toBe(bytes);
    // plain JSON at full precision (the cache before): ~122 MiB
    expect(bytes).toBeLessThan(44 * 2 ** 20);
    expect(await fs.readdir(path.dirname(file))).toEqual([path.basename(file)]);

    const back = (await getReviewSet(deps, source))!;
    expect(back).not.toBeNull();
    const { images: _a, ...head } = back;
    const { images: _b, ...want } = set;
    expect(head).toEqual(want);
    expect(back.images).toHaveLength(N_IMAGES);
    // plain comparisons (a million expect() calls take a minute)
    let maxBox = 0, maxScore = 0, maxGt = 0;
    const bad: string[] = [];
    back.images.forEach((im, i) => {
      const o = set.images[i]!;
      if (im.file !== o.file || im.path !== o.path || im.width !== o.width || im.height !== o.height || im.pred.length !== o.pred.length || (im.gt === null) !== (o.gt === null) || im.gt?.length !== o.gt?.length) {
        bad.push(`image ${i}: ${im.file} ${im.width}×${im.height}, ${im.pred.length} predictions`);
        return;
      }
      im.pred.forEach((p, k) => {
        const q = o.pred[k]!;
        if (p.cls !== q.cls) bad.push(`image ${i} prediction ${k}: class ${p.cls}, not ${q.cls}`);
        for (let c = 0; c < 4; c++) maxBox = Math.max(maxBox, Math.abs(p.box[c]! - q.box[c]!));
        maxScore = Math.max(maxScore, Math.abs(p.score - q.score) / q.score);
        // the same float32 score (the synthetic scores are float32, as a model's are), in the same order
        if (Math.fround(p.score) !== q.score) bad.push(`image ${i} prediction ${k}: ${p.score} is not the float32 ${q.score}`);
        if (k && im.pred[k - 1]!.score < p.score) bad.push(`image ${i} prediction ${k}: out of order`);
      });
      im.gt?.forEach((g, k) => {
        if (g.cls !== o.gt![k]!.cls) bad.push(`image ${i} box ${k}: class ${g.cls}`);
        for (let c = 0; c < 4; c++) maxGt = Math.max(maxGt, Math.abs(g.box[c]! - o.gt![k]!.box[c]!));
      });
    });
    expect(bad.slice(0, 10)).toEqual([]);
    expect(maxBox).toBeLessThanOrEqual(0.0005 + 1e-9);
    expect(maxBox).toBeGreaterThan(0); // it is rounded
    expect(maxScore).toBeLessThan(1e-7);
    expect(maxGt).toBeLessThanOrEqual(5e-5 + 1e-9);
    // exactly the codec's rounding, and a second round trip changes nothing
    expect(difference(back, roundReviewSet(set))).toBeNull();
    expect(difference(roundReviewSet(back), back)).toBeNull();
    expect(await cachedSummary(deps, source)).toEqual({ key: set.key, images: N_IMAGES, predictions: N_IMAGES * PER_IMAGE, seconds: 123.4 });
  });

  it('matching on the stored set: a few pairs within 0.0005 px of an IoU threshold may change sides, nothing more', async () => {
    const back = (await getReviewSet(deps, source))!;
    // AP over 10,000 images at 10 IoU thresholds is the slow part: 2,000 of the images. Half of the
    // synthetic predictions are ground truth moved by up to 4 px, so many pairs sit right at a
    // threshold (the real sets below: no change at all)
    const sub = (s: ReviewSet): ReviewSet => ({ ...s, images: s.images.filter((_, i) => i % 5 === 0) });
    const a = sub(set), b = sub(back);
    let flips = 0, results = 0;
    a.images.forEach((im, i) => {
      if (!im.gt) return;
      const ma = matchImage(im.gt, im.pred, IOU_THRESHOLDS), mb = matchImage(b.images[i]!.gt!, b.images[i]!.pred, IOU_THRESHOLDS);
      results += ma.length;
      for (let k = 0; k < ma.length; k++) if (ma[k]! >= 0 !== mb[k]! >= 0) flips++;
    });
    expect(results).toBeGreaterThan(1_500_000);
    // measured on a set built like this one: 12 in 2 million (boxes to 0.01 px: 89; scores add none)
    expect(flips / results).toBeLessThan(2e-5);
    const ma = metricsOf(a), mb = metricsOf(b);
    ma.ap.forEach((c, k) => c.apPerIou.forEach((v, t) => expect(Math.abs(mb.ap[k]!.apPerIou[t]! - v), `AP of class ${c.cls} at IoU index ${t}`).toBeLessThan(1e-3)));
    expect(Math.abs(mb.map50 - ma.map50)).toBeLessThan(1e-5);
    expect(Math.abs(mb.map50_95 - ma.map50_95)).toBeLessThan(1e-5);
  });

  it('review.get sends it in one message under the limit, compact; beyond the limit it says so', async () => {
    const h = createPredictHandlers(deps);
    const wire = (await h['review.get']({ source: { ...source, split: 'val' } }))!;
    expect(wire.encoding).toBe('compact-1');
    const bytes = Buffer.byteLength(JSON.stringify(wire));
    expect(bytes).toBeLessThan(44 * 2 ** 20);
    expect(bytes).toBeLessThan(MAX_MESSAGE_BYTES);
    expect(difference(decodeReviewSet(wire), (await getReviewSet(deps, source))!)).toBeNull();
    await expect(getReviewSetWire(deps, source, 16 * 2 ** 20)).rejects.toThrow(
      /big-[0-9a-f]+\.jsonl: 10000 images with 1000000 predictions are \d+ MiB, more than the gallery takes in one message \(16 MiB\); review a smaller split or folder/,
    );
  });

  it('a file cut short is a miss with a warning naming it; a changed model is a miss', async () => {
    const file = cacheFile(ws, set.key);
    const full = await fs.readFile(file);
    await fs.writeFile(file, full.subarray(0, Math.floor(full.length / 2)));
    warns.length = 0;
    expect(await getReviewSet(deps, source)).toBeNull();
    expect(warns.join('\n')).toMatch(/big-[0-9a-f]+\.jsonl: unreadable prediction cache, ignored/);
    await fs.writeFile(file, full);
    expect(await cachedSummary(deps, source)).not.toBeNull();
    // the key holds the model's size and time: a rewritten model is a new key, the old file is not used
    await fs.writeFile(source.model, 'a retrained model, longer than the first one');
    expect(await getReviewSet(deps, source)).toBeNull();
  });
});

describe('rounding on real sets leaves the metrics as they were', () => {
  it('blood cells (ground truth perturbed): the counts at every threshold and AP are identical', async () => {
    const work = await tempDir('spotter-cache-rbc-');
    const ctx = await testContext();
    const dataset = path.join(work, 'datasets', 'rbc');
    await importDataset(ctx, [await renamedRbcExport(work)], dataset);
    const set = await perturbedReviewSet(dataset);
    const stored = roundReviewSet(set);
    expect(difference(stored, set)).not.toBeNull();
    expectSameMetrics(metricsOf(set), metricsOf(stored));
  });

  it.skipIf(!hasTrainer)("the fixture run's ONNX export on rbc8 (down to conf 0.001): identical through the real cache", async () => {
    const ws = await tempDir('spotter-cache-rbc8-');
    const deps = await depsIn(ws);
    const dataset = path.join(ws, 'datasets', 'rbc8');
    await importDataset(deps.ctx, [fixture('rbc8')], dataset, { keepSplits: true, dupThreshold: -1 });
    const source: ReviewSource = { model: await fixtureOnnx(), dataset, split: 'all' };
    const set = await buildReviewSet(source, standaloneJob());
    expect(set.images).toHaveLength(8);
    // one epoch at imgsz 64: a few low-scored boxes on every image (its AP is 0: the metrics are compared, not judged)
    expect(set.images.every((i) => i.pred.length > 0)).toBe(true);
    expect(set.images.reduce((n, i) => n + (i.gt?.length ?? 0), 0)).toBe(174); // rbc8's labels: 166 rbc, 8 wbc
    await writeReviewSet(ws, set);
    const back = (await getReviewSet(deps, source))!;
    expect(difference(back, decodeReviewSet(encodeReviewSet(set)))).toBeNull();
    expectSameMetrics(metricsOf(set), metricsOf(back));
  }, 660_000);

  itShared('the int8 YOLO11n ONNX model on coco8 (down to conf 0.001): identical through the real cache', async () => {
    const ws = await tempDir('spotter-cache-coco8-');
    const deps = await depsIn(ws);
    const dataset = path.join(ws, 'datasets', 'coco8');
    await importDataset(deps.ctx, [shared('real', 'coco8-ultralytics')], dataset, { keepSplits: true, dupThreshold: -1 });
    const source: ReviewSource = { model: shared('weights', 'yolo11n_int8.onnx'), dataset, split: 'all' };
    const set = await buildReviewSet(source, standaloneJob());
    expect(set.images).toHaveLength(8);
    expect(set.images.reduce((n, i) => n + i.pred.length, 0)).toBeGreaterThan(200);
    await writeReviewSet(ws, set);
    const back = (await getReviewSet(deps, source))!;
    expect(difference(back, decodeReviewSet(encodeReviewSet(set)))).toBeNull();
    expectSameMetrics(metricsOf(set), metricsOf(back));
    expect(metricsOf(back).map50).toBeGreaterThan(0.2);
  });
});
