/**
 * Anti-leak grouping: decide which images must stay together in one split.
 *
 * Augmented copies of one source image, frames of one video and images of one capture session look
 * alike; if they straddle train and val, val measures memory instead of generalisation. Every item
 * gets a group key; `split.ts` splits whole groups (or, for lone long videos, contiguous time blocks).
 *
 * `auto` infers the capture structure from the names themselves (fields, their hierarchy, frame
 * numbers), confirmed by the pixels where hashes are given, and picks the coarsest level that still
 * splits well (computeGroups). This is product logic, so it is written here.
 */
import { hammingDistance } from './phash.js';
import { mulberry32, splitDataset } from './split.js';

/** One image as grouping and splitting see it: a plain descriptor, independent of the readers. */
export interface GroupItem {
  /** image name with folders, `/` separated, as the annotations name it */
  name: string;
  /** the export's own split, if any (train / valid / test ...) */
  subset?: string;
  /** frame of a sequence declared by the format (CVAT video task, track ids) */
  sequence?: { id: string; frame: number };
  /** a group hint from the format (CVAT task) */
  groupHint?: string;
  /** dense class id per object (an empty list is a negative image) */
  classes: number[];
}

/** A member of an ordered sequence: the item index and its frame number. */
export interface SequenceFrame {
  item: number;
  frame: number;
}

export interface GroupExample {
  group: string;
  /** up to 4 member names */
  members: string[];
  size: number;
}

export type GroupStrategy =
  | 'sequence'
  | 'video-frame'
  | 'roboflow-augment'
  | 'name-field'
  | 'cvat-task'
  | 'folder'
  | 'regex'
  | 'none';

export interface GroupingResult {
  /** group key per item */
  keys: string[];
  /** frame number per item when the item belongs to an ordered sequence (pass to splitDataset/auditSplits) */
  frames: (number | undefined)[];
  /** the rule(s) used, joined with `+` when several rules each claimed part of the items */
  strategy: string;
  /** a sentence for the user: which rule, why, with what result */
  description: string;
  groups: number;
  /** up to 6 groups, multi-member groups first */
  examples: GroupExample[];
  /** groups that are ordered sequences (2+ frames): members sorted by frame */
  sequences: Map<string, SequenceFrame[]>;
  /** the capture structure found in the names, coarse to fine (auto mode; empty otherwise) */
  levels: GroupLevel[];
  /** the level used: a `levels` id, `declared` (sequences from the annotations only), `regex` or `none` */
  level: string;
}

/** One level of the capture structure the names (and the annotations) show, as a candidate grouping. */
export interface GroupLevel {
  /** `declared`, `task`, `folder`, `field:<k>` (the first k fields of the name), `clip`, `source` */
  id: string;
  /** what the level is, for the user (`1st name field, e.g. \`08fd33\``) */
  label: string;
  groups: number;
  /** images in the largest group */
  largest: number;
  /** images in groups of 2 or more */
  inMulti: number;
  /** its groups are ordered sequences (frames of a video) */
  ordered: boolean;
  /** up to 3 groups with some members */
  examples: GroupExample[];
  /** why it was chosen or not */
  verdict: string;
  chosen: boolean;
}

interface ParsedName {
  /** folder without split / generic segments (`train`, `images`, ...), '' at the root */
  dir: string;
  /** base name without extension */
  base: string;
  /** base with Roboflow's `_<ext>.rf.<hash>` suffix stripped; equals base otherwise */
  stem: string;
  roboflow: boolean;
}

/** The fields of a stem: the frame number at its end (if any) and the words before it. */
interface NameFields {
  /** name before the frame field (the clip), or the stem without its last word when it ends in no number */
  prefix: string;
  /** end offsets of the words of `prefix` (a word: letters and digits; separators between words) */
  wordEnds: number[];
  frame?: number;
  /** the frame field as written (`t00030`, `0185`) */
  frameText?: string;
  /** a letter tag before the frame digits (`t`, `f`, `frame`) */
  tag?: string;
}

