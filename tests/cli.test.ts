/**
 * The CLI as scripts use it: real processes, real files, exit codes and JSON on stdout.
 * Runs the built bundle (npm test builds first).
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { execa } from 'execa';
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, rbc } from './helpers/shared.js';
import { tempDir } from './helpers/core.js';

const bin = path.join(REPO_ROOT, 'bin/spotter.mjs');
let dataDir: string;

beforeAll(async () => {
  if (!existsSync(path.join(REPO_ROOT, 'dist/cli/index.js'))) throw new Error('dist/cli is missing: run `npm run build` first');
  dataDir = await tempDir('spotter-cli-data-');
});

const spotter = (...args: string[]) => execa(process.execPath, [bin, '--data-dir', dataDir, ...args], { reject: false });

describe('spotter import', () => {
  it('imports with --json: counts per split, groups, mapping, health', async () => {
    const work = await tempDir();
    const out = path.join(work, 'rbc');
    const r = await spotter('import', path.join(REPO_ROOT, 'resources/sample/rbc-roboflow-coco.zip'), '--out', out, '--split', '0.7,0.2,0.1', '--seed', '3', '--json');
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.dir).toBe(out);
    expect(j.names).toEqual(['rbc', 'wbc']);
    expect(j.mapping.dropped[0].name).toBe('RBC-WBC');
    // augmented copies of val/test sources are left out: val and test keep one image per source
    expect(j.splits.train.images + j.splits.val.images + j.splits.test.images).toBe(240 - j.grouping.dropped_augmented);
    expect(j.grouping.dropped_augmented % 2).toBe(0);
    expect(j.leak_audit.held_out_with_twin).toBe(0);
    // ratios given on the command line re-split; without them the export's clean split is kept, and the output says so
    expect(j.grouping.split_summary).toMatch(/^Split 100 groups by ratio 0\.7\/0\.2\/0\.1/);
    const kept = await spotter('import', path.join(REPO_ROOT, 'resources/sample/rbc-roboflow-coco.zip'), '--out', path.join(work, 'kept'));
    expect(kept.exitCode).toBe(0);
    expect(kept.stdout).toMatch(/^split: The export's own split is clean by the audit .*: kept as it is \(re-split by ratio with --resplit\)\.$/m);
    expect(kept.stdout).toMatch(/^ {2}val {3}20 images/m);
    expect(j.leak_audit.group_crossings).toBe(0);
    expect(typeof j.health.ok).toBe('boolean');
    expect(existsSync(path.join(out, 'data.yaml'))).toBe(true);
  });

  it('exit 1 with one line naming the file for a truncated JSON, nothing written', async () => {
    const work = await tempDir();
    const bad = path.join(work, 'my annotations.json');
    await fs.writeFile(bad, '{"images": [{"id": 1, "file_name": "a.jpg"');
    const r = await spotter('import', bad, '--out', path.join(work, 'out'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('my annotations.json');
    expect(existsSync(path.join(work, 'out'))).toBe(false);
  });

  it('exit 2 for usage errors', async () => {
    expect((await spotter('import')).exitCode).toBe(2);
    expect((await spotter('import', 'x', '--out', '/tmp/x', '--split', 'a,b')).exitCode).toBe(2);
    expect((await spotter('import', 'x', '--out', '/tmp/x', '--task', 'pose')).exitCode).toBe(2);
    expect((await spotter('frobnicate')).exitCode).toBe(2);
  });

  it('a missing source is exit 1 naming it', async () => {
    const r = await spotter('import', '/nonexistent/export.zip', '--out', '/tmp/never-written');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('/nonexistent/export.zip');
  });
});

describe('spotter check', () => {
  it('exit 0 on a healthy dataset, 3 when it finds errors, JSON report', async () => {
    const work = await tempDir();
    const out = path.join(work, 'ds');
    const imp = await spotter('import', rbc(), '--out', out, '--json');
    expect(imp.exitCode).toBe(0);
    const ok = await spotter('check', out, '--json');
    const report = JSON.parse(ok.stdout);
    expect(ok.exitCode).toBe(report.ok ? 0 : 3);
    // damage it: a label with a class id beyond names
    const labels = path.join(out, 'labels', 'train');
    const first = (await fs.readdir(labels))[0]!;
    await fs.appendFile(path.join(labels, first), '7 0.5 0.5 0.1 0.1\n');
    const bad = await spotter('check', path.join(out, 'data.yaml'), '--json');
    expect(bad.exitCode).toBe(3);
    const rep = JSON.parse(bad.stdout);
    expect(rep.ok).toBe(false);
    const issue = rep.issues.find((i: { code: string }) => i.code === 'class-out-of-range');
    expect(issue).toBeTruthy();
    expect(JSON.stringify(issue)).toContain(first);
  });
});
