/**
 * COCO instances JSON reader (CVAT "COCO 1.0", Roboflow `_annotations.coco.json`, MMDetection, bare JSON).
 *
 * Built for big files (100k images, 1M boxes): one JSON.parse, images and categories in Maps by id,
 * one pass over annotations with plain loops, no per-annotation schema validation library (zod would cost
 * seconds at that size). Bad items become ImportNotes naming the item; only what makes the whole file
 * ambiguous (unparseable JSON, duplicate image ids, one category id with two names) is fatal.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { CancelledError } from '../../jobs/jobs.js';
import {
  ImportError,
  bumpCount,
  polygonsBBox,
  type ImportNote,
  type LicenseInfo,
  type ReadOptions,
  type SourceDataset,
  type SourceImage,
  type SourceObject,
} from '../model.js';
import { RleError, parseCocoRle, rleBBox, rleToPolygons, type CocoRleJson } from '../rle.js';

/** The COCO file is valid JSON but holds something other than object annotations. */
export class CocoFlavourError extends ImportError {
  constructor(
    readonly flavour: 'captions' | 'panoptic' | 'labels' | 'image_info' | 'not-coco',
    message: string,
    file: string,
  ) {
    super(message, file);
    this.name = 'CocoFlavourError';
  }
}

type Json = Record<string, unknown>;
type Id = number | string;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is Id => (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v !== '');
const SPLIT_WORDS = new Set(['train', 'training', 'val', 'valid', 'validation', 'test', 'testing']);
const NOTES_PER_CODE = 100;
const FRAME_RE = /(?:^|\/)frame_(\d+)\.[A-Za-z0-9]+$/;

