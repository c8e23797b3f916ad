/**
 * Dataset health check (preflight): reads an Ultralytics dataset on disk (data.yaml, images/, labels/,
 * split.json when Spotter wrote one) and reports what will hurt training or make its numbers lie.
 * The rules mirror what Ultralytics itself does with the files (verify_image_label, load_image), so
 * an `error` here means Ultralytics drops data or fails, and a `warning` means the metrics mislead.
 * data.yaml reading is deliberately small and local; the full YOLO importer lives elsewhere.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import YAML from 'yaml';
import { z } from 'zod';
import { HealthReport, HealthIssue, SplitEntry, SPLITS, type SplitName } from '../../shared/schemas.js';
import { auditSplits } from './split.js';
import { CancelledError } from '../jobs/jobs.js';
import { ImportError } from './model.js';
import { imageHash } from './phash.js';

export interface HealthOptions {
  /** training image size: objects are measured after the letterbox resize to it (default 640) */
  imgsz?: number;
  /** a class with fewer validation instances than this gets a warning (default 10) */
  minValInstances?: number;
  /** dHash Hamming distance for near-duplicates across splits (default 4, -1 off) */
  dupThreshold?: number;
  signal?: AbortSignal;
  onProgress?: (stage: string, done: number, total: number) => void;
  /** import-time findings (size mismatches, ...) merged into the report */
  extraIssues?: HealthIssue[];
  /**
   * Facts about images already read and fully decoded by the caller (the importer hashes every image
   * it writes), by absolute path: those images are not read and decoded a second time.
   */
  known?: ReadonlyMap<string, KnownImage>;
}

export interface KnownImage {
  sha1: string;
  dhash?: bigint;
  /** EXIF-rotated size */
  width: number;
  height: number;
}

/** Longest files/items list in one issue: health.json stays small on 100k-image datasets. */
const CAP = 50;
/** Ultralytics' IMG_FORMATS that sharp can decode (dng, pfm and heic are left out). */
const IMAGE_EXT = new Set(['.bmp', '.jpeg', '.jpg', '.mpo', '.png', '.tif', '.tiff', '.webp']);
/** Ultralytics verify_image_label tolerance: beyond it the whole image is dropped as corrupt. */
const COORD_TOL = 0.01;
const EPS = 1e-6;
const TINY_PX = 4;
const SMALL_PX = 8;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

interface ImageRec {
  abs: string;
  rel: string;
  /** splits that list this file (more than one is a leak of its own) */
  splits: SplitName[];
  label: string;
  labelRel: string;
  /** label file exists */
  hasLabel: boolean;
  /** label file exists and has no objects (or is missing): a negative for Ultralytics */
  negative: boolean;
  /** label has lines Ultralytics rejects: not counted as negative nor in class statistics */
  broken: boolean;
  /** kept objects, flat [cls, w, h] in normalized, clipped units */
  objs: number[];
  width?: number;
  height?: number;
  sha1?: string;
  dhash?: bigint;
}

/** Collects one kind of finding; the issue text is written once all counts are known. */
class Finding {
  count = 0;
  readonly files = new Set<string>();
  readonly items: string[] = [];
  add(file?: string, item?: string, n = 1): void {
    this.count += n;
    if (file && this.files.size < CAP) this.files.add(file);
    if (item && this.items.length < CAP) this.items.push(item);
  }
}

class Findings {
  private readonly map = new Map<string, Finding>();
  get(code: string): Finding {
    let f = this.map.get(code);
    if (!f) this.map.set(code, (f = new Finding()));
    return f;
  }
  has(code: string): boolean {
    return (this.map.get(code)?.count ?? 0) > 0;
  }
}

const toPosix = (p: string) => p.split(path.sep).join('/');
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const listed = (fin: Finding, n = 12) => fin.items.slice(0, n).join('; ') + (fin.count > n ? '; ...' : '');
const pct = (n: number, of: number) => (of ? `${((100 * n) / of).toFixed(n && n < of ? 1 : 0)}%` : '0%');

function cancelledCheck(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}

/** Ultralytics img2label_paths: the last `/images/` becomes `/labels/`, the extension `.txt`. */
function labelPathFor(img: string): string {
  const sa = `${path.sep}images${path.sep}`;
  const at = img.lastIndexOf(sa);
  const swapped = at >= 0 ? img.slice(0, at) + `${path.sep}labels${path.sep}` + img.slice(at + sa.length) : img;
  const ext = path.extname(swapped);
  return (ext ? swapped.slice(0, -ext.length) : swapped) + '.txt';
}

/** Run `fn` over `items` with at most `n` in flight; stops at the first error or on cancel. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>, signal?: AbortSignal, tick?: () => void): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      cancelledCheck(signal);
      const item = items[next++]!;
      await fn(item);
      tick?.();
      // let timers and I/O (a cancel request, progress events) through when `fn` finished synchronously
      if (next % 256 === 0) await new Promise((r) => setImmediate(r));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  cancelledCheck(signal);
}

// ------------------------------------------------------------------ data.yaml

interface DataYaml {
  yamlPath: string;
  root: string;
  names: string[];
  /** entries of each split as written (folders or .txt lists), resolved to absolute paths */
  splits: Partial<Record<SplitName, string[]>>;
}

