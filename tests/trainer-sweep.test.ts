/**
 * Sweeps, the timed estimate and the shared shell quoting: a real sweep of 2 one-epoch runs on rbc8
 * through `spotter sweep … --json` (the record, both run folders and their metrics, results.md), a
 * real short timing for the estimate (cached the second time), and the quoting that command.sh and the
 * wizard's preview share, checked by a real shell.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { TrainRequest } from '../electron/shared/contract.js';
import { shellQuote, yoloCommandLine } from '../electron/shared/shell.js';
import { timingKey, timingsFile, timingSource } from '../electron/core/trainer/bench.js';
import { requireReadyEnv } from '../electron/core/trainer/env.js';
import { estimateRun } from '../electron/core/trainer/reports.js';
import { listRuns, yoloCommand } from '../electron/core/trainer/runs.js';
import { expandGrid, listSweeps, parseGridValue, planSweep } from '../electron/core/trainer/sweep.js';
import { tempDir, testContext } from './helpers/core.js';
import { REPO_ROOT } from './helpers/shared.js';
import { BIN, hasTrainer, trainDatasetCopy, TRAINER_PYTHON, trainerEnv } from './trainer-fixture.js';

/** What `sh` makes of a command line: one argument per line. */
async function shellWords(line: string): Promise<string[]> {
  const r = await execa('sh', ['-c', `args() { for a in "$@"; do printf '%s\\n' "$a"; done; }; args ${line}`]);
  return r.stdout.split('\n');
}

