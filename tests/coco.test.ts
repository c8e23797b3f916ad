import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CocoFlavourError, readCoco } from '../electron/core/datasets/formats/coco.js';
import { ImportError, type SourceDataset } from '../electron/core/datasets/model.js';
import { CancelledError } from '../electron/core/jobs/jobs.js';
import { REPO_ROOT, fixture, rbc } from './helpers/shared.js';

const FIX = path.join(REPO_ROOT, 'tests/fixtures/coco');
const INSTANCES = path.join(FIX, 'coco_instances/annotations');
const TRAFFIC = fixture('urban-traffic-video-task-coco', 'annotations', 'instances_default.json');
const RBC = rbc();

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spotter-coco-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** write a COCO JSON into the temp dir (under `rel`) and return its path */
function writeCoco(rel: string, data: unknown): string {
  const p = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, typeof data === 'string' ? data : JSON.stringify(data));
  return p;
}

type Item = Record<string, unknown>;
const base = (over: Item = {}): { images: Item[]; annotations: Item[]; [k: string]: unknown } => ({
  info: {},
  licenses: [],
  categories: [{ id: 1, name: 'car' }, { id: 2, name: 'person' }],
  images: [
    { id: 1, file_name: 'a.jpg', width: 100, height: 80 },
    { id: 2, file_name: 'sub\\b.jpg', width: 100, height: 80 },
    { id: 3, file_name: 'c.jpg', width: 100, height: 80 },
  ],
  annotations: [
    { id: 10, image_id: 1, category_id: 1, bbox: [1, 2, 30, 40], segmentation: [], iscrowd: 0 },
    { id: 11, image_id: 2, category_id: 2, bbox: [5, 5, 10, 10], iscrowd: 0 },
  ],
  ...over,
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

const codes = (d: SourceDataset) => d.notes.map((n) => n.code);

describe('readCoco on Datumaro fixtures', () => {
  it('reads the polygon and the uncompressed RLE crowd mask of coco_instances val', async () => {
    const d = await readCoco(path.join(INSTANCES, 'instances_val.json'));
    expect(d.format).toBe('coco');
    expect(d.root).toBe(path.join(FIX, 'coco_instances'));
    // ids 1, 2, 4 (a gap): names in id order, not shifted
    expect(d.categories).toEqual(['a', 'b', 'c']);
    expect(d.images).toHaveLength(1);
    const img = d.images[0]!;
    expect(img).toMatchObject({ name: 'b.jpg', subset: 'val', width: 5, height: 10, ref: 'image id 40' });
    const [poly, crowd] = img.objects;
    expect(poly).toEqual({ category: 'a', bbox: [0, 0, 1, 2], polygons: [[0, 0, 1, 0, 1, 2, 0, 2]], origin: 'polygon', ref: 'annotation id 1' });
    // size [10, 5] = 10 high, 5 wide; counts [0, 20, 30] in column order: no background, then 20 object
    // pixels = columns 0 and 1 top to bottom, then 30 background = columns 2-4. So a 2x10 strip at the
    // left edge: box [0, 0, 2, 10] (the file's own bbox [0, 0, 1, 9] is Datumaro's off-by-one) and an
    // outline along the pixel edges 0,0 -> 2,0 -> 2,10 -> 0,10.
    expect(crowd).toEqual({
      category: 'b', bbox: [0, 0, 2, 10], polygons: [[0, 0, 2, 0, 2, 10, 0, 10]], origin: 'rle', iscrowd: true, ref: 'annotation id 2',
    });
    expect(d.counts).toMatchObject({ images: 1, annotations: 2, objects: 2, rle_decoded: 1, polygons: 1, crowd: 1, negatives: 0 });
    // licenses[0] has an empty name: nothing to record
    expect(d.licenses).toEqual([]);
    expect(d.notes).toEqual([]);
  });

  it('drops crowd objects when asked, and counts them', async () => {
    const d = await readCoco(path.join(INSTANCES, 'instances_val.json'), { keepCrowd: false });
    expect(d.images[0]!.objects.map((o) => o.origin)).toEqual(['polygon']);
    expect(d.counts).toMatchObject({ crowd: 1, crowd_dropped: 1, objects: 1, rle_decoded: 0 });
  });

  it('reads a box with an empty segmentation list as a box; subset from instances_train', async () => {
    const d = await readCoco(path.join(INSTANCES, 'instances_train.json'));
    expect(d.images[0]).toMatchObject({ name: 'a.jpg', subset: 'train', width: 10, height: 5 });
    expect(d.images[0]!.objects).toEqual([{ category: 'b', bbox: [2, 2, 3, 1], origin: 'box', ref: 'annotation id 1' }]);
  });

  it('decodes a two-part stuff RLE into two polygons and one pycocotools box', async () => {
    const d = await readCoco(path.join(FIX, 'flavours/stuff_train.json'));
    // 5 high, 10 wide; counts [10,10,5,10,15]: columns 0-1 empty, 2-3 full, 4 empty, 5-6 full
    expect(d.images[0]!.objects[0]).toMatchObject({
      bbox: [2, 0, 5, 5], polygons: [[2, 0, 4, 0, 4, 5, 2, 5], [5, 0, 7, 0, 7, 5, 5, 5]], origin: 'rle', iscrowd: true,
    });
  });

  it('reads the boxes of a keypoints file and says the keypoints are ignored', async () => {
    const d = await readCoco(path.join(FIX, 'flavours/person_keypoints_train.json'));
    expect(d.images[0]!.objects).toHaveLength(1);
    expect(d.counts.keypoints_ignored).toBe(1);
    expect(codes(d)).toContain('keypoints-ignored');
  });

  it.each([
    ['captions_train.json', 'captions', /holds captions, not object annotations/],
    ['labels_train.json', 'labels', /image-level labels only/],
    ['image_info_train.json', 'image_info', /only an image list/],
    ['panoptic_train.json', 'panoptic', /panoptic segmentation/],
  ])('refuses %s with a message saying what it holds', async (file, flavour, msg) => {
    const e = await rejection(readCoco(path.join(FIX, 'flavours', file)));
    expect(e).toBeInstanceOf(CocoFlavourError);
    expect((e as CocoFlavourError).flavour).toBe(flavour);
    expect(e.message).toMatch(msg);
    expect(e.message).toContain(file);
  });
});

describe('readCoco on real exports', () => {
  it('CVAT video-task COCO: one sequence in frame order, track ids on objects, no split', async () => {
    const d = await readCoco(TRAFFIC);
    expect(d.categories).toEqual(['Car', 'Bus', 'Truck', 'Tram', 'Pedestrian']);
    expect(d.counts).toMatchObject({ images: 463, annotations: 6355, objects: 6355, negatives: 0, rle_decoded: 0 });
    const ids = new Set(d.images.map((i) => i.sequence?.id));
    expect([...ids]).toEqual(['urban-traffic-video-task-coco']);
    for (const img of d.images) {
      expect(img.subset).toBeUndefined(); // CVAT's "default" subset is not a split
      expect(img.sequence!.frame).toBe(Number(/frame_(\d+)/.exec(img.name)![1]));
    }
    expect(d.images.at(-1)).toMatchObject({ name: 'frame_000462.png', sequence: { frame: 462 } });
    const objects = d.images.flatMap((i) => i.objects);
    expect(objects.every((o) => o.trackId !== undefined)).toBe(true);
    expect(new Set(objects.map((o) => o.trackId)).size).toBe(32);
    expect(d.images[0]!.objects[0]).toEqual({
      category: 'Car', bbox: [452.1, 559.85, 244.7, 157.57], origin: 'box', trackId: '17', ref: 'annotation id 1',
    });
  });

  it('Roboflow blood cells: placeholder category kept in the declared list, subsets from folders, licence', async () => {
    const d = await readCoco(path.join(RBC, 'train/_annotations.coco.json'));
    // the unused Roboflow placeholder 0 stays here; dropping unused classes is the mapper's job
    expect(d.categories).toEqual(['RBC-WBC', 'rbc', 'wbc']);
    expect(d.counts).toMatchObject({ images: 210, annotations: 4947, objects: 4947, negatives: 0, crowd: 0 });
    expect(d.images.every((i) => i.subset === 'train' && i.width === 416 && i.height === 416 && !i.sequence)).toBe(true);
    const perClass = new Map<string, number>();
    for (const o of d.images.flatMap((i) => i.objects)) perClass.set(o.category, (perClass.get(o.category) ?? 0) + 1);
    expect(Object.fromEntries(perClass)).toEqual({ rbc: 4725, wbc: 222 });
    expect(d.licenses).toEqual([
      { name: 'Public Domain', url: 'https://creativecommons.org/publicdomain/zero/1.0/', source: '_annotations.coco.json licenses[0]' },
    ]);
    const valid = await readCoco(path.join(RBC, 'valid/_annotations.coco.json'));
    expect(new Set(valid.images.map((i) => i.subset))).toEqual(new Set(['valid']));
    const forced = await readCoco(path.join(RBC, 'valid/_annotations.coco.json'), { subset: 'test' });
    expect(forced.images[0]!.subset).toBe('test');
  });
});

describe('readCoco on bad and unusual input', () => {
  it('truncated JSON: an ImportError naming the file and where it ends', async () => {
    const text = fs.readFileSync(path.join(INSTANCES, 'instances_val.json'), 'utf8');
    const p = writeCoco('truncated/instances_val.json', text.slice(0, 700));
    const e = await rejection(readCoco(p));
    expect(e).toBeInstanceOf(ImportError);
    expect((e as ImportError).file).toBe(p);
    const line = text.slice(0, 700).split('\n').length;
    expect(e.message).toContain(p);
    expect(e.message).toMatch(new RegExp(`malformed JSON at the end of the file \\(line ${line}, .*truncated`));
  });

  it('malformed JSON in the middle: line and column of the error', async () => {
    const p = writeCoco('malformed/instances_x.json', '{\n  "images": [\n    {"id": 1,, "file_name": "a.jpg"}\n  ]\n}\n');
    const e = await rejection(readCoco(p));
    expect(e).toBeInstanceOf(ImportError);
    // the second comma on line 3
    expect(e.message).toMatch(/malformed JSON at line 3, column 14: Expected double-quoted property name/);
  });

  it('NaN written by Python: V8 gives no position, we still find it', async () => {
    const p = writeCoco('nan/instances_x.json', '{"images": [],\n "annotations": [{"id": 1, "bbox": [1, 2, NaN, 4]}]}');
    const e = await rejection(readCoco(p));
    expect(e.message).toMatch(/at line 2, column 43: Unexpected token 'N' \(NaN and Infinity are not JSON/);
    expect((await rejection(readCoco(writeCoco('empty/instances_x.json', '  \n')))).message).toMatch(/the file is empty/);
  });

  it('not COCO at all', async () => {
    const e = await rejection(readCoco(writeCoco('labelme.json', { shapes: [], imagePath: 'a.jpg' })));
    expect(e).toBeInstanceOf(CocoFlavourError);
    expect(e.message).toMatch(/not a COCO annotation file/);
  });

  it('unknown category id: an error note naming the annotation and the id; the rest is read', async () => {
    const data = base();
    data.annotations.push({ id: 12, image_id: 3, category_id: 7, bbox: [1, 1, 5, 5], iscrowd: 0 });
    const p = writeCoco('unknown-cat/annotations.json', data);
    const d = await readCoco(p);
    const n = d.notes.find((x) => x.code === 'unknown-category')!;
    expect(n).toMatchObject({ severity: 'error', file: p, item: 'annotation id 12' });
    expect(n.message).toMatch(/category id 7/);
    expect(d.counts.objects).toBe(2);
    // image 3 had an annotation but none was usable: not counted as a negative
    expect(d.counts).toMatchObject({ negatives: 0, emptied_images: 1 });
    expect(d.images.map((i) => i.name)).toEqual(['a.jpg', 'sub/b.jpg', 'c.jpg']);
  });

  it('duplicate image ids are fatal, naming the id', async () => {
    const data = base();
    data.images.push({ id: 3, file_name: 'd.jpg', width: 1, height: 1 });
    const e = await rejection(readCoco(writeCoco('dup-images/annotations.json', data)));
    expect(e).toBeInstanceOf(ImportError);
    expect((e as ImportError).item).toBe('image id 3');
    expect(e.message).toMatch(/image id 3 is declared more than once/);
  });

  it('one category id with two names is fatal; one name under two ids is merged', async () => {
    const clash = base({ categories: [{ id: 1, name: 'car' }, { id: 1, name: 'truck' }] });
    const e = await rejection(readCoco(writeCoco('cat-clash/annotations.json', clash)));
    expect(e.message).toMatch(/category id 1 is declared twice, as "car" and "truck"/);

    const merged = base({ categories: [{ id: 5, name: 'person' }, { id: 1, name: 'car' }, { id: 2, name: 'person' }] });
    merged.annotations.push({ id: 12, image_id: 3, category_id: 5, bbox: [0, 0, 2, 2], iscrowd: 0 });
    const d = await readCoco(writeCoco('cat-merge/annotations.json', merged));
    expect(d.categories).toEqual(['car', 'person']);
    expect(d.images.flatMap((i) => i.objects.map((o) => o.category))).toEqual(['car', 'person', 'person']);
    expect(d.notes.find((x) => x.code === 'merged-category')!.message).toMatch(/"person" is declared under ids 5, 2/);
  });

  it('reports missing fields and unusable geometry per item and counts negatives', async () => {
    const data = base();
    data.images.push({ id: 4, width: 10, height: 10 }, { id: 5, file_name: 'e.jpg' });
    data.annotations.push(
      { id: 20, category_id: 1, bbox: [0, 0, 1, 1], iscrowd: 0 },
      { id: 21, image_id: 4, category_id: 1, bbox: [0, 0, 1, 1], iscrowd: 0 },
      { id: 22, image_id: 3, category_id: 1, bbox: [5, 5, 0, 10], segmentation: [], iscrowd: 0 },
      { id: 23, image_id: 3, category_id: 1, iscrowd: 0 },
      { id: 24, image_id: 3, category_id: 2, bbox: [0, 0, 0, 0], segmentation: [[1, 1, 2, 2], [0, 0, 4, 0, 4, 3, 0, 3]], iscrowd: 0 },
    );
    const d = await readCoco(writeCoco('fields/annotations.json', data));
    const byItem = Object.fromEntries(d.notes.filter((n) => n.item).map((n) => [n.item, n]));
    expect(byItem['image id 4']).toMatchObject({ code: 'bad-image', severity: 'error' });
    expect(byItem['annotation id 20']!.code).toBe('unknown-image');
    expect(byItem['annotation id 21']!.message).toMatch(/image entry was skipped/);
    expect(byItem['annotation id 22']).toMatchObject({ code: 'degenerate-box', severity: 'warning' });
    expect(byItem['annotation id 23']!.code).toBe('missing-geometry');
    // the image without a declared size is kept; the size is checked against the file later
    const e = d.images.find((i) => i.name === 'e.jpg')!;
    expect([e.width, e.height, e.objects]).toEqual([undefined, undefined, []]);
    // the 2-point part is dropped, the box comes from the remaining polygon
    const poly = d.images.find((i) => i.name === 'c.jpg')!.objects;
    expect(poly).toEqual([{ category: 'person', bbox: [0, 0, 4, 3], polygons: [[0, 0, 4, 0, 4, 3, 0, 3]], origin: 'polygon', ref: 'annotation id 24' }]);
    expect(d.counts).toMatchObject({ polygon_parts_dropped: 1, polygons: 1, degenerate_boxes: 1, negatives: 1 });
  });

  it('decodes a compressed RLE string (pycocotools encoding) into polygons and its box', async () => {
    // 4 high, 6 wide; object pixels (column order) 9-10 = column 2 rows 1-2 and 13 = column 3 row 1:
    //   ......
    //   ..##..
    //   ..#...
    //   ......
    // counts [9, 2, 2, 1, 10]; the string per pycocotools: 9 -> "9", 2 -> "2", 2 -> "2",
    // then deltas 1-2 = -1 -> "O" (31|sign), 10-2 = 8 -> "8"
    const data = base();
    data.annotations.push({
      id: 30, image_id: 3, category_id: 1, segmentation: { size: [4, 6], counts: '922O8' }, bbox: [2, 1, 2, 2], iscrowd: 1,
    });
    const d = await readCoco(writeCoco('compressed/annotations.json', data));
    const o = d.images.find((i) => i.name === 'c.jpg')!.objects[0]!;
    expect(o).toMatchObject({ bbox: [2, 1, 2, 2], polygons: [[2, 1, 4, 1, 4, 2, 3, 2, 3, 3, 2, 3]], origin: 'rle', iscrowd: true });
    expect(d.counts.rle_decoded).toBe(1);
    // the RLE is 6x4 but the image says 100x80
    expect(codes(d)).toContain('rle-size-mismatch');
  });

  it('a list of RLEs for one object is decoded as one object', async () => {
    const data = base();
    // two 3x3 masks: the top-left pixel, and the bottom-right pixel
    data.annotations.push({ id: 32, image_id: 3, category_id: 1, iscrowd: 1, segmentation: [{ size: [3, 3], counts: [0, 1, 8] }, { size: [3, 3], counts: [8, 1] }] });
    const d = await readCoco(writeCoco('rle-list/annotations.json', data));
    expect(d.images[2]!.objects[0]).toMatchObject({ bbox: [0, 0, 3, 3], polygons: [[0, 0, 1, 0, 1, 1, 0, 1], [2, 2, 3, 2, 3, 3, 2, 3]], origin: 'rle' });
  });

  it('a broken RLE falls back to the box with an error note', async () => {
    const data = base();
    data.annotations.push({ id: 31, image_id: 3, category_id: 1, segmentation: { size: [80, 100], counts: [0, 5] }, bbox: [1, 1, 2, 2], iscrowd: 1 });
    const d = await readCoco(writeCoco('bad-rle/annotations.json', data));
    expect(d.images[2]!.objects[0]).toMatchObject({ bbox: [1, 1, 2, 2], origin: 'box', iscrowd: true });
    expect(d.notes.find((n) => n.code === 'bad-rle')).toMatchObject({ item: 'annotation id 31', severity: 'error' });
  });

  it('CVAT rotated boxes become their axis-aligned bounds', async () => {
    const data = base();
    data.annotations[0] = { id: 10, image_id: 1, category_id: 1, bbox: [10, 20, 40, 20], iscrowd: 0, attributes: { rotation: 90 } };
    const d = await readCoco(writeCoco('rotated/annotations.json', data));
    const o = d.images[0]!.objects[0]!;
    expect(o.origin).toBe('rotated-box');
    // centre (30, 30); rotated by 90 degrees the 40x20 box stands 20 wide, 40 high
    expect(o.bbox.map((v) => Math.round(v * 1e9) / 1e9)).toEqual([20, 10, 20, 40]);
    expect(d.counts.rotated_boxes).toBe(1);
  });

  it('frames of a video: frame_NNNNNN names, and COCO-VID video_id / frame_id', async () => {
    const frames = base({
      images: [
        { id: 1, file_name: 'frame_000010.jpg', width: 10, height: 10 },
        { id: 2, file_name: 'frame_000002.jpg', width: 10, height: 10 },
      ],
      annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 1, 1], iscrowd: 0 }],
    });
    const d = await readCoco(writeCoco('task_7/annotations/instances_default.json', frames));
    expect(d.images.map((i) => i.sequence)).toEqual([{ id: 'task_7', frame: 10 }, { id: 'task_7', frame: 2 }]);
    expect(d.counts.negatives).toBe(1);

    const vid = base({
      videos: [{ id: 1, name: 'walk/' }, { id: 2, name: 'ride' }],
      images: [
        { id: 1, file_name: 'walk/0003.jpg', video_id: 1, frame_id: 3 },
        { id: 2, file_name: 'ride/a.jpg', video_id: 2 },
        { id: 3, file_name: 'ride/b.jpg', video_id: 2 },
      ],
      annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 1, 1], iscrowd: 0 }],
    });
    const v = await readCoco(writeCoco('vid/instances_val.json', vid));
    expect(v.images.map((i) => i.sequence)).toEqual([{ id: 'walk', frame: 3 }, { id: 'ride', frame: 0 }, { id: 'ride', frame: 1 }]);
    // plain still images: no sequence
    const still = await readCoco(writeCoco('still/annotations.json', base()));
    expect(still.images.every((i) => i.sequence === undefined)).toBe(true);
  });

  it('licences from licenses[] and from info', async () => {
    const d = await readCoco(writeCoco('lic/annotations.json', base({
      licenses: [{ id: 1, name: '', url: '' }, { id: 2, name: 'CC BY 4.0', url: 'https://creativecommons.org/licenses/by/4.0/' }],
      info: { description: 'drains on slopes', contributor: 'Released under the Creative Commons Attribution licence', url: 'https://example.org/data' },
    })));
    expect(d.licenses).toEqual([
      { name: 'CC BY 4.0', url: 'https://creativecommons.org/licenses/by/4.0/', source: 'annotations.json licenses[1]' },
      { name: 'Released under the Creative Commons Attribution licence', url: 'https://example.org/data', source: 'annotations.json info.contributor' },
    ]);
  });

  it('a systematic problem gives a bounded number of notes plus a summary', async () => {
    const data = base({ annotations: Array.from({ length: 250 }, (_, i) => ({ id: i, image_id: 1, category_id: 9, bbox: [0, 0, 1, 1], iscrowd: 0 })) });
    const d = await readCoco(writeCoco('many/annotations.json', data));
    const unknown = d.notes.filter((n) => n.code === 'unknown-category');
    expect(unknown).toHaveLength(101);
    expect(unknown.at(-1)!.message).toMatch(/150 more/);
  });

  it('stops when cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(readCoco(path.join(INSTANCES, 'instances_val.json'), { signal: ac.signal })).rejects.toBeInstanceOf(CancelledError);
  });
});