async function findYaml(input: string): Promise<string> {
  const st = await fs.stat(input).catch(() => {
    throw new ImportError('no such file or folder', input);
  });
  if (!st.isDirectory()) return input;
  for (const name of ['data.yaml', 'data.yml']) if (existsSync(path.join(input, name))) return path.join(input, name);
  const yamls = (await fs.readdir(input)).filter((f) => /\.ya?ml$/i.test(f));
  if (yamls.length === 1) return path.join(input, yamls[0]!);
  throw new ImportError(yamls.length ? `several .yaml files (${yamls.join(', ')}); name the data.yaml to check` : 'no data.yaml in this folder', input);
}

async function readDataYaml(input: string, findings: Findings): Promise<DataYaml> {
  const yamlPath = path.resolve(await findYaml(path.resolve(input)));
  const yamlDir = path.dirname(yamlPath);
  let doc: unknown;
  try {
    doc = YAML.parse(await fs.readFile(yamlPath, 'utf8'));
  } catch (err) {
    throw new ImportError(`not readable YAML: ${(err as Error).message.split('\n')[0]}`, yamlPath);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new ImportError('expected a mapping with path, train, val and names', yamlPath);
  const d = doc as Record<string, unknown>;

  let names: string[];
  if (Array.isArray(d.names)) names = d.names.map(String);
  else if (d.names && typeof d.names === 'object') {
    const entries = Object.entries(d.names as Record<string, unknown>);
    const ids = entries.map(([k]) => Number(k));
    if (ids.some((i) => !Number.isInteger(i) || i < 0)) throw new ImportError('names keys must be class ids 0, 1, 2, ...', yamlPath, 'names');
    names = Array.from({ length: Math.max(-1, ...ids) + 1 }, (_, i) => `class_${i}`);
    for (const [k, v] of entries) names[Number(k)] = String(v);
    if (entries.length < names.length) {
      findings.get('names-gap').add(toPosix(path.basename(yamlPath)), undefined, names.length - entries.length);
    }
  } else if (typeof d.nc === 'number') names = Array.from({ length: d.nc }, (_, i) => `class_${i}`);
  else throw new ImportError('no names (class list) in data.yaml', yamlPath, 'names');

  // Ultralytics resolves a relative `path` against the working directory or its datasets folder, never
  // against data.yaml: a relative path works here and breaks training there. Check beside data.yaml.
  let root = yamlDir;
  if (typeof d.path === 'string' && d.path.trim()) {
    const p = d.path.trim();
    if (!path.isAbsolute(p)) {
      findings.get('data-yaml-relative-path').add(path.basename(yamlPath), `path: ${p}`);
      const rel = path.resolve(yamlDir, p);
      if (existsSync(rel)) root = rel;
    } else if (existsSync(p)) root = p;
    else findings.get('data-yaml-path-missing').add(path.basename(yamlPath), `path: ${p}`);
  }

  const splits: DataYaml['splits'] = {};
  for (const split of SPLITS) {
    const raw = d[split] ?? (split === 'val' ? d.validation : undefined);
    if (raw === undefined || raw === null || raw === '') continue;
    const list = (Array.isArray(raw) ? raw : [raw]).map(String);
    splits[split] = list.map((p) => {
      const abs = path.resolve(root, p);
      // Roboflow writes `../train/images`; Ultralytics retries without the `../`
      if (!existsSync(abs) && p.startsWith('../')) return path.resolve(root, p.slice(3));
      return abs;
    });
  }
  return { yamlPath, root, names, splits };
}

interface Listed {
  images: string[];
  /** label folders to scan for labels without images: [folder, recursive] */
  labelDirs: Array<[string, boolean]>;
  /** images a .txt list names that are not on disk */
  absent: string[];
}

/** One split entry of data.yaml: an images folder (recursive, as Ultralytics globs it), a .txt list, or one image. */
async function listImages(entry: string, root: string): Promise<Listed | undefined> {
  const st = await fs.stat(entry).catch(() => undefined);
  if (!st) return undefined;
  const isImage = (p: string) => IMAGE_EXT.has(path.extname(p).toLowerCase());
  if (st.isFile() && isImage(entry)) return { images: [entry], labelDirs: [[path.dirname(labelPathFor(entry)), false]], absent: [] };
  if (st.isFile()) {
    // Ultralytics: `./x` is relative to the list's folder, anything else to the working directory;
    // try the dataset root, then the list's folder, which is what such lists mean in practice
    const base = path.dirname(entry);
    const images: string[] = [];
    const absent: string[] = [];
    for (const line of (await fs.readFile(entry, 'utf8')).split(/\r?\n/)) {
      const l = line.trim();
      if (!l || !isImage(l)) continue;
      const tries = l.startsWith('./') || path.isAbsolute(l) ? [path.resolve(base, l)] : [path.resolve(root, l), path.resolve(base, l)];
      const found = tries.find((t) => existsSync(t));
      if (found) images.push(found);
      else absent.push(l);
    }
    const dirs = new Set(images.map((i) => path.dirname(labelPathFor(i))));
    return { images, labelDirs: [...dirs].map((d) => [d, false]), absent };
  }
  const names = await fs.readdir(entry, { recursive: true });
  const images = names.filter(isImage).map((n) => path.join(entry, n)).sort();
  return { images, labelDirs: [[path.dirname(labelPathFor(path.join(entry, 'x.jpg'))), true]], absent: [] };
}

// ------------------------------------------------------------------ labels

/** Parse one label file into `rec` and record problems. Mirrors Ultralytics verify_image_label. */
function parseLabel(text: string, rec: ImageRec, nc: number, f: Findings): void {
  const lines = text.split(/\r?\n/);
  let kept = 0;
  let boxes = 0;
  let polys = 0;
  const seen = new Set<string>();
  let dups = 0;
  let broken = false;
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln]!.trim();
    if (!line) continue;
    const at = `${rec.labelRel}:${ln + 1}`;
    const tok = line.split(/\s+/);
    if (tok.length !== 5 && (tok.length < 7 || tok.length % 2 === 0)) {
      f.get('label-malformed').add(rec.labelRel, `${at}: ${plural(tok.length, 'field')}, expected 5 (class x y w h) or a polygon (class x1 y1 x2 y2 x3 y3 ...)`);
      broken = true;
      continue;
    }
    const bad = tok.find((t) => !NUMBER.test(t));
    if (bad !== undefined) {
      f.get('label-malformed').add(rec.labelRel, `${at}: '${bad.slice(0, 20)}' is not a number`);
      broken = true;
      continue;
    }
    const v = tok.map(Number);
    const cls = v[0]!;
    if (!Number.isInteger(cls)) {
      f.get('label-malformed').add(rec.labelRel, `${at}: class id ${tok[0]} is not an integer`);
      broken = true;
      continue;
    }
    const key = v.join(' ');
    if (seen.has(key)) dups++;
    seen.add(key);

    // box in normalized xywh; for polygons the bounds of its points (what Ultralytics checks too)
    let x: number, y: number, w: number, h: number, outside: boolean;
    if (tok.length === 5) {
      boxes++;
      [x, y, w, h] = [v[1]!, v[2]!, v[3]!, v[4]!];
      outside = x - w / 2 < -EPS || y - h / 2 < -EPS || x + w / 2 > 1 + EPS || y + h / 2 > 1 + EPS;
    } else {
      polys++;
      let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
      for (let i = 1; i + 1 < v.length; i += 2) {
        x1 = Math.min(x1, v[i]!); x2 = Math.max(x2, v[i]!);
        y1 = Math.min(y1, v[i + 1]!); y2 = Math.max(y2, v[i + 1]!);
      }
      [x, y, w, h] = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1];
      outside = x1 < -EPS || y1 < -EPS || x2 > 1 + EPS || y2 > 1 + EPS;
    }
    if (cls < 0 || cls >= nc) {
      f.get('class-out-of-range').add(rec.labelRel, `${at}: class ${cls}`);
      broken = true;
      continue;
    }
    if ([x, y, w, h].some((c) => c > 1 + COORD_TOL || c < -COORD_TOL)) {
      f.get('box-not-normalized').add(rec.labelRel, `${at}: ${tok.slice(1, 5).join(' ')}${tok.length > 5 ? ' ...' : ''}`);
      broken = true;
      continue;
    }
    if (outside) f.get('box-outside').add(rec.labelRel, `${at}`);
    const cw = Math.min(1, x + w / 2) - Math.max(0, x - w / 2);
    const ch = Math.min(1, y + h / 2) - Math.max(0, y - h / 2);
    if (w <= 0 || h <= 0 || cw <= EPS || ch <= EPS) {
      f.get('box-zero-area').add(rec.labelRel, `${at}`);
      continue;
    }
    rec.objs.push(cls, cw, ch);
    kept++;
  }
  if (dups) f.get('duplicate-labels').add(rec.labelRel, `${rec.labelRel}: ${dups}`, dups);
  // Ultralytics reads every line as a polygon once one line is: box lines then become wrong shapes
  if (boxes && polys) f.get('mixed-box-polygon').add(rec.labelRel);
  rec.broken = broken;
  rec.negative = !broken && kept === 0 && boxes + polys === 0;
}