describe('shell quoting (command.sh and the wizard preview)', () => {
  it('the shell reads back exactly the words: spaces, quotes, Cyrillic, $, backticks', async () => {
    const words = ['plain', 'with space', "it's", 'say "hi"', 'данные/набор 1', '$HOME', '$(touch x)', '`id`', 'a\\b', '', 'k=v w'];
    const line = words.map(shellQuote).join(' ');
    expect(await shellWords(line)).toEqual(words);
    expect(shellQuote('/data/rbc8/data.yaml')).toBe('/data/rbc8/data.yaml'); // safe words stay readable
    expect(shellQuote('данные')).toBe("'данные'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it('yoloCommandLine quotes each k=v as one word and spells values as the yolo CLI does', async () => {
    const cmd = yoloCommandLine('detect', 'train', [
      ['data', '/tmp/мои данные/data.yaml'],
      ['cos_lr', true],
      ['cache', false],
      ['name', "run's $x"],
      ['lr0', 0.01],
    ]);
    expect(cmd.startsWith('yolo detect train ')).toBe(true);
    const r = await execa('sh', ['-c', `yolo() { for a in "$@"; do printf '%s\\n' "$a"; done; }; ${cmd}`]);
    expect(r.stdout.split('\n')).toEqual(['detect', 'train', 'data=/tmp/мои данные/data.yaml', 'cos_lr=True', 'cache=False', "name=run's $x", 'lr0=0.01']);
  });

  it("command.sh's yolo command is built by it (the wizard preview, renderer/src/state/train.ts yoloCommandOf, too)", () => {
    const data = "/tmp/мои данные/it's $HOME/data.yaml";
    const cmd = yoloCommand('detect', { data, model: 'yolov8n.yaml', run_dir: '/w/runs/x', epochs: 2, imgsz: 64, batch: 8, device: 'cpu', workers: 0, extra: { mosaic: 0.2 } });
    expect(cmd).toBe(
      yoloCommandLine('detect', 'train', [
        ['data', data], ['model', 'yolov8n.yaml'], ['epochs', 2], ['imgsz', 64], ['batch', 8], ['device', 'cpu'], ['workers', 0],
        ['project', '/w/runs'], ['name', 'x'], ['exist_ok', true], ['mosaic', 0.2],
      ]),
    );
  });
});

describe('sweep planning', () => {
  it('expands the grid (first argument slowest), types values, names runs, refuses bad grids', () => {
    expect(expandGrid({ lr0: [0.01, 0.001], imgsz: [320, 416] })).toEqual([
      { lr0: 0.01, imgsz: 320 },
      { lr0: 0.01, imgsz: 416 },
      { lr0: 0.001, imgsz: 320 },
      { lr0: 0.001, imgsz: 416 },
    ]);
    expect([parseGridValue('0.01'), parseGridValue('true'), parseGridValue('AdamW'), parseGridValue('1e-3')]).toEqual([0.01, true, 'AdamW', 0.001]);
    const plan = planSweep({ request: { dataset: '/d', epochs: 3 }, grid: { lr0: [0.01], mosaic: [0, 1] }, label: 'lr' });
    expect(plan.runs.map((r) => r.label)).toEqual(['lr-lr0=0.01-mosaic=0', 'lr-lr0=0.01-mosaic=1']);
    expect(plan.runs[1]!.request).toMatchObject({ lr0: 0.01, epochs: 3, extra: { mosaic: 1 } });
    expect(() => planSweep({ request: { dataset: '/d' }, grid: { imgsz: [320, 41.5] } })).toThrow(/imgsz=41\.5/);
    expect(() => planSweep({ request: { dataset: '/d' }, grid: { data: ['a'] } })).toThrow(/"data" cannot be swept/);
    expect(() => planSweep({ request: { dataset: '/d' }, grid: { a: [1, 2, 3, 4, 5], b: [1, 2, 3, 4, 5] } })).toThrow(/25 runs/);
  });
});

describe.skipIf(!hasTrainer)('a real sweep through the CLI', () => {
  it('spotter sweep: 2 runs one after the other, the record, both run folders, results.md', async () => {
    const base = await tempDir();
    const dataset = await trainDatasetCopy(base);
    const workspace = path.join(base, 'ws');
    const dataDir = path.join(base, 'data');
    const r = await execa(
      process.execPath,
      [BIN, 'sweep', dataset, '--grid', 'imgsz=32,64', '--epochs', '1', '--device', 'cpu', '--workers', '0', '--workspace', workspace, '--label', 'tiny', '--json'],
      { reject: false, env: trainerEnv(dataDir), timeout: 300_000 },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.status).toBe('done');
    expect(out.grid).toEqual({ imgsz: [32, 64] });
    expect(out.runs.map((x: { params: unknown }) => x.params)).toEqual([{ imgsz: 32 }, { imgsz: 64 }]);
    expect(path.dirname(out.file)).toBe(path.join(workspace, 'runs', '_sweeps'));
    expect(path.basename(out.file)).toMatch(/^\d{8}-\d{6}_tiny\.json$/);

    // the record on disk: every run with its folder, status, metrics and duration; the best named
    const rec = JSON.parse(await fs.readFile(out.file, 'utf8'));
    expect(rec.status).toBe('done');
    expect(rec.pid).toBeNull();
    expect(rec.runs).toHaveLength(2);
    for (const [i, run] of rec.runs.entries()) {
      expect(run.status).toBe('done');
      expect(run.label).toBe(`tiny-imgsz=${[32, 64][i]}`);
      expect(run.metrics).toEqual({ precision: expect.any(Number), recall: expect.any(Number), mAP50: expect.any(Number), mAP50_95: expect.any(Number) });
      expect(run.duration_seconds).toBeGreaterThan(0);
      const dir = path.join(workspace, 'runs', run.run);
      expect(out.runs[i].dir).toBe(dir);
      // an ordinary run folder that names its sweep, trained at the grid's imgsz
      const runRec = JSON.parse(await fs.readFile(path.join(dir, 'spotter-run.json'), 'utf8'));
      expect(runRec.sweep).toBe(out.id);
      expect(runRec.status).toBe('done');
      expect(runRec.settings.imgsz).toBe([32, 64][i]);
      expect(runRec.label).toBe(run.label);
      expect(existsSync(path.join(dir, 'weights', 'best.pt'))).toBe(true);
      expect(await fs.readFile(path.join(dir, 'command.sh'), 'utf8')).toContain(`imgsz=${[32, 64][i]}`);
    }
    // one after the other: the second started once the first had ended
    const recs = await Promise.all(rec.runs.map((x: { run: string }) => fs.readFile(path.join(workspace, 'runs', x.run, 'spotter-run.json'), 'utf8').then(JSON.parse)));
    expect(Date.parse(recs[1].created_at)).toBeGreaterThanOrEqual(Date.parse(recs[0].ended_at));
    const best = rec.runs.reduce((a: { metrics: { mAP50_95: number } }, b: { metrics: { mAP50_95: number } }) => (b.metrics.mAP50_95 > a.metrics.mAP50_95 ? b : a));
    expect(rec.best).toBe(best.run);
    expect(out.best).toBe(path.join(workspace, 'runs', rec.best));

    // results.md beside the record: params columns, metrics, duration, the best marked
    const md = await fs.readFile(out.results, 'utf8');
    expect(path.dirname(out.results)).toBe(path.dirname(out.file));
    expect(md).toContain('| | imgsz | status | P | R | mAP50 | mAP50-95 | duration | run |');
    const rows = md.split('\n').filter((l) => /^\| (★)? \| \d+ \|/.test(l));
    expect(rows).toHaveLength(2);
    expect(rows.filter((l) => l.startsWith('| ★ |'))).toEqual([expect.stringContaining(`\`${rec.best}\``)]);
    for (const l of rows) expect(l).toMatch(/\| done \| \d\.\d{3} \| \d\.\d{3} \| \d\.\d{3} \| \d\.\d{3} \| \d+ s \|/);

    // the run list ignores _sweeps and lists both runs with their sweep; the sweep list reads it back
    const runs = await listRuns(workspace);
    expect(runs.map((x) => x.sweep)).toEqual([out.id, out.id]);
    const sweeps = await listSweeps(workspace);
    expect(sweeps).toHaveLength(1);
    expect(sweeps[0]).toMatchObject({ id: out.id, status: 'done', best: out.best });
  }, 300_000);

  it('a usage error names the grid argument and writes nothing', async () => {
    const base = await tempDir();
    const workspace = path.join(base, 'ws');
    const r = await execa(process.execPath, [BIN, 'sweep', path.join(REPO_ROOT, 'nowhere'), '--grid', 'imgsz=32,abc', '--workspace', workspace], { reject: false, env: trainerEnv(path.join(base, 'data')) });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/imgsz=abc/);
    expect(existsSync(workspace)).toBe(false);
  });
});

