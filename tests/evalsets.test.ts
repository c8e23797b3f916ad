/**
 * Named evaluation sets on real data: the blood-cell export's train+valid as the dataset, its test
 * subset as an evaluation set (also with its category ids swapped, so only mapping by name gives the
 * right labels), refusals that leave nothing behind, and a real 1-epoch training that validates on the set.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { addEvalSet, listEvalSets, removeEvalSet } from '../electron/core/datasets/evalsets.js';
import { readDatasetDetail } from '../electron/core/datasets/store.js';
import { runImport } from '../electron/core/datasets/importer.js';
import { CancelledError, standaloneJob } from '../electron/core/jobs/jobs.js';
import { datasetHash } from '../electron/core/trainer/dataset.js';
import type { CoreContext } from '../electron/core/context.js';
import { ImportOptions } from '../electron/shared/schemas.js';
import { fixture, rbc } from './helpers/shared.js';
import { listTree, tempDir, testContext } from './helpers/core.js';
import { BIN, hasTrainer, trainerEnv } from './trainer-fixture.js';

interface Coco {
  images: Array<{ id: number; file_name: string }>;
  annotations: Array<{ image_id: number; category_id: number }>;
  categories: Array<{ id: number; name: string }>;
}

/** instances per class name in a COCO file */
function countByName(coco: Coco): Record<string, number> {
  const names = new Map(coco.categories.map((c) => [c.id, c.name]));
  const out: Record<string, number> = {};
  for (const a of coco.annotations) out[names.get(a.category_id)!] = (out[names.get(a.category_id)!] ?? 0) + 1;
  return out;
}

/** instances per class name in a set's YOLO labels, read with the dataset's names */
async function countLabels(setDir: string, names: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const f of await listTree(path.join(setDir, 'labels'))) {
    for (const line of (await fs.readFile(path.join(setDir, 'labels', f), 'utf8')).split('\n').filter((l) => l.trim())) {
      const n = names[Number(line.split(' ')[0])]!;
      out[n] = (out[n] ?? 0) + 1;
    }
  }
  return out;
}

