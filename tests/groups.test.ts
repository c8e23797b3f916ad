import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fixture, rbc } from './helpers/shared.js';
import { computeGroups, mergeNearDuplicates, nameFields, parseName, type GroupItem } from '../electron/core/datasets/groups.js';
import { imageHash, nearDuplicatePairs } from '../electron/core/datasets/phash.js';
import { learnedThreshold, MAX_LEARNED_THRESHOLD, nearestNeighbours, pixelLinks } from '../electron/core/datasets/pixels.js';

/** Names and dense class ids straight from a COCO JSON (not the product's reader: this tests grouping only). */
function cocoItems(file: string, subset?: string): GroupItem[] {
  const j = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    images: { id: number; file_name: string }[];
    annotations: { image_id: number; category_id: number }[];
  };
  const used = [...new Set(j.annotations.map((a) => a.category_id))].sort((a, b) => a - b);
  const byImage = new Map<number, number[]>();
  for (const a of j.annotations) byImage.set(a.image_id, [...(byImage.get(a.image_id) ?? []), used.indexOf(a.category_id)]);
  return j.images.map((im) => ({ name: im.file_name, subset, classes: byImage.get(im.id) ?? [] }));
}

const RBC = rbc();
const DRONE = fixture('drone-person-video-frames-roboflow');
const URBAN = fixture('urban-traffic-video-task-coco', 'annotations', 'instances_default.json');
const folders = (root: string) => ['train', 'valid', 'test'].flatMap((s) => cocoItems(path.join(root, s, '_annotations.coco.json'), s));
const sizes = (keys: string[]) => {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
};
const names = (list: string[]): GroupItem[] => list.map((name) => ({ name, classes: [] }));

describe('auto grouping on real exports', () => {
  it('groups the 210 Roboflow-augmented blood-cell train images into 70 triplets by source stem', () => {
    const items = cocoItems(path.join(RBC, 'train/_annotations.coco.json'));
    expect(items).toHaveLength(210);
    const g = computeGroups(items, 'auto');
    expect(g.strategy).toBe('roboflow-augment');
    expect(g.groups).toBe(70);
    expect([...sizes(g.keys).values()].every((n) => n === 3)).toBe(true);
    items.forEach((it, i) => expect(it.name.startsWith(`${g.keys[i]}_png.rf.`)).toBe(true));
    expect(g.level).toBe('source');
    expect(g.description).toMatch(/source image \(augmented copies together\): 70 groups from 210 images, 210 in groups of 2 or more/);
    expect(g.description).toContain('Roboflow suffixes');
    expect(g.examples.length).toBeGreaterThan(0);
    expect(g.examples.length).toBeLessThanOrEqual(6);
    for (const ex of g.examples) {
      expect(ex.size).toBe(3);
      expect(ex.members.length).toBeLessThanOrEqual(4);
      expect(ex.members.every((m) => m.startsWith(`${ex.group}_png.rf.`))).toBe(true);
    }
    expect(g.sequences.size).toBe(0);
  });

  it('keeps the same sources together across the three export folders (100 sources, no sequences)', () => {
    const items = folders(RBC);
    const g = computeGroups(items, 'auto');
    expect(items).toHaveLength(240);
    expect(g.groups).toBe(100);
    expect(g.keys[items.findIndex((it) => it.name.startsWith('image-117_png.rf.'))]).toBe('image-117');
    expect(g.frames.every((f) => f === undefined)).toBe(true);
  });

  it('recognises the drone frames as ONE ordered sequence, frame order from the `-0185` index', () => {
    const items = folders(DRONE);
    expect(items).toHaveLength(121);
    const g = computeGroups(items, 'auto');
    expect(g.strategy).toBe('video-frame');
    expect(g.groups).toBe(1);
    expect(new Set(g.keys)).toEqual(new Set(['DJI_0839_5meter_305_MP4']));
    const i185 = items.findIndex((it) => it.name.startsWith('DJI_0839_5meter_305_MP4-0185_jpg.rf.'));
    expect(g.frames[i185]).toBe(185);
    const seq = g.sequences.get('DJI_0839_5meter_305_MP4')!;
    expect(seq).toHaveLength(121);
    expect(seq[0]!.frame).toBe(0);
    expect(seq[120]!.frame).toBe(185);
    expect(seq.every((f, k) => k === 0 || f.frame > seq[k - 1]!.frame)).toBe(true);
    expect(seq.every((f) => g.frames[f.item] === f.frame)).toBe(true);
    expect(g.level).toBe('clip');
    expect(g.description).toContain('clip `DJI_0839_5meter_305_MP4` frame `0');
    expect(g.description).toContain('Roboflow suffix');
    expect(g.description).toContain('1 ordered sequence (one per video clip) from 121 images');
    // every coarser name level is the same one group: only the clip is left to offer
    expect(g.levels.map((l) => l.id)).toEqual(['clip']);
  });

  it('recognises the CVAT urban-traffic video task (frame_000000.png …) as one 463-frame sequence', () => {
    const items = cocoItems(URBAN);
    const g = computeGroups(items, 'auto');
    expect(g.strategy).toBe('video-frame');
    expect(g.groups).toBe(1);
    const seq = [...g.sequences.values()][0]!;
    expect(seq.map((f) => f.frame)).toEqual(Array.from({ length: 463 }, (_x, i) => i));
    expect(g.description).toContain('frame `000000`');
  });
});

