/**
 * Health check on real data, copied to temp folders and damaged one way per test. Each damage must
 * surface as its own code, with counts and files. The damage runs on rbc8 (8 real blood-cell images,
 * 4 train + 4 val, Ultralytics layout, kept in tests/fixtures); the class statistics of a many-class
 * dataset with a 4-image val on Ultralytics' coco8 (8 COCO images, 80 names: AGPL, so only in ../shared/data).
 */
import fs from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import YAML from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDataset } from '../electron/core/datasets/health.js';
import { HealthReport, type HealthIssue } from '../electron/shared/schemas.js';
import { describeShared, fixture, shared } from './helpers/shared.js';

const RBC8 = fixture('rbc8');
const COCO8 = shared('real', 'coco8-ultralytics');
const temps: string[] = [];

afterAll(async () => {
  for (const t of temps) await fs.rm(t, { recursive: true, force: true });
});

/** A writable copy of a YOLO dataset under `sub` of a fresh temp dir, with a data.yaml holding an absolute path. */
async function datasetCopy(from: string, yamlName: string, sub: string): Promise<string> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'spotter-health-'));
  temps.push(tmp);
  const dir = path.join(tmp, sub);
  await fs.mkdir(dir, { recursive: true });
  for (const part of ['images', 'labels']) await fs.cp(path.join(from, part), path.join(dir, part), { recursive: true });
  // the shared files are read-only; the copies must be damageable
  for (const f of await fs.readdir(dir, { recursive: true })) await fs.chmod(path.join(dir, f), 0o755);
  const src = YAML.parse(await fs.readFile(path.join(from, yamlName), 'utf8')) as { names: Record<string, string> };
  await fs.writeFile(path.join(dir, 'data.yaml'), YAML.stringify({ path: dir, train: 'images/train', val: 'images/val', names: src.names }));
  return dir;
}
const rbc8Copy = (sub = 'rbc8') => datasetCopy(RBC8, 'data.yaml', sub);
const coco8Copy = (sub = 'coco8') => datasetCopy(COCO8, 'coco8.yaml', sub);

/** rbc8's image names without extension, in name order: T0..T3 in train, V0..V3 in val (all 416x416). */
const stems = (split: string) => readdirSync(path.join(RBC8, 'images', split)).map((f) => f.replace(/\.jpg$/, '')).sort();
const [T0, T1, T2, T3] = stems('train') as [string, string, string, string];
const [V0, V1, V2, V3] = stems('val') as [string, string, string, string];
const img = (split: string, stem: string, ext = 'jpg') => `images/${split}/${stem}.${ext}`;
const lbl = (split: string, stem: string) => `labels/${split}/${stem}.txt`;
const lineCount = async (file: string) => (await fs.readFile(file, 'utf8')).trim().split('\n').length;

/** Instances per class name in one split, read straight from the label files (not through checkDataset). */
async function instances(dir: string, split: string): Promise<Record<string, number>> {
  const names = (YAML.parse(await fs.readFile(path.join(dir, 'data.yaml'), 'utf8')) as { names: Record<string, string> }).names;
  const out: Record<string, number> = {};
  for (const f of await fs.readdir(path.join(dir, 'labels', split))) {
    for (const line of (await fs.readFile(path.join(dir, 'labels', split, f), 'utf8')).split('\n').filter((l) => l.trim())) {
      const name = names[line.split(' ')[0]!]!;
      out[name] = (out[name] ?? 0) + 1;
    }
  }
  return out;
}

const byCode = (r: HealthReport, code: string, severity?: HealthIssue['severity']) =>
  r.issues.filter((i) => i.code === code && (!severity || i.severity === severity));
const one = (r: HealthReport, code: string, severity?: HealthIssue['severity']) => {
  const found = byCode(r, code, severity);
  expect(found, `${code} in ${r.issues.map((i) => i.code).join(', ')}`).toHaveLength(1);
  return found[0]!;
};
const append = (file: string, text: string) => fs.appendFile(file, text);

