/**
 * Anti-leak grouping: decide which images must stay together in one split.
 *
 * Augmented copies of one source image, frames of one video and images of one capture session look
 * alike; if they straddle train and val, val measures memory instead of generalisation. Every item
 * gets a group key; `split.ts` splits whole groups (or, for lone long videos, contiguous time blocks).
 *
 * `auto` tries rules in a fixed order on the items no earlier rule claimed and keeps a rule only when
 * it actually groups them (a pattern that yields only single images is not the right rule). This is
 * product logic, so it is written here; the regexes are the knowledge.
 */

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
  | 'numeric-prefix'
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
}

interface Match {
  key: string;
  frame?: number;
  /** which pattern variant matched, for the description */
  variant?: string;
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

interface Rule {
  strategy: GroupStrategy;
  label: string;
  /** groups are ordered sequences */
  ordered: boolean;
  /** drop groups whose frame numbers are too sparse to be a video (weak patterns) */
  sparseCheck?: boolean;
  match(item: GroupItem, p: ParsedName): Match | undefined;
  /** does this grouping of the matched items count as "groups the data"? */
  accept(s: RuleStats): string | undefined; // undefined = accepted, else the reason it is not used
}

interface RuleStats {
  matched: number;
  groups: number;
  /** items in groups with 2+ members */
  inMulti: number;
}

// Folder segments that name a split or a generic container, not a source: grouping by them would
// reproduce the export's own split (or put everything in one group).
const GENERIC_DIR = /^(train|training|val|valid|validation|test|testing|images?|imgs?|labels?|default|data|jpegimages|obj_\w+_data)$/i;
const ROBOFLOW = /^(.+)_(jpe?g|png|bmp|webp|tiff?|gif|heic|avif|jfif)\.rf\.[0-9a-z]+$/i;
const VIDEO_EXT = /^(.+[_\-. ](?:mp4|mov|avi|mkv|webm|m4v|mpe?g|wmv|flv|3gp|mts))[_\-. ]?(\d+)$/i;
const FRAME_WORD = /^(.*?)[_\-. ]?(frame|frm)[_\-. ]?(\d+)$/i;
const GENERIC_FRAME = /^(.*[a-z].*?)[_-](\d+)$/i;
// Camera file names (IMG_1234, DSC_0042, DJI_0839) and generic words (image_0001, photo-0042) number
// independent pictures, not video frames.
const CAMERA_PREFIX = /^(img|dsc[nf]?|pxl|mvimg|dji|gopr|gp|p|images?|photos?|pictures?|pics?|samples?|files?|scans?|shots?)([_-]|$)/i;
const NUMERIC_PREFIX = /^(\d+)_./;

/**
 * The key of an image that is its own group: its name within its export split, so two different
 * pictures that happen to share a name in train/ and valid/ are not taken for one source.
 */
function ownKey(it: GroupItem): string {
  return it.subset ? `${it.subset}:${it.name}` : it.name;
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

const join = (dir: string, x: string) => (dir ? (x ? `${dir}/${x}` : dir) : x);
const zeroPadded = (digits: string) => digits.length >= 4 || (digits.length > 1 && digits.startsWith('0'));

/** Strong video-frame patterns: an explicit video extension token or the word `frame`. */
function strongVideo(p: ParsedName): Match | undefined {
  let m = VIDEO_EXT.exec(p.stem);
  if (m) return { key: join(p.dir, m[1]!), frame: parseInt(m[2]!, 10), variant: '<video>_MP4-<frame>' };
  m = FRAME_WORD.exec(p.stem);
  if (m) {
    const video = m[1]!.replace(/[_\-. ]+$/, '');
    return { key: join(p.dir, video || m[2]!.toLowerCase()), frame: parseInt(m[3]!, 10), variant: 'frame_<number>' };
  }
  return undefined;
}

/** Weak video-frame patterns: `video1_00042`, `<folder>/000123.jpg`. Zero-padded numbers only. */
function weakVideo(p: ParsedName): Match | undefined {
  if (/^\d+$/.test(p.stem)) {
    if (p.dir && zeroPadded(p.stem)) return { key: p.dir, frame: parseInt(p.stem, 10), variant: '<folder>/<frame>' };
    return undefined;
  }
  const m = GENERIC_FRAME.exec(p.stem);
  if (m && zeroPadded(m[2]!) && !CAMERA_PREFIX.test(m[1]!)) {
    return { key: join(p.dir, m[1]!), frame: parseInt(m[2]!, 10), variant: '<video>_<frame>' };
  }
  return undefined;
}

const needsMulti =
  (minShare: number, minGroups = 1) =>
  (s: RuleStats): string | undefined => {
    if (s.inMulti < Math.max(2, Math.ceil(minShare * s.matched))) return 'only single images per group';
    if (s.groups < minGroups) return 'everything in one group';
    return undefined;
  };

/** The auto rules in the order they are tried. */
const AUTO_RULES: Rule[] = [
  {
    strategy: 'sequence',
    label: 'Sequence frames declared by the annotations (CVAT video task, track ids)',
    ordered: true,
    match: (it) => (it.sequence ? { key: it.sequence.id, frame: it.sequence.frame } : undefined),
    accept: needsMulti(0),
  },
  // Tried before the plain Roboflow rule: a video groups all augmented copies of all its frames,
  // so when a stem is `<video>_MP4-0185` the video is the safer (coarser) group and gives an order.
  {
    strategy: 'video-frame',
    label: 'Video-frame pattern',
    ordered: true,
    match: (_it, p) => strongVideo(p),
    accept: needsMulti(0),
  },
  {
    strategy: 'roboflow-augment',
    label: 'Roboflow augmentation suffix `name_jpg.rf.<hash>`',
    ordered: false,
    match: (_it, p) => (p.roboflow ? { key: join(p.dir, p.stem) } : undefined),
    accept: needsMulti(0),
  },
  {
    strategy: 'video-frame',
    label: 'Video-frame pattern',
    ordered: true,
    sparseCheck: true,
    match: (_it, p) => weakVideo(p),
    accept: needsMulti(0.5),
  },
  {
    strategy: 'numeric-prefix',
    label: 'Numeric prefix before `_` (`0012_a.jpg`)',
    ordered: false,
    match: (_it, p) => {
      const m = NUMERIC_PREFIX.exec(p.stem);
      return m ? { key: join(p.dir, m[1]!) } : undefined;
    },
    accept: needsMulti(0.2),
  },
  {
    strategy: 'cvat-task',
    label: 'CVAT task',
    ordered: false,
    match: (it) => (it.groupHint ? { key: it.groupHint } : undefined),
    accept: needsMulti(0, 2),
  },
  {
    strategy: 'folder',
    label: 'Source folder',
    ordered: false,
    match: (_it, p) => (p.dir ? { key: p.dir } : undefined),
    accept: needsMulti(0, 2),
  },
];

const OUTCOME: Record<GroupStrategy, string> = {
  sequence: 'one ordered sequence per video',
  'video-frame': 'one ordered sequence per video',
  'roboflow-augment': 'one group per source image',
  'numeric-prefix': 'one group per prefix',
  'cvat-task': 'one group per task',
  folder: 'one group per folder',
  regex: 'one group per match',
  none: 'each image is its own group',
};

/**
 * Group key per item. `mode`: `auto` (detect the rule), `none` (each image alone), or a regex with a
 * named group `(?<group>...)` matched against the name with folders (optional `(?<frame>\d+)` orders
 * a group as a sequence). Throws an Error for an invalid regex or one without `(?<group>`.
 */
export function computeGroups(items: readonly GroupItem[], mode: 'auto' | 'none' | string): GroupingResult {
  const keys: string[] = new Array(items.length);
  const frames: (number | undefined)[] = new Array(items.length).fill(undefined);
  if (mode === 'none') {
    items.forEach((it, i) => (keys[i] = ownKey(it)));
    return finish(items, keys, frames, 'none', [
      'Grouping off: every image is its own group, so augmented copies and neighbouring video frames can leak across splits.',
    ], new Map());
  }
  if (mode !== 'auto') return regexGroups(items, mode, keys, frames);
  const parsed = items.map((it) => parseName(it.name));

  const claimed = new Uint8Array(items.length);
  const used: string[] = [];
  const sentences: string[] = [];
  const notUsed: { strategy: GroupStrategy; text: string }[] = [];
  const exampleOrder: number[][] = []; // item indices claimed by each used rule, for examples
  for (const rule of AUTO_RULES) {
    const matches = new Map<number, Match>();
    for (let i = 0; i < items.length; i++) {
      if (claimed[i]) continue;
      const m = rule.match(items[i]!, parsed[i]!);
      if (m) matches.set(i, m);
    }
    if (matches.size === 0) continue;
    if (rule.sparseCheck) dropSparse(matches);
    const stats = ruleStats(matches);
    const reason = stats && rule.accept(stats);
    if (!stats || reason) {
      notUsed.push({ strategy: rule.strategy, text: `${rule.label} (${stats ? reason : 'frame numbers too sparse for a video'})` });
      continue;
    }
    const variants = new Set<string>();
    let roboflowStripped = false;
    for (const [i, m] of matches) {
      claimed[i] = 1;
      keys[i] = m.key;
      if (rule.ordered) frames[i] = m.frame;
      if (m.variant) variants.add(m.variant);
      if (parsed[i]!.roboflow) roboflowStripped = true;
    }
    if (!used.includes(rule.strategy)) used.push(rule.strategy);
    exampleOrder.push([...matches.keys()]);
    sentences.push(describeRule(rule, stats, [...variants], roboflowStripped && rule.strategy === 'video-frame', matches, items.length));
  }

  let unmatched = 0;
  for (let i = 0; i < items.length; i++) {
    if (!claimed[i]) {
      keys[i] = ownKey(items[i]!);
      unmatched++;
    }
  }
  if (used.length === 0) {
    sentences.push(
      'No grouping pattern found (no sequences, Roboflow suffixes, frame numbers, numeric prefixes, tasks or folders that group images): each image is its own group.',
    );
  } else if (unmatched > 0) {
    sentences.push(`${unmatched} image${unmatched === 1 ? '' : 's'} matched no rule and ${unmatched === 1 ? 'is its' : 'are their'} own group${unmatched === 1 ? '' : 's'}.`);
  }
  // Say which patterns were seen but did not group the data (and were not used by another variant).
  const skipped = [...new Set(notUsed.filter((n) => !used.includes(n.strategy)).map((n) => n.text))];
  if (skipped.length) sentences.push(`Not used: ${skipped.join('; ')}.`);
  return finish(items, keys, frames, used.length ? used.join('+') : 'none', sentences, sequencesOf(keys, frames), exampleOrder);
}

function ruleStats(matches: Map<number, Match>): RuleStats | undefined {
  if (matches.size === 0) return undefined;
  const sizes = new Map<string, number>();
  for (const m of matches.values()) sizes.set(m.key, (sizes.get(m.key) ?? 0) + 1);
  let inMulti = 0;
  for (const n of sizes.values()) if (n > 1) inMulti += n;
  return { matched: matches.size, groups: sizes.size, inMulti };
}

/**
 * Weak frame patterns also match numbered independent images (COCO ids `000000000036`). A real video
 * has frame numbers reasonably dense over their span (even sampled at 1 fps from 60 fps: 1/60).
 */
function dropSparse(matches: Map<number, Match>): void {
  const byKey = new Map<string, number[]>();
  for (const m of matches.values()) {
    const l = byKey.get(m.key);
    if (l) l.push(m.frame!);
    else byKey.set(m.key, [m.frame!]);
  }
  const sparse = new Set<string>();
  for (const [key, fr] of byKey) {
    let lo = Infinity, hi = -Infinity;
    for (const f of fr) {
      if (f < lo) lo = f;
      if (f > hi) hi = f;
    }
    if (fr.length > 1 && fr.length / (hi - lo + 1) < 1 / 100) sparse.add(key);
  }
  if (sparse.size) for (const [i, m] of matches) if (sparse.has(m.key)) matches.delete(i);
}

function describeRule(
  rule: Rule,
  s: RuleStats,
  variants: string[],
  roboflowStripped: boolean,
  matches: Map<number, Match>,
  total: number,
): string {
  const share = s.matched === total ? `${s.matched} images` : `${s.matched} of ${total} images`;
  if (rule.ordered) {
    const sizes = new Map<string, number>();
    for (const m of matches.values()) sizes.set(m.key, (sizes.get(m.key) ?? 0) + 1);
    const top = [...sizes].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, n]) => `\`${k}\` ${n} frames`);
    const label = rule.strategy === 'sequence' ? rule.label : `${rule.label} ${variants.map((v) => `\`${v}\``).join(', ')}`;
    return (
      `${label}${roboflowStripped ? ' (after stripping the Roboflow suffix `_jpg.rf.<hash>`)' : ''} → ${OUTCOME[rule.strategy]}, ordered by frame number: ` +
      `${s.groups} sequence${s.groups === 1 ? '' : 's'} from ${share} (${top.join(', ')}${sizes.size > 3 ? ', …' : ''}).`
    );
  }
  return `${rule.label} → ${OUTCOME[rule.strategy]}: ${s.groups} groups from ${share} (${s.inMulti} images in groups of 2 or more).`;
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
    `Regex \`${mode}\` → ${OUTCOME.regex}${mode.includes('(?<frame>') ? ', ordered by the `frame` group' : ''}: ${n} groups from ${matched} images.`,
  ];
  if (unmatched) sentences.push(`${unmatched} image${unmatched === 1 ? '' : 's'} did not match and ${unmatched === 1 ? 'is its' : 'are their'} own group${unmatched === 1 ? '' : 's'}.`);
  return finish(items, keys, frames, 'regex', sentences, seq);
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
  order: number[][] = [items.map((_x, i) => i)],
): GroupingResult {
  const members = new Map<string, number[]>();
  keys.forEach((k, i) => {
    const l = members.get(k);
    if (l) l.push(i);
    else members.set(k, [i]);
  });
  // Examples: round-robin over the rules used, multi-member groups first (a lazy scan: no big copies).
  const picked: string[] = [];
  const taken = new Set<string>();
  for (const wantMulti of [true, false]) {
    const ptr = order.map(() => 0);
    for (let progress = true; progress && picked.length < 6; ) {
      progress = false;
      order.forEach((idx, r) => {
        while (picked.length < 6 && ptr[r]! < idx.length) {
          const k = keys[idx[ptr[r]!++]!]!;
          if (!taken.has(k) && members.get(k)!.length > 1 === wantMulti) {
            taken.add(k);
            picked.push(k);
            progress = true;
            break;
          }
        }
      });
    }
  }
  const examples = picked.map((g) => {
    const m = members.get(g)!;
    return { group: g, members: m.slice(0, 4).map((i) => items[i]!.name), size: m.length };
  });
  return { keys, frames, strategy, description: sentences.join(' '), groups: members.size, examples, sequences };
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
