/**
 * The export menu and deploy on the real trained fixture run (1 epoch of rbc8 at imgsz 64): ONNX with a
 * dynamic input and with NMS inside (metadata read back from the file, shapes checked by running it with
 * onnxruntime-node), TorchScript, a format whose packages are missing (listed with the package, and a clear
 * error when exported anyway), a cancelled export leaving nothing behind, and two deploys that keep v1 and v2
 * with cards carrying the run's metrics.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobFinished } from '../electron/shared/contract.js';
import { CancelledError, JobManager, standaloneJob } from '../electron/core/jobs/jobs.js';
import { createModelsHandlers } from '../electron/core/models/handlers.js';
import { readModelCard, writeModelCard } from '../electron/core/models/card.js';
import { deployModel, listDeployed, versionOf } from '../electron/core/models/deploy.js';
import { exportModel } from '../electron/core/models/export.js';
import { installFormat, listFormats } from '../electron/core/models/formats.js';
import { readModelMeta } from '../electron/core/predict/onnx-meta.js';
import { readRecord } from '../electron/core/trainer/runs.js';
import type { CoreContext } from '../electron/core/context.js';
import { tempDir, testContext } from './helpers/core.js';
import { copyRun, fixtureRun, hasTrainer, TRAINER_PYTHON } from './trainer-fixture.js';

const hasOpenvino = existsSync(path.join(path.dirname(path.dirname(TRAINER_PYTHON)), 'lib', 'python3.11', 'site-packages', 'openvino'));

/** Run the model on a zero image of size×size; the first output's dims. */
async function outputDims(file: string, size: number): Promise<readonly number[]> {
  const s = await ort.InferenceSession.create(file);
  try {
    const out = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', new Float32Array(3 * size * size), [1, 3, size, size]) });
    return out[s.outputNames[0]!]!.dims;
  } finally {
    await s.release();
  }
}

