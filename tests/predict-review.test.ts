/**
 * The review.* handlers on real data (rbc8 imported as a Spotter dataset, the fixture run exported to ONNX):
 * models listed with their cards, a 'predict' job over a split with ground truth mapped by class name,
 * the cache answering the second time, a folder source without ground truth, thresholds saved into a
 * new card; and the `spotter predict` CLI (built bundle: the worker-thread pool) with --json/--coco and
 * its bad inputs. The fixture model trained one epoch at imgsz 64: it scores below 0.01, so the CLI runs
 * at --conf 0.001 (the review floor). On the shared data only (AGPL weights): the pretrained int8 YOLO11n
 * finds the people of coco8's ground truth.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import type { JobFinished, JobProgress } from '../electron/shared/contract.js';
import type { ReviewSetSummary } from '../electron/shared/review.js';
import { runImport } from '../electron/core/datasets/importer.js';
import { JobManager, standaloneJob } from '../electron/core/jobs/jobs.js';
import type { HandlerDeps } from '../electron/core/deps.js';
import { createPredictHandlers } from '../electron/core/predict/handlers.js';
import { getReviewSet } from '../electron/core/predict/cache.js';
import { decodeReviewSet } from '../electron/shared/review-codec.js';
import { ImportOptions } from '../electron/shared/schemas.js';
import { describeShared, fixture, REPO_ROOT, shared } from './helpers/shared.js';
import { tempDir, testContext } from './helpers/core.js';
import { fixtureOnnx, hasTrainer } from './trainer-fixture.js';

const RBC8_IMAGES = fixture('rbc8', 'images');
const CLI = path.join(REPO_ROOT, 'bin', 'spotter.mjs');
const hasCli = existsSync(path.join(REPO_ROOT, 'dist', 'cli', 'predict-worker.mjs'));
if (!hasCli) {
  const reason = 'dist/cli is not built with the predict worker (run `node scripts/build.mjs cli`)';
  if (['1', 'true'].includes(String(process.env.CI).toLowerCase())) throw new Error(reason);
  console.warn(`skipping the predict CLI tests: ${reason}`);
}

async function importInto(ws: string, source: string, name: string): Promise<string> {
  const res = await runImport(ImportOptions.parse({ sources: [source], out: path.join(ws, 'datasets', name), keepSplits: true, dupThreshold: -1 }), standaloneJob(), await testContext(), {
    datasetsDir: path.join(ws, 'datasets'),
  });
  return res.dir;
}

const iouOf = (a: number[], b: number[]) => {
  const w = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const hh = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  return (w * hh) / ((a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - w * hh);
};

describe.skipIf(!hasTrainer)('review handlers', () => {
  let ws = '';
  let dataset = '';
  let deps: HandlerDeps;
  const finished: JobFinished[] = [];
  const progress: JobProgress[] = [];
  beforeAll(async () => {
    ws = await tempDir('spotter-review-');
    const ctx = await testContext();
    dataset = await importInto(ws, fixture('rbc8'), 'rbc8');
    await fs.mkdir(path.join(ws, 'models'), { recursive: true });
    await fs.copyFile(await fixtureOnnx(), path.join(ws, 'models', 'rbc_v1.onnx'));
    const jobs = new JobManager({ progress: (p) => progress.push(p), finished: (f) => finished.push(f) }, 0);
    deps = { ctx, emit: () => {}, jobs, workspace: () => ws };
  }, 660_000);

  it('predicts a split with ground truth, caches it, and answers from the cache next time', async () => {
    const h = createPredictHandlers(deps);
    const models = await h['review.models']({});
    expect(models.map((m) => [m.origin, path.basename(m.path)])).toEqual([['deployed', 'rbc_v1.onnx']]);
    const model = models[0]!.path;
    const source = { model, dataset, split: 'val' as const };
    expect(await h['review.get']({ source })).toBeNull();
    const { jobId } = await h['review.predict']({ source, force: false });
    await deps.jobs.wait(jobId);
    const f = finished.find((x) => x.jobId === jobId)!;
    expect(f.status, f.error).toBe('done');
    const summary = f.result as ReviewSetSummary;
    expect(summary.cached).toBe(false);
    expect(progress.some((p) => p.jobId === jobId && p.stage === 'predict' && p.done === p.total && p.total === summary.images)).toBe(true);
    const set = (await getReviewSet(deps, source))!;
    expect(set.key).toBe(summary.key);
    expect(existsSync(path.join(ws, 'cache', 'predictions', `${set.key}.jsonl`))).toBe(true);
    // review.get sends the same set, compact
    expect(decodeReviewSet((await h['review.get']({ source }))!)).toEqual(set);
    // the dataset's classes first: ground truth and predictions share indices (the model's names are the same two)
    const detail = JSON.parse(await fs.readFile(path.join(dataset, 'report.json'), 'utf8')) as { names: string[] };
    expect(detail.names).toEqual(['rbc', 'wbc']);
    expect(set.classes).toEqual(['rbc', 'wbc']);
    expect(set.datasetClasses).toBe(2);
    expect(set.images.length).toBe(summary.images);
    expect(set.images).toHaveLength(4); // rbc8's val split
    // ground truth in pixels: rbc8's val labels (76 rbc, 4 wbc)
    expect(set.images.flatMap((i) => i.gt ?? []).map((g) => set.classes[g.cls]).sort()).toEqual([...Array(76).fill('rbc'), ...Array(4).fill('wbc')]);
    for (const im of set.images) {
      // the fixture model keeps boxes above the 0.001 floor on every image
      expect(im.pred.length).toBeGreaterThan(0);
      expect(im.pred.every((p, i) => i === 0 || im.pred[i - 1]!.score >= p.score)).toBe(true);
      // stored to 1e-5: a score just above the 0.001 floor may read back as 0.001
      expect(im.pred.every((p) => p.score >= set.confFloor && set.classes[p.cls] !== undefined)).toBe(true);
      for (const g of im.gt ?? []) expect(g.box[2]).toBeLessThanOrEqual(im.width + 1e-6);
      for (const p of im.pred) expect(p.box[2]).toBeLessThanOrEqual(im.width + 1e-3);
    }
    // second time: the cache answers
    const again = await h['review.predict']({ source, force: false });
    await deps.jobs.wait(again.jobId);
    expect((finished.find((x) => x.jobId === again.jobId)!.result as ReviewSetSummary).cached).toBe(true);
  });

  it('predicts a folder without ground truth, and saves thresholds into a new card', async () => {
    const h = createPredictHandlers(deps);
    const model = path.join(ws, 'models', 'rbc_v1.onnx');
    const source = { model, folder: RBC8_IMAGES, split: 'val' as const };
    const { jobId } = await h['review.predict']({ source, force: true });
    await deps.jobs.wait(jobId);
    const set = decodeReviewSet((await h['review.get']({ source }))!);
    expect(set.images).toHaveLength(8);
    expect(set.images.every((i) => i.gt === null)).toBe(true);
    expect(set.datasetClasses).toBe(0);
    expect(set.images.every((i) => i.pred.length > 0)).toBe(true);
    const card = await h['review.saveThresholds']({ model, thresholds: { default: 0.3, perClass: { wbc: 0.4 }, iou: 0.6 } });
    expect(card).toMatchObject({ name: 'rbc_v1', file: 'rbc_v1.onnx', imgsz: [64, 64], names: ['rbc', 'wbc'], run: null, metrics: null, thresholds: { default: 0.3, perClass: { wbc: 0.4 } } });
    const info = await h['review.modelInfo']({ model });
    expect(info.card?.thresholds.default).toBe(0.3);
    const updated = await h['review.saveThresholds']({ model, thresholds: { default: 0.5, perClass: {}, iou: 0.7 } });
    expect(updated.createdAt).toBe(card.createdAt);
    expect(updated.thresholds.default).toBe(0.5);
    await expect(h['review.predict']({ source: { model: path.join(ws, 'nope.onnx'), folder: ws, split: 'val' }, force: false })).rejects.toThrow(/nope\.onnx: no such model file/);
  });
});

describeShared('review handlers with the pretrained int8 YOLO11n on coco8', () => {
  it('a person in ground truth is found as a person (class mapped by name, boxes in pixels)', async () => {
    const ws = await tempDir('spotter-review-coco8-');
    const dataset = await importInto(ws, shared('real', 'coco8-ultralytics'), 'coco8');
    await fs.mkdir(path.join(ws, 'models'), { recursive: true });
    const model = path.join(ws, 'models', 'coco_v1.onnx');
    await fs.copyFile(shared('weights', 'yolo11n_int8.onnx'), model);
    const finished: JobFinished[] = [];
    const jobs = new JobManager({ progress: () => {}, finished: (f) => finished.push(f) }, 0);
    const deps: HandlerDeps = { ctx: await testContext(), emit: () => {}, jobs, workspace: () => ws };
    const h = createPredictHandlers(deps);
    const source = { model, dataset, split: 'val' as const };
    const { jobId } = await h['review.predict']({ source, force: false });
    await jobs.wait(jobId);
    const f = finished.find((x) => x.jobId === jobId)!;
    expect(f.status, f.error).toBe('done');
    const set = (await getReviewSet(deps, source))!;
    // the dataset's classes first (coco8 has all 80 COCO names): ground truth and predictions share indices
    const detail = JSON.parse(await fs.readFile(path.join(dataset, 'report.json'), 'utf8')) as { names: string[] };
    expect(set.classes.slice(0, set.datasetClasses)).toEqual(detail.names);
    const person = set.classes.indexOf('person');
    const im = set.images.find((i) => i.gt?.some((g) => g.cls === person))!;
    const g = im.gt!.find((x) => x.cls === person)!;
    const best = im.pred.filter((p) => p.cls === person && p.score > 0.25);
    expect(Math.max(...best.map((p) => iouOf(p.box, g.box)))).toBeGreaterThan(0.5);
  });
});

describe.skipIf(!hasTrainer || !hasCli)('spotter predict', () => {
  const run = (args: string[]) => execa(process.execPath, [CLI, 'predict', ...args], { reject: false, timeout: 300_000 });
  let MODEL = '';
  beforeAll(async () => {
    MODEL = await fixtureOnnx();
  }, 660_000);

  it('writes --json and --coco for a folder, in original pixels', async () => {
    const dir = await tempDir('spotter-predict-cli-');
    const r = await run([MODEL, RBC8_IMAGES, '--conf', '0.001', '--json', path.join(dir, 'p.json'), '--coco', path.join(dir, 'c.json')]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/8 images, \d+ detections \(workers/);
    const p = JSON.parse(await fs.readFile(path.join(dir, 'p.json'), 'utf8')) as Array<{ file: string; width: number; height: number; detections: Array<{ class: string; class_id: number; score: number; box: number[] }> }>;
    expect(p).toHaveLength(8);
    expect(p.every((x) => x.width === 416 && x.height === 416)).toBe(true);
    // every image has boxes above the floor, named by the model's classes, inside the image
    for (const x of p) {
      expect(x.detections.length).toBeGreaterThan(0);
      expect(x.detections.every((d) => d.class === ['rbc', 'wbc'][d.class_id] && d.score > 0.001 && d.box[0]! >= 0 && d.box[2]! <= x.width && d.box[3]! <= x.height)).toBe(true);
    }
    const c = JSON.parse(await fs.readFile(path.join(dir, 'c.json'), 'utf8'));
    expect(c.images).toHaveLength(8);
    expect(c.categories.map((k: { name: string }) => k.name)).toEqual(['rbc', 'wbc']);
    expect(c.annotations.length).toBe(p.reduce((n, x) => n + x.detections.length, 0));
    expect(c.annotations[0]).toHaveProperty('score');
    // the default conf (0.25): exactly the boxes of that run above 0.25 (none for this one-epoch model), every image listed
    const d = await run([MODEL, RBC8_IMAGES, '--json', path.join(dir, 'p25.json')]);
    expect(d.exitCode, d.stderr).toBe(0);
    const p25 = JSON.parse(await fs.readFile(path.join(dir, 'p25.json'), 'utf8')) as Array<{ detections: unknown[] }>;
    expect(p25).toHaveLength(8);
    expect(p25.reduce((n, x) => n + x.detections.length, 0)).toBe(p.reduce((n, x) => n + x.detections.filter((q) => q.score > 0.25).length, 0));
  });

  it('names bad inputs: missing model, not ONNX, a corrupt image (others still written), an empty folder', async () => {
    const dir = await tempDir('spotter-predict-bad-');
    const imgs = path.join(dir, 'imgs');
    await fs.mkdir(imgs);
    const val = ['image-32_png.rf.5d3d069396760f22a6ee1f170bbb929e.jpg', 'image-33_png.rf.7517a046a018ef4e0e0851652d453531.jpg'];
    for (const f of val) await fs.copyFile(path.join(RBC8_IMAGES, 'val', f), path.join(imgs, f));
    await fs.writeFile(path.join(imgs, 'broken.jpg'), (await fs.readFile(path.join(imgs, val[1]!))).subarray(0, 2000));
    const missing = await run([path.join(dir, 'nope.onnx'), imgs]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/nope\.onnx: no such model file/);
    const notOnnx = await run([path.join(REPO_ROOT, 'package.json'), imgs]);
    expect(notOnnx.exitCode).toBe(1);
    expect(notOnnx.stderr).toMatch(/package\.json: not an ONNX model/);
    const corrupt = await run([MODEL, imgs, '--json', path.join(dir, 'out.json')]);
    expect(corrupt.exitCode).toBe(1);
    expect(corrupt.stderr).toMatch(/broken\.jpg: not a readable image/);
    expect(corrupt.stderr).toMatch(/1 of 3 images could not be read/);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'out.json'), 'utf8'))).toHaveLength(2);
    await fs.mkdir(path.join(dir, 'empty'));
    const empty = await run([MODEL, path.join(dir, 'empty')]);
    expect(empty.exitCode).toBe(1);
    expect(empty.stderr).toMatch(/empty: no images in this folder/);
    const usage = await run([MODEL, imgs, '--conf', '2']);
    expect(usage.exitCode).toBe(2);
  });
});
