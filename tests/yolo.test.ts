import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readYolo, ultralyticsLabelPath } from '../electron/core/datasets/formats/yolo.js';
import type { SourceDataset } from '../electron/core/datasets/model.js';
import { REPO_ROOT, fixture, itShared, shared } from './helpers/shared.js';
import { expectImportError } from './helpers/core.js';

const FIX = path.join(REPO_ROOT, 'tests/fixtures/yolo');
const LABELS10 = Array.from({ length: 10 }, (_, i) => `label_${i}`);
let tmp: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'spotter-yolo-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** Datumaro's one-image detection fixture (15x10 px): `2 0.133333 0.3 0.266667 0.2`, `4 0.266667 0.45 0.133333 0.3`. */
function expectDatumaroImage(ds: SourceDataset, name: string, subset: string | undefined) {
  expect(ds.images).toHaveLength(1);
  const img = ds.images[0]!;
  expect(img.name).toBe(name);
  expect(img.subset).toBe(subset);
  expect(img.path).toBe(path.join(ds.root, name));
  expect([img.width, img.height]).toEqual([15, 10]);
  expect(img.objects.map((o) => [o.category, o.origin])).toEqual([
    ['label_2', 'yolo-box'],
    ['label_4', 'yolo-box'],
  ]);
  const expected = [
    [0, 2, 4, 2],
    [3, 3, 2, 3],
  ];
  img.objects.forEach((o, k) => o.bbox.forEach((v, i) => expect(v).toBeCloseTo(expected[k]![i]!, 4)));
}

async function copyFixture(name: string, dest: string): Promise<string> {
  await fs.cp(path.join(FIX, name), dest, { recursive: true });
  return dest;
}

