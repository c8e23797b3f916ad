/**
 * Runs: the state machine through the real handlers (start → stop → resume → done with a real tiny
 * training), the health refusal, rebuilding a run from its folder (a dead process reads as crashed),
 * and results.csv read by its header.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TrainRequest, type EventName, type EventPayloads, type JobFinished, type RunSummary } from '../electron/shared/contract.js';
import type { EnvReport } from '../electron/shared/trainer.js';
import { JobManager, standaloneJob } from '../electron/core/jobs/jobs.js';
import { createTrainerHandlers } from '../electron/core/trainer/handlers.js';
import { bestRow, parseResultsCsv, pickMetrics, rowRecord } from '../electron/core/trainer/results.js';
import { checkResumable, listRuns, loadRun, prepareRun, readRecord, reserveRunDir, resolveDevice, sanitizeLabel, yoloCommand } from '../electron/core/trainer/runs.js';
import { checkpointEpoch } from '../electron/core/trainer/checkpoint.js';
import { isSameProcess, processStartMs, PROCESS_STARTED_MS } from '../electron/core/trainer/proc.js';
import { tempDir, testContext } from './helpers/core.js';
import { copyRun, fixtureRun, hasTrainer, trainDatasetCopy, TRAINER_PYTHON } from './trainer-fixture.js';

let prevPython: string | undefined;
beforeAll(() => {
  prevPython = process.env.SPOTTER_TRAINER_PYTHON;
  process.env.SPOTTER_TRAINER_PYTHON = TRAINER_PYTHON;
});
afterAll(() => {
  if (prevPython === undefined) delete process.env.SPOTTER_TRAINER_PYTHON;
  else process.env.SPOTTER_TRAINER_PYTHON = prevPython;
});

async function harness() {
  const ctx = await testContext();
  const ws = await tempDir('spotter-ws-');
  const emitted: Array<{ name: EventName; payload: unknown }> = [];
  const finished: JobFinished[] = [];
  const jobs = new JobManager({ progress: () => {}, finished: (f) => finished.push(f) });
  let awake = 0;
  let awakeCalls = 0;
  const h = createTrainerHandlers({
    ctx,
    emit: <E extends EventName>(name: E, payload: EventPayloads[E]) => void emitted.push({ name, payload }),
    jobs,
    workspace: () => ws,
    keepAwake: () => {
      awake++;
      awakeCalls++;
      return () => awake--;
    },
  });
  return { ctx, ws, h, jobs, emitted, finished, awake: () => awake, awakeCalls: () => awakeCalls };
}

describe.skipIf(!hasTrainer)('runs through the handlers (real training)', () => {
  it('start → stop → resume → done', async () => {
    const t = await harness();
    const dataset = await trainDatasetCopy(await tempDir());
    const req = TrainRequest.parse({ dataset, epochs: 4, imgsz: 64, device: 'cpu', workers: 0, label: 'stop me', note: 'state machine' });
    const { jobId, dir } = await t.h['runs.start'](req);
    expect(path.dirname(dir)).toBe(path.join(t.ws, 'runs'));
    expect(path.basename(dir)).toMatch(/^\d{8}-\d{6}_stop-me$/);

    // Stop as soon as the first epoch has ended (the UI's Stop button)
    let stopAsked = false;
    for (let i = 0; i < 1200 && !stopAsked; i++) {
      const ended = t.emitted.some((e) => e.name === 'run.event' && (e.payload as EventPayloads['run.event']).event.type === 'epoch_end');
      if (ended) {
        expect((await t.h['runs.list']({})).find((r) => r.dir === dir)?.status).toBe('running');
        expect(await t.h['runs.stop']({ dir })).toEqual({ stopping: true });
        stopAsked = true;
      } else await new Promise((r) => setTimeout(r, 100));
    }
    expect(stopAsked).toBe(true);
    await t.jobs.wait(jobId);
    const f1 = t.finished.find((f) => f.jobId === jobId)!;
    expect(f1.status).toBe('cancelled');
    expect((f1.result as RunSummary).status).toBe('stopped');
    const stopped = await t.h['runs.get']({ dir });
    expect(stopped.summary.status).toBe('stopped');
    expect(stopped.summary.epochsCompleted).toBeGreaterThanOrEqual(1);
    expect(stopped.summary.epochsCompleted).toBeLessThan(4);
    expect(stopped.lastEvent?.type).toBe('done');
    expect(existsSync(path.join(dir, 'weights', 'last.pt'))).toBe(true);
    expect(t.awake()).toBe(0);
    expect(t.awakeCalls()).toBe(1);
    expect(t.emitted.filter((e) => e.name === 'runs.changed').length).toBeGreaterThanOrEqual(2);

    // the run folder moves (a renamed run, a moved workspace): the resume trains in the folder it is
    // given, not in the one spec.json was written for
    const stoppedRows = stopped.rows.length;
    const moved = `${dir}-moved`;
    await fs.cp(dir, moved, { recursive: true });
    const r2 = await t.h['runs.resume']({ dir: moved });
    expect(r2.dir).toBe(moved);
    await t.jobs.wait(r2.jobId);
    const f2 = t.finished.find((f) => f.jobId === r2.jobId)!;
    expect(f2.status, f2.error).toBe('done');
    const done = await t.h['runs.get']({ dir: moved });
    expect(done.summary.status).toBe('done');
    expect(done.summary.name).toBe(path.basename(moved));
    expect(done.summary.epochsCompleted).toBe(4);
    expect(done.rows).toHaveLength(4);
    expect(done.columns).toContain('metrics/mAP50-95(B)');
    expect(done.perClass.length).toBeGreaterThan(0);
    expect(done.commandSh).toMatch(/# YOLO_OFFLINE=1 yolo detect train resume model=\S+-moved\/weights\/last\.pt/);
    expect(done.summaryMd).toMatch(/resumed 1×/);
    expect(done.summaryMd).toMatch(/\| final \(best\.pt on val\) \|/);
    expect(JSON.parse(await fs.readFile(path.join(moved, 'spec.json'), 'utf8')).run_dir).toBe(moved);
    const rec = await readRecord(moved);
    expect(rec.resumes).toBe(1);
    expect(rec.duration_seconds).toBeGreaterThan(0);
    expect(await checkpointEpoch(path.join(moved, 'weights', 'last.pt'))).toBe(-1); // final
    // the original folder was not touched
    expect((await t.h['runs.get']({ dir })).rows).toHaveLength(stoppedRows);
    expect((await readRecord(dir)).status).toBe('stopped');
    // every event of both processes is in events.ndjson: two hellos, two train_starts (the second resumes)
    const types = (await fs.readFile(path.join(moved, 'events.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).type);
    expect(types.filter((x) => x === 'hello')).toHaveLength(2);
    const live = (d: string) => t.emitted.filter((e) => e.name === 'run.event' && (e.payload as EventPayloads['run.event']).dir === d).length;
    expect(live(dir) + live(moved)).toBe(types.length);
    // a completed run cannot be resumed: fine-tune instead
    await expect(t.h['runs.resume']({ dir: moved })).rejects.toThrow(/nothing to resume — fine-tune/i);
  });

  it('refuses to resume a complete run whatever its record says; a failed resume leaves the run as it was', async () => {
    const run = await fixtureRun();
    const t = await harness();
    const setRec = async (d: string, patch: Record<string, unknown>) => {
      const rec = JSON.parse(await fs.readFile(path.join(d, 'spotter-run.json'), 'utf8'));
      await fs.writeFile(path.join(d, 'spotter-run.json'), JSON.stringify({ ...rec, ...patch }, null, 2));
    };
    // all epochs trained, but recorded as stopped (as a stop during the last epoch used to be)
    const complete = await copyRun(run, t.ws, '20250101-000000_complete');
    await setRec(complete, { status: 'stopped' });
    await expect(checkResumable(complete)).rejects.toThrow(/last\.pt: a final checkpoint.*nothing to resume/);
    await expect(t.h['runs.resume']({ dir: complete })).rejects.toThrow(/nothing to resume/);

    // a stopped 3-epoch run whose last.pt turns out to be damaged (its own real checkpoint, cut to half its
    // size as an interrupted copy leaves it): the sidecar fails before training
    const broken = await copyRun(run, t.ws, '20250101-000001_broken');
    const settings = (await readRecord(broken)).settings;
    await setRec(broken, { status: 'stopped', settings: { ...settings, epochs: 3 } });
    const specFile = path.join(broken, 'spec.json');
    await fs.writeFile(specFile, JSON.stringify({ ...JSON.parse(await fs.readFile(specFile, 'utf8')), epochs: 3 }, null, 2));
    const last = path.join(broken, 'weights', 'last.pt');
    const whole = await fs.readFile(last);
    await fs.writeFile(last, whole.subarray(0, Math.floor(whole.length / 2)));
    await checkResumable(broken); // one epoch of three in results.csv: resumable as far as the files say
    const files = ['spotter-run.json', 'spec.json', 'command.sh', 'events.ndjson', 'summary.md'];
    const before = await Promise.all(files.map((f) => fs.readFile(path.join(broken, f), 'utf8')));
    const { jobId } = await t.h['runs.resume']({ dir: broken });
    await t.jobs.wait(jobId);
    const f = t.finished.find((x) => x.jobId === jobId)!;
    expect(f.status).toBe('failed');
    expect(f.error).toMatch(/broken\/weights\/last\.pt is not a loadable checkpoint[\s\S]*\(the run was left as it was\)$/);
    expect(await Promise.all(files.map((x) => fs.readFile(path.join(broken, x), 'utf8')))).toEqual(before);
    expect(await fs.readFile(path.join(broken, 'train.log'), 'utf8')).toMatch(/the resume failed \(corrupt-weights\)[\s\S]*before training started; the run was left as it was/);
    expect((await readRecord(broken)).status).toBe('stopped');

    // its dataset is gone: refused before anything starts, naming data.yaml
    const specData = JSON.parse(await fs.readFile(specFile, 'utf8'));
    await fs.writeFile(specFile, JSON.stringify({ ...specData, data: path.join(t.ws, 'gone', 'data.yaml') }));
    await expect(checkResumable(broken)).rejects.toThrow(/gone\/data\.yaml: the dataset this run trained on is not there any more/);
  });

  it('runs.evaluate validates best.pt on a split as a job and records it in the run', async () => {
    const run = await fixtureRun();
    const t = await harness();
    const dir = await copyRun(run, t.ws, '20250101-000000_eval');
    const { jobId, dir: d } = await t.h['runs.evaluate']({ dir, split: 'val' });
    expect(d).toBe(dir);
    await t.jobs.wait(jobId);
    const f = t.finished.find((x) => x.jobId === jobId)!;
    expect(f.status, f.error).toBe('done');
    expect(f.kind).toBe('evaluate');
    const ev = f.result as { split: string; metrics: { mAP50_95: number } | null; perClass: unknown[]; file: string };
    expect(ev.split).toBe('val');
    expect(ev.metrics?.mAP50_95).toBeTypeOf('number');
    expect(ev.file).toBe(path.join(dir, 'eval-val.json'));
    const saved = JSON.parse(await fs.readFile(ev.file, 'utf8'));
    expect(saved).toMatchObject({ split: 'val', metrics: ev.metrics, weights: path.join(dir, 'weights', 'best.pt') });
    const rec = await readRecord(dir);
    expect(rec.test_evaluated).toBe(false); // val is for decisions; only test is recorded as spent
    expect(rec.evaluations).toEqual([expect.objectContaining({ split: 'val', file: 'eval-val.json', weights: path.join('weights', 'best.pt') })]);
    expect(await fs.readFile(path.join(dir, 'summary.md'), 'utf8')).toMatch(/## Evaluations[\s\S]*\| val split \|/);
    // rbc8 has no test split: a clear error naming data.yaml
    const r2 = await t.h['runs.evaluate']({ dir, split: 'test' });
    await t.jobs.wait(r2.jobId);
    expect(t.finished.find((x) => x.jobId === r2.jobId)!.error).toMatch(/data\.yaml: the dataset has no test split/);
  });

  it('refuses a dataset with health errors, leaving no run folder; the override writes it', async () => {
    const t = await harness();
    const dataset = await trainDatasetCopy(await tempDir());
    const label = path.join(dataset, 'labels', 'train', 'image-1_png.rf.f95d6db7500af1a9f42b10b65defef2e.txt');
    await fs.appendFile(label, '99 0.5 0.5 0.1 0.1\n');
    const { jobId, dir } = await t.h['runs.start'](TrainRequest.parse({ dataset, epochs: 1, imgsz: 64, device: 'cpu' }));
    await t.jobs.wait(jobId);
    const f = t.finished.find((x) => x.jobId === jobId)!;
    expect(f.status).toBe('failed');
    expect(f.error).toMatch(/health check found 1 error.*class-out-of-range/);
    expect(existsSync(dir)).toBe(false);
    expect(await fs.readdir(path.join(t.ws, 'runs')).catch(() => [])).toEqual([]);

    // overridden: the run folder is written, its preflight.json keeps the errors and the override
    const run = await fixtureRun();
    const env = JSON.parse(await fs.readFile(path.join(run.runDir, 'preflight.json'), 'utf8')).env as EnvReport;
    const over = reserveRunDir(t.ws, 'override', { model: 'yolov8n.yaml', imgsz: 64 });
    const req = TrainRequest.parse({ dataset, epochs: 1, imgsz: 64, device: 'auto', batch: -1, overrideHealth: true });
    const prep = await prepareRun(t.ctx, over, req, { python: TRAINER_PYTHON, report: env }, standaloneJob());
    const pre = JSON.parse(await fs.readFile(path.join(over, 'preflight.json'), 'utf8'));
    expect(pre).toMatchObject({ override_health: true, health: { ok: false } });
    expect(prep.spec).toMatchObject({ device: 'cpu', batch: 8, data: path.join(dataset, 'data.yaml') });
    expect(prep.record.status).toBe('running');

    // fine-tune: a new run whose model is an earlier run's best.pt, recorded as such
    const ft = reserveRunDir(t.ws, undefined, { model: path.join(run.runDir, 'weights', 'best.pt'), imgsz: 64 });
    expect(path.basename(ft)).toMatch(/_finetune-64$/);
    const ftReq = TrainRequest.parse({ dataset: run.dataset, model: path.join(run.runDir, 'weights', 'best.pt'), epochs: 1, imgsz: 64 });
    const ftRun = await prepareRun(t.ctx, ft, ftReq, { python: TRAINER_PYTHON, report: env }, standaloneJob());
    expect(ftRun.record.finetuned_from).toBe(run.runDir);
    expect(await fs.readFile(path.join(ft, 'command.sh'), 'utf8')).toContain(`model=${path.join(run.runDir, 'weights', 'best.pt')}`);
  });

  it('runs.get refuses folders outside the workspace', async () => {
    const t = await harness();
    await expect(t.h['runs.get']({ dir: os.tmpdir() })).rejects.toThrow(/not a run of the workspace/);
  });
});

describe.skipIf(!hasTrainer)('rebuilding a run from its folder', () => {
  const boot = () => Math.round((Date.now() - os.uptime() * 1000) / 60_000) * 60_000;
  const setRec = async (dir: string, patch: Record<string, unknown>) => {
    const rec = JSON.parse(await fs.readFile(path.join(dir, 'spotter-run.json'), 'utf8'));
    await fs.writeFile(path.join(dir, 'spotter-run.json'), JSON.stringify({ ...rec, ...patch }));
  };

  it('a running run whose process is gone is crashed, and saved so', async () => {
    const run = await fixtureRun();
    const ws = await tempDir();
    const dir = await copyRun(run, ws, '20250101-000000_crashed');
    const dead = execa('true');
    await dead;
    await setRec(dir, { status: 'running', pid: dead.pid, host: os.hostname(), boot_time: boot(), ended_at: null, started_at: new Date(Date.now() - 60_000).toISOString() });
    const rec = await loadRun(dir);
    expect(rec.status).toBe('crashed');
    expect(rec.ended_at).not.toBeNull();
    expect(rec.metrics?.mAP50_95).toBeTypeOf('number');
    expect((await readRecord(dir)).status).toBe('crashed');
  });

  it('a live process, another host, or a run this process trains stay running', async () => {
    const run = await fixtureRun();
    const ws = await tempDir();
    const a = await copyRun(run, ws, '20250101-000000_live');
    await setRec(a, { status: 'running', pid: process.pid, host: os.hostname(), boot_time: boot() });
    const b = await copyRun(run, ws, '20250101-000001_elsewhere');
    await setRec(b, { status: 'running', pid: 1, host: 'another-machine', boot_time: 0 });
    const c = await copyRun(run, ws, '20250101-000002_mine');
    await setRec(c, { status: 'running', pid: 999_999_999, host: os.hostname(), boot_time: boot() });
    const d = await copyRun(run, ws, '20250101-000003_rebooted');
    await setRec(d, { status: 'running', pid: process.pid, host: os.hostname(), boot_time: boot() - 86_400_000 });
    // a live process with the recorded start: running; the same pid started at another time (a restarted
    // container hands out the same small pids): not the run's process, crashed
    const e = await copyRun(run, ws, '20250101-000004_started');
    await setRec(e, { status: 'running', pid: process.pid, pid_started_ms: PROCESS_STARTED_MS, host: os.hostname(), boot_time: boot() });
    const f = await copyRun(run, ws, '20250101-000005_reused');
    await setRec(f, { status: 'running', pid: process.pid, pid_started_ms: PROCESS_STARTED_MS - 3_600_000, host: os.hostname(), boot_time: boot() });
    const list = await listRuns(ws, new Set([c]));
    const status = Object.fromEntries(list.map((r) => [r.name, r.status]));
    expect(status).toEqual({
      '20250101-000000_live': 'running',
      '20250101-000001_elsewhere': 'running',
      '20250101-000002_mine': 'running',
      '20250101-000003_rebooted': 'crashed',
      '20250101-000004_started': 'running',
      '20250101-000005_reused': 'crashed',
    });
  });

  it("another process's start is read back as recorded (Linux /proc), so a reused pid is told apart", async () => {
    if (process.platform !== 'linux') {
      console.log('skipped: process starts are read from /proc on Linux only');
      return;
    }
    const before = Date.now();
    const child = execa('sleep', ['30']);
    try {
      await new Promise((r) => setTimeout(r, 200));
      const started = processStartMs(child.pid!);
      expect(started).not.toBeNull();
      expect(Math.abs(started! - before)).toBeLessThan(30_000); // now, not some other time (btime is whole seconds, a tick 10 ms)
      expect(isSameProcess(child.pid!, started)).toBe(true);
      expect(isSameProcess(child.pid!, started! - 60_000)).toBe(false);
    } finally {
      child.kill();
      await child.catch(() => undefined);
    }
    expect(isSameProcess(child.pid!, null)).toBe(false); // gone
  });

  it('lists plain Ultralytics run folders and skips folders being prepared', async () => {
    const run = await fixtureRun();
    const ws = await tempDir();
    const plain = await copyRun(run, ws, 'train2');
    for (const f of ['spotter-run.json', 'summary.md', 'events.ndjson', 'preflight.json', 'command.sh', 'spec.json']) await fs.rm(path.join(plain, f));
    await copyRun(run, ws, '.tmp-20250101-000000_half');
    const list = await listRuns(ws);
    expect(list.map((r) => r.name)).toEqual(['train2']);
    expect(list[0]).toMatchObject({ status: 'done', model: 'yolov8n.yaml', imgsz: 64, epochs: 1, epochsCompleted: 1 });
    expect(list[0]!.metrics).not.toBeNull();

    // asked for 3 epochs, 1 in results.csv: interrupted (best.pt exists from the first epoch on), unless
    // last.pt is final (stripped: Ultralytics ended it, e.g. early stopping by patience)
    await fs.writeFile(path.join(plain, 'args.yaml'), (await fs.readFile(path.join(plain, 'args.yaml'), 'utf8')).replace(/^epochs: 1$/m, 'epochs: 3'));
    expect((await listRuns(ws))[0]).toMatchObject({ status: 'done', epochs: 3, epochsCompleted: 1 });
    await fs.rm(path.join(plain, 'weights', 'last.pt'));
    expect((await listRuns(ws))[0]).toMatchObject({ status: 'stopped', epochs: 3, epochsCompleted: 1 });
  });
});

describe.skipIf(!hasTrainer)('results.csv by its header', () => {
  it('finds metrics whatever the column order and padding', async () => {
    const run = await fixtureRun();
    const text = await fs.readFile(path.join(run.runDir, 'results.csv'), 'utf8');
    const t = parseResultsCsv(text);
    expect(t.columns[0]).toBe('epoch');
    expect(t.rows).toHaveLength(1);
    const m = pickMetrics(rowRecord(t, 0))!;
    // the same table with columns reversed and padded as Ultralytics < 8.1 wrote them
    const [head, ...rows] = text.trim().split('\n');
    const rev = (l: string) => l.split(',').reverse().map((c) => c.padStart(20)).join(',');
    const t2 = parseResultsCsv([rev(head!), ...rows.map(rev)].join('\n'));
    expect(pickMetrics(rowRecord(t2, 0))).toEqual(m);
    const i = t.columns.indexOf('metrics/mAP50-95(B)');
    expect(m.mAP50_95).toBe(t.rows[0]![i]);
  });

  it('picks the best epoch by mAP50-95', () => {
    const t = parseResultsCsv(['epoch,metrics/precision(B),metrics/recall(B),metrics/mAP50(B),metrics/mAP50-95(B)', '1,0.5,0.4,0.30,0.10', '2,0.6,0.5,0.50,0.31', '3,0.7,0.6,0.55,0.29'].join('\n'));
    expect(bestRow(t)).toBe(1);
    expect(pickMetrics(rowRecord(t, bestRow(t)))).toEqual({ precision: 0.6, recall: 0.5, mAP50: 0.5, mAP50_95: 0.31 });
    expect(bestRow(parseResultsCsv('epoch,train/box_loss\n1,2.0\n'))).toBe(-1);
    // equal fitness: the later epoch, as Ultralytics rewrites best.pt on a tie
    const tie = parseResultsCsv(['epoch,metrics/mAP50(B),metrics/mAP50-95(B)', '1,0.5,0.31', '2,0.6,0.31', '3,0.4,0.2'].join('\n'));
    expect(bestRow(tie)).toBe(1);
  });
});

describe('run settings', () => {
  const env = (cuda: boolean, mps: boolean) => ({ cuda_available: cuda, mps_available: mps }) as EnvReport;
  it("resolves device 'auto' and batch -1 (autobatch needs CUDA)", () => {
    expect(resolveDevice('auto', -1, env(true, false))).toEqual({ device: '0', batch: -1 });
    expect(resolveDevice('auto', -1, env(false, true))).toEqual({ device: 'mps', batch: 8 });
    expect(resolveDevice('auto', -1, env(false, false))).toEqual({ device: 'cpu', batch: 8 });
    expect(resolveDevice('cpu', 16, env(true, false))).toEqual({ device: 'cpu', batch: 16 });
    expect(resolveDevice('0,1', 0.7, env(true, false))).toEqual({ device: '0,1', batch: 0.7 });
  });
  it('takes only plain Ultralytics names as extra arguments', () => {
    const ok = (extra: Record<string, unknown>) => TrainRequest.safeParse({ dataset: '/d', extra }).success;
    expect(ok({ mosaic: 0.2, flipud: 0.5, copy_paste_mode: 'flip', hsv_h: 0 })).toBe(true);
    expect(ok({ 'a;touch x': 1 })).toBe(false);
    expect(ok({ Mosaic: 1 })).toBe(false);
    expect(ok({ '$(id)': 1 })).toBe(false);
    expect(ok({ '': 1 })).toBe(false);
    expect(TrainRequest.parse({ dataset: '/d' }).tensorboard).toBe(false);
  });

  it('command.sh quotes every word, keys included: the shell runs exactly the yolo arguments', async () => {
    const dir = await tempDir();
    const pwned = path.join(dir, 'pwned');
    const spec = {
      data: path.join(dir, 'my data', 'data.yaml'),
      model: 'yolov8n.yaml',
      run_dir: path.join(dir, 'runs', "it's"),
      epochs: 1, imgsz: 64, batch: 8, device: 'cpu', workers: 0,
      // TrainRequest refuses such keys; spec.json is a file anyone can edit, so quoting must hold anyway
      extra: { [`x$(touch ${pwned})`]: 1, 'a b': 'c d', mosaic: 0.2 },
    };
    const cmd = yoloCommand('detect', spec);
    const r = await execa('sh', ['-c', `yolo() { for a in "$@"; do printf '%s\\n' "$a"; done; }; ${cmd}`]);
    expect(r.stdout.split('\n')).toEqual([
      'detect', 'train', `data=${spec.data}`, 'model=yolov8n.yaml', 'epochs=1', 'imgsz=64', 'batch=8', 'device=cpu', 'workers=0',
      `project=${path.join(dir, 'runs')}`, "name=it's", 'exist_ok=True', `x$(touch ${pwned})=1`, 'a b=c d', 'mosaic=0.2',
    ]);
    expect(existsSync(pwned)).toBe(false);
  });

  it('makes labels safe folder names', () => {
    expect(sanitizeLabel('lr0 0.01 / imgsz 416')).toBe('lr0-0.01-imgsz-416');
    expect(sanitizeLabel('../..')).toBe('run');
  });
});
