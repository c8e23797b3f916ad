/**
 * The next labelling batch for CVAT: choose images from a ReviewSet (uncertain, disagreeing with
 * the ground truth, or unlabelled), copy them (hard links where possible) and write the model's
 * predictions as pre-annotations in a form CVAT imports — "COCO 1.0" (`annotations.zip` holding
 * `annotations/instances_default.json`, as CVAT itself exports it) or "CVAT for images 1.1"
 * (`annotations.xml`) — each box carrying the model's score in a `confidence` attribute. Written
 * into a temporary sibling folder and renamed at the end; cancellable.
 */
import fs from 'node:fs/promises';
import { linkSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { BatchResult, BatchSelection, ModelCard, ReviewImage, ReviewSet } from '../../shared/review.js';
import { buildMatchIndex, countsAt, resolveThresholds } from '../../shared/review-metrics.js';
import { readModelCard } from '../models/card.js';
import type { JobContext } from '../jobs/jobs.js';
import { CancelledError } from '../jobs/jobs.js';
import { isImageFile } from '../fsutil.js';
import { zipBytes } from './zipwrite.js';

export interface PickedImage {
  /** index into set.images */
  index: number;
  /** predictions in the uncertainty band (uncertain/unlabelled) or errors (disagree) */
  score: number;
  reason: string;
}

/**
 * The confidence thresholds a batch uses ('disagree' and the pre-annotations): the selection's own
 * per-class thresholds when it has them (what the gallery has on screen, even none), else the model
 * card's saved ones; every other class at the selection's `conf`, else the card's default, else 0.25.
 */
export function batchThresholds(sel: BatchSelection, card: ModelCard | null): { default: number; perClass: Record<string, number> } {
  return {
    default: sel.conf ?? card?.thresholds.default ?? 0.25,
    perClass: { ...(sel.perClass ?? card?.thresholds.perClass ?? {}) },
  };
}

const describeThresholds = (t: { default: number; perClass: Record<string, number> }) => {
  const own = Object.entries(t.perClass);
  return `conf ${t.default}${own.length ? ` (${own.map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`;
};

/**
 * Images for the next batch, best first (most uncertain predictions / most errors; then by name).
 * `card`: the model card whose thresholds apply when the selection has no per-class thresholds
 * (default: the one the set was predicted with).
 */
export function selectBatch(set: ReviewSet, sel: BatchSelection, card: ModelCard | null = set.model.card): PickedImage[] {
  const low = sel.low ?? 0.25, high = sel.high ?? 0.6, limit = sel.limit ?? 200;
  const picked: PickedImage[] = [];
  const inBand = (img: ReviewImage) => img.pred.filter((p) => p.score >= low && p.score <= high).length;
  if (sel.mode === 'disagree') {
    const thr = batchThresholds(sel, card);
    const iou = sel.iou ?? 0.5;
    const counts = countsAt(buildMatchIndex(set, iou), thr);
    const at = `${describeThresholds(thr)}, IoU ${iou}`;
    set.images.forEach((img, i) => {
      if (img.gt === null) return;
      const fp = counts.fp[i]!, fn = counts.fn[i]!;
      if (fp + fn > 0) picked.push({ index: i, score: fp + fn, reason: `${fp} FP, ${fn} FN at ${at}` });
    });
  } else {
    set.images.forEach((img, i) => {
      if (sel.mode === 'unlabelled' && img.gt !== null) return;
      const n = inBand(img);
      if (sel.mode === 'uncertain' && n === 0) return;
      picked.push({ index: i, score: n, reason: `${n} prediction${n === 1 ? '' : 's'} scored in [${low}, ${high}]` });
    });
  }
  picked.sort((a, b) => b.score - a.score || (set.images[a.index]!.file < set.images[b.index]!.file ? -1 : 1));
  return picked.slice(0, limit);
}

export interface WriteBatchOptions {
  /** the folder batches go into (the batch is `<out>/<name>/`) */
  out: string;
  /** default `batch-<UTC>-<mode>` */
  name?: string;
  format: 'coco' | 'cvat';
  /**
   * pre-annotations: predictions at or above this score; a class with its own threshold (the
   * selection's per-class thresholds, else the model card's) at or above that one instead
   */
  conf: number;
  selection: BatchSelection;
  /** the model card whose thresholds apply (default: the one beside the set's model now, else the set's) */
  card?: ModelCard | null;
}

const xmlEscape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
const fmt = (v: number) => String(Math.round(v * 1e4) / 1e4);
const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');

async function linkOrCopy(src: string, dst: string): Promise<void> {
  try {
    linkSync(src, dst);
  } catch {
    await fs.copyFile(src, dst);
  }
}

/**
 * Batch file names: an image's base name when no other image of its dataset (every split) has it,
 * else `<split>__<base name>` (the dataset layout is `images/<split>/<name>`), so the merge on
 * re-import (`ImportOptions.base`) finds every image again by its name.
 */
async function batchNames(set: ReviewSet, images: ReviewImage[]): Promise<string[]> {
  const taken = new Map<string, number>();
  if (set.source.dataset) {
    for (const s of ['train', 'val', 'test']) {
      for (const n of await fs.readdir(path.join(set.source.dataset, 'images', s)).catch(() => [] as string[])) {
        if (isImageFile(n)) taken.set(n.toLowerCase(), (taken.get(n.toLowerCase()) ?? 0) + 1);
      }
    }
  }
  const used = new Set<string>();
  return images.map((img) => {
    const base = path.basename(img.path);
    // ReviewImage.file is relative to the dataset's images/ (`val/x.jpg`) or to the folder
    const parts = img.file.split(/[\\/]/).filter(Boolean);
    if (parts[0] === 'images' && set.source.dataset) parts.shift();
    let name = (taken.get(base.toLowerCase()) ?? 0) > 1 || used.has(base.toLowerCase()) ? parts.join('__') : base;
    for (let k = 2; used.has(name.toLowerCase()); k++) name = `${path.parse(base).name}_${k}${path.extname(base)}`;
    used.add(name.toLowerCase());
    return name;
  });
}

/** Choose the images and write the batch folder. */
export async function writeBatch(set: ReviewSet, opts: WriteBatchOptions, job: JobContext): Promise<BatchResult> {
  // the card as saved now (thresholds saved after predicting count), else the one the set recorded
  let card = opts.card;
  if (card === undefined) card = await readModelCard(set.model.path).catch(() => set.model.card);
  const picked = selectBatch(set, opts.selection, card);
  // pre-annotations: the classes with their own threshold keep it, the others take opts.conf
  const preThr = resolveThresholds(set.classes, { default: opts.conf, perClass: batchThresholds(opts.selection, card).perClass });
  if (!picked.length) throw new Error(`no image matches the selection (${opts.selection.mode}); widen the score band or lower the limits`);
  // labels: the dataset's classes (model-only classes are not pre-annotated); a folder source has only the model's
  const labels = set.datasetClasses > 0 ? set.classes.slice(0, set.datasetClasses) : [...set.classes];
  const name = (opts.name ?? `batch-${stamp()}-${opts.selection.mode}`).replace(/[\\/:*?"<>|\x00-\x1f]/g, '_');
  const outDir = path.resolve(opts.out);
  const finalDir = path.join(outDir, name);
  await fs.mkdir(outDir, { recursive: true });
  if (await fs.stat(finalDir).catch(() => null)) throw new Error(`${finalDir}: a batch of that name already exists`);
  const tmp = path.join(outDir, `.${name}.spotter-tmp-${randomBytes(4).toString('hex')}`);
  try {
    await fs.mkdir(path.join(tmp, 'images'), { recursive: true });
    const images = picked.map((p) => set.images[p.index]!);
    const names = await batchNames(set, images);
    let boxes = 0, skippedModelOnly = 0;
    const perImage = images.map((img) => {
      const kept = img.pred.filter((p) => p.score >= (preThr[p.cls] ?? opts.conf));
      const ok = kept.filter((p) => p.cls < labels.length);
      skippedModelOnly += kept.length - ok.length;
      boxes += ok.length;
      return ok.map((p) => {
        const x1 = Math.min(Math.max(p.box[0], 0), img.width), y1 = Math.min(Math.max(p.box[1], 0), img.height);
        const x2 = Math.min(Math.max(p.box[2], 0), img.width), y2 = Math.min(Math.max(p.box[3], 0), img.height);
        return { cls: p.cls, x1, y1, x2, y2, score: Math.round(p.score * 1e4) / 1e4 };
      });
    });
    for (const [i, img] of images.entries()) {
      job.throwIfCancelled();
      job.progress('Copying images', i, images.length);
      await linkOrCopy(img.path, path.join(tmp, 'images', names[i]!));
    }
    job.progress('Writing annotations', 0, 1);
    let annotations: string;
    if (opts.format === 'coco') {
      let annId = 0;
      const coco = {
        licenses: [{ name: '', id: 0, url: '' }],
        info: { contributor: '', date_created: '', description: '', url: '', version: '', year: '' },
        categories: labels.map((n, i) => ({ id: i + 1, name: n, supercategory: '' })),
        images: images.map((img, i) => ({ id: i + 1, width: img.width, height: img.height, file_name: names[i]!, license: 0, flickr_url: '', coco_url: '', date_captured: 0 })),
        annotations: perImage.flatMap((list, i) =>
          list.map((b) => ({
            id: ++annId,
            image_id: i + 1,
            category_id: b.cls + 1,
            segmentation: [],
            area: (b.x2 - b.x1) * (b.y2 - b.y1),
            bbox: [b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1],
            iscrowd: 0,
            attributes: { occluded: false, confidence: b.score },
          })),
        ),
      };
      annotations = path.join(tmp, 'annotations.zip');
      await fs.writeFile(annotations, zipBytes([{ name: 'annotations/instances_default.json', data: JSON.stringify(coco) }]));
    } else {
      const now = new Date().toISOString();
      const x: string[] = ['<?xml version="1.0" encoding="utf-8"?>', '<annotations>', '  <version>1.1</version>', '  <meta>', '    <task>'];
      x.push(`      <id>0</id>`, `      <name>${xmlEscape(name)}</name>`, `      <size>${images.length}</size>`, '      <mode>annotation</mode>', '      <overlap>0</overlap>');
      x.push(`      <created>${now}</created>`, `      <updated>${now}</updated>`, '      <subset>default</subset>', '      <start_frame>0</start_frame>', `      <stop_frame>${images.length - 1}</stop_frame>`);
      x.push('      <labels>');
      for (const l of labels) {
        x.push('        <label>', `          <name>${xmlEscape(l)}</name>`, '          <type>rectangle</type>', '          <attributes>');
        x.push('            <attribute>', '              <name>confidence</name>', '              <mutable>False</mutable>', '              <input_type>text</input_type>', '              <default_value></default_value>', '              <values></values>', '            </attribute>');
        x.push('          </attributes>', '        </label>');
      }
      x.push('      </labels>', '    </task>', `    <dumped>${now}</dumped>`, '  </meta>');
      images.forEach((img, i) => {
        x.push(`  <image id="${i}" name="${xmlEscape(names[i]!)}" width="${img.width}" height="${img.height}">`);
        for (const b of perImage[i]!) {
          x.push(
            `    <box label="${xmlEscape(labels[b.cls]!)}" source="auto" occluded="0" xtl="${fmt(b.x1)}" ytl="${fmt(b.y1)}" xbr="${fmt(b.x2)}" ybr="${fmt(b.y2)}" z_order="0">`,
            `      <attribute name="confidence">${b.score}</attribute>`,
            '    </box>',
          );
        }
        x.push('  </image>');
      });
      x.push('</annotations>', '');
      annotations = path.join(tmp, 'annotations.xml');
      await fs.writeFile(annotations, x.join('\n'));
    }
    // CVAT's raw label editor accepts this list as it is (Create task → Labels → Raw)
    const cvatLabels = labels.map((n) => ({ name: n, type: 'rectangle', attributes: [{ name: 'confidence', mutable: false, input_type: 'text', default_value: '', values: [''] }] }));
    await fs.writeFile(path.join(tmp, 'cvat-labels.json'), JSON.stringify(cvatLabels, null, 2) + '\n');
    const manifest = {
      created_at: new Date().toISOString(),
      source: set.source,
      model: set.model.path,
      selection: opts.selection,
      format: opts.format,
      conf: opts.conf,
      per_class_conf: Object.fromEntries(set.classes.map((n, c) => [n, preThr[c]!]).filter(([, v]) => v !== opts.conf)),
      labels,
      skipped_model_only_predictions: skippedModelOnly,
      files: images.map((img, i) => ({ name: names[i], from: img.path, file: img.file, reason: picked[i]!.reason, boxes: perImage[i]!.length })),
    };
    await fs.writeFile(path.join(tmp, 'batch.json'), JSON.stringify(manifest, null, 2) + '\n');
    await fs.writeFile(path.join(tmp, 'README.md'), readme(name, { ...opts, card }, images.length, boxes, labels, set));
    job.throwIfCancelled();
    await fs.rename(tmp, finalDir);
    return { dir: finalDir, annotations: path.join(finalDir, path.basename(annotations)), images: images.length, boxes };
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => {});
    if (job.signal.aborted) throw new CancelledError();
    throw err;
  }
}

function perClassNote(opts: WriteBatchOptions, set: ReviewSet): string {
  const own = Object.entries(batchThresholds(opts.selection, opts.card ?? null).perClass).filter(([n]) => set.classes.includes(n));
  return own.length ? `, classes with their own threshold from that: ${own.map(([n, v]) => `\`${n}\` ${v}`).join(', ')}` : '';
}

function readme(name: string, opts: WriteBatchOptions, images: number, boxes: number, labels: string[], set: ReviewSet): string {
  const file = opts.format === 'coco' ? 'annotations.zip' : 'annotations.xml';
  const fmtName = opts.format === 'coco' ? 'COCO 1.0' : 'CVAT 1.1';
  return `# Labelling batch ${name}

${images} images chosen as **${opts.selection.mode}** by \`${path.basename(set.model.path)}\`, with ${boxes} pre-annotated boxes
(the model's predictions scored ${opts.conf} or more${perClassNote(opts, set)}; each box has its score in the \`confidence\` attribute).

## In CVAT

1. **Create a task** (Tasks → +). Labels: open the **Raw** tab and paste the contents of \`cvat-labels.json\`
   (labels ${labels.map((l) => `\`${l}\``).join(', ')}, each with a text attribute \`confidence\`), or add those labels by hand.
2. **Select files**: upload every file in \`images/\` (the files themselves, not the folder), then **Submit**.
3. Open the task, **Actions → Upload annotations**, choose the format **${fmtName}** and the file \`${file}\`.
4. Correct the boxes: delete wrong ones, fix the rest, add what the model missed. The \`confidence\` attribute
   only tells you how sure the model was; leave it or clear it.
5. **Actions → Export task dataset** as ${fmtName} (images optional).

## Back in Spotter

Import the export with the dataset as its base: the corrected labels replace the old ones of the same
images in a new dataset version (\`<name>_v<N>\`), the base dataset stays as it was:

\`\`\`sh
spotter import <export.zip> --base ${set.source.dataset ?? '<dataset folder>'}
\`\`\`
`;
}
