/**
 * Re-importing a corrected export into a new version of a dataset (ImportOptions.base): the active
 * learning round trip's way back. The new dataset `<base>_v<N>` (next free N, beside the base)
 * holds the base's images and labels; a re-imported image that is one of the base's (matched by
 * file name: `<split>__<name>` as batches name them, the base's own file name, or the name its
 * source gave it; ambiguous names are told apart by content) has its labels REPLACED by the
 * re-import's; other re-imported images are added. Existing images keep their split; an added
 * image whose group (same grouping rule, or a near-duplicate) already exists joins that group's
 * split — anti-leak; new groups are split by the options' ratios like a normal import. Classes are
 * mapped by name onto the base's list; a class the base lacks is appended after the base's classes
 * (with a warning), but one that differs from a base class only in case or spacing is an error (a
 * typo would otherwise become a new class). The base is never written to; report.json records the
 * base, its content hash and what was replaced and added.
 */
import fs from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import YAML from 'yaml';
import type { CoreContext } from '../context.js';
import type { ImportResult, MergePreview } from '../../shared/contract.js';
import {
  DatasetReport,
  MappingFile,
  SplitEntry,
  type ImportOptionsParsed,
  type SplitName,
} from '../../shared/schemas.js';
import type { JobContext } from '../jobs/jobs.js';
import { CancelledError } from '../jobs/jobs.js';
import { ImportError, type ImportNote } from '../datasets/model.js';
import { computeGroups, type GroupItem } from '../datasets/groups.js';
import { auditSplits, splitDataset, splitStats } from '../datasets/split.js';
import { emptyConvertCounts } from '../datasets/convert.js';
import type { KnownImage } from '../datasets/health.js';
import { finishDataset, labelText, makeSplitFolders, rememberImage, yieldEvery256 } from '../datasets/output.js';
import { buildMapping } from '../datasets/mapping.js';
import { nearDuplicatePairs } from '../datasets/phash.js';
import { datasetHash } from '../trainer/dataset.js';
import {
  confineToSources,
  groupOptions,
  linkOrCopy,
  normalizeSubset,
  prepareSources,
  readFactsOf,
  resolveImagePaths,
  uniqueLicenses,
  type ImageFacts,
} from '../datasets/importer.js';

const norm = (s: string) => s.normalize('NFC').toLowerCase();
const basenameOf = (p: string) => p.split(/[\\/]/).pop() ?? p;

function namesOfYaml(doc: unknown, file: string): string[] {
  const d = doc as { names?: unknown } | null;
  if (d && Array.isArray(d.names)) return d.names.map(String);
  if (d && d.names && typeof d.names === 'object') {
    return Object.entries(d.names as Record<string, unknown>)
      .sort((a, b) => Number(a[0]) - Number(b[0]))
      .map(([, v]) => String(v));
  }
  throw new ImportError('the base dataset names no classes', file);
}

