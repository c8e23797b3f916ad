/**
 * The anti-leak split, its leak audit and per-split statistics.
 *
 * Whole groups (from groups.ts) go to train/val/test by ratio, stratified so every class reaches val
 * (and test) where the data allows. When the data is one or a few long videos, groups cannot be split
 * by ratio; each sequence is then cut into contiguous time blocks, blocks are dealt to the splits, and
 * frames near a block boundary where the split changes are dropped (the guard gap), so that no two
 * frames within the guard distance sit in different splits.
 *
 * Written by hand: this is the product's core promise, and no library does grouped, stratified,
 * sequence-aware splitting. Deterministic for a seed (own PRNG, never Math.random).
 */
import { SPLITS, type LeakAudit, type SplitName, type SplitStats } from '../../shared/schemas.js';
import type { GroupItem } from './groups.js';
import { forEachCrossSplitPair } from './leaks.js';

/** Split per item; null = a guard frame dropped at a time-block boundary (or a near-duplicate guard). */
export type SplitAssignment = SplitName | null;

export interface SplitOptions {
  /** train, val, test shares (normalised; a 0 share means no such split) */
  ratios: readonly [number, number, number];
  seed: number;
  /** frames dropped at each time-block boundary, in frame-number units (default: defaultGuardGap per sequence) */
  guardGap?: number;
  /** frame number per item for members of ordered sequences (GroupingResult.frames) */
  frames?: readonly (number | undefined)[];
  /**
   * Perceptual hashes per item, near-duplicates at `dupThreshold` bits or fewer (default 4; -1 off). Groups should
   * already be merged (mergeNearDuplicates). A time-block guard gap then widens until the frames on the two sides
   * of every boundary are no near-duplicates of each other (unless `guardGap` is given), and a pair that still
   * crosses splits afterwards (far-apart blocks of one video that look alike) is resolved by dropping one image.
   */
  hashes?: readonly (bigint | undefined)[];
  dupThreshold?: number;
  /**
   * Augmented copies (groups.augmentedCopies): their groups go to train while the other groups can fill val and
   * test; a group with copies that still lands in val or test keeps one image per source there.
   */
  augmented?: readonly boolean[];
}

/**
 * Guard gaps are widened up to this share of a sequence dropped (and while every split keeps half its share of it);
 * past that the remaining pairs lose one image each.
 */
const MAX_GUARD_SHARE = 0.5;

export interface SplitResult {
  splits: SplitAssignment[];
  /** sequences were split into time blocks */
  timeBlocks: boolean;
  /** how many sequences were split into time blocks */
  sequences: number;
  /** the (largest) guard gap used, in frames; 0 without time blocks */
  guardGap: number;
  /** why a guard gap is wider than its default (near-duplicates across a boundary), per widened sequence */
  guardReasons: string[];
  /** items set to null (guard frames, near-duplicate guards and augmented copies of val/test sources) */
  dropped: number;
  /** of those, augmented copies of val/test sources */
  augmentedDropped: number;
  /** a sentence saying what was done */
  summary: string;
  warnings: string[];
}

/** Fewer groups than this and ratios cannot be met by whole groups: sequences get time blocks. */
export const MIN_GROUPS_FOR_RATIO = 10;
/** Sequences shorter than this are kept whole. */
const MIN_SEQUENCE_ITEMS = 10;
const CANDIDATE_ARRANGEMENTS = 32;
const MISSING_WEIGHT = [4, 2, 1];

/** mulberry32: a small, fast, well-distributed 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashString(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function shuffle<T>(a: T[], rnd: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/**
 * Default guard gap of a sequence, in frame numbers: 2% of its frame span, at least the typical step
 * between consecutive frames (so two neighbouring sampled frames never straddle splits), at least 1.
 */
export function defaultGuardGap(frames: readonly number[]): number {
  if (frames.length < 2) return 1;
  const f = [...new Set(frames)].sort((a, b) => a - b);
  const steps = f.slice(1).map((x, i) => x - f[i]!).sort((a, b) => a - b);
  const median = steps.length ? steps[Math.floor((steps.length - 1) / 2)]! : 1;
  return Math.max(1, median, Math.round(0.02 * (f[f.length - 1]! - f[0]! + 1)));
}

interface Unit {
  members: number[];
  images: number;
  /** class ids present and their instance counts (parallel arrays) */
  cls: number[];
  cnt: number[];
  /** seeded random priority for tie-breaks */
  rand: number;
}