// Folder segments that name a split or a generic container, not a source: grouping by them would
// reproduce the export's own split (or put everything in one group).
const GENERIC_DIR = /^(train|training|val|valid|validation|test|testing|images?|imgs?|labels?|default|data|jpegimages|obj_\w+_data)$/i;
const ROBOFLOW = /^(.+)_(jpe?g|png|bmp|webp|tiff?|gif|heic|avif|jfif)\.rf\.[0-9a-z]+$/i;
/** `<anything>[sep]<letters><digits>` at the end: the frame field; the shortest prefix wins. */
const TRAILING_NUMBER = /^(.*?)[_\-. ]?([a-z]{0,6})(\d+)$/i;
const WORD = /[a-z0-9]+/gi;
const VIDEO_WORD = /^(mp4|mov|avi|mkv|webm|m4v|mpe?g|wmv|flv|3gp|mts|video|vid|clip|seq|sequence|frames?)$/i;
const FRAME_TAG = /^(frame|frm|f|t|fr)$/i;
// Without pixels to look at, camera file names (IMG_1234, DSC_0042, DJI_0839) and generic words (image_0001,
// photo-0042) are taken to number independent pictures, not video frames. With hashes the pixels decide.
const CAMERA_WORD = /^(img|dsc[nf]?|pxl|mvimg|dji|gopr|gp|p|images?|photos?|pictures?|pics?|samples?|files?|scans?|shots?)$/i;
/** A group smaller than this is never cut into time blocks (split.ts); it still counts as a sequence. */
const MIN_VIDEO_FRAMES = 3;

/**
 * The key of an image that is its own group: its name within its export split, so two different
 * pictures that happen to share a name in train/ and valid/ are not taken for one source.
 */
function ownKey(it: GroupItem): string {
  return it.subset ? `${it.subset}:${it.name}` : it.name;
}

/**
 * Augmented copies: Roboflow `.rf.` images beyond the first (by name) of their source stem. The first stands for
 * the source; the others are augmentations of it, which belong in train only (splitDataset `augmented`).
 */
export function augmentedCopies(items: readonly GroupItem[]): boolean[] {
  const bySource = new Map<string, number[]>();
  items.forEach((it, i) => {
    const p = parseName(it.name);
    if (!p.roboflow) return;
    const k = join(p.dir, p.stem);
    const l = bySource.get(k);
    if (l) l.push(i);
    else bySource.set(k, [i]);
  });
  const out = new Array<boolean>(items.length).fill(false);
  for (const m of bySource.values()) {
    if (m.length < 2) continue;
    m.sort((a, b) => (items[a]!.name < items[b]!.name ? -1 : items[a]!.name > items[b]!.name ? 1 : a - b));
    for (const i of m.slice(1)) out[i] = true;
  }
  return out;
}

export function parseName(name: string): ParsedName {
  const parts = name.split('/');
  const file = parts.pop() ?? name;
  const dir = parts.filter((s) => s !== '' && s !== '.' && !GENERIC_DIR.test(s)).join('/');
  const dot = file.lastIndexOf('.');
  const base = dot > 0 ? file.slice(0, dot) : file;
  const rf = ROBOFLOW.exec(base);
  return { dir, base, stem: rf ? rf[1]! : base, roboflow: !!rf };
}

/**
 * Tokenise a stem into fields. `08fd33_4_0123` → words `08fd33`, `4`, frame 123; `-_-_t00030` (a clip name
 * Roboflow reduced to punctuation) → prefix `-_-`, tag `t`, frame 30; `0012_a` → prefix `0012` (no frame).
 */
export function nameFields(stem: string): NameFields {
  const m = TRAILING_NUMBER.exec(stem);
  let prefix: string;
  const out: Partial<NameFields> = {};
  if (m) {
    prefix = m[1]!;
    out.frame = parseInt(m[3]!, 10);
    out.frameText = m[2]! + m[3]!;
    if (m[2]) out.tag = m[2];
  } else {
    // no number at the end: the last word names the item, the words before it are its fields
    const words = [...stem.matchAll(WORD)];
    const last = words[words.length - 1];
    prefix = last && words.length > 1 ? stem.slice(0, last.index).replace(/[_\-. ]+$/, '') : '';
  }
  const wordEnds: number[] = [];
  for (const w of prefix.matchAll(WORD)) wordEnds.push(w.index + w[0].length);
  // punctuation-only prefixes (and punctuation after the last word) are one field of their own
  if (wordEnds.length === 0 && prefix) wordEnds.push(prefix.length);
  else if (wordEnds.length && wordEnds[wordEnds.length - 1]! < prefix.length) wordEnds[wordEnds.length - 1] = prefix.length;
  return { prefix, wordEnds, ...out };
}