export async function readCoco(jsonPath: string, opts: ReadOptions & { subset?: string } = {}): Promise<SourceDataset> {
  const file = jsonPath;
  const base = path.basename(jsonPath);
  const data = await parseJsonFile(jsonPath);
  checkCancel(opts.signal);

  if (!isObj(data) || !Array.isArray(data.images)) {
    throw new CocoFlavourError(
      'not-coco',
      'not a COCO annotation file: expected a JSON object with an "images" array (and "annotations", "categories")',
      file,
    );
  }
  const rawImages = data.images as unknown[];
  const rawAnns = data.annotations === undefined ? [] : data.annotations;
  if (!Array.isArray(rawAnns)) throw new ImportError('"annotations" must be an array', file);
  const rawCats = data.categories === undefined ? [] : data.categories;
  if (!Array.isArray(rawCats)) throw new ImportError('"categories" must be an array', file);

  rejectOtherFlavours(rawAnns, rawCats, file);

  const notes: ImportNote[] = [];
  const counts: Record<string, number> = {
    images: 0, annotations: rawAnns.length, objects: 0, rle_decoded: 0, polygons: 0, crowd: 0, negatives: 0,
  };
  // at most NOTES_PER_CODE notes of one kind: a systematic problem in a million-box file is one story
  const perCode = new Map<string, number>();
  const note = (severity: ImportNote['severity'], code: string, message: string, item?: string) => {
    const n = (perCode.get(code) ?? 0) + 1;
    perCode.set(code, n);
    if (n <= NOTES_PER_CODE) notes.push(item === undefined ? { severity, code, message, file } : { severity, code, message, file, item });
  };

  // ---- categories: by id; names in id order; same name under several ids merged
  const catById = new Map<Id, string>();
  const catIdsByName = new Map<string, Id[]>();
  for (let i = 0; i < rawCats.length; i++) {
    const c: unknown = rawCats[i];
    if (!isObj(c) || !isId(c.id)) {
      note('error', 'bad-category', `categories[${i}] has no usable "id"; skipped`, `categories[${i}]`);
      continue;
    }
    let name = typeof c.name === 'string' ? c.name.trim() : '';
    if (!name) {
      name = String(c.id);
      note('warning', 'unnamed-category', `category id ${c.id} has no name; using "${name}"`, `category id ${c.id}`);
    }
    const prev = catById.get(c.id);
    if (prev !== undefined) {
      if (prev !== name) {
        throw new ImportError(`category id ${c.id} is declared twice, as "${prev}" and "${name}"`, file, `category id ${c.id}`);
      }
      continue;
    }
    catById.set(c.id, name);
    const ids = catIdsByName.get(name);
    if (ids) ids.push(c.id);
    else catIdsByName.set(name, [c.id]);
  }
  for (const [name, ids] of catIdsByName) {
    if (ids.length > 1) {
      note('info', 'merged-category', `category "${name}" is declared under ids ${ids.join(', ')}; merged by name`, `category "${name}"`);
    }
  }
  const categories = [...new Set([...catById.keys()].sort(compareIds).map((id) => catById.get(id)!))];

  // ---- images
  const subset = opts.subset ?? inferSubset(jsonPath);
  const images: SourceImage[] = [];
  const indexById = new Map<Id, number>(); // image id -> index in images (two ids may share one image)
  const indexByName = new Map<string, number>();
  const skippedImageIds = new Set<Id>();
  const imageIds: Id[] = [];
  let videoKeys = 0;
  for (let i = 0; i < rawImages.length; i++) {
    const im: unknown = rawImages[i];
    if (!isObj(im) || !isId(im.id)) {
      note('error', 'bad-image', `images[${i}] has no usable "id"; skipped`, `images[${i}]`);
      continue;
    }
    const ref = `image id ${im.id}`;
    if (indexById.has(im.id) || skippedImageIds.has(im.id)) {
      throw new ImportError(
        `image id ${im.id} is declared more than once, so its annotations are ambiguous`,
        file,
        ref,
      );
    }
    if (typeof im.file_name !== 'string' || im.file_name.trim() === '') {
      note('error', 'bad-image', `${ref} has no "file_name"; skipped with its annotations`, ref);
      skippedImageIds.add(im.id);
      continue;
    }
    const name = normalizeName(im.file_name);
    const same = indexByName.get(name);
    if (same !== undefined) {
      // two entries for one file: their objects belong to the same picture
      note('warning', 'duplicate-image-name', `${ref} names "${name}" again (as ${images[same]!.ref}); objects merged`, ref);
      indexById.set(im.id, same);
      continue;
    }
    const img: SourceImage = { name, objects: [], ref };
    if (subset) img.subset = subset;
    if (isPositive(im.width) && isPositive(im.height)) {
      img.width = im.width;
      img.height = im.height;
    } else if (im.width !== undefined || im.height !== undefined) {
      note('warning', 'bad-image-size', `${ref} declares size ${JSON.stringify(im.width)}x${JSON.stringify(im.height)}; ignored`, ref);
    }
    if ('video_id' in im || 'frame_id' in im) videoKeys++;
    images.push(img);
    imageIds.push(im.id);
    indexById.set(im.id, images.length - 1);
    indexByName.set(name, images.length - 1);
  }
  counts.images = images.length;
  checkCancel(opts.signal);

  // ---- annotations
  // image ids are usually small integers: a typed array beats a Map on a million lookups (cache misses)
  const dense = denseIndex(indexById, images.length);
  const keepCrowd = opts.keepCrowd !== false;
  const annCount = new Uint32Array(images.length);
  // duplicate annotation ids: exports number them in order, so a Set is only built when they are not
  let lastId = -Infinity;
  let annIds: Set<unknown> | undefined;
  let tracked = false;
  let keypointAnns = 0;
  let dupAnnIds = 0;
  for (let i = 0; i < rawAnns.length; i++) {
    if ((i & 0xffff) === 0xffff) checkCancel(opts.signal);
    const a: unknown = rawAnns[i];
    if (!isObj(a)) {
      note('error', 'bad-annotation', `annotations[${i}] is not an object; skipped`, `annotations[${i}]`);
      continue;
    }
    const ref = isId(a.id) ? `annotation id ${a.id}` : `annotations[${i}]`;
    if (!annIds && typeof a.id === 'number' && a.id > lastId) lastId = a.id;
    else if (isId(a.id)) {
      if (!annIds) annIds = collectIds(rawAnns, i);
      if (annIds.has(a.id)) dupAnnIds++;
      else annIds.add(a.id);
    }
    const iid = a.image_id;
    let index: number | undefined;
    if (dense) {
      const v = typeof iid === 'number' ? dense[iid] : undefined; // non-integer or out of range: undefined
      index = v ? v - 1 : undefined;
    } else index = isId(iid) ? indexById.get(iid) : undefined;
    if (index === undefined) {
      const why = isId(a.image_id) && skippedImageIds.has(a.image_id) ? 'whose image entry was skipped' : 'which the file does not declare';
      note('error', 'unknown-image', `${ref} refers to image id ${JSON.stringify(a.image_id)}, ${why}; skipped`, ref);
      continue;
    }
    const img = images[index]!;
    annCount[index]!++;
    const category = isId(a.category_id) ? catById.get(a.category_id) : undefined;
    if (category === undefined) {
      note('error', 'unknown-category', `${ref} refers to category id ${JSON.stringify(a.category_id)}, which the file does not declare; skipped`, ref);
      continue;
    }
    const iscrowd = a.iscrowd === 1 || a.iscrowd === true;
    if (iscrowd) {
      counts.crowd!++;
      if (!keepCrowd) {
        bumpCount(counts, 'crowd_dropped');
        continue;
      }
    }
    if (a.keypoints !== undefined) keypointAnns++;

    const obj = readGeometry(a, ref, img, category, counts, note);
    if (!obj) continue;
    if (iscrowd) obj.iscrowd = true;
    const attrs = a.attributes;
    if (isObj(attrs) && attrs.track_id !== undefined && attrs.track_id !== null) {
      obj.trackId = String(attrs.track_id);
      tracked = true;
    }
    img.objects.push(obj);
    counts.objects!++;
  }
  if (dupAnnIds > 0) note('warning', 'duplicate-annotation-id', `${dupAnnIds} annotations reuse an id already used`);
  if (keypointAnns > 0) {
    bumpCount(counts, 'keypoints_ignored', keypointAnns);
    note('info', 'keypoints-ignored', `${keypointAnns} annotations carry keypoints; their boxes are imported, the keypoints are not`);
  }

  for (let k = 0; k < images.length; k++) {
    if (images[k]!.objects.length > 0) continue;
    if (annCount[k]! > 0) bumpCount(counts, 'emptied_images');
    else counts.negatives!++;
  }
  if (counts.emptied_images) {
    note('warning', 'emptied-images', `${counts.emptied_images} images had annotations but none could be used; none was kept, so they would become empty label files`);
  }

  if (counts.polygon_parts_dropped) {
    note('warning', 'polygon-parts-dropped', `${counts.polygon_parts_dropped} polygon parts had fewer than 3 points (or odd or non-numeric coordinates) and were dropped`);
  }
  for (const [code, n] of perCode) {
    if (n > NOTES_PER_CODE) {
      const first = notes.find((x) => x.code === code)!;
      notes.push({ severity: first.severity, code, message: `${n - NOTES_PER_CODE} more "${code}" problems like the ones above`, file });
    }
  }

  assignSequences(data, rawImages, images, imageIds, jsonPath, subset, tracked || videoKeys > 0, note);

  return {
    format: 'coco',
    root: datasetRoot(jsonPath),
    files: [jsonPath],
    categories,
    images,
    licenses: readLicenses(data, base),
    counts,
    notes,
  };
}

