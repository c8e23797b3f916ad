/**
 * Spotter's ONNX predict against Ultralytics' own `YOLO(model.onnx).predict` on the same models and
 * images. The images are in the repository: rbc8's 8 blood-cell JPEGs (416×416) and lossless PNG crops of
 * them in other shapes (landscape, portrait, small, off-square), so the letterbox pads on either axis.
 * The models: exported in this test from yaml-built YOLOs (random weights, so a low conf is used: the
 * YOLOv8n layout at 640, YOLO26, segmentation, nms=True end-to-end for detection and segmentation) and the
 * shared 1-epoch rbc8 training exported with `spotter export` (fixtureOnnx). On the shared data only
 * (AGPL weights, never copied here): the two pretrained int8 COCO exports (YOLOv8n 640, YOLO11n 320) on
 * coco8. Also: the letterbox resize is bit-exact with cv2.resize, and the decoding invariants hold on real
 * outputs. Needs the trainer environment (Ultralytics, cv2).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { Engine } from '../electron/core/predict/engine.js';
import sharp from 'sharp';
import { readModelMeta, parsePyLiteral } from '../electron/core/predict/onnx-meta.js';
import { letterboxParams, resizeLinear, decodeRgb } from '../electron/core/predict/preprocess.js';
import type { ImagePrediction } from '../electron/shared/review.js';
import { fixture, itShared, REPO_ROOT, shared } from './helpers/shared.js';
import { tempDir } from './helpers/core.js';
import { fixtureOnnx, hasTrainer, TRAINER_PYTHON } from './trainer-fixture.js';

const COCO8 = shared('real', 'coco8-ultralytics', 'images');
const RBC8 = fixture('rbc8', 'images');
/** crops of rbc8 images written as PNG (lossless: both sides decode the same pixels): [image, left, top, width, height] */
const CROPS: Array<[string, number, number, number, number]> = [
  ['val/image-32_png.rf.5d3d069396760f22a6ee1f170bbb929e.jpg', 0, 0, 416, 277],
  ['val/image-33_png.rf.7517a046a018ef4e0e0851652d453531.jpg', 50, 0, 313, 416],
  ['train/image-1_png.rf.f95d6db7500af1a9f42b10b65defef2e.jpg', 101, 173, 211, 137],
  ['train/image-14_png.rf.a76c0dca3957cdcac39bb25233be476d.jpg', 7, 13, 401, 389],
];
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
for name, cfg, kw in [('det', 'yolov8n.yaml', {'imgsz': 640}), ('seg', 'yolov8n-seg.yaml', {}), ('yolo26', 'yolo26n.yaml', {}),
                      ('nms', 'yolov8n.yaml', {'nms': True, 'conf': 1e-7}), ('nmsseg', 'yolov8n-seg.yaml', {'nms': True, 'conf': 1e-7})]:
    dst = os.path.join(out, name + '.onnx')
    if os.path.exists(dst):
        continue
    f = YOLO(cfg).export(format='onnx', simplify=False, device='cpu', **{'imgsz': 320, **kw})
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

/** the 8 images of a folder with train/ and val/ (rbc8, coco8), sorted */
async function splitFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const s of ['train', 'val']) for (const f of (await fs.readdir(path.join(root, s))).sort()) out.push(path.join(root, s, f));
  return out;
}

/** rbc8's images and the crops (made in beforeAll) */
let IMAGES: string[] = [];