const join = (dir: string, x: string) => (dir ? (x ? `${dir}/${x}` : dir) : x);
const zeroPadded = (digits: string) => digits.length >= 4 || (digits.length > 1 && digits.startsWith('0'));

export interface GroupOptions {
  /** perceptual hashes per item (phash.imageHash): the pixels confirm or refute that numbered names are video frames */
  hashes?: readonly (bigint | undefined)[];
  /** the split the groups are for: a level "splits well" when whole groups meet these ratios */
  ratios?: readonly [number, number, number];
  seed?: number;
  /** a level id from an earlier result's `levels` to use instead of the inferred one */
  level?: string;
}

const median = (xs: number[]): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};

/**
 * Do the numbered names of `clip` look like frames of one video? With hashes: consecutive frames must be far
 * more alike than two images picked at random from the dataset (`baseline`, the median distance of random pairs).
 * Without hashes: the number must read like a frame counter (zero-padded, a `t`/`frame` tag, or a video word
 * before it), the name must not be a camera's photo counter, and the numbers must be dense enough for a video
 * (even sampled at 1 fps from 60 fps: 1/60 of the span).
 */
function looksLikeVideo(
  members: number[],
  fields: readonly (NameFields | undefined)[],
  hashes: GroupOptions['hashes'],
  baseline: number,
): { video: boolean; why: string } {
  const fr = members.map((i) => fields[i]!.frame!);
  const distinct = [...new Set(fr)].sort((a, b) => a - b);
  if (distinct.length < 2) return { video: false, why: 'one frame number' };
  const span = distinct[distinct.length - 1]! - distinct[0]! + 1;
  if (distinct.length / span < 1 / 100) return { video: false, why: 'frame numbers too sparse for a video' };
  if (hashes && members.every((i) => hashes[i] !== undefined) && Number.isFinite(baseline) && members.length >= MIN_VIDEO_FRAMES) {
    const order = [...members].sort((a, b) => fields[a]!.frame! - fields[b]!.frame!);
    const steps: number[] = [];
    for (let k = 1; k < order.length; k++) steps.push(hammingDistance(hashes[order[k - 1]!]!, hashes[order[k]!]!));
    const step = median(steps);
    return step <= Math.max(2, 0.5 * baseline)
      ? { video: true, why: `neighbouring frames look alike (median distance ${step} vs ${baseline} between random images)` }
      : { video: false, why: `neighbouring numbers do not look alike (median distance ${step} vs ${baseline} between random images)` };
  }
  const f = fields[members[0]!]!;
  const words = [...f.prefix.matchAll(WORD)].map((w) => w[0]);
  if (words.some((w) => CAMERA_WORD.test(w)) && !words.some((w) => VIDEO_WORD.test(w)) && !(f.tag && FRAME_TAG.test(f.tag))) {
    return { video: false, why: 'a camera or picture counter' };
  }
  const digits = f.frameText!.slice(f.tag?.length ?? 0);
  if (zeroPadded(digits) || (f.tag && FRAME_TAG.test(f.tag)) || words.some((w) => VIDEO_WORD.test(w))) return { video: true, why: 'a frame counter' };
  return { video: false, why: 'a plain number, not a frame counter' };
}

/** Median Hamming distance of up to 2,000 seeded random pairs: how alike two images of this dataset are by chance. */
function randomPairBaseline(hashes: GroupOptions['hashes'], n: number): number {
  if (!hashes) return NaN;
  const idx = [];
  for (let i = 0; i < n; i++) if (hashes[i] !== undefined) idx.push(i);
  if (idx.length < 4) return NaN;
  const rnd = mulberry32(0x5eed);
  const d: number[] = [];
  for (let k = 0; k < Math.min(2000, idx.length * 4); k++) {
    const a = idx[Math.floor(rnd() * idx.length)]!, b = idx[Math.floor(rnd() * idx.length)]!;
    if (a !== b) d.push(hammingDistance(hashes[a]!, hashes[b]!));
  }
  return median(d);
}

interface Candidate {
  id: string;
  label: string;
  keys: string[];
  ordered: boolean;
  strategy: GroupStrategy;
}

