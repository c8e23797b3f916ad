import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readCvatXml, rotatedBoxCorners } from '../electron/core/datasets/formats/cvat.js';
import { CancelledError } from '../electron/core/jobs/jobs.js';
import { REPO_ROOT } from './helpers/shared.js';
import { expectImportError } from './helpers/core.js';

const FIX = path.join(REPO_ROOT, 'tests/fixtures/cvat');
let tmp: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'spotter-cvat-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('CVAT for images 1.1', () => {
  test('task export: boxes, skipped kinds counted, unlabeled shapes noted, images found', async () => {
    const ds = await readCvatXml(path.join(FIX, 'for_images/train.xml'));
    expect(ds.format).toBe('cvat-images');
    // skeleton parts (labels with <parent>) are not categories
    expect(ds.categories).toEqual(['label1', 'label2', 'skeleton']);
    expect(ds.images.map((i) => i.name)).toEqual(['img0.jpg', 'img1.jpg']);
    const [img0, img1] = ds.images;
    expect(img0!.path).toBe(path.join(FIX, 'for_images/images/img0.jpg'));
    expect(img1!.path).toBe(path.join(FIX, 'for_images/images/img1.jpg'));
    expect([img0!.width, img0!.height]).toEqual([8, 8]);
    expect(img0!.objects).toEqual([{ category: 'label1', bbox: [0, 2, 4, 2], origin: 'box', ref: 'image id 0 box #1' }]);
    // the polygon of img1 has label="": not an object
    expect(img1!.objects).toEqual([]);
    expect(ds.counts).toMatchObject({ skipped_polylines: 1, skipped_points: 1, skipped_skeletons: 2, skipped_unlabeled: 1 });
    // the points inside the skeletons are part of them, not counted on their own
    expect(ds.counts.skipped_points).toBe(1);
    expect(ds.notes).toContainEqual(expect.objectContaining({ code: 'no-label', item: 'image id 1 polygon #1', file: path.join(FIX, 'for_images/train.xml') }));
  });

  test('project export: subsets from the image attribute, images under images/<Subset>/, polygons', async () => {
    const ds = await readCvatXml(path.join(FIX, 'export_project/annotations.xml'));
    expect(ds.format).toBe('cvat-images');
    expect(ds.categories).toEqual(['label1', 'label2']);
    expect(ds.images.map((i) => `${i.subset}/${i.name}`)).toEqual([
      'Test/img0.jpg',
      'Test/img1.jpg',
      'Train/img0.jpg',
      'Train/img1.jpg',
      'Validation/img0.jpg',
      'Validation/img1.jpg',
    ]);
    for (const img of ds.images) {
      expect(img.path).toBe(path.join(FIX, 'export_project/images', img.subset!, img.name));
      // task_id="39" is declared in <meta><project><tasks> with the name "Test"
      expect(img.groupHint).toBe('Test');
    }
    const poly = ds.images[1]!.objects[0]!;
    expect(poly).toMatchObject({ category: 'label1', origin: 'polygon', bbox: [1, 2, 5, 3], polygons: [[1, 2, 3, 4, 6, 5]] });
    expect(ds.counts).toEqual({ skipped_polylines: 3, skipped_points: 3 });
  });

  test('rotated boxes become axis-aligned bounds (counted); masks are decoded; rotation 0 is a plain box', async () => {
    const dir = path.join(tmp, 'rotated');
    await fs.mkdir(path.join(dir, 'images'), { recursive: true });
    await fs.copyFile(path.join(FIX, 'for_images/images/img0.jpg'), path.join(dir, 'images/frame_000000.jpg'));
    // CVAT writes video-task frames in "for images" exports without an extension
    await fs.writeFile(
      path.join(dir, 'annotations.xml'),
      `<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><task><id>7</id><name>cells</name><labels><label><name>cell</name></label></labels></task></meta>
  <image id="0" name="frame_000000" width="100" height="80" subset="default" task_id="7">
    <box label="cell" source="manual" occluded="0" xtl="10" ytl="10" xbr="30" ybr="20" rotation="90.0" z_order="0"/>
    <box label="cell" source="manual" occluded="0" xtl="40" ytl="40" xbr="50" ybr="50" rotation="45" z_order="0"/>
    <box label="cell" source="manual" occluded="0" xtl="1" ytl="2" xbr="3" ybr="4" rotation="0.00" z_order="0"/>
    <mask label="cell" source="manual" occluded="0" rle="1, 4, 1" left="1" top="2" width="3" height="2" z_order="0"/>
    <mask label="cell" source="manual" occluded="0" rle="1, 99" left="0" top="0" width="3" height="2" z_order="0"/>
    <tag label="cell" source="manual"/>
    <ellipse label="cell" cx="5" cy="5" rx="2" ry="3" occluded="0"/>
  </image>
</annotations>
`,
    );
    const ds = await readCvatXml(path.join(dir, 'annotations.xml'));
    const img = ds.images[0]!;
    expect(img.path).toBe(path.join(dir, 'images/frame_000000.jpg'));
    expect(img.subset).toBeUndefined(); // CVAT's "default" is not a split
    expect(img.groupHint).toBe('cells');
    expect(ds.counts).toMatchObject({ rotated_boxes: 2, masks_decoded: 1, skipped_tags: 1, skipped_ellipses: 1, skipped_malformed: 1 });
    const [r90, r45, plain, mask] = img.objects;
    expect(r90!.origin).toBe('rotated-box');
    r90!.bbox.forEach((v, i) => expect(v).toBeCloseTo([15, 5, 10, 20][i]!, 9));
    const half = 5 * Math.SQRT2;
    r45!.bbox.forEach((v, i) => expect(v).toBeCloseTo([45 - half, 45 - half, 2 * half, 2 * half][i]!, 9));
    expect(r45!.polygons![0]).toHaveLength(8);
    expect(plain).toMatchObject({ origin: 'box', bbox: [1, 2, 2, 2] });
    expect(plain!.polygons).toBeUndefined();
    // runs over the 3x2 box: 1 background, 4 foreground, 1 background -> pixels (1,0),(2,0),(0,1),(1,1)
    expect(mask).toMatchObject({ origin: 'mask', category: 'cell', bbox: [1, 2, 3, 2] });
    expect(mask!.polygons!.length).toBeGreaterThan(0);
    expect(ds.notes).toContainEqual(expect.objectContaining({ code: 'malformed-mask', severity: 'error', item: 'image id 0 (default) mask #5' }));
  });

  test('rotation turns clockwise on screen around the centre', () => {
    const c = rotatedBoxCorners(0, 0, 2, 2, 90);
    // top-left corner (0,0) goes to top-right (2,0)
    expect(c[0]).toBeCloseTo(2, 9);
    expect(c[1]).toBeCloseTo(0, 9);
  });
});