describe('Ultralytics data.yaml spellings', () => {
  test.each([
    ['names as a dict, train a folder', 'yolov8_detection/data.yaml'],
    ['names as a list', 'yolov8_detection_with_list_of_names/data.yaml'],
    ['train as a list of images', 'yolov8_detection_with_list_of_imgs/data.yaml'],
    ['train as a .txt listing data/images/...', 'yolov8_detection_with_subset_txt/data.yaml'],
  ])('%s', async (_what, yaml) => {
    const ds = await readYolo(path.join(FIX, yaml));
    expect(ds.format).toBe('yolo');
    expect(ds.categories).toEqual(LABELS10);
    expect(ds.root).toBe(path.dirname(path.join(FIX, yaml)));
    expectDatumaroImage(ds, 'images/train/1.jpg', 'train');
    expect(ds.notes).toEqual([]);
  });

  test('a folder holding a data.yaml reads the yaml', async () => {
    expectDatumaroImage(await readYolo(path.join(FIX, 'yolov8_detection')), 'images/train/1.jpg', 'train');
  });

  test('path absolute, relative, missing; names dict with string keys and a gap; nc without names', async () => {
    const ds0 = await copyFixture('yolov8_detection', path.join(tmp, 'spellings', 'dataset'));
    const yamlDir = path.join(tmp, 'spellings', 'configs');
    await fs.mkdir(yamlDir);
    const y = (name: string, text: string) => fs.writeFile(path.join(yamlDir, name), text).then(() => path.join(yamlDir, name));

    const abs = await readYolo(await y('abs.yaml', `path: ${ds0}\ntrain: images/train\nval: images/train\nnames: {0: a, 1: b, 2: c, 3: d, 4: e}\n`));
    expect(abs.root).toBe(ds0);
    expect(abs.images.map((i) => i.subset)).toEqual(['train', 'val']);
    expect(abs.images[0]!.objects.map((o) => o.category)).toEqual(['c', 'e']);

    const rel = await readYolo(await y('rel.yml', `path: ../dataset\ntrain: [images/train]\nnames:\n  "2": two\n  "4": four\n`));
    expect(rel.root).toBe(ds0);
    expect(rel.categories).toEqual(['two', 'four']);
    expect(rel.images[0]!.objects.map((o) => o.category)).toEqual(['two', 'four']);

    const nc = await readYolo(await y('nc.yaml', `path: ${ds0}\ntrain: images/train\nnc: 5\n`));
    expect(nc.categories).toEqual(['class_0', 'class_1', 'class_2', 'class_3', 'class_4']);
    expect(nc.notes).toContainEqual(expect.objectContaining({ code: 'no-names' }));

    // class 4 is beyond a 3-name list: noted, the other object kept
    const short = await readYolo(await y('short.yaml', `path: ${ds0}\ntrain: images/train\nnames: [a, b, c]\n`));
    expect(short.images[0]!.objects.map((o) => o.category)).toEqual(['c']);
    expect(short.notes).toContainEqual(
      expect.objectContaining({ code: 'class-out-of-range', file: path.join(ds0, 'labels/train/1.txt'), item: 'line 2' }),
    );

    // no path: relative to the yaml's own folder
    const missing = await readYolo(path.join(ds0, 'data.yaml'));
    expect(missing.root).toBe(ds0);
  });

  test('segmentation polygons in pixels', async () => {
    const ds = await readYolo(path.join(FIX, 'yolov8_segmentation/data.yaml'));
    const [a, b] = ds.images[0]!.objects;
    expect(a).toMatchObject({ category: 'label_2', origin: 'yolo-polygon' });
    a!.polygons![0]!.forEach((v, i) => expect(v).toBeCloseTo([1.5, 1, 6, 1, 6, 5][i]!, 9));
    a!.bbox.forEach((v, i) => expect(v).toBeCloseTo([1.5, 1, 4.5, 4][i]!, 9));
    expect(b!.polygons![0]).toHaveLength(10);
  });

  test("Roboflow's ../train/images resolves inside the export, valid/val tried for each other", async () => {
    const ds = await readYolo(path.join(FIX, 'roboflow_yolo/data.yaml'));
    expect(ds.categories).toEqual(['label_0', 'label_1']);
    expect(ds.images.map((i) => [i.subset, i.name])).toEqual([
      ['train', 'train/images/train_001.jpg'],
      ['train', 'train/images/train_002.jpg'],
      ['val', 'val/images/val_001.jpg'],
    ]);
    // `1 0.45 0.1 0.9 0.2` in a 10x5 image
    ds.images[2]!.objects[1]!.bbox.forEach((v, i) => expect(v).toBeCloseTo([0, 0, 9, 1][i]!, 9));
    expect(ds.notes).toEqual([]);
  });

  test('rbc8 (real blood cells, Ultralytics layout): `path: .`, an absolute path, a missing one; real sizes, every label line read', async () => {
    const rbc8 = fixture('rbc8');
    const ds = await readYolo(path.join(rbc8, 'data.yaml'));
    expect(ds.root).toBe(rbc8);
    expect(ds.categories).toEqual(['rbc', 'wbc']);
    expect(ds.images.map((i) => i.subset)).toEqual(['train', 'train', 'train', 'train', 'val', 'val', 'val', 'val']);
    // every non-empty line of every label file is one object
    let lines = 0;
    for (const split of ['train', 'val']) {
      for (const f of await fs.readdir(path.join(rbc8, 'labels', split)))
        lines += (await fs.readFile(path.join(rbc8, 'labels', split, f), 'utf8')).split('\n').filter((l) => l.trim()).length;
    }
    expect(lines).toBe(174);
    expect(ds.images.reduce((n, i) => n + i.objects.length, 0)).toBe(lines);
    for (const img of ds.images) expect([img.width, img.height]).toEqual([416, 416]);
    const img32 = ds.images.find((i) => i.name.startsWith('images/val/image-32_png.rf.'))!;
    // its first line `1 0.493990 0.484976 0.233173 0.229567` -> wbc
    expect(img32.objects[0]!.category).toBe('wbc');
    img32.objects[0]!.bbox.forEach((v, i) => expect(v).toBeCloseTo([157.0, 154.0, 97.0, 95.5][i]!, 2));
    expect(img32.objects.filter((o) => o.category === 'wbc')).toHaveLength(1);
    expect(ds.notes).toEqual([]);

    // a copy whose yaml names its folder absolutely, and one whose path does not exist here
    const copy = path.join(tmp, 'rbc8 copy');
    await fs.cp(rbc8, copy, { recursive: true });
    const text = await fs.readFile(path.join(copy, 'data.yaml'), 'utf8');
    const abs = path.join(tmp, 'rbc8-abs.yaml');
    await fs.writeFile(abs, text.replace(/^path:.*$/m, `path: ${copy}`));
    const absDs = await readYolo(abs);
    expect(absDs.root).toBe(copy);
    expect(absDs.images.map((i) => [i.name, i.objects.length])).toEqual(ds.images.map((i) => [i.name, i.objects.length]));
    expect(absDs.notes).toEqual([]);
    await fs.writeFile(path.join(copy, 'data.yaml'), text.replace(/^path:.*$/m, 'path: ../datasets/rbc8'));
    const missing = await readYolo(path.join(copy, 'data.yaml'));
    expect(missing.root).toBe(copy);
    expect(missing.images).toHaveLength(8);
    expect(missing.notes).toContainEqual(expect.objectContaining({ code: 'path-not-found', severity: 'info' }));
  });

  // coco8 is AGPL (Ultralytics): read from ../shared/data, never copied
  itShared('coco8: its path (../datasets/coco8) overridden, real sizes, every label line read', async () => {
    const coco8 = shared('real/coco8-ultralytics');
    const text = await fs.readFile(path.join(coco8, 'coco8.yaml'), 'utf8');
    const yaml = path.join(tmp, 'coco8.yaml');
    await fs.writeFile(yaml, text.replace(/^path:.*$/m, `path: ${coco8}`));
    const ds = await readYolo(yaml);
    expect(ds.root).toBe(coco8);
    expect(ds.categories).toHaveLength(80);
    expect(ds.images.map((i) => i.subset)).toEqual(['train', 'train', 'train', 'train', 'val', 'val', 'val', 'val']);
    expect(ds.images.reduce((n, i) => n + i.objects.length, 0)).toBe(30);
    const img36 = ds.images.find((i) => i.name === 'images/val/000000000036.jpg')!;
    expect([img36.width, img36.height]).toEqual([481, 640]);
    // `0 0.671279 0.617945 0.645759 0.726859` -> person
    const person = img36.objects.find((o) => o.category === 'person')!;
    person.bbox.forEach((v, i) => expect(v).toBeCloseTo([167.578, 162.893, 310.61, 465.19][i]!, 2));
    expect(ds.notes).toEqual([]);

    // the yaml as shipped: its path does not exist here, so the yaml's folder is the root (and we say so)
    const asIs = await readYolo(path.join(coco8, 'coco8.yaml'));
    expect(asIs.images).toHaveLength(8);
    expect(asIs.notes).toContainEqual(expect.objectContaining({ code: 'path-not-found', severity: 'info' }));
  });
});

