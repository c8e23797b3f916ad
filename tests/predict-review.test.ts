/**
 * The review.* handlers on real data (coco8 imported as a Spotter dataset, the int8 YOLO11n export):
 * models listed with their cards, a 'predict' job over a split with ground truth mapped by class name,
 * the cache answering the second time, a folder source without ground truth, thresholds saved into a
 * new card; and the `spotter predict` CLI (built bundle: the worker-thread pool) with --json/--coco and
 * its bad inputs.
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
import { hasSharedData, REPO_ROOT, shared } from './helpers/shared.js';
import { tempDir, testContext } from './helpers/core.js';

const MODEL = shared('weights', 'yolo11n_int8.onnx');
const CLI = path.join(REPO_ROOT, 'bin', 'spotter.mjs');
const hasCli = existsSync(path.join(REPO_ROOT, 'dist', 'cli', 'predict-worker.mjs'));
if (!hasCli) {
  const reason = 'dist/cli is not built with the predict worker (run `node scripts/build.mjs cli`)';
  if (['1', 'true'].includes(String(process.env.CI).toLowerCase())) throw new Error(reason);
  console.warn(`skipping the predict CLI tests: ${reason}`);
}

describe.skipIf(!hasSharedData)('review handlers', () => {
  let ws = '';
  let dataset = '';
  let deps: HandlerDeps;
  const finished: JobFinished[] = [];
  const progress: JobProgress[] = [];
  beforeAll(async () => {
    ws = await tempDir('spotter-review-');
    const ctx = await testContext();
    const res = await runImport(ImportOptions.parse({ sources: [shared('real', 'coco8-ultralytics')], out: path.join(ws, 'datasets', 'coco8'), keepSplits: true, dupThreshold: -1 }), standaloneJob(), ctx, {
      datasetsDir: path.join(ws, 'datasets'),
    });
    dataset = res.dir;
    await fs.mkdir(path.join(ws, 'models'), { recursive: true });
    await fs.copyFile(MODEL, path.join(ws, 'models', 'coco_v1.onnx'));
    const jobs = new JobManager({ progress: (p) => progress.push(p), finished: (f) => finished.push(f) }, 0);
    deps = { ctx, emit: () => {}, jobs, workspace: () => ws };
  });

  it('predicts a split with ground truth, caches it, and answers from the cache next time', async () => {
    const h = createPredictHandlers(deps);
    const models = await h['review.models']({});
    expect(models.map((m) => [m.origin, path.basename(m.path)])).toEqual([['deployed', 'coco_v1.onnx']]);
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
    // the dataset's classes first (coco8 has all 80 COCO names): ground truth and predictions share indices
    const detail = JSON.parse(await fs.readFile(path.join(dataset, 'report.json'), 'utf8')) as { names: string[] };
    expect(set.classes.slice(0, set.datasetClasses)).toEqual(detail.names);
    expect(set.images.length).toBe(summary.images);
    const withGt = set.images.filter((i) => i.gt && i.gt.length);
    expect(withGt.length).toBeGreaterThan(0);
    for (const im of set.images) {
      expect(im.pred.every((p, i) => i === 0 || im.pred[i - 1]!.score >= p.score)).toBe(true);
      // stored to 1e-5: a score just above the 0.001 floor may read back as 0.001
      expect(im.pred.every((p) => p.score >= set.confFloor && set.classes[p.cls] !== undefined)).toBe(true);
      for (const g of im.gt ?? []) expect(g.box[2]).toBeLessThanOrEqual(im.width + 1e-6);
    }
    // a person in ground truth is found as a person (class mapped by name, boxes in pixels)
    const person = set.classes.indexOf('person');
    const im = set.images.find((i) => i.gt?.some((g) => g.cls === person))!;
    const g = im.gt!.find((x) => x.cls === person)!;
    const best = im.pred.filter((p) => p.cls === person && p.score > 0.25);
    const iouOf = (a: number[], b: number[]) => {
      const w = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
      const hh = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
      return (w * hh) / ((a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - w * hh);
    };
    expect(Math.max(...best.map((p) => iouOf(p.box, g.box)))).toBeGreaterThan(0.5);
    // second time: the cache answers
    const again = await h['review.predict']({ source, force: false });
    await deps.jobs.wait(again.jobId);
    expect((finished.find((x) => x.jobId === again.jobId)!.result as ReviewSetSummary).cached).toBe(true);
  });

  it('predicts a folder without ground truth, and saves thresholds into a new card', async () => {
    const h = createPredictHandlers(deps);
    const model = path.join(ws, 'models', 'coco_v1.onnx');
    const source = { model, folder: shared('real', 'coco8-ultralytics', 'images'), split: 'val' as const };
    const { jobId } = await h['review.predict']({ source, force: true });
    await deps.jobs.wait(jobId);
    const set = decodeReviewSet((await h['review.get']({ source }))!);
    expect(set.images).toHaveLength(8);
    expect(set.images.every((i) => i.gt === null)).toBe(true);
    expect(set.datasetClasses).toBe(0);
    const card = await h['review.saveThresholds']({ model, thresholds: { default: 0.3, perClass: { person: 0.4 }, iou: 0.6 } });
    expect(card).toMatchObject({ name: 'coco_v1', file: 'coco_v1.onnx', imgsz: [320, 320], run: null, metrics: null, thresholds: { default: 0.3, perClass: { person: 0.4 } } });
    const info = await h['review.modelInfo']({ model });
    expect(info.card?.thresholds.default).toBe(0.3);
    const updated = await h['review.saveThresholds']({ model, thresholds: { default: 0.5, perClass: {}, iou: 0.7 } });
    expect(updated.createdAt).toBe(card.createdAt);
    expect(updated.thresholds.default).toBe(0.5);
    await expect(h['review.predict']({ source: { model: path.join(ws, 'nope.onnx'), folder: ws, split: 'val' }, force: false })).rejects.toThrow(/nope\.onnx: no such model file/);
  });
});

describe.skipIf(!hasSharedData || !hasCli)('spotter predict', () => {
  const run = (args: string[]) => execa(process.execPath, [CLI, 'predict', ...args], { reject: false, timeout: 300_000 });

  it('writes --json and --coco for a folder, in original pixels', async () => {
    const dir = await tempDir('spotter-predict-cli-');
    const r = await run([MODEL, shared('real', 'coco8-ultralytics', 'images'), '--json', path.join(dir, 'p.json'), '--coco', path.join(dir, 'c.json')]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/8 images, \d+ detections \(workers/);
    const p = JSON.parse(await fs.readFile(path.join(dir, 'p.json'), 'utf8')) as Array<{ file: string; width: number; height: number; detections: Array<{ class: string; class_id: number; score: number; box: number[] }> }>;
    expect(p).toHaveLength(8);
    const bus = p.find((x) => x.detections.some((d) => d.class === 'person'))!;
    expect(bus.detections.every((d) => d.score > 0.25 && d.box[2]! <= bus.width && d.box[3]! <= bus.height)).toBe(true);
    const c = JSON.parse(await fs.readFile(path.join(dir, 'c.json'), 'utf8'));
    expect(c.images).toHaveLength(8);
    expect(c.categories).toHaveLength(80);
    expect(c.annotations.length).toBe(p.reduce((n, x) => n + x.detections.length, 0));
    expect(c.annotations[0]).toHaveProperty('score');
  });

  it('names bad inputs: missing model, not ONNX, a corrupt image (others still written), an empty folder', async () => {
    const dir = await tempDir('spotter-predict-bad-');
    const imgs = path.join(dir, 'imgs');
    await fs.mkdir(imgs);
    for (const f of ['000000000036.jpg', '000000000042.jpg']) await fs.copyFile(shared('real', 'coco8-ultralytics', 'images', 'val', f), path.join(imgs, f));
    await fs.writeFile(path.join(imgs, 'broken.jpg'), (await fs.readFile(path.join(imgs, '000000000042.jpg'))).subarray(0, 2000));
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