/** Build the object of one annotation from segmentation / bbox, or note why it is skipped. */
function readGeometry(
  a: Json,
  ref: string,
  img: SourceImage,
  category: string,
  counts: Record<string, number>,
  note: (s: ImportNote['severity'], code: string, msg: string, item?: string) => void,
): SourceObject | undefined {
  const seg = a.segmentation;
  const bbox = validBox(a.bbox);
  const isRle = (v: unknown): v is CocoRleJson => isObj(v) && v.counts !== undefined;
  // one RLE, or (rarely, as pycocotools frPyObjects accepts) a list of RLEs of one object
  const rles = isRle(seg) ? [seg] : Array.isArray(seg) && seg.length > 0 && seg.every(isRle) ? (seg as CocoRleJson[]) : undefined;
  if (rles) {
    try {
      const polygons: number[][] = [];
      let box: [number, number, number, number] | undefined;
      for (const r of rles) {
        const rle = parseCocoRle(r);
        if (img.width !== undefined && (rle.width !== img.width || rle.height !== img.height)) {
          note('warning', 'rle-size-mismatch', `${ref}: RLE size ${rle.height}x${rle.width} (h x w) differs from its image ${img.height}x${img.width}`, ref);
        }
        const polys = rleToPolygons(rle);
        if (polys.length === 0) continue;
        polygons.push(...polys);
        box = box ? unionBox(box, rleBBox(rle)) : rleBBox(rle);
      }
      if (!box) {
        note('warning', 'empty-mask', `${ref} has an empty RLE mask; skipped`, ref);
        return undefined;
      }
      counts.rle_decoded!++;
      return { category, bbox: box, polygons, origin: 'rle', ref };
    } catch (e) {
      if (!(e instanceof RleError)) throw e;
      if (bbox) {
        note('error', 'bad-rle', `${ref}: ${e.message}; kept its bbox only`, ref);
        return { category, bbox, origin: 'box', ref };
      }
      note('error', 'bad-rle', `${ref}: ${e.message}; skipped`, ref);
      return undefined;
    }
  }
  if (Array.isArray(seg) && seg.length > 0) {
    // a list of polygons; some tools write one flat polygon without the outer list
    const parts = typeof seg[0] === 'number' ? [seg] : seg;
    const polygons: number[][] = [];
    let dropped = 0;
    for (const part of parts) {
      if (Array.isArray(part) && part.length >= 6 && part.length % 2 === 0 && part.every(isFiniteNumber)) {
        polygons.push(part as number[]);
      } else dropped++;
    }
    if (dropped > 0) bumpCount(counts, 'polygon_parts_dropped', dropped);
    if (polygons.length > 0) {
      counts.polygons!++;
      // the declared box when it is usable (CVAT writes the polygon bounds), else the polygons' bounds
      return { category, bbox: bbox ?? polygonsBBox(polygons), polygons, origin: 'polygon', ref };
    }
    if (!bbox) {
      note('warning', 'bad-polygon', `${ref}: no polygon part with 3 or more points and no usable bbox; skipped`, ref);
      return undefined;
    }
  }
  if (bbox) {
    const rot = isObj(a.attributes) ? a.attributes.rotation : undefined;
    if (typeof rot === 'number' && rot % 360 !== 0) {
      // CVAT writes a rotated box as its unrotated x,y,w,h plus `rotation` (degrees about the centre)
      bumpCount(counts, 'rotated_boxes');
      return { category, bbox: rotatedBounds(bbox, rot), origin: 'rotated-box', ref };
    }
    return { category, bbox, origin: 'box', ref };
  }
  if (a.bbox === undefined && seg === undefined) {
    note('error', 'missing-geometry', `${ref} has neither "bbox" nor "segmentation"; skipped`, ref);
  } else {
    bumpCount(counts, 'degenerate_boxes');
    note('warning', 'degenerate-box', `${ref} has bbox ${JSON.stringify(a.bbox)} (zero or negative size, or not 4 numbers) and no segmentation; skipped`, ref);
  }
  return undefined;
}

