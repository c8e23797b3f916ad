/**
 * The way back of the active-learning loop on real data: blood cells imported (valid export renamed
 * to spaces/Cyrillic, plus the train export with one augmented copy held out), a labelling batch
 * written, its annotation file edited the way a user does in CVAT (a box moved, a box deleted, a
 * held-out augmented copy and a new image added), re-imported with the dataset as base: a new
 * version `<name>_v2` with those boxes changed, the old images' splits unchanged, the added copy in
 * its siblings' split, and the base untouched.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { writeBatch } from '../electron/core/review/batch.js';
import { extractZip } from '../electron/core/datasets/zip.js';
import { standaloneJob } from '../electron/core/jobs/jobs.js';
import { datasetHash } from '../electron/core/trainer/dataset.js';
import { ImportOptions, SplitEntry } from '../electron/shared/schemas.js';
import { inspectImport } from '../electron/core/datasets/importer.js';
import type { CoreContext } from '../electron/core/context.js';
import type { BatchResult } from '../electron/shared/review.js';
import { rbc } from './helpers/shared.js';
import { expectImportError, listTree, tempDir, testContext } from './helpers/core.js';
import { datasetImages, importDataset, perturbedReviewSet, renamedRbcExport } from './review-fixture.js';

let ctx: CoreContext;
let work: string;
let baseDir: string;
let heldOut: string;
/** the source stem one of whose augmented copies is held out */
let source: string;
let batch: BatchResult;

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await listTree(dir)) out[f] = createHash('sha1').update(await fs.readFile(path.join(dir, f))).digest('hex');
  return out;
}

const splitOf = async (dir: string) => SplitEntry.array().parse(JSON.parse(await fs.readFile(path.join(dir, 'split.json'), 'utf8')));

beforeAll(async () => {
  ctx = await testContext();
  work = await tempDir('spotter-merge-');
  const valid = await renamedRbcExport(work);
  // the train export without one augmented copy of a source (its two siblings stay). Augmented copies stay in train
  // (a source that lands in val/test keeps one image there), so take the first source whose two siblings are in train.
  for (const n of [100, 101, 102, 103, 104, 105, 106, 107, 108, 109]) {
    source = `image-${n}`;
    const train = path.join(work, `train-${n}`, 'train');
    await fs.cp(rbc('train'), train, { recursive: true });
    const coco = JSON.parse(await fs.readFile(path.join(train, '_annotations.coco.json'), 'utf8'));
    const copies = coco.images.filter((im: { file_name: string }) => im.file_name.startsWith(`${source}_png.rf.`));
    if (copies.length !== 3) continue;
    heldOut = copies[0].file_name;
    coco.images = coco.images.filter((im: { id: number }) => im.id !== copies[0].id);
    coco.annotations = coco.annotations.filter((a: { image_id: number }) => a.image_id !== copies[0].id);
    await fs.writeFile(path.join(train, '_annotations.coco.json'), JSON.stringify(coco));
    await fs.rename(path.join(train, heldOut), path.join(work, heldOut));
    baseDir = path.join(work, `datasets-${n}`, 'rbc');
    await importDataset(ctx, [valid, train], baseDir);
    const siblings = (await splitOf(baseDir)).filter((e) => e.source.includes(`${source}_png.rf.`));
    if (siblings.length === 2 && siblings.every((e) => e.split === 'train')) break;
  }
  const set = await perturbedReviewSet(baseDir);
  batch = await writeBatch(set, { out: path.join(work, 'batches'), name: 'round 1', format: 'cvat', conf: 0.3, selection: { mode: 'disagree', conf: 0.3, iou: 0.5, limit: 6 } }, standaloneJob());
});