/** A 24-bit BMP of RGB pixels (sharp cannot write BMP; Ultralytics datasets may hold them). */
function bmp24(rgb: Buffer, width: number, height: number): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const out = Buffer.alloc(54 + stride * height);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22); // positive: rows bottom-up
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3, d = 54 + (height - 1 - y) * stride + x * 3;
      out[d] = rgb[s + 2]!;
      out[d + 1] = rgb[s + 1]!;
      out[d + 2] = rgb[s]!;
    }
  }
  return out;
}


describe('checkDataset on rbc8 (real blood cells)', () => {
  it('passes the clean dataset with the one warning its 4 white cells in val deserve', async () => {
    const dir = await rbc8Copy();
    const progress: string[] = [];
    const r = await checkDataset(dir, { onProgress: (s, d, t) => d === t && progress.push(`${s} ${d}/${t}`) });
    expect(HealthReport.parse(r)).toEqual(r);
    expect(r.ok).toBe(true);
    expect(r.counts.errors).toBe(0);
    expect(r.imgsz).toBe(640);
    // from the label files: both classes in both splits, wbc (one per image) under the 10 val instances that mean something
    const train = await instances(dir, 'train'), val = await instances(dir, 'val');
    expect(train).toEqual({ rbc: 90, wbc: 4 });
    expect(val).toEqual({ rbc: 76, wbc: 4 });
    const few = one(r, 'few-val-instances', 'warning');
    expect(few.items).toEqual(Object.entries(val).filter(([, n]) => n < 10).map(([c, n]) => `${c}: ${n}`));
    expect(few.count).toBe(1);
    expect(few.message).toMatch(/noise/);
    expect(few.message).toContain('wbc: 4');
    expect(one(r, 'empty-split', 'info').message).toMatch(/test/);
    const neg = one(r, 'negatives-share', 'info');
    expect(neg.count).toBe(0);
    expect(neg.message).toContain('train 0 of 4 (0%); val 0 of 4 (0%)');
    // nothing else: no class gaps, no damage, no object small enough to be flagged
    expect(r.issues.map((i) => i.code)).toEqual(['few-val-instances', 'empty-split', 'negatives-share']);
    expect(progress).toEqual(['labels 8/8', 'images 8/8']);
    // data.yaml itself as input gives the same findings
    const r2 = await checkDataset(path.join(dir, 'data.yaml'));
    expect(r2.issues.map((i) => i.code)).toEqual(r.issues.map((i) => i.code));
  });

  it('catches a truncated JPEG whose header still reads', async () => {
    const dir = await rbc8Copy();
    const file = path.join(dir, img('val', V0));
    const bytes = await fs.readFile(file);
    await fs.writeFile(file, bytes.subarray(0, Math.floor(bytes.length * 0.9)));
    // the header parses fine: only a full decode notices the missing scan data
    expect((await sharp(file).metadata()).width).toBe(416);
    const r = await checkDataset(dir);
    expect(r.ok).toBe(false);
    const bad = one(r, 'corrupt-image', 'error');
    expect(bad.count).toBe(1);
    expect(bad.files).toEqual([img('val', V0)]);
    expect(bad.items![0]).toMatch(/premature end/i);
  });

  it('reports labels with bad class ids, bad field counts, boxes outside, zero area and pixel units', async () => {
    const dir = await rbc8Copy();
    const t0 = path.join(dir, lbl('train', T0));
    const t1 = path.join(dir, lbl('train', T1));
    const v0 = path.join(dir, lbl('val', V0));
    const [n0, n1, nv] = [await lineCount(t0), await lineCount(t1), await lineCount(v0)]; // the real boxes
    await append(t0, '99 0.5 0.5 0.1 0.1\n-1 0.5 0.5 0.1 0.1\n');
    await append(t1, '0 0.5 0.5\n0 0.5 abc 0.1 0.1\n0 nan 0.5 0.1 0.1\n');
    await append(v0, '0 0.95 0.5 0.3 0.2\n0 0.02 0.02 0.1 0.1\n0 0.5 0.5 0 0.1\n');
    await append(path.join(dir, lbl('val', V1)), '0 320 240 50 60\n');
    const r = await checkDataset(dir);
    expect(r.ok).toBe(false);

    const range = one(r, 'class-out-of-range', 'error');
    expect(range.count).toBe(2);
    expect(range.files).toEqual([lbl('train', T0)]);
    expect(range.items).toEqual([`${lbl('train', T0)}:${n0 + 1}: class 99`, `${lbl('train', T0)}:${n0 + 2}: class -1`]);
    expect(range.message).toContain('0..1');

    const malformed = one(r, 'label-malformed', 'error');
    expect(malformed.count).toBe(3);
    expect(malformed.files).toEqual([lbl('train', T1)]);
    expect(malformed.items![0]).toBe(`${lbl('train', T1)}:${n1 + 1}: 3 fields, expected 5 (class x y w h) or a polygon (class x1 y1 x2 y2 x3 y3 ...)`);
    expect(malformed.items![1]).toContain("'abc' is not a number");
    expect(malformed.items![2]).toContain("'nan' is not a number");

    const outside = one(r, 'box-outside', 'warning');
    expect(outside.count).toBe(2);
    expect(outside.message).toMatch(/clipped/);
    expect(outside.items).toEqual([`${lbl('val', V0)}:${nv + 1}`, `${lbl('val', V0)}:${nv + 2}`]);

    const zero = one(r, 'box-zero-area', 'warning');
    expect(zero.count).toBe(1);
    expect(zero.items).toEqual([`${lbl('val', V0)}:${nv + 3}`]);

    const px = one(r, 'box-not-normalized', 'error');
    expect(px.count).toBe(1);
    expect(px.files).toEqual([lbl('val', V1)]);
    expect(px.message).toMatch(/skips the whole image/);
  });

  it('keeps box-outside a warning: the dataset stays ok', async () => {
    const dir = await rbc8Copy();
    await append(path.join(dir, lbl('train', T2)), '1 0.98 0.5 0.1 0.2\n');
    const r = await checkDataset(dir);
    expect(r.ok).toBe(true);
    expect(one(r, 'box-outside').count).toBe(1);
  });

  it('flags an image copied into val (exact) and a re-encoded copy (near-duplicate)', async () => {
    const dir = await rbc8Copy();
    await fs.copyFile(path.join(dir, img('train', T0)), path.join(dir, 'images/val/copy.jpg'));
    await fs.copyFile(path.join(dir, lbl('train', T0)), path.join(dir, 'labels/val/copy.txt'));
    // a brightened, recompressed copy: different bytes, same picture
    await sharp(path.join(dir, img('train', T1))).modulate({ brightness: 1.08 }).jpeg({ quality: 50 }).toFile(path.join(dir, 'images/val/resaved.jpg'));
    const r = await checkDataset(dir);
    expect(r.ok).toBe(false);
    const dup = one(r, 'duplicate-images', 'error');
    expect(dup.count).toBe(1);
    expect(dup.files!.sort()).toEqual([img('train', T0), 'images/val/copy.jpg']);
    expect(dup.items).toEqual([`${img('train', T0)} (train) = images/val/copy.jpg (val)`]);
    const near = one(r, 'near-duplicates-across-splits', 'warning');
    expect(near.count).toBe(1); // the exact copy is not reported twice
    expect(near.files!.sort()).toEqual([img('train', T1), 'images/val/resaved.jpg']);
    // negatives: the re-saved copy has no label file
    expect(one(r, 'negatives-share').message).toContain('val 1 of 6 (16.7%), 1 without a label file');

    const off = await checkDataset(dir, { dupThreshold: -1 });
    expect(byCode(off, 'near-duplicates-across-splits')).toHaveLength(0);
  });

  it('warns on identical images within one split', async () => {
    const dir = await rbc8Copy();
    await fs.copyFile(path.join(dir, img('train', T0)), path.join(dir, 'images/train/again.jpg'));
    const r = await checkDataset(dir);
    expect(one(r, 'duplicate-images', 'warning').count).toBe(1);
    expect(byCode(r, 'duplicate-images', 'error')).toHaveLength(0);
  });

  it('finds a group of split.json in train and val', async () => {
    const dir = await rbc8Copy();
    const entries = [];
    for (const split of ['train', 'val'] as const) {
      for (const f of await fs.readdir(path.join(dir, 'images', split))) {
        const group = f === `${T0}.jpg` || f === `${V0}.jpg` ? 'video-A' : f;
        entries.push({ source: f, file: `images/${split}/${f}`, split, group });
      }
    }
    await fs.writeFile(path.join(dir, 'split.json'), JSON.stringify(entries));
    const r = await checkDataset(dir);
    expect(r.ok).toBe(false);
    const leak = one(r, 'group-leak', 'error');
    expect(leak.count).toBe(1);
    expect(leak.items).toEqual(['video-A: train 1, val 1']);
    expect(leak.files!.sort()).toEqual([img('train', T0), img('val', V0)]);

    // one group per image: no leak
    await fs.writeFile(path.join(dir, 'split.json'), JSON.stringify(entries.map((e) => ({ ...e, group: e.source }))));
    expect(byCode(await checkDataset(dir), 'group-leak')).toHaveLength(0);

    // split.json records V0 in train, but the file sits in val: where it really is counts
    const stale = entries.map((e) => ({ ...e, group: e.source === `${V0}.jpg` ? `${T0}.jpg` : e.source, split: 'train' }));
    await fs.writeFile(path.join(dir, 'split.json'), JSON.stringify(stale));
    expect(one(await checkDataset(dir), 'group-leak').items).toEqual([`${T0}.jpg: train 1, val 1`]);

    await fs.writeFile(path.join(dir, 'split.json'), JSON.stringify([{ source: 'a.jpg', file: 'images/train/a.jpg', split: 'holdout', group: 'g' }]));
    const invalid = one(await checkDataset(dir), 'split-json-invalid', 'warning');
    expect(invalid.files).toEqual(['split.json']);
    expect(invalid.message).toMatch(/0\.split/);
  });

  it('counts tiny objects per class at the training imgsz', async () => {
    const dir = await rbc8Copy();
    // the images are 416x416: a 3.9x3.7 px box at 416 (tiny), 6.0x5.8 px at 640 (small); no real cell is that small
    await append(path.join(dir, lbl('train', T0)), '1 0.3 0.3 0.0094 0.009\n');
    const at640 = one(await checkDataset(dir, { imgsz: 640 }), 'tiny-objects');
    const at416 = one(await checkDataset(dir, { imgsz: 416 }), 'tiny-objects');
    expect(at640.severity).toBe('info');
    expect(at640.count).toBe(1);
    expect(at640.message).toMatch(/At imgsz 640, 0 objects .* and 1 under 8 px/);
    expect(at416.severity).toBe('warning');
    expect(at416.message).toMatch(/At imgsz 416, 1 object of \d+ gets a shorter side under 4 px/);
    expect(at416.items).toContain('wbc: 1 under 4 px, 1 under 8 px');
    expect(at416.files).toContain(img('train', T0));
  });

  it('tells a class the split failed (error) from one too rare to split (warning) when val lacks it', async () => {
    const dir = await rbc8Copy();
    // val without its white cells: wbc keeps its 4 train instances and has none in val
    for (const v of [V0, V1, V2, V3]) {
      const file = path.join(dir, lbl('val', v));
      await fs.writeFile(file, (await fs.readFile(file, 'utf8')).split('\n').filter((l) => !l.startsWith('1 ')).join('\n'));
    }
    expect(await instances(dir, 'val')).toEqual({ rbc: 76 });
    // under the default 10 instances, 4 are too few to share with val: a warning
    const rare = await checkDataset(dir);
    expect(rare.ok).toBe(true);
    expect(one(rare, 'class-missing-in-val', 'warning').items).toEqual(['wbc: 4 train, 0 val']);
    expect(byCode(rare, 'class-missing-in-val', 'error')).toHaveLength(0);
    // with minValInstances 2 they are enough: the split failed it
    const strict = await checkDataset(dir, { minValInstances: 2 });
    expect(strict.ok).toBe(false);
    const err = one(strict, 'class-missing-in-val', 'error');
    expect(err.count).toBe(1);
    expect(err.message).toContain('wbc: 4 train, 0 val');
    expect(byCode(strict, 'class-missing-in-val', 'warning')).toHaveLength(0);
  });

  it('reports labels without images, empty splits and a majority of negatives', async () => {
    const dir = await rbc8Copy();
    await fs.writeFile(path.join(dir, 'labels/train/ghost.txt'), '0 0.5 0.5 0.2 0.2\n');
    for (const t of [T0, T1, T2]) await fs.writeFile(path.join(dir, lbl('train', t)), '');
    let r = await checkDataset(dir);
    const ghost = one(r, 'missing-image', 'error');
    expect(ghost.files).toEqual(['labels/train/ghost.txt']);
    const neg = one(r, 'negatives-share', 'warning');
    expect(neg.count).toBe(3);
    expect(neg.message).toContain('train 3 of 4 (75.0%)');

    await fs.rm(path.join(dir, 'images/val'), { recursive: true });
    r = await checkDataset(dir);
    const empty = one(r, 'empty-split', 'error');
    expect(empty.message).toContain('images/val does not exist');
  });

  it('reads .txt lists and single images as splits; reports absent, overlapping, tiny and unreadable files', async () => {
    const dir = await rbc8Copy();
    await fs.writeFile(path.join(dir, 'train.txt'), `./${img('train', T0)}\n${img('train', T1)}\nimages/train/nope.jpg\n`);
    // val also names a train image: the same file in two splits
    const yaml = YAML.parse(await fs.readFile(path.join(dir, 'data.yaml'), 'utf8'));
    await fs.writeFile(path.join(dir, 'data.yaml'), YAML.stringify({ ...yaml, train: 'train.txt', val: ['images/val', img('train', T1)] }));
    await sharp(path.join(dir, img('val', V0))).resize(9, 9, { fit: 'fill' }).toFile(path.join(dir, 'images/val/thumb.png'));
    await fs.copyFile(path.join(dir, img('val', V1)), path.join(dir, lbl('val', V1)));
    await append(path.join(dir, lbl('val', V2)), '0 0.1 0.1 0.2 0.1 0.2 0.2\n0 0.1 0.1 0.2 0.1 0.2 0.2\n');
    const r = await checkDataset(dir);
    expect(one(r, 'listed-image-missing', 'error').items).toEqual(['train.txt: images/train/nope.jpg']);
    const overlap = one(r, 'split-overlap', 'error');
    expect(overlap.files).toEqual([img('train', T1)]);
    expect(overlap.items).toEqual([`${img('train', T1)}: train + val`]);
    expect(one(r, 'image-too-small', 'error').items).toEqual(['images/val/thumb.png: 9x9 px']);
    expect(one(r, 'label-unreadable', 'error').items).toEqual([`${lbl('val', V1)}: binary content`]);
    expect(one(r, 'mixed-box-polygon', 'warning').files).toEqual([lbl('val', V2)]);
    expect(one(r, 'duplicate-labels', 'warning').count).toBe(1);
    // 2 train images were read from the list: the other two train labels are now labels without images
    expect(one(r, 'missing-image').files).toEqual([lbl('train', T2), lbl('train', T3)]);
  });

  it('reads BMP sizes from the header and says the pixels were not checked', async () => {
    const dir = await rbc8Copy();
    const { data, info } = await sharp(path.join(dir, img('train', T2))).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    await fs.writeFile(path.join(dir, img('train', T2, 'bmp')), bmp24(data, info.width, info.height));
    await fs.rm(path.join(dir, img('train', T2)));
    const r = await checkDataset(dir);
    expect(r.ok).toBe(true);
    expect(one(r, 'image-not-decoded', 'info').files).toEqual([img('train', T2, 'bmp')]);
    // its size was read: a 1-px box in it is tiny
    await append(path.join(dir, lbl('train', T2)), '1 0.5 0.5 0.001 0.5\n');
    expect(one(await checkDataset(dir), 'tiny-objects').files).toEqual([img('train', T2, 'bmp')]);
  });

  it('warns about a relative path: in data.yaml', async () => {
    const dir = await rbc8Copy();
    const yaml = YAML.parse(await fs.readFile(path.join(dir, 'data.yaml'), 'utf8'));
    await fs.writeFile(path.join(dir, 'data.yaml'), YAML.stringify({ ...yaml, path: '.' }));
    const r = await checkDataset(dir);
    expect(r.ok).toBe(true);
    expect(one(r, 'data-yaml-relative-path', 'warning').message).toMatch(/absolute/);
    expect(one(r, 'few-val-instances').items).toEqual(['wbc: 4']);
  });

  it('handles a path with spaces and Cyrillic', async () => {
    const dir = await rbc8Copy('мой датасет/rbc 8 копия');
    await append(path.join(dir, lbl('val', V3)), '7 0.5 0.5 0.2\n');
    const r = await checkDataset(dir);
    const malformed = one(r, 'label-malformed');
    expect(malformed.files).toEqual([lbl('val', V3)]);
    expect(one(r, 'few-val-instances').items).toEqual(['wbc: 4']);
  });

  it('merges import-time issues and honours cancel', async () => {
    const dir = await rbc8Copy();
    const extra: HealthIssue = { severity: 'error', code: 'size-mismatch', message: 'declared 416x312, file 416x416', count: 1, files: [img('train', T0)] };
    const r = await checkDataset(dir, { extraIssues: [extra] });
    expect(r.ok).toBe(false);
    expect(one(r, 'size-mismatch')).toEqual(extra);

    const ac = new AbortController();
    const pending = checkDataset(dir, {
      signal: ac.signal,
      onProgress: (stage, done) => stage === 'labels' && done === 2 && ac.abort(),
    });
    await expect(pending).rejects.toMatchObject({ name: 'CancelledError' });
  });
});

