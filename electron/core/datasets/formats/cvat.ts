/**
 * CVAT XML 1.1 readers: "CVAT for images" (task, job and project exports; project subsets) and
 * "CVAT for video" (tracks of per-frame shapes). Streamed with saxes through xml.ts, which refuses
 * DOCTYPEs. Written by hand because it is format logic: which shapes are objects (boxes, rotated
 * boxes, polygons, masks), which are not (polylines, points, skeletons, tags, ...: skipped and
 * counted), how CVAT names video frames and lays out project exports.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
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
import { decodeCvatMaskRle } from '../rle.js';
import { parseXmlFile } from '../xml.js';
import { isImageFile, isInside } from '../../fsutil.js';

/** Shapes that are not objects for a detector/segmenter: skipped, counted under this key. */
const SKIPPED: Record<string, string> = {
  polyline: 'skipped_polylines',
  points: 'skipped_points',
  skeleton: 'skipped_skeletons',
  tag: 'skipped_tags',
  cuboid: 'skipped_cuboids',
  ellipse: 'skipped_ellipses',
};
const OBJECT_SHAPES = new Set(['box', 'polygon', 'mask']);

interface TaskMeta {
  id?: string;
  name?: string;
  size?: number;
  mode?: string;
  startFrame?: number;
  stopFrame?: number;
  frameFilter?: string;
}

/** Everything gathered from `<meta>`. */
interface Meta {
  labels: string[];
  /** the exported task or job (task exports) */
  task: TaskMeta;
  /** tasks of a project export, by id */
  projectTasks: Map<string, TaskMeta>;
  width?: number;
  height?: number;
}

const num = (s: string | undefined): number => (s === undefined || s.trim() === '' ? NaN : Number(s));

function parsePoints(s: string | undefined): number[] | undefined {
  if (!s) return undefined;
  const flat: number[] = [];
  for (const pair of s.split(';')) {
    if (!pair.trim()) continue;
    const xy = pair.split(',');
    if (xy.length !== 2) return undefined;
    const x = num(xy[0]), y = num(xy[1]);
    if (!Number.isFinite(x) || !Number.isFinite(y)) return undefined;
    flat.push(x, y);
  }
  return flat;
}

/** Corners of a CVAT box rotated by `deg` (clockwise on screen, y down) around its centre. */
export function rotatedBoxCorners(xtl: number, ytl: number, xbr: number, ybr: number, deg: number): number[] {
  const cx = (xtl + xbr) / 2, cy = (ytl + ybr) / 2;
  const a = (deg * Math.PI) / 180, cos = Math.cos(a), sin = Math.sin(a);
  const out: number[] = [];
  for (const [x, y] of [[xtl, ytl], [xbr, ytl], [xbr, ybr], [xtl, ybr]] as const) {
    out.push(cx + (x - cx) * cos - (y - cy) * sin, cy + (x - cx) * sin + (y - cy) * cos);
  }
  return out;
}

/**
 * Builds a SourceObject from one shape element's attributes, or returns why it is not one.
 * `where` is the reference used in messages (`image 3 box #2`, `track 4 frame 10`).
 */