describe('evaluation sets', () => {
  let ctx: CoreContext;
  let work: string;
  let ds: string;
  let names: string[];
  let testCoco: Coco;

  beforeAll(async () => {
    ctx = await testContext();
    work = await tempDir('spotter-evalsets-');
    const r = await runImport(
      ImportOptions.parse({ sources: [path.join(rbc(), 'train', '_annotations.coco.json'), path.join(rbc(), 'valid', '_annotations.coco.json')], out: path.join(work, 'blood cells ds') }),
      standaloneJob(),
      ctx,
      { datasetsDir: work },
    );
    ds = r.dir;
    names = r.report.names;
    testCoco = JSON.parse(await fs.readFile(path.join(rbc(), 'test', '_annotations.coco.json'), 'utf8')) as Coco;
  }, 120_000);

  it('imports a set beside the dataset, maps classes by name, and leaves the training hash alone', async () => {
    const before = await datasetHash(path.join(ds, 'data.yaml'));
    const info = await addEvalSet(ctx, ds, 'night', [path.join(rbc(), 'test', '_annotations.coco.json')], standaloneJob());
    expect(info.images).toBe(testCoco.images.length);
    const expected = countByName(testCoco);
    delete expected['RBC-WBC']; // the unused Roboflow placeholder
    expect(info.objects).toBe(Object.values(expected).reduce((a, b) => a + b, 0));
    expect(await countLabels(info.dir, names)).toEqual(expected);
    expect(await datasetHash(path.join(ds, 'data.yaml'))).toBe(before);
    const detail = await readDatasetDetail(ds);
    expect(detail.evalSets.map((s) => s.name)).toEqual(['night']);
    const yaml = await fs.readFile(path.join(info.dir, 'data.yaml'), 'utf8');
    expect(yaml).toMatch(/val: images/);
    expect(YAML.parse(yaml).names).toEqual(names);
    // the temporary import is gone
    expect(existsSync(ctx.paths.tempDir) ? await fs.readdir(ctx.paths.tempDir) : []).toEqual([]);
  });

  it('gets the labels right when the export numbers its categories differently', async () => {
    // the same export with rbc and wbc swapping ids: only a mapping by name keeps each box's class
    const swapped = structuredClone(testCoco);
    const id = (n: string) => testCoco.categories.find((c) => c.name === n)!.id;
    const [rbcId, wbcId] = [id('rbc'), id('wbc')];
    const swap = (i: number) => (i === rbcId ? wbcId : i === wbcId ? rbcId : i);
    for (const c of swapped.categories) c.id = swap(c.id);
    for (const a of swapped.annotations) a.category_id = swap(a.category_id);
    const src = path.join(work, 'swapped export', 'test');
    await fs.mkdir(src, { recursive: true });
    for (const im of testCoco.images) await fs.copyFile(path.join(rbc(), 'test', im.file_name), path.join(src, im.file_name));
    await fs.writeFile(path.join(src, '_annotations.coco.json'), JSON.stringify(swapped));
    const info = await addEvalSet(ctx, ds, 'camera2', [path.join(src, '_annotations.coco.json')], standaloneJob());
    const expected = countByName(testCoco);
    delete expected['RBC-WBC'];
    expect(await countLabels(info.dir, names)).toEqual(expected);
    expect((await listEvalSets(ds)).map((s) => s.name).sort()).toEqual(['camera2', 'night']);
  });

  it('refuses classes the dataset lacks, naming them, and leaves nothing behind', async () => {
    const before = await listTree(ds);
    const err = await addEvalSet(ctx, ds, 'drone', [fixture('drone-person-video-frames-roboflow')], standaloneJob()).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/classes not in the dataset .*: person/);
    expect(await listTree(ds)).toEqual(before);
    await expect(addEvalSet(ctx, ds, '../escape', [rbc()], standaloneJob())).rejects.toThrow(/name/);
  });

  it('a cancelled set leaves nothing; replacing and removing a set', async () => {
    const before = await listTree(ds);
    const ac = new AbortController();
    const job = standaloneJob((_stage, done) => {
      if (done >= 3) ac.abort();
    }, ac.signal);
    await expect(addEvalSet(ctx, ds, 'winter', [path.join(rbc(), 'test', '_annotations.coco.json')], job)).rejects.toBeInstanceOf(CancelledError);
    expect(await listTree(ds)).toEqual(before);

    const again = await addEvalSet(ctx, ds, 'night', [path.join(rbc(), 'valid', '_annotations.coco.json')], standaloneJob());
    expect(again.images).toBeGreaterThan(testCoco.images.length);
    expect((await listEvalSets(ds)).filter((s) => s.name === 'night')).toHaveLength(1);
    expect(await fs.readdir(path.join(ds, 'evalsets'))).toEqual(expect.arrayContaining(['night', 'camera2']));
    expect((await fs.readdir(path.join(ds, 'evalsets'))).filter((f) => f.startsWith('.'))).toEqual([]);
    await removeEvalSet(ds, 'night');
    expect((await listEvalSets(ds)).map((s) => s.name)).toEqual(['camera2']);
    expect(existsSync(path.join(ds, 'evalsets', 'night'))).toBe(false);
    await expect(removeEvalSet(ds, 'night')).rejects.toThrow(/no evaluation set "night"/);
  });

  it.skipIf(!hasTrainer)('every run is validated on each set once it has trained, and the report has a column per set', async () => {
    const wsDir = await tempDir('spotter-evalsets-ws-');
    const dataDir = await tempDir('spotter-evalsets-data-');
    const r = await execa(process.execPath, [BIN, 'train', ds, '--epochs', '1', '--imgsz', '64', '--device', 'cpu', '--workspace', wsDir, '--label', 'with sets', '--json'], {
      env: trainerEnv(dataDir),
      reject: false,
      timeout: 240_000,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { run_dir: string };
    const evalFile = path.join(out.run_dir, 'eval-set-camera2.json');
    expect(existsSync(evalFile)).toBe(true);
    const ev = JSON.parse(await fs.readFile(evalFile, 'utf8')) as { split: string; set: string; metrics: { mAP50: number } | null; per_class: Array<{ name: string }> };
    expect(ev).toMatchObject({ split: 'set', set: 'camera2' });
    expect(ev.metrics).not.toBeNull();
    expect(ev.per_class.map((c) => c.name).sort()).toEqual(['rbc', 'wbc']);
    const summary = await fs.readFile(path.join(out.run_dir, 'summary.md'), 'utf8');
    expect(summary).toMatch(/evaluation set camera2/);
    const rep = await execa(process.execPath, [BIN, 'runs', 'report', '--workspace', wsDir], { env: trainerEnv(dataDir) });
    const report = await fs.readFile(path.join(wsDir, 'runs', 'REPORT.md'), 'utf8');
    expect(rep.exitCode).toBe(0);
    expect(report).toMatch(/camera2 mAP50-95/);
  }, 300_000);
});
