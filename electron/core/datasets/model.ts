/**
 * The in-memory picture of an annotation export after reading, before conversion.
 * Every reader (COCO, CVAT XML, YOLO) produces a SourceDataset; the importer merges them,
 * maps classes by name, resolves images, groups, splits and writes an Ultralytics dataset.
 * Coordinates are absolute pixels in the image as the annotations describe it.
 */

export type SourceFormat = 'coco' | 'cvat-images' | 'cvat-video' | 'yolo';

export type Severity = 'error' | 'warning' | 'info';

/** A recoverable problem or a fact worth telling the user, found while reading. */
export interface ImportNote {
  severity: Severity;
  /** stable machine code, e.g. `missing-image`, `unknown-category`, `rotated-box` */
  code: string;
  message: string;
  /** the file the problem is in (annotation file or image), absolute or relative to the source root */
  file?: string;
  /** the item inside the file: an annotation id, an image name, a line number */
  item?: string;
}

export type ObjectOrigin = 'box' | 'rotated-box' | 'polygon' | 'rle' | 'mask' | 'yolo-box' | 'yolo-polygon';

export interface SourceObject {
  /** category name as the source names it (mapping by name happens later) */
  category: string;
  /** axis-aligned box [x, y, w, h] in pixels, top-left origin */
  bbox: [number, number, number, number];
  /** polygons, each a flat list [x1, y1, x2, y2, ...] in pixels; absent for plain boxes */
  polygons?: number[][];
  /** COCO iscrowd (CVAT uses it for real masks) */
  iscrowd?: boolean;
  origin: ObjectOrigin;
  /** track id for video annotations (CVAT track, COCO attributes.track_id) */
  trackId?: string;
  /** a reference for messages: `annotation id 12`, `line 3`, `track 4 frame 10` */
  ref: string;
}

export interface SourceImage {
  /** the image's name as the annotations name it (may include folders, always with `/`) */
  name: string;
  /** the export's own split (train / valid / val / test / Train ...), if it has one */
  subset?: string;
  /** absolute path of the image file when found on disk */
  path?: string;
  /** size declared by the annotations (may be wrong: checked against the real file later) */
  width?: number;
  height?: number;
  objects: SourceObject[];
  /** frame of a sequence (CVAT video task, COCO video export): frames of one id are one group */
  sequence?: { id: string; frame: number };
  /** a group hint from the format itself (CVAT task name or id); used by `auto` grouping */
  groupHint?: string;
  /** where in the annotation file the image came from, for messages */
  ref: string;
}

export interface LicenseInfo {
  /** licence name or text, e.g. "CC BY 4.0", "Public Domain" */
  name: string;
  url?: string;
  /** where it was found: `instances_default.json licenses[0]`, `README.roboflow.txt` */
  source: string;
}

export interface SourceDataset {
  format: SourceFormat;
  /** the folder the dataset was read from (after extraction, for zips) */
  root: string;
  /** the annotation file(s) read, for messages and the report */
  files: string[];
  /** categories declared by the source, in the source's order (id order for COCO) */
  categories: string[];
  images: SourceImage[];
  licenses: LicenseInfo[];
  /** counters worth reporting: `rotated_boxes`, `skipped_polylines`, `rle_decoded`, ... */
  counts: Record<string, number>;
  notes: ImportNote[];
}

/** Options the readers honour. */
export interface ReadOptions {
  /** keep COCO `iscrowd: 1` objects (default true: CVAT uses it for real masks) */
  keepCrowd?: boolean;
  signal?: AbortSignal;
}

/** Thrown for input that cannot be read at all; names the file and the item. */
export class ImportError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly item?: string,
  ) {
    super(file ? `${file}${item ? ` (${item})` : ''}: ${message}` : message);
    this.name = 'ImportError';
  }
}

export function bumpCount(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

/** Axis-aligned bounds [x, y, w, h] of flat polygons. */
export function polygonsBBox(polygons: number[][]): [number, number, number, number] {
  let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
  for (const poly of polygons) {
    for (let i = 0; i + 1 < poly.length; i += 2) {
      const x = poly[i]!, y = poly[i + 1]!;
      if (x < x1) x1 = x;
      if (x > x2) x2 = x;
      if (y < y1) y1 = y;
      if (y > y2) y2 = y;
    }
  }
  if (!Number.isFinite(x1)) return [0, 0, 0, 0];
  return [x1, y1, x2 - x1, y2 - y1];
}
