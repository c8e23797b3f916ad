/**
 * YOLO dataset reader: Ultralytics `data.yaml` (every spelling seen in the wild: names as list or
 * dict, `path` absolute / relative / missing, splits as a folder, a list or a .txt of images,
 * Roboflow's `../train/images`), CVAT's "YOLO 1.1" (obj.data, obj.names, train.txt) and loose folders
 * of images with .txt labels. Normalised coordinates become pixels of the real image (EXIF orientation
 * applied, as Ultralytics does). OBB, pose and classification datasets are detected and refused
 * rather than misread as boxes or polygons.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import YAML from 'yaml';
import {
  bumpCount,
  ImportError,
  polygonsBBox,
  type ImportNote,
  type ReadOptions,
  type SourceDataset,
  type SourceImage,
  type SourceObject,
} from '../model.js';
import { CancelledError } from '../../jobs/jobs.js';
import { exists, isImageFile, walkFiles } from '../../fsutil.js';

/** One split as the dataset declares it: its key and the image files in it. */
interface Split {
  key?: string;
  images: string[];
}

interface Plan {
  root: string;
  files: string[];
  names: Map<number, string>;
  splits: Split[];
  /** how to find an image's label file */
  labelFor: (image: string) => string[];
  kind: 'yaml' | 'darknet' | 'loose';
}

/** Ultralytics' rule: replace the last `/images/` with `/labels/`, extension `.txt` (beside the image if none). */
export function ultralyticsLabelPath(image: string): string {
  const sep = path.sep;
  const sa = `${sep}images${sep}`;
  const i = image.lastIndexOf(sa);
  const p = i >= 0 ? `${image.slice(0, i)}${sep}labels${sep}${image.slice(i + sa.length)}` : image;
  return p.slice(0, p.length - path.extname(p).length) + '.txt';
}

const besideLabel = (image: string) => image.slice(0, image.length - path.extname(image).length) + '.txt';

const toPosix = (p: string) => p.split(path.sep).join('/');

async function isDir(p: string): Promise<boolean> {
  return fs.stat(p).then((s) => s.isDirectory(), () => false);
}

async function readText(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new ImportError(`cannot read: ${(err as Error).message}`, file);
  }
}

function namesFromList(lines: string[]): Map<number, string> {
  const m = new Map<number, string>();
  lines.map((l) => l.trim()).filter(Boolean).forEach((n, i) => m.set(i, n));
  return m;
}

/**
 * A split entry of data.yaml resolved to a path that exists. Relative entries are relative to the
 * dataset root; Roboflow writes `../train/images` although its zips hold `train/images` beside the
 * yaml, so a leading `../` that leads nowhere is retried without it; `valid` and `val` are tried for
 * each other (Roboflow names the folder `valid`, other tools `val`).
 */
async function resolveEntry(entry: string, root: string, yamlDir: string): Promise<string | undefined> {
  const e = entry.replace(/\\/g, '/');
  const candidates: string[] = [];
  if (path.isAbsolute(e)) candidates.push(e);
  else {
    candidates.push(path.resolve(root, e));
    const stripped = e.replace(/^(\.\.\/)+/, '');
    if (stripped !== e) candidates.push(path.resolve(yamlDir, stripped), path.resolve(root, stripped));
  }
  const swapped = candidates.map((c) => {
    const parts = c.split(path.sep);
    const i = parts.findLastIndex((s) => s === 'valid' || s === 'val');
    if (i < 0) return undefined;
    parts[i] = parts[i] === 'valid' ? 'val' : 'valid';
    return parts.join(path.sep);
  });
  for (const c of [...candidates, ...swapped]) if (c && (await exists(c))) return c;
  return undefined;
}