describe.skipIf(!hasTrainer)('models: export formats, export, deploy (real sidecar)', () => {
  let ctx: CoreContext;
  let ws: string;
  let run: string;
  const savedPython = process.env.SPOTTER_TRAINER_PYTHON;

  beforeAll(async () => {
    process.env.SPOTTER_TRAINER_PYTHON = TRAINER_PYTHON;
    ctx = await testContext();
    const fx = await fixtureRun();
    expect(fx.exitCode, fx.stderr).toBe(0);
    ws = await tempDir();
    run = await copyRun(fx, ws, '20250101-000000_exp');
    for (const f of await fs.readdir(path.join(run, 'weights'))) if (!f.endsWith('.pt')) await fs.rm(path.join(run, 'weights', f), { recursive: true });
  }, 660_000);
  afterAll(() => {
    if (savedPython === undefined) delete process.env.SPOTTER_TRAINER_PYTHON;
    else process.env.SPOTTER_TRAINER_PYTHON = savedPython;
  });

  it('lists every format: ONNX and TorchScript available, a missing package named, RKNN blocked with its reason', async () => {
    const list = await listFormats(ctx);
    expect(list.map((f) => f.format)).toEqual(['onnx', 'torchscript', 'openvino', 'tflite', 'ncnn', 'coreml', 'engine', 'rknn']);
    const by = Object.fromEntries(list.map((f) => [f.format, f]));
    expect(by.onnx!.available).toBe(true);
    expect(by.onnx!.options).toEqual(['imgsz', 'half', 'int8', 'dynamic', 'simplify', 'nms']);
    expect(by.torchscript!.available).toBe(true);
    if (!hasOpenvino) {
      expect(by.openvino!.available).toBe(false);
      expect(by.openvino!.missing).toContain('openvino');
      expect(by.openvino!.blocked).toBeNull();
    }
    if (process.platform === 'linux') expect(by.rknn!.blocked).toMatch(/torch/);
  });

  it('exports ONNX with a dynamic input: Ultralytics metadata, a card with the run\'s metrics, runs at two sizes', async () => {
    const stages: string[] = [];
    const r = await exportModel(ctx, run, { format: 'onnx', dynamic: true }, standaloneJob((s, d, t) => stages.push(`${s} ${d}/${t}`)));
    expect(r.path).toBe(path.join(run, 'weights', 'best.onnx'));
    expect(r.format).toBe('onnx');
    expect(r.bytes).toBe((await fs.stat(r.path)).size);
    expect(r.seconds).toBeGreaterThan(0);
    expect(stages).toEqual(['export onnx 0/2', 'export onnx 1/2', 'export onnx 2/2']);

    const meta = await readModelMeta(r.path);
    expect(meta.task).toBe('detect');
    expect(meta.imgsz).toEqual([64, 64]); // the training imgsz
    expect(meta.names).toEqual(['rbc', 'wbc']);
    expect(meta.layout).toBe('yolo');
    expect(meta.metadata.args).toMatch(/'dynamic': True/);
    // 4 box values + 2 classes; strides 8/16/32: 64 px → 8²+4²+2² = 84 anchors, 96 px → 12²+6²+3² = 189
    expect(await outputDims(r.path, 64)).toEqual([1, 6, 84]);
    expect(await outputDims(r.path, 96)).toEqual([1, 6, 189]);

    const rec = await readRecord(run);
    const card = (await readModelCard(r.path))!;
    expect(card.file).toBe('best.onnx');
    expect(card.format).toBe('onnx');
    expect(card.version).toBeNull();
    expect(card.thresholds).toEqual({ default: 0.25, perClass: {}, iou: 0.7 });
    expect(card.metrics).toEqual(rec.final_metrics ?? rec.metrics);
    expect(card.perClass).toEqual(rec.per_class);
    expect(card.names).toEqual(rec.dataset.classes);
    expect(card.run?.dir).toBe(run);
    expect(await fs.readFile(path.join(run, 'weights', 'best.card.md'), 'utf8')).toMatch(/confidence threshold: 0\.25 \(NMS IoU 0\.7\)/);
  }, 120_000);

  it('exports ONNX with NMS inside: end2end layout, N × 6 boxes; the card keeps thresholds set before', async () => {
    const file = path.join(run, 'weights', 'best.onnx');
    const before = (await readModelCard(file))!;
    await writeModelCard(file, { ...before, thresholds: { default: 0.4, perClass: { wbc: 0.5 }, iou: 0.6 } });
    const r = await exportModel(ctx, run, { format: 'onnx', nms: true, imgsz: 96 });
    expect(r.path).toBe(file);
    const meta = await readModelMeta(r.path);
    expect(meta.imgsz).toEqual([96, 96]);
    expect(meta.layout).toBe('end2end');
    const dims = await outputDims(r.path, 96);
    expect(dims[0]).toBe(1);
    expect(dims[2]).toBe(6); // x1, y1, x2, y2, score, class
    const card = (await readModelCard(r.path))!;
    expect(card.imgsz).toEqual([96, 96]);
    expect(card.thresholds).toEqual({ default: 0.4, perClass: { wbc: 0.5 }, iou: 0.6 });
    expect(card.createdAt).toBe(before.createdAt);
  }, 120_000);

  it('exports TorchScript beside the weights, leaving no work folder', async () => {
    const r = await exportModel(ctx, run, { format: 'torchscript' });
    expect(r.path).toBe(path.join(run, 'weights', 'best.torchscript'));
    expect(r.bytes).toBeGreaterThan(1_000_000);
    expect((await fs.readdir(path.join(run, 'weights'))).filter((f) => f.startsWith('.'))).toEqual([]);
  }, 120_000);

  it.skipIf(hasOpenvino)('refuses a format whose packages are missing, naming the format, the package and the fix', async () => {
    const err = await exportModel(ctx, run, { format: 'openvino' }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^OpenVINO export needs openvino, not installed in the trainer environment — .*spotter models install openvino/);
    expect(existsSync(path.join(run, 'weights', 'best_openvino_model'))).toBe(false);
  }, 120_000);

  it('refuses options a format does not take, and installs nothing for a blocked format', async () => {
    const err = await exportModel(ctx, run, { format: 'torchscript', int8: true }).catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(/TorchScript export does not take --int8/);
    if (process.platform === 'linux') {
      const lines: string[] = [];
      const e2 = await installFormat(ctx, 'rknn', standaloneJob(), (l) => lines.push(l)).catch((e: unknown) => e as Error);
      expect((e2 as Error).message).toMatch(/^RKNN export cannot be built on this machine, so nothing is installed: rknn-toolkit2/);
      expect(lines.some((l) => l.includes('pip'))).toBe(false);
    }
    const lines: string[] = [];
    const after = await installFormat(ctx, 'onnx', standaloneJob(), (l) => lines.push(l));
    expect(lines).toEqual(['ONNX: every package it needs is installed; nothing to install']);
    expect(after.find((f) => f.format === 'onnx')!.available).toBe(true);
  }, 60_000);

  it('a cancelled export leaves neither a work folder nor a partial file', async () => {
    const ac = new AbortController();
    await fs.rm(path.join(run, 'weights', 'best.torchscript'), { force: true });
    const p = exportModel(ctx, run, { format: 'torchscript' }, standaloneJob(undefined, ac.signal), (e) => {
      if (e.type === 'export_start') ac.abort();
    });
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    const left = await fs.readdir(path.join(run, 'weights'));
    expect(left.filter((f) => f.startsWith('.') || f.endsWith('.torchscript'))).toEqual([]);
  }, 120_000);

  it('the models.* calls: export and deploy as jobs with their results, refusals for runs outside the workspace', async () => {
    const finished: JobFinished[] = [];
    const jobs = new JobManager({ progress: () => {}, finished: (f) => finished.push(f) });
    const h = createModelsHandlers({ ctx, emit: () => {}, jobs, workspace: () => ws });
    const { jobId } = await h['models.export']({ dir: run, format: 'onnx', half: false, int8: false, dynamic: false, simplify: true, nms: false });
    await expect(h['models.export']({ dir: run, format: 'onnx', half: false, int8: false, dynamic: false, simplify: true, nms: false })).rejects.toThrow(/already running/);
    for (let i = 0; i < 1200 && !finished.some((f) => f.jobId === jobId); i++) await new Promise((r) => setTimeout(r, 100));
    const f = finished.find((x) => x.jobId === jobId)!;
    expect(f.kind).toBe('export');
    expect(f.status, f.error).toBe('done');
    expect(f.result).toMatchObject({ path: path.join(run, 'weights', 'best.onnx'), format: 'onnx' });
    await expect(h['models.deploy']({ dir: await tempDir() })).rejects.toThrow(/not a run of the workspace/);
    expect(await h['models.list']({})).toEqual([]);

    // deploy is a job too (it may export first); a second deploy of the run waits for it
    const { jobId: deployId } = await h['models.deploy']({ dir: run, name: 'calls' });
    await expect(h['models.deploy']({ dir: run })).rejects.toThrow(/an export of this run is running/);
    for (let i = 0; i < 1200 && !finished.some((x) => x.jobId === deployId); i++) await new Promise((r) => setTimeout(r, 100));
    const d = finished.find((x) => x.jobId === deployId)!;
    expect(d.kind).toBe('deploy');
    expect(d.status, d.error).toBe('done');
    expect(d.result).toMatchObject({ name: 'calls', version: 1, format: 'onnx', path: path.join(ws, 'models', 'calls_v1.onnx') });
    expect((await h['models.list']({})).map((m) => `${m.name} v${m.version}`)).toEqual(['calls v1']);
  }, 120_000);

  it('deploys twice: _v1 and _v2 both kept (exporting ONNX first when the run has none), cards with the run\'s metrics', async () => {
    const ws2 = await tempDir();
    const fx = await fixtureRun();
    const dir = await copyRun(fx, ws2, '20250102-000000_deploy');
    for (const f of await fs.readdir(path.join(dir, 'weights'))) if (!f.endsWith('.pt')) await fs.rm(path.join(dir, 'weights', f), { recursive: true });
    const rec = await readRecord(dir);

    const d1 = await deployModel(ctx, ws2, { dir });
    expect(existsSync(path.join(dir, 'weights', 'best.onnx'))).toBe(true); // exported first
    expect(d1.path).toBe(path.join(ws2, 'models', `${rec.label}_v1.onnx`));
    expect(d1.version).toBe(1);
    expect(d1.format).toBe('onnx');

    // per-class thresholds saved on the run's export travel with the next deploy
    const src = path.join(dir, 'weights', 'best.onnx');
    await writeModelCard(src, { ...(await readModelCard(src))!, thresholds: { default: 0.3, perClass: { wbc: 0.55 }, iou: 0.65 } });
    const d2 = await deployModel(ctx, ws2, { dir });
    expect(d2.path).toBe(path.join(ws2, 'models', `${rec.label}_v2.onnx`));
    expect(d2.card.thresholds).toEqual({ default: 0.3, perClass: { wbc: 0.55 }, iou: 0.65 });

    const models = await fs.readdir(path.join(ws2, 'models'));
    expect(models.sort()).toEqual([`${rec.label}_v1.card.json`, `${rec.label}_v1.card.md`, `${rec.label}_v1.onnx`, `${rec.label}_v2.card.json`, `${rec.label}_v2.card.md`, `${rec.label}_v2.onnx`].sort());
    expect((await fs.readFile(d1.path)).equals(await fs.readFile(src))).toBe(true); // a copy of the export, byte for byte
    for (const [d, v] of [[d1, 1], [d2, 2]] as const) {
      const card = (await readModelCard(d.path))!;
      expect(card.name).toBe(`${rec.label}_v${v}`);
      expect(card.version).toBe(v);
      expect(card.file).toBe(path.basename(d.path));
      expect(card.metrics).toEqual(rec.final_metrics ?? rec.metrics);
      expect(card.perClass).toEqual(rec.per_class);
      expect(card.run).toEqual({ dir, name: rec.name, label: rec.label, dataset: rec.dataset.data_yaml, datasetHash: rec.dataset.hash });
    }
    expect((await readModelCard(d1.path))!.thresholds).toEqual({ default: 0.25, perClass: {}, iou: 0.7 });

    // another name, a chosen file: its own version line
    const d3 = await deployModel(ctx, ws2, { dir, name: 'bus-heads', file: 'best.onnx' });
    expect(path.basename(d3.path)).toBe('bus-heads_v1.onnx');
    const list = await listDeployed(ws2);
    expect(list.map((m) => `${m.name} v${m.version}`)).toEqual(['bus-heads v1', `${rec.label} v2`, `${rec.label} v1`]);

    await expect(deployModel(ctx, ws2, { dir, file: '../../../etc/passwd' })).rejects.toThrow(/not inside the run/);
    await expect(deployModel(ctx, ws2, { dir, name: '../x' })).rejects.toThrow(/model name/);
  }, 180_000);
});

describe('deployed version names', () => {
  it('reads versions of exactly this name, files, folders and cards', () => {
    expect(versionOf('fixture', 'fixture_v3.onnx')).toBe(3);
    expect(versionOf('fixture', 'fixture_v12_openvino_model')).toBe(12);
    expect(versionOf('fixture', 'fixture_v4_openvino_model.card.json')).toBe(4);
    expect(versionOf('fixture', 'fixture_v2.card.md')).toBe(2);
    expect(versionOf('fixture', 'fixture_v1_v5.onnx')).toBeNull(); // the model "fixture_v1"
    expect(versionOf('fixture', 'fixtures_v1.onnx')).toBeNull();
    expect(versionOf('a.b', 'aXb_v1.onnx')).toBeNull();
  });
});
