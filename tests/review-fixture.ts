/**
 * Real data for the review tests: Roboflow's blood-cell validation export, renamed so that file
 * names hold spaces, Cyrillic and XML-special characters (and a class name too), imported with
 * Spotter's own importer; and a ReviewSet over that dataset whose predictions are its real ground
 * truth perturbed deterministically (shifted boxes, dropped boxes, spurious boxes, seeded scores).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import YAML from 'yaml';
import { runImport } from '../electron/core/datasets/importer.js';
import { standaloneJob } from '../electron/core/jobs/jobs.js';
import { mulberry32 } from '../electron/core/datasets/split.js';
import { ImportOptions, SplitEntry } from '../electron/shared/schemas.js';
import type { CoreContext } from '../electron/core/context.js';
import type { Box, ReviewBox, ReviewImage, ReviewPrediction, ReviewSet } from '../electron/shared/review.js';
import { rbc } from './helpers/shared.js';

export const WBC_NAME = 'wbc <белые> & "co"';

/** The renamed export: `<dir>/src/{_annotations.coco.json, images}`; returns the source folder. */
export async function renamedRbcExport(dir: string): Promise<string> {
  const from = rbc('valid');
  const src = path.join(dir, 'src');
  await fs.mkdir(src, { recursive: true });
  const coco = JSON.parse(await fs.readFile(path.join(from, '_annotations.coco.json'), 'utf8')) as {
    images: Array<{ file_name: string }>;
    categories: Array<{ name: string }>;
  };
  for (const [i, im] of coco.images.entries()) {
    const name = i % 3 === 0 ? `кровь образец ${i} & 'x'.jpg` : i % 3 === 1 ? `blood sample ${i}.jpg` : im.file_name;
    await fs.copyFile(path.join(from, im.file_name), path.join(src, name));
    im.file_name = name;
  }
  for (const c of coco.categories) if (c.name === 'wbc') c.name = WBC_NAME;
  await fs.writeFile(path.join(src, '_annotations.coco.json'), JSON.stringify(coco));
  return src;
}

export async function importDataset(ctx: CoreContext, sources: string[], out: string, extra: Partial<ImportOptions> = {}) {
  return runImport(ImportOptions.parse({ sources, out, seed: 3, ...extra }), standaloneJob(), ctx, { datasetsDir: path.dirname(out) });
}

export interface GtImage {
  file: string;
  path: string;
  split: string;
  width: number;
  height: number;
  gt: ReviewBox[];
}

/** Every image of an imported dataset with its ground truth in pixels (from the YOLO labels). */
export async function datasetImages(dataset: string): Promise<{ names: string[]; images: GtImage[] }> {
  const yaml = YAML.parse(await fs.readFile(path.join(dataset, 'data.yaml'), 'utf8')) as { names: Record<string, string> };
  const names = Object.entries(yaml.names).sort((a, b) => Number(a[0]) - Number(b[0])).map(([, v]) => v);
  const entries = SplitEntry.array().parse(JSON.parse(await fs.readFile(path.join(dataset, 'split.json'), 'utf8')));
  const images: GtImage[] = [];
  for (const e of entries) {
    const abs = path.join(dataset, e.file);
    const meta = await sharp(abs).metadata();
    const W = meta.width!, H = meta.height!;
    const lbl = path.join(dataset, 'labels', e.split, e.file.split('/').pop()!.replace(/\.[^.]+$/, '.txt'));
    const gt = (await fs.readFile(lbl, 'utf8'))
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        const [c, x, y, w, h] = l.split(' ').map(Number) as [number, number, number, number, number];
        return { cls: c, box: [(x - w / 2) * W, (y - h / 2) * H, (x + w / 2) * W, (y + h / 2) * H] as Box };
      });
    images.push({ file: e.file.replace(/^images\//, ''), path: abs, split: e.split, width: W, height: H, gt });
  }
  return { names, images };
}

/** A ReviewSet over a dataset: predictions = ground truth perturbed with a seeded PRNG. */
export async function perturbedReviewSet(dataset: string, seed = 11): Promise<ReviewSet> {
  const { names, images } = await datasetImages(dataset);
  const rnd = mulberry32(seed);
  const reviewImages: ReviewImage[] = images.map((im) => {
    const pred: ReviewPrediction[] = [];
    for (const g of im.gt) {
      if (rnd() < 0.15) continue; // missed
      const d = () => (rnd() - 0.5) * 6;
      const box: Box = [g.box[0] + d(), g.box[1] + d(), g.box[2] + d(), g.box[3] + d()];
      pred.push({ cls: g.cls, box, score: 0.05 + rnd() * 0.94 });
    }
    for (let k = 0; k < 2; k++) {
      if (rnd() < 0.5) continue; // spurious
      const x = rnd() * (im.width - 40), y = rnd() * (im.height - 40);
      pred.push({ cls: rnd() < 0.5 ? 0 : Math.min(1, names.length - 1), box: [x, y, x + 20 + rnd() * 20, y + 20 + rnd() * 20], score: 0.05 + rnd() * 0.9 });
    }
    pred.sort((a, b) => b.score - a.score);
    return { file: im.file, path: im.path, width: im.width, height: im.height, gt: im.gt, pred };
  });
  return {
    key: `test-${seed}`,
    source: { model: '/nonexistent/perturbed-ground-truth.onnx', dataset, split: 'all' },
    model: {
      path: '/nonexistent/perturbed-ground-truth.onnx',
      task: 'detect',
      imgsz: [416, 416],
      stride: 32,
      names,
      layout: 'yolo',
      card: null,
    },
    classes: names,
    datasetClasses: names.length,
    confFloor: 0.05,
    iou: 0.7,
    images: reviewImages,
    createdAt: new Date().toISOString(),
    seconds: 0,
  };
}