/** id -> index + 1 (0 = absent) when all ids are integers below a few times the count, else undefined */
function denseIndex(byId: Map<Id, number>, n: number): Int32Array | undefined {
  let max = 0;
  for (const id of byId.keys()) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) return undefined;
    if (id > max) max = id;
  }
  if (max > 4 * n + 1_000_000) return undefined;
  const table = new Int32Array(max + 1);
  for (const [id, index] of byId) table[id as number] = index + 1;
  return table;
}

function collectIds(anns: unknown[], end: number): Set<unknown> {
  const ids = new Set<unknown>();
  for (let k = 0; k < end; k++) {
    const a = anns[k];
    if (isObj(a) && isId(a.id)) ids.add(a.id);
  }
  return ids;
}

function unionBox(a: [number, number, number, number], b: [number, number, number, number]): [number, number, number, number] {
  const x = Math.min(a[0], b[0]), y = Math.min(a[1], b[1]);
  return [x, y, Math.max(a[0] + a[2], b[0] + b[2]) - x, Math.max(a[1] + a[3], b[1] + b[3]) - y];
}

function isFiniteNumber(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v);
}

function isPositive(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

function validBox(b: unknown): [number, number, number, number] | undefined {
  if (!Array.isArray(b) || b.length !== 4) return undefined;
  const [x, y, w, h] = b as unknown[];
  if (!isFiniteNumber(x) || !isFiniteNumber(y) || !isPositive(w) || !isPositive(h)) return undefined;
  // reuse the parsed array: no copy per annotation on million-box files
  return b as [number, number, number, number];
}

function rotatedBounds([x, y, w, h]: [number, number, number, number], deg: number): [number, number, number, number] {
  const r = (deg * Math.PI) / 180;
  const c = Math.abs(Math.cos(r)), s = Math.abs(Math.sin(r));
  const hw = (w * c + h * s) / 2, hh = (w * s + h * c) / 2;
  const cx = x + w / 2, cy = y + h / 2;
  return [cx - hw, cy - hh, 2 * hw, 2 * hh];
}

function compareIds(a: Id, b: Id): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), 'en', { numeric: true });
}