describe('auto grouping rules', () => {
  it('reads frame numbers from the usual frame-name patterns', () => {
    const cases: [string[], string[], number[]][] = [
      [['cam1/frame_000001.jpg', 'cam1/frame_000002.jpg', 'cam2/frame_000001.jpg', 'cam2/frame_000007.jpg'], ['cam1/frame', 'cam1/frame', 'cam2/frame', 'cam2/frame'], [1, 2, 1, 7]],
      [['clipA_MP4-0185.jpg', 'clipA_MP4-0186.jpg', 'clipB.mov_000003.png', 'clipB.mov_000004.png'], ['clipA_MP4', 'clipA_MP4', 'clipB.mov', 'clipB.mov'], [185, 186, 3, 4]],
      [['video1_00042.jpg', 'video1_00043.jpg', 'video2_00001.jpg', 'video2_00002.jpg'], ['video1', 'video1', 'video2', 'video2'], [42, 43, 1, 2]],
      [['MOT17-02/img1/000001.jpg', 'MOT17-02/img1/000002.jpg', 'MOT17-04/img1/000001.jpg', 'MOT17-04/img1/000003.jpg'], ['MOT17-02/img1', 'MOT17-02/img1', 'MOT17-04/img1', 'MOT17-04/img1'], [1, 2, 1, 3]],
    ];
    for (const [list, keys, frames] of cases) {
      const g = computeGroups(names(list), 'auto');
      expect(g.strategy, list[0]).toBe('video-frame');
      expect(g.keys).toEqual(keys);
      expect(g.frames).toEqual(frames);
      expect(g.sequences.size).toBe(2);
    }
  });

  it('keeps a video whole even when its frames are Roboflow copies: no level finer than the clip', () => {
    const g = computeGroups(names(['video1_00042_jpg.rf.aa11.jpg', 'video1_00043_jpg.rf.bb22.jpg', 'video1_00044_jpg.rf.cc33.jpg']), 'auto');
    expect(g.strategy).toBe('video-frame');
    expect(g.keys).toEqual(['video1', 'video1', 'video1']);
    expect(g.levels.some((l) => l.id === 'source')).toBe(false);
  });

  it('groups by a numeric prefix field, a CVAT task or a folder when those split well', () => {
    const prefixed = names(Array.from({ length: 36 }, (_x, i) => `${String(12 + Math.floor(i / 3)).padStart(4, '0')}_${'abc'[i % 3]}.jpg`));
    const p = computeGroups(prefixed, 'auto');
    expect(p).toMatchObject({ strategy: 'name-field', level: 'field:1', groups: 12 });
    expect(p.keys.slice(0, 4)).toEqual(['0012', '0012', '0012', '0013']);
    const tasks: GroupItem[] = Array.from({ length: 36 }, (_x, i) => ({ name: `p${i}.jpg`, groupHint: `task ${Math.floor(i / 3)}`, classes: [] }));
    expect(computeGroups(tasks, 'auto')).toMatchObject({ strategy: 'cvat-task', level: 'task', groups: 12 });
    const sites = names(Array.from({ length: 36 }, (_x, i) => `site${Math.floor(i / 3)}/${'xyz'[i % 3]}.jpg`));
    expect(computeGroups(sites, 'auto')).toMatchObject({ strategy: 'folder', level: 'folder', groups: 12 });
    // too few of them to split by: the finer level, and the verdict says why
    const few = computeGroups(names(['siteA/x.jpg', 'siteA/y.jpg', 'siteB/z.jpg']), 'auto');
    expect(few.level).toBe('source');
    expect(few.levels.find((l) => l.id === 'folder')!.verdict).toMatch(/whole groups cannot meet the ratios/);
  });

  it('takes declared sequences first and combines rules when each claims part of the data', () => {
    const items: GroupItem[] = [
      { name: 'task/0.jpg', sequence: { id: 'video 7', frame: 0 }, classes: [] },
      { name: 'task/1.jpg', sequence: { id: 'video 7', frame: 1 }, classes: [] },
      { name: 'cell-1_png.rf.a1.jpg', classes: [] },
      { name: 'cell-1_png.rf.b2.jpg', classes: [] },
      { name: 'lonely.jpg', classes: [] },
    ];
    const g = computeGroups(items, 'auto');
    expect(g.strategy).toBe('sequence+roboflow-augment');
    expect(g.keys).toEqual(['video 7', 'video 7', 'cell-1', 'cell-1', 'lonely.jpg']);
    expect(g.frames).toEqual([0, 1, undefined, undefined, undefined]);
    expect(g.description).toContain('2 groups from 3 of 5 images');
    expect(g.examples.map((e) => e.group).slice(0, 2)).toEqual(['video 7', 'cell-1']);
  });

  it('does not mistake camera photo numbers, sparse COCO ids or split folders for groups', () => {
    const camera = computeGroups(names(Array.from({ length: 30 }, (_x, i) => `IMG_${String(1000 + i)}.JPG`)), 'auto');
    expect(camera.strategy).toBe('none');
    expect(camera.groups).toBe(30);
    expect(camera.description).toContain('each image is its own group');
    const coco = computeGroups(names(['coco/000000000036.jpg', 'coco/000000000042.jpg', 'coco/000000581929.jpg']), 'auto');
    expect(coco.strategy).not.toBe('video-frame');
    const splitFolders = computeGroups(names(['images/train/a.jpg', 'images/train/b.jpg', 'images/val/c.jpg']), 'auto');
    expect(splitFolders.strategy).toBe('none');
    expect(parseName('images/train/site 3/x_jpg.rf.0f.jpg')).toEqual({ dir: 'site 3', base: 'x_jpg.rf.0f', stem: 'x', roboflow: true });
  });
});