describe.skipIf(!hasTrainer)('the estimate from a short timing on this machine', () => {
  it('times a few real batches when no earlier run compares, then answers from the cache', async () => {
    const ctx = await testContext();
    const prev = process.env.SPOTTER_TRAINER_PYTHON;
    process.env.SPOTTER_TRAINER_PYTHON = TRAINER_PYTHON;
    try {
      const { python, env } = await requireReadyEnv(ctx);
      const ws = await tempDir();
      const dataset = await trainDatasetCopy(await tempDir());
      const req = TrainRequest.parse({ dataset, epochs: 5, imgsz: 64, device: 'cpu', workers: 0 });
      const timing = timingSource(ctx, python, env);
      const first = await estimateRun(ws, req, env, { timing });
      expect(first.basis).toMatch(/^timed \d+ batches of 8 on this machine \(cpu, imgsz 64\): \d+\.\d{3} s\/img, plus validation of 4 image\(s\) per epoch; 4 training images × 5 epoch\(s\)$/);
      expect(first.seconds).toBeGreaterThan(0);
      expect(first.confirm).toMatch(/CPU only/); // confirmation for CPU-only runs stays
      // cached per (model, imgsz, batch, device, environment) in the data folder
      const cache = JSON.parse(await fs.readFile(timingsFile(ctx), 'utf8'));
      const key = timingKey(python, env, { model: 'yolov8n.yaml', imgsz: 64, batch: 8, device: 'cpu' });
      expect(cache.entries[key]).toMatchObject({ batch: 8, device: 'cpu', valImages: 4 });
      expect(cache.entries[key].secondsPerImage).toBeGreaterThan(0);

      const again = await estimateRun(ws, { ...req, epochs: 1000 }, env, { timing });
      expect(again.basis).toMatch(/^timed earlier \d+ batches/); // from the cache, no new timing
      // more epochs, same rate (200× the epochs: whole seconds are rounded, a 2× change of a sub-second estimate may not show)
      expect(again.seconds).toBeGreaterThan(first.seconds);
      // while something trains, no new timing is made: the rule of thumb says why
      const busy = await estimateRun(ws, { ...req, imgsz: 96 }, env, { timing: timingSource(ctx, python, env, { busy: 'a run is training now' }) });
      expect(busy.basis).toMatch(/rule of thumb.*\(not timed: a run is training now\)/);
    } finally {
      if (prev === undefined) delete process.env.SPOTTER_TRAINER_PYTHON;
      else process.env.SPOTTER_TRAINER_PYTHON = prev;
    }
  }, 180_000);
});
