/**
 * The import pipeline: sources (files, folders, zips) → read (COCO, CVAT, YOLO) → merge and map
 * classes by name → resolve images and their real sizes → group (anti-leak) → split → convert →
 * write an Ultralytics dataset atomically → health check. `inspectImport` runs the first half and
 * tells the UI what it found; `runImport` does everything.
 */
import fs from 'node:fs/promises';
import { linkSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { CoreContext } from '../context.js';
import type { InspectResult, ImportResult } from '../../shared/contract.js';
import {
  ImportOptions,
  type DatasetReport,
  type GroupingInfo,
  type ImportOptionsParsed,
  type LeakAudit,
  type MappingFile,
  type SplitEntry,
  type SplitName,
} from '../../shared/schemas.js';
import type { JobContext } from '../jobs/jobs.js';
import { CancelledError } from '../jobs/jobs.js';
import { exists, isImageFile, isInside, walkFiles } from '../fsutil.js';
import { ImportError, type ImportNote, type SourceDataset, type SourceImage, bumpCount } from './model.js';
import { detectSources, type DetectedFile } from './detect.js';
import { extractZip } from './zip.js';
import { readCoco } from './formats/coco.js';
import { readCvatXml } from './formats/cvat.js';
import { readYolo } from './formats/yolo.js';
import { imageHash } from './phash.js';
import { pixelLinks } from './pixels.js';
import { augmentedCopies, computeGroups, mergeNearDuplicates, type GroupingResult, type GroupItem, type GroupOptions } from './groups.js';
import { auditSplits, splitDataset, splitStats } from './split.js';
import { auditIsClean, auditSentence } from '../../shared/audit.js';
import { emptyConvertCounts } from './convert.js';
import type { KnownImage } from './health.js';
import { buildMapping, type ClassMapping } from './mapping.js';
import { mapLimit } from '../pool.js';
import { finishDataset, labelText, makeSplitFolders, rememberImage, yieldEvery256 } from './output.js';
import { previewMerge, runMerge } from '../review/merge.js';

// ------------------------------------------------------------------ reading

interface LoadedSource {
  input: string;
  /** the folder the input became (a zip's extraction folder, or the folder itself) */
  inputRoot: string;
  detected: DetectedFile;
  dataset: SourceDataset;
}

export interface Prepared {
  opts: ImportOptionsParsed;
  sources: LoadedSource[];
  /** every image of every source, in source order */
  images: Array<SourceImage & { source: number }>;
  /** source category names in stable order (declared order, first source first) */
  categories: string[];
  notes: ImportNote[];
  counts: Record<string, number>;
  cleanup: () => Promise<void>;
}

async function readDetected(d: DetectedFile, opts: ImportOptionsParsed, signal: AbortSignal): Promise<SourceDataset[]> {
  const ro = { keepCrowd: opts.keepCrowd, signal };
  if (d.format === 'coco') return [await readCoco(d.path, { ...ro, subset: d.subset })];
  if (d.format === 'cvat' || d.format === 'cvat-images' || d.format === 'cvat-video') return [await readCvatXml(d.path, ro)];
  return [await readYolo(d.path, ro)];
}

/**
 * Roboflow and Kaggle exports state their licence in README files rather than in the annotations
 * (`License: CC BY 4.0`): record it with the dataset so the user sees what they may ship.
 */
async function addReadmeLicenses(sources: LoadedSource[]): Promise<void> {
  const roots = new Map<string, SourceDataset>();
  for (const s of sources) {
    const inputRoot = (await fs.stat(s.inputRoot).catch(() => null))?.isDirectory() ? s.inputRoot : path.dirname(s.inputRoot);
    for (const r of [inputRoot, s.dataset.root]) if (!roots.has(r)) roots.set(r, s.dataset);
  }
  for (const [root, target] of roots) {
    let names: string[] = [];
    try {
      names = (await fs.readdir(root)).filter((n) => /^readme.*\.(txt|md)$/i.test(n));
    } catch {
      continue;
    }
    for (const n of names) {
      const text = await fs.readFile(path.join(root, n), 'utf8').catch(() => '');
      const m = /^\s*licen[cs]e\s*:\s*(.+?)\s*$/im.exec(text);
      if (!m) continue;
      if (!target.licenses.some((l) => l.name === m[1])) target.licenses.push({ name: m[1]!, source: n });
    }
  }
}

/** Extract zips, detect formats, read every source. Temporary folders are removed by `cleanup`. */
export async function prepareSources(rawOpts: ImportOptionsParsed, job: JobContext, ctx: CoreContext): Promise<Prepared> {
  const opts = rawOpts;
  const temps: string[] = [];
  const cleanup = async () => {
    await Promise.all(temps.map((t) => fs.rm(t, { recursive: true, force: true }).catch(() => {})));
  };
  try {
    const sources: LoadedSource[] = [];
    for (const [i, input] of opts.sources.entries()) {
      job.throwIfCancelled();
      let root = path.resolve(input);
      if (root.toLowerCase().endsWith('.zip')) {
        await fs.mkdir(ctx.paths.tempDir, { recursive: true });
        const dest = path.join(ctx.paths.tempDir, `extract-${randomBytes(6).toString('hex')}`);
        temps.push(dest);
        job.progress(`Extracting ${path.basename(root)}`, 0, 1);
        await extractZip(root, dest, { signal: job.signal, onProgress: (d, t) => job.progress(`Extracting ${path.basename(input)}`, d, t) });
        root = dest;
      }
      job.progress('Reading annotations', i, opts.sources.length);
      const detected = await detectSources(root, job.signal);
      for (const d of detected) {
        job.throwIfCancelled();
        for (const dataset of await readDetected(d, opts, job.signal)) sources.push({ input, inputRoot: root, detected: d, dataset });
      }
    }
    await addReadmeLicenses(sources);
    const images: Prepared['images'] = [];
    const categories: string[] = [];
    const seenCat = new Set<string>();
    const notes: ImportNote[] = [];
    const counts: Record<string, number> = {};
    sources.forEach((s, si) => {
      for (const c of s.dataset.categories) {
        if (!seenCat.has(c)) {
          seenCat.add(c);
          categories.push(c);
        }
      }
      for (const img of s.dataset.images) images.push({ ...img, source: si });
      notes.push(...s.dataset.notes);
      for (const [k, v] of Object.entries(s.dataset.counts)) bumpCount(counts, k, v);
    });
    // categories used by objects but not declared (YOLO without names, CVAT labels missing from meta)
    for (const img of images) {
      for (const o of img.objects) {
        if (!seenCat.has(o.category)) {
          seenCat.add(o.category);
          categories.push(o.category);
        }
      }
    }
    return { opts, sources, images, categories, notes, counts, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Licences of all sources, each name/url once (three split folders of one export repeat theirs). */
export function uniqueLicenses(prep: Prepared): DatasetReport['licenses'] {
  const seen = new Set<string>();
  return prep.sources
    .flatMap((s) => s.dataset.licenses)
    .filter((l) => {
      const k = `${l.name}|${l.url ?? ''}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
}

// ------------------------------------------------------------------ images

export interface ImageFacts {
  /** real size after EXIF orientation */
  width?: number;
  height?: number;
  sha1?: string;
  hash?: bigint;
  corrupt?: string;
}

/**
 * Resolve each image's file: by its relative path from the folders exports put images in, then by
 * a unique file name. Only the source is searched: the dropped folder or zip, or — for a bare
 * annotation file — its own folder and an `images/` folder beside it or beside its parent.
 */
export async function resolveImagePaths(prep: Prepared, job: JobContext): Promise<void> {
  const bySource = new Map<number, Array<SourceImage & { source: number }>>();
  for (const img of prep.images) {
    if (img.path) continue;
    const list = bySource.get(img.source);
    if (list) list.push(img);
    else bySource.set(img.source, [img]);
  }
  // the image files of each searched place, listed once (a Roboflow export's three split files share one)
  const listed = new Map<string, Set<string>>();
  const imagesUnder = async (key: string, list: () => Promise<string[]>) => {
    let set = listed.get(key);
    if (!set) listed.set(key, (set = new Set((await list()).filter(isImageFile))));
    return set;
  };
  for (const [si, imgs] of bySource) {
    job.throwIfCancelled();
    const src = prep.sources[si]!;
    const annDir = path.dirname(src.detected.path);
    const inputIsDir = (await fs.stat(src.inputRoot).catch(() => null))?.isDirectory() ?? false;
    const index = inputIsDir
      ? await imagesUnder(src.inputRoot, () => walkFiles(src.inputRoot, job.signal))
      : await imagesUnder(`file:${annDir}`, async () => {
          const top = await fs.readdir(annDir, { withFileTypes: true }).catch(() => []);
          const files = top.filter((e) => e.isFile()).map((e) => path.join(annDir, e.name));
          for (const d of [path.join(annDir, 'images'), path.join(annDir, '..', 'images')]) files.push(...(await walkFiles(d, job.signal)));
          return files;
        });
    if (index.size === 0) continue; // an export without media: labels still convert
    const byName = new Map<string, string[]>();
    for (const f of index) {
      const b = path.basename(f);
      const list = byName.get(b);
      if (list) list.push(f);
      else byName.set(b, [f]);
    }
    const baseDirs = (subset?: string) => {
      const b = [annDir, path.join(annDir, '..'), path.join(annDir, 'images'), path.join(annDir, '..', 'images'), src.inputRoot, path.join(src.inputRoot, 'images')];
      if (subset) b.push(path.join(annDir, subset), path.join(annDir, '..', subset), path.join(annDir, '..', 'images', subset), path.join(src.inputRoot, 'images', subset));
      return [...new Set(b.map((d) => path.resolve(d) + path.sep))];
    };
    const basesBySubset = new Map<string, string[]>();
    for (const img of imgs) {
      const key = img.subset ?? '';
      let bases = basesBySubset.get(key);
      if (!bases) basesBySubset.set(key, (bases = baseDirs(img.subset)));
      const native = img.name.split('/').join(path.sep);
      const plain = !native.startsWith(path.sep) && !img.name.split('/').includes('..');
      let found: string | undefined;
      if (plain) found = bases.map((b) => b + native).find((c) => index.has(c));
      if (!found) {
        const cands = byName.get(path.posix.basename(img.name)) ?? [];
        if (cands.length === 1) found = cands[0];
        else if (cands.length > 1) {
          const sub = img.subset?.toLowerCase();
          const pick = sub ? cands.filter((c) => c.toLowerCase().split(path.sep).includes(sub)) : [];
          if (pick.length === 1) found = pick[0];
          else
            prep.notes.push({
              severity: 'warning',
              code: 'ambiguous-image',
              message: `${cands.length} files are named ${path.posix.basename(img.name)}; cannot tell which one the annotations mean`,
              file: img.name,
              item: img.ref,
            });
        }
      }
      if (found) img.path = found;
    }
  }
  // images that sit in the export but that no annotation file names: not imported, and said so
  const claimed = new Set(prep.images.map((i) => i.path).filter((p): p is string => !!p));
  const unlisted = [...new Set([...listed.values()].flatMap((set) => [...set]))].filter((f) => !claimed.has(f));
  if (unlisted.length) {
    prep.notes.push({
      severity: 'warning',
      code: 'unlisted-images',
      message: `${unlisted.length} image file${unlisted.length === 1 ? '' : 's'} in the export ${unlisted.length === 1 ? 'is' : 'are'} not named by any annotation file and ${unlisted.length === 1 ? 'was' : 'were'} not imported (e.g. ${unlisted
        .slice(0, 3)
        .map((f) => path.basename(f))
        .join(', ')}); annotate ${unlisted.length === 1 ? 'it' : 'them'} or add ${unlisted.length === 1 ? 'it' : 'them'} as negatives`,
      file: unlisted[0],
    });
  }
}

/**
 * A zip must not pull in files from elsewhere on the machine (a data.yaml inside it naming
 * `/home/...` or `../../..`): such images are not used. (A folder or data.yaml the user picked on
 * their own disk may point wherever their images live.)
 */
export function confineToSources(prep: Prepared): void {
  for (const img of prep.images) {
    const src = prep.sources[img.source]!;
    if (!img.path || !src.input.toLowerCase().endsWith('.zip') || isInside(src.inputRoot, img.path)) continue;
    prep.notes.push({
      severity: 'error',
      code: 'image-outside-source',
      message: 'the annotations in the zip point to a file outside the zip; it was not used',
      file: img.path,
      item: img.ref,
    });
    img.path = undefined;
  }
}

export async function readImageFacts(prep: Prepared, job: JobContext, wantHashes: boolean): Promise<ImageFacts[]> {
  return readFactsOf(prep.images.map((i) => i.path), job, wantHashes);
}

export async function readFactsOf(paths: ReadonlyArray<string | undefined>, job: JobContext, wantHashes: boolean): Promise<ImageFacts[]> {
  const facts: ImageFacts[] = paths.map(() => ({}));
  const total = paths.length;
  let done = 0;
  await mapLimit(paths, Math.max(2, os.availableParallelism()), async (imgPath, i) => {
    job.throwIfCancelled();
    if (imgPath) {
      const f = facts[i]!;
      try {
        const bytes = await fs.readFile(imgPath);
        f.sha1 = createHash('sha1').update(bytes).digest('hex');
        const meta = await sharp(bytes).metadata();
        const swap = (meta.orientation ?? 1) >= 5;
        f.width = swap ? meta.height : meta.width;
        f.height = swap ? meta.width : meta.height;
        if (wantHashes) f.hash = await imageHash(bytes); // also the full decode that catches truncated files
      } catch (err) {
        f.corrupt = (err as Error).message;
      }
    }
    done++;
    job.progress(wantHashes ? 'Reading and hashing images' : 'Reading images', done, total);
  });
  return facts;
}

// ------------------------------------------------------------------ inspect

export function normalizeSubset(s: string | undefined): SplitName | undefined {
  if (!s) return undefined;
  const v = s.toLowerCase();
  if (v.startsWith('train')) return 'train';
  if (v.startsWith('val') || v === 'valid' || v === 'validation' || v === 'dev') return 'val';
  if (v.startsWith('test')) return 'test';
  return undefined;
}

function groupItems(prep: Prepared, mapping: ClassMapping): GroupItem[] {
  return prep.images.map((img) => ({
    name: img.name,
    subset: img.subset,
    sequence: img.sequence,
    groupHint: img.groupHint,
    classes: img.objects.map((o) => mapping.classOf(o.category)).filter((c): c is number => c !== undefined),
  }));
}

/** What computeGroups needs from the import options: the level the user chose, the split the groups are for. */
export function groupOptions(opts: ImportOptionsParsed): GroupOptions {
  if (opts.groupLevel !== undefined && opts.group !== 'auto') throw new ImportError(`--group-level needs --group auto (it picks a level of the inferred structure), not ${JSON.stringify(opts.group)}`);
  return { ratios: opts.ratios, seed: opts.seed, ...(opts.groupLevel !== undefined ? { level: opts.groupLevel } : {}) };
}

/** report.json's grouping: what computeGroups found (its levels included) and what the split did with it. */
export function groupingInfo(
  grouping: GroupingResult,
  keys: readonly string[],
  split: Pick<GroupingInfo, 'time_blocks' | 'guard_gap' | 'dropped_guard_frames' | 'dropped_augmented' | 'near_duplicate_merges' | 'split_summary' | 'pixels'>,
): GroupingInfo {
  return {
    strategy: grouping.strategy,
    level: grouping.level,
    ...(grouping.levels.length ? { levels: grouping.levels } : {}),
    description: grouping.description,
    groups: new Set(keys).size,
    examples: grouping.examples,
    sequences: grouping.sequences.size,
    ...split,
  };
}

export async function inspectImport(input: ImportOptionsParsed, job: JobContext, ctx: CoreContext): Promise<InspectResult> {
  const opts = ImportOptions.parse(input);
  const prep = await prepareSources(opts, job, ctx);
  try {
    await resolveImagePaths(prep, job);
    confineToSources(prep);
    const mapping = buildMapping(prep.categories, prep.images, opts.classMap);
    const items = groupItems(prep, mapping);
    const grouping = computeGroups(items, opts.group, groupOptions(opts));
    const missing = prep.images.filter((i) => !i.path).length;
    const merge = opts.base ? await previewMerge(opts.base, prep.images, mapping.names, prep.notes) : undefined;
    if (merge?.conflict) prep.notes.push({ severity: 'error', code: 'merge-class-conflict', message: `${merge.conflict}: the merge is refused until it is mapped` });
    const subsets = [...new Set(prep.images.map((i) => i.subset).filter((s): s is string => !!s))];
    const instancesOf = new Map<string, { instances: number; images: Set<number> }>();
    prep.images.forEach((img, i) => {
      for (const o of img.objects) {
        const e = instancesOf.get(o.category) ?? { instances: 0, images: new Set<number>() };
        e.instances++;
        e.images.add(i);
        instancesOf.set(o.category, e);
      }
    });
    return {
      sources: prep.sources.map((s) => ({
        input: s.input,
        format: s.dataset.format,
        files: s.dataset.files,
        images: s.dataset.images.length,
        subsets: [...new Set(s.dataset.images.map((i) => i.subset).filter((x): x is string => !!x))],
      })),
      classes: prep.categories.map((c) => ({
        source: c,
        instances: instancesOf.get(c)?.instances ?? 0,
        images: instancesOf.get(c)?.images.size ?? 0,
        target: mapping.targetOf(c),
      })),
      images: prep.images.length,
      negatives: prep.images.filter((i) => i.objects.length === 0).length,
      missingImages: missing,
      objects: prep.images.reduce((n, i) => n + i.objects.length, 0),
      subsets,
      grouping: groupingInfo(grouping, grouping.keys, { time_blocks: false, guard_gap: opts.guardGap ?? 0, dropped_guard_frames: 0, near_duplicate_merges: 0 }),
      licenses: uniqueLicenses(prep),
      counts: prep.counts,
      notes: capNotes(prep.notes, missing),
      ...(merge && { merge }),
    };
  } finally {
    await prep.cleanup();
  }
}

/** Keep the UI payload small: at most 20 notes per code, plus a summary note for the rest. */
function capNotes(notes: ImportNote[], missing: number): ImportNote[] {
  const byCode = new Map<string, ImportNote[]>();
  for (const n of notes) {
    const list = byCode.get(n.code);
    if (list) list.push(n);
    else byCode.set(n.code, [n]);
  }
  const out: ImportNote[] = [];
  for (const [code, list] of byCode) {
    out.push(...list.slice(0, 20));
    if (list.length > 20) out.push({ severity: list[0]!.severity, code, message: `…and ${list.length - 20} more like this` });
  }
  if (missing) {
    out.push({
      severity: 'warning',
      code: 'missing-images',
      message: `${missing} images named by the annotations were not found; their labels are still converted (add the images before training)`,
    });
  }
  return out;
}

// ------------------------------------------------------------------ run

export function safeName(s: string): string {
  return s.replace(/[\\/:*?"<>|\x00-\x1f]/g, '_').replace(/\s+/g, ' ').trim().slice(0, 120) || 'dataset';
}

function defaultName(opts: ImportOptionsParsed): string {
  if (opts.name) return safeName(opts.name);
  const first = path.basename(opts.sources[0]!).replace(/\.(zip|json|xml|ya?ml)$/i, '');
  return safeName(first === '_annotations.coco' ? path.basename(path.dirname(opts.sources[0]!)) : first);
}

/**
 * Reserve `<parent>/<name>` (or `<name>-2`, `-3`, …) by creating it empty: two imports started at
 * the same moment (a double click) get different folders instead of racing for one rename.
 */
async function reserveDir(parent: string, name: string): Promise<string> {
  for (let i = 1; ; i++) {
    const p = path.join(parent, i === 1 ? name : `${name}-${i}`);
    try {
      await fs.mkdir(p);
      return p;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/**
 * Output file names: the basename, prefixed by its folders only when two images of a split would
 * collide. Unique by stem, case-insensitively: `a.jpg` and `a.png` would share `labels/<split>/a.txt`.
 */
function outputNames(images: Prepared['images'], splits: (SplitName | null)[]): string[] {
  const used = new Set<string>();
  const stemKey = (split: string, name: string) => `${split}/${name.slice(0, name.length - path.posix.extname(name).length).toLowerCase()}`;
  return images.map((img, i) => {
    const split = splits[i];
    if (!split) return '';
    const base = path.posix.basename(img.name);
    let name = base;
    if (used.has(stemKey(split, name))) {
      const prefix = path.posix.dirname(img.name).replace(/[/\\]/g, '__').replace(/^\.$/, `src${img.source}`);
      name = `${prefix}__${base}`;
    }
    const ext = path.posix.extname(name);
    const stem = name.slice(0, name.length - ext.length);
    for (let k = 2; used.has(stemKey(split, name)); k++) name = `${stem}_${k}${ext}`;
    used.add(stemKey(split, name));
    return name;
  });
}

export async function linkOrCopy(src: string, dst: string): Promise<void> {
  try {
    linkSync(src, dst); // a hard link costs no space and no time; sync: it is one cheap syscall
  } catch {
    await fs.copyFile(src, dst); // another file system (or one without links): copy
  }
}

export interface RunImportEnv {
  /** where datasets go when `opts.out` is not given */
  datasetsDir: string;
}

export async function runImport(input: ImportOptionsParsed, job: JobContext, ctx: CoreContext, env: RunImportEnv): Promise<ImportResult> {
  const opts = ImportOptions.parse(input);
  if (opts.base) return runMerge(opts, job, ctx);
  const [rt, rv, rs] = opts.ratios;
  if (!opts.keepSplits && !(rt > 0 && rt + rv + rs > 0)) throw new ImportError('split ratios must give train a positive share');
  let outDir: string;
  if (opts.out) {
    outDir = path.resolve(opts.out);
    if (await exists(outDir)) {
      const entries = await fs.readdir(outDir).catch(() => ['?']);
      if (entries.length) throw new ImportError('output folder already exists and is not empty; choose another --out or remove it', outDir);
    }
  } else {
    await fs.mkdir(env.datasetsDir, { recursive: true });
    outDir = await reserveDir(env.datasetsDir, defaultName(opts));
  }
  const reserved = !opts.out;
  let prep: Prepared;
  try {
    // validate what can be validated before reading a single image
    computeGroups([], opts.group, groupOptions(opts));
    prep = await prepareSources(opts, job, ctx);
  } catch (err) {
    if (reserved) await fs.rmdir(outDir).catch(() => {});
    throw err;
  }
  const tmpDir = path.join(path.dirname(outDir), `.${path.basename(outDir)}.spotter-tmp-${randomBytes(4).toString('hex')}`);
  // the first folder this import creates on the way to outDir: removed again when the import fails
  let firstCreated: string | undefined;
  for (let d = path.dirname(outDir); !(await exists(d)); d = path.dirname(d)) firstCreated = d;
  try {
    await resolveImagePaths(prep, job);
    confineToSources(prep);
    const wantHashes = opts.dupThreshold >= 0;
    const facts = await readImageFacts(prep, job, wantHashes);
    const notes = prep.notes;
    const counts: Record<string, number> = { ...prep.counts };

    // sizes: the annotations' frame is what coordinates refer to; disagreements are reported
    const sizes: Array<[number, number] | undefined> = prep.images.map((img, i) => {
      const f = facts[i]!;
      if (f.corrupt) {
        notes.push({ severity: 'error', code: 'corrupt-image', message: `image cannot be decoded: ${f.corrupt}`, file: img.path, item: img.ref });
      }
      if (img.width && img.height && f.width && f.height && (img.width !== f.width || img.height !== f.height)) {
        const rotated = img.width === f.height && img.height === f.width;
        notes.push({
          severity: 'warning',
          code: 'size-mismatch',
          message: rotated
            ? `annotations say ${img.width}x${img.height} but the image is ${f.width}x${f.height} after EXIF rotation; labels follow the annotations`
            : `annotations say ${img.width}x${img.height} but the image file is ${f.width}x${f.height}; labels follow the annotations`,
          file: img.path ?? img.name,
          item: img.ref,
        });
      }
      const w = img.width ?? f.width, h = img.height ?? f.height;
      if (!w || !h) {
        notes.push({ severity: 'error', code: 'unknown-size', message: 'image size unknown (no file and no width/height in the annotations); skipped', file: img.name, item: img.ref });
        return undefined;
      }
      return [w, h];
    });
    if (!prep.images.some((i) => i.path)) {
      notes.push({ severity: 'warning', code: 'annotations-without-images', message: 'the export holds no images: labels are converted, add the images to images/<split>/ before training' });
    }

    const mapping = buildMapping(prep.categories, prep.images, opts.classMap);
    const items = groupItems(prep, mapping);
    job.progress('Grouping', 0, 1);
    const grouping = computeGroups(items, opts.group, { ...groupOptions(opts), ...(wantHashes ? { hashes: facts.map((f) => f.hash) } : {}) });
    let keys = grouping.keys;
    let merges = 0;
    let pixels: GroupingInfo['pixels'];
    if (wantHashes) {
      // structure from the pixels: near-duplicates, and mutual nearest neighbours within the learned threshold
      const links = pixelLinks(facts.map((f) => f.hash), opts.dupThreshold);
      const fixed = mergeNearDuplicates(keys, links.pairs.slice(0, links.pairs.length - links.mutual));
      const mutual = mergeNearDuplicates(fixed.keys, links.pairs.slice(links.pairs.length - links.mutual));
      keys = mutual.keys;
      merges = fixed.merges + mutual.merges;
      pixels = { near_duplicate_merges: fixed.merges, mutual_neighbour_merges: mutual.merges, ...(links.learned !== undefined ? { learned_threshold: links.learned } : {}) };
    }
    // the hashes the split and the audit compare (one definition of a near-duplicate for both)
    const audited = wantHashes ? { hashes: facts.map((f) => f.hash), dupThreshold: opts.dupThreshold } : {};
    const sha1 = facts.map((f) => f.sha1);

    // images without a usable size cannot be labelled: they take no split
    const usable = sizes.map((s) => s !== undefined);
    let splits: (SplitName | null)[];
    let timeBlocks = false, guardGap = 0, dropped = 0, droppedAugmented = 0;
    let splitSummary: string | undefined;
    const splitWarnings: string[] = [];
    // the export's own split, audited first: where it is complete (train and a held-out split, every usable image in
    // one) and clean by the audit (hashes compared), it is kept unless a re-split was asked for
    const subsets = prep.images.map((img) => normalizeSubset(img.subset) ?? null);
    const complete = subsets.every((s, i) => s !== null || !usable[i]) && subsets.includes('train') && subsets.some((s) => s === 'val' || s === 'test');
    const sourceAudit: LeakAudit | undefined =
      !opts.keepSplits && subsets.some((s) => s !== null) ? auditSplits(items, keys, subsets, { ...audited, sha1, frames: grouping.frames }) : undefined;
    const keepClean = !opts.keepSplits && !opts.resplit && complete && wantHashes && !!sourceAudit && auditIsClean(sourceAudit);
    const keep = opts.keepSplits || keepClean;
    if (keepClean) {
      splitSummary = `The export's own split is clean by the audit (${auditSentence(sourceAudit!)}): kept as it is (re-split by ratio with --resplit).`;
    }
    if (keep) {
      splits = prep.images.map((img, i) => (usable[i] ? normalizeSubset(img.subset) ?? 'train' : null));
      const unknown = prep.images.filter((img) => img.subset && !normalizeSubset(img.subset)).length;
      if (unknown) splitWarnings.push(`${unknown} images had an export split Spotter does not recognise; they were put in train`);
    } else {
      job.progress('Splitting', 0, 1);
      const res = splitDataset(items, keys, { ratios: opts.ratios, seed: opts.seed, guardGap: opts.guardGap, frames: grouping.frames, augmented: augmentedCopies(items), ...audited });
      splits = res.splits.map((s, i) => (usable[i] ? s : null));
      timeBlocks = res.timeBlocks;
      guardGap = res.guardGap;
      dropped = res.dropped - res.augmentedDropped;
      droppedAugmented = res.augmentedDropped;
      splitSummary = res.summary;
      splitWarnings.push(...res.warnings);
    }
    for (const w of splitWarnings) notes.push({ severity: 'warning', code: 'split', message: w });
    const frames = grouping.frames;
    const audit: LeakAudit = auditSplits(items, keys, splits, { ...audited, sha1, frames, ...(timeBlocks ? { guardGap } : {}) });
    if (sourceAudit && !auditIsClean(sourceAudit)) {
      notes.push({
        severity: 'info',
        code: 'source-split-leak',
        message: `the export's own train/val/test split leaked: ${auditSentence(sourceAudit)}; Spotter re-split by group`,
      });
    }

    // ---- write into a temporary sibling folder, then rename
    await fs.mkdir(tmpDir, { recursive: true });
    const usedSplits = await makeSplitFolders(tmpDir, splits);
    const names = outputNames(prep.images, splits);
    const cc = emptyConvertCounts();
    const splitEntries: SplitEntry[] = [];
    const total = prep.images.length;
    let written = 0;
    const known = new Map<string, KnownImage>();
    // Synchronous writes on purpose: 100k small label files were measured ~20x faster with
    // writeFileSync than through fs.promises' thread pool. The loop yields every 256 images so
    // progress and cancel requests get through.
    for (const [i, img] of prep.images.entries()) {
      await yieldEvery256(job, i, written, total);
      const split = splits[i];
      const size = sizes[i];
      if (!split || !size) continue;
      const name = names[i]!;
      const stem = name.slice(0, name.length - path.posix.extname(name).length);
      writeFileSync(path.join(tmpDir, 'labels', split, `${stem}.txt`), labelText(img.objects, mapping.classOf, opts.task, size[0], size[1], cc));
      const f = facts[i]!;
      if (img.path && !f.corrupt) {
        const dest = path.join(tmpDir, 'images', split, name);
        await linkOrCopy(img.path, dest);
        rememberImage(known, dest, f);
      }
      splitEntries.push({ source: img.name, file: `images/${split}/${name}`, split, group: keys[i]!, ...(grouping.frames[i] !== undefined ? { frame: grouping.frames[i] } : {}) });
      written++;
    }
    for (const [k, v] of Object.entries(cc)) if (v) counts[k] = v;
    if (cc.boxes_clipped) notes.push({ severity: 'warning', code: 'box-outside', message: `${cc.boxes_clipped} objects reached outside their image and were clipped to it` });
    if (cc.objects_dropped_zero_area) notes.push({ severity: 'warning', code: 'box-zero-area', message: `${cc.objects_dropped_zero_area} objects had no area (after clipping) and were dropped` });
    if (cc.boxes_as_polygons) notes.push({ severity: 'warning', code: 'boxes-only-objects', message: `${cc.boxes_as_polygons} objects had only a box in a segmentation dataset; their rectangles were used as polygons` });

    const entries = splitEntries;
    const stats = splitStats(items, keys, splits, mapping.names);
    const mappingFile: MappingFile = mapping.toFile();
    const report: DatasetReport = {
      spotter_version: ctx.version,
      created_at: new Date().toISOString(),
      name: path.basename(outDir),
      task: opts.task,
      sources: prep.sources.map((s) => ({ path: s.input, format: s.dataset.format, images: s.dataset.images.length })),
      split_mode: keep ? 'keep' : 'ratio',
      ratios: opts.ratios,
      seed: opts.seed,
      grouping: groupingInfo(grouping, keys, { time_blocks: timeBlocks, guard_gap: guardGap, dropped_guard_frames: dropped, dropped_augmented: droppedAugmented, near_duplicate_merges: merges, ...(splitSummary ? { split_summary: splitSummary } : {}), ...(pixels ? { pixels } : {}) }),
      splits: stats.splits,
      leak_audit: audit,
      ...(sourceAudit ? { source_split_audit: sourceAudit } : {}),
      licenses: uniqueLicenses(prep),
      counts,
      names: mapping.names,
    };
    const health = await finishDataset({
      tmpDir,
      outDir,
      names: mapping.names,
      usedSplits,
      entries,
      mapping: mappingFile,
      report,
      notes,
      known,
      imgsz: opts.imgsz,
      dupThreshold: opts.dupThreshold,
      job,
      total,
    });
    return { dir: outDir, dataYaml: path.join(outDir, 'data.yaml'), report, health, mapping: mappingFile };
  } catch (err) {
    await fs.rm(tmpDir, { recursive: true, force: true }).catch(() => {});
    if (firstCreated) await fs.rm(firstCreated, { recursive: true, force: true }).catch(() => {});
    if (reserved) await fs.rmdir(outDir).catch(() => {});
    if (job.signal.aborted) throw new CancelledError();
    throw err;
  } finally {
    await prep.cleanup();
  }
}