describe('CVAT for video 1.1', () => {
  test('per-frame shapes of tracks, outside frames skipped, every frame of the range an image', async () => {
    const ds = await readCvatXml(path.join(FIX, 'for_video/annotations.xml'));
    expect(ds.format).toBe('cvat-video');
    expect(ds.categories).toEqual(['klhg', 'z U k', 'II', 'skeleton']);
    // start_frame 10, stop_frame 19, frame_filter step=3
    expect(ds.images.map((i) => i.sequence)).toEqual([10, 13, 16, 19].map((frame) => ({ id: 'v1', frame })));
    expect(ds.images.map((i) => i.name)).toEqual(['frame_000010.png', 'frame_000013.png', 'frame_000016.png', 'frame_000019.png']);
    expect(ds.images[0]!.path).toBe(path.join(FIX, 'for_video/images/frame_000010.png'));
    expect(ds.images[2]!.path).toBeUndefined(); // not in this export's folder
    for (const img of ds.images) expect([img.width, img.height]).toEqual([25, 20]);
    // track 0: in at 10, outside at 13 and 16
    expect(ds.images[0]!.objects).toEqual([{ category: 'II', bbox: [3, 4, 7, 1], origin: 'box', ref: 'track 0 frame 10', trackId: '0' }]);
    expect(ds.images.slice(1).every((i) => i.objects.length === 0)).toBe(true);
    expect(ds.counts).toEqual({ outside_skipped: 4, skipped_points: 1, skipped_polylines: 1, skipped_skeletons: 3 });
  });

  test('the frames that exist on disk are matched', async () => {
    const ds = await readCvatXml(path.join(FIX, 'for_video_3frames/annotations.xml'));
    expect(ds.images.filter((i) => i.path).map((i) => path.basename(i.path!))).toEqual(['frame_000010.png', 'frame_000013.png', 'frame_000016.png']);
    expect(ds.images.every((i) => i.groupHint === 'v1')).toBe(true);
  });
});