async function parity(model: string, conf: number, files = IMAGES): Promise<{ mine: ImagePrediction[]; ref: Ref[] }> {
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

/**
 * Boxes lie in the image, score above conf, and no two kept boxes of one class overlap above the NMS IoU. NMS
 * runs on the network's boxes before they are clipped to the image: clipping can raise the overlap of two
 * boxes that leave the image (two whole-image boxes clip to the same), so the overlap is checked on the
 * pairs of boxes inside the image. Returns how many pairs of one class were checked.
 */
function expectDecodingInvariants(mine: ImagePrediction[], conf: number): number {
  let pairs = 0;
  for (const r of mine) {
    for (const d of r.detections) {
      expect(d.box[0]).toBeGreaterThanOrEqual(0);
      expect(d.box[1]).toBeGreaterThanOrEqual(0);
      expect(d.box[2]).toBeLessThanOrEqual(r.width);
      expect(d.box[3]).toBeLessThanOrEqual(r.height);
      expect(d.score).toBeGreaterThan(conf);
    }
    const inside = r.detections.filter((d) => d.box[0] > 0 && d.box[1] > 0 && d.box[2] < r.width && d.box[3] < r.height);
    for (const [i, a] of inside.entries())
      for (const b of inside.slice(i + 1))
        if (a.classId === b.classId) {
          pairs++;
          expect(iou(a.box, b.box)).toBeLessThanOrEqual(0.7 + 1e-4);
        }
  }
  return pairs;
}

describe.skipIf(!hasTrainer)('ONNX predict parity with Ultralytics', () => {
  beforeAll(async () => {
    work = await tempDir('spotter-predict-');
    if (!['det', 'seg', 'yolo26', 'nms', 'nmsseg'].every((n) => existsSync(path.join(MODELS, `${n}.onnx`)))) await py(MAKE_MODELS_PY, [MODELS]);
    const crops: string[] = [];
    for (const [k, [file, left, top, width, height]] of CROPS.entries()) {
      const out = path.join(work, `crop${k}-${width}x${height}.png`);
      await sharp(path.join(RBC8, file)).extract({ left, top, width, height }).png().toFile(out);
      crops.push(out);
    }
    IMAGES = [...(await splitFiles(RBC8)), ...crops];
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
    expect(await readModelMeta(path.join(MODELS, 'det.onnx'))).toMatchObject({ task: 'detect', imgsz: [640, 640], stride: 32, layout: 'yolo', nm: 0, outputs: [{ dims: [1, 84, 8400] }] });
    expect((await readModelMeta(path.join(MODELS, 'det.onnx'))).names.slice(0, 2)).toEqual(['0', '1']); // a yaml model's names
    expect(await readModelMeta(path.join(MODELS, 'seg.onnx'))).toMatchObject({ task: 'segment', layout: 'yolo', nm: 32 });
    expect(await readModelMeta(path.join(MODELS, 'nms.onnx'))).toMatchObject({ task: 'detect', layout: 'end2end', nm: 0 });
    expect(await readModelMeta(path.join(MODELS, 'nmsseg.onnx'))).toMatchObject({ task: 'segment', layout: 'end2end', nm: 32 });
    // the fixture run's export: its training imgsz and its dataset's two classes
    expect(await readModelMeta(await fixtureOnnx())).toMatchObject({ task: 'detect', imgsz: [64, 64], stride: 32, layout: 'yolo', nm: 0, names: ['rbc', 'wbc'], outputs: [{ dims: [1, 6, 84] }] });
    expect(parsePyLiteral(`{0: 'a', 1: "o'clock", 2: 'x\\\\y'}`)).toEqual({ 0: 'a', 1: "o'clock", 2: 'x\\y' });
    await expect(readModelMeta(path.join(REPO_ROOT, 'README.md'))).rejects.toThrow(/README\.md: not an ONNX model/);
    await expect(readModelMeta(path.join(work, 'missing.onnx'))).rejects.toThrow(/missing\.onnx: no such model file/);
  });

  itShared('reads the metadata of the pretrained int8 COCO exports', async () => {
    const v8 = await readModelMeta(shared('weights', 'yolov8n_int8.onnx'));
    expect(v8).toMatchObject({ task: 'detect', imgsz: [640, 640], stride: 32, layout: 'yolo', nm: 0 });
    expect(v8.names).toHaveLength(80);
    expect(v8.names.slice(0, 3)).toEqual(['person', 'bicycle', 'car']);
    expect(v8.outputs[0]!.dims).toEqual([1, 84, 8400]);
    const v11 = await readModelMeta(shared('weights', 'yolo11n_int8.onnx'));
    expect(v11).toMatchObject({ imgsz: [320, 320], layout: 'yolo' });
  });

  it('the YOLOv8n layout (640, 1×84×8400, random weights) matches on the blood cells and their crops', async () => {
    const { mine } = await parity(path.join(MODELS, 'det.onnx'), 1e-4);
    expect(expectDecodingInvariants(mine, 1e-4)).toBeGreaterThan(0);
  });

  itShared('YOLOv8n int8 (640, 1×84×8400) matches Ultralytics on coco8', async () => {
    const { mine } = await parity(shared('weights', 'yolov8n_int8.onnx'), 0.25, await splitFiles(COCO8));
    expect(expectDecodingInvariants(mine, 0.25)).toBeGreaterThan(0);
  });

  itShared('YOLO11n int8 (320, 1×84×2100) matches Ultralytics on coco8, also at conf 0.001', async () => {
    const files = await splitFiles(COCO8);
    await parity(shared('weights', 'yolo11n_int8.onnx'), 0.25, files);
    const { mine } = await parity(shared('weights', 'yolo11n_int8.onnx'), 0.001, files);
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
      const px = Math.max(r.width, r.height) / 320; // one pixel of the network input, in the image
      for (const [i, p] of (r.polygons ?? []).entries()) {
        const d = mine[k]!.detections[i];
        if (!d?.polygon || p.length < 6) continue;
        const [a, b] = [bbox(d.polygon), bbox(p)];
        // the outline's extent matches Ultralytics' contour to about a pixel of the network input; an outline
        // flat against the image edge (a mask cut by the letterbox padding) has no area: compared corner by corner
        if (b[2]! - b[0]! <= 0 || b[3]! - b[1]! <= 0) {
          expect(Math.max(...a.map((v, q) => Math.abs(v - b[q]!)))).toBeLessThanOrEqual(px);
          continue;
        }
        compared++;
        expect(iou(a, b)).toBeGreaterThan(0.9);
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

  it("the fixture run's best.pt exported by `spotter export` (2 classes, 64 px) matches", async () => {
    // one epoch at imgsz 64 scores low (and boxes the whole image, the same on every image): a very low conf.
    // The geometry is checked by the random-weight models above; this checks Spotter's own export end to end.
    const onnx = await fixtureOnnx();
    const { mine } = await parity(onnx, 1e-5);
    expectDecodingInvariants(mine, 1e-5);
    expect(mine.every((r) => r.detections.length > 0)).toBe(true);
    expect(new Set(mine.flatMap((r) => r.detections.map((d) => d.classId)))).toEqual(new Set([0, 1]));
  });

  it('letterbox parameters follow LetterBox (centre, -0.1/+0.1 rounding)', async () => {
    const img = await decodeRgb(IMAGES.find((f) => f.endsWith('-313x416.png'))!);
    expect([img.width, img.height]).toEqual([313, 416]);
    // 313 × 640/416 = 481.54 → 482 wide, (640 - 482) / 2 = 79 each side
    expect(letterboxParams(img.width, img.height, 640, 640)).toMatchObject({ newW: 482, newH: 640, padX: 79, padY: 0 });
    // 313 × 320/416 = 240.77 → 241, (320 - 241) / 2 = 39.5: round(39.5 - 0.1) = 39 left
    expect(letterboxParams(img.width, img.height, 320, 320)).toMatchObject({ newW: 241, newH: 320, padX: 39, padY: 0 });
    expect(letterboxParams(640, 427, 320, 320)).toMatchObject({ newW: 320, newH: 214, padX: 0, padY: 53 });
  });
});