function shapeToObject(
  kind: string,
  a: Record<string, string>,
  where: string,
  counts: Record<string, number>,
): SourceObject | { problem: string; code: string } {
  const category = a.label ?? '';
  if (kind === 'box') {
    const xtl = num(a.xtl), ytl = num(a.ytl), xbr = num(a.xbr), ybr = num(a.ybr);
    if (![xtl, ytl, xbr, ybr].every(Number.isFinite)) return { code: 'malformed-shape', problem: 'box with missing or non-numeric xtl/ytl/xbr/ybr' };
    const rot = num(a.rotation ?? '0') % 360;
    if (Number.isFinite(rot) && rot !== 0) {
      // a detector wants axis-aligned boxes: take the bounds of the rotated rectangle, keep its outline as a polygon
      const corners = rotatedBoxCorners(xtl, ytl, xbr, ybr, rot);
      bumpCount(counts, 'rotated_boxes');
      return { category, bbox: polygonsBBox([corners]), polygons: [corners], origin: 'rotated-box', ref: where };
    }
    return { category, bbox: [xtl, ytl, xbr - xtl, ybr - ytl], origin: 'box', ref: where };
  }
  if (kind === 'polygon') {
    const pts = parsePoints(a.points);
    if (!pts) return { code: 'malformed-shape', problem: `polygon points are not "x1,y1;x2,y2;...": ${JSON.stringify(a.points ?? '')}` };
    if (pts.length < 6) return { code: 'degenerate-polygon', problem: `polygon with ${pts.length / 2} point(s), needs at least 3` };
    return { category, bbox: polygonsBBox([pts]), polygons: [pts], origin: 'polygon', ref: where };
  }
  // mask: CVAT's own RLE inside the box left/top/width/height
  const left = num(a.left), top = num(a.top), width = num(a.width), height = num(a.height);
  if (![left, top, width, height].every(Number.isFinite) || a.rle === undefined) {
    return { code: 'malformed-shape', problem: 'mask without rle/left/top/width/height' };
  }
  let decoded;
  try {
    decoded = decodeCvatMaskRle(a.rle, left, top, width, height);
  } catch (err) {
    return { code: 'malformed-mask', problem: `mask RLE cannot be decoded: ${(err as Error).message}` };
  }
  if (!decoded.polygons.length) return { code: 'empty-mask', problem: 'mask has no foreground pixels' };
  bumpCount(counts, 'masks_decoded');
  return { category, bbox: decoded.bbox, polygons: decoded.polygons, origin: 'mask', ref: where };
}

/** Lazily cached directory listings for resolving image files (exact name, then case-insensitive, then by stem). */
class DirIndex {
  private readonly cache = new Map<string, Promise<Map<string, string[]> | undefined>>();

  private list(dir: string): Promise<Map<string, string[]> | undefined> {
    let p = this.cache.get(dir);
    if (!p) {
      p = fs.readdir(dir, { withFileTypes: true }).then(
        (entries) => {
          // key: lower-case name and lower-case stem (for names CVAT writes without an extension)
          const m = new Map<string, string[]>();
          const add = (k: string, v: string) => (m.get(k) ?? m.set(k, []).get(k)!).push(v);
          for (const e of entries) {
            if (!e.isFile()) continue;
            add(e.name.toLowerCase(), e.name);
            if (isImageFile(e.name)) add(`stem:${path.parse(e.name).name.toLowerCase()}`, e.name);
          }
          return m;
        },
        () => undefined,
      );
      this.cache.set(dir, p);
    }
    return p;
  }

  /** Absolute path of `rel` under `dir`, if it exists. */
  async find(dir: string, rel: string): Promise<string | undefined> {
    const full = path.join(dir, rel);
    const listing = await this.list(path.dirname(full));
    if (!listing) return undefined;
    const base = path.basename(full);
    const byName = listing.get(base.toLowerCase());
    if (byName) return path.join(path.dirname(full), byName.includes(base) ? base : byName[0]!);
    if (!isImageFile(base)) {
      const byStem = listing.get(`stem:${base.toLowerCase()}`);
      if (byStem?.length === 1) return path.join(path.dirname(full), byStem[0]!);
    }
    return undefined;
  }
}

/** Parses CVAT's `frame_filter` (`step=3`) into a step. */
function frameStep(filter: string | undefined): number {
  const m = /(?:^|,)\s*step\s*=\s*(\d+)/.exec(filter ?? '');
  const step = m ? Number(m[1]) : 1;
  return step > 0 ? step : 1;
}