function normalizeName(n: string): string {
  return n.trim().replace(/\\/g, '/').replace(/^(\.\/)+/, '');
}

/** Read and parse, turning JSON errors into an ImportError with line and column. */
async function parseJsonFile(jsonPath: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(jsonPath, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_STRING_TOO_LONG') {
      throw new ImportError('the JSON file is larger than a JavaScript string can hold (about 512 MB)', jsonPath);
    }
    throw new ImportError(`cannot read the file: ${err.message}`, jsonPath);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new ImportError('the file is empty', jsonPath);
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /position (\d+)/.exec(msg);
    const pos = m ? Number(m[1]) : /end of (JSON )?input/i.test(msg) ? text.length : tokenPosition(msg, text);
    let where = '';
    if (pos !== undefined) {
      const { line, column } = lineColumn(text, pos);
      where = pos >= text.length ? ` at the end of the file (line ${line}, column ${column}: the file looks truncated)` : ` at line ${line}, column ${column}`;
    }
    // keep V8's reason, drop its position and source snippet (we give line and column instead)
    let reason = msg
      .replace(/ in JSON at position \d+.*$/s, '')
      .replace(/^(Unexpected token '.'),.*$/s, '$1')
      .replace(/^Unexpected end of JSON input$/, 'unexpected end of JSON');
    if (/Unexpected token '[NI]'/.test(msg)) reason += ' (NaN and Infinity are not JSON; Python writes them unless allow_nan=False)';
    throw new ImportError(`malformed JSON${where}: ${reason}`, jsonPath);
  }
}

/**
 * V8 reports some errors without a position: `Unexpected token 'N', ..."[1, 2, NaN, 4]"... is not valid JSON`,
 * quoting up to 10 characters either side of the error (all of a short input). Find that quote in the text.
 */
