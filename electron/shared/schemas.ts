/**
 * Schemas of everything that crosses an edge: files Spotter writes and reads back
 * (split.json, health.json, mapping.json, report.json), and the arguments of every API call.
 * No node:*, no DOM, no electron: both the core and the renderer import this module.
 */
import { z } from 'zod';

export const SPLITS = ['train', 'val', 'test'] as const;
export const SplitName = z.enum(SPLITS);
export type SplitName = z.infer<typeof SplitName>;

export const Severity = z.enum(['error', 'warning', 'info']);

/** One entry of health.json `issues`. */
export const HealthIssue = z.object({
  severity: Severity,
  code: z.string(),
  message: z.string(),
  /** how many items this entry covers (files, boxes, classes) */
  count: z.number().int().nonnegative().optional(),
  /** affected files (relative to the dataset root where possible), capped for size */
  files: z.array(z.string()).optional(),
  /** affected items (annotation ids, class names, line numbers), capped for size */
  items: z.array(z.string()).optional(),
});
export type HealthIssue = z.infer<typeof HealthIssue>;

export const HealthReport = z.object({
  ok: z.boolean(),
  imgsz: z.number().int().positive(),
  checked_at: z.string(),
  counts: z.object({ errors: z.number().int(), warnings: z.number().int(), infos: z.number().int() }),
  issues: z.array(HealthIssue),
  /** the leak audit of the splits as the files sit (the same function and numbers as report.json's leak_audit) */
  leak_audit: z.lazy(() => LeakAudit).optional(),
});
export type HealthReport = z.infer<typeof HealthReport>;

/** One entry of split.json. */
export const SplitEntry = z.object({
  source: z.string(),
  file: z.string(),
  split: SplitName,
  group: z.string(),
  /** frame number within the group, when the group is an ordered sequence (video frames) */
  frame: z.number().optional(),
});
export type SplitEntry = z.infer<typeof SplitEntry>;

export const MappingFile = z.object({
  classes: z.array(
    z.object({
      id: z.number().int().nonnegative(),
      name: z.string(),
      /** source category names merged into this class */
      sources: z.array(z.string()),
      instances: z.number().int().nonnegative(),
    }),
  ),
  dropped: z.array(
    z.object({ name: z.string(), reason: z.enum(['unused', 'user']), instances: z.number().int().nonnegative() }),
  ),
});
export type MappingFile = z.infer<typeof MappingFile>;

export const SplitStats = z.object({
  groups: z.number().int(),
  images: z.number().int(),
  negatives: z.number().int(),
  instances: z.record(z.string(), z.number().int()),
});
export type SplitStats = z.infer<typeof SplitStats>;

export const LeakAudit = z.object({
  /** groups whose images sit in more than one split */
  group_crossings: z.number().int(),
  /** near-duplicate pairs whose two images sit in different splits (every such pair, counted once) */
  near_duplicate_crossings: z.number().int(),
  /** pairs of identical images (same bytes) in different splits */
  exact_duplicate_crossings: z.number().int(),
  /** val and test images with a twin in train: a near-duplicate, an identical file, a group member or a neighbouring frame */
  held_out_with_twin: z.number().int().optional(),
  /** val and test images in all */
  held_out_images: z.number().int().optional(),
  /** the dHash threshold the near-duplicate pairs were counted at; -1 when no hashes were compared */
  dup_threshold: z.number().int().optional(),
  examples: z.array(
    z.object({
      kind: z.string(),
      a: z.string(),
      b: z.string().optional(),
      splits: z.array(z.string()),
      /** the group (kind `group`) and its images per split (`train 3, val 1`) */
      group: z.string().optional(),
      detail: z.string().optional(),
    }),
  ),
});
export type LeakAudit = z.infer<typeof LeakAudit>;

/** One level of the capture structure inferred from the names (groups.ts GroupLevel). */
export const GroupLevelInfo = z.object({
  id: z.string(),
  label: z.string(),
  groups: z.number().int(),
  largest: z.number().int(),
  inMulti: z.number().int(),
  ordered: z.boolean(),
  examples: z.array(z.object({ group: z.string(), members: z.array(z.string()), size: z.number().int() })),
  verdict: z.string(),
  chosen: z.boolean(),
});
export type GroupLevelInfo = z.infer<typeof GroupLevelInfo>;

