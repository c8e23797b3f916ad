/**
 * Finding the annotation sources in what the user dropped: a file, a folder, or a zip (extracted
 * first by the caller). Decides the format by content, not by name alone, and prefers real
 * annotation files (COCO JSON, CVAT XML) over YOLO label folders.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { SourceFormat } from './model.js';
import { ImportError } from './model.js';
import { walkFiles } from '../fsutil.js';

export interface DetectedFile {
  format: SourceFormat | 'cvat';
  /** the annotation file (COCO JSON, CVAT XML, data.yaml, obj.data) or the YOLO folder */
  path: string;
  /** the export's split this file belongs to, when the layout says so */
  subset?: string;
}

async function head(file: string, bytes = 4096): Promise<string> {
  const fh = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** COCO flavours that carry no objects: never picked from a folder that has instances files. */
const NON_INSTANCE_COCO = /^(captions|image_info|panoptic|labels|person_keypoints|stuff)_/;

async function looksLikeCoco(file: string): Promise<boolean> {
  const h = await head(file, 65536);
  return /"(images|annotations|categories)"\s*:/.test(h);
}

async function looksLikeCvat(file: string): Promise<boolean> {
  const h = await head(file, 8192);
  return /<annotations[\s>]/.test(h);
}

function subsetFromCocoName(file: string): string | undefined {
  const base = path.basename(file);
  const m = /^(?:instances|person_keypoints)_(.+)\.json$/.exec(base);
  if (m && m[1] !== 'default') return m[1];
  if (base === '_annotations.coco.json') return path.basename(path.dirname(file));
  return undefined;
}

/** Detect the annotation sources under `input` (a file or a folder). */
export async function detectSources(input: string, signal?: AbortSignal): Promise<DetectedFile[]> {
  let stat;
  try {
    stat = await fs.stat(input);
  } catch {
    throw new ImportError('no such file or folder', input);
  }
  if (stat.isFile()) {
    const ext = path.extname(input).toLowerCase();
    if (ext === '.json') return [{ format: 'coco', path: input, subset: subsetFromCocoName(input) }];
    if (ext === '.xml') return [{ format: 'cvat', path: input }];
    if (ext === '.yaml' || ext === '.yml' || path.basename(input) === 'obj.data') return [{ format: 'yolo', path: input }];
    throw new ImportError('not an annotation file Spotter knows (expected a COCO .json, a CVAT .xml, a data.yaml or a zip)', input);
  }

  const files = await walkFiles(input, signal);
  const jsons = files.filter((f) => f.toLowerCase().endsWith('.json'));
  const cocoCandidates: string[] = [];
  for (const f of jsons) {
    if (await looksLikeCoco(f).catch(() => false)) cocoCandidates.push(f);
  }
  // A folder with instances_*.json holds other COCO flavours beside them (captions, stuff, ...): take instances only.
  const instances = cocoCandidates.filter((f) => /^instances_.+\.json$|^_annotations\.coco\.json$/.test(path.basename(f)));
  const coco = instances.length ? instances : cocoCandidates.filter((f) => !NON_INSTANCE_COCO.test(path.basename(f)));
  const found: DetectedFile[] = coco.map((f) => ({ format: 'coco', path: f, subset: subsetFromCocoName(f) }));

  for (const f of files.filter((x) => x.toLowerCase().endsWith('.xml'))) {
    if (await looksLikeCvat(f).catch(() => false)) found.push({ format: 'cvat', path: f });
  }
  if (found.length) return found;

  // YOLO: a data.yaml (any spelling), CVAT's YOLO 1.1 obj.data, or a loose folder of images with .txt labels.
  const yamls = files.filter((f) => /\.ya?ml$/i.test(f) && !/(^|\/)(args|hyp|opt)\.ya?ml$/.test(f));
  const withNames: string[] = [];
  for (const y of yamls) {
    const h = await head(y, 65536).catch(() => '');
    if (/^\s*names\s*:/m.test(h)) withNames.push(y);
  }
  if (withNames.length) {
    // nested data.yaml files inside one dataset: keep the shallowest
    withNames.sort((a, b) => a.split(path.sep).length - b.split(path.sep).length);
    return [{ format: 'yolo', path: withNames[0]! }];
  }
  const objData = files.find((f) => path.basename(f) === 'obj.data');
  if (objData) return [{ format: 'yolo', path: objData }];
  if (files.some((f) => f.endsWith('.txt')) && files.some((f) => /\.(jpe?g|png|bmp|webp|tiff?)$/i.test(f))) {
    return [{ format: 'yolo', path: input }];
  }
  throw new ImportError(
    'found no annotations here: expected COCO JSON (instances_*.json, _annotations.coco.json), CVAT XML (annotations.xml), a YOLO data.yaml, obj.data, or images with .txt labels',
    input,
  );
}