function tokenPosition(msg: string, text: string): number | undefined {
  const m = /^Unexpected token '(.)', (\.\.\.)?"(.*)"(\.\.\.)? is not valid JSON$/s.exec(msg);
  if (!m) return undefined;
  const [, token, pre, quote] = m as unknown as [string, string, string | undefined, string];
  const start = text.indexOf(quote);
  if (start < 0) return undefined;
  // with a leading "..." the quote starts 10 characters before the error; without, it starts at 0
  const at = pre ? start + 10 : quote.indexOf(token);
  return text[at] === token ? at : start + Math.max(0, quote.indexOf(token));
}

function lineColumn(text: string, pos: number): { line: number; column: number } {
  let line = 1, last = -1;
  for (let i = text.indexOf('\n'); i !== -1 && i < pos; i = text.indexOf('\n', i + 1)) {
    line++;
    last = i;
  }
  return { line, column: pos - last };
}

/** Captions, panoptic, image-level labels and image lists are COCO too, but hold no objects. */
function rejectOtherFlavours(anns: unknown[], cats: unknown[], file: string): void {
  if (anns.length === 0) {
    if (cats.length === 0) {
      throw new CocoFlavourError(
        'image_info',
        'this COCO file holds only an image list (no categories and no annotations), not object annotations',
        file,
      );
    }
    return; // declared classes, no objects yet: all images are negatives
  }
  for (const a of anns) {
    if (isObj(a) && (a.bbox !== undefined || a.segmentation !== undefined)) return;
  }
  const first = anns.find(isObj) ?? {};
  if ('caption' in first) {
    throw new CocoFlavourError('captions', 'this COCO file holds captions, not object annotations (boxes, polygons or masks); import an instances_*.json file instead', file);
  }
  if ('segments_info' in first) {
    throw new CocoFlavourError('panoptic', 'this COCO file holds panoptic segmentation (segments_info with PNG masks), which Spotter does not import; export COCO instances instead', file);
  }
  throw new CocoFlavourError('labels', 'this COCO file holds image-level labels only (annotations without bbox or segmentation), not objects a detector can learn from', file);
}

/** `instances_train.json` → train; `train/_annotations.coco.json` → train; CVAT's `default` is no split. */
function inferSubset(jsonPath: string): string | undefined {
  const base = path.basename(jsonPath);
  const stem = base.replace(/\.json$/i, '');
  const m = /^(?:instances|person_keypoints|stuff|annotations)_(.+)$/i.exec(stem);
  let subset: string | undefined;
  if (m) subset = m[1];
  else if (/^_?annotations(\.coco)?$/i.test(stem)) {
    const dir = path.basename(path.dirname(jsonPath));
    if (SPLIT_WORDS.has(dir.toLowerCase())) subset = dir;
  } else if (SPLIT_WORDS.has(stem.toLowerCase())) subset = stem;
  return subset && subset.toLowerCase() !== 'default' ? subset : undefined;
}

/** The export's folder: the parent of `annotations/` (CVAT, MMDetection), else the JSON's folder. */
function datasetRoot(jsonPath: string): string {
  const dir = path.dirname(path.resolve(jsonPath));
  return path.basename(dir).toLowerCase() === 'annotations' ? path.dirname(dir) : dir;
}

/**
 * Frames of a video: COCO-VID style `video_id`/`frame_id` on images, or a CVAT video task (tracks in
 * `attributes.track_id`, or every file named `frame_000123.ext`): then the whole file is one sequence.
 */