/**
 * Group key per item. `mode`: `auto` (infer the capture structure), `none` (each image alone), or a regex with a
 * named group `(?<group>...)` matched against the name with folders (optional `(?<frame>\d+)` orders
 * a group as a sequence). Throws an Error for an invalid regex or one without `(?<group>`.
 *
 * `auto`: sequences the annotations declare (CVAT video tasks, track ids) are kept as they are. For the other
 * images the names are tokenised into fields (nameFields) and read as a hierarchy, coarse to fine: CVAT task,
 * folder, the first 1, 2, … fields of the name, the clip (the name before its frame number) and the source image
 * (augmented copies together). Where the numbers are frames of a video (looksLikeVideo), no level finer than the
 * clip is allowed: frames of one video must never be split one by one. Of the allowed levels the coarsest one
 * whose whole groups meet the split ratios (a trial split) is chosen — a new video is what the model meets in
 * production, not a new frame of a known one —, else the finest allowed (where split.ts cuts long sequences
 * into time blocks). Every level is reported (GroupingResult.levels) so the user can pick another.
 */
export function computeGroups(items: readonly GroupItem[], mode: 'auto' | 'none' | string, opts: GroupOptions = {}): GroupingResult {
  const keys: string[] = new Array(items.length);
  const frames: (number | undefined)[] = new Array(items.length).fill(undefined);
  if (mode === 'none') {
    items.forEach((it, i) => (keys[i] = ownKey(it)));
    return finish(items, keys, frames, 'none', [
      'Grouping off: every image is its own group, so augmented copies and neighbouring video frames can leak across splits.',
    ], new Map(), [], 'none');
  }
  if (mode !== 'auto') return regexGroups(items, mode, keys, frames);

  // ---- declared sequences (CVAT video tasks, track ids): the annotations say it, nothing to infer
  const declared = new Map<string, number[]>();
  items.forEach((it, i) => {
    if (!it.sequence) return;
    keys[i] = it.sequence.id;
    frames[i] = it.sequence.frame;
    const l = declared.get(it.sequence.id);
    if (l) l.push(i);
    else declared.set(it.sequence.id, [i]);
  });
  const rest = items.map((_it, i) => i).filter((i) => !items[i]!.sequence);
  const sentences: string[] = [];
  const used: string[] = [];
  if (declared.size) {
    used.push('sequence');
    sentences.push(`Sequence frames declared by the annotations (CVAT video task, track ids) → one ordered sequence per video: ${plural(declared.size, 'sequence')} from ${plural(items.length - rest.length, 'image')}.`);
  }
  let levels: GroupLevel[] = [];
  let chosenId = declared.size ? 'declared' : 'source';
  if (rest.length) {
    const r = inferLevels(items, rest, opts);
    levels = r.levels;
    chosenId = r.chosen.id;
    for (const i of rest) {
      keys[i] = r.chosen.keys[i]!;
      if (r.chosen.ordered) frames[i] = r.fields[i]!.frame;
    }
    if (!used.includes(r.chosen.strategy) && r.chosen.strategy !== 'none') used.push(r.chosen.strategy);
    sentences.push(r.sentence);
  }
  const seqs = sequencesOf(keys, frames);
  return finish(items, keys, frames, used.length ? used.join('+') : 'none', sentences, seqs, levels, chosenId);
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

function inferLevels(
  items: readonly GroupItem[],
  rest: number[],
  opts: GroupOptions,
): { levels: GroupLevel[]; chosen: Candidate; fields: (NameFields | undefined)[]; sentence: string } {
  const parsed: (ParsedName | undefined)[] = new Array(items.length);
  const fields: (NameFields | undefined)[] = new Array(items.length);
  for (const i of rest) {
    parsed[i] = parseName(items[i]!.name);
    fields[i] = nameFields(parsed[i]!.stem);
  }
  const sourceKey = (i: number) => (parsed[i]!.roboflow ? join(parsed[i]!.dir, parsed[i]!.stem) : ownKey(items[i]!));

  // ---- which numbered clips are videos
  const clips = new Map<string, number[]>();
  for (const i of rest) {
    if (fields[i]!.frame === undefined) continue;
    const k = join(parsed[i]!.dir, fields[i]!.prefix);
    const l = clips.get(k);
    if (l) l.push(i);
    else clips.set(k, [i]);
  }
  const baseline = randomPairBaseline(opts.hashes, items.length);
  const videoClips = new Set<string>();
  const notVideo = new Map<string, number>();
  for (const [k, m] of clips) {
    const v = looksLikeVideo(m, fields, opts.hashes, baseline);
    if (v.video) videoClips.add(k);
    else notVideo.set(v.why, (notVideo.get(v.why) ?? 0) + m.length);
  }
  const clipOf = (i: number): string | undefined => {
    const f = fields[i]!;
    if (f.frame === undefined) return undefined;
    const k = join(parsed[i]!.dir, f.prefix);
    return videoClips.has(k) ? k : undefined;
  };
  const anyVideo = videoClips.size > 0;

  // ---- the candidate levels, coarse to fine; every level keeps each video clip whole
  const cands: Candidate[] = [];
  const keyed = (fn: (i: number) => string) => {
    const k: string[] = new Array(items.length);
    for (const i of rest) k[i] = fn(i);
    return k;
  };
  // tasks and folders are levels only where every image has one (a merge adds a batch folder to names that have none)
  if (rest.every((i) => items[i]!.groupHint)) {
    cands.push({ id: 'task', label: 'CVAT task', strategy: 'cvat-task', ordered: false, keys: keyed((i) => items[i]!.groupHint!) });
  }
  if (rest.every((i) => parsed[i]!.dir)) {
    cands.push({ id: 'folder', label: 'Source folder', strategy: 'folder', ordered: false, keys: keyed((i) => parsed[i]!.dir) });
  }
  const maxWords = Math.max(0, ...rest.map((i) => fields[i]!.wordEnds.length));
  // the first k fields of the name; an image whose name has fewer fields keeps the finer key it has
  for (let k = 1; k < maxWords + 1; k++) {
    const ex = rest.find((i) => fields[i]!.wordEnds.length >= k);
    const exText = ex === undefined ? '' : fields[ex]!.prefix.slice(0, fields[ex]!.wordEnds[k - 1]);
    cands.push({
      id: `field:${k}`,
      label: `${k === 1 ? 'First name field' : `First ${k} name fields`}${exText ? `, e.g. \`${exText}\`` : ''}`,
      strategy: 'name-field',
      ordered: false,
      keys: keyed((i) => {
        const f = fields[i]!;
        if (f.wordEnds.length < k) return clipOf(i) ?? sourceKey(i);
        return join(parsed[i]!.dir, f.prefix.slice(0, f.wordEnds[k - 1]));
      }),
    });
  }
  if (anyVideo) {
    cands.push({ id: 'clip', label: 'Clip: the name before the frame number, frames in order', strategy: 'video-frame', ordered: true, keys: keyed((i) => clipOf(i) ?? sourceKey(i)) });
  } else {
    cands.push({ id: 'source', label: 'Source image (augmented copies together)', strategy: 'roboflow-augment', ordered: false, keys: keyed(sourceKey) });
  }

  // identical partitions: one level each, named by the coarser level — except the finest (the clip carries the
  // frame order, the source is the fallback)
  const canon = (keys: string[]) => {
    const id = new Map<string, number>();
    return rest
      .map((i) => {
        let v = id.get(keys[i]!);
        if (v === undefined) id.set(keys[i]!, (v = id.size));
        return v;
      })
      .join(',');
  };
  const seen = new Map<string, number>();
  const unique: Candidate[] = [];
  for (const c of cands) {
    const sig = canon(c.keys);
    const at = seen.get(sig);
    if (at === undefined) {
      seen.set(sig, unique.length);
      unique.push(c);
    } else if (c.id === 'clip' || c.id === 'source') unique[at] = c;
  }

  // ---- judge them: coarsest level whose whole groups meet the ratios
  const ratios = opts.ratios ?? [0.8, 0.1, 0.1];
  const sub = rest.map((i) => items[i]!);
  const stats = unique.map((c) => {
    const sizes = new Map<string, number>();
    for (const i of rest) sizes.set(c.keys[i]!, (sizes.get(c.keys[i]!) ?? 0) + 1);
    let inMulti = 0, largest = 0;
    for (const n of sizes.values()) {
      if (n > 1) inMulti += n;
      largest = Math.max(largest, n);
    }
    return { groups: sizes.size, inMulti, largest };
  });
  const finest = unique.length - 1;
  const verdicts: string[] = [];
  let pick = -1;
  const forced = opts.level !== undefined ? unique.findIndex((c) => c.id === opts.level) : -1;
  if (opts.level !== undefined && forced < 0) {
    throw new Error(`Group level ${JSON.stringify(opts.level)} is not a level of these names; the levels are: ${unique.map((c) => c.id).join(', ')}`);
  }
  unique.forEach((c, k) => {
    const s = stats[k]!;
    if (k === finest) {
      verdicts.push(s.inMulti === 0 ? 'every image its own group' : c.ordered ? 'the finest level that keeps each video whole' : 'the finest level: augmented copies stay together');
      return;
    }
    if (s.groups < 2) {
      verdicts.push('everything in one group');
      return;
    }
    // a field whose values hardly repeat is an id (a hash, a counter), not a level of the capture structure
    if (s.inMulti < 0.5 * rest.length) {
      verdicts.push(`not a structure: only ${Math.round((100 * s.inMulti) / rest.length)}% of the images share their group with another`);
      return;
    }
    const trial = splitDataset(sub, rest.map((i) => c.keys[i]!), { ratios, seed: opts.seed ?? 0 });
    const short = trialShortfall(trial.splits, ratios) ?? missingFromVal(sub, rest.map((i) => c.keys[i]!), trial.splits, ratios);
    const look = coherence(rest, c.keys, opts.hashes);
    if (short) verdicts.push(`whole groups cannot ${short}${look}`);
    else {
      verdicts.push(`${plural(s.groups, 'group')} meet the ratios${look}`);
      if (pick < 0) pick = k;
    }
  });
  if (forced >= 0) pick = forced;
  else if (pick < 0) pick = finest;
  const levels: GroupLevel[] = unique.map((c, k) => ({
    id: c.id,
    label: c.label,
    groups: stats[k]!.groups,
    largest: stats[k]!.largest,
    inMulti: stats[k]!.inMulti,
    ordered: c.ordered,
    examples: levelExamples(items, rest, c.keys),
    verdict: k === pick ? (forced >= 0 ? 'chosen by you' : k === finest && unique.length > 1 ? `chosen: no coarser level splits well; ${verdicts[k]}` : `chosen: ${verdicts[k]}`) : verdicts[k]!,
    chosen: k === pick,
  }));
  const chosen = unique[pick]!;
  const s = stats[pick]!;
  const strategy: GroupStrategy = chosen.strategy === 'roboflow-augment' && s.inMulti === 0 ? 'none' : chosen.strategy;
  const picked = { ...chosen, strategy };
  const share = rest.length === items.length ? plural(rest.length, 'image') : `${rest.length} of ${items.length} images`;
  const parts: string[] = [];
  if (strategy === 'none') {
    parts.push(`No capture structure found in the names (no shared fields, frame numbers, Roboflow copies, tasks or folders that group images): each image is its own group (${share}).`);
  } else {
    const what = chosen.ordered ? `${plural(s.groups, 'ordered sequence')} (one per video clip)` : plural(s.groups, 'group');
    parts.push(`Name structure → ${chosen.label.replace(/^./, (x) => x.toLowerCase())}: ${what} from ${share}, ${s.inMulti} in groups of 2 or more.`);
    if (rest.some((i) => parsed[i]!.roboflow)) parts.push('Roboflow suffixes `_jpg.rf.<hash>` stripped first (augmented copies of one source share a stem).');
  }
  if (anyVideo) {
    const m = [...videoClips].reduce((a, k) => a + clips.get(k)!.length, 0);
    const ex = [...videoClips][0]!;
    const f = fields[clips.get(ex)![0]!]!;
    parts.push(
      `Frame numbers read as video frames in ${plural(videoClips.size, 'clip')} (${m} images, e.g. clip \`${ex}\` frame \`${f.frameText}\`)` +
        `${opts.hashes && Number.isFinite(baseline) ? ', confirmed by the pixels' : ''}: no level finer than the clip is offered.`,
    );
  }
  if (notVideo.size) parts.push(`Numbers not read as frames: ${[...notVideo].map(([why, n]) => `${n} images (${why})`).join('; ')}.`);
  if (unique.length > 1) parts.push(`Levels: ${levels.map((l) => `${l.id} ${l.groups}${l.chosen ? ' (chosen)' : ''}`).join(', ')}.`);
  return { levels, chosen: picked, fields, sentence: parts.join(' ') };
}

/**
 * Stratification: a class spread over several groups that the trial split still leaves out of val (it could have
 * been measured), as text; undefined when every such class reaches val (or there is no val).
 */
function missingFromVal(items: readonly GroupItem[], keys: readonly string[], splits: readonly (string | null)[], ratios: readonly number[]): string | undefined {
  if (!(ratios[1]! > 0)) return undefined;
  const groupsOf = new Map<number, Set<string>>();
  const inVal = new Set<number>();
  items.forEach((it, i) => {
    for (const c of it.classes) {
      (groupsOf.get(c) ?? groupsOf.set(c, new Set()).get(c)!).add(keys[i]!);
      if (splits[i] === 'val') inVal.add(c);
    }
  });
  const missing = [...groupsOf].filter(([c, g]) => g.size >= 3 && !inVal.has(c)).map(([c]) => c);
  return missing.length ? `put class ${missing.slice(0, 3).map((c) => `#${c}`).join(', ')} (in 3 or more groups) into val` : undefined;
}

/**
 * How alike the images of one group look compared with images of other groups (hashes only): the median distance
 * to the nearest image of the same group against the nearest image of another group, over up to 1,000 images.
 * Reported with the level's verdict as evidence (a coarse level is not refused for it: matches filmed alike are
 * still separate videos).
 */
function coherence(rest: readonly number[], keys: readonly string[], hashes: GroupOptions['hashes']): string {
  if (!hashes) return '';
  const idx = rest.filter((i) => hashes[i] !== undefined);
  if (idx.length < 8) return '';
  const step = Math.max(1, Math.floor(idx.length / 1000));
  const sample = idx.filter((_i, k) => k % step === 0);
  const inside: number[] = [], across: number[] = [];
  for (const i of sample) {
    let a = Infinity, b = Infinity;
    for (const j of sample) {
      if (j === i) continue;
      const d = hammingDistance(hashes[i]!, hashes[j]!);
      if (keys[j] === keys[i]) a = Math.min(a, d);
      else b = Math.min(b, d);
    }
    if (Number.isFinite(a) && Number.isFinite(b)) {
      inside.push(a);
      across.push(b);
    }
  }
  if (!inside.length) return '';
  return `; nearest look-alike inside a group ${median(inside)} bits vs ${median(across)} in another group`;
}

/** Which active split a trial assignment leaves under half its target share (or over twice it), as text. */
function trialShortfall(splits: readonly (string | null)[], ratios: readonly number[]): string | undefined {
  const sum = ratios.reduce((a, b) => a + b, 0);
  const got = new Map<string, number>();
  let kept = 0;
  for (const s of splits) {
    if (!s) continue;
    got.set(s, (got.get(s) ?? 0) + 1);
    kept++;
  }
  const names = ['train', 'val', 'test'];
  for (let k = 0; k < 3; k++) {
    const r = ratios[k]! / sum;
    if (r <= 0) continue;
    const share = kept ? (got.get(names[k]!) ?? 0) / kept : 0;
    if (share < 0.5 * r || share > 2 * r + 0.02) return `meet the ratios (${names[k]} would hold ${Math.round(share * 1000) / 10}%, target ${Math.round(r * 1000) / 10}%)`;
  }
  return undefined;
}

function levelExamples(items: readonly GroupItem[], rest: number[], keys: readonly string[]): GroupExample[] {
  const members = new Map<string, number[]>();
  for (const i of rest) {
    const l = members.get(keys[i]!);
    if (l) l.push(i);
    else members.set(keys[i]!, [i]);
  }
  return [...members]
    .sort((a, b) => b[1].length - a[1].length)
    .slice(0, 3)
    .map(([g, m]) => ({ group: g, members: m.slice(0, 3).map((i) => items[i]!.name), size: m.length }));
}

function regexGroups(items: readonly GroupItem[], mode: string, keys: string[], frames: (number | undefined)[]): GroupingResult {
  if (!mode.includes('(?<group>')) {
    throw new Error(`Group regex ${JSON.stringify(mode)} has no named group: write it as e.g. "^(?<group>[^_]+)_" (use "auto" or "none" for the built-in modes).`);
  }
  let re: RegExp;
  try {
    re = new RegExp(mode);
  } catch (e) {
    throw new Error(`Group regex ${JSON.stringify(mode)} is not a valid regular expression: ${(e as Error).message}`);
  }
  let unmatched = 0;
  const groupsMatched = new Set<string>();
  items.forEach((it, i) => {
    const g = re.exec(it.name)?.groups;
    if (g?.group) {
      keys[i] = g.group;
      groupsMatched.add(g.group);
      if (g.frame !== undefined && /^\s*-?\d+\s*$/.test(g.frame)) frames[i] = parseInt(g.frame, 10);
    } else {
      keys[i] = ownKey(it);
      unmatched++;
    }
  });
  // A group is a sequence only when every member has a frame number.
  const seq = sequencesOf(keys, frames);
  const matched = items.length - unmatched;
  const n = groupsMatched.size;
  const sentences = [
    `Regex \`${mode}\` → one group per match${mode.includes('(?<frame>') ? ', ordered by the `frame` group' : ''}: ${n} groups from ${matched} images.`,
  ];
  if (unmatched) sentences.push(`${unmatched} image${unmatched === 1 ? '' : 's'} did not match and ${unmatched === 1 ? 'is its' : 'are their'} own group${unmatched === 1 ? '' : 's'}.`);
  return finish(items, keys, frames, 'regex', sentences, seq, [], 'regex');
}

/** Sequences: groups of 2+ members that all carry a frame number; other members lose their frame. */
function sequencesOf(keys: readonly string[], frames: (number | undefined)[]): Map<string, SequenceFrame[]> {
  const byKey = new Map<string, SequenceFrame[] | null>();
  keys.forEach((k, i) => {
    const f = frames[i];
    const l = byKey.get(k);
    if (l === null) return;
    if (f === undefined) byKey.set(k, null);
    else if (l) l.push({ item: i, frame: f });
    else byKey.set(k, [{ item: i, frame: f }]);
  });
  const out = new Map<string, SequenceFrame[]>();
  for (const [k, l] of byKey) if (l && l.length > 1) out.set(k, l.sort((a, b) => a.frame - b.frame || a.item - b.item));
  keys.forEach((k, i) => {
    if (!out.has(k)) frames[i] = undefined;
  });
  return out;
}

function finish(
  items: readonly GroupItem[],
  keys: string[],
  frames: (number | undefined)[],
  strategy: string,
  sentences: string[],
  sequences: Map<string, SequenceFrame[]>,
  levels: GroupLevel[],
  level: string,
): GroupingResult {
  const members = new Map<string, number[]>();
  keys.forEach((k, i) => {
    const l = members.get(k);
    if (l) l.push(i);
    else members.set(k, [i]);
  });
  // Examples: up to 6 groups in order of first appearance, multi-member groups first.
  const picked: string[] = [];
  for (const wantMulti of [true, false]) {
    for (const [k, m] of members) {
      if (picked.length >= 6) break;
      if (m.length > 1 === wantMulti) picked.push(k);
    }
  }
  const examples = picked.map((g) => {
    const m = members.get(g)!;
    return { group: g, members: m.slice(0, 4).map((i) => items[i]!.name), size: m.length };
  });
  return { keys, frames, strategy, description: sentences.join(' '), groups: members.size, examples, sequences, levels, level };
}

/**
 * Merge groups joined by near-duplicate pairs `[i, j, distance]` (from phash nearDuplicatePairs) with
 * union-find, so visually identical images cannot straddle splits. A merged group keeps the key of
 * its first-appearing group. `merges` counts unions of two different groups.
 */
export function mergeNearDuplicates(
  keys: readonly string[],
  pairs: ReadonlyArray<readonly [number, number, number?]>,
): { keys: string[]; merges: number } {
  const id = new Map<string, number>();
  const names: string[] = [];
  for (const k of keys) {
    if (!id.has(k)) {
      id.set(k, names.length);
      names.push(k);
    }
  }
  const parent = Int32Array.from(names, (_n, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  let merges = 0;
  for (const [i, j] of pairs) {
    const a = keys[i], b = keys[j];
    if (a === undefined || b === undefined) throw new Error(`near-duplicate pair [${i}, ${j}] is out of range (${keys.length} items)`);
    const ra = find(id.get(a)!), rb = find(id.get(b)!);
    if (ra === rb) continue;
    // The smaller index (first-appearing group) stays the root, so its key names the merged group.
    if (ra < rb) parent[rb] = ra;
    else parent[ra] = rb;
    merges++;
  }
  return { keys: keys.map((k) => names[find(id.get(k)!)]!), merges };
}