it('names the file when data.yaml is missing', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'spotter-health-'));
  temps.push(tmp);
  await expect(checkDataset(tmp)).rejects.toThrow(/no data\.yaml in this folder/);
  await expect(checkDataset(path.join(tmp, 'nope.yaml'))).rejects.toThrow(/nope\.yaml: no such file/);
});

// coco8's 80 names and its rare classes give the class statistics rbc8's two classes cannot
describeShared('checkDataset on coco8', () => {
  it('passes the clean dataset with the warnings a 4-image val deserves', async () => {
    const dir = await coco8Copy();
    const progress: string[] = [];
    const r = await checkDataset(dir, { onProgress: (s, d, t) => d === t && progress.push(`${s} ${d}/${t}`) });
    expect(HealthReport.parse(r)).toEqual(r);
    expect(r.ok).toBe(true);
    expect(r.counts.errors).toBe(0);
    expect(r.imgsz).toBe(640);
    // val: person 10, dog 1, horse 2, elephant 2, umbrella 1, potted plant 1
    const few = one(r, 'few-val-instances', 'warning');
    expect(few.count).toBe(5);
    expect(few.message).toMatch(/noise/);
    expect(few.message).toContain('horse: 2');
    expect(few.items).toContain('dog: 1');
    expect(few.items!.join()).not.toContain('person');
    // classes seen once or twice in train and never in val: named, but not an error
    const missing = one(r, 'class-missing-in-val', 'warning');
    expect(missing.count).toBe(6);
    expect(missing.items).toContain('bowl: 3 train, 0 val');
    expect(one(r, 'class-missing-in-train', 'warning').count).toBe(5);
    expect(one(r, 'unused-classes', 'info').count).toBe(68);
    expect(one(r, 'empty-split', 'info').message).toMatch(/test/);
    const neg = one(r, 'negatives-share', 'info');
    expect(neg.count).toBe(0);
    expect(neg.message).toContain('train 0 of 4 (0%)');
    for (const code of ['corrupt-image', 'missing-image', 'duplicate-images', 'label-malformed', 'group-leak', 'box-outside'])
      expect(byCode(r, code)).toHaveLength(0);
    expect(progress).toEqual(['labels 8/8', 'images 8/8']);
    // data.yaml itself as input gives the same findings
    const r2 = await checkDataset(path.join(dir, 'data.yaml'));
    expect(r2.issues.map((i) => i.code)).toEqual(r.issues.map((i) => i.code));
  });

  it('errors on a class with many train instances and no val instance', async () => {
    const dir = await coco8Copy();
    // with minValInstances 2: giraffe (2 train), bowl (3) and orange (4) are big enough to split, yet absent from val
    const r = await checkDataset(dir, { minValInstances: 2 });
    expect(r.ok).toBe(false);
    const err = one(r, 'class-missing-in-val', 'error');
    expect(err.count).toBe(3);
    expect(err.message).toContain('bowl: 3 train, 0 val');
    expect(one(r, 'class-missing-in-val', 'warning').count).toBe(3);
  });
});
