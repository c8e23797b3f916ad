/**
 * Reading datasets Spotter wrote back from disk (files are the record): the workspace list, one
 * dataset's reports, and pages of images with their labels for the grid. Files are validated with
 * the shared schemas, since a user may have edited them by hand.
 */
import { listEvalSets } from './evalsets.js';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DatasetDetail, DatasetImage, DatasetImagesPage, DatasetListItem } from '../../shared/contract.js';
import { DatasetReport, HealthReport, MappingFile, SplitEntry, type SplitName } from '../../shared/schemas.js';
import { z } from 'zod';

async function readJson<T>(file: string, schema: z.ZodType<T>): Promise<T> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new Error(`${file}: missing — is this a dataset Spotter wrote?`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: unexpected content at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

export async function listDatasets(datasetsDir: string): Promise<DatasetListItem[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(datasetsDir);
  } catch {
    return [];
  }
  const items: DatasetListItem[] = [];
  for (const name of entries) {
    if (name.startsWith('.')) continue; // temporary folders of imports in progress
    const dir = path.join(datasetsDir, name);
    try {
      const report = await readJson(path.join(dir, 'report.json'), DatasetReport);
      const health = await readJson(path.join(dir, 'health.json'), HealthReport);
      items.push({
        name,
        dir,
        createdAt: report.created_at,
        task: report.task,
        images: Object.values(report.splits).reduce((n, s) => n + (s?.images ?? 0), 0),
        classes: report.names,
        ok: health.ok,
        errors: health.counts.errors,
        warnings: health.counts.warnings,
      });
    } catch {
      // not a Spotter dataset (or damaged): not listed
    }
  }
  return items.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

export async function readDatasetDetail(dir: string): Promise<DatasetDetail> {
  const abs = path.resolve(dir);
  const [report, health, mapping] = await Promise.all([
    readJson(path.join(abs, 'report.json'), DatasetReport),
    readJson(path.join(abs, 'health.json'), HealthReport),
    readJson(path.join(abs, 'mapping.json'), MappingFile),
  ]);
  return { dir: abs, dataYaml: path.join(abs, 'data.yaml'), report, health, mapping, evalSets: await listEvalSets(abs) };
}

const splitCache = new Map<string, { mtimeMs: number; entries: SplitEntry[] }>();

async function readSplit(dir: string): Promise<SplitEntry[]> {
  const file = path.join(dir, 'split.json');
  const st = await fs.stat(file);
  const hit = splitCache.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs) return hit.entries;
  const entries = await readJson(file, z.array(SplitEntry));
  splitCache.set(file, { mtimeMs: st.mtimeMs, entries });
  return entries;
}

export function parseLabelLine(line: string): DatasetImage['labels'][number] | null {
  const v = line.trim().split(/\s+/).map(Number);
  if (v.length < 5 || v.some((x) => !Number.isFinite(x))) return null;
  const cls = v[0]!;
  if (v.length === 5) return { cls, box: [v[1]!, v[2]!, v[3]!, v[4]!] };
  const polygon = v.slice(1);
  let x1 = 1, y1 = 1, x2 = 0, y2 = 0;
  for (let i = 0; i + 1 < polygon.length; i += 2) {
    x1 = Math.min(x1, polygon[i]!);
    x2 = Math.max(x2, polygon[i]!);
    y1 = Math.min(y1, polygon[i + 1]!);
    y2 = Math.max(y2, polygon[i + 1]!);
  }
  return { cls, box: [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], polygon };
}

export async function readDatasetImages(dir: string, q: { split?: SplitName; offset: number; limit: number }): Promise<DatasetImagesPage> {
  const abs = path.resolve(dir);
  const all = await readSplit(abs);
  const list = q.split ? all.filter((e) => e.split === q.split) : all;
  const page = list.slice(q.offset, q.offset + q.limit);
  const items = await Promise.all(
    page.map(async (e): Promise<DatasetImage> => {
      const rel = e.file.replace(/^images\//, 'labels/').replace(/\.[^./]+$/, '.txt');
      let text = '';
      try {
        text = await fs.readFile(path.join(abs, rel), 'utf8');
      } catch {
        /* missing label file: shown without labels; the health report names it */
      }
      const labels = text.split('\n').map(parseLabelLine).filter((l): l is NonNullable<typeof l> => l !== null);
      return { file: e.file, path: path.join(abs, e.file), source: e.source, split: e.split, group: e.group, labels };
    }),
  );
  return { total: list.length, offset: q.offset, items };
}