describe('CVAT YOLO 1.1 and loose folders', () => {
  test.each([['yolo'], ['openvino/strict']])('%s: obj.data, obj.names, train.txt with data/ paths', async (dir) => {
    for (const input of [path.join(FIX, dir), path.join(FIX, dir, 'obj.data')]) {
      const ds = await readYolo(input);
      expect(ds.categories).toEqual(LABELS10);
      expect(ds.files.map((f) => path.basename(f))).toEqual(['obj.data', 'obj.names', 'train.txt']);
      expectDatumaroImage(ds, 'obj_train_data/1.jpg', 'train');
    }
  });

  test('images/<split> + labels/<split> with obj.names, no yaml', async () => {
    const ds = await readYolo(path.join(FIX, 'openvino/labels'));
    expect(ds.categories).toEqual(LABELS10);
    expect(ds.images.map((i) => [i.subset, i.name, i.objects.length])).toEqual([
      ['train', 'images/train/1.jpg', 2],
      ['val', 'images/val/1.jpg', 2],
    ]);
  });

  test('Images/ + Annotations/ folders', async () => {
    const ds = await readYolo(path.join(FIX, 'openvino/annotations'));
    expectDatumaroImage(ds, 'Images/1.jpg', undefined);
  });

  test('images with .txt beside them and no class names: classes named by id', async () => {
    const ds = await readYolo(path.join(FIX, 'kaggle_relaxed_yolo'));
    expect(ds.categories).toEqual(['0', '1', '2', '3', '4']);
    expect(ds.images.map((i) => i.objects.map((o) => o.category))).toEqual([
      ['2', '4'],
      ['1', '3'],
    ]);
    expect(ds.notes).toContainEqual(expect.objectContaining({ code: 'no-names' }));
  });
});

describe('YOLO layouts we refuse rather than misread', () => {
  test.each([
    ['yolov8_oriented_boxes', /YOLO OBB datasets are not supported yet/, 'labels/train/1.txt'],
    ['roboflow_yolo_obb/data.yaml', /YOLO OBB datasets are not supported yet/, 'train/labelTxt'],
    ['yolov8_pose/data.yaml', /pose datasets/, 'data.yaml'],
    ['yolov8_pose_two_values_per_point', /pose datasets/, 'data.yaml'],
    ['yolov8_classification', /classification datasets/, ''],
  ])('%s', async (input, message, file) => {
    const err = await expectImportError(readYolo(path.join(FIX, input)));
    expect(err.message).toMatch(message);
    const base = input.endsWith('.yaml') ? path.dirname(input) : input;
    expect(err.file).toBe(path.join(FIX, base, file));
  });

  test('4-point polygons that are not rectangles are segmentation, not OBB', async () => {
    const dir = await copyFixture('yolov8_segmentation', path.join(tmp, 'quads'));
    await fs.writeFile(path.join(dir, 'labels/train/1.txt'), '1 0.1 0.1 0.5 0.2 0.4 0.8 0.05 0.6\n');
    const ds = await readYolo(dir);
    expect(ds.images[0]!.objects[0]).toMatchObject({ category: 'label_1', origin: 'yolo-polygon' });
  });
});

