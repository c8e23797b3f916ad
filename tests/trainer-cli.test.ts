/**
 * End to end through the built CLI: a real 1-epoch training of rbc8 (the shared fixture), the run
 * folder it leaves, `env status --json`, `runs report`, `runs compare --json`, `export` failures.
 */
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { TrainerEvent } from '../electron/shared/trainer.js';
import { tempDir } from './helpers/core.js';
import { BIN, copyRun, fixtureRun, hasTrainer, trainDatasetCopy, trainerEnv } from './trainer-fixture.js';

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
    expect(cmd).toMatch(/^export YOLO_OFFLINE=1\nyolo /m); // the switch the comment promises, in force
    const pre = JSON.parse(await fs.readFile(path.join(runDir, 'preflight.json'), 'utf8'));
    expect(pre.health.ok).toBe(true);
    expect(pre.env.ultralytics).toMatch(/^\d+\.\d+/);
    const rec = JSON.parse(await fs.readFile(path.join(runDir, 'spotter-run.json'), 'utf8'));
    expect(rec).toMatchObject({ status: 'done', label: 'fixture', note: 'shared test fixture', model: 'yolov8n.yaml', epochs_completed: 1, test_evaluated: false, tensorboard: false });
    expect(rec.final_metrics.mAP50_95).toBeTypeOf('number');
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

  it('val --split test evaluates best.pt, records it in the run and keeps summary.md whole', async () => {
    const run = await fixtureRun();
    const ws = await tempDir();
    const dir = await copyRun(run, ws, '20250101-000000_final-check');
    // rbc8 has no test split: a copy whose test split is its val images
    const ds = await trainDatasetCopy(await tempDir());
    const yaml = await fs.readFile(path.join(ds, 'data.yaml'), 'utf8');
    expect(yaml).not.toMatch(/^test:/m);
    await fs.writeFile(path.join(ds, 'data.yaml'), `${yaml.trimEnd()}\ntest: images/val\n`);
    const rec = JSON.parse(await fs.readFile(path.join(dir, 'spotter-run.json'), 'utf8'));
    rec.dataset.data_yaml = path.join(ds, 'data.yaml');
    await fs.writeFile(path.join(dir, 'spotter-run.json'), JSON.stringify(rec, null, 2));

    const r = await spotter(run.dataDir, 'val', dir, '--split', 'test', '--json');
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ run_dir: dir, split: 'test', file: path.join(dir, 'eval-test.json') });
    expect(out.metrics.mAP50).toBeTypeOf('number');
    // the val images as the test split: both classes, with rbc8's val counts (4 images; 76 rbc, 4 wbc)
    expect(out.per_class.map((c: { name: string; images: number; instances: number }) => [c.name, c.images, c.instances])).toEqual([['rbc', 4, 76], ['wbc', 4, 4]]);
    expect(JSON.parse(await fs.readFile(out.file, 'utf8'))).toMatchObject({ split: 'test', data: path.join(ds, 'data.yaml'), metrics: out.metrics });
    const after = JSON.parse(await fs.readFile(path.join(dir, 'spotter-run.json'), 'utf8'));
    expect(after.test_evaluated).toBe(true);
    expect(after.evaluations).toEqual([expect.objectContaining({ split: 'test', file: 'eval-test.json' })]);
    const md = await fs.readFile(path.join(dir, 'summary.md'), 'utf8');
    expect(md).toMatch(/test split evaluated: yes/);
    expect(md).toMatch(/## Evaluations[\s\S]*\| test split \|/);
    expect(md).toMatch(/\| final \(best\.pt on val\) \| \d/); // the final validation survives the rewrite

    // the plain text form, and the splits there are
    const txt = await spotter(run.dataDir, 'val', run.runDir, '--split', 'test');
    expect(txt.exitCode).toBe(1);
    expect(txt.stderr).toMatch(/data\.yaml: the dataset has no test split/);
    expect((await spotter(run.dataDir, 'val', dir, '--split', 'train')).exitCode).toBe(2);
  });

  it('train --json ends with a final object also when the run cannot start', async () => {
    const run = await fixtureRun();
    const empty = await tempDir();
    for (const [target, code, msg] of [
      [path.join(empty, 'nowhere', 'data.yaml'), 'dataset-not-found', /nowhere\/data\.yaml: no such dataset folder or data\.yaml/],
      [empty, 'dataset-not-found', /no data\.yaml in this folder/],
    ] as const) {
      const r = await spotter(run.dataDir, 'train', target, '--workspace', empty, '--json');
      expect(r.exitCode, r.stderr).toBe(1);
      const last = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(last).toMatchObject({ run_dir: null, status: 'failed', error: { code } });
      expect(last.error.message).toMatch(msg);
      expect(r.stderr).toMatch(msg);
    }
    // a complete run recorded as stopped: resume refuses, saying why, also as JSON
    const ws = await tempDir();
    const dir = await copyRun(run, ws, '20250101-000000_complete');
    const rec = JSON.parse(await fs.readFile(path.join(dir, 'spotter-run.json'), 'utf8'));
    await fs.writeFile(path.join(dir, 'spotter-run.json'), JSON.stringify({ ...rec, status: 'stopped' }));
    const r = await spotter(run.dataDir, 'train', '--resume', dir, '--json');
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ run_dir: dir, status: 'failed', error: { code: 'not-resumable', message: expect.stringMatching(/nothing to resume/) } });
    expect(r.stderr).toMatch(/nothing to resume — Fine-tune from its weights\/best\.pt/);
  });

  it('usage errors exit 2; a folder that is not a run exits 1 naming it', async () => {
    const dataDir = await tempDir();
    expect((await spotter(dataDir, 'train')).exitCode).toBe(2);
    expect((await spotter(dataDir, 'train', '/x', '--resume', '/y')).exitCode).toBe(2);
    // --set keys are Ultralytics argument names: anything else could not be written into command.sh safely
    const bad = await spotter(dataDir, 'train', dataDir, '--set', 'x;touch y=1');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/"x;touch y" is not an Ultralytics argument name/);
    // one device: multi-GPU training is refused, so the help does not offer it
    const help = await spotter(dataDir, 'train', '--help');
    expect(help.stdout).toMatch(/--device <d>[\s\S]*single device/);
    expect(help.stdout).not.toMatch(/0,1/);
    expect(help.stdout).toMatch(/--tensorboard/);
    const r = await spotter(dataDir, 'train', '--resume', dataDir);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(dataDir);
    const e = await spotter(dataDir, 'export', dataDir);
    expect(e.exitCode).toBe(1);
    expect(e.stderr).toMatch(/no weights\/best\.pt/);
  });
});