/** Images of one split entry: a folder (recursive), an image file, or a .txt listing images. */
async function imagesOfEntry(
  resolved: string,
  root: string,
  notes: ImportNote[],
  files: string[],
  signal?: AbortSignal,
): Promise<string[]> {
  if (await isDir(resolved)) return (await walkFiles(resolved, signal)).filter(isImageFile);
  if (isImageFile(resolved)) return [resolved];
  if (resolved.toLowerCase().endsWith('.txt')) {
    files.push(resolved);
    const out: string[] = [];
    const lines = (await readText(resolved)).split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim().replace(/\\/g, '/');
      if (!line) continue;
      // Ultralytics: `./x` is relative to the list file; CVAT writes `data/...` meaning the dataset root
      const cands = path.isAbsolute(line)
        ? [line]
        : [
            line.startsWith('./') ? path.resolve(path.dirname(resolved), line) : path.resolve(root, line),
            path.resolve(path.dirname(resolved), line),
            ...(line.startsWith('data/') ? [path.resolve(root, line.slice(5)), path.resolve(path.dirname(resolved), line.slice(5))] : []),
          ];
      let found: string | undefined;
      for (const c of cands) if (await exists(c)) { found = c; break; }
      if (found) out.push(found);
      else notes.push({ severity: 'error', code: 'missing-image', message: `listed image not found: ${line}`, file: resolved, item: `line ${i + 1}` });
    }
    return out;
  }
  notes.push({ severity: 'warning', code: 'unknown-split-entry', message: 'split entry is neither a folder, an image nor a .txt list', file: resolved });
  return [];
}