/** A seeded hex id of 6 characters; `digits` forces an all-digit one (hex ids that happen to have no letter). */
function hexId(k: number, digits = false): string {
  const h = ((k + 1) * 2654435761) >>> 0;
  return digits ? String(100000 + (h % 900000)) : h.toString(16).padStart(8, '0').slice(-6);
}

describe('the capture structure inferred from names of real export conventions', () => {
  it('15 match videos × clips × frames with 6-hex video ids (some all digits): one group per video, no video split', () => {
    const list: string[] = [];
    let clips = 0;
    for (let v = 0; v < 15; v++) {
      const id = hexId(v, v % 4 === 0);
      for (let c = 1; c <= 3 + (v % 3); c++, clips++) {
        for (let f = 0; f < 6; f++) list.push(`${id}_${c}_${String(f * 5).padStart(4, '0')}_png.rf.${hexId(v * 100 + c * 10 + f)}.jpg`);
      }
    }
    const g = computeGroups(names(list), 'auto');
    expect(g.level).toBe('field:1');
    expect(g.groups).toBe(15);
    list.forEach((n, i) => expect(g.keys[i]).toBe(n.slice(0, 6)));
    const clip = g.levels.find((l) => l.id === 'clip')!;
    expect(clip).toMatchObject({ groups: clips, ordered: true, chosen: false });
    expect(g.levels.find((l) => l.id === 'field:1')!.verdict).toMatch(/15 groups meet the ratios/);
  });

  it('frame fields with `t`, `f` and `frame` tags, and clip names Roboflow reduced to punctuation', () => {
    expect(nameFields('clipA_t00030')).toMatchObject({ prefix: 'clipA', frame: 30, tag: 't', frameText: 't00030' });
    expect(nameFields('clipB-f0012')).toMatchObject({ prefix: 'clipB', frame: 12, tag: 'f' });
    expect(nameFields('frame0005')).toMatchObject({ prefix: '', frame: 5, tag: 'frame' });
    expect(nameFields('-_-_t00030')).toMatchObject({ prefix: '-_-', frame: 30, tag: 't' });
    expect(nameFields('0001_c1s1_000151_01')).toMatchObject({ prefix: '0001_c1s1_000151', frame: 1, wordEnds: [4, 9, 16] });
    const clips = ['---', '-_-', '__-'];
    const list = clips.flatMap((c, k) => Array.from({ length: 13 + k }, (_x, f) => `${c}_t${String(30 * f).padStart(5, '0')}_jpg.rf.${hexId(k * 50 + f)}.jpg`));
    const g = computeGroups(names(list), 'auto');
    expect(g.level).toBe('clip');
    expect(g.strategy).toBe('video-frame');
    expect(g.groups).toBe(3);
    expect([...g.sequences.keys()].sort()).toEqual([...clips].sort());
    expect(g.sequences.get('-_-')!.map((s) => s.frame)).toEqual(Array.from({ length: 14 }, (_x, f) => 30 * f));
  });

  it('Market-1501 names (person, camera + sequence, frame, box): one group per person', () => {
    const list: string[] = [];
    for (let p = 1; p <= 16; p++) for (const cam of ['c1s1', 'c3s2']) list.push(`${String(p * 7).padStart(4, '0')}_${cam}_${String(1000 + p * 31).padStart(6, '0')}_0${1 + (p % 2)}.jpg`);
    const g = computeGroups(names(list), 'auto');
    expect(g.level).toBe('field:1');
    expect(g.groups).toBe(16);
    expect(g.keys[0]).toBe('0007');
    // each person-camera pair has one image here: the finer fields add nothing to the source level
    expect(g.levels.map((l) => l.id)).toEqual(['field:1', 'source']);
  });

  it('the pixels decide whether numbered names are frames: real drone frames yes, real blood-cell slides no', async () => {
    const droneDir = path.join(DRONE, 'train');
    const drone = cocoItems(path.join(droneDir, '_annotations.coco.json'))
      .map((it) => ({ it, f: Number(/MP4-(\d+)/.exec(it.name)![1]) }))
      .sort((a, b) => a.f - b.f)
      .slice(0, 40);
    const droneHashes = await Promise.all(drone.map(({ it }) => imageHash(path.join(droneDir, it.name))));
    // renamed as a camera's photo counter: by name alone a camera dump, by its pixels a video
    const asPhotos = drone.map(({ f }) => ({ name: `IMG_${String(1000 + f)}.JPG`, classes: [] }));
    expect(computeGroups(asPhotos, 'auto').level).toBe('source');
    const seen = computeGroups(asPhotos, 'auto', { hashes: droneHashes });
    expect(seen.level).toBe('clip');
    expect(seen.groups).toBe(1);
    expect(seen.description).toContain('confirmed by the pixels');

    const cellDir = path.join(RBC, 'test');
    const cells = cocoItems(path.join(cellDir, '_annotations.coco.json'));
    const cellHashes = await Promise.all(cells.map((it) => imageHash(path.join(cellDir, it.name))));
    // different slides numbered like frames: the name says video, the pixels say no
    const numbered = cells.map((_it, k) => ({ name: `slide_${String(k).padStart(5, '0')}.jpg`, classes: [] }));
    expect(computeGroups(numbered, 'auto').level).toBe('clip');
    const looked = computeGroups(numbered, 'auto', { hashes: cellHashes });
    expect(looked.level).toBe('source');
    expect(looked.description).toMatch(/neighbouring numbers do not look alike/);
  });

  it('a level chosen by the user is used, and an unknown one is refused naming the levels', () => {
    const list = names(Array.from({ length: 36 }, (_x, i) => `${String(12 + Math.floor(i / 3)).padStart(4, '0')}_${'abc'[i % 3]}.jpg`));
    const g = computeGroups(list, 'auto', { level: 'source' });
    expect(g.level).toBe('source');
    expect(g.groups).toBe(36);
    expect(g.levels.find((l) => l.id === 'source')!.verdict).toBe('chosen by you');
    expect(() => computeGroups(list, 'auto', { level: 'field:3' })).toThrow(/not a level of these names; the levels are: field:1, source/);
  });
});

