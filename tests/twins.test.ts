/**
 * The leak's price: which val/test images have a twin in train, by the same audit report.json states, carried into
 * the review set, and the gallery's metrics on the two halves.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runImport } from '../electron/core/datasets/importer.js';
import { twinsInTrain } from '../electron/core/datasets/twins.js';
import { standaloneJob } from '../electron/core/jobs/jobs.js';
import { buildReviewSet } from '../electron/core/predict/handlers.js';
import { ImportOptions } from '../electron/shared/schemas.js';
import { averagePrecision, leakPrice } from '../electron/shared/review-metrics.js';
import { fixture } from './helpers/shared.js';
import { tempDir, testContext } from './helpers/core.js';
import { fixtureOnnx, hasTrainer } from './trainer-fixture.js';

async function importDrone(keepSplits: boolean) {
  const ctx = await testContext();
  const work = await tempDir('spotter-twins-');
  const out = path.join(work, keepSplits ? 'drone-kept' : 'drone');
  const res = await runImport(ImportOptions.parse({ sources: [fixture('drone-person-video-frames-roboflow')], out, keepSplits }), standaloneJob(), ctx, { datasetsDir: work });
  return { out, res };
}

describe('val/test images with a twin in train, per image', () => {
  it("on the drone export's own (leaking) split: the flags add up to report.json's held_out_with_twin", async () => {
    const { out, res } = await importDrone(true);
    const flags = (await twinsInTrain(out, standaloneJob()))!;
    const heldOut = [...flags.byFile.keys()].filter((f) => !f.startsWith('images/train/'));
    expect(heldOut).toHaveLength(res.report.leak_audit.held_out_images!);
    expect([...flags.byFile.values()].filter(Boolean)).toHaveLength(res.report.leak_audit.held_out_with_twin!);
    expect(res.report.leak_audit.held_out_with_twin!).toBeGreaterThan(0.8 * heldOut.length);
    // train images are never flagged
    expect([...flags.byFile].filter(([f, t]) => t && f.startsWith('images/train/'))).toEqual([]);
    expect(flags.dupThreshold).toBe(4);
  });

  it("on Spotter's own split of the same video: none", async () => {
    const { out, res } = await importDrone(false);
    const flags = (await twinsInTrain(out, standaloneJob()))!;
    expect(res.report.leak_audit.held_out_with_twin).toBe(0);
    expect([...flags.byFile.values()].some(Boolean)).toBe(false);
  });

  it('a folder that Spotter did not make has no flags', async () => {
    expect(await twinsInTrain(await tempDir(), standaloneJob())).toBeNull();
  });
});

describe.skipIf(!hasTrainer)('the review set carries the flags, and the gallery splits its metrics by them', () => {
  it('predicting the kept drone split with the fixture model', async () => {
    const { out, res } = await importDrone(true);
    const model = path.join(await tempDir(), 'fixture.onnx');
    await fs.copyFile(await fixtureOnnx(), model);
    const set = await buildReviewSet({ model, dataset: out, split: 'val' }, standaloneJob(), { workers: 1 });
    const flags = (await twinsInTrain(out, standaloneJob()))!;
    expect(set.images).toHaveLength(res.report.splits.val!.images);
    expect(set.twinInTrain).toEqual(set.images.map((im) => flags.byFile.get(`images/${im.file}`)));
    expect(set.twinInTrain!.filter(Boolean).length).toBeGreaterThan(0.8 * set.images.length);
    const price = leakPrice(set)!;
    const twins = set.images.filter((_im, i) => set.twinInTrain![i]);
    const others = set.images.filter((_im, i) => !set.twinInTrain![i]);
    expect(price.all).toMatchObject({ images: set.images.length, map50_95: averagePrecision(set).map50_95 });
    expect(price.withTwin).toMatchObject({ images: twins.length, map50_95: averagePrecision({ classes: set.classes, images: twins }).map50_95 });
    // every val frame of the drone export has a twin in train: nothing is left to measure the model on honestly
    expect(others).toHaveLength(0);
    expect(price.without.images).toBe(0);
    expect(price.without.map50_95).toBeNaN();
    // a train split, or all splits together, carry no flags (train images would mix into "without a twin")
    expect((await buildReviewSet({ model, dataset: out, split: 'train' }, standaloneJob(), { workers: 1 })).twinInTrain).toBeUndefined();
    expect(leakPrice(await buildReviewSet({ model, dataset: out, split: 'all' }, standaloneJob(), { workers: 1 }))).toBeNull();
  });
});
