/**
 * Spotter's ONNX predict against Ultralytics' own `YOLO(model.onnx).predict` on the same models and
 * images (coco8 train + val): the two int8 exports in shared data (YOLOv8n 640, YOLO11n 320), models
 * exported in this test from yaml-built YOLOs (segmentation, nms=True end-to-end for detection and
 * segmentation; random weights, so a low conf is used), and the shared 1-epoch coco8 training's best.pt
 * exported with `spotter export`. Also: the letterbox resize is bit-exact with cv2.resize, and the
 * decoding invariants hold on real outputs. Needs the trainer environment (Ultralytics, cv2) and the
 * shared data: skipped with a reason otherwise, failing under CI (see the fixtures).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { Engine } from '../electron/core/predict/engine.js';
import { readModelMeta, parsePyLiteral } from '../electron/core/predict/onnx-meta.js';
import { letterboxParams, resizeLinear, decodeRgb } from '../electron/core/predict/preprocess.js';
import type { ImagePrediction } from '../electron/shared/review.js';
import { hasSharedData, REPO_ROOT, shared } from './helpers/shared.js';
import { tempDir } from './helpers/core.js';
import { BIN, fixtureRun, hasTrainer, TRAINER_PYTHON, trainerEnv } from './trainer-fixture.js';

const COCO8 = shared('real', 'coco8-ultralytics', 'images');
const MODELS = path.join(REPO_ROOT, '.cache', 'test-data', 'predict-models-v2');
const pyEnv = (dir: string) => ({ YOLO_OFFLINE: '1', YOLO_CONFIG_DIR: path.join(dir, 'ultralytics-config') });

const PREDICT_PY = `
import json, sys
from ultralytics import YOLO
model, conf, iou = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
m = YOLO(model)
out = []
for f in sys.argv[4:]:
    r = m.predict(f, conf=conf, iou=iou, verbose=False, device='cpu')[0]
    b = r.boxes
    out.append({'file': f, 'width': r.orig_shape[1], 'height': r.orig_shape[0],
                'detections': [{'class_id': int(c), 'score': float(s), 'box': [float(v) for v in xy]}
                               for xy, s, c in zip(b.xyxy.tolist(), b.conf.tolist(), b.cls.tolist())],
                'polygons': [p.reshape(-1).tolist() for p in r.masks.xy] if r.masks is not None else None})
print('@@' + json.dumps(out))
`;

// yaml-built models (random weights) exported to the layouts Spotter decodes; nms exports bake a conf in
const MAKE_MODELS_PY = `
import os, sys, shutil, torch
from ultralytics import YOLO
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
for name, cfg, kw in [('seg', 'yolov8n-seg.yaml', {}), ('yolo26', 'yolo26n.yaml', {}),
                      ('nms', 'yolov8n.yaml', {'nms': True, 'conf': 1e-7}), ('nmsseg', 'yolov8n-seg.yaml', {'nms': True, 'conf': 1e-7})]:
    dst = os.path.join(out, name + '.onnx')
    if os.path.exists(dst):
        continue
    f = YOLO(cfg).export(format='onnx', imgsz=320, simplify=False, device='cpu', **kw)
    shutil.move(f, dst + '.tmp')
    os.replace(dst + '.tmp', dst)
`;

const RESIZE_PY = `
import sys, cv2, numpy as np
sw, sh, dw, dh, seed = map(int, sys.argv[1:6])
im = np.random.default_rng(seed).integers(0, 256, (sh, sw, 3), dtype=np.uint8)
im.tofile(sys.argv[6])
cv2.resize(im, (dw, dh), interpolation=cv2.INTER_LINEAR).tofile(sys.argv[7])
`;

interface Ref {
  file: string;
  width: number;
  height: number;
  detections: Array<{ class_id: number; score: number; box: number[] }>;
  polygons: number[][] | null;
}

let work = '';
async function py(script: string, args: string[]): Promise<string> {
  const f = path.join(work, `s${Math.random().toString(36).slice(2)}.py`);
  await fs.writeFile(f, script);
  const r = await execa(TRAINER_PYTHON, [f, ...args], { env: pyEnv(work), reject: false, timeout: 600_000 });
  if (r.exitCode !== 0) throw new Error(`python failed (${r.exitCode}): ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

async function ultralytics(model: string, files: string[], conf: number, iou = 0.7): Promise<Ref[]> {
  const out = await py(PREDICT_PY, [model, String(conf), String(iou), ...files]);
  return JSON.parse(out.slice(out.lastIndexOf('@@') + 2)) as Ref[];
}

function iou(a: number[], b: number[]): number {
  const w = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const h = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = w * h;
  const u = (a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter;
  return u > 0 ? inter / u : a.every((v, i) => v === b[i]) ? 1 : 0;
}

/** Greedy one-to-one matching: same class, IoU ≥ 0.99, score within 1e-3. */
function compare(mine: ImagePrediction[], ref: Ref[]): { matched: number; total: number; worstScore: number } {
  let matched = 0;
  let total = 0;
  let worstScore = 0;
  for (const [k, r] of ref.entries()) {
    const m = mine[k]!;
    expect(m.width).toBe(r.width);
    expect(m.height).toBe(r.height);
    total += Math.max(r.detections.length, m.detections.length);
    const used = new Set<number>();
    for (const d of r.detections) {
      let best = -1;
      let bestIou = 0;
      m.detections.forEach((x, i) => {
        if (used.has(i) || x.classId !== d.class_id || Math.abs(x.score - d.score) > 1e-3) return;
        const v = iou(x.box, d.box);
        if (v > bestIou) {
          bestIou = v;
          best = i;
        }
      });
      if (best >= 0 && bestIou >= 0.99) {
        used.add(best);
        matched++;
        worstScore = Math.max(worstScore, Math.abs(m.detections[best]!.score - d.score));
      }
    }
  }
  return { matched, total, worstScore };
}

