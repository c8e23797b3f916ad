/**
 * Health check on real data: Ultralytics' coco8 (8 COCO images, 80 names), copied to temp folders
 * and damaged one way per test. Each damage must surface as its own code, with counts and files.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import YAML from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDataset } from '../electron/core/datasets/health.js';
import { HealthReport, type HealthIssue } from '../electron/shared/schemas.js';
import { hasSharedData, shared } from './helpers/shared.js';

const COCO8 = shared('real', 'coco8-ultralytics');
const temps: string[] = [];

afterAll(async () => {
  for (const t of temps) await fs.rm(t, { recursive: true, force: true });
});

/** A writable copy of coco8 under `sub` of a fresh temp dir, with a data.yaml holding an absolute path. */
async function coco8Copy(sub = 'coco8'): Promise<string> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'spotter-health-'));
  temps.push(tmp);
  const dir = path.join(tmp, sub);
  await fs.mkdir(dir, { recursive: true });
  for (const part of ['images', 'labels']) await fs.cp(path.join(COCO8, part), path.join(dir, part), { recursive: true });
  // the shared files are read-only; the copies must be damageable
  for (const f of await fs.readdir(dir, { recursive: true })) await fs.chmod(path.join(dir, f), 0o755);
  const src = YAML.parse(await fs.readFile(path.join(COCO8, 'coco8.yaml'), 'utf8')) as { names: Record<string, string> };
  await fs.writeFile(path.join(dir, 'data.yaml'), YAML.stringify({ path: dir, train: 'images/train', val: 'images/val', names: src.names }));
  return dir;
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

