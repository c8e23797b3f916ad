/**
 * Writing an Ultralytics dataset folder: the pieces a plain import (importer.ts) and a merge into a
 * new version of a dataset (review/merge.ts) share. Both write into a temporary sibling folder and
 * rename it onto the output folder at the end (`finishDataset`).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { DatasetReport, HealthIssue, HealthReport, MappingFile, SplitEntry, SplitName } from '../../shared/schemas.js';
import type { JobContext } from '../jobs/jobs.js';
import { writeFileAtomic } from '../fsutil.js';
import type { ImportNote, SourceObject } from './model.js';
import { boxLine, polygonLine, type ConvertCounts } from './convert.js';
import { checkDataset, type KnownImage } from './health.js';

/** What an import knows of an image file (see `ImageFacts` in importer.ts). */
interface FileFacts {
  width?: number;
  height?: number;
  sha1?: string;
  hash?: bigint;
}

/** Create `images/<split>` and `labels/<split>` for train, val (always) and test (when used); returns the splits used. */
export async function makeSplitFolders(dir: string, splits: ReadonlyArray<SplitName | null | undefined>): Promise<SplitName[]> {
  const usedSplits = [...new Set(splits.filter((s): s is SplitName => !!s))];
  for (const s of ['train', 'val', 'test'] as const) {
    if (s === 'test' && !usedSplits.includes('test')) continue;
    await fs.mkdir(path.join(dir, 'images', s), { recursive: true });
    await fs.mkdir(path.join(dir, 'labels', s), { recursive: true });
  }
  return usedSplits;
}

/** Hand the health check what the import already measured of a written image, so it is not read again. */
export function rememberImage(known: Map<string, KnownImage>, dest: string, f: FileFacts): void {
  if (f.sha1 && f.hash !== undefined && f.width && f.height) known.set(dest, { sha1: f.sha1, dhash: f.hash, width: f.width, height: f.height });
}

/** A YOLO label file's text for an image's objects (`classOf`: undefined or negative drops the object). */
export function labelText(
  objects: readonly SourceObject[],
  classOf: (category: string) => number | undefined,
  task: 'detect' | 'segment',
  W: number,
  H: number,
  cc: ConvertCounts,
): string {
  const lines: string[] = [];
  for (const o of objects) {
    const c = classOf(o.category);
    if (c === undefined || c < 0) continue;
    const line = task === 'segment' ? polygonLine(c, o, W, H, cc) : boxLine(c, o.bbox, W, H, cc);
    if (line) lines.push(line);
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** Every 256 items: let progress and cancel requests through, and report progress. */
export async function yieldEvery256(job: JobContext, i: number, done: number, total: number): Promise<void> {
  if (i % 256 !== 0) return;
  await new Promise((r) => setImmediate(r));
  job.throwIfCancelled();
  job.progress('Writing dataset', done, total);
}

/** Import notes as health issues, one per code (files and items capped at 50). */
export function notesToHealth(notes: ImportNote[]): HealthIssue[] {
  const byCode = new Map<string, ImportNote[]>();
  for (const n of notes) {
    const list = byCode.get(n.code);
    if (list) list.push(n);
    else byCode.set(n.code, [n]);
  }
  return [...byCode.values()].map((list) => {
    const first = list[0]!;
    return {
      severity: first.severity,
      code: first.code,
      message: list.length === 1 ? first.message : `${first.message} (and ${list.length - 1} more like this)`,
      count: list.length,
      files: [...new Set(list.map((n) => n.file).filter((f): f is string => !!f))].slice(0, 50),
      items: list.map((n) => n.item).filter((x): x is string => !!x).slice(0, 50),
    };
  });
}

export interface FinishDatasetInput {
  /** the temporary sibling folder the images and labels were written into */
  tmpDir: string;
  /** where it goes (an empty, reserved or user-picked folder) */
  outDir: string;
  names: readonly string[];
  usedSplits: readonly SplitName[];
  entries: SplitEntry[];
  mapping: MappingFile;
  report: DatasetReport;
  notes: ImportNote[];
  known: Map<string, KnownImage>;
  imgsz: number;
  dupThreshold: number;
  job: JobContext;
  /** progress total of the writing stage */
  total: number;
}

/**
 * Write data.yaml, split.json, mapping.json, report.json (and LICENSES.txt), run the health check,
 * then rename the temporary folder onto `outDir`. Returns the health report.
 */
export async function finishDataset(o: FinishDatasetInput): Promise<HealthReport> {
  const { tmpDir, outDir, report, job } = o;
  const dataYaml = (root: string) =>
    YAML.stringify({
      path: root,
      train: 'images/train',
      val: 'images/val',
      ...(o.usedSplits.includes('test') ? { test: 'images/test' } : {}),
      names: Object.fromEntries(o.names.map((n, i) => [i, n])),
    });
  job.progress('Writing dataset', o.total, o.total);
  await fs.writeFile(path.join(tmpDir, 'data.yaml'), dataYaml(tmpDir));
  await fs.writeFile(path.join(tmpDir, 'split.json'), JSON.stringify(o.entries, null, 1));
  await fs.writeFile(path.join(tmpDir, 'mapping.json'), JSON.stringify(o.mapping, null, 2));
  await fs.writeFile(path.join(tmpDir, 'report.json'), JSON.stringify(report, null, 2));
  if (report.licenses.length) {
    await fs.writeFile(
      path.join(tmpDir, 'LICENSES.txt'),
      report.licenses.map((l) => `${l.name}${l.url ? ` <${l.url}>` : ''}\n  from ${l.source}`).join('\n') + '\n',
    );
  }
  job.throwIfCancelled();
  const health = await checkDataset(tmpDir, {
    imgsz: o.imgsz,
    dupThreshold: o.dupThreshold,
    signal: job.signal,
    onProgress: (s, d, t) => job.progress(`Health check: ${s}`, d, t),
    extraIssues: notesToHealth(o.notes),
    known: o.known,
  });
  await fs.writeFile(path.join(tmpDir, 'health.json'), JSON.stringify(health, null, 2));
  // the final data.yaml names the final location
  await writeFileAtomic(path.join(tmpDir, 'data.yaml'), dataYaml(outDir));
  job.throwIfCancelled();
  await fs.rmdir(outDir).catch(() => {}); // an empty folder the user picked: renaming over it fails on Windows
  await fs.rename(tmpDir, outDir);
  return health;
}
