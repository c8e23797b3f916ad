/**
 * The whole import on real exports: the golden pair (Spotter's COCO→YOLO equals CVAT's own YOLO
 * export), the sample blood-cell set (augmented triplets grouped), the leaking drone video (time
 * blocks, and the audit of its own split), and bad inputs that must leave nothing behind.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { execFileSync } from 'node:child_process';
import { runImport, inspectImport } from '../electron/core/datasets/importer.js';
import { extractZip } from '../electron/core/datasets/zip.js';
import { standaloneJob } from '../electron/core/jobs/jobs.js';
import { ImportOptions, SplitEntry } from '../electron/shared/schemas.js';
import type { CoreContext } from '../electron/core/context.js';
import { REPO_ROOT, describeShared, fixture, rbc, shared } from './helpers/shared.js';
import { listTree, tempDir, testContext } from './helpers/core.js';

let ctx: CoreContext;
beforeAll(async () => {
  ctx = await testContext();
});

const opts = (o: Partial<ImportOptions> & { sources: string[] }) => ImportOptions.parse(o);

async function siblingsOf(out: string): Promise<string[]> {
  return (await fs.readdir(path.dirname(out)).catch(() => [])).filter((n) => n.includes(path.basename(out)));
}

// the Duckietown pair has no licence stated: read from ../shared/data, never copied
const DUCKIETOWN = (file: string) => shared('peer-fixtures', 'cvat-exports', 'duckietown-coco-and-yolo', file);

describeShared('golden pair: CVAT COCO 1.0 → YOLO equals CVAT YOLO 1.1', () => {
  it('writes the same labels as CVAT to 1e-6, class order included', async () => {
    const work = await tempDir();
    const out = path.join(work, 'duck');
    const res = await runImport(
      opts({ sources: [DUCKIETOWN('Duckietown_COCO.zip')], out, ratios: [1, 0, 0], dupThreshold: -1 }),
      standaloneJob(),
      ctx,
      { datasetsDir: work },
    );
    const yoloDir = path.join(work, 'cvat-yolo');
    await extractZip(DUCKIETOWN('Duckietown_YOLO.zip'), yoloDir);
    const cvatNames = (await fs.readFile(path.join(yoloDir, 'obj.names'), 'utf8')).trim().split('\n');
    // the used classes keep CVAT's order and ids; the unused "Cone" is dropped visibly
    expect(res.report.names).toEqual(cvatNames.slice(0, res.report.names.length));
    expect(res.mapping.dropped).toEqual([{ name: 'Cone', reason: 'unused', instances: 0 }]);
    const expected = (await fs.readFile(path.join(yoloDir, 'obj_train_data/img_1569225723.195207118.txt'), 'utf8')).trim().split('\n');
    const ours = (await fs.readFile(path.join(out, 'labels/train/img_1569225723.195207118.txt'), 'utf8')).trim().split('\n');
    expect(ours).toHaveLength(expected.length);
    for (let i = 0; i < expected.length; i++) {
      const a = expected[i]!.split(' ').map(Number);
      const b = ours[i]!.split(' ').map(Number);
      expect(b[0]).toBe(a[0]);
      for (let k = 1; k < 5; k++) expect(Math.abs(b[k]! - a[k]!)).toBeLessThanOrEqual(1e-6);
    }
    // annotations without images still convert, and say so
    expect(res.health.issues.map((i) => i.code)).toContain('annotations-without-images');
    const yaml = YAML.parse(await fs.readFile(path.join(out, 'data.yaml'), 'utf8'));
    expect(path.isAbsolute(yaml.path)).toBe(true);
    expect(yaml.path).toBe(out);
  });
});

describe('the bundled sample (Roboflow blood cells)', () => {
  it("keeps the export's own split when the audit finds it clean, and says so", async () => {
    const work = await tempDir();
    const out = path.join(work, 'rbc');
    const res = await runImport(opts({ sources: [path.join(REPO_ROOT, 'resources/sample/rbc-roboflow-coco.zip')], out }), standaloneJob(), ctx, { datasetsDir: work });
    expect(res.report.split_mode).toBe('keep');
    expect(res.report.grouping.split_summary).toMatch(/^The export's own split is clean by the audit \(0 groups crossing splits, 0 near-duplicate pairs \(dHash ≤ 4\) and 0 identical pairs across splits; val\/test images with a twin in train: 0 of 30\): kept as it is/);
    expect(res.report.splits.train!.images).toBe(210);
    expect(res.report.splits.val!.images).toBe(20);
    expect(res.report.splits.test!.images).toBe(10);
    expect(res.report.source_split_audit).toMatchObject({ group_crossings: 0, near_duplicate_crossings: 0, held_out_with_twin: 0 });
    expect(res.report.leak_audit).toMatchObject({ group_crossings: 0, near_duplicate_crossings: 0, held_out_with_twin: 0, held_out_images: 30 });
  });

  it('re-split on request: maps by name, drops the placeholder, groups augmented triplets, leaks nothing', async () => {
    const work = await tempDir();
    const out = path.join(work, 'rbc');
    const res = await runImport(opts({ sources: [path.join(REPO_ROOT, 'resources/sample/rbc-roboflow-coco.zip')], out, seed: 1, resplit: true }), standaloneJob(), ctx, {
      datasetsDir: work,
    });
    expect(res.report.split_mode).toBe('ratio');
    expect(res.report.names).toEqual(['rbc', 'wbc']);
    expect(res.mapping.dropped.map((d) => d.name)).toEqual(['RBC-WBC']);
    expect(res.report.grouping.strategy).toMatch(/roboflow/);
    const entries = SplitEntry.array().parse(JSON.parse(await fs.readFile(path.join(out, 'split.json'), 'utf8')));
    // augmented copies stay in train: the 70 augmented sources go to train, the export's 30 single sources fill val and
    // test (the ratios count the 100 independent pictures), nothing is left out
    const left = res.report.grouping.dropped_augmented!;
    expect(left).toBe(0);
    expect(entries).toHaveLength(240);
    expect(res.report.grouping.split_summary).toContain('Augmented copies stay in train: the 70 sources with copies (140 copies) went to train');
    // 70 train sources × 3 augmented copies: every triplet in one split, and in val/test one image per source
    const byGroup = new Map<string, Set<string>>();
    const sizes = new Map<string, number>();
    for (const e of entries) {
      byGroup.set(e.group, (byGroup.get(e.group) ?? new Set()).add(e.split));
      sizes.set(e.group, (sizes.get(e.group) ?? 0) + 1);
    }
    for (const [g, s] of byGroup) expect(s.size, `group ${g}`).toBe(1);
    for (const e of entries) if (e.split !== 'train') expect(sizes.get(e.group), e.group).toBe(1);
    // all 30 sources of the export's own valid/ and test/ (single, never augmented) are held out
    const exportHeldOut = new Set([...(await fs.readdir(rbc('valid'))), ...(await fs.readdir(rbc('test')))].filter((f) => f.endsWith('.jpg')));
    expect(exportHeldOut.size).toBe(30);
    const held = entries.filter((e) => e.split !== 'train');
    expect(held.length).toBeGreaterThanOrEqual(16); // 10% + 10% of the 100 sources, roughly
    expect(held.every((e) => exportHeldOut.has(e.source))).toBe(true);
    const trainSources = entries.filter((e) => e.source.includes('.rf.') && /^train\//.test(e.source) === false);
    expect(trainSources.length).toBeGreaterThan(0);
    expect(res.report.leak_audit.group_crossings).toBe(0);
    expect(res.report.leak_audit.near_duplicate_crossings).toBe(0);
    expect(res.report.leak_audit.exact_duplicate_crossings).toBe(0);
    expect(res.report.licenses.map((l) => l.name)).toContain('Public Domain');
    // every image and label on disk, labels non-empty where objects exist
    const tree = await listTree(out);
    expect(tree.filter((f) => f.startsWith('images/')).length).toBe(240 - left);
    expect(tree.filter((f) => f.startsWith('labels/')).length).toBe(240 - left);
    const instances = Object.values(res.report.splits).reduce((n, s) => n + Object.values(s.instances).reduce((a, b) => a + b, 0), 0);
    // all 5,638 boxes of the export but those of the copies left out, and the same count as the label files on disk
    let lines = 0;
    for (const f of tree.filter((x) => x.startsWith('labels/'))) lines += (await fs.readFile(path.join(out, f), 'utf8')).split('\n').filter((l) => l.trim()).length;
    expect(instances).toBe(lines);
    const coco = JSON.parse(await fs.readFile(rbc('train', '_annotations.coco.json'), 'utf8')) as { images: { id: number; file_name: string }[]; annotations: { image_id: number }[] };
    const kept = new Set(entries.map((e) => e.source));
    const leftOut = new Set(coco.images.filter((im) => !kept.has(im.file_name)).map((im) => im.id));
    expect(leftOut.size).toBe(left);
    expect(instances).toBe(5638 - coco.annotations.filter((a) => leftOut.has(a.image_id)).length);
    // nothing temporary left beside the dataset
    expect(await siblingsOf(out)).toEqual(['rbc']);
  });

  it('inspect reports formats, classes with the placeholder pre-dropped, groups and licence', async () => {
    const r = await inspectImport(opts({ sources: [path.join(REPO_ROOT, 'resources/sample/rbc-roboflow-coco.zip')] }), standaloneJob(), ctx);
    expect(r.sources.every((s) => s.format === 'coco')).toBe(true);
    expect(r.images).toBe(240);
    expect(r.classes.find((c) => c.source === 'RBC-WBC')).toMatchObject({ instances: 0, target: null });
    expect(r.classes.find((c) => c.source === 'rbc')).toMatchObject({ target: 'rbc' });
    expect(r.subsets.sort()).toEqual(['test', 'train', 'valid']);
    expect(r.licenses.map((l) => l.name)).toContain('Public Domain');
    expect(r.grouping.groups).toBeLessThan(240);
  });
});

describe('the leaking drone video (Roboflow export of one video)', () => {
  it('is one sequence split in time blocks with guard gaps; its own split is reported as leaking', async () => {
    const work = await tempDir();
    const out = path.join(work, 'drone');
    const src = fixture('drone-person-video-frames-roboflow');
    const res = await runImport(opts({ sources: [src], out }), standaloneJob(), ctx, { datasetsDir: work });
    expect(res.report.grouping.sequences).toBe(1);
    expect(res.report.grouping.time_blocks).toBe(true);
    expect(res.report.grouping.guard_gap).toBeGreaterThan(0);
    expect(res.report.grouping.dropped_guard_frames).toBeGreaterThan(0);
    // one audit: nothing crosses, no val/test frame has a near-twin in train, and health.json says exactly the same
    const a = res.report.leak_audit;
    expect(a).toMatchObject({ group_crossings: 0, near_duplicate_crossings: 0, exact_duplicate_crossings: 0, held_out_with_twin: 0, dup_threshold: 4 });
    expect(a.held_out_images).toBe(res.report.splits.val!.images + (res.report.splits.test?.images ?? 0));
    expect(res.health.leak_audit).toEqual(a);
    const onDisk = JSON.parse(await fs.readFile(path.join(out, 'health.json'), 'utf8'));
    expect(onDisk.leak_audit).toEqual(a);
    // time blocks with guard gaps are not a leak: the health check judges the video by neighbouring frames
    expect(res.health.issues.map((i) => i.code)).not.toContain('group-leak');
    expect(res.health.issues.map((i) => i.code)).not.toContain('held-out-twins');
    // the export's own split: neighbouring frames everywhere, most of its val/test frames have a twin in train
    const theirs = res.report.source_split_audit!;
    expect(theirs.group_crossings).toBeGreaterThan(0);
    expect(theirs.near_duplicate_crossings).toBeGreaterThan(100);
    expect(theirs.held_out_with_twin!).toBeGreaterThan(0.8 * theirs.held_out_images!);
    expect(res.report.grouping.level).toBe('clip');
    expect(res.report.licenses.map((l) => l.name)).toContain('CC BY 4.0');
    expect(res.report.splits.val!.images).toBeGreaterThan(0);
    expect(res.report.splits.train!.images).toBeGreaterThan(res.report.splits.val!.images);
  });

  it('with --keep-splits, the export split is kept and the health check names the leak', async () => {
    const work = await tempDir();
    const out = path.join(work, 'drone-kept');
    const res = await runImport(opts({ sources: [fixture('drone-person-video-frames-roboflow')], out, keepSplits: true }), standaloneJob(), ctx, {
      datasetsDir: work,
    });
    expect(res.report.leak_audit.group_crossings).toBeGreaterThan(0);
    expect(res.health.ok).toBe(false);
    expect(res.health.issues.map((i) => i.code)).toContain('group-leak');
    // the same numbers in report.json, health.json and the health issues (the examples name files as each one sees them)
    const numbers = ({ examples: _e, ...n }: NonNullable<typeof res.health.leak_audit>) => n;
    expect(numbers(res.health.leak_audit!)).toEqual(numbers(res.report.leak_audit));
    const twins = res.health.issues.find((i) => i.code === 'held-out-twins')!;
    expect(twins.count).toBe(res.report.leak_audit.held_out_with_twin);
    expect(twins.message).toContain(`val/test images with a twin in train: ${res.report.leak_audit.held_out_with_twin} of ${res.report.leak_audit.held_out_images}`);
    expect(res.health.issues.find((i) => i.code === 'near-duplicates-across-splits')!.count).toBe(res.report.leak_audit.near_duplicate_crossings);
  });
});

describe('images the annotations do not name', () => {
  it('are reported, not silently imported or dropped', async () => {
    const work = await tempDir();
    const src = path.join(work, 'export');
    await fs.cp(rbc('valid'), src, { recursive: true });
    const any = (await fs.readdir(src)).find((f) => f.endsWith('.jpg'))!;
    await fs.copyFile(path.join(src, any), path.join(src, 'not-in-the-json.jpg'));
    const r = await inspectImport(opts({ sources: [src] }), standaloneJob(), ctx);
    const note = r.notes.find((n) => n.code === 'unlisted-images');
    expect(note?.message).toMatch(/^1 image file in the export is not named by any annotation file.*not-in-the-json\.jpg/);
  });
});

describe('two imports at once (a double click)', () => {
  it('get two folders, both complete', async () => {
    const work = await tempDir();
    const o = opts({ sources: [rbc('valid')], name: 'same', ratios: [0.8, 0.2, 0] });
    const [a, b] = await Promise.all([
      runImport(o, standaloneJob(), ctx, { datasetsDir: work }),
      runImport(o, standaloneJob(), ctx, { datasetsDir: work }),
    ]);
    expect(new Set([a.dir, b.dir])).toEqual(new Set([path.join(work, 'same'), path.join(work, 'same-2')]));
    for (const r of [a, b]) expect((await fs.readdir(r.dir)).sort()).toContain('data.yaml');
    expect((await fs.readdir(work)).sort()).toEqual(['same', 'same-2']);
  });

  it('a failed auto-named import gives its reserved folder back', async () => {
    const work = await tempDir();
    const bad = path.join(work, 'broken.json');
    await fs.writeFile(bad, '{"images": [');
    await expect(runImport(opts({ sources: [bad], name: 'x' }), standaloneJob(), ctx, { datasetsDir: work })).rejects.toThrow(/broken\.json/);
    expect(await fs.readdir(work)).toEqual(['broken.json']);
  });
});

describe('bad inputs leave nothing behind', () => {
  async function expectFailure(sources: string[], pattern: RegExp) {
    const work = await tempDir();
    const out = path.join(work, 'out');
    await expect(runImport(opts({ sources, out }), standaloneJob(), ctx, { datasetsDir: work })).rejects.toThrow(pattern);
    expect(await siblingsOf(out)).toEqual([]);
    // no extraction folders left in the temp dir either
    expect((await fs.readdir(ctx.paths.tempDir).catch(() => [])).filter((n) => n.startsWith('extract-'))).toEqual([]);
  }

  it('truncated COCO JSON names the file', async () => {
    const dir = await tempDir();
    const text = await fs.readFile(rbc('valid', '_annotations.coco.json'), 'utf8');
    const f = path.join(dir, 'instances_default.json');
    await fs.writeFile(f, text.slice(0, Math.floor(text.length / 2)));
    await expectFailure([f], /instances_default\.json/);
  });

  it('a zip with ../ entries is refused before anything is extracted', async () => {
    const dir = await tempDir();
    const zip = path.join(dir, 'evil.zip');
    execFileSync('python3', ['-c', `import zipfile\nz=zipfile.ZipFile(${JSON.stringify(zip)},'w')\nz.writestr('annotations/instances_default.json','{}')\nz.writestr('../../escaped.txt','x')\nz.close()`]);
    await expectFailure([zip], /evil\.zip.*\.\.\/\.\.\/escaped\.txt|unsafe entry/);
    await expect(fs.access(path.join(dir, '..', 'escaped.txt'))).rejects.toThrow();
  });

  it('duplicate image ids are refused naming the id', async () => {
    const dir = await tempDir();
    const f = path.join(dir, 'dup.json');
    await fs.writeFile(
      f,
      JSON.stringify({
        images: [
          { id: 1, file_name: 'a.jpg', width: 10, height: 10 },
          { id: 1, file_name: 'b.jpg', width: 10, height: 10 },
        ],
        annotations: [],
        categories: [{ id: 1, name: 'x' }],
      }),
    );
    await expectFailure([f], /dup\.json.*1/);
  });

  it('cancelling mid-import leaves nothing', async () => {
    const work = await tempDir();
    const out = path.join(work, 'cancelled');
    const controller = new AbortController();
    const job = standaloneJob((stage) => {
      if (stage.startsWith('Writing')) controller.abort();
    }, controller.signal);
    await expect(runImport(opts({ sources: [path.join(REPO_ROOT, 'resources/sample/rbc-roboflow-coco.zip')], out }), job, ctx, { datasetsDir: work })).rejects.toThrow(/cancel/i);
    expect(await siblingsOf(out)).toEqual([]);
  });

  it('paths with spaces and Cyrillic work', async () => {
    const work = await tempDir();
    const src = path.join(work, 'папка с данными', 'клетки крови');
    await fs.cp(rbc('valid'), src, { recursive: true });
    const out = path.join(work, 'выход с пробелами');
    const res = await runImport(opts({ sources: [src], out, ratios: [0.8, 0.2, 0] }), standaloneJob(), ctx, { datasetsDir: work });
    expect(res.dir).toBe(out);
    expect(Object.values(res.report.splits).reduce((n, s) => n + s.images, 0)).toBe(
      JSON.parse(await fs.readFile(path.join(src, '_annotations.coco.json'), 'utf8')).images.length,
    );
  });
});