export async function readCvatXml(xmlPath: string, opts: ReadOptions = {}): Promise<SourceDataset> {
  const file = path.resolve(xmlPath);
  const root = path.dirname(file);
  const counts: Record<string, number> = {};
  const notes: ImportNote[] = [];
  const meta: Meta = { labels: [], task: {}, projectTasks: new Map() };

  /** images of "CVAT for images", in document order */
  const images: Array<SourceImage & { rawSubset?: string; taskId?: string }> = [];
  /** shapes of "CVAT for video", by frame */
  const frames = new Map<number, SourceObject[]>();
  let sawTrack = false;

  const stack: string[] = [];
  let text = '';
  let label: { name?: string; parent?: string } | undefined;
  let projectTask: TaskMeta | undefined;
  let image: (typeof images)[number] | undefined;
  let track: { id: string; label: string } | undefined;
  let shapeIndex = 0;

  const note = (n: Omit<ImportNote, 'file'>) => notes.push({ file, ...n });

  const take = (obj: ReturnType<typeof shapeToObject>, kind: string, where: string, into: SourceObject[]) => {
    if ('problem' in obj) {
      const severity = obj.code.startsWith('malformed') ? 'error' : 'warning';
      note({ severity, code: obj.code, message: `${kind} skipped: ${obj.problem}`, item: where });
      bumpCount(counts, 'skipped_malformed');
      return;
    }
    if (!obj.category) {
      note({ severity: 'warning', code: 'no-label', message: `${kind} without a label skipped`, item: where });
      bumpCount(counts, 'skipped_unlabeled');
      return;
    }
    into.push(obj);
  };

  const onMetaText = (p: string, value: string) => {
    const v = value.trim();
    // task exports: meta/task; job exports: meta/job; project exports: meta/project (+ meta/project/tasks/task)
    let m = /^annotations\/meta\/(?:task|job|project)\/labels\/label\/(name|parent)$/.exec(p);
    if (m && label) {
      label[m[1] as 'name' | 'parent'] = v;
      return;
    }
    m = /^annotations\/meta\/(task|job)\/(id|name|size|mode|start_frame|stop_frame|frame_filter)$/.exec(p);
    if (m) return setTaskField(meta.task, m[2]!, v);
    m = /^annotations\/meta\/project\/tasks\/task\/(id|name|size|mode|start_frame|stop_frame|frame_filter)$/.exec(p);
    if (m && projectTask) return setTaskField(projectTask, m[1]!, v);
    m = /^annotations\/meta(?:\/(?:task|job))?\/original_size\/(width|height)$/.exec(p);
    if (m) meta[m[1] as 'width' | 'height'] = Number(v) || undefined;
  };

  await parseXmlFile(
    file,
    {
      open(name, a) {
        stack.push(name);
        text = '';
        const depth = stack.length;
        if (depth === 1 && name !== 'annotations') {
          throw new ImportError(`not a CVAT XML export: the root element is <${name}>, expected <annotations>`, file);
        }
        if (depth === 2 && name === 'image') {
          const id = a.id ?? String(images.length);
          const sub = a.subset?.trim() || undefined;
          image = {
            name: (a.name ?? '').replace(/\\/g, '/'),
            // CVAT writes `default` when no subset was assigned: that is not a split
            subset: sub && sub !== 'default' ? sub : undefined,
            rawSubset: sub,
            taskId: a.task_id,
            width: Number(a.width) || undefined,
            height: Number(a.height) || undefined,
            objects: [],
            ref: `image id ${id}${sub ? ` (${sub})` : ''}`,
          };
          if (!image.name) note({ severity: 'error', code: 'malformed-image', message: '<image> without a name', item: image.ref });
          shapeIndex = 0;
          return;
        }
        if (depth === 2 && name === 'track') {
          sawTrack = true;
          track = { id: a.id ?? '?', label: a.label ?? '' };
          return;
        }
        if (depth === 2 && name === 'tag') {
          bumpCount(counts, 'skipped_tags'); // CVAT for video writes frame tags at the top level
          return;
        }
        if (depth === 3 && image) {
          shapeIndex++;
          const where = `${image.ref} ${name} #${shapeIndex}`;
          if (OBJECT_SHAPES.has(name)) take(shapeToObject(name, a, where, counts), name, where, image.objects);
          else if (SKIPPED[name]) bumpCount(counts, SKIPPED[name]!);
          return;
        }
        if (depth === 3 && track) {
          // shapes of a track; nested <track>s (skeleton parts) sit one level deeper and are ignored
          const frame = Number(a.frame);
          if (!Number.isInteger(frame) || frame < 0) {
            if (name !== 'track') note({ severity: 'warning', code: 'malformed-shape', message: `${name} without a valid frame attribute skipped`, item: `track ${track.id}` });
            return;
          }
          if (a.outside === '1') {
            bumpCount(counts, 'outside_skipped');
            return;
          }
          const where = `track ${track.id} frame ${frame}`;
          if (OBJECT_SHAPES.has(name)) {
            const list = frames.get(frame) ?? [];
            frames.set(frame, list);
            const obj = shapeToObject(name, { ...a, label: track.label }, where, counts);
            if (!('problem' in obj)) obj.trackId = track.id;
            take(obj, name, where, list);
          } else if (SKIPPED[name]) {
            bumpCount(counts, SKIPPED[name]!);
            if (!frames.has(frame)) frames.set(frame, []);
          }
          return;
        }
        const p = stack.join('/');
        if (/^annotations\/meta\/(?:task|job|project)\/labels\/label$/.test(p)) label = {};
        else if (p === 'annotations/meta/project/tasks/task') projectTask = {};
      },
      close(name) {
        const p = stack.join('/');
        if (p.startsWith('annotations/meta/')) {
          onMetaText(p, text);
          if (label && /\/labels\/label$/.test(p)) {
            // skeleton parts (labels with a <parent>) are never objects on their own
            if (label.name !== undefined && !label.parent && !meta.labels.includes(label.name)) meta.labels.push(label.name);
            label = undefined;
          } else if (projectTask && p === 'annotations/meta/project/tasks/task') {
            if (projectTask.id) meta.projectTasks.set(projectTask.id, projectTask);
            projectTask = undefined;
          }
        } else if (stack.length === 2 && name === 'image' && image) {
          images.push(image);
          image = undefined;
        } else if (stack.length === 2 && name === 'track') {
          track = undefined;
        }
        stack.pop();
        text = '';
      },
      text(t) {
        if (stack[1] === 'meta') text += t;
      },
    },
    opts.signal,
  );

  const categories = [...meta.labels];
  const declared = new Set(categories);
  const isVideo = sawTrack || (images.length === 0 && meta.task.mode === 'interpolation');
  const index = new DirIndex();

  let out: SourceImage[];
  if (isVideo) {
    out = await videoFrames(file, root, meta, frames, notes);
  } else {
    const taskName = meta.task.name || (meta.task.id ? `task ${meta.task.id}` : undefined);
    out = [];
    for (const img of images) {
      if (opts.signal?.aborted) break;
      const { rawSubset, taskId, ...rest } = img;
      const t = taskId ? (meta.projectTasks.get(taskId) ?? (taskId === meta.task.id ? meta.task : undefined)) : undefined;
      const groupHint = taskId ? t?.name || `task ${taskId}` : taskName;
      // CVAT project exports put images in images/<subset>/<name>; task exports in images/<name>
      const candidates = [
        ...(rawSubset ? [path.join('images', rawSubset)] : []),
        'images',
        '.',
      ];
      let found: string | undefined;
      for (const dir of candidates) {
        if (!rest.name) break;
        found = await index.find(path.join(root, dir), rest.name);
        // a name like `../../secret.jpg` must not pull files from outside the export into the dataset
        if (found && !isInside(root, found)) found = undefined;
        if (found) break;
      }
      out.push({ ...rest, ...(found ? { path: found } : {}), ...(groupHint ? { groupHint } : {}) });
    }
  }

  for (const img of out) {
    for (const o of img.objects) {
      if (!declared.has(o.category)) {
        declared.add(o.category);
        categories.push(o.category);
        note({ severity: 'warning', code: 'undeclared-label', message: `label "${o.category}" is used but not declared in <meta>`, item: o.ref });
      }
    }
  }
  if (!out.length) note({ severity: 'warning', code: 'no-images', message: 'the XML describes no images or frames' });

  return {
    format: isVideo ? 'cvat-video' : 'cvat-images',
    root,
    files: [file],
    categories,
    images: out,
    licenses: [],
    counts,
    notes,
  };
}