describe('regex and none modes', () => {
  it('groups by the named `group` and orders by `frame`, counting names that do not match', () => {
    const items = folders(DRONE);
    items.push({ name: 'extra/other.jpg', classes: [] });
    const g = computeGroups(items, '^(?<group>.+_MP4)-(?<frame>\\d+)_');
    expect(g.strategy).toBe('regex');
    expect(g.groups).toBe(2);
    expect(g.sequences.get('DJI_0839_5meter_305_MP4')).toHaveLength(121);
    expect(g.keys[121]).toBe('extra/other.jpg');
    expect(g.frames[121]).toBeUndefined();
    expect(g.description).toContain('1 image did not match');
  });

  it('regex without frame group gives plain groups', () => {
    const g = computeGroups(folders(RBC), '^(?<group>image-\\d+)_');
    expect(g.groups).toBe(100);
    expect(g.sequences.size).toBe(0);
  });

  it('rejects an invalid regex or one without (?<group>...) with a clear message', () => {
    expect(() => computeGroups(names(['a.jpg']), '^(?<group>[a-z')).toThrow(/not a valid regular expression/);
    expect(() => computeGroups(names(['a.jpg']), '^([a-z]+)_')).toThrow(/no named group.*\(\?<group>/);
  });

  it('none: every image alone, and the description warns about leaks', () => {
    const g = computeGroups(folders(RBC), 'none');
    expect(g.strategy).toBe('none');
    expect(g.groups).toBe(240);
    expect(g.description).toMatch(/leak/);
  });
});

describe('structure from the pixels (pixels.ts)', () => {
  it('links real drone frames whose names say nothing, by near-duplicates and mutual nearest neighbours within a learned threshold', async () => {
    const dir = path.join(DRONE, 'train');
    const items = cocoItems(path.join(dir, '_annotations.coco.json'));
    const hashes = await Promise.all(items.map((it) => imageHash(path.join(dir, it.name))));
    const { d, nn } = nearestNeighbours(hashes, MAX_LEARNED_THRESHOLD);
    // ties kept and symmetric distances
    for (let i = 0; i < d.length; i++) for (const j of nn[i]!) expect(d[j]).toBeLessThanOrEqual(d[i]!);
    const t = learnedThreshold(d, MAX_LEARNED_THRESHOLD);
    expect(t).toBeGreaterThanOrEqual(2);
    const links = pixelLinks(hashes, 2);
    expect(links.learned).toBe(t);
    expect(links.mutual).toBeGreaterThan(0);
    for (const [i, j, dist] of links.pairs.slice(links.pairs.length - links.mutual)) {
      expect(nn[i]).toContain(j);
      expect(nn[j]).toContain(i);
      expect(dist).toBeLessThanOrEqual(t!);
    }
    // names turned into hashes: the pixels alone join the frames of the one video into runs of look-alikes (fewer than
    // half as many groups as frames), and the mutual links do not chain them all into one
    const none = computeGroups(items.map((it, k) => ({ ...it, name: `${(k * 2654435761 >>> 0).toString(16)}.jpg` })), 'auto');
    expect(none.groups).toBe(items.length);
    const groups = new Set(mergeNearDuplicates(none.keys, links.pairs).keys).size;
    expect(groups).toBeLessThan(items.length / 2);
    expect(groups).toBeGreaterThan(1);
  });

  it('finds no near group where the nearest neighbours are all far (different blood-cell slides, copies removed)', async () => {
    const dir = path.join(RBC, 'test');
    const items = cocoItems(path.join(dir, '_annotations.coco.json'));
    const hashes = await Promise.all(items.map((it) => imageHash(path.join(dir, it.name))));
    const { d } = nearestNeighbours(hashes, MAX_LEARNED_THRESHOLD);
    expect(learnedThreshold(d, MAX_LEARNED_THRESHOLD)).toBeUndefined();
    expect(pixelLinks(hashes, 4)).toEqual({ pairs: [], mutual: 0 });
  });
});

describe('mergeNearDuplicates', () => {
  it('unions groups through chains of pairs and counts real merges', () => {
    const r = mergeNearDuplicates(['a', 'b', 'c', 'd', 'b'], [
      [1, 2, 3],
      [0, 4, 1],
      [1, 4, 0], // same group already: not a merge
    ]);
    expect(r.keys).toEqual(['a', 'a', 'a', 'd', 'a']);
    expect(r.merges).toBe(2);
    expect(() => mergeNearDuplicates(['a'], [[0, 3, 1]])).toThrow(/out of range/);
  });

  it('merges near-identical augmented blood-cell copies found by the real perceptual hash', async () => {
    const dir = path.join(RBC, 'train');
    const items = cocoItems(path.join(dir, '_annotations.coco.json'));
    const hashes = await Promise.all(items.map((it) => imageHash(path.join(dir, it.name))));
    const pairs = nearDuplicatePairs(hashes, 8);
    expect(pairs.length).toBeGreaterThan(0);
    const none = computeGroups(items, 'none');
    const merged = mergeNearDuplicates(none.keys, pairs);
    expect(merged.merges).toBeGreaterThan(0);
    expect(new Set(merged.keys).size).toBe(210 - merged.merges);
    for (const [i, j] of pairs) expect(merged.keys[i]).toBe(merged.keys[j]);
    // With the source grouping, the pairs within one triplet change nothing.
    const auto = computeGroups(items, 'auto');
    const within = pairs.filter(([i, j]) => auto.keys[i] === auto.keys[j]);
    expect(mergeNearDuplicates(auto.keys, within).merges).toBe(0);
  });
});