function assignSequences(
  data: Json,
  rawImages: unknown[],
  images: SourceImage[],
  imageIds: Id[],
  jsonPath: string,
  subset: string | undefined,
  hinted: boolean,
  note: (s: ImportNote['severity'], code: string, msg: string, item?: string) => void,
): void {
  if (images.length === 0) return;
  const rootName = path.basename(datasetRoot(jsonPath));
  const byVideo = new Map<Id, Json>();
  for (const im of rawImages) if (isObj(im) && isId(im.id) && isId(im.video_id)) byVideo.set(im.id, im);
  if (byVideo.size > 0) {
    const videoNames = new Map<Id, string>();
    if (Array.isArray(data.videos)) {
      for (const v of data.videos) if (isObj(v) && isId(v.id) && typeof v.name === 'string' && v.name) videoNames.set(v.id, v.name.replace(/\/+$/, ''));
    }
    // frame numbers: frame_id / frame_index when given, else image id order within the video
    const order = new Map<Id, number>();
    const ids = [...byVideo.keys()].sort(compareIds);
    const next = new Map<Id, number>();
    for (const id of ids) {
      const vid = byVideo.get(id)!.video_id as Id;
      const k = next.get(vid) ?? 0;
      order.set(id, k);
      next.set(vid, k + 1);
    }
    for (let i = 0; i < images.length; i++) {
      const raw = byVideo.get(imageIds[i]!);
      if (!raw) continue;
      const vid = raw.video_id as Id;
      const frame = Number.isInteger(raw.frame_id) ? (raw.frame_id as number) : Number.isInteger(raw.frame_index) ? (raw.frame_index as number) : order.get(imageIds[i]!)!;
      images[i]!.sequence = { id: videoNames.get(vid) ?? `${rootName}:video ${vid}`, frame };
    }
    return;
  }
  const frames = images.map((im) => FRAME_RE.exec(im.name));
  const allFrameNames = frames.every((m) => m !== null);
  if (!hinted && !allFrameNames) return;
  const id = subset ? `${rootName}/${subset}` : rootName;
  const rawById = new Map<Id, Json>();
  for (const im of rawImages) if (isObj(im) && isId(im.id)) rawById.set(im.id, im);
  const frameIds = imageIds.map((iid) => rawById.get(iid)?.frame_id);
  // frame_id when every image has one; CVAT names a video task's frames frame_000000…; else image id order
  if (frameIds.every((f) => Number.isInteger(f))) {
    for (let i = 0; i < images.length; i++) images[i]!.sequence = { id, frame: frameIds[i] as number };
  } else if (allFrameNames) {
    for (let i = 0; i < images.length; i++) images[i]!.sequence = { id, frame: Number(frames[i]![1]) };
  } else {
    const idx = images.map((_, i) => i).sort((a, b) => compareIds(imageIds[a]!, imageIds[b]!));
    idx.forEach((imgIndex, rank) => (images[imgIndex]!.sequence = { id, frame: rank }));
  }
  note('info', 'sequence', `images read as frames of one video ("${id}", ${images.length} frames)`);
}

function readLicenses(data: Json, base: string): LicenseInfo[] {
  const out: LicenseInfo[] = [];
  if (Array.isArray(data.licenses)) {
    data.licenses.forEach((l: unknown, i) => {
      if (!isObj(l) || typeof l.name !== 'string' || !l.name.trim()) return;
      const lic: LicenseInfo = { name: l.name.trim(), source: `${base} licenses[${i}]` };
      if (typeof l.url === 'string' && l.url.trim()) lic.url = l.url.trim();
      out.push(lic);
    });
  }
  if (isObj(data.info)) {
    for (const [k, v] of Object.entries(data.info)) {
      if (typeof v !== 'string' || !/licen[cs]e|creative\s*commons|\bCC[- ]?(BY|0)\b|public domain/i.test(v)) continue;
      if (out.some((l) => l.name === v.trim())) continue;
      const lic: LicenseInfo = { name: v.trim(), source: `${base} info.${k}` };
      if (k !== 'url' && typeof data.info.url === 'string' && data.info.url.trim()) lic.url = data.info.url.trim();
      out.push(lic);
    }
  }
  return out;
}

function checkCancel(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
