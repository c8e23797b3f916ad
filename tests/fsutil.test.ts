import { describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import path from 'node:path';
import { sweepStaleTemp, isInside } from '../electron/core/fsutil.js';
import { tempDir } from './helpers/core.js';

describe('sweepStaleTemp', () => {
  it('removes old leftovers, keeps young ones, never follows symlinks', async () => {
    const root = await tempDir();
    const tmp = path.join(root, 'tmp');
    const victim = path.join(root, 'victim');
    await fs.mkdir(path.join(victim, 'old-precious'), { recursive: true });
    await fs.mkdir(path.join(tmp, 'uploads', 'old-batch'), { recursive: true });
    await fs.mkdir(path.join(tmp, 'extract-old'));
    await fs.mkdir(path.join(tmp, 'extract-young'));
    await fs.symlink(victim, path.join(tmp, 'extract-link'));
    const old = new Date(Date.now() - 3 * 24 * 3600_000);
    for (const p of [path.join(tmp, 'extract-old'), path.join(tmp, 'uploads', 'old-batch'), path.join(victim, 'old-precious')]) await fs.utimes(p, old, old);
    await sweepStaleTemp(tmp);
    expect((await fs.readdir(tmp)).sort()).toEqual(['extract-link', 'extract-young', 'uploads']);
    expect(await fs.readdir(path.join(tmp, 'uploads'))).toEqual([]);
    expect(await fs.readdir(victim)).toEqual(['old-precious']);
    // a temp folder that is itself a symlink is not swept at all
    const linked = path.join(root, 'linked-tmp');
    await fs.symlink(victim, linked);
    await sweepStaleTemp(linked);
    expect(await fs.readdir(victim)).toEqual(['old-precious']);
  });
});

describe('isInside', () => {
  it('tells children from siblings that share a prefix', () => {
    expect(isInside('/a/b', '/a/b/c.jpg')).toBe(true);
    expect(isInside('/a/b', '/a/b')).toBe(true);
    expect(isInside('/a/b', '/a/bc/d.jpg')).toBe(false);
    expect(isInside('/a/b', '/a/b/../c')).toBe(false);
  });
});