describe('bad YOLO input', () => {
  test('malformed lines are noted with file and line, and skipped', async () => {
    const dir = await copyFixture('yolov8_detection', path.join(tmp, 'malformed'));
    const label = path.join(dir, 'labels/train/1.txt');
    await fs.writeFile(
      label,
      [
        '2 0.133333 0.300000 0.266667 0.200000',
        '2 0.5 0.5',
        'car 0.5 0.5 0.1 0.1',
        '1.5 0.5 0.5 0.1 0.1',
        '3 0.5 0.5 -0.1 0.2',
        '',
        '12 0.5 0.5 0.1 0.1',
        '4 0.1 0.1 0.2 0.1 0.2 0.2 0.3',
        '4 0.266667 0.450000 0.133333 0.300000',
      ].join('\n'),
    );
    const ds = await readYolo(dir);
    expect(ds.images[0]!.objects.map((o) => o.ref)).toEqual(['images/train/1.jpg line 1', 'images/train/1.jpg line 9']);
    const bad = ds.notes.filter((n) => n.code === 'malformed-label');
    expect(bad.map((n) => n.item)).toEqual(['line 2', 'line 3', 'line 4', 'line 5', 'line 8']);
    expect(bad.every((n) => n.file === label && n.severity === 'error')).toBe(true);
    expect(ds.notes).toContainEqual(expect.objectContaining({ code: 'class-out-of-range', file: label, item: 'line 7' }));
  });

  test('a missing label file is a negative; a corrupt image is kept, without objects, and noted', async () => {
    const dir = await copyFixture('roboflow_yolo', path.join(tmp, 'corrupt'));
    await fs.rm(path.join(dir, 'train/labels/train_002.txt'));
    const jpg = path.join(dir, 'val/images/val_001.jpg');
    await fs.writeFile(jpg, (await fs.readFile(jpg)).subarray(0, 6));
    const ds = await readYolo(path.join(dir, 'data.yaml'));
    const byName = new Map(ds.images.map((i) => [i.name, i]));
    expect(byName.get('train/images/train_002.jpg')!.objects).toEqual([]);
    expect(ds.counts.label_files_missing).toBe(1);
    const corrupt = byName.get('val/images/val_001.jpg')!;
    expect(corrupt.path).toBe(jpg);
    expect(corrupt.objects).toEqual([]);
    expect(ds.notes).toContainEqual(expect.objectContaining({ code: 'corrupt-image', file: jpg, severity: 'error' }));
  });

  test('EXIF orientation: boxes are scaled to the upright image, as Ultralytics does', async () => {
    const dir = await copyFixture('yolov8_detection', path.join(tmp, 'exif'));
    // the real fixture image re-saved with EXIF orientation 6 (stored 15x10, shown 10x15)
    await sharp(path.join(FIX, 'yolov8_detection/images/train/1.jpg')).withMetadata({ orientation: 6 }).toFile(path.join(dir, 'images/train/1.jpg'));
    const img = (await readYolo(dir)).images[0]!;
    expect([img.width, img.height]).toEqual([10, 15]);
    img.objects[0]!.bbox.forEach((v, i) => expect(v).toBeCloseTo([0, 3, 2.66667, 3][i]!, 4));
  });

  test('malformed YAML names the file and line', async () => {
    const file = path.join(tmp, 'bad.yaml');
    await fs.writeFile(file, 'train: images/train\nnames: [a, b\nval: x\n');
    const err = await expectImportError(readYolo(file));
    expect(err.file).toBe(file);
    expect(err.message).toMatch(/malformed YAML/);
    expect(err.item).toMatch(/^line \d+, column \d+$/);
  });

  test('a yaml whose splits hold no images', async () => {
    const file = path.join(tmp, 'empty', 'data.yaml');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, 'train: images/train\nval: images/val\nnames: [a]\n');
    const err = await expectImportError(readYolo(file));
    expect(err.message).toMatch(/no images found/);
  });

  test('a folder path with spaces and Cyrillic', async () => {
    const dir = await copyFixture('roboflow_yolo', path.join(tmp, 'папка с пробелами', 'набор данных'));
    const ds = await readYolo(path.join(dir, 'data.yaml'));
    expect(ds.images).toHaveLength(3);
    expect(ds.images.reduce((n, i) => n + i.objects.length, 0)).toBe(4);
    for (const img of ds.images) await expect(fs.access(img.path!)).resolves.toBeUndefined();
    const cvat11 = await copyFixture('yolo', path.join(tmp, 'папка с пробелами', 'yolo 1.1'));
    expectDatumaroImage(await readYolo(cvat11), 'obj_train_data/1.jpg', 'train');
  });

  test("Ultralytics' label rule: the last /images/ becomes /labels/", () => {
    const p = path.join('/data', 'images', 'set', 'images', 'train', 'a.b.jpg');
    expect(ultralyticsLabelPath(p)).toBe(path.join('/data', 'images', 'set', 'labels', 'train', 'a.b.txt'));
    expect(ultralyticsLabelPath(path.join('/x', 'obj_train_data', '1.png'))).toBe(path.join('/x', 'obj_train_data', '1.txt'));
  });
});