async function planFromYaml(yamlPath: string, notes: ImportNote[], signal?: AbortSignal): Promise<Plan> {
  const yamlDir = path.dirname(yamlPath);
  let doc: unknown;
  try {
    doc = YAML.parse(await readText(yamlPath));
  } catch (err) {
    if (err instanceof ImportError) throw err;
    const pos = (err as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
    throw new ImportError(`malformed YAML: ${(err as Error).message.split('\n')[0]}`, yamlPath, pos ? `line ${pos.line}, column ${pos.col}` : undefined);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new ImportError('not a YOLO data.yaml: expected a mapping with names and train/val', yamlPath);
  const y = doc as Record<string, unknown>;

  if (y.kpt_shape !== undefined) throw new ImportError('YOLO pose datasets (kpt_shape) are not supported yet', yamlPath);

  // names: list, dict {0: a} (keys may be strings), or absent with nc
  const names = new Map<number, string>();
  if (Array.isArray(y.names)) y.names.forEach((n, i) => names.set(i, String(n)));
  else if (y.names && typeof y.names === 'object') {
    for (const [k, v] of Object.entries(y.names as Record<string, unknown>)) {
      const id = Number(k);
      if (!Number.isInteger(id) || id < 0) throw new ImportError(`names key "${k}" is not a class id`, yamlPath, 'names');
      names.set(id, String(v));
    }
  } else if (y.names !== undefined && y.names !== null) {
    throw new ImportError('names must be a list or a mapping of class id to name', yamlPath, 'names');
  }
  const nc = typeof y.nc === 'number' ? y.nc : y.nc !== undefined && y.nc !== null ? Number(y.nc) : undefined;
  if (!names.size && nc !== undefined && Number.isInteger(nc)) {
    for (let i = 0; i < nc; i++) names.set(i, `class_${i}`); // Ultralytics' own default names
    notes.push({ severity: 'warning', code: 'no-names', message: `data.yaml gives nc: ${nc} but no names: classes named class_0..class_${nc - 1}`, file: yamlPath });
  } else if (names.size && nc !== undefined && nc !== names.size) {
    notes.push({ severity: 'warning', code: 'nc-mismatch', message: `nc: ${nc} but ${names.size} names`, file: yamlPath, item: 'nc' });
  }

  // path: absolute, relative to the yaml's folder, or missing (= the yaml's folder)
  let root = yamlDir;
  if (typeof y.path === 'string' && y.path.trim()) {
    const p = path.resolve(yamlDir, y.path.trim());
    if (await isDir(p)) root = p;
    else notes.push({ severity: 'info', code: 'path-not-found', message: `data.yaml path "${y.path}" does not exist here; reading the splits relative to the yaml's folder`, file: yamlPath, item: 'path' });
  }

  const files = [yamlPath];
  const splits: Split[] = [];
  for (const key of ['train', 'val', 'test'] as const) {
    const v = y[key];
    if (v === undefined || v === null || v === '') continue;
    const entries = Array.isArray(v) ? v.map(String) : [String(v)];
    const imgs: string[] = [];
    for (const entry of entries) {
      const resolved = await resolveEntry(entry, root, yamlDir);
      if (!resolved) {
        notes.push({ severity: 'warning', code: 'missing-split', message: `${key}: "${entry}" not found (relative to ${root})`, file: yamlPath, item: key });
        continue;
      }
      imgs.push(...(await imagesOfEntry(resolved, root, notes, files, signal)));
    }
    splits.push({ key, images: [...new Set(imgs)] });
  }
  if (!splits.length) throw new ImportError('data.yaml declares no train/val/test split', yamlPath);
  return { root, files, names, splits, labelFor: (img) => [ultralyticsLabelPath(img)], kind: 'yaml' };
}

/** CVAT "YOLO 1.1" (darknet): obj.data with `classes`, `names`, and one `<subset> = data/<subset>.txt` per subset. */
async function planFromObjData(objData: string, notes: ImportNote[], signal?: AbortSignal): Promise<Plan> {
  const root = path.dirname(objData);
  const files = [objData];
  const kv = new Map<string, string>();
  const lines = (await readText(objData)).split(/\r?\n/);
  lines.forEach((line, i) => {
    if (!line.trim() || line.trim().startsWith('#')) return;
    const m = /^\s*([^=]+?)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) throw new ImportError('expected "key = value"', objData, `line ${i + 1}`);
    kv.set(m[1]!, m[2]!);
  });
  // CVAT writes paths as `data/...`: `data` is the folder holding obj.data
  const local = async (p: string) => {
    const rel = p.replace(/\\/g, '/');
    for (const c of [path.resolve(root, rel), path.resolve(root, rel.replace(/^data\//, '')), path.resolve(root, path.basename(rel))]) {
      if (await exists(c)) return c;
    }
    return undefined;
  };

  const namesFile = await local(kv.get('names') ?? 'obj.names');
  if (!namesFile) throw new ImportError(`class names file not found: ${kv.get('names') ?? 'obj.names'}`, objData, 'names');
  files.push(namesFile);
  const names = namesFromList((await readText(namesFile)).split(/\r?\n/));
  const classes = Number(kv.get('classes'));
  if (Number.isInteger(classes) && classes !== names.size) {
    notes.push({ severity: 'warning', code: 'nc-mismatch', message: `classes = ${classes} but ${names.size} names`, file: objData, item: 'classes' });
  }

  const splits: Split[] = [];
  const NOT_SUBSETS = new Set(['classes', 'names', 'backup', 'eval', 'results']);
  for (const [key, value] of kv) {
    if (NOT_SUBSETS.has(key)) continue;
    const list = await local(value);
    let images: string[];
    if (list && !(await isDir(list))) images = await imagesOfEntry(list, root, notes, files, signal);
    else {
      // no list file: CVAT's folder for that subset
      const dir = list ?? path.join(root, `obj_${key}_data`);
      if (!(await isDir(dir))) {
        notes.push({ severity: 'warning', code: 'missing-split', message: `${key}: "${value}" not found`, file: objData, item: key });
        continue;
      }
      images = (await walkFiles(dir, signal)).filter(isImageFile);
    }
    splits.push({ key, images: [...new Set(images)] });
  }
  if (!splits.length) {
    for (const e of await fs.readdir(root, { withFileTypes: true })) {
      const m = /^obj_(.+)_data$/.exec(e.name);
      if (m && e.isDirectory()) splits.push({ key: m[1], images: (await walkFiles(path.join(root, e.name), signal)).filter(isImageFile) });
    }
  }
  return { root, files, names, splits, labelFor: (img) => [besideLabel(img)], kind: 'darknet' };
}

/** Loose folder: images anywhere below, labels beside them or in a sibling labels/ (Annotations/) folder. */
async function planFromFolder(dir: string, notes: ImportNote[], signal?: AbortSignal): Promise<Plan> {
  const all = await walkFiles(dir, signal);
  const images = all.filter(isImageFile);
  const files: string[] = [];
  let names = new Map<number, string>();
  // class names: classes.txt / obj.names / *.names, the shallowest first
  const nameFiles = all
    .filter((f) => /^(classes\.txt|.+\.names)$/i.test(path.basename(f)))
    .sort((a, b) => a.split(path.sep).length - b.split(path.sep).length || (path.basename(a) === 'classes.txt' ? -1 : 1));
  if (nameFiles[0]) {
    files.push(nameFiles[0]);
    names = namesFromList((await readText(nameFiles[0])).split(/\r?\n/));
  }

  // split from the layout: images/<split>/... or <split>/images/...
  const bySplit = new Map<string | undefined, string[]>();
  for (const img of images) {
    const segs = path.relative(dir, img).split(path.sep).slice(0, -1);
    const i = segs.findIndex((s) => s.toLowerCase() === 'images');
    const key = i >= 0 ? (segs[i + 1] ?? (i > 0 ? segs[i - 1] : undefined)) : undefined;
    (bySplit.get(key) ?? bySplit.set(key, []).get(key)!).push(img);
  }
  const splits = [...bySplit].map(([key, imgs]) => ({ key, images: imgs }));

  const labelFor = (img: string) => {
    const c = [ultralyticsLabelPath(img), besideLabel(img)];
    const parts = img.split(path.sep);
    const i = parts.slice(0, -1).findLastIndex((s) => s.toLowerCase() === 'images');
    if (i >= 0) {
      for (const alt of ['labels', 'Labels', 'annotations', 'Annotations']) {
        const p = [...parts];
        p[i] = alt;
        c.push(besideLabel(p.join(path.sep)));
      }
    }
    return [...new Set(c)];
  };
  return { root: dir, files: files.length ? files : [dir], names, splits, labelFor, kind: 'loose' };
}

/** A data.yaml (or other *.yaml with names), obj.data, or nothing (a loose folder) at the top of `dir`. */
async function findDescriptor(dir: string): Promise<string | undefined> {
  const entries = await fs.readdir(dir);
  const yamls = entries.filter((e) => /\.ya?ml$/i.test(e)).sort((a, b) => (/^data\.ya?ml$/i.test(a) ? -1 : /^data\.ya?ml$/i.test(b) ? 1 : a.localeCompare(b)));
  for (const y of yamls) {
    const text = await fs.readFile(path.join(dir, y), 'utf8').catch(() => '');
    if (/^(names|train|nc)\s*:/m.test(text)) return path.join(dir, y);
  }
  if (entries.includes('obj.data')) return path.join(dir, 'obj.data');
  return undefined;
}

interface ParsedLine {
  line: number;
  cls: number;
  coords: number[];
}

/** Parses a label file; malformed lines become notes. */
function parseLabelFile(text: string, labelFile: string, notes: ImportNote[]): ParsedLine[] {
  const out: ParsedLine[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw) continue;
    const tok = raw.split(/\s+/);
    const vals = tok.map(Number);
    const bad = (why: string) => notes.push({ severity: 'error', code: 'malformed-label', message: `${why}: "${raw.length > 80 ? raw.slice(0, 80) + '…' : raw}"`, file: labelFile, item: `line ${i + 1}` });
    if (vals.some((v) => !Number.isFinite(v))) { bad('not a number'); continue; }
    const cls = vals[0]!;
    if (!Number.isInteger(cls) || cls < 0) { bad('class id is not a non-negative integer'); continue; }
    const n = vals.length - 1;
    if (n !== 4 && (n < 6 || n % 2 !== 0)) { bad(`expected "class cx cy w h" or "class x1 y1 x2 y2 x3 y3 ...", got ${n} value(s) after the class`); continue; }
    if (n === 4 && (vals[3]! < 0 || vals[4]! < 0)) { bad('negative box width or height'); continue; }
    out.push({ line: i + 1, cls, coords: vals.slice(1) });
  }
  return out;
}

/** True when a 4-corner line is a rectangle in pixels: what an OBB label is, and a hand-drawn quad rarely is. */
function isRectangle(c: number[], w: number, h: number): boolean {
  const p = [0, 1, 2, 3].map((k) => [c[2 * k]! * w, c[2 * k + 1]! * h] as const);
  for (let k = 0; k < 4; k++) {
    const a = p[k]!, b = p[(k + 1) % 4]!, d = p[(k + 2) % 4]!;
    const e1 = [b[0] - a[0], b[1] - a[1]], e2 = [d[0] - b[0], d[1] - b[1]];
    const l1 = Math.hypot(e1[0]!, e1[1]!), l2 = Math.hypot(e2[0]!, e2[1]!);
    if (l1 === 0 || l2 === 0) return false;
    if (Math.abs(e1[0]! * e2[0]! + e1[1]! * e2[1]!) > 0.02 * l1 * l2) return false;
  }
  return true;
}

/** Runs `fn` over items with at most `n` in flight, in order of start. */
async function pool<T>(items: T[], n: number, fn: (item: T, i: number) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      if (signal?.aborted) throw new CancelledError();
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

interface Work {
  image: string;
  split?: string;
  labelFile?: string;
  lines: ParsedLine[];
  size?: { width: number; height: number };
  corrupt?: string;
}

export async function readYolo(input: string, opts: ReadOptions = {}): Promise<SourceDataset> {
  const abs = path.resolve(input);
  const notes: ImportNote[] = [];
  const counts: Record<string, number> = {};
  let stat;
  try {
    stat = await fs.stat(abs);
  } catch {
    throw new ImportError('no such file or folder', abs);
  }

  let plan: Plan;
  if (stat.isDirectory()) {
    const desc = await findDescriptor(abs);
    if (!desc) plan = await planFromFolder(abs, notes, opts.signal);
    else if (path.basename(desc) === 'obj.data') plan = await planFromObjData(desc, notes, opts.signal);
    else plan = await planFromYaml(desc, notes, opts.signal);
  } else if (/\.ya?ml$/i.test(abs)) plan = await planFromYaml(abs, notes, opts.signal);
  else if (/\.data$/i.test(abs)) plan = await planFromObjData(abs, notes, opts.signal);
  else throw new ImportError('not a YOLO dataset: expected a data.yaml, an obj.data or a folder', abs);
  if (opts.signal?.aborted) throw new CancelledError();

  const work: Work[] = plan.splits.flatMap((s) => s.images.map((image) => ({ image, split: s.key, lines: [] })));
  if (!work.length) throw new ImportError('no images found in this YOLO dataset', plan.files[0] ?? abs);

  // read labels and real image sizes, a few at a time
  await pool(
    work,
    16,
    async (w) => {
      for (const cand of plan.labelFor(w.image)) {
        let text: string;
        try {
          text = await fs.readFile(cand, 'utf8');
        } catch {
          continue;
        }
        w.labelFile = cand;
        w.lines = parseLabelFile(text, cand, notes);
        break;
      }
      try {
        const meta = await sharp(w.image).metadata();
        const o = meta.autoOrient ?? { width: meta.width, height: meta.height };
        if (!o.width || !o.height) throw new Error('no image size in the header');
        w.size = { width: o.width, height: o.height };
      } catch (err) {
        w.corrupt = (err as Error).message;
      }
    },
    opts.signal,
  );

  const rel = (p: string) => toPosix(path.relative(plan.root, p));
  const withLabels = work.filter((w) => w.labelFile);
  if (!withLabels.length) {
    // nothing labelled: tell the layouts we do not read apart from an unlabelled detection set
    const dirs = new Set(work.map((w) => path.dirname(path.dirname(w.image))));
    for (const d of dirs) {
      if (await isDir(path.join(d, 'labelTxt'))) {
        throw new ImportError('YOLO OBB datasets are not supported yet (DOTA-style labelTxt/ folders found)', path.join(d, 'labelTxt'));
      }
    }
    const rels = work.map((w) => rel(w.image).split('/'));
    const classDirs = new Set(rels.map((s) => s.slice(0, -1).join('/')));
    if (classDirs.size >= 2 && rels.every((s) => s.length >= 2 && !s.some((x) => x.toLowerCase() === 'images'))) {
      throw new ImportError('YOLO classification datasets (one folder per class, no label files) are not supported: Spotter trains detectors and segmenters', plan.root);
    }
  }

  if (!withLabels.length) notes.push({ severity: 'warning', code: 'no-labels', message: 'no label file found for any image: every image is a negative', file: plan.files[0] });

  // OBB labels (class x1 y1 x2 y2 x3 y3 x4 y4) look like 4-point polygons: refuse when every line is a rectangle
  const allLines = work.flatMap((w) => w.lines.map((l) => ({ l, w })));
  if (
    allLines.length &&
    allLines.every(({ l }) => l.coords.length === 8) &&
    allLines.every(({ l, w }) => isRectangle(l.coords, w.size?.width ?? 1, w.size?.height ?? 1))
  ) {
    throw new ImportError(
      'YOLO OBB datasets are not supported yet: every label line is a rotated rectangle (class x1 y1 x2 y2 x3 y3 x4 y4)',
      withLabels[0]!.labelFile,
    );
  }

  const images: SourceImage[] = [];
  const categories = [...plan.names.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n);
  const looseNoNames = plan.kind === 'loose' && !plan.names.size;
  let maxCls = -1;
  for (const w of work) {
    const name = rel(w.image);
    const img: SourceImage = { name, path: w.image, objects: [], ref: name };
    if (w.split) img.subset = w.split;
    images.push(img);
    if (!w.labelFile) bumpCount(counts, 'label_files_missing');
    if (w.corrupt || !w.size) {
      notes.push({ severity: 'error', code: 'corrupt-image', message: `image cannot be read: ${w.corrupt ?? 'unknown error'}`, file: w.image });
      bumpCount(counts, 'corrupt_images');
      continue;
    }
    const { width: W, height: H } = w.size;
    img.width = W;
    img.height = H;
    let outOfRange = 0;
    for (const l of w.lines) {
      let category = plan.names.get(l.cls);
      if (category === undefined && looseNoNames) category = String(l.cls);
      if (category === undefined) {
        notes.push({ severity: 'error', code: 'class-out-of-range', message: `class id ${l.cls} is not in names (${plan.names.size} classes)`, file: w.labelFile, item: `line ${l.line}` });
        bumpCount(counts, 'class_out_of_range');
        continue;
      }
      maxCls = Math.max(maxCls, l.cls);
      if (l.coords.some((v) => v < -0.01 || v > 1.01)) outOfRange++;
      const ref = `${name} line ${l.line}`;
      let obj: SourceObject;
      if (l.coords.length === 4) {
        const [cx, cy, bw, bh] = l.coords as [number, number, number, number];
        obj = { category, bbox: [(cx - bw / 2) * W, (cy - bh / 2) * H, bw * W, bh * H], origin: 'yolo-box', ref };
      } else {
        const poly = l.coords.map((v, k) => v * (k % 2 === 0 ? W : H));
        obj = { category, bbox: polygonsBBox([poly]), polygons: [poly], origin: 'yolo-polygon', ref };
      }
      img.objects.push(obj);
    }
    if (outOfRange) {
      notes.push({ severity: 'warning', code: 'not-normalized', message: `${outOfRange} line(s) with coordinates outside 0..1 (pixel coordinates?)`, file: w.labelFile });
    }
  }
  if (looseNoNames) {
    for (let i = 0; i <= maxCls; i++) categories.push(String(i));
    notes.push({ severity: 'warning', code: 'no-names', message: 'no classes.txt / obj.names found: classes are named by their ids', file: plan.root });
  }

  return { format: 'yolo', root: plan.root, files: plan.files, categories, images, licenses: [], counts, notes };
}