async function readLabel(rec: ImageRec, nc: number, f: Findings): Promise<void> {
  let buf: Buffer;
  try {
    // synchronous on purpose: for many small files it was measured ~8x faster than fs.promises
    buf = readFileSync(rec.label);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      rec.negative = true; // Ultralytics treats a missing label file as a background image
      return;
    }
    rec.hasLabel = true;
    rec.broken = true;
    f.get('label-unreadable').add(rec.labelRel, `${rec.labelRel}: ${code ?? (err as Error).message}`);
    return;
  }
  rec.hasLabel = true;
  let text: string;
  try {
    if (buf.includes(0)) throw new Error('binary content');
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch (err) {
    rec.broken = true;
    f.get('label-unreadable').add(rec.labelRel, `${rec.labelRel}: ${(err as Error).message === 'binary content' ? 'binary content' : 'not UTF-8 text'}`);
    return;
  }
  parseLabel(text, rec, nc, f);
}

// ------------------------------------------------------------------ images

/**
 * libvips keeps one error buffer for all threads: under concurrency a failed decode may read
 * "Unknown error" or carry another file's message as well. The failure itself is reliable (measured:
 * no missed truncation, no false alarm, over thousands of concurrent decodes), so retry only to get
 * a message, and keep the line that speaks of this file's format.
 */
function decodeMessage(err: unknown, ext: string): string {
  const lines = (err instanceof Error ? err.message : String(err)).split('\n').filter(Boolean);
  const hint = ext === '.png' ? 'png' : ext === '.webp' ? 'webp' : ext.startsWith('.tif') ? 'tiff' : 'jpeg';
  return lines.find((l) => l.toLowerCase().includes(hint)) ?? lines[0] ?? 'cannot be decoded';
}

