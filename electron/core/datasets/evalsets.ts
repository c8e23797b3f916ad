/**
 * Named evaluation sets of a dataset (night, winter, a new camera): images kept out of training that
 * every run is validated on. Each lives in `<dataset>/evalsets/<name>/{images,labels}` with a
 * `data.yaml` of its own (val = its images, the dataset's class names), and `<dataset>/evalsets.json`
 * lists them. The dataset's own labels/ and split.json are untouched, so its content hash (what runs
 * record as "trained on") does not change when a set is added.
 *
 * A set is imported from any source the importer reads (COCO, CVAT, YOLO, zips): converted into a
 * temporary dataset first, then its classes are mapped by name onto the dataset's. A class the dataset
 * does not have is refused, naming it: a model cannot be scored on classes it never learned.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import type { EvalSetInfo } from '../../shared/contract.js';
import { MappingFile, SplitEntry } from '../../shared/schemas.js';
import type { CoreContext } from '../context.js';
import { writeFileAtomic } from '../fsutil.js';
import type { JobContext } from '../jobs/jobs.js';
import { runImport } from './importer.js';

export const EVALSETS_FILE = 'evalsets.json';
const EvalSetsFile = z.object({
  sets: z.array(
    z.object({ name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/), images: z.number().int(), objects: z.number().int(), source: z.string(), addedAt: z.string() }),
  ),
});
type EvalSetsFile = z.infer<typeof EvalSetsFile>;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;

/** evalsets.json is read, changed and written back: one change at a time per dataset */
const locks = new Map<string, Promise<unknown>>();
function withLock<T>(datasetDir: string, fn: () => Promise<T>): Promise<T> {
  const key = path.resolve(datasetDir);
  const run = (locks.get(key) ?? Promise.resolve()).catch(() => {}).then(fn);
  locks.set(key, run);
  void run.finally(() => {
    if (locks.get(key) === run) locks.delete(key);
  }).catch(() => {});
  return run;
}

export function evalSetDir(datasetDir: string, name: string): string {
  return path.join(path.resolve(datasetDir), 'evalsets', name);
}

async function readSetsFile(datasetDir: string): Promise<EvalSetsFile> {
  const file = path.join(path.resolve(datasetDir), EVALSETS_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { sets: [] };
    throw err;
  }
  const parsed = EvalSetsFile.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${file}: not a Spotter evaluation-set list (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  return parsed.data;
}

/** The dataset's evaluation sets (those whose folder is still there). */
export async function listEvalSets(datasetDir: string): Promise<EvalSetInfo[]> {
  const { sets } = await readSetsFile(datasetDir);
  return sets
    .map((s) => ({ ...s, dir: evalSetDir(datasetDir, s.name) }))
    .filter((s) => existsSync(path.join(s.dir, 'data.yaml')));
}

/** The data.yaml of a named evaluation set, for `val` (an error naming the set when it is not there). */
export async function evalSetDataYaml(datasetDir: string, name: string): Promise<string> {
  const sets = await listEvalSets(datasetDir);
  const set = sets.find((s) => s.name === name);
  if (!set) {
    throw new Error(`${path.resolve(datasetDir)}: no evaluation set "${name}"${sets.length ? ` (it has: ${sets.map((s) => s.name).join(', ')})` : ' (it has none)'}`);
  }
  return path.join(set.dir, 'data.yaml');
}

/** rename, or copy when the temp folder is on another disk than the dataset */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await fs.rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await fs.copyFile(from, to);
  }
}

async function classNames(datasetDir: string): Promise<string[]> {
  const file = path.join(datasetDir, 'mapping.json');
  const mapping = MappingFile.parse(JSON.parse(await fs.readFile(file, 'utf8')));
  return [...mapping.classes].sort((a, b) => a.id - b.id).map((c) => c.name);
}

/**
 * Import `sources` as the evaluation set `name` of the dataset at `datasetDir`. Nothing is left behind
 * when it fails or is cancelled; an existing set of that name is replaced only once the new one is complete.
 */