describe.skipIf(!hasSharedData)('checkDataset on coco8', () => {
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

  it('catches a truncated JPEG whose header still reads', async () => {
    const dir = await coco8Copy();
    const img = path.join(dir, 'images/val/000000000036.jpg');
    const bytes = await fs.readFile(img);
    await fs.writeFile(img, bytes.subarray(0, Math.floor(bytes.length * 0.9)));
    // the header parses fine: only a full decode notices the missing scan data
    expect((await sharp(img).metadata()).width).toBe(481);
    const r = await checkDataset(dir);
    expect(r.ok).toBe(false);
    const bad = one(r, 'corrupt-image', 'error');
    expect(bad.count).toBe(1);
    expect(bad.files).toEqual(['images/val/000000000036.jpg']);
    expect(bad.items![0]).toMatch(/premature end/i);
  });

  it('reports labels with bad class ids, bad field counts, boxes outside, zero area and pixel units', async () => {
    const dir = await coco8Copy();
    const nine = path.join(dir, 'labels/train/000000000009.txt');
    const n = (await fs.readFile(nine, 'utf8')).trim().split('\n').length; // 8 real boxes
    await append(nine, '99 0.5 0.5 0.1 0.1\n-1 0.5 0.5 0.1 0.1\n');
    await append(path.join(dir, 'labels/train/000000000025.txt'), '0 0.5 0.5\n0 0.5 abc 0.1 0.1\n0 nan 0.5 0.1 0.1\n');
    await append(path.join(dir, 'labels/val/000000000042.txt'), '0 0.95 0.5 0.3 0.2\n0 0.02 0.02 0.1 0.1\n0 0.5 0.5 0 0.1\n');
    await append(path.join(dir, 'labels/val/000000000049.txt'), '0 320 240 50 60\n');
    const r = await checkDataset(dir);
    expect(r.ok).toBe(false);

    const range = one(r, 'class-out-of-range', 'error');
    expect(range.count).toBe(2);
    expect(range.files).toEqual(['labels/train/000000000009.txt']);
    expect(range.items).toEqual([`labels/train/000000000009.txt:${n + 1}: class 99`, `labels/train/000000000009.txt:${n + 2}: class -1`]);
    expect(range.message).toContain('0..79');

    const malformed = one(r, 'label-malformed', 'error');
    expect(malformed.count).toBe(3);
    expect(malformed.files).toEqual(['labels/train/000000000025.txt']);
    expect(malformed.items![0]).toBe('labels/train/000000000025.txt:3: 3 fields, expected 5 (class x y w h) or a polygon (class x1 y1 x2 y2 x3 y3 ...)');
    expect(malformed.items![1]).toContain("'abc' is not a number");
    expect(malformed.items![2]).toContain("'nan' is not a number");

    const outside = one(r, 'box-outside', 'warning');
    expect(outside.count).toBe(2);
    expect(outside.message).toMatch(/clipped/);
    expect(outside.items).toEqual(['labels/val/000000000042.txt:2', 'labels/val/000000000042.txt:3']);

    const zero = one(r, 'box-zero-area', 'warning');
    expect(zero.count).toBe(1);
    expect(zero.items).toEqual(['labels/val/000000000042.txt:4']);

    const px = one(r, 'box-not-normalized', 'error');
    expect(px.count).toBe(1);
    expect(px.files).toEqual(['labels/val/000000000049.txt']);
    expect(px.message).toMatch(/skips the whole image/);
  });

  it('keeps box-outside a warning: the dataset stays ok', async () => {
    const dir = await coco8Copy();
    await append(path.join(dir, 'labels/train/000000000030.txt'), '58 0.98 0.5 0.1 0.2\n');
    const r = await checkDataset(dir);
    expect(r.ok).toBe(true);
    expect(one(r, 'box-outside').count).toBe(1);
  });

  it('flags an image copied into val (exact) and a re-encoded copy (near-duplicate)', async () => {
    const dir = await coco8Copy();
    await fs.copyFile(path.join(dir, 'images/train/000000000009.jpg'), path.join(dir, 'images/val/copy.jpg'));
    await fs.copyFile(path.join(dir, 'labels/train/000000000009.txt'), path.join(dir, 'labels/val/copy.txt'));
    // a brightened, recompressed copy: different bytes, same picture
    await sharp(path.join(dir, 'images/train/000000000025.jpg')).modulate({ brightness: 1.08 }).jpeg({ quality: 50 }).toFile(path.join(dir, 'images/val/resaved.jpg'));
    const r = await checkDataset(dir);
    expect(r.ok).toBe(false);
    const dup = one(r, 'duplicate-images', 'error');
    expect(dup.count).toBe(1);
    expect(dup.files!.sort()).toEqual(['images/train/000000000009.jpg', 'images/val/copy.jpg']);
    expect(dup.items).toEqual(['images/train/000000000009.jpg (train) = images/val/copy.jpg (val)']);
    const near = one(r, 'near-duplicates-across-splits', 'warning');
    expect(near.count).toBe(1); // the exact copy is not reported twice
    expect(near.files!.sort()).toEqual(['images/train/000000000025.jpg', 'images/val/resaved.jpg']);
    // negatives: the re-saved copy has no label file
    expect(one(r, 'negatives-share').message).toContain('val 1 of 6 (16.7%), 1 without a label file');

    const off = await checkDataset(dir, { dupThreshold: -1 });
    expect(byCode(off, 'near-duplicates-across-splits')).toHaveLength(0);
  });

  it('warns on identical images within one split', async () => {
    const dir = await coco8Copy();
    await fs.copyFile(path.join(dir, 'images/train/000000000009.jpg'), path.join(dir, 'images/train/again.jpg'));
    const r = await checkDataset(dir);
    expect(one(r, 'duplicate-images', 'warning').count).toBe(1);
    expect(byCode(r, 'duplicate-images', 'error')).toHaveLength(0);
  });

  it('finds a group of split.json in train and val', async () => {
    const dir = await coco8Copy();
    const entries = [];
    for (const split of ['train', 'val'] as const) {
      for (const f of await fs.readdir(path.join(dir, 'images', split))) {
        const group = f === '000000000009.jpg' || f === '000000000036.jpg' ? 'video-A' : f;
        entries.push({ source: f, file: `images/${split}/${f}`, split, group });
      }
    }
    await fs.writeFile(path.join(dir, 'split.json'), JSON.stringify(entries));
    const r = await checkDataset(dir);
    expect(r.ok).toBe(false);
    const leak = one(r, 'group-leak', 'error');
    expect(leak.count).toBe(1);
    expect(leak.items).toEqual(['video-A: train 1, val 1']);
    expect(leak.files!.sort()).toEqual(['images/train/000000000009.jpg', 'images/val/000000000036.jpg']);

    // one group per image: no leak
    await fs.writeFile(path.join(dir, 'split.json'), JSON.stringify(entries.map((e) => ({ ...e, group: e.source }))));
    expect(byCode(await checkDataset(dir), 'group-leak')).toHaveLength(0);

    // split.json records 000000000036.jpg in train, but the file sits in val: where it really is counts
    const stale = entries.map((e) => ({ ...e, group: e.source === '000000000036.jpg' ? '000000000009.jpg' : e.source, split: 'train' }));
    await fs.writeFile(path.join(dir, 'split.json'), JSON.stringify(stale));
    expect(one(await checkDataset(dir), 'group-leak').items).toEqual(['000000000009.jpg: train 1, val 1']);

    await fs.writeFile(path.join(dir, 'split.json'), JSON.stringify([{ source: 'a.jpg', file: 'images/train/a.jpg', split: 'holdout', group: 'g' }]));
    const invalid = one(await checkDataset(dir), 'split-json-invalid', 'warning');
    expect(invalid.files).toEqual(['split.json']);
    expect(invalid.message).toMatch(/0\.split/);
  });

  it('counts tiny objects per class at the training imgsz', async () => {
    const dir = await coco8Copy();
    // 000000000009.jpg is 640x480: a 6x4.3 px box at 640 (small), 3.7x2.8 px at 416 (tiny)
    await append(path.join(dir, 'labels/train/000000000009.txt'), '45 0.3 0.3 0.0094 0.009\n');
    const at640 = one(await checkDataset(dir, { imgsz: 640 }), 'tiny-objects');
    const at416 = one(await checkDataset(dir, { imgsz: 416 }), 'tiny-objects');
    expect(at640.severity).toBe('info');
    expect(at640.count).toBe(1);
    expect(at640.message).toMatch(/At imgsz 640, 0 objects .* and 1 under 8 px/);
    expect(at416.severity).toBe('warning');
    expect(at416.message).toMatch(/At imgsz 416, 1 object of \d+ gets a shorter side under 4 px/);
    expect(at416.items).toContain('bowl: 1 under 4 px, 1 under 8 px');
    expect(at416.files).toContain('images/train/000000000009.jpg');
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

  it('reports labels without images, empty splits and a majority of negatives', async () => {
    const dir = await coco8Copy();
    await fs.writeFile(path.join(dir, 'labels/train/ghost.txt'), '0 0.5 0.5 0.2 0.2\n');
    for (const f of ['000000000009', '000000000025', '000000000030']) await fs.writeFile(path.join(dir, `labels/train/${f}.txt`), '');
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
    const dir = await coco8Copy();
    await fs.writeFile(path.join(dir, 'train.txt'), './images/train/000000000009.jpg\nimages/train/000000000025.jpg\nimages/train/nope.jpg\n');
    // val also names a train image: the same file in two splits
    const yaml = YAML.parse(await fs.readFile(path.join(dir, 'data.yaml'), 'utf8'));
    await fs.writeFile(path.join(dir, 'data.yaml'), YAML.stringify({ ...yaml, train: 'train.txt', val: ['images/val', 'images/train/000000000025.jpg'] }));
    await sharp(path.join(dir, 'images/val/000000000042.jpg')).resize(9, 9, { fit: 'fill' }).toFile(path.join(dir, 'images/val/thumb.png'));
    await fs.copyFile(path.join(dir, 'images/val/000000000061.jpg'), path.join(dir, 'labels/val/000000000061.txt'));
    await append(path.join(dir, 'labels/val/000000000049.txt'), '0 0.1 0.1 0.2 0.1 0.2 0.2\n0 0.1 0.1 0.2 0.1 0.2 0.2\n');
    const r = await checkDataset(dir);
    expect(one(r, 'listed-image-missing', 'error').items).toEqual(['train.txt: images/train/nope.jpg']);
    const overlap = one(r, 'split-overlap', 'error');
    expect(overlap.files).toEqual(['images/train/000000000025.jpg']);
    expect(overlap.items).toEqual(['images/train/000000000025.jpg: train + val']);
    expect(one(r, 'image-too-small', 'error').items).toEqual(['images/val/thumb.png: 9x9 px']);
    expect(one(r, 'label-unreadable', 'error').items).toEqual(['labels/val/000000000061.txt: binary content']);
    expect(one(r, 'mixed-box-polygon', 'warning').files).toEqual(['labels/val/000000000049.txt']);
    expect(one(r, 'duplicate-labels', 'warning').count).toBe(1);
    // 2 train images were read from the list: the other two train labels are now labels without images
    expect(one(r, 'missing-image').files).toEqual(['labels/train/000000000030.txt', 'labels/train/000000000034.txt']);
  });

  it('reads BMP sizes from the header and says the pixels were not checked', async () => {
    const dir = await coco8Copy();
    const { data, info } = await sharp(path.join(dir, 'images/train/000000000030.jpg')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    await fs.writeFile(path.join(dir, 'images/train/000000000030.bmp'), bmp24(data, info.width, info.height));
    await fs.rm(path.join(dir, 'images/train/000000000030.jpg'));
    const r = await checkDataset(dir);
    expect(r.ok).toBe(true);
    expect(one(r, 'image-not-decoded', 'info').files).toEqual(['images/train/000000000030.bmp']);
    // its size was read: a 1-px box in it is tiny
    await append(path.join(dir, 'labels/train/000000000030.txt'), '58 0.5 0.5 0.001 0.5\n');
    expect(one(await checkDataset(dir), 'tiny-objects').files).toEqual(['images/train/000000000030.bmp']);
  });

  it('warns about a relative path: in data.yaml', async () => {
    const dir = await coco8Copy();
    const yaml = YAML.parse(await fs.readFile(path.join(dir, 'data.yaml'), 'utf8'));
    await fs.writeFile(path.join(dir, 'data.yaml'), YAML.stringify({ ...yaml, path: '.' }));
    const r = await checkDataset(dir);
    expect(r.ok).toBe(true);
    expect(one(r, 'data-yaml-relative-path', 'warning').message).toMatch(/absolute/);
    expect(one(r, 'few-val-instances').count).toBe(5);
  });

  it('handles a path with spaces and Cyrillic', async () => {
    const dir = await coco8Copy('мой датасет/coco 8 копия');
    await append(path.join(dir, 'labels/val/000000000061.txt'), '7 0.5 0.5 0.2\n');
    const r = await checkDataset(dir);
    const malformed = one(r, 'label-malformed');
    expect(malformed.files).toEqual(['labels/val/000000000061.txt']);
    expect(one(r, 'few-val-instances').count).toBe(5);
  });

  it('merges import-time issues and honours cancel', async () => {
    const dir = await coco8Copy();
    const extra: HealthIssue = { severity: 'error', code: 'size-mismatch', message: 'declared 640x480, file 480x640', count: 1, files: ['images/train/000000000009.jpg'] };
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

  it('names the file when data.yaml is missing', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'spotter-health-'));
    temps.push(tmp);
    await expect(checkDataset(tmp)).rejects.toThrow(/no data\.yaml in this folder/);
    await expect(checkDataset(path.join(tmp, 'nope.yaml'))).rejects.toThrow(/nope\.yaml: no such file/);
  });
});