describe('re-importing a corrected batch with --base', () => {
  it('makes <name>_v2 with the corrected boxes, old splits kept, the added copy beside its siblings, the base untouched', async () => {
    const before = await snapshot(baseDir);
    const xmlFile = batch.annotations;
    const lines = (await fs.readFile(xmlFile, 'utf8')).split('\n');
    const imageLines = lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('  <image '));
    const nameOf = (l: string) => /name="([^"]*)"/.exec(l)![1]!.replace(/&apos;/g, "'").replace(/&amp;/g, '&');
    // image A: move its first box 7 px right; image B: delete its first box
    const [lineA, idxA] = imageLines[0]!;
    const [lineB, idxB] = imageLines[1]!;
    const boxA = lines[idxA + 1]!;
    const xtl = Number(/xtl="([^"]+)"/.exec(boxA)![1]), xbr = Number(/xbr="([^"]+)"/.exec(boxA)![1]);
    lines[idxA + 1] = boxA.replace(/xtl="[^"]+"/, `xtl="${xtl + 7}"`).replace(/xbr="[^"]+"/, `xbr="${xbr + 7}"`);
    expect(lines[idxB + 1]).toMatch(/^\s*<box /);
    lines.splice(idxB + 1, 3);
    // two images added in CVAT: the held-out augmented copy, and a picture from elsewhere (test export)
    const testDir = rbc('test');
    const other = (await fs.readdir(testDir)).find((f) => f.endsWith('.jpg'))!;
    await fs.copyFile(path.join(work, heldOut), path.join(batch.dir, 'images', heldOut));
    await fs.copyFile(path.join(testDir, other), path.join(batch.dir, 'images', 'новый снимок.jpg'));
    const end = lines.indexOf('</annotations>');
    lines.splice(
      end,
      0,
      `  <image id="100" name="${heldOut}" width="416" height="416">`,
      '    <box label="rbc" source="manual" occluded="0" xtl="10" ytl="20" xbr="50" ybr="60" z_order="0"></box>',
      '  </image>',
      '  <image id="101" name="новый снимок.jpg" width="416" height="416">',
      '    <box label="rbc" source="manual" occluded="0" xtl="100" ytl="100" xbr="130" ybr="140" z_order="0"></box>',
      '  </image>',
    );
    await fs.writeFile(xmlFile, lines.join('\n'));

    // the import preview (inspect with a base) says what the merge will do, and writes nothing
    const preview = await inspectImport(ImportOptions.parse({ sources: [batch.dir], base: baseDir }), standaloneJob(), ctx);
    expect(preview.merge).toMatchObject({ base: baseDir, baseName: 'rbc', replaced: batch.images, added: 2, ambiguous: 0, newClasses: [], conflict: null });
    expect(preview.merge!.baseImages).toBe((await splitOf(baseDir)).length);
    expect(await snapshot(baseDir)).toEqual(before);
    expect(await fs.readdir(path.dirname(baseDir))).toEqual(['rbc']);

    const res = await importDataset(ctx, [batch.dir], '', { out: undefined, base: baseDir });
    expect(res.dir).toBe(path.join(path.dirname(baseDir), 'rbc_v2'));
    const m = res.report.merge!;
    expect(m.base).toBe(baseDir);
    expect(m.base_hash).toBe(await datasetHash(path.join(baseDir, 'data.yaml')));
    expect(m.replaced).toBe(batch.images);
    expect(m.added).toBe(2);
    expect(m.new_classes).toEqual([]);
    expect(res.report.names).toEqual((await datasetImages(baseDir)).names);

    // the base is exactly as it was
    expect(await snapshot(baseDir)).toEqual(before);

    // old images keep file, split and group
    const oldEntries = await splitOf(baseDir);
    const newEntries = await splitOf(res.dir);
    expect(newEntries).toHaveLength(oldEntries.length + 2);
    const byFile = new Map(newEntries.map((e) => [e.file, e]));
    for (const e of oldEntries) expect(byFile.get(e.file)).toEqual(e);

    // the held-out copy joined its siblings' group and split; the other image got a split of its own
    const added = newEntries.slice(oldEntries.length);
    const copy = added.find((e) => e.source === heldOut)!;
    const siblings = oldEntries.filter((e) => e.source.includes(`${source}_png.rf.`));
    expect(siblings).toHaveLength(2);
    expect(copy.group).toBe(siblings[0]!.group);
    expect(copy.split).toBe(siblings[0]!.split);
    expect(m.joined_groups).toBe(1);
    expect(added.find((e) => e.source === 'новый снимок.jpg')).toBeTruthy();

    // the boxes: A's moved box is where the user put it, B lost one box, the rest are the batch's
    const oldImgs = await datasetImages(baseDir);
    const newImgs = await datasetImages(res.dir);
    const manifest = JSON.parse(await fs.readFile(path.join(batch.dir, 'batch.json'), 'utf8')) as { files: Array<{ name: string; file: string; boxes: number }> };
    const fileOf = (batchName: string) => manifest.files.find((f) => f.name === batchName)!;
    const a = fileOf(nameOf(lineA)), b = fileOf(nameOf(lineB));
    const gtA = newImgs.images.find((i) => i.file === a.file)!.gt;
    const gtB = newImgs.images.find((i) => i.file === b.file)!.gt;
    expect(gtA).toHaveLength(a.boxes);
    expect(gtB).toHaveLength(b.boxes - 1);
    expect(gtA.some((g) => Math.abs(g.box[0] - (xtl + 7)) < 1e-3 && Math.abs(g.box[2] - (xbr + 7)) < 1e-3)).toBe(true);
    expect(gtA.some((g) => Math.abs(g.box[0] - xtl) < 1e-3 && Math.abs(g.box[2] - xbr) < 1e-3)).toBe(false);
    // images not in the batch kept their labels byte for byte
    const inBatch = new Set(manifest.files.map((f) => f.file));
    for (const im of oldImgs.images.filter((i) => !inBatch.has(i.file))) {
      const lbl = (d: string) => fs.readFile(path.join(d, 'labels', im.split, path.basename(im.file).replace(/\.[^.]+$/, '.txt')), 'utf8');
      expect(await lbl(res.dir)).toBe(await lbl(baseDir));
    }

    // a second round on v2 makes v3
    const again = await importDataset(ctx, [batch.dir], '', { out: undefined, base: res.dir, dupThreshold: -1 });
    expect(path.basename(again.dir)).toBe('rbc_v3');
  });

  it('refuses a class that differs from a base class only in case, naming the fix', async () => {
    const copy = path.join(work, 'typo');
    await fs.cp(batch.dir, copy, { recursive: true });
    const xml = path.join(copy, 'annotations.xml');
    await fs.writeFile(xml, (await fs.readFile(xml, 'utf8')).replace(/label="rbc"/g, 'label="RBC"').replace(/<name>rbc<\/name>/g, '<name>RBC</name>'));
    const err = await expectImportError(importDataset(ctx, [copy], '', { out: path.join(work, 'typo-out'), base: baseDir, dupThreshold: -1 }));
    expect(err.message).toMatch(/"RBC".*"rbc".*--map/);
    expect(await fs.readdir(work)).not.toContain('typo-out');
    // the preview reports it (the class table can map it) instead of failing, and with the mapping it is gone
    const preview = await inspectImport(ImportOptions.parse({ sources: [copy], base: baseDir, dupThreshold: -1 }), standaloneJob(), ctx);
    expect(preview.merge!.conflict).toMatch(/"RBC".*"rbc"/);
    expect(preview.notes).toContainEqual(expect.objectContaining({ severity: 'error', code: 'merge-class-conflict' }));
    const mapped = await inspectImport(ImportOptions.parse({ sources: [copy], base: baseDir, dupThreshold: -1, classMap: { RBC: 'rbc' } }), standaloneJob(), ctx);
    expect(mapped.merge).toMatchObject({ conflict: null, newClasses: [], replaced: batch.images });
  });

  it('the preview counts corrected images that come back without a box (their labels would become empty)', async () => {
    const copy = path.join(work, 'emptied');
    await fs.cp(batch.dir, copy, { recursive: true });
    const xml = path.join(copy, 'annotations.xml');
    await fs.writeFile(xml, (await fs.readFile(xml, 'utf8')).replace(/\n\s*<box [\s\S]*?<\/box>/g, ''));
    const preview = await inspectImport(ImportOptions.parse({ sources: [copy], base: baseDir, dupThreshold: -1 }), standaloneJob(), ctx);
    expect(preview.objects).toBe(0);
    // every image of the blood-cell dataset has cells labelled
    expect(preview.merge).toMatchObject({ replaced: batch.images, emptied: batch.images });
    expect(preview.notes).toContainEqual(expect.objectContaining({ severity: 'warning', code: 'merge-emptied' }));
  });

  it('tells apart images of one name in two splits (<split>__<name> in the batch, COCO 1.0 round trip)', async () => {
    const src = path.join(work, 'same-name');
    for (const sub of ['valid', 'test']) {
      const from = rbc(sub);
      const to = path.join(src, sub);
      await fs.mkdir(to, { recursive: true });
      const coco = JSON.parse(await fs.readFile(path.join(from, '_annotations.coco.json'), 'utf8'));
      for (const [i, im] of coco.images.entries()) {
        const name = i === 0 ? 'same.jpg' : im.file_name;
        await fs.copyFile(path.join(from, im.file_name), path.join(to, name));
        im.file_name = name;
      }
      await fs.writeFile(path.join(to, '_annotations.coco.json'), JSON.stringify(coco));
    }
    const base = path.join(work, 'datasets', 'twins');
    await importDataset(ctx, [src], base, { keepSplits: true, dupThreshold: -1 });
    expect((await splitOf(base)).filter((e) => e.file.endsWith('/same.jpg')).map((e) => e.file).sort()).toEqual(['images/test/same.jpg', 'images/val/same.jpg']);
    const set = await perturbedReviewSet(base, 5);
    const b = await writeBatch(set, { out: path.join(work, 'batches'), name: 'twins', format: 'coco', conf: 0.3, selection: { mode: 'uncertain', low: 0, high: 1, limit: 1000 } }, standaloneJob());
    const names = await fs.readdir(path.join(b.dir, 'images'));
    expect(names).toEqual(expect.arrayContaining(['val__same.jpg', 'test__same.jpg']));
    expect(names).not.toContain('same.jpg');
    // the CVAT export of the task: annotations/ and images/
    const exp = path.join(work, 'twins-export');
    await extractZip(b.annotations, exp);
    await fs.cp(path.join(b.dir, 'images'), path.join(exp, 'images'), { recursive: true });
    const res = await importDataset(ctx, [exp], '', { out: undefined, base, dupThreshold: -1 });
    expect(path.basename(res.dir)).toBe('twins_v2');
    expect(res.report.merge).toMatchObject({ replaced: b.images, added: 0, skipped: 0 });
    const manifest = JSON.parse(await fs.readFile(path.join(b.dir, 'batch.json'), 'utf8')) as { files: Array<{ name: string; file: string; boxes: number }> };
    const imgs = await datasetImages(res.dir);
    for (const n of ['val__same.jpg', 'test__same.jpg']) {
      const f = manifest.files.find((x) => x.name === n)!;
      expect(f.file).toBe(n.replace('__', '/'));
      expect(imgs.images.find((i) => i.file === f.file)!.gt).toHaveLength(f.boxes);
    }
    expect(new Set((await splitOf(res.dir)).map((e) => e.file)).size).toBe((await splitOf(base)).length);
  });
});
