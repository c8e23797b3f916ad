/**
 * Across runs, on run folders made from a real Ultralytics training (the shared fixture), with the
 * metrics set per test: compare with the baseline, REPORT.md, the duration estimate, summary.md and
 * the dataset content hash.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { EnvReport } from '../electron/shared/trainer.js';
import { TrainRequest } from '../electron/shared/contract.js';
import { datasetHash } from '../electron/core/trainer/dataset.js';
import { compareRuns, estimateRun, reportMarkdown, verdictOf } from '../electron/core/trainer/reports.js';
import { getBaseline, listRuns, setBaseline } from '../electron/core/trainer/runs.js';
import { tempDir } from './helpers/core.js';
import { copyRun, fixtureRun, hasTrainer, trainDatasetCopy } from './trainer-fixture.js';

const M = (p: number, r: number, m50: number, m5095: number) => ({ precision: p, recall: r, mAP50: m50, mAP50_95: m5095 });
const C = (name: string, ap50: number, ap50_95: number) => ({ name, images: 2, instances: 5, p: 0.5, r: 0.5, ap50, ap50_95 });

async function makeRun(ws: string, name: string, patch: Record<string, unknown>) {
  const dir = await copyRun(await fixtureRun(), ws, name);
  const file = path.join(dir, 'spotter-run.json');
  const rec = JSON.parse(await fs.readFile(file, 'utf8'));
  await fs.writeFile(file, JSON.stringify({ ...rec, created_at: `${name.slice(0, 4)}-${name.slice(4, 6)}-${name.slice(6, 8)}T00:00:00.000Z`, ...patch }));
  return dir;
}

describe.skipIf(!hasTrainer)('compare with the baseline', () => {
  it('deltas per metric and per class, verdict by the mAP50-95 threshold', async () => {
    const ws = await tempDir();
    const base = await makeRun(ws, '20250101-000000_base', { label: 'base', metrics: M(0.6, 0.5, 0.7, 0.4), per_class: [C('person', 0.8, 0.5), C('dog', 0.6, 0.3)] });
    const better = await makeRun(ws, '20250102-000000_better', { metrics: M(0.65, 0.5, 0.72, 0.45), per_class: [C('person', 0.82, 0.55), C('dog', 0.61, 0.31)] });
    const same = await makeRun(ws, '20250103-000000_same', { metrics: M(0.6, 0.5, 0.7, 0.39), per_class: [C('person', 0.8, 0.5)] });
    const worse = await makeRun(ws, '20250104-000000_worse', { metrics: M(0.55, 0.45, 0.65, 0.385), per_class: [C('person', 0.7, 0.4), C('horse', 0.1, 0.05)] });
    await makeRun(ws, '20250105-000000_failed', { status: 'failed', metrics: null, per_class: [] });

    await expect(compareRuns(ws, {})).rejects.toThrow(/no baseline/);
    expect(await setBaseline(ws, base)).toBe(base);
    expect(await getBaseline(ws)).toBe(base);
    expect(JSON.parse(await fs.readFile(path.join(ws, 'runs', 'baseline.json'), 'utf8')).run).toBe('20250101-000000_base');

    const c = await compareRuns(ws, {}); // every other run that has metrics
    expect(c.baseline.dir).toBe(base);
    expect(c.baseline.isBaseline).toBe(true);
    const by = Object.fromEntries(c.runs.map((r) => [r.run.dir, r]));
    expect(Object.keys(by).sort()).toEqual([better, same, worse].sort());
    expect(by[better]!.verdict).toBe('better');
    expect(by[same]!.verdict).toBe('same'); // a drop of exactly the threshold is not "more than"
    expect(by[worse]!.verdict).toBe('degraded');
    expect(by[worse]!.metrics.mAP50_95).toEqual({ base: 0.4, run: 0.385, delta: expect.closeTo(-0.015, 9) });
    expect(by[worse]!.metrics.precision.delta).toBeCloseTo(-0.05, 9);
    expect(by[worse]!.perClass).toEqual([
      { name: 'person', ap50: { base: 0.8, run: 0.7, delta: expect.closeTo(-0.1, 9) }, ap50_95: { base: 0.5, run: 0.4, delta: expect.closeTo(-0.1, 9) } },
      { name: 'dog', ap50: null, ap50_95: null },
      { name: 'horse', ap50: null, ap50_95: null },
    ]);
    // a looser threshold changes the verdict; a named run without metrics is an error naming it
    expect((await compareRuns(ws, { runs: [worse], threshold: 0.02 })).runs[0]!.verdict).toBe('same');
    await expect(compareRuns(ws, { runs: [path.join(ws, 'runs', '20250105-000000_failed')] })).rejects.toThrow(/20250105-000000_failed.*no metrics/);
    expect(verdictOf(-0.0100000001, 0.01)).toBe('same');
    expect(verdictOf(-0.0101, 0.01)).toBe('degraded');
  });

  it('REPORT.md: one row per run, oldest first, baseline marked, Δ against it', async () => {
    const ws = await tempDir();
    const base = await makeRun(ws, '20250101-000000_base', { label: 'base', metrics: M(0.6, 0.5, 0.7, 0.4), note: 'first | try' });
    await makeRun(ws, '20250102-000000_b', { label: 'lr0 0.02', metrics: M(0.61, 0.52, 0.71, 0.43), duration_seconds: 3725 });
    await makeRun(ws, '20250103-000000_c', { label: 'crashed one', status: 'crashed', metrics: null });
    await setBaseline(ws, base);
    const md = await reportMarkdown(ws);
    const rows = md.split('\n').filter((l) => l.startsWith('| 2025'));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^\| 2025-01-01 00:00 \| ★ base \| done \| yolov8n\.yaml \| 64 \| 1\/1 \| rbc8 `[0-9a-f]{8}` \| 0\.700 \| 0\.400 \|  \| 0\.600 \| 0\.500 \| \d+ s \| first \\\| try \|$/);
    expect(rows[1]).toContain('| lr0 0.02 | done |');
    expect(rows[1]).toContain('| 0.430 | +0.030 |');
    expect(rows[1]).toContain('| 62 min |');
    expect(rows[2]).toMatch(/\| crashed one \| crashed \| .*\| – \| – \|/);
    expect(md).toMatch(/Baseline \(★\): 20250101-000000_base/);
  });
});

describe.skipIf(!hasTrainer)('summary.md and the dataset hash', () => {
  it('summary.md records data, settings, metrics, per-class AP, environment and the note', async () => {
    const { runDir, dataset } = await fixtureRun();
    const md = await fs.readFile(path.join(runDir, 'summary.md'), 'utf8');
    const rec = JSON.parse(await fs.readFile(path.join(runDir, 'spotter-run.json'), 'utf8'));
    expect(md).toContain(`data.yaml: \`${path.join(dataset, 'data.yaml')}\``);
    expect(md).toContain(rec.dataset.hash);
    expect(md).toContain('split seed: not recorded');
    expect(md).toMatch(/classes \(2\): rbc, wbc$/m);
    expect(md).toMatch(/\| imgsz \| 64 \|/);
    expect(md).toMatch(/\| final \(best\.pt on val\) \| \d\.\d{3} \| \d\.\d{3} \| \d\.\d{3} \| \d\.\d{3} \|/);
    // rbc8's val split: 4 images, 76 rbc and 4 wbc
    expect(md).toMatch(/## Per class[\s\S]*\| rbc \| 4 \| 76 \|[\s\S]*\| wbc \| 4 \| 4 \|/);
    expect(md).toMatch(/torch 2\.\d+\.\d+/);
    expect(md).toMatch(/ultralytics \d+\.\d+\.\d+/);
    expect(md).toContain('note: shared test fixture');
  });

  it('the content hash ignores where the dataset lives and changes with a label', async () => {
    const { dataset } = await fixtureRun();
    const a = await datasetHash(path.join(dataset, 'data.yaml'));
    const other = await trainDatasetCopy(await tempDir());
    expect(await datasetHash(path.join(other, 'data.yaml'))).toBe(a);
    await fs.appendFile(path.join(other, 'labels', 'val', 'image-32_png.rf.5d3d069396760f22a6ee1f170bbb929e.txt'), '0 0.5 0.5 0.2 0.2\n');
    expect(await datasetHash(path.join(other, 'data.yaml'))).not.toBe(a);
  });
});

describe.skipIf(!hasTrainer)('estimate', () => {
  const env = (cuda: boolean) => ({ cuda_available: cuda, mps_available: false }) as EnvReport;

  it('a rule of thumb without earlier runs; CPU-only asks to confirm', async () => {
    const ws = await tempDir();
    const { dataset } = await fixtureRun();
    const cpu = await estimateRun(ws, TrainRequest.parse({ dataset, epochs: 10, imgsz: 640 }), env(false));
    expect(cpu.basis).toMatch(/rule of thumb.*CPU.*4 training images × 10 epoch/);
    expect(cpu.confirm).toMatch(/CPU only/);
    const gpu = await estimateRun(ws, TrainRequest.parse({ dataset, epochs: 10, imgsz: 640 }), env(true));
    expect(gpu.seconds).toBeLessThan(cpu.seconds);
    expect(gpu.confirm).toBeNull();
    const long = await estimateRun(ws, TrainRequest.parse({ dataset, model: 'yolo11x.yaml', epochs: 100000, imgsz: 1280 }), env(true));
    expect(long.seconds).toBeGreaterThan(3600);
    expect(long.confirm).toMatch(/about \d+ h/);
  });

  it('from earlier runs of the same model: seconds per image-epoch', async () => {
    const ws = await tempDir();
    const { dataset } = await fixtureRun();
    // an earlier run: 4 images × 2 epochs in 30 s overhead + 80 s → 10 s per image-epoch
    await makeRun(ws, '20250101-000000_earlier', { duration_seconds: 110, epochs_completed: 2 });
    expect((await listRuns(ws))[0]!.durationSeconds).toBe(110);
    const e = await estimateRun(ws, TrainRequest.parse({ dataset, epochs: 3, imgsz: 64, device: 'cpu' }), env(false));
    expect(e.basis).toMatch(/from 1 earlier yolov8n run.*imgsz 64.*10000\.0 ms per image-epoch/);
    expect(e.seconds).toBe(30 + 10 * 4 * 3);
    const scaled = await estimateRun(ws, TrainRequest.parse({ dataset, epochs: 1, imgsz: 128, device: 'cpu' }), env(false));
    expect(scaled.basis).toMatch(/scaled by image size/);
    expect(scaled.seconds).toBe(30 + 40 * 4);
    // another model has no history: back to the rule of thumb
    expect((await estimateRun(ws, TrainRequest.parse({ dataset, model: 'yolo11s.yaml', imgsz: 64, device: 'cpu' }), env(false))).basis).toMatch(/rule of thumb/);
  });
});
