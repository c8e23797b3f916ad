/**
 * End to end through the built CLI: a real 1-epoch training of coco8 (the shared fixture), the run
 * folder it leaves, `env status --json`, `runs report`, `runs compare --json`, `export` failures.
 */
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { TrainerEvent } from '../electron/shared/trainer.js';
import { tempDir } from './helpers/core.js';
import { BIN, copyRun, fixtureRun, hasTrainer, trainerEnv } from './trainer-fixture.js';

const spotter = (dataDir: string, ...args: string[]) => execa(process.execPath, [BIN, ...args], { reject: false, env: trainerEnv(dataDir) });

describe.skipIf(!hasTrainer)('spotter train (real training, CPU)', () => {
  it('exits 0 with NDJSON events and a final object holding run_dir', async () => {
    const run = await fixtureRun();
    expect(run.exitCode, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    const final = JSON.parse(lines.pop()!);
    expect(final.run_dir).toBe(run.runDir);
    expect(final.status).toBe('done');
    expect(final.epochs_completed).toBe(1);
    expect(final.error).toBeNull();
    const events = lines.map((l) => TrainerEvent.parse(JSON.parse(l)));
    expect(events[0]!.type).toBe('hello');
    expect(events.at(-1)!.type).toBe('done');
    expect(path.dirname(run.runDir)).toBe(path.join(run.workspace, 'runs'));
    expect(path.basename(run.runDir)).toMatch(/^\d{8}-\d{6}_fixture$/);
  });

  it('trains with networking disabled (unshare -rn): nothing is downloaded', async (t) => {
    const run = await fixtureRun();
    if (!run.offline) t.skip();
    expect(run.exitCode, run.stderr).toBe(0);
    const log = await fs.readFile(path.join(run.runDir, 'train.log'), 'utf8');
    expect(log).not.toMatch(/Downloading https?:|Arial\.ttf/);
  });

  it('leaves every file of a run folder', async () => {
    const { runDir } = await fixtureRun();
    for (const f of ['preflight.json', 'command.sh', 'spotter-run.json', 'train.log', 'events.ndjson', 'summary.md', 'args.yaml', 'results.csv', 'weights/best.pt', 'weights/last.pt']) {
      expect(existsSync(path.join(runDir, f)), f).toBe(true);
    }
    expect(statSync(path.join(runDir, 'command.sh')).mode & 0o111).not.toBe(0);
    const cmd = await fs.readFile(path.join(runDir, 'command.sh'), 'utf8');
    expect(cmd).toMatch(/^yolo detect train data=\S+data\.yaml model=yolov8n\.yaml epochs=1 imgsz=64 batch=8 device=cpu workers=0 project=\S+ name=\S+_fixture exist_ok=True$/m);
    const pre = JSON.parse(await fs.readFile(path.join(runDir, 'preflight.json'), 'utf8'));
    expect(pre.health.ok).toBe(true);
    expect(pre.env.ultralytics).toMatch(/^\d+\.\d+/);
    const rec = JSON.parse(await fs.readFile(path.join(runDir, 'spotter-run.json'), 'utf8'));
    expect(rec).toMatchObject({ status: 'done', label: 'fixture', note: 'shared test fixture', model: 'yolov8n.yaml', epochs_completed: 1, test_evaluated: false });
    expect(rec.dataset.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(rec.per_class.length).toBeGreaterThan(0);
    expect(await fs.readFile(path.join(runDir, 'train.log'), 'utf8')).toMatch(/Ultralytics/);
  });

  it('env status --json names the interpreter and the validated report', async () => {
    const dataDir = await tempDir();
    const r = await spotter(dataDir, 'env', 'status', '--json');
    const j = JSON.parse(r.stdout);
    expect(j.ready).toBe(true);
    expect(r.exitCode).toBe(0);
    expect(j.python).toBe(trainerEnv(dataDir).SPOTTER_TRAINER_PYTHON);
    expect(j.env.torch).toMatch(/^2\./);
    expect(j.env.protocol).toBe(1);
    expect(['nvidia', 'apple', 'cpu']).toContain(j.hardware.kind);
  });

  it('runs report and runs compare on the workspace', async () => {
    const run = await fixtureRun();
    const ws = await tempDir();
    const a = await copyRun(run, ws, '20250101-000000_base');
    const b = await copyRun(run, ws, '20250102-000000_next');
    const rec = JSON.parse(await fs.readFile(path.join(b, 'spotter-run.json'), 'utf8'));
    rec.metrics = { ...rec.metrics, mAP50_95: rec.metrics.mAP50_95 - 0.05 };
    await fs.writeFile(path.join(b, 'spotter-run.json'), JSON.stringify(rec));

    const rep = await spotter(run.dataDir, 'runs', 'report', '--workspace', ws);
    expect(rep.exitCode, rep.stderr).toBe(0);
    expect(rep.stdout.trim()).toBe(path.join(ws, 'runs', 'REPORT.md'));
    const md = await fs.readFile(rep.stdout.trim(), 'utf8');
    expect(md.split('\n').filter((l) => l.startsWith('| 20'))).toHaveLength(2);

    const cmp = await spotter(run.dataDir, 'runs', 'compare', a, b, '--json');
    expect(cmp.exitCode, cmp.stderr).toBe(0);
    const c = JSON.parse(cmp.stdout);
    expect(c.baseline.dir).toBe(a);
    expect(c.runs[0].verdict).toBe('degraded');
    expect(c.runs[0].metrics.mAP50_95.delta).toBeCloseTo(-0.05, 6);

    const text = await spotter(run.dataDir, 'runs', 'compare', a, b);
    expect(text.stdout).toMatch(/DEGRADED/);
    expect(text.stdout).toMatch(/mAP50_95 .*↓ -0\.050/);
  });

  it('export prints the exported file, or fails naming what the environment lacks', async () => {
    const run = await fixtureRun();
    const onnx = JSON.parse(await fs.readFile(path.join(run.runDir, 'preflight.json'), 'utf8')).env.onnx;
    const r = await spotter(run.dataDir, 'export', run.runDir, '--format', 'onnx', '--imgsz', '64');
    if (onnx) {
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(path.join(run.runDir, 'weights', 'best.onnx'));
      expect(existsSync(r.stdout.trim())).toBe(true);
    } else {
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^spotter: .*onnx.*not installed in the trainer environment/);
    }
  });

  it('usage errors exit 2; a folder that is not a run exits 1 naming it', async () => {
    const dataDir = await tempDir();
    expect((await spotter(dataDir, 'train')).exitCode).toBe(2);
    expect((await spotter(dataDir, 'train', '/x', '--resume', '/y')).exitCode).toBe(2);
    const r = await spotter(dataDir, 'train', '--resume', dataDir);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(dataDir);
    const e = await spotter(dataDir, 'export', dataDir);
    expect(e.exitCode).toBe(1);
    expect(e.stderr).toMatch(/no weights\/best\.pt/);
  });
});