async function coco8Files(): Promise<string[]> {
  const out: string[] = [];
  for (const s of ['train', 'val']) for (const f of (await fs.readdir(path.join(COCO8, s))).sort()) out.push(path.join(COCO8, s, f));
  return out;
}

async function parity(model: string, conf: number): Promise<{ mine: ImagePrediction[]; ref: Ref[] }> {
  const files = await coco8Files();
  const ref = await ultralytics(model, files, conf);
  const engine = await Engine.open(model);
  const mine: ImagePrediction[] = [];
  try {
    for (const f of files) mine.push(await engine.predictFile(f, { conf, iou: 0.7 }));
  } finally {
    await engine.close();
  }
  const c = compare(mine, ref);
  const refCount = ref.reduce((n, r) => n + r.detections.length, 0);
  expect(refCount, `${model}: Ultralytics found nothing at conf ${conf}; the comparison would be empty`).toBeGreaterThan(0);
  expect(c.matched / c.total, `${path.basename(model)}: ${c.matched} of ${c.total} boxes matched`).toBeGreaterThanOrEqual(0.99);
  expect(c.worstScore).toBeLessThanOrEqual(1e-3);
  return { mine, ref };
}

const ready = hasTrainer && hasSharedData;

describe.skipIf(!ready)('ONNX predict parity with Ultralytics', () => {
  beforeAll(async () => {
    work = await tempDir('spotter-predict-');
    if (!['seg', 'yolo26', 'nms', 'nmsseg'].every((n) => existsSync(path.join(MODELS, `${n}.onnx`)))) await py(MAKE_MODELS_PY, [MODELS]);
  });

  it('resizes bit-exactly like cv2.resize INTER_LINEAR (down, up, one axis)', async () => {
    const cases = [
      [640, 480, 640, 427],
      [381, 500, 777, 555],
      [640, 480, 1280, 900],
      [481, 640, 243, 320],
      [100, 61, 320, 196],
    ];
    for (const [i, [sw, sh, dw, dh]] of cases.entries()) {
      const src = path.join(work, 'src.raw');
      const ref = path.join(work, 'ref.raw');
      await py(RESIZE_PY, [sw, sh, dw, dh, i, src, ref].map(String));
      const mine = resizeLinear(await fs.readFile(src), sw!, sh!, 3, dw!, dh!);
      expect(Buffer.compare(Buffer.from(mine), await fs.readFile(ref)), `${sw}x${sh} → ${dw}x${dh}`).toBe(0);
    }
  });

  it('reads Ultralytics metadata from the ONNX protobuf', async () => {
    const v8 = await readModelMeta(shared('weights', 'yolov8n_int8.onnx'));
    expect(v8).toMatchObject({ task: 'detect', imgsz: [640, 640], stride: 32, layout: 'yolo', nm: 0 });
    expect(v8.names).toHaveLength(80);
    expect(v8.names.slice(0, 3)).toEqual(['person', 'bicycle', 'car']);
    expect(v8.outputs[0]!.dims).toEqual([1, 84, 8400]);
    const v11 = await readModelMeta(shared('weights', 'yolo11n_int8.onnx'));
    expect(v11).toMatchObject({ imgsz: [320, 320], layout: 'yolo' });
    expect(await readModelMeta(path.join(MODELS, 'seg.onnx'))).toMatchObject({ task: 'segment', layout: 'yolo', nm: 32 });
    expect(await readModelMeta(path.join(MODELS, 'nms.onnx'))).toMatchObject({ task: 'detect', layout: 'end2end', nm: 0 });
    expect(await readModelMeta(path.join(MODELS, 'nmsseg.onnx'))).toMatchObject({ task: 'segment', layout: 'end2end', nm: 32 });
    expect(parsePyLiteral(`{0: 'a', 1: "o'clock", 2: 'x\\\\y'}`)).toEqual({ 0: 'a', 1: "o'clock", 2: 'x\\y' });
    await expect(readModelMeta(path.join(REPO_ROOT, 'README.md'))).rejects.toThrow(/README\.md: not an ONNX model/);
    await expect(readModelMeta(path.join(work, 'missing.onnx'))).rejects.toThrow(/missing\.onnx: no such model file/);
  });

  it('YOLOv8n int8 (640, 1×84×8400) matches Ultralytics on coco8', async () => {
    const { mine } = await parity(shared('weights', 'yolov8n_int8.onnx'), 0.25);
    for (const r of mine) {
      // decoding invariants: best first after NMS is not required, but boxes lie in the image and no
      // two kept boxes of one class overlap above the NMS IoU
      for (const d of r.detections) {
        expect(d.box[0]).toBeGreaterThanOrEqual(0);
        expect(d.box[2]).toBeLessThanOrEqual(r.width);
        expect(d.box[3]).toBeLessThanOrEqual(r.height);
        expect(d.score).toBeGreaterThan(0.25);
      }
      for (const [i, a] of r.detections.entries()) for (const b of r.detections.slice(i + 1)) if (a.classId === b.classId) expect(iou(a.box, b.box)).toBeLessThanOrEqual(0.7 + 1e-4);
    }
  });

  it('YOLO11n int8 (320, 1×84×2100) matches Ultralytics on coco8, also at conf 0.001', async () => {
    await parity(shared('weights', 'yolo11n_int8.onnx'), 0.25);
    const { mine } = await parity(shared('weights', 'yolo11n_int8.onnx'), 0.001);
    // at the review floor NMS keeps many boxes, capped at max_det
    expect(Math.max(...mine.map((r) => r.detections.length))).toBeLessThanOrEqual(300);
    expect(mine.some((r) => r.detections.length > 20)).toBe(true);
  });

  it('a YOLO26 export in the yolo layout matches', async () => {
    await parity(path.join(MODELS, 'yolo26.onnx'), 0.0001);
  });

  it('segmentation (boxes + coefficients + prototypes) matches, with outlines over the same region', async () => {
    const { mine, ref } = await parity(path.join(MODELS, 'seg.onnx'), 0.0001);
    const bbox = (p: number[]) => {
      const xs = p.filter((_, i) => i % 2 === 0);
      const ys = p.filter((_, i) => i % 2 === 1);
      return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
    };
    let compared = 0;
    for (const [k, r] of ref.entries()) {
      for (const [i, p] of (r.polygons ?? []).entries()) {
        const d = mine[k]!.detections[i];
        if (!d?.polygon || p.length < 6) continue;
        compared++;
        // the outline's extent matches Ultralytics' contour to about a pixel of the network input
        expect(iou(bbox(d.polygon), bbox(p))).toBeGreaterThan(0.9);
      }
    }
    expect(compared).toBeGreaterThan(0);
  });

  it('end-to-end outputs (1×300×6, nms=True export) match', async () => {
    await parity(path.join(MODELS, 'nms.onnx'), 1e-6);
  });

  it('end-to-end segmentation outputs (1×300×38) match', async () => {
    const { mine } = await parity(path.join(MODELS, 'nmsseg.onnx'), 1e-6);
    expect(mine.some((r) => r.detections.some((d) => (d.polygon?.length ?? 0) >= 6))).toBe(true);
  });

  it.skipIf(!existsSync(path.join(REPO_ROOT, 'dist/cli/index.js')))("a model exported from the shared training's best.pt matches", async () => {
    const run = await fixtureRun();
    expect(run.exitCode, run.stderr.slice(-2000)).toBe(0);
    const r = await execa(process.execPath, [BIN, 'export', run.runDir, '--format', 'onnx'], { env: trainerEnv(run.dataDir), reject: false, timeout: 600_000 });
    expect(r.exitCode, r.stderr.slice(-2000)).toBe(0);
    const onnx = path.join(run.runDir, 'weights', 'best.onnx');
    expect(existsSync(onnx)).toBe(true);
    const meta = await readModelMeta(onnx);
    expect(meta.imgsz).toEqual([64, 64]);
    expect(meta.names).toHaveLength(80);
    // one epoch at imgsz 64 scores low: compare at a very low conf
    await parity(onnx, 1e-5);
  });

  it('letterbox parameters follow LetterBox (centre, -0.1/+0.1 rounding)', async () => {
    const img = await decodeRgb(path.join(COCO8, 'val', '000000000036.jpg'));
    expect(letterboxParams(img.width, img.height, 640, 640)).toMatchObject({ newW: 481, newH: 640, padX: 79, padY: 0 });
    expect(letterboxParams(640, 427, 320, 320)).toMatchObject({ newW: 320, newH: 214, padX: 0, padY: 53 });
  });
});
