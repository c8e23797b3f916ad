/**
 * The review gallery's matching and metrics (electron/shared/review-metrics.ts): constructed cases
 * for the greedy matching and the threshold logic, a property check that the prefix counts equal a
 * re-matching from scratch at every threshold, and AP/mAP against Ultralytics itself: Ultralytics'
 * `match_predictions` + `ap_per_class` run in Python on exactly the same boxes — the blood-cell ground truth
 * perturbed (in the repository: review-fixture.ts), and, on the shared data only (AGPL weights), the int8
 * YOLOv8n ONNX model validated on coco8 with `YOLO(...).val()`, its validated predictions captured.
 * (The fixture run's ONNX export is no help here: one epoch at imgsz 64 boxes whole images, AP 0 everywhere.)
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import sharp from 'sharp';
import {
  averagePrecision,
  boxIou,
  buildMatchIndex,
  computeAp,
  countsAt,
  f1OptimalThresholds,
  matchImage,
  npInterp,
  prPoints,
  type MatchInput,
} from '../electron/shared/review-metrics.js';
import type { Box, ReviewBox, ReviewPrediction } from '../electron/shared/review.js';
import { hasTrainer, TRAINER_PYTHON } from './trainer-fixture.js';
import { describeShared, REPO_ROOT, shared } from './helpers/shared.js';
import { tempDir, testContext } from './helpers/core.js';
import { importDataset, perturbedReviewSet, renamedRbcExport } from './review-fixture.js';
import { mulberry32 } from '../electron/core/datasets/split.js';

const g = (cls: number, box: Box): ReviewBox => ({ cls, box });
const p = (cls: number, box: Box, score: number): ReviewPrediction => ({ cls, box, score });

describe('greedy matching', () => {
  it('matches in score order, each prediction to the best unclaimed box of its class', () => {
    const gt = [g(0, [0, 0, 10, 10]), g(0, [5, 0, 15, 10])];
    // the best-scoring prediction overlaps box 1 most; the second then takes box 0
    const pred = [p(0, [1, 0, 11, 10], 0.6), p(0, [4, 0, 14, 10], 0.9)];
    const m = matchImage(gt, pred, [0.5]);
    expect([...m]).toEqual([0, 1]);
    // at 0.95 neither overlaps enough
    expect([...matchImage(gt, pred, [0.95])]).toEqual([-1, -1]);
  });

  it('on equal IoU takes the first box; on equal scores keeps the given order', () => {
    const gt = [g(0, [0, 0, 10, 10]), g(0, [0, 0, 10, 10])];
    const pred = [p(0, [0, 0, 10, 10], 0.5), p(0, [0, 0, 10, 10], 0.5), p(0, [0, 0, 10, 10], 0.5)];
    expect([...matchImage(gt, pred, [0.5])]).toEqual([0, 1, -1]);
  });

  it('never matches across classes', () => {
    const m = matchImage([g(1, [0, 0, 10, 10])], [p(0, [0, 0, 10, 10], 0.9)], [0.5]);
    expect([...m]).toEqual([-1]);
  });

  it('IoU follows box_iou (eps in the union)', () => {
    expect(boxIou([0, 0, 10, 10], [0, 0, 10, 10])).toBeCloseTo(100 / (100 + 1e-7), 12);
    expect(boxIou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(50 / 150, 9);
    expect(boxIou([0, 0, 1, 1], [2, 2, 3, 3])).toBe(0);
  });
});

describe('counts at a confidence threshold', () => {
  const set: MatchInput = {
    classes: ['cat', 'dog', 'bird'],
    images: [
      // a hit (0.9), a duplicate (0.8, FP), a miss of the dog
      { gt: [g(0, [0, 0, 10, 10]), g(1, [20, 20, 30, 30])], pred: [p(0, [0, 0, 10, 10], 0.9), p(0, [0, 0, 10, 9], 0.8)] },
      // zero ground truth: every prediction is a false positive
      { gt: [], pred: [p(1, [0, 0, 5, 5], 0.7)] },
      // zero predictions: every box is missed
      { gt: [g(1, [0, 0, 5, 5])], pred: [] },
      // unlabelled: detections only
      { gt: null, pred: [p(0, [0, 0, 5, 5], 0.95), p(2, [0, 0, 5, 5], 0.3)] },
      // a class only predictions use (bird has no ground truth anywhere)
      { gt: [g(0, [0, 0, 10, 10])], pred: [p(2, [0, 0, 10, 10], 0.6), p(0, [0, 0, 10, 10], 0.4)] },
    ],
  };
  const index = buildMatchIndex(set, 0.5);

  it('per image and per class at one threshold', () => {
    const c = countsAt(index, 0.5);
    expect([...c.tp]).toEqual([1, 0, 0, 0, 0]);
    expect([...c.fp]).toEqual([1, 1, 0, 0, 1]);
    expect([...c.fn]).toEqual([1, 0, 1, 0, 1]);
    expect([...c.det]).toEqual([2, 1, 0, 1, 1]);
    const cat = c.classes[0]!, dog = c.classes[1]!, bird = c.classes[2]!;
    expect(cat).toMatchObject({ gt: 2, det: 2, tp: 1, fp: 1, fn: 1, precision: 0.5, recall: 0.5 });
    expect(dog).toMatchObject({ gt: 2, det: 1, tp: 0, fp: 1, fn: 2, precision: 0, recall: 0, f1: 0 });
    expect(bird).toMatchObject({ gt: 0, det: 1, tp: 0, fp: 1, fn: 0 });
    expect(c.total).toMatchObject({ tp: 1, fp: 3, fn: 3 });
  });

  it('lowering the threshold admits the lower-scored hit', () => {
    const c = countsAt(index, 0.4);
    expect([...c.tp]).toEqual([1, 0, 0, 0, 1]);
    expect([...c.fn]).toEqual([1, 0, 1, 0, 0]);
  });

  it('per-class thresholds, and a threshold above 1 leaves a class out', () => {
    const c = countsAt(index, { default: 0.5, perClass: { cat: 0.85, bird: Infinity } });
    expect([...c.tp]).toEqual([1, 0, 0, 0, 0]);
    expect([...c.fp]).toEqual([0, 1, 0, 0, 0]);
    expect([...c.det]).toEqual([1, 1, 0, 1, 0]);
    expect(c.classes[0]).toMatchObject({ det: 1, tp: 1, precision: 1, recall: 0.5 });
    expect(c.classes[2]).toMatchObject({ det: 0, fp: 0 });
  });

  it('AP leaves classes without ground truth out of mAP and scores a class never predicted 0', () => {
    const ap = averagePrecision(set);
    expect(ap.classes.map((c) => c.name)).toEqual(['cat', 'dog']);
    expect(ap.predictionOnly).toEqual([2]);
    expect(ap.classes[1]!.ap50).toBe(0);
    expect(ap.map50).toBeCloseTo((ap.classes[0]!.ap50 + 0) / 2, 12);
  });

  it('the F1-optimal threshold of each class', () => {
    const f = f1OptimalThresholds(index);
    // cat: at 0.9 → P 1, R 0.5 (F1 .667); at 0.4 → 2 TP of 3 → P .667, R 1 (F1 .8)
    expect(f[0]).toMatchObject({ threshold: 0.4, tp: 2, fp: 1, fn: 0 });
    expect(f[0]!.f1).toBeCloseTo(0.8, 12);
    expect(f[1]!.threshold).toBeNull(); // dog: no true positive at any threshold
    expect(f[2]!.threshold).toBeNull(); // bird: no ground truth
    expect(prPoints(index, 0).map((q) => q.score)).toEqual([0.9, 0.8, 0.4]);
  });
});

describe('prefix counts equal matching from scratch', () => {
  it('on random sets, at random global and per-class thresholds', () => {
    const rnd = mulberry32(7);
    const box = (): Box => {
      const x = rnd() * 80, y = rnd() * 80;
      return [x, y, x + 5 + rnd() * 20, y + 5 + rnd() * 20];
    };
    const jitter = (b: Box): Box => b.map((v) => v + (rnd() - 0.5) * 6) as Box;
    const images = Array.from({ length: 60 }, () => {
      const gt = Array.from({ length: Math.floor(rnd() * 6) }, () => g(Math.floor(rnd() * 3), box()));
      const pred: ReviewPrediction[] = [];
      for (const t of gt) for (let k = 0; k < 3; k++) if (rnd() < 0.6) pred.push(p(rnd() < 0.85 ? t.cls : Math.floor(rnd() * 4), jitter(t.box), Math.round(rnd() * 20) / 20));
      for (let k = 0; k < rnd() * 4; k++) pred.push(p(Math.floor(rnd() * 4), box(), Math.round(rnd() * 20) / 20));
      pred.sort((a, b) => b.score - a.score);
      return { gt: rnd() < 0.1 ? null : gt, pred };
    });
    const set: MatchInput = { classes: ['a', 'b', 'c', 'model-only'], images };
    for (const iou of [0.3, 0.5, 0.75]) {
      const index = buildMatchIndex(set, iou);
      for (let trial = 0; trial < 12; trial++) {
        const thr = [rnd(), rnd(), rnd(), rnd()];
        const c = countsAt(index, { default: thr[3]!, perClass: { a: thr[0]!, b: thr[1]!, c: thr[2]! } });
        const cls = [0, 0, 0, 0].map(() => ({ tp: 0, fp: 0 }));
        images.forEach((img, i) => {
          const kept = img.pred.filter((q) => q.score >= thr[q.cls]!);
          const m = img.gt ? matchImage(img.gt, kept, [iou]) : new Int32Array(kept.length).fill(-1);
          const tp = [...m].filter((x) => x >= 0).length;
          expect(c.det[i]).toBe(kept.length);
          if (img.gt) {
            expect(c.tp[i]).toBe(tp);
            expect(c.fp[i]).toBe(kept.length - tp);
            expect(c.fn[i]).toBe(img.gt.length - tp);
            kept.forEach((q, k) => (m[k]! >= 0 ? cls[q.cls]!.tp++ : cls[q.cls]!.fp++));
          }
        });
        cls.forEach((x, k) => expect({ tp: c.classes[k]!.tp, fp: c.classes[k]!.fp }).toEqual(x));
      }
    }
  });
});

describe('numpy semantics', () => {
  it('np.interp with repeated xp takes the last equal point', () => {
    // numpy: np.interp([0, 0.5, 0.6, 1], [0, 0.5, 0.5, 1], [1, 0.8, 0.4, 0]) → [1, 0.4, 0.32, 0]
    expect([...npInterp([0, 0.5, 0.6, 1], [0, 0.5, 0.5, 1], [1, 0.8, 0.4, 0])].map((v) => +v.toFixed(12))).toEqual([1, 0.4, 0.32, 0]);
  });
  it('compute_ap of a perfect detector is 1 - 0.005 (the trapezoid at the sentinel)', () => {
    // Ultralytics: compute_ap([1.0], [1.0]) == 0.995
    expect(computeAp([1], [1]).ap).toBeCloseTo(0.995, 12);
  });
});

// ------------------------------------------------------------------ against Ultralytics

const UL_SCRIPT = String.raw`
import json, os, sys
from pathlib import Path
repo, weights, data, out = sys.argv[1:5]
sys.path.insert(0, os.path.join(repo, 'native-bin'))
from spotter_trainer.offline import prepare_environment, patch_ultralytics
user_dir = prepare_environment(os.path.dirname(out))
import numpy as np, torch
from ultralytics import YOLO
patch_ultralytics(user_dir)
from ultralytics.models.yolo.detect.val import DetectionValidator
from ultralytics.utils import ops
from ultralytics.utils.metrics import ap_per_class, box_iou

captured = []
orig = DetectionValidator.update_metrics
def update_metrics(self, preds, batch):
    for si, pred in enumerate(preds):
        pb = self._prepare_batch(si, batch)
        boxes = ops.scale_boxes(pb['imgsz'], pred['bboxes'].clone(), pb['ori_shape'], ratio_pad=pb['ratio_pad'])
        captured.append({'file': pb['im_file'], 'height': int(pb['ori_shape'][0]), 'width': int(pb['ori_shape'][1]),
                         'pred': [[*map(float, b), float(c), int(k)] for b, c, k in zip(boxes.tolist(), pred['conf'].tolist(), pred['cls'].tolist())]})
    return orig(self, preds, batch)
DetectionValidator.update_metrics = update_metrics

m = YOLO(weights, task='detect')
r = m.val(data=data, imgsz=640, conf=0.001, batch=1, plots=False, device='cpu', workers=0, verbose=False)
val = {'ap_class_index': [int(c) for c in r.box.ap_class_index], 'all_ap': np.asarray(r.box.all_ap).tolist(), 'map50': float(r.box.map50), 'map': float(r.box.map)}

# the same predictions with ground truth from the label files, matched in original pixels (float64)
class V: iouv = torch.linspace(0.5, 0.95, 10, dtype=torch.float64)
tps, confs, pcls, tcls = [], [], [], []
for im in captured:
    lbl = Path(im['file'].replace(os.sep + 'images' + os.sep, os.sep + 'labels' + os.sep)).with_suffix('.txt')
    rows = [list(map(float, l.split())) for l in lbl.read_text().splitlines() if l.strip()] if lbl.exists() else []
    w, h = im['width'], im['height']
    gt = torch.tensor([[(r[1] - r[3] / 2) * w, (r[2] - r[4] / 2) * h, (r[1] + r[3] / 2) * w, (r[2] + r[4] / 2) * h] for r in rows], dtype=torch.float64).reshape(-1, 4)
    gc = torch.tensor([r[0] for r in rows], dtype=torch.float64)
    pb = torch.tensor([q[:4] for q in im['pred']], dtype=torch.float64).reshape(-1, 4)
    pc = torch.tensor([q[5] for q in im['pred']], dtype=torch.float64)
    tp = DetectionValidator.match_predictions(V(), pc, gc, box_iou(gt, pb)).numpy() if len(rows) and len(im['pred']) else np.zeros((len(im['pred']), 10), dtype=bool)
    tps.append(tp); confs.append(np.array([q[4] for q in im['pred']])); pcls.append(pc.numpy()); tcls.append(gc.numpy())
res = ap_per_class(np.concatenate(tps), np.concatenate(confs), np.concatenate(pcls), np.concatenate(tcls))
ap, uc = res[5], res[6]
ref = {'ap_class_index': [int(c) for c in uc], 'all_ap': ap.tolist(), 'map50': float(ap[:, 0].mean()), 'map': float(ap.mean())}
json.dump({'names': [m.names[i] for i in range(len(m.names))], 'images': captured, 'val': val, 'ref': ref}, open(out, 'w'))
`;

interface UlDump {
  names: string[];
  images: Array<{ file: string; width: number; height: number; pred: Array<[number, number, number, number, number, number]> }>;
  val: { ap_class_index: number[]; all_ap: number[][]; map50: number; map: number };
  ref: UlDump['val'];
}

// the same matching and AP on boxes given as JSON: per image gt [cls, x1, y1, x2, y2], pred [x1, y1, x2, y2, score, cls]
// (each image's predictions in descending score, as NMS hands them to the validator)
const AP_SCRIPT = String.raw`
import json, os, sys
repo, inp, out = sys.argv[1:4]
sys.path.insert(0, os.path.join(repo, 'native-bin'))
from spotter_trainer.offline import prepare_environment, patch_ultralytics
user_dir = prepare_environment(os.path.dirname(out))
import numpy as np, torch
import ultralytics
patch_ultralytics(user_dir)
from ultralytics.models.yolo.detect.val import DetectionValidator
from ultralytics.utils.metrics import ap_per_class, box_iou
class V: iouv = torch.linspace(0.5, 0.95, 10, dtype=torch.float64)
tps, confs, pcls, tcls = [], [], [], []
for im in json.load(open(inp))['images']:
    gt = torch.tensor([g[1:] for g in im['gt']], dtype=torch.float64).reshape(-1, 4)
    gc = torch.tensor([g[0] for g in im['gt']], dtype=torch.float64)
    pb = torch.tensor([q[:4] for q in im['pred']], dtype=torch.float64).reshape(-1, 4)
    pc = torch.tensor([q[5] for q in im['pred']], dtype=torch.float64)
    tp = DetectionValidator.match_predictions(V(), pc, gc, box_iou(gt, pb)).numpy() if len(im['gt']) and len(im['pred']) else np.zeros((len(im['pred']), 10), dtype=bool)
    tps.append(tp); confs.append(np.array([q[4] for q in im['pred']])); pcls.append(pc.numpy()); tcls.append(gc.numpy())
res = ap_per_class(np.concatenate(tps), np.concatenate(confs), np.concatenate(pcls), np.concatenate(tcls))
ap, uc = res[5], res[6]
json.dump({'version': ultralytics.__version__, 'ap_class_index': [int(c) for c in uc], 'all_ap': ap.tolist(), 'map50': float(ap[:, 0].mean()), 'map': float(ap.mean())}, open(out, 'w'))
`;

describe.skipIf(!hasTrainer)('AP and mAP agree with Ultralytics on the blood cells (ground truth perturbed)', () => {
  it("per class AP50 / AP50-95 and mAP to 1e-6 of match_predictions + ap_per_class on the same boxes", async () => {
    const work = await tempDir('spotter-metrics-rbc-');
    const dataset = path.join(work, 'datasets', 'rbc');
    await importDataset(await testContext(), [await renamedRbcExport(work)], dataset);
    const set = await perturbedReviewSet(dataset);
    const input = path.join(work, 'boxes.json');
    await fs.writeFile(input, JSON.stringify({ images: set.images.map((im) => ({ gt: (im.gt ?? []).map((b) => [b.cls, ...b.box]), pred: im.pred.map((q) => [...q.box, q.score, q.cls]) })) }));
    const script = path.join(work, 'ap_ref.py');
    await fs.writeFile(script, AP_SCRIPT);
    const out = path.join(work, 'ref.json');
    const r = await execa(TRAINER_PYTHON, [script, REPO_ROOT, input, out], { reject: false, timeout: 300_000 });
    expect(r.exitCode, r.stderr.slice(-3000)).toBe(0);
    const ref = JSON.parse(await fs.readFile(out, 'utf8')) as UlDump['val'];
    const ap = averagePrecision(set);
    // every class of the export has ground truth here: both take part
    expect(ap.classes.map((c) => c.cls)).toEqual(ref.ap_class_index);
    expect(ref.ap_class_index).toEqual(set.classes.map((_, i) => i));
    ap.classes.forEach((c, k) => {
      for (let t = 0; t < 10; t++) expect(Math.abs(c.apPerIou[t]! - ref.all_ap[k]![t]!), `${c.name} AP at IoU index ${t}`).toBeLessThan(1e-6);
    });
    expect(Math.abs(ap.map50 - ref.map50)).toBeLessThan(1e-6);
    expect(Math.abs(ap.map50_95 - ref.map)).toBeLessThan(1e-6);
    // not trivially 0 or 1: boxes shifted by up to 3 px, some dropped, some spurious, scores at random
    expect(ap.map50).toBeGreaterThan(0.2);
    expect(ap.map50).toBeLessThan(0.999);
    expect(ap.map50_95).toBeLessThan(ap.map50);
    await fs.rm(work, { recursive: true, force: true });
  });
});

describeShared('AP and mAP agree with Ultralytics on coco8 (int8 YOLOv8n ONNX)', () => {
  it('per class AP50 / AP50-95 and mAP to 1e-6 of ap_per_class on the same predictions', async () => {
    const work = await tempDir('spotter-metrics-');
    // coco8 (AGPL) copied with an absolute path: its yaml names Ultralytics' own download folder
    const ds = path.join(work, 'coco8');
    await fs.cp(shared('real', 'coco8-ultralytics'), ds, { recursive: true });
    await fs.writeFile(path.join(ds, 'data.yaml'), (await fs.readFile(path.join(ds, 'coco8.yaml'), 'utf8')).replace(/^path:.*$/m, `path: ${ds}`));
    // validate on all 8 images (train + val): more classes and boxes than the 4 val images
    const yaml = (await fs.readFile(path.join(ds, 'data.yaml'), 'utf8')).replace(/^val:.*$/m, 'val: [images/train, images/val]');
    await fs.writeFile(path.join(ds, 'data.yaml'), yaml);
    const script = path.join(work, 'ul_ref.py');
    await fs.writeFile(script, UL_SCRIPT);
    const out = path.join(work, 'ul.json');
    const r = await execa(TRAINER_PYTHON, [script, REPO_ROOT, shared('weights', 'yolov8n_int8.onnx'), path.join(ds, 'data.yaml'), out], { reject: false, timeout: 300_000 });
    expect(r.exitCode, r.stderr.slice(-3000)).toBe(0);
    const dump = JSON.parse(await fs.readFile(out, 'utf8')) as UlDump;
    expect(dump.images).toHaveLength(8);

    // ground truth read here, independently, from the coco8 label files and the real image sizes
    const images = await Promise.all(
      dump.images.map(async (im) => {
        const meta = await sharp(im.file).metadata();
        expect([meta.width, meta.height]).toEqual([im.width, im.height]);
        const lbl = im.file.replace(`${path.sep}images${path.sep}`, `${path.sep}labels${path.sep}`).replace(/\.[^.]+$/, '.txt');
        const text = await fs.readFile(lbl, 'utf8').catch(() => '');
        const W = im.width, H = im.height;
        const gt = text
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => {
            const [c, x, y, w, h] = l.split(/\s+/).map(Number) as [number, number, number, number, number];
            return g(c, [(x - w / 2) * W, (y - h / 2) * H, (x + w / 2) * W, (y + h / 2) * H]);
          });
        const pred = im.pred.map(([x1, y1, x2, y2, s, c]) => p(c, [x1, y1, x2, y2], s));
        return { gt, pred };
      }),
    );
    const ap = averagePrecision({ classes: dump.names, images });
    const ref = dump.ref;
    expect(ap.classes.map((c) => c.cls)).toEqual(ref.ap_class_index);
    expect(ref.ap_class_index.length).toBeGreaterThan(3);
    ap.classes.forEach((c, k) => {
      for (let t = 0; t < 10; t++) expect(Math.abs(c.apPerIou[t]! - ref.all_ap[k]![t]!), `${c.name} AP at IoU index ${t}`).toBeLessThan(1e-6);
    });
    expect(Math.abs(ap.map50 - ref.map50)).toBeLessThan(1e-6);
    expect(Math.abs(ap.map50_95 - ref.map)).toBeLessThan(1e-6);
    // and val() itself (IoU in float32 letterbox pixels there): the same numbers here
    expect(ap.classes.map((c) => c.cls)).toEqual(dump.val.ap_class_index);
    expect(Math.abs(ap.map50 - dump.val.map50)).toBeLessThan(1e-6);
    expect(Math.abs(ap.map50_95 - dump.val.map)).toBeLessThan(1e-6);
    // the metrics are not trivially 0 or 1
    expect(ap.map50).toBeGreaterThan(0.2);
    expect(ap.map50).toBeLessThan(0.999);
    await fs.rm(work, { recursive: true, force: true });
  });
}, hasTrainer);