/** Running counts per split against targets: what the greedy assignment minimises. */
class Tally {
  readonly images = [0, 0, 0];
  readonly inst: Float64Array[];
  readonly targetImages: number[];
  readonly targetInst: Float64Array[];
  readonly classWeight: number;
  constructor(
    readonly ratios: number[],
    readonly totals: Float64Array,
    readonly total: number,
  ) {
    const C = totals.length;
    this.inst = SPLITS.map(() => new Float64Array(C));
    this.targetImages = ratios.map((r) => r * total);
    this.targetInst = ratios.map((r) => totals.map((t) => r * t));
    let present = 0;
    for (const t of totals) if (t > 0) present++;
    this.classWeight = present ? 1 / present : 0;
  }
  add(s: number, u: Unit): void {
    this.images[s]! += u.images;
    for (let k = 0; k < u.cls.length; k++) this.inst[s]![u.cls[k]!]! += u.cnt[k]!;
  }
  /** change of the squared, normalised deviation from the targets if `u` went to split `s` */
  delta(s: number, u: Unit): number {
    const n = u.images, N = this.total || 1;
    let d = (n * (2 * (this.images[s]! - this.targetImages[s]!) + n)) / (N * N);
    const inst = this.inst[s]!, tgt = this.targetInst[s]!;
    for (let k = 0; k < u.cls.length; k++) {
      const c = u.cls[k]!, m = u.cnt[k]!, t = this.totals[c]!;
      d += (this.classWeight * (m * (2 * (inst[c]! - tgt[c]!) + m))) / (t * t);
    }
    return d;
  }
}