function setTaskField(t: TaskMeta, field: string, v: string): void {
  switch (field) {
    case 'id': t.id = v; break;
    case 'name': t.name = v; break;
    case 'mode': t.mode = v; break;
    case 'frame_filter': t.frameFilter = v; break;
    case 'size': t.size = v === '' ? undefined : Number(v); break;
    case 'start_frame': t.startFrame = v === '' ? undefined : Number(v); break;
    case 'stop_frame': t.stopFrame = v === '' ? undefined : Number(v); break;
  }
}

const FRAME_NAME = /^frame_(\d+)\.[a-z0-9]+$/i;

/**
 * The frames of a CVAT video task. CVAT names exported frames `frame_<absolute frame, 6 digits>`
 * with the extension it wrote (`.PNG` in its exports, whatever the fixture folder holds otherwise):
 * we match the files that exist. Every frame of the task's range is an image, shapes or not
 * (frames without shapes are negatives), plus any frame a shape refers to outside that range.
 */
async function videoFrames(
  file: string,
  root: string,
  meta: Meta,
  frames: Map<number, SourceObject[]>,
  notes: ImportNote[],
): Promise<SourceImage[]> {
  const t = meta.task;
  const seqId = t.name || path.basename(file, path.extname(file));

  // frame files on disk: images/ beside the XML (CVAT's layout), else the XML's folder
  const onDisk = new Map<number, string>();
  let ext: string | undefined;
  for (const dir of [path.join(root, 'images'), root]) {
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      const m = FRAME_NAME.exec(n);
      if (m && isImageFile(n) && !onDisk.has(Number(m[1]))) {
        onDisk.set(Number(m[1]), path.join(dir, n));
        ext ??= path.extname(n);
      }
    }
    if (onDisk.size) break;
  }

  const all = new Set<number>(frames.keys());
  const step = frameStep(t.frameFilter);
  const start = Number.isInteger(t.startFrame) ? t.startFrame! : 0;
  let stop = Number.isInteger(t.stopFrame) ? t.stopFrame! : undefined;
  if (stop === undefined && t.size && t.size > 0) stop = start + (t.size - 1) * step;
  if (stop !== undefined && stop >= start) {
    for (let f = start; f <= stop; f += step) all.add(f);
  } else {
    for (const f of onDisk.keys()) all.add(f);
    notes.push({ severity: 'info', code: 'no-frame-range', message: 'the task declares no frame range: frames are those with shapes and those on disk', file });
  }

  const sorted = [...all].sort((a, b) => a - b);
  return sorted.map((frame) => {
    const p = onDisk.get(frame);
    const name = p ? path.basename(p) : `frame_${String(frame).padStart(6, '0')}${ext ?? '.PNG'}`;
    const img: SourceImage = {
      name,
      objects: frames.get(frame) ?? [],
      sequence: { id: seqId, frame },
      groupHint: seqId,
      ref: `frame ${frame}`,
    };
    if (p) img.path = p;
    if (meta.width) img.width = meta.width;
    if (meta.height) img.height = meta.height;
    return img;
  });
}