/** `<parent>/<family>_v<N>` for the first free N ≥ 2, reserved by creating it empty. */
async function reserveVersion(baseDir: string): Promise<string> {
  const family = path.basename(baseDir).replace(/_v\d+$/, '');
  const parent = path.dirname(baseDir);
  for (let n = 2; ; n++) {
    const p = path.join(parent, `${family}_v${n}`);
    try {
      await fs.mkdir(p);
      return p;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

async function sha1Of(file: string): Promise<string | null> {
  try {
    return createHash('sha1').update(await fs.readFile(file)).digest('hex');
  } catch {
    return null;
  }
}

/** A Spotter dataset to merge into: its classes, split entries, report and mapping. */
async function readBase(base: string) {
  const baseDir = path.resolve(base);
  const baseYaml = path.join(baseDir, 'data.yaml');
  let yamlDoc: unknown;
  try {
    yamlDoc = YAML.parse(await fs.readFile(baseYaml, 'utf8'));
  } catch (err) {
    throw new ImportError(`the base is not a Spotter dataset (data.yaml: ${(err as Error).message})`, baseYaml);
  }
  const baseNames = namesOfYaml(yamlDoc, baseYaml);
  const splitFile = path.join(baseDir, 'split.json');
  const parsedEntries = SplitEntry.array().safeParse(JSON.parse(await fs.readFile(splitFile, 'utf8').catch(() => 'null')));
  if (!parsedEntries.success) throw new ImportError('the base has no readable split.json (import it with Spotter first)', splitFile);
  const entries = parsedEntries.data;
  const baseReport = DatasetReport.safeParse(JSON.parse(await fs.readFile(path.join(baseDir, 'report.json'), 'utf8').catch(() => 'null')));
  const baseMapping = MappingFile.safeParse(JSON.parse(await fs.readFile(path.join(baseDir, 'mapping.json'), 'utf8').catch(() => 'null')));
  return { baseDir, baseYaml, baseNames, entries, baseReport, baseMapping };
}

/**
 * The re-import's classes by name onto the base's list: new ones appended; one that differs from a
 * base class only in case or spacing is a conflict (a typo would otherwise become a new class).
 */
function mapOntoBase(baseNames: readonly string[], names: readonly string[]): { finalNames: string[]; newClasses: string[]; conflict: string | null } {
  const finalNames = [...baseNames];
  const newClasses: string[] = [];
  for (const t of names) {
    if (finalNames.includes(t)) continue;
    const near = baseNames.find((b) => norm(b.trim()) === norm(t.trim()));
    if (near) return { finalNames, newClasses, conflict: `class "${t}" is not in the base dataset, but "${near}" is: map it (--map "${t}=${near}") or rename it in the export` };
    finalNames.push(t);
    newClasses.push(t);
  }
  return { finalNames, newClasses, conflict: null };
}

/**
 * Which re-imported images are the base's (by file name; ambiguous names told apart by content):
 * base entry → re-imported image for those, the indices of the others (added), and how many could
 * not be told apart (not used; a note each).
 */
async function matchToBase(images: ReadonlyArray<{ name: string; path?: string | null; ref?: string }>, entries: readonly SplitEntry[], baseDir: string, notes: ImportNote[]) {
  const byFlat = new Map<string, number>(), byFile = new Map<string, number[]>(), bySource = new Map<string, number[]>(), bySourceBase = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, v: number) => {
    const l = m.get(k);
    if (l) l.push(v);
    else m.set(k, [v]);
  };
  entries.forEach((e, k) => {
    const file = basenameOf(e.file);
    byFlat.set(norm(`${e.split}__${file}`), k);
    push(byFile, norm(file), k);
    push(bySource, norm(e.source), k);
    push(bySourceBase, norm(basenameOf(e.source)), k);
  });
  const matchOf: Array<number | undefined> = [];
  const skippedImg = new Set<number>();
  for (const [i, img] of images.entries()) {
    const b = norm(basenameOf(img.name));
    let cands: number[] = byFlat.has(b) ? [byFlat.get(b)!] : (bySource.get(norm(img.name)) ?? byFile.get(b) ?? bySourceBase.get(b) ?? []);
    if (cands.length > 1 && img.path) {
      const mine = await sha1Of(img.path);
      const same: number[] = [];
      for (const k of cands) if (mine && (await sha1Of(path.join(baseDir, entries[k]!.file))) === mine) same.push(k);
      cands = same;
    }
    if (cands.length > 1 || (cands.length === 0 && (byFile.get(b)?.length ?? 0) > 1)) {
      notes.push({ severity: 'warning', code: 'merge-ambiguous', message: `${cands.length || byFile.get(b)!.length} images of the base are named ${basenameOf(img.name)}; cannot tell which one this is, so it was not used`, file: img.name, item: img.ref });
      skippedImg.add(i);
      matchOf.push(undefined);
      continue;
    }
    matchOf.push(cands[0]);
  }
  const replacedBy = new Map<number, number>(); // base entry → re-imported image
  for (const [i, k] of matchOf.entries()) {
    if (k === undefined) continue;
    if (replacedBy.has(k)) notes.push({ severity: 'warning', code: 'merge-duplicate', message: `two re-imported images match ${entries[k]!.file}; the last one was used`, file: images[i]!.name });
    replacedBy.set(k, i);
  }
  const added = images.map((_, i) => i).filter((i) => matchOf[i] === undefined && !skippedImg.has(i));
  return { replacedBy, added, ambiguous: skippedImg.size };
}

/**
 * What a merge would do, for the import preview (inspect with a base): nothing is written. A class
 * conflict is reported here (the mapping table can fix it) instead of thrown.
 */
export async function previewMerge(base: string, images: ReadonlyArray<{ name: string; path?: string | null; ref?: string; objects: readonly unknown[] }>, mappedNames: readonly string[], notes: ImportNote[]): Promise<MergePreview> {
  const { baseDir, baseNames, entries } = await readBase(base);
  const { newClasses, conflict } = mapOntoBase(baseNames, mappedNames);
  const { replacedBy, added, ambiguous } = await matchToBase(images, entries, baseDir, notes);
  // corrected images that come back without a single object while the base labels them: their boxes go
  let emptied = 0;
  for (const [k, i] of replacedBy) {
    if (images[i]!.objects.length > 0) continue;
    const e = entries[k]!;
    const lbl = path.join(baseDir, 'labels', e.split, basenameOf(e.file).replace(/\.[^.]+$/, '') + '.txt');
    if ((await fs.readFile(lbl, 'utf8').catch(() => '')).trim()) emptied++;
  }
  if (emptied) notes.push({ severity: 'warning', code: 'merge-emptied', message: `${emptied} corrected image${emptied === 1 ? ' has' : 's have'} no objects in the re-import: the new version labels ${emptied === 1 ? 'it' : 'them'} as empty (the base keeps its boxes)` });
  return {
    base: baseDir,
    baseName: path.basename(baseDir),
    baseImages: entries.length,
    baseClasses: baseNames,
    replaced: replacedBy.size,
    emptied,
    added: added.length,
    ambiguous,
    newClasses,
    conflict,
  };
}

export async function runMerge(opts: ImportOptionsParsed, job: JobContext, ctx: CoreContext): Promise<ImportResult> {
  const { baseDir, baseYaml, baseNames, entries, baseReport, baseMapping } = await readBase(opts.base!);
  const task = baseReport.success ? baseReport.data.task : opts.task;
  const baseHash = await datasetHash(baseYaml);

  let outDir: string;
  if (opts.out) {
    outDir = path.resolve(opts.out);
    const existing = await fs.readdir(outDir).catch(() => null);
    if (existing && existing.length) throw new ImportError('output folder already exists and is not empty; choose another --out or remove it', outDir);
    await fs.mkdir(outDir, { recursive: true });
  } else outDir = await reserveVersion(baseDir);
  const tmpDir = path.join(path.dirname(outDir), `.${path.basename(outDir)}.spotter-tmp-${randomBytes(4).toString('hex')}`);
  let prep;
  try {
    prep = await prepareSources(opts, job, ctx);
  } catch (err) {
    await fs.rmdir(outDir).catch(() => {});
    throw err;
  }
  try {
    await resolveImagePaths(prep, job);
    confineToSources(prep);
    const notes: ImportNote[] = prep.notes;
    const counts: Record<string, number> = { ...prep.counts };

    // ---- classes: by name onto the base's list
    const mapping = buildMapping(prep.categories, prep.images, opts.classMap);
    const { finalNames, newClasses, conflict } = mapOntoBase(baseNames, mapping.names);
    if (conflict) throw new ImportError(conflict, opts.sources[0]);
    for (const [i, t] of newClasses.entries()) {
      notes.push({ severity: 'warning', code: 'merge-new-class', message: `class "${t}" is not in the base dataset; it was added as class ${baseNames.length + i}` });
    }
    const classOf = (category: string): number | undefined => {
      const t = mapping.targetOf(category);
      return t === null ? undefined : finalNames.indexOf(t);
    };

    // ---- match re-imported images to the base's by name
    const { replacedBy, added, ambiguous } = await matchToBase(prep.images, entries, baseDir, notes);
    let skipped = ambiguous;

    // ---- facts: base images and added images (sizes, content hashes, near-duplicates)
    const wantHashes = opts.dupThreshold >= 0;
    const basePaths = entries.map((e) => path.join(baseDir, e.file));
    const facts: ImageFacts[] = await readFactsOf([...basePaths, ...added.map((i) => prep!.images[i]!.path)], job, wantHashes);
    const nb = entries.length;

    // ---- labels: base label files, replaced where the re-import has the image
    const cc = emptyConvertCounts();
    const labelsOf = (img: (typeof prep.images)[number], W: number, H: number) => labelText(img.objects, classOf, task, W, H, cc);
    const baseLabels: string[] = [];
    for (const [k, e] of entries.entries()) {
      const lbl = path.join(baseDir, 'labels', e.split, basenameOf(e.file).replace(/\.[^.]+$/, '') + '.txt');
      const r = replacedBy.get(k);
      if (r !== undefined) {
        const img = prep.images[r]!;
        const W = img.width ?? facts[k]!.width, H = img.height ?? facts[k]!.height;
        if (!W || !H) throw new ImportError('image size unknown', basePaths[k], img.ref);
        if (facts[k]!.width && img.width && (facts[k]!.width !== img.width || facts[k]!.height !== img.height)) {
          notes.push({ severity: 'warning', code: 'size-mismatch', message: `annotations say ${img.width}x${img.height} but the base image is ${facts[k]!.width}x${facts[k]!.height}; labels follow the annotations`, file: img.name, item: img.ref });
        }
        baseLabels.push(labelsOf(img, W, H));
      } else baseLabels.push(await fs.readFile(lbl, 'utf8').catch(() => ''));
    }
    const classesOfText = (t: string) => t.split('\n').filter((l) => l.trim()).map((l) => Number(l.split(/\s+/)[0]));

    // ---- groups: base items keep theirs; added items join an existing group or form new ones
    const items: GroupItem[] = [
      ...entries.map((e, k) => ({ name: e.source, classes: classesOfText(baseLabels[k]!) })),
      ...added.map((i) => {
        const img = prep!.images[i]!;
        return { name: img.name, subset: img.subset, sequence: img.sequence, groupHint: img.groupHint, classes: img.objects.map((o) => classOf(o.category)).filter((c): c is number => c !== undefined && c >= 0) };
      }),
    ];
    const grouping = computeGroups(items, opts.group, { ...groupOptions(opts), ...(wantHashes ? { hashes: facts.map((f) => f.hash) } : {}) });
    const storedKeys = new Set(entries.map((e) => e.group));
    const storedByComputed = new Map<string, string>();
    entries.forEach((e, k) => {
      if (!storedByComputed.has(grouping.keys[k]!)) storedByComputed.set(grouping.keys[k]!, e.group);
    });
    const dupPairs = wantHashes ? nearDuplicatePairs(facts.map((f) => f.hash), opts.dupThreshold) : [];
    const dupBase = new Map<number, number>(); // added item → a base item it near-duplicates
    for (const [a, b] of dupPairs) {
      if (a < nb && b >= nb && !dupBase.has(b)) dupBase.set(b, a);
      else if (b < nb && a >= nb && !dupBase.has(a)) dupBase.set(a, b);
    }
    const membersOf = new Map<string, number[]>();
    entries.forEach((e, k) => {
      const l = membersOf.get(e.group);
      if (l) l.push(k);
      else membersOf.set(e.group, [k]);
    });
    const keys: string[] = entries.map((e) => e.group);
    const frames: Array<number | undefined> = entries.map((e) => e.frame);
    const splits: Array<SplitName | null> = entries.map((e) => e.split);
    let joined = 0;
    const fresh: number[] = []; // indices into `added` that form new groups
    added.forEach((_, a) => {
      const it = nb + a;
      const computed = grouping.keys[it]!;
      let group = storedKeys.has(computed) ? computed : storedByComputed.get(computed);
      if (group === undefined && dupBase.has(it)) group = entries[dupBase.get(it)!]!.group;
      keys.push(group ?? computed);
      frames.push(grouping.frames[it]);
      if (group === undefined) {
        splits.push(null);
        fresh.push(a);
        return;
      }
      joined++;
      // the group's split; a time-blocked sequence: the split of the nearest frame
      const members = membersOf.get(group)!;
      const fr = grouping.frames[it];
      let pick = members[0]!;
      if (fr !== undefined && members.some((m) => entries[m]!.frame !== undefined)) {
        pick = members.reduce((best, m) => (Math.abs((entries[m]!.frame ?? Infinity) - fr) < Math.abs((entries[best]!.frame ?? Infinity) - fr) ? m : best), members[0]!);
      } else {
        const tally = new Map<SplitName, number>();
        for (const m of members) tally.set(entries[m]!.split, (tally.get(entries[m]!.split) ?? 0) + 1);
        const top = [...tally.entries()].sort((x, y) => y[1] - x[1])[0]![0];
        pick = members.find((m) => entries[m]!.split === top)!;
      }
      splits.push(entries[pick]!.split);
    });
    if (fresh.length) {
      const sub = fresh.map((a) => items[nb + a]!);
      const subKeys = fresh.map((a) => keys[nb + a]!);
      if (opts.keepSplits) fresh.forEach((a) => (splits[nb + a] = normalizeSubset(prep!.images[added[a]!]!.subset) ?? 'train'));
      else {
        const res = splitDataset(sub, subKeys, { ratios: opts.ratios, seed: opts.seed, guardGap: opts.guardGap, frames: fresh.map((a) => frames[nb + a]) });
        fresh.forEach((a, q) => (splits[nb + a] = res.splits[q]!));
      }
    }

    // ---- write
    job.throwIfCancelled();
    await fs.mkdir(tmpDir, { recursive: true });
    const usedSplits = await makeSplitFolders(tmpDir, splits);
    const usedStems = new Set(entries.map((e) => norm(`${e.split}/${basenameOf(e.file).replace(/\.[^.]+$/, '')}`)));
    const splitEntries: SplitEntry[] = [];
    const known = new Map<string, KnownImage>();
    const total = nb + added.length;
    for (const [k, e] of entries.entries()) {
      await yieldEvery256(job, k, k, total);
      const name = basenameOf(e.file);
      writeFileSync(path.join(tmpDir, 'labels', e.split, name.replace(/\.[^.]+$/, '') + '.txt'), baseLabels[k]!);
      if (!facts[k]!.corrupt && (await fs.stat(basePaths[k]!).catch(() => null))) {
        const dest = path.join(tmpDir, 'images', e.split, name);
        await linkOrCopy(basePaths[k]!, dest);
        rememberImage(known, dest, facts[k]!);
      }
      splitEntries.push(e);
    }
    const addedFiles: string[] = [];
    for (const [a, i] of added.entries()) {
      const it = nb + a;
      const split = splits[it];
      const img = prep.images[i]!;
      const f = facts[it]!;
      const W = img.width ?? f.width, H = img.height ?? f.height;
      if (!split || !W || !H) {
        if (!W || !H) notes.push({ severity: 'error', code: 'unknown-size', message: 'image size unknown (no file and no width/height in the annotations); skipped', file: img.name, item: img.ref });
        skipped++;
        continue;
      }
      const base = basenameOf(img.name);
      const ext = path.extname(base), stem = base.slice(0, base.length - ext.length);
      let name = base;
      for (let n = 2; usedStems.has(norm(`${split}/${name.slice(0, name.length - ext.length)}`)); n++) name = `${stem}_${n}${ext}`;
      usedStems.add(norm(`${split}/${name.slice(0, name.length - ext.length)}`));
      writeFileSync(path.join(tmpDir, 'labels', split, `${name.slice(0, name.length - ext.length)}.txt`), labelsOf(img, W, H));
      if (img.path && !f.corrupt) {
        const dest = path.join(tmpDir, 'images', split, name);
        await linkOrCopy(img.path, dest);
        rememberImage(known, dest, f);
      }
      splitEntries.push({ source: img.name, file: `images/${split}/${name}`, split, group: keys[it]!, ...(frames[it] !== undefined ? { frame: frames[it] } : {}) });
      addedFiles.push(`images/${split}/${name}`);
    }
    for (const [k, v] of Object.entries(cc)) if (v) counts[k] = (counts[k] ?? 0) + v;

    // ---- report, mapping, health
    const kept = splits.map((s, i) => (i < nb || s ? s : null));
    const stats = splitStats(items, keys, kept, finalNames);
    const audit = auditSplits(items, keys, kept, {
      ...(wantHashes ? { hashes: facts.map((f) => f.hash), dupThreshold: opts.dupThreshold } : {}),
      sha1: facts.map((f) => f.sha1),
      frames,
    });
    const instances = new Array<number>(finalNames.length).fill(0);
    for (const it of items.filter((_, i) => kept[i])) for (const c of it.classes) if (c < instances.length) instances[c]!++;
    const mappingFile: MappingFile = {
      classes: finalNames.map((name, id) => ({
        id,
        name,
        sources: [...new Set([...(baseMapping.success ? (baseMapping.data.classes.find((c) => c.name === name)?.sources ?? []) : [name]), ...prep!.categories.filter((c) => mapping.targetOf(c) === name)])],
        instances: instances[id]!,
      })),
      dropped: mapping.toFile().dropped,
    };
    const b = baseReport.success ? baseReport.data : null;
    const replacedFiles = [...replacedBy.keys()].map((k) => entries[k]!.file);
    const report: DatasetReport = {
      spotter_version: ctx.version,
      created_at: new Date().toISOString(),
      name: path.basename(outDir),
      task,
      sources: prep.sources.map((s) => ({ path: s.input, format: s.dataset.format, images: s.dataset.images.length })),
      split_mode: b?.split_mode ?? 'ratio',
      ratios: b?.ratios ?? opts.ratios,
      seed: b?.seed ?? opts.seed,
      grouping: {
        ...(b?.grouping ?? { strategy: grouping.strategy, sequences: 0, time_blocks: false, guard_gap: 0, dropped_guard_frames: 0, near_duplicate_merges: 0, examples: [] }),
        description: `${b?.grouping.description ?? grouping.description} Merge: ${joined} added image${joined === 1 ? '' : 's'} joined an existing group's split; ${fresh.length} formed new groups split by ratio.`,
        groups: new Set(keys.filter((_, i) => kept[i])).size,
      },
      splits: stats.splits,
      leak_audit: audit,
      licenses: [...(b?.licenses ?? []), ...uniqueLicenses(prep).filter((l) => !(b?.licenses ?? []).some((x) => x.name === l.name && x.url === l.url))],
      counts,
      names: finalNames,
      merge: {
        base: baseDir,
        base_name: path.basename(baseDir),
        base_hash: baseHash,
        replaced: replacedBy.size,
        added: addedFiles.length,
        unchanged: nb - replacedBy.size,
        skipped,
        new_classes: newClasses,
        joined_groups: joined,
        replaced_files: replacedFiles.slice(0, 500),
        added_files: addedFiles.slice(0, 500),
      },
    };
    notes.push({
      severity: 'info',
      code: 'merge',
      message: `merged into a new version of ${path.basename(baseDir)}: ${replacedBy.size} images got the re-imported labels, ${addedFiles.length} were added (${joined} joined an existing group's split), ${nb - replacedBy.size} kept as they were${skipped ? `, ${skipped} not used` : ''}`,
    });
    const health = await finishDataset({
      tmpDir,
      outDir,
      names: finalNames,
      usedSplits,
      entries: splitEntries,
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
    await fs.rmdir(outDir).catch(() => {});
    if (job.signal.aborted) throw new CancelledError();
    throw err;
  } finally {
    await prep.cleanup();
  }
}