export async function addEvalSet(ctx: CoreContext, datasetDirIn: string, name: string, sources: string[], job: JobContext): Promise<EvalSetInfo> {
  const datasetDir = path.resolve(datasetDirIn);
  if (!NAME.test(name)) throw new Error(`"${name}": an evaluation set's name is letters, digits, _ . - (up to 40, starting with a letter or digit)`);
  if (!existsSync(path.join(datasetDir, 'mapping.json'))) throw new Error(`${datasetDir}: not a Spotter dataset (no mapping.json)`);
  const names = await classNames(datasetDir);
  const index = new Map(names.map((n, i) => [n, i]));

  await fs.mkdir(ctx.paths.tempDir, { recursive: true });
  const work = await fs.mkdtemp(path.join(ctx.paths.tempDir, 'evalset-'));
  const setsRoot = path.join(datasetDir, 'evalsets');
  const staging = path.join(setsRoot, `.${name}.spotter-tmp-${randomBytes(4).toString('hex')}`);
  try {
    // every image of the sources, whatever split they were in: one split, no near-duplicate merging needed
    const imported = await runImport(
      { sources, out: path.join(work, 'ds'), name, task: 'detect', ratios: [1, 0, 0], seed: 0, group: 'none', keepSplits: false, resplit: true, keepCrowd: true, dupThreshold: -1, classMap: {}, imgsz: 640 },
      job,
      ctx,
      { datasetsDir: work },
    );
    job.throwIfCancelled();
    const srcNames = [...imported.mapping.classes].sort((a, b) => a.id - b.id).map((c) => c.name);
    const unknown = srcNames.filter((n) => !index.has(n));
    if (unknown.length) {
      throw new Error(
        `${sources.join(', ')}: classes not in the dataset ${path.basename(datasetDir)}: ${unknown.join(', ')} (its classes: ${names.join(', ')}); rename them in the export to the dataset's names`,
      );
    }
    const remap = srcNames.map((n) => index.get(n)!);
    const entries = z.array(SplitEntry).parse(JSON.parse(await fs.readFile(path.join(imported.dir, 'split.json'), 'utf8')));
    await fs.mkdir(path.join(staging, 'images'), { recursive: true });
    await fs.mkdir(path.join(staging, 'labels'), { recursive: true });
    let objects = 0;
    let done = 0;
    for (const e of entries) {
      job.throwIfCancelled();
      // images/<split>/<rel> in the imported dataset → images/<rel> in the set
      const rel = e.file.replace(/^images\/[^/]+\//, '');
      const labelRel = e.file.replace(/^images\//, 'labels/').replace(/\.[^./]+$/, '.txt');
      await fs.mkdir(path.dirname(path.join(staging, 'images', rel)), { recursive: true });
      await moveFile(path.join(imported.dir, e.file), path.join(staging, 'images', rel));
      const text = await fs.readFile(path.join(imported.dir, labelRel), 'utf8').catch(() => '');
      const lines = text
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => {
          const [cls, ...rest] = l.trim().split(/\s+/);
          objects++;
          return [remap[Number(cls)], ...rest].join(' ');
        });
      const labelOut = path.join(staging, 'labels', rel.replace(/\.[^./]+$/, '.txt'));
      await fs.mkdir(path.dirname(labelOut), { recursive: true });
      await fs.writeFile(labelOut, lines.length ? lines.join('\n') + '\n' : '');
      job.progress('evaluation set', ++done, entries.length);
    }
    const doc = { path: evalSetDir(datasetDir, name), train: 'images', val: 'images', nc: names.length, names };
    await fs.writeFile(path.join(staging, 'data.yaml'), `# Spotter evaluation set "${name}" of ${path.basename(datasetDir)}: never trained on\n${YAML.stringify(doc)}`);
    const info: EvalSetInfo = { name, dir: evalSetDir(datasetDir, name), images: entries.length, objects, source: sources.join(', '), addedAt: new Date().toISOString() };

    // swap in: the old set (if any) goes only once the new one is complete
    const final = evalSetDir(datasetDir, name);
    await withLock(datasetDir, async () => {
      const old = existsSync(final) ? `${staging}-old` : null;
      if (old) await fs.rename(final, old);
      try {
        await fs.rename(staging, final);
      } catch (err) {
        if (old) await fs.rename(old, final).catch(() => {}); // put the previous set back
        throw err;
      }
      if (old) await fs.rm(old, { recursive: true, force: true });
      const file = await readSetsFile(datasetDir);
      const { dir: _dir, ...stored } = info;
      file.sets = [...file.sets.filter((s) => s.name !== name), stored];
      await writeFileAtomic(path.join(datasetDir, EVALSETS_FILE), JSON.stringify(file, null, 2) + '\n');
    });
    return info;
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true });
    throw err;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

export async function removeEvalSet(datasetDirIn: string, name: string): Promise<void> {
  const datasetDir = path.resolve(datasetDirIn);
  if (!NAME.test(name)) throw new Error(`${datasetDir}: no evaluation set "${name}"`);
  await withLock(datasetDir, async () => {
    const file = await readSetsFile(datasetDir);
    if (!file.sets.some((s) => s.name === name)) throw new Error(`${datasetDir}: no evaluation set "${name}"`);
    file.sets = file.sets.filter((s) => s.name !== name);
    await writeFileAtomic(path.join(datasetDir, EVALSETS_FILE), JSON.stringify(file, null, 2) + '\n');
    await fs.rm(evalSetDir(datasetDir, name), { recursive: true, force: true });
  });
}