/** BMP: Ultralytics reads it, sharp cannot decode it. Take the size from the header; no pixel check. */
function bmpSize(buf: Buffer): { width: number; height: number } {
  if (buf.length < 26 || buf.toString('latin1', 0, 2) !== 'BM') throw new Error('not a BMP file (no BM header)');
  return { width: Math.abs(buf.readInt32LE(18)), height: Math.abs(buf.readInt32LE(22)) };
}

async function inspectImage(rec: ImageRec, f: Findings, known?: KnownImage): Promise<void> {
  if (known) {
    rec.sha1 = known.sha1;
    rec.dhash = known.dhash;
    if (known.width < 10 || known.height < 10) f.get('image-too-small').add(rec.rel, `${rec.rel}: ${known.width}x${known.height} px`);
    else {
      rec.width = known.width;
      rec.height = known.height;
    }
    return;
  }
  let buf: Buffer;
  try {
    buf = await fs.readFile(rec.abs);
  } catch (err) {
    f.get('corrupt-image').add(rec.rel, `${rec.rel}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return;
  }
  rec.sha1 = createHash('sha1').update(buf).digest('hex');
  const ext = path.extname(rec.abs).toLowerCase();
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      let w: number | undefined, h: number | undefined;
      if (ext === '.bmp') {
        ({ width: w, height: h } = bmpSize(buf));
        f.get('image-not-decoded').add(rec.rel);
      } else {
        const meta = await sharp(buf, { failOn: 'error' }).metadata();
        // EXIF-rotated size, as Ultralytics (exif_size) and the labels see the picture
        w = meta.autoOrient?.width ?? meta.width;
        h = meta.autoOrient?.height ?? meta.height;
      }
      if (!w || !h) throw new Error('no image size in the header');
      // a full decode to pixels: the header alone misses truncated files. (sharp's stats() was measured
      // to miss truncation now and then under concurrency; a decode to raw never did.)
      if (ext !== '.bmp') rec.dhash = await imageHash(buf);
      if (w < 10 || h < 10) f.get('image-too-small').add(rec.rel, `${rec.rel}: ${w}x${h} px`);
      else {
        rec.width = w;
        rec.height = h;
      }
      return;
    } catch (err) {
      lastErr = err;
      if (!/^Unknown error/.test(err instanceof Error ? err.message : '')) break;
    }
  }
  rec.dhash = undefined;
  f.get('corrupt-image').add(rec.rel, `${rec.rel}: ${decodeMessage(lastErr, ext)}`);
}

// ------------------------------------------------------------------ check

export async function checkDataset(input: string, opts: HealthOptions = {}): Promise<HealthReport> {
  const imgsz = opts.imgsz ?? 640;
  const minVal = opts.minValInstances ?? 10;
  const dupThreshold = opts.dupThreshold ?? 4;
  const { signal, onProgress } = opts;
  cancelledCheck(signal);
  const f = new Findings();
  const issues: HealthIssue[] = [];
  const push = (severity: HealthIssue['severity'], code: string, message: string, finding?: Finding, count?: number) => {
    const files = finding && finding.files.size ? [...finding.files] : undefined;
    const items = finding && finding.items.length ? finding.items : undefined;
    issues.push({ severity, code, message, count: count ?? finding?.count, ...(files && { files }), ...(items && { items }) });
  };

  const data = await readDataYaml(input, f);
  const { root, names } = data;
  const relOf = (abs: string) => {
    const r = path.relative(root, abs);
    return r.startsWith('..') || path.isAbsolute(r) ? toPosix(abs) : toPosix(r);
  };

  // ---- enumerate images per split
  const byPath = new Map<string, ImageRec>();
  const splitImages: Record<SplitName, ImageRec[]> = { train: [], val: [], test: [] };
  const labelDirs = new Map<string, boolean>();
  const emptySplit = new Map<SplitName, string>();
  for (const split of SPLITS) {
    const entries = data.splits[split];
    if (!entries) continue;
    const missing: string[] = [];
    for (const entry of entries) {
      const listed = await listImages(entry, root);
      if (!listed) {
        missing.push(relOf(entry));
        continue;
      }
      for (const a of listed.absent) f.get('listed-image-missing').add(relOf(entry), `${relOf(entry)}: ${a}`);
      for (const [d, rec] of listed.labelDirs) labelDirs.set(d, rec || (labelDirs.get(d) ?? false));
      for (const abs of listed.images) {
        let rec = byPath.get(abs);
        if (!rec) {
          const label = labelPathFor(abs);
          rec = { abs, rel: relOf(abs), splits: [], label, labelRel: relOf(label), hasLabel: false, negative: false, broken: false, objs: [] };
          byPath.set(abs, rec);
        }
        if (!rec.splits.includes(split)) {
          rec.splits.push(split);
          splitImages[split].push(rec);
        }
      }
    }
    if (splitImages[split].length === 0) {
      emptySplit.set(split, missing.length ? `${missing.join(', ')} does not exist` : `${entries.map(relOf).join(', ')} has no images`);
    }
  }
  const all = [...byPath.values()];
  const nc = names.length;

  // ---- labels (small pool: many small files, I/O bound)
  let done = 0;
  onProgress?.('labels', 0, all.length);
  await pool(all, 8, (rec) => readLabel(rec, nc, f), signal, () => onProgress?.('labels', ++done, all.length));

  // labels with no image: Ultralytics only reads labels of images it finds, so these are lost
  const expected = new Set(all.map((r) => r.label));
  for (const [dir, recursive] of labelDirs) {
    const files = await fs.readdir(dir, { recursive }).catch(() => [] as string[]);
    for (const name of files.sort()) {
      if (!name.endsWith('.txt') || path.basename(name) === 'classes.txt') continue;
      const abs = path.join(dir, name);
      if (!expected.has(abs)) f.get('missing-image').add(relOf(abs), relOf(abs));
    }
  }

  // ---- images: content hash, header, full decode and dHash (CPU bound: one per core; at least 4 so
  //      file reads overlap decodes: dHash went from 4.9 to 3.5 ms/image on a 2-core box)
  done = 0;
  onProgress?.('images', 0, all.length);
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  await pool(all, Math.max(4, cores), (rec) => inspectImage(rec, f, opts.known?.get(rec.abs)), signal, () => onProgress?.('images', ++done, all.length));

  // ---- file-level issues
  const fc = (code: string) => f.get(code);
  if (f.has('data-yaml-path-missing'))
    push('error', 'data-yaml-path-missing', `data.yaml names a dataset path that does not exist (${fc('data-yaml-path-missing').items[0]}); checked the folder of data.yaml instead. Training will fail until path: is the dataset's absolute folder.`, fc('data-yaml-path-missing'));
  if (f.has('data-yaml-relative-path'))
    push('warning', 'data-yaml-relative-path', `data.yaml has a relative ${fc('data-yaml-relative-path').items[0]}: Ultralytics resolves it against the working directory or its datasets folder, not the folder of data.yaml. Write an absolute path.`, fc('data-yaml-relative-path'));
  if (f.has('names-gap'))
    push('warning', 'names-gap', `names skips ${plural(fc('names-gap').count, 'class id')}; they were named class_<id>. Ultralytics expects ids 0..${nc - 1} without gaps.`, fc('names-gap'));

  for (const split of SPLITS) {
    const why = emptySplit.get(split);
    if (split === 'test') {
      if (!data.splits.test) push('info', 'empty-split', 'No test split: final numbers will come from val, which also chose best.pt. Keep a test split for an unbiased last look.');
      else if (why) push('warning', 'empty-split', `The test split is empty: ${why}.`);
      continue;
    }
    if (!data.splits[split]) push('error', 'empty-split', `data.yaml has no ${split} entry: Ultralytics needs both train and val.`);
    else if (why) push('error', 'empty-split', `The ${split} split is empty: ${why}.`);
  }

  const overlap = all.filter((r) => r.splits.length > 1);
  if (overlap.length) {
    const fin = new Finding();
    for (const r of overlap) fin.add(r.rel, `${r.rel}: ${r.splits.join(' + ')}`);
    push('error', 'split-overlap', `${plural(overlap.length, 'image')} ${overlap.length === 1 ? 'is' : 'are'} listed in more than one split (${[...new Set(overlap.map((r) => r.splits.join('+')))].join(', ')}): validation would score images the model trained on.`, fin);
  }

  if (f.has('missing-image'))
    push('error', 'missing-image', `${plural(fc('missing-image').count, 'label file')} ${fc('missing-image').count === 1 ? 'has' : 'have'} no image (matched by name under images/): Ultralytics ignores these annotations.`, fc('missing-image'));
  if (f.has('listed-image-missing'))
    push('error', 'listed-image-missing', `${plural(fc('listed-image-missing').count, 'image')} named in split lists ${fc('listed-image-missing').count === 1 ? 'is' : 'are'} not on disk (lines are read relative to the dataset root, or to the list with ./): Ultralytics fails or skips them.`, fc('listed-image-missing'));
  if (f.has('corrupt-image'))
    push('error', 'corrupt-image', `${plural(fc('corrupt-image').count, 'image')} cannot be decoded (truncated or damaged files): Ultralytics skips them with their labels.`, fc('corrupt-image'));
  if (f.has('image-not-decoded'))
    push('info', 'image-not-decoded', `${plural(fc('image-not-decoded').count, 'BMP image')} could not be fully checked (the image library here does not decode BMP; Ultralytics does): only the header was read, and they are left out of the near-duplicate check.`, fc('image-not-decoded'));
  if (f.has('image-too-small'))
    push('error', 'image-too-small', `${plural(fc('image-too-small').count, 'image')} ${fc('image-too-small').count === 1 ? 'is' : 'are'} under 10 px on a side: Ultralytics rejects ${fc('image-too-small').count === 1 ? 'it' : 'them'} as corrupt and skips the labels.`, fc('image-too-small'));
  if (f.has('label-unreadable'))
    push('error', 'label-unreadable', `${plural(fc('label-unreadable').count, 'label file')} cannot be read as text: Ultralytics skips their images.`, fc('label-unreadable'));
  if (f.has('label-malformed'))
    push('error', 'label-malformed', `${plural(fc('label-malformed').count, 'label line')} in ${plural(fc('label-malformed').files.size, 'file')} cannot be parsed: Ultralytics skips the whole image of each.`, fc('label-malformed'));
  if (f.has('class-out-of-range'))
    push('error', 'class-out-of-range', `${plural(fc('class-out-of-range').count, 'object')} ${fc('class-out-of-range').count === 1 ? 'has a class id' : 'have class ids'} outside 0..${nc - 1} (names has ${nc}): Ultralytics skips the whole image of each.`, fc('class-out-of-range'));
  if (f.has('box-not-normalized'))
    push('error', 'box-not-normalized', `${plural(fc('box-not-normalized').count, 'box', 'boxes')} ${fc('box-not-normalized').count === 1 ? 'has' : 'have'} coordinates beyond [0, 1] (pixel units, or far outside the image): Ultralytics skips the whole image of each.`, fc('box-not-normalized'));
  if (f.has('box-outside'))
    push('warning', 'box-outside', `${plural(fc('box-outside').count, 'box', 'boxes')} ${fc('box-outside').count === 1 ? 'reaches' : 'reach'} outside the image; ${fc('box-outside').count === 1 ? 'it' : 'they'} will be clipped to the image edges.`, fc('box-outside'));
  if (f.has('box-zero-area'))
    push('warning', 'box-zero-area', `${plural(fc('box-zero-area').count, 'box', 'boxes')} ${fc('box-zero-area').count === 1 ? 'has' : 'have'} zero width or height (after clipping to the image): they teach nothing and are dropped.`, fc('box-zero-area'));
  if (f.has('duplicate-labels'))
    push('warning', 'duplicate-labels', `${plural(fc('duplicate-labels').count, 'label line')} ${fc('duplicate-labels').count === 1 ? 'repeats' : 'repeat'} another line of the same file: Ultralytics removes the copies.`, fc('duplicate-labels'));
  if (f.has('mixed-box-polygon'))
    push('warning', 'mixed-box-polygon', `${plural(fc('mixed-box-polygon').count, 'label file')} mix boxes and polygons: Ultralytics then reads every line as a polygon, so the box lines become wrong shapes.`, fc('mixed-box-polygon'));

  // ---- exact duplicates (same bytes), by sha1
  const bySha = new Map<string, ImageRec[]>();
  for (const r of all) if (r.sha1) (bySha.get(r.sha1) ?? bySha.set(r.sha1, []).get(r.sha1)!).push(r);
  const cross = new Finding();
  const within = new Finding();
  for (const group of bySha.values()) {
    if (group.length < 2) continue;
    const perSplit = new Map<string, number>();
    for (const r of group) perSplit.set(r.splits[0]!, (perSplit.get(r.splits[0]!) ?? 0) + 1);
    const k = group.length;
    let sq = 0;
    let w = 0;
    for (const c of perSplit.values()) {
      sq += c * c;
      w += (c * (c - 1)) / 2;
    }
    cross.count += (k * k - sq) / 2;
    within.count += w;
    // list pairs until the lists are full (group sizes can be large: 1000 black frames)
    const wantCross = () => perSplit.size > 1 && cross.items.length < CAP;
    const wantWithin = () => w > 0 && within.items.length < CAP;
    for (let i = 0; i < k && (wantCross() || wantWithin()); i++) {
      for (let j = i + 1; j < k && (wantCross() || wantWithin()); j++) {
        const a = group[i]!, b = group[j]!;
        const into = a.splits[0] === b.splits[0] ? within : cross;
        if (into.items.length >= CAP) continue;
        into.add(a.rel, `${a.rel} (${a.splits[0]}) = ${b.rel} (${b.splits[0]})`, 0);
        if (into.files.size < CAP) into.files.add(b.rel);
      }
    }
  }
  if (cross.count)
    push('error', 'duplicate-images', `${plural(cross.count, 'pair')} of identical images sit in different splits: validation scores images the model trained on.`, cross);
  if (within.count)
    push('warning', 'duplicate-images', `${plural(within.count, 'pair')} of identical images within a split: they weigh double in training.`, within);

  // ---- the leak audit: split.ts auditSplits, the one the import reports (groups and frames from split.json,
  // near-duplicate and identical pairs across splits, val/test images with a twin in train)
  const keys = all.map((r) => `file:${r.rel}`);
  const frames: (number | undefined)[] = all.map(() => undefined);
  const splitJson = path.join(path.dirname(data.yamlPath), 'split.json');
  if (existsSync(splitJson)) {
    let entries: SplitEntry[] | undefined;
    try {
      entries = z.array(SplitEntry).parse(JSON.parse(await fs.readFile(splitJson, 'utf8')));
    } catch (err) {
      const msg = err instanceof z.ZodError ? `${err.issues[0]?.path.join('.')}: ${err.issues[0]?.message}` : (err as Error).message;
      const fin = new Finding();
      fin.add(relOf(splitJson), msg.split('\n')[0]);
      push('warning', 'split-json-invalid', `split.json cannot be used for the group-leak check: ${msg.split('\n')[0]}`, fin);
    }
    if (entries) {
      const at = new Map(all.map((r, i) => [r.rel, i]));
      for (const e of entries) {
        const i = at.get(toPosix(e.file));
        if (i === undefined) continue;
        keys[i] = e.group;
        frames[i] = e.frame;
      }
    }
  }
  // A video split in time blocks legitimately spans splits; it leaks only where frames closer than
  // the guard gap (the one the import used, from report.json) sit in different splits.
  const { guardGap } = await readAuditSettings(path.dirname(data.yamlPath));
  const audit = auditSplits(
    all.map((r) => ({ name: r.rel, classes: [] })),
    keys,
    all.map((r) => r.splits[0]),
    { ...(dupThreshold >= 0 ? { hashes: all.map((r) => r.dhash), dupThreshold } : {}), sha1: all.map((r) => r.sha1), frames, ...(guardGap ? { guardGap } : {}), maxExamples: CAP },
  );
  const examplesOf = (...kinds: string[]) => {
    const fin = new Finding();
    for (const e of audit.examples) {
      if (!kinds.includes(e.kind)) continue;
      if (e.group !== undefined) {
        fin.add(undefined, `${e.group}: ${e.detail}`, 0);
        if (fin.files.size < CAP) fin.files.add(e.a);
      } else fin.add(e.a, `${e.a} (${e.splits[0]}) ~ ${e.b} (${e.splits[1]})`, 0);
      if (e.b && fin.files.size < CAP) fin.files.add(e.b);
    }
    return fin;
  };
  if (audit.near_duplicate_crossings) {
    push('warning', 'near-duplicates-across-splits', `${plural(audit.near_duplicate_crossings, 'pair')} of near-identical images (dHash distance <= ${dupThreshold} of 64) sit in different splits: neighbouring frames or augmented copies inflate validation scores.`, examplesOf('near-duplicate'), audit.near_duplicate_crossings);
  }
  if (audit.group_crossings) {
    const n = audit.group_crossings;
    push('error', 'group-leak', `${plural(n, 'group')} (one source, video or sequence each) ${n === 1 ? 'has' : 'have'} images in several splits: near-identical frames leak into validation and inflate mAP.`, examplesOf('group', 'sequence-neighbours'), n);
  }
  if (audit.held_out_with_twin) {
    push('warning', 'held-out-twins', `val/test images with a twin in train: ${audit.held_out_with_twin} of ${audit.held_out_images} (a near-duplicate, an identical file, a member of their group or a neighbouring frame sits in train): their scores measure memory, not generalisation.`, examplesOf('near-duplicate', 'exact-duplicate', 'group', 'sequence-neighbours'), audit.held_out_with_twin);
  }

  // ---- class statistics per split
  const inst: Record<SplitName, number[]> = { train: new Array(nc).fill(0), val: new Array(nc).fill(0), test: new Array(nc).fill(0) };
  for (const r of all) for (const s of r.splits) for (let i = 0; i < r.objs.length; i += 3) inst[s][r.objs[i]!]!++;
  const valExists = splitImages.val.length > 0;
  const objects = (s: SplitName) => inst[s].reduce((a, b) => a + b, 0);

  for (const split of SPLITS) {
    const imgs = splitImages[split];
    if (!imgs.length) continue;
    if (!imgs.some((r) => r.hasLabel)) {
      const fin = new Finding();
      fin.add(imgs[0]!.labelRel);
      push(split === 'test' ? 'warning' : 'error', 'no-labels', `None of the ${plural(imgs.length, `${split} image`)} has a label file (expected e.g. ${imgs[0]!.labelRel}): Ultralytics will treat them all as background.`, fin, imgs.length);
    } else if (split === 'train' && objects('train') === 0) {
      push('error', 'no-labels', `The train split has label files but not a single usable object: there is nothing to learn.`, undefined, imgs.length);
    }
  }

  if (valExists) {
    const few = new Finding();
    const missing = new Finding();
    const rare = new Finding();
    for (let c = 0; c < nc; c++) {
      const v = inst.val[c]!, t = inst.train[c]!;
      if (v > 0 && v < minVal) few.add(undefined, `${names[c]}: ${v}`);
      if (v === 0 && t >= minVal) missing.add(undefined, `${names[c]}: ${t} train, 0 val`);
      else if (v === 0 && t > 0) rare.add(undefined, `${names[c]}: ${t} train, 0 val`);
    }
    if (few.count)
      push('warning', 'few-val-instances', `${plural(few.count, 'class', 'classes')} ${few.count === 1 ? 'has' : 'have'} fewer than ${minVal} validation instances, so ${few.count === 1 ? 'its' : 'their'} metric will be noise: ${listed(few)}.`, few);
    // a class with plenty of training data and none in val: the split failed it, and its mAP is unmeasured
    if (missing.count)
      push('error', 'class-missing-in-val', `${plural(missing.count, 'class', 'classes')} with training data ${missing.count === 1 ? 'has' : 'have'} no validation instance, so ${missing.count === 1 ? 'it' : 'they'} cannot be measured at all: ${listed(missing)}. Re-split by group with stratification.`, missing);
    // too rare to give val a share that would mean anything: say so, but it is not a broken dataset
    if (rare.count)
      push('warning', 'class-missing-in-val', `${plural(rare.count, 'class', 'classes')} ${rare.count === 1 ? 'has' : 'have'} a few training instances and none in validation, so ${rare.count === 1 ? 'it is' : 'they are'} not measured: ${listed(rare)}.`, rare);
  }
  const noTrain = new Finding();
  const unused = new Finding();
  for (let c = 0; c < nc; c++) {
    const t = inst.train[c]!, v = inst.val[c]!, s = inst.test[c]!;
    if (t === 0 && v + s > 0) noTrain.add(undefined, `${names[c]}: ${v} val, ${s} test`);
    if (t + v + s === 0) unused.add(undefined, names[c]);
  }
  if (noTrain.count && splitImages.train.length)
    push('warning', 'class-missing-in-train', `${plural(noTrain.count, 'class', 'classes')} ${noTrain.count === 1 ? 'appears' : 'appear'} in val/test but never in train: the model cannot learn ${noTrain.count === 1 ? 'it' : 'them'} and ${noTrain.count === 1 ? 'its' : 'their'} AP will read 0: ${listed(noTrain)}.`, noTrain);
  if (unused.count)
    push('info', 'unused-classes', `${plural(unused.count, 'class', 'classes')} in names ${unused.count === 1 ? 'has' : 'have'} no instances in any split: ${listed(unused, 20)}.`, unused);

  // ---- negatives (images without objects): some help against false positives, a majority drowns the signal
  const neg = (s: SplitName) => splitImages[s].filter((r) => r.negative);
  const present = SPLITS.filter((s) => splitImages[s].length);
  if (present.length) {
    const negTotal = all.filter((r) => r.negative).length;
    const parts = present.map((s) => {
      const n = neg(s);
      const noFile = n.filter((r) => !r.hasLabel).length;
      return `${s} ${n.length} of ${splitImages[s].length} (${pct(n.length, splitImages[s].length)})${noFile ? `, ${noFile} without a label file` : ''}`;
    });
    const trainShare = splitImages.train.length ? neg('train').length / splitImages.train.length : 0;
    const fin = new Finding();
    for (const r of all) if (r.negative) fin.add(r.rel);
    const tail =
      trainShare > 0.5 ? ' More than half of train is background: the detector sees few objects per batch; drop some negatives or add annotated images.'
      : negTotal === 0 ? ' No background images: a few percent of negatives (scenes without objects) usually reduce false positives.'
      : '';
    push(trainShare > 0.5 ? 'warning' : 'info', 'negatives-share', `Negatives (images without objects): ${parts.join('; ')}.${tail}`, fin, negTotal);
  }

  // ---- objects that shrink to a few pixels after the letterbox resize to imgsz
  const tiny = new Array<number>(nc).fill(0);
  const small = new Array<number>(nc).fill(0);
  const tinyFiles = new Finding();
  let sized = 0;
  for (const r of all) {
    if (!r.width || !r.height) continue;
    const s = imgsz / Math.max(r.width, r.height);
    let any = false;
    for (let i = 0; i < r.objs.length; i += 3) {
      sized++;
      const side = Math.min(r.objs[i + 1]! * r.width * s, r.objs[i + 2]! * r.height * s);
      if (side < SMALL_PX) {
        small[r.objs[i]!]!++;
        if (side < TINY_PX) tiny[r.objs[i]!]!++;
        any = true;
      }
    }
    if (any) tinyFiles.add(r.rel, undefined, 0);
  }
  const nTiny = tiny.reduce((a, b) => a + b, 0);
  const nSmall = small.reduce((a, b) => a + b, 0);
  if (nSmall) {
    for (let c = 0; c < nc; c++) if (small[c] && tinyFiles.items.length < CAP) tinyFiles.items.push(`${names[c]}: ${tiny[c]} under ${TINY_PX} px, ${small[c]} under ${SMALL_PX} px`);
    const perClass = [...names.keys()].filter((c) => small[c]).sort((a, b) => tiny[b]! - tiny[a]! || small[b]! - small[a]!).slice(0, 8)
      .map((c) => `${names[c]} ${tiny[c]}/${small[c]}`).join(', ');
    push(
      nTiny ? 'warning' : 'info',
      'tiny-objects',
      `At imgsz ${imgsz}, ${plural(nTiny, 'object')} of ${sized} ${nTiny === 1 ? 'gets' : 'get'} a shorter side under ${TINY_PX} px after resizing (hard to detect at all) and ${nSmall} under ${SMALL_PX} px. Per class (<${TINY_PX} px / <${SMALL_PX} px): ${perClass}. A larger imgsz or tiling keeps them visible.`,
      tinyFiles,
      nTiny || nSmall,
    );
  }

  // ---- assemble
  for (const extra of opts.extraIssues ?? []) issues.push(HealthIssue.parse(extra));
  const rank = { error: 0, warning: 1, info: 2 } as const;
  issues.sort((a, b) => rank[a.severity] - rank[b.severity]);
  const counts = { errors: 0, warnings: 0, infos: 0 };
  for (const i of issues) counts[i.severity === 'error' ? 'errors' : i.severity === 'warning' ? 'warnings' : 'infos']++;
  return HealthReport.parse({ ok: counts.errors === 0, imgsz, checked_at: new Date().toISOString(), counts, issues, leak_audit: audit });
}

/**
 * What report.json recorded for the leak audit of a dataset Spotter made: the guard gap of its time blocks and the
 * near-duplicate threshold it counted at (each undefined where absent, or where the report cannot be read).
 */
export async function readAuditSettings(dir: string): Promise<{ guardGap?: number; dupThreshold?: number }> {
  try {
    const report = JSON.parse(await fs.readFile(path.join(dir, 'report.json'), 'utf8')) as { grouping?: { guard_gap?: unknown }; leak_audit?: { dup_threshold?: unknown } };
    const g = report.grouping?.guard_gap, t = report.leak_audit?.dup_threshold;
    return { ...(typeof g === 'number' && g > 0 ? { guardGap: g } : {}), ...(typeof t === 'number' && t >= 0 ? { dupThreshold: t } : {}) };
  } catch {
    return {};
  }
}

