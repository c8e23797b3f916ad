/**
 * What a run records about the dataset it trained on: data.yaml's path, a content hash, classes,
 * the split seed (from Spotter's report.json) and the number of training images (for estimates).
 *
 * The content hash (`sha256:<hex>`) covers what decides the training data, cheaply:
 *   - data.yaml parsed, without its `path:` key (moving the folder keeps the hash), as sorted JSON;
 *   - split.json's bytes, when Spotter wrote one (which image sits in which split);
 *   - every label file under `<root>/labels/` (sorted relative path + sha256 of its bytes).
 * Image bytes are not hashed (gigabytes); split.json and the labels listing name them.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { DatasetReport } from '../../shared/schemas.js';
import { isImageFile, walkFiles } from '../fsutil.js';

export interface DatasetInfo {
  dataYaml: string;
  /** dataset root: data.yaml's `path:` when absolute and present, else its folder */
  root: string;
  hash: string;
  classes: string[];
  task: 'detect' | 'segment';
  splitSeed: number | null;
  trainImages: number | null;
}

/** A dataset folder or its data.yaml → the absolute data.yaml path; throws naming the input. */
export async function resolveDataYaml(input: string): Promise<string> {
  const abs = path.resolve(input);
  const st = await fs.stat(abs).catch(() => null);
  if (!st) throw new Error(`${abs}: no such dataset folder or data.yaml`);
  if (!st.isDirectory()) return abs;
  for (const name of ['data.yaml', 'data.yml']) if (existsSync(path.join(abs, name))) return path.join(abs, name);
  const yamls = (await fs.readdir(abs)).filter((f) => /\.ya?ml$/i.test(f));
  if (yamls.length === 1) return path.join(abs, yamls[0]!);
  throw new Error(`${abs}: ${yamls.length ? `several .yaml files (${yamls.join(', ')}); name the data.yaml` : 'no data.yaml in this folder'}`);
}

function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

async function readYamlDoc(dataYaml: string): Promise<Record<string, unknown>> {
  let doc: unknown;
  try {
    doc = YAML.parse(await fs.readFile(dataYaml, 'utf8'));
  } catch (err) {
    throw new Error(`${dataYaml}: not readable YAML (${(err as Error).message.split('\n')[0]})`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${dataYaml}: expected a mapping with path, train, val and names`);
  return doc as Record<string, unknown>;
}

function namesOf(d: Record<string, unknown>): string[] {
  if (Array.isArray(d.names)) return d.names.map(String);
  if (d.names && typeof d.names === 'object') {
    const e = Object.entries(d.names as Record<string, unknown>).sort((a, b) => Number(a[0]) - Number(b[0]));
    return e.map(([, v]) => String(v));
  }
  return [];
}

function rootOf(d: Record<string, unknown>, dataYaml: string): string {
  const dir = path.dirname(dataYaml);
  if (typeof d.path === 'string' && d.path.trim()) {
    const p = path.resolve(dir, d.path.trim());
    if (existsSync(p)) return p;
  }
  return dir;
}

/** Images Ultralytics will train on: folders walked, .txt lists counted, per `train:` entry. */
async function countImages(entry: unknown, root: string): Promise<number | null> {
  const entries = Array.isArray(entry) ? entry : typeof entry === 'string' ? [entry] : [];
  if (!entries.length) return null;
  let n = 0;
  for (const e of entries) {
    const p = path.resolve(root, String(e));
    const st = await fs.stat(p).catch(() => null);
    if (!st) continue;
    if (st.isDirectory()) n += (await walkFiles(p)).filter(isImageFile).length;
    else if (p.endsWith('.txt')) n += (await fs.readFile(p, 'utf8')).split('\n').filter((l) => l.trim()).length;
  }
  return n;
}

export async function datasetHash(dataYaml: string): Promise<string> {
  const d = await readYamlDoc(dataYaml);
  const root = rootOf(d, dataYaml);
  const h = createHash('sha256');
  const { path: _ignored, ...rest } = d;
  h.update(`data.yaml\0${sortedJson(rest)}\n`);
  for (const dir of [root, path.dirname(dataYaml)]) {
    const split = path.join(dir, 'split.json');
    if (existsSync(split)) {
      h.update(`split.json\0`);
      h.update(await fs.readFile(split));
      h.update('\n');
      break;
    }
  }
  const labels = path.join(root, 'labels');
  for (const f of (await walkFiles(labels)).filter((f) => f.endsWith('.txt'))) {
    const sub = createHash('sha256').update(await fs.readFile(f)).digest('hex');
    h.update(`${path.relative(labels, f).split(path.sep).join('/')}\0${sub}\n`);
  }
  return `sha256:${h.digest('hex')}`;
}

/** Everything but the content hash is cheap; `hash: false` skips it (estimates). */
export async function datasetInfo(input: string, opts: { hash?: boolean } = {}): Promise<DatasetInfo> {
  const dataYaml = await resolveDataYaml(input);
  const d = await readYamlDoc(dataYaml);
  const root = rootOf(d, dataYaml);
  let report: DatasetReport | null = null;
  for (const dir of [root, path.dirname(dataYaml)]) {
    const r = DatasetReport.safeParse(JSON.parse(await fs.readFile(path.join(dir, 'report.json'), 'utf8').catch(() => 'null')));
    if (r.success) {
      report = r.data;
      break;
    }
  }
  const classes = namesOf(d);
  return {
    dataYaml,
    root,
    hash: opts.hash === false ? '' : await datasetHash(dataYaml),
    classes: classes.length ? classes : (report?.names ?? []),
    task: report?.task ?? 'detect',
    splitSeed: report?.seed ?? null,
    trainImages: report?.splits.train?.images ?? (await countImages(d.train, root)),
  };
}