export const GroupingInfo = z.object({
  /** what produced the groups: roboflow-augment, video-frame, name-field, cvat-task, folder, sequence, regex, none (joined by +) */
  strategy: z.string(),
  /** the level used (a `levels` id, `declared`, `regex` or `none`); absent in reports of older versions */
  level: z.string().optional(),
  /** the capture structure found in the names, coarse to fine, with the verdict on each level */
  levels: z.array(GroupLevelInfo).optional(),
  description: z.string(),
  groups: z.number().int(),
  /** a few groups with some of their member file names */
  examples: z.array(z.object({ group: z.string(), members: z.array(z.string()), size: z.number().int() })),
  /** sequences split in time blocks, with the guard gap used */
  sequences: z.number().int(),
  time_blocks: z.boolean(),
  guard_gap: z.number().int(),
  dropped_guard_frames: z.number().int(),
  /** what the split did with the groups, in sentences (time blocks, guard gaps and why, augmented copies, drops) */
  split_summary: z.string().optional(),
  /** augmented copies of val/test sources left out (val and test keep one image per source) */
  dropped_augmented: z.number().int().optional(),
  near_duplicate_merges: z.number().int(),
  /** what the pixels added to the name structure (near_duplicate_merges is their sum) */
  pixels: z
    .object({
      /** groups merged because two of their images are near-duplicates (dHash ≤ the import's threshold) */
      near_duplicate_merges: z.number().int(),
      /** groups merged because two of their images are each other's nearest neighbour within the learned threshold */
      mutual_neighbour_merges: z.number().int(),
      /** the threshold learned from the dataset's nearest-neighbour distances; absent where they show no near group */
      learned_threshold: z.number().int().optional(),
    })
    .optional(),
});
export type GroupingInfo = z.infer<typeof GroupingInfo>;

export const LicenseEntry = z.object({ name: z.string(), url: z.string().optional(), source: z.string() });

/** report.json: everything the import decided, written beside data.yaml. */
export const DatasetReport = z.object({
  spotter_version: z.string(),
  created_at: z.string(),
  name: z.string(),
  task: z.enum(['detect', 'segment']),
  sources: z.array(z.object({ path: z.string(), format: z.string(), images: z.number().int() })),
  split_mode: z.enum(['ratio', 'keep']),
  ratios: z.tuple([z.number(), z.number(), z.number()]),
  seed: z.number().int(),
  grouping: GroupingInfo,
  splits: z.record(SplitName, SplitStats),
  leak_audit: LeakAudit,
  /** leak audit of the export's own splits, when it had them */
  source_split_audit: LeakAudit.optional(),
  licenses: z.array(LicenseEntry),
  counts: z.record(z.string(), z.number()),
  names: z.array(z.string()),
  /** a merge into a new version of a base dataset (ImportOptions.base): what came from where */
  merge: z
    .object({
      base: z.string(),
      base_name: z.string(),
      /** content hash of the base (data.yaml, split.json, labels) when the merge was made */
      base_hash: z.string(),
      /** images whose labels the re-import replaced (matched by file name) */
      replaced: z.number().int(),
      /** images the re-import added */
      added: z.number().int(),
      /** base images kept as they were */
      unchanged: z.number().int(),
      /** re-imported images not used (ambiguous name, no size, dropped as guard frames) */
      skipped: z.number().int(),
      /** classes the base lacked, appended after its own */
      new_classes: z.array(z.string()),
      /** added images that joined an existing group's split (anti-leak) */
      joined_groups: z.number().int(),
      replaced_files: z.array(z.string()),
      added_files: z.array(z.string()),
    })
    .optional(),
});
export type DatasetReport = z.infer<typeof DatasetReport>;

/** Options of an import, from the UI or the CLI. */
export const ImportOptions = z.object({
  sources: z.array(z.string().min(1)).min(1),
  /** output dataset folder; when absent, `<workspace>/datasets/<name>` */
  out: z.string().optional(),
  name: z.string().optional(),
  task: z.enum(['detect', 'segment']).default('detect'),
  ratios: z.tuple([z.number().min(0), z.number().min(0), z.number().min(0)]).default([0.8, 0.1, 0.1]),
  seed: z.number().int().default(0),
  /** `auto`, `none`, or a regex with a named group `(?<group>...)` */
  group: z.string().default('auto'),
  /** with `auto`: the level of the inferred structure to group by (a `levels` id the inspection listed), instead of the inferred one */
  groupLevel: z.string().min(1).optional(),
  /** keep the export's own split even when the audit finds it leaks (it is kept anyway when complete and clean) */
  keepSplits: z.boolean().default(false),
  /** split by ratio even when the export's own split is complete and clean by the audit */
  resplit: z.boolean().default(false),
  keepCrowd: z.boolean().default(true),
  /** frames dropped at every time-block boundary of a sequence */
  guardGap: z.number().int().min(0).optional(),
  /** Hamming distance (of 64 bits, at most 15) at or under which two images are near-duplicates; -1 disables */
  dupThreshold: z.number().int().min(-1).max(15).default(4),
  /** source category name -> target class name (rename/merge) or null (drop) */
  classMap: z.record(z.string(), z.string().nullable()).default({}),
  imgsz: z.number().int().positive().default(640),
  /**
   * Merge into a new version of this dataset folder (`<base>_v<N>` beside it unless `out` is given):
   * the base's images and labels, with the sources' labels replacing the base's for the same image
   * (matched by file name) and new images added through the normal grouping and split. The base is
   * not changed.
   */
  base: z.string().min(1).optional(),
});
export type ImportOptions = z.input<typeof ImportOptions>;
export type ImportOptionsParsed = z.output<typeof ImportOptions>;