/** `weight`: what an image counts toward the ratios (augmented copies count 0: the ratios are over independent pictures). */
function makeUnit(members: number[], items: readonly GroupItem[], rand: number, weight: (i: number) => number = () => 1): Unit {
  const counts = new Map<number, number>();
  let images = 0;
  for (const i of members) {
    images += weight(i);
    for (const c of items[i]!.classes) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  return { members, images, cls: [...counts.keys()], cnt: [...counts.values()], rand };
}

/**
 * Greedy stratified assignment of whole units.
 * Phase 1, rarest class first: give each active split (train first) one unit holding the class if
 * it has none yet — train the largest, val/test the smallest that fits — so minority classes reach
 * val where the data allows. Phase 2: the rest, largest first (ties in seeded order), each to the
 * split whose image and per-class counts it brings closest to the targets.
 */
function assignUnits(units: Unit[], tally: Tally, active: number[], out: SplitAssignment[]): void {
  const at = new Int8Array(units.length).fill(-1);
  const put = (u: number, s: number) => {
    at[u] = s;
    tally.add(s, units[u]!);
    for (const i of units[u]!.members) out[i] = SPLITS[s]!;
  };
  if (active.length > 1) {
    const byClass = new Map<number, number[]>();
    units.forEach((u, k) => {
      for (const c of u.cls) {
        const l = byClass.get(c);
        if (l) l.push(k);
        else byClass.set(c, [k]);
      }
    });
    const order = [...byClass.keys()].sort((a, b) => byClass.get(a)!.length - byClass.get(b)!.length || a - b);
    for (const c of order) {
      const cand = byClass.get(c)!;
      for (const s of active) {
        if (tally.inst[s]![c]! > 0) continue;
        const cap = Math.max(1.5 * tally.targetImages[s]!, tally.targetImages[s]! + 3) - tally.images[s]!;
        let best = -1;
        for (const k of cand) {
          if (at[k] !== -1) continue;
          const u = units[k]!, b = units[best];
          if (s === 0) {
            if (!b || u.images > b.images || (u.images === b.images && u.rand < b.rand)) best = k;
          } else if (u.images <= cap && (!b || u.images < b.images || (u.images === b.images && u.rand < b.rand))) best = k;
        }
        if (best >= 0) put(best, s);
      }
    }
  }
  const rest = units
    .map((_u, k) => k)
    .filter((k) => at[k] === -1)
    .sort((a, b) => units[b]!.images - units[a]!.images || units[a]!.rand - units[b]!.rand);
  for (const k of rest) {
    let best = active[0]!, bestD = Infinity;
    for (const s of active) {
      const d = tally.delta(s, units[k]!);
      if (d < bestD) {
        bestD = d;
        best = s;
      }
    }
    put(k, best);
  }
}

/**
 * Cut one sequence (item indices sorted by frame) into contiguous blocks, deal the blocks to the
 * splits by ratio in a seeded order (the arrangement that reaches most classes in every split wins
 * among a few candidates), then drop guard frames where the split changes. Returns items dropped.
 */
function blockSequence(
  seq: number[],
  frames: readonly (number | undefined)[],
  items: readonly GroupItem[],
  ratios: number[],
  active: number[],
  g: number,
  rnd: () => number,
  out: SplitAssignment[],
): number {
  const n = seq.length;
  const fr = (k: number) => frames[seq[k]!]!;
  const minRatio = Math.min(...active.map((s) => ratios[s]!));
  // ~10% blocks, finer when a split's share is under 10%; never blocks of fewer than ~4 frames.
  let want = Math.min(50, Math.max(10, Math.ceil(1 / minRatio - 1e-9)));
  want = Math.max(active.length, Math.min(want, Math.floor(n / 4)));
  const starts = [0];
  for (let b = 1; b < want; b++) {
    let c = Math.round((b * n) / want);
    while (c < n && fr(c) === fr(c - 1)) c++; // never split copies of one frame
    if (c > starts[starts.length - 1]! && c < n) starts.push(c);
  }
  const B = starts.length;
  const end = (b: number) => (b + 1 < B ? starts[b + 1]! : n);

  // Blocks per split: largest remainder, each active split at least one block when there are enough.
  const quota = [0, 0, 0];
  const exact = active.map((s) => B * ratios[s]!);
  active.forEach((s, k) => (quota[s] = Math.floor(exact[k]!)));
  let left = B - quota.reduce((a, b) => a + b, 0);
  for (const k of active.map((_s, k) => k).sort((a, b) => (exact[b]! % 1) - (exact[a]! % 1))) {
    if (left-- > 0) quota[active[k]!]!++;
  }
  for (const s of active) {
    if (quota[s] === 0 && B >= active.length) {
      const donor = active.reduce((a, b) => (quota[b]! > quota[a]! ? b : a));
      quota[donor]!--;
      quota[s] = 1;
    }
  }
  const labels: number[] = [];
  for (const s of active) for (let q = 0; q < quota[s]!; q++) labels.push(s);

  // Classes per block, to prefer arrangements where every split sees every class of the video.
  const blockClasses: Set<number>[] = [];
  for (let b = 0; b < B; b++) {
    const set = new Set<number>();
    for (let k = starts[b]!; k < end(b); k++) for (const c of items[seq[k]!]!.classes) set.add(c);
    blockClasses.push(set);
  }
  const seqClasses = new Set(blockClasses.flatMap((s) => [...s]));
  let best: number[] = labels, bestScore = Infinity;
  for (let t = 0; t < CANDIDATE_ARRANGEMENTS; t++) {
    const cand = shuffle([...labels], rnd);
    // A class missing from train cannot be learnt, from val cannot be measured; test matters least.
    let missing = 0;
    for (const c of seqClasses) {
      for (const s of active) if (!cand.some((l, b) => l === s && blockClasses[b]!.has(c))) missing += MISSING_WEIGHT[s]!;
    }
    // Secondary: blocks of one held-out split next to each other show fewer parts of the video.
    let clumped = 0;
    for (let b = 1; b < B; b++) if (cand[b] === cand[b - 1] && cand[b] !== 0) clumped++;
    const score = missing * 1000 + clumped;
    if (score < bestScore) {
      bestScore = score;
      best = cand;
    }
  }
  for (let b = 0; b < B; b++) for (let k = starts[b]!; k < end(b); k++) out[seq[k]!] = SPLITS[best[b]!]!;

  // Guard gap: drop on the train side of a boundary when there is one (val/test are the scarce ones).
  for (let b = 0; b + 1 < B; b++) {
    if (best[b] === best[b + 1]) continue;
    const cut = starts[b + 1]!;
    if (best[b] === 0) {
      const first = fr(cut);
      for (let k = cut - 1; k >= starts[b]! && fr(k) >= first - g; k--) out[seq[k]!] = null;
    } else {
      const last = fr(cut - 1);
      for (let k = cut; k < end(b + 1) && fr(k) <= last + g; k++) out[seq[k]!] = null;
    }
  }
  // Safety pass (also covers a block consumed whole by two guards): in frame order, drop a frame
  // within g of a kept frame of another split. Afterwards no cross-split pair is within g.
  const lastKept = [-Infinity, -Infinity, -Infinity];
  let dropped = 0;
  for (let k = 0; k < n; k++) {
    const i = seq[k]!;
    const s = out[i];
    if (s == null) {
      dropped++;
      continue;
    }
    const si = SPLITS.indexOf(s);
    if (lastKept.some((f, o) => o !== si && f >= fr(k) - g)) {
      out[i] = null;
      dropped++;
    } else lastKept[si] = fr(k);
  }
  return dropped;
}

/**
 * Split items into train/val/test by group. Throws an Error for inconsistent input (lengths, ratios).
 */
export function splitDataset(items: readonly GroupItem[], keys: readonly string[], opts: SplitOptions): SplitResult {
  if (keys.length !== items.length) throw new Error(`splitDataset: ${keys.length} group keys for ${items.length} items`);
  if (opts.frames && opts.frames.length !== items.length) throw new Error(`splitDataset: ${opts.frames.length} frames for ${items.length} items`);
  const sum = opts.ratios.reduce((a, b) => a + b, 0);
  if (opts.ratios.some((r) => !Number.isFinite(r) || r < 0) || !(sum > 0)) {
    throw new Error(`Split ratios ${opts.ratios.join(',')} are invalid: use three non-negative numbers with a positive sum, e.g. 0.8,0.1,0.1`);
  }
  if (opts.guardGap !== undefined && !(Number.isInteger(opts.guardGap) && opts.guardGap >= 0)) {
    throw new Error(`Guard gap ${opts.guardGap} is invalid: use a whole number of frames (0 or more)`);
  }
  const ratios = opts.ratios.map((r) => r / sum);
  const active = [0, 1, 2].filter((s) => ratios[s]! > 0);
  const N = items.length;
  const out: SplitAssignment[] = new Array(N).fill(null);
  const warnings: string[] = [];
  const ratioText = ratios.map((r) => +r.toFixed(3)).join('/');

  const members = new Map<string, number[]>();
  keys.forEach((k, i) => {
    const l = members.get(k);
    if (l) l.push(i);
    else members.set(k, [i]);
  });
  let C = 0;
  for (const it of items) for (const c of it.classes) if (c + 1 > C) C = c + 1;
  const totals = new Float64Array(C);
  for (const it of items) for (const c of it.classes) totals[c]!++;

  const rnd = mulberry32(opts.seed);
  const groups = [...members.entries()].map(([key, m]) => ({ key, m, rand: rnd() }));
  const frames = opts.frames;
  const isSeq = (m: number[]) => !!frames && m.length >= MIN_SEQUENCE_ITEMS && m.every((i) => frames[i] !== undefined);
  const seqGroups = groups.filter((g) => isSeq(g.m));

  // groups holding augmented copies go to train when the other groups can fill val and test; the ratios count
  // independent pictures (a source and its copies are one), so copies weigh nothing toward them
  const aug = opts.augmented?.some(Boolean) ? opts.augmented : undefined;
  const weight = (i: number) => (aug?.[i] ? 0 : 1);
  const W = aug ? aug.reduce((n, a) => n + (a ? 0 : 1), 0) : N;
  const hasAug = (g: { m: number[] }) => !!aug && g.m.some((i) => aug[i]);
  const plainImages = groups.reduce((n, g) => n + (hasAug(g) ? 0 : g.m.length), 0);
  const augToTrain = !!aug && active.length > 1 && plainImages >= (1 - ratios[0]!) * W;
  const heldOut = active.filter((a) => a !== 0);
  const assignWhole = (gs: typeof groups, tally: Tally, o: SplitAssignment[]) => {
    const unit = (g: (typeof groups)[number]) => makeUnit(g.m, items, g.rand, weight);
    if (!aug) return assignUnits(gs.map(unit), tally, active, o);
    if (augToTrain) {
      for (const g of gs.filter(hasAug)) {
        tally.add(0, unit(g));
        for (const i of g.m) o[i] = 'train';
      }
      return assignUnits(gs.filter((g) => !hasAug(g)).map(unit), tally, active, o);
    }
    // too few plain groups to fill val and test: all of them go there, and sources with copies picked in seeded order
    // make up the rest with one image each (their copies are dropped below); the other sources with copies go to train
    let deficit = Math.round((1 - ratios[0]!) * W) - gs.reduce((n, g) => n + (hasAug(g) ? 0 : g.m.length), 0);
    const held: typeof groups = [];
    for (const g of gs.filter(hasAug).sort((a, b) => a.rand - b.rand)) {
      const originals = g.m.filter((i) => !aug[i]);
      if (deficit > 0) {
        held.push({ ...g, m: originals });
        deficit -= originals.length;
      } else {
        tally.add(0, unit(g));
        for (const i of g.m) o[i] = 'train';
      }
    }
    assignUnits([...gs.filter((g) => !hasAug(g)), ...held].map(unit), tally, heldOut.length ? heldOut : active, o);
    const byKey = new Map(held.map((g) => [g.key, g]));
    for (const g of gs) if (byKey.has(g.key)) for (const i of g.m) if (aug[i]) o[i] = o[byKey.get(g.key)!.m[0]!]!;
  };
  const groupLevel = () => {
    const tally = new Tally(ratios, totals, W);
    const o: SplitAssignment[] = new Array(N).fill(null);
    assignWhole(groups, tally, o);
    return { o, tally };
  };

  // Time blocks when the sequences are too few or too large for whole groups to meet the ratios.
  let timeBlocks = false;
  let why = '';
  let trial: ReturnType<typeof groupLevel> | undefined;
  if (seqGroups.length > 0 && active.length > 1) {
    if (groups.length < MIN_GROUPS_FOR_RATIO) {
      timeBlocks = true;
      why = `only ${groups.length} group${groups.length === 1 ? '' : 's'}`;
    } else {
      trial = groupLevel();
      const short = active.find((s) => trial!.tally.images[s]! < 0.5 * trial!.tally.targetImages[s]!);
      if (short !== undefined) {
        timeBlocks = true;
        why = `whole groups would give ${SPLITS[short]} ${pct(trial.tally.images[short]! / W)} of the images (target ${pct(ratios[short]!)})`;
      }
    }
  }

  let summary: string;
  const hashes = opts.hashes;
  const threshold = opts.dupThreshold ?? 4;
  const guardReasons: string[] = [];
  let guardUsed = 0;
  let dropped = 0;
  if (timeBlocks) {
    const tally = new Tally(ratios, totals, W);
    for (const g of seqGroups) {
      const seq = [...g.m].sort((a, b) => frames![a]! - frames![b]! || a - b);
      const first = opts.guardGap ?? defaultGuardGap(seq.map((i) => frames![i]!));
      let gap = first;
      let d = blockSequence(seq, frames!, items, ratios, active, gap, mulberry32(hashString(g.key, opts.seed >>> 0)), out);
      if (opts.guardGap === undefined && hashes && threshold >= 0) {
        // widen the gap until no frame on one side of a boundary is a near-duplicate of one on the other side
        const view: SplitAssignment[] = new Array(N).fill(null);
        // pairs across a boundary: near-duplicates in different splits within 3 gaps of each other (look-alikes
        // further apart are not the boundary's doing: the last pass below resolves them)
        const crossing = () => {
          for (const i of seq) view[i] = out[i]!;
          let n = 0;
          forEachCrossSplitPair(hashes, view, threshold, (i, j) => {
            if (Math.abs(frames![i]! - frames![j]!) <= 3 * gap) n++;
          });
          for (const i of seq) view[i] = null;
          return n;
        };
        const atFirst = crossing();
        let now = atFirst;
        while (now > 0) {
          const wider = Math.ceil(gap * 1.5) + 1;
          const trialOut = [...out];
          const td = blockSequence(seq, frames!, items, ratios, active, wider, mulberry32(hashString(g.key, opts.seed >>> 0)), trialOut);
          if (td > MAX_GUARD_SHARE * seq.length) break;
          // nor at the price of a split: every split keeps at least half its share of the sequence
          const kept = [0, 0, 0];
          for (const i of seq) if (trialOut[i]) kept[SPLITS.indexOf(trialOut[i]!)]!++;
          if (active.some((a) => kept[a]! < 0.5 * ratios[a]! * seq.length)) break;
          for (const i of seq) out[i] = trialOut[i]!;
          gap = wider;
          d = td;
          now = crossing();
        }
        if (gap > first) {
          guardReasons.push(
            `\`${g.key}\`: guard gap widened from ${first} to ${gap} frames — at ${first}, ${plural(atFirst, 'near-duplicate pair')} crossed a block boundary` +
              (now ? `; ${plural(now, 'pair')} still cross where a wider gap would drop over ${MAX_GUARD_SHARE * 100}% of the sequence or most of a split, and lose one image each` : ''),
          );
        }
      }
      guardUsed = Math.max(guardUsed, gap);
      dropped += d;
      // Count what the blocks gave each split, so the remaining whole groups fill toward the targets.
      for (const s of active) {
        const kept = g.m.filter((i) => out[i] === SPLITS[s]);
        if (kept.length) tally.add(s, makeUnit(kept, items, 0, weight));
      }
    }
    const seqKeys = new Set(seqGroups.map((g) => g.key));
    assignWhole(groups.filter((g) => !seqKeys.has(g.key)), tally, out);
    summary =
      `Time-block split (${why}): ${seqGroups.length} sequence${seqGroups.length === 1 ? '' : 's'} cut into contiguous blocks dealt to the splits by ratio ${ratioText} (seed ${opts.seed}); ` +
      `${dropped} frame${dropped === 1 ? '' : 's'} within ${guardUsed} frame${guardUsed === 1 ? '' : 's'} of a split change dropped as guard gaps` +
      (groups.length > seqGroups.length ? `; ${groups.length - seqGroups.length} other groups split whole.` : '.');
  } else {
    const { o } = trial ?? groupLevel();
    o.forEach((s, i) => (out[i] = s));
    summary = `Split ${groups.length} group${groups.length === 1 ? '' : 's'} by ratio ${ratioText} (seed ${opts.seed}), whole groups only, stratified by class.`;
    if (groups.length < active.length) {
      warnings.push(`Only ${groups.length} group${groups.length === 1 ? '' : 's'} for ${active.length} splits: some splits are empty. Check the grouping rule.`);
    } else if (groups.length < MIN_GROUPS_FOR_RATIO) {
      warnings.push(`Only ${groups.length} groups: whole groups can meet the ratios only roughly. Check the grouping rule.`);
    }
  }

  // val and test get one image per source: augmented copies that landed there are dropped (train would be a leak)
  let augDrops = 0;
  if (aug) {
    for (let i = 0; i < N; i++) {
      if (aug[i] && out[i] && out[i] !== 'train') {
        out[i] = null;
        augDrops++;
      }
    }
    const inTrain = aug.filter((a, i) => a && out[i] === 'train').length;
    summary += augToTrain
      ? ` Augmented copies stay in train: the ${plural(groups.filter(hasAug).length, 'source')} with copies (${plural(inTrain, 'copy', 'copies')}) went to train, val and test were filled from the other groups.`
      : ` Too few groups without augmented copies to fill val and test: ${plural(augDrops, 'augmented copy', 'augmented copies')} of val/test sources dropped (val and test keep one image per source).`;
  }
  dropped += augDrops;

  // Near-duplicates still crossing (far-apart blocks of a video that look alike, or unmerged groups):
  // every such pair loses one image — the one in train when train is one side, else the one in test.
  let dupDrops = 0;
  if (hashes && threshold >= 0) {
    forEachCrossSplitPair(hashes, out, threshold, (i, j) => {
      const a = out[i], b = out[j];
      if (a == null || b == null || a === b) return;
      const ia = SPLITS.indexOf(a), ib = SPLITS.indexOf(b);
      out[ia === 0 || (ib !== 0 && ia > ib) ? i : j] = null;
      dupDrops++;
    });
  }
  if (dupDrops) summary += ` ${dupDrops} image${dupDrops === 1 ? '' : 's'} dropped because a near-duplicate sits in another split.`;
  dropped += dupDrops;

  const got = [0, 0, 0];
  out.forEach((s, i) => {
    if (s) got[SPLITS.indexOf(s)]! += weight(i);
  });
  const kept = got[0]! + got[1]! + got[2]!;
  const what = aug ? 'of the source images (augmented copies not counted)' : 'of the images';
  for (const s of active) {
    const share = kept ? got[s]! / kept : 0;
    if (kept && (share < 0.5 * ratios[s]! || share > 2 * ratios[s]! + 0.02)) {
      warnings.push(`${SPLITS[s]} holds ${pct(share)} ${what} (target ${pct(ratios[s]!)}): the groups are too few or too large to meet the ratio.`);
    }
  }
  if (guardReasons.length) summary += ` ${guardReasons.join('; ')}.`;
  return { splits: out, timeBlocks, sequences: timeBlocks ? seqGroups.length : 0, guardGap: guardUsed, guardReasons, dropped, augmentedDropped: augDrops, summary, warnings };
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
const plural = (n: number, w: string, many = `${w}s`) => `${n} ${n === 1 ? w : many}`;

export interface AuditOptions {
  /** perceptual hashes per item (phash.imageHash): near-duplicate pairs are counted from them */
  hashes?: readonly (bigint | undefined)[];
  /** dHash distance (of 64 bits) at or under which two images are near-duplicates; default 4, -1 off */
  dupThreshold?: number;
  /** content hash per item: identical files */
  sha1?: readonly (string | undefined)[];
  /** frame number per item (GroupingResult.frames): sequences are judged by neighbouring frames */
  frames?: readonly (number | undefined)[];
  /** neighbour distance in frames; default defaultGuardGap of each sequence (pass the split's guardGap) */
  guardGap?: number;
  /** examples kept per kind (default 10) */
  maxExamples?: number;
  /** filled with 1 for every val/test image that has a twin in train (the per-image flags behind held_out_with_twin) */
  twinsOut?: Uint8Array;
}

const splitOrder = (s: string) => {
  const k = (SPLITS as readonly string[]).indexOf(s);
  return k < 0 ? 3 : k;
};
const sortSplits = (l: Iterable<string>) => [...new Set(l)].sort((a, b) => splitOrder(a) - splitOrder(b) || a.localeCompare(b));

/**
 * The leak audit — one function for every place that shows a leak (report.json, health.json, the CLI, the UI), on
 * any assignment (Spotter's split or the export's own subsets; null/undefined = not in a split):
 * - groups crossing splits: a plain group whose members sit in more than one split; a sequence (all members with
 *   frame numbers) may span splits in time blocks and crosses only where two frames within the guard distance sit
 *   in different splits;
 * - near-duplicate pairs across splits: every pair within the dHash threshold, counted as pairs (leaks.ts), so the
 *   number does not depend on the order of the files; identical files likewise;
 * - the figure users read: val/test images with a twin in train — a near-duplicate, an identical file, a member
 *   of their group or a neighbouring frame of their sequence — out of all val/test images.
 */
export function auditSplits(
  items: readonly GroupItem[],
  keys: readonly string[],
  splits: readonly (string | null | undefined)[],
  opts: AuditOptions = {},
): LeakAudit {
  const max = opts.maxExamples ?? 10;
  const threshold = opts.dupThreshold ?? 4;
  const examples: LeakAudit['examples'] = [];
  const perKind = new Map<string, number>();
  const example = (kind: string, a: number, b: number, sp: string[], more: { group?: string; detail?: string } = {}) => {
    const n = perKind.get(kind) ?? 0;
    if (n >= max) return;
    perKind.set(kind, n + 1);
    examples.push({ kind, a: items[a]!.name, b: items[b]!.name, splits: sp, ...more });
  };
  // val/test images with a twin in train
  const twin = opts.twinsOut ?? new Uint8Array(items.length);
  const heldOut = (i: number) => splits[i] != null && splits[i] !== 'train';
  const markTwins = (i: number, j: number) => {
    if (splits[i] === 'train' && heldOut(j)) twin[j] = 1;
    else if (splits[j] === 'train' && heldOut(i)) twin[i] = 1;
  };
  const members = new Map<string, number[]>();
  keys.forEach((k, i) => {
    if (splits[i] == null) return;
    const l = members.get(k);
    if (l) l.push(i);
    else members.set(k, [i]);
  });
  const frames = opts.frames;
  let groupCrossings = 0;
  for (const m of members.values()) {
    if (m.length < 2) continue;
    if (frames && m.every((i) => frames[i] !== undefined)) {
      const seq = [...m].sort((a, b) => frames[a]! - frames[b]! || a - b);
      const g = opts.guardGap ?? defaultGuardGap(seq.map((i) => frames[i]!));
      // a frame within g of a frame of another split is a neighbour crossing (a window over the sorted frames)
      let crossed = false;
      let lo = 0;
      for (let k = 0; k < seq.length; k++) {
        const i = seq[k]!;
        while (frames[i]! - frames[seq[lo]!]! > g) lo++;
        for (let q = lo; q < k; q++) {
          const j = seq[q]!;
          if (splits[j] === splits[i]) continue;
          if (!crossed) example('sequence-neighbours', j, i, sortSplits([splits[j]!, splits[i]!]));
          crossed = true;
          markTwins(i, j);
        }
      }
      if (crossed) groupCrossings++;
    } else {
      const first = splits[m[0]!]!;
      const other = m.find((i) => splits[i] !== first);
      if (other === undefined) continue;
      groupCrossings++;
      const per = new Map<string, number>();
      for (const i of m) per.set(splits[i]!, (per.get(splits[i]!) ?? 0) + 1);
      const sp = sortSplits(per.keys());
      example('group', m[0]!, other, sp, { group: keys[m[0]!]!, detail: sp.map((x) => `${x} ${per.get(x)}`).join(', ') });
      if (m.some((i) => splits[i] === 'train')) for (const i of m) if (heldOut(i)) twin[i] = 1;
    }
  }
  // near-duplicate pairs that are not identical files (those are counted as identical pairs below)
  let nearCrossings = 0;
  const sha = opts.sha1;
  if (opts.hashes) {
    forEachCrossSplitPair(opts.hashes, splits, threshold, (i, j) => {
      markTwins(i, j);
      if (sha?.[i] && sha[i] === sha[j]) return;
      nearCrossings++;
      example('near-duplicate', i, j, sortSplits([splits[i]!, splits[j]!]));
    });
  }
  let exactCrossings = 0;
  if (opts.sha1) {
    const bySha = new Map<string, number[]>();
    opts.sha1.forEach((h, i) => {
      if (!h || splits[i] == null) return;
      const l = bySha.get(h);
      if (l) l.push(i);
      else bySha.set(h, [i]);
    });
    for (const m of bySha.values()) {
      if (m.length < 2) continue;
      const per = new Map<string, number>();
      for (const i of m) per.set(splits[i]!, (per.get(splits[i]!) ?? 0) + 1);
      if (per.size < 2) continue;
      let within = 0;
      for (const n of per.values()) within += (n * (n - 1)) / 2;
      exactCrossings += (m.length * (m.length - 1)) / 2 - within;
      const inTrain = m.find((i) => splits[i] === 'train');
      const other = m.find((i) => splits[i] !== splits[m[0]!]);
      example('exact-duplicate', m[0]!, other!, sortSplits(m.map((i) => splits[i]!)));
      if (inTrain !== undefined) for (const i of m) if (heldOut(i)) twin[i] = 1;
    }
  }
  let held = 0, withTwin = 0;
  for (let i = 0; i < items.length; i++) {
    if (!heldOut(i)) continue;
    held++;
    withTwin += twin[i]!;
  }
  return {
    group_crossings: groupCrossings,
    near_duplicate_crossings: nearCrossings,
    exact_duplicate_crossings: exactCrossings,
    held_out_with_twin: withTwin,
    held_out_images: held,
    dup_threshold: opts.hashes ? threshold : -1,
    examples,
  };
}

/**
 * Groups, images, negatives and instances per class name for each split, plus warnings for classes
 * with too few val instances to measure (default under 10).
 */
export function splitStats(
  items: readonly GroupItem[],
  keys: readonly string[],
  splits: readonly SplitAssignment[],
  names: readonly string[],
  opts: { minValInstances?: number } = {},
): { splits: Record<SplitName, SplitStats>; warnings: string[] } {
  const min = opts.minValInstances ?? 10;
  const name = (c: number) => names[c] ?? `class ${c}`;
  const groupSets = SPLITS.map(() => new Set<string>());
  const stats = SPLITS.map((): SplitStats => ({ groups: 0, images: 0, negatives: 0, instances: Object.fromEntries(names.map((n) => [n, 0])) }));
  const totals = new Map<number, number>();
  items.forEach((it, i) => {
    const s = splits[i];
    if (!s) return;
    const k = SPLITS.indexOf(s);
    const st = stats[k]!;
    st.images++;
    if (it.classes.length === 0) st.negatives++;
    groupSets[k]!.add(keys[i]!);
    for (const c of it.classes) {
      st.instances[name(c)] = (st.instances[name(c)] ?? 0) + 1;
      totals.set(c, (totals.get(c) ?? 0) + 1);
    }
  });
  stats.forEach((st, k) => (st.groups = groupSets[k]!.size));
  const warnings: string[] = [];
  const val = stats[1]!;
  const images = stats.reduce((a, s) => a + s.images, 0);
  if (images > 0 && val.images === 0) warnings.push('No validation images: metrics cannot be measured.');
  else {
    for (const c of [...totals.keys()].sort((a, b) => a - b)) {
      const v = val.instances[name(c)] ?? 0;
      if (v >= min) continue;
      warnings.push(
        v === 0
          ? `Class \`${name(c)}\` has no val instances (${totals.get(c)} in all): it cannot be measured.`
          : `Class \`${name(c)}\` has only ${v} val instance${v === 1 ? '' : 's'} (under ${min}): its val metrics will be noise.`,
      );
    }
  }
  return { splits: { train: stats[0]!, val: stats[1]!, test: stats[2]! }, warnings };
}