describe('bad CVAT input', () => {
  test('a DOCTYPE with entities is refused, naming the file and line', async () => {
    const file = path.join(tmp, 'xxe.xml');
    await fs.writeFile(
      file,
      `<?xml version="1.0"?>
<!DOCTYPE annotations [
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
  <!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
]>
<annotations><meta><task><labels><label><name>&xxe;&lol2;</name></label></labels></task></meta></annotations>
`,
    );
    const err = await expectImportError(readCvatXml(file));
    expect(err.message).toContain('XML with a DOCTYPE is not accepted: entity expansion is a security risk');
    expect(err.file).toBe(file);
    expect(err.item).toBe('line 2');
    expect(err.message).toContain(file);
  });

  test('an undeclared entity is a parse error, never expanded', async () => {
    const file = path.join(tmp, 'entity.xml');
    await fs.writeFile(file, '<annotations>\n<image id="0" name="&xxe;" width="1" height="1"/>\n</annotations>\n');
    const err = await expectImportError(readCvatXml(file));
    expect(err.message).toMatch(/malformed XML/);
    expect(err.item).toMatch(/^line 2, column \d+$/);
  });

  test('truncated XML gives the line and column', async () => {
    const text = await fs.readFile(path.join(FIX, 'export_project/annotations.xml'), 'utf8');
    const file = path.join(tmp, 'truncated.xml');
    await fs.writeFile(file, text.slice(0, Math.floor(text.length * 0.8)));
    const err = await expectImportError(readCvatXml(file));
    expect(err.file).toBe(file);
    expect(err.message).toMatch(/malformed XML/);
    expect(err.item).toMatch(/^line \d+, column \d+$/);
  });

  test('an XML that is not a CVAT export is refused', async () => {
    const file = path.join(tmp, 'voc.xml');
    await fs.writeFile(file, '<annotation><filename>a.jpg</filename></annotation>');
    const err = await expectImportError(readCvatXml(file));
    expect(err.message).toContain('not a CVAT XML export');
  });

  test('an image name leaving the export folder is not resolved to a file outside it', async () => {
    const dir = path.join(tmp, 'traversal', 'export');
    await fs.mkdir(path.join(dir, 'images'), { recursive: true });
    await fs.copyFile(path.join(FIX, 'for_images/images/img0.jpg'), path.join(tmp, 'traversal', 'secret.jpg'));
    await fs.writeFile(
      path.join(dir, 'annotations.xml'),
      '<annotations><image id="0" name="../../secret.jpg" width="8" height="8"/><image id="1" name="../secret.jpg" width="8" height="8"/></annotations>',
    );
    const ds = await readCvatXml(path.join(dir, 'annotations.xml'));
    expect(ds.images.map((i) => i.path)).toEqual([undefined, undefined]);
  });

  test('cancelling stops the read', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(readCvatXml(path.join(FIX, 'for_images/train.xml'), { signal: ac.signal })).rejects.toBeInstanceOf(CancelledError);
  });

  test('a folder path with spaces and Cyrillic', async () => {
    const dir = path.join(tmp, 'папка с пробелами', 'экспорт проекта');
    await fs.cp(path.join(FIX, 'export_project'), dir, { recursive: true });
    const ds = await readCvatXml(path.join(dir, 'annotations.xml'));
    expect(ds.images).toHaveLength(6);
    for (const img of ds.images) {
      expect(img.path!.startsWith(dir)).toBe(true);
      await expect(fs.access(img.path!)).resolves.toBeUndefined();
    }
  });
});
