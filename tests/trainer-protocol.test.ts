/**
 * The sidecar protocol on the Node side: real event lines from a real training validate; bad lines
 * are protocol errors, not crashes; stop reaches the process and a sidecar that ignores it is killed;
 * failures are classified (corrupt checkpoints through the real sidecar: the fixture run's own best.pt cut
 * short here, and a truncated yolov8n.pt from another project in the shared data).
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { standaloneJob } from '../electron/core/jobs/jobs.js';
import { RunRecord, trainRun, writeRecord } from '../electron/core/trainer/runs.js';
import { classifyFailure, parseEventLine, startSidecar } from '../electron/core/trainer/sidecar.js';
import { TrainerEvent } from '../electron/shared/trainer.js';
import { tempDir, testContext } from './helpers/core.js';
import { itShared, shared } from './helpers/shared.js';
import { fixtureRun, hasTrainer, TRAINER_PYTHON } from './trainer-fixture.js';

describe('parseEventLine', () => {
  it('accepts events written from the schema', () => {
    const lines = [
      '{"type":"hello","protocol":1,"pid":42,"command":"train"}',
      '{"type":"batch","epoch":2,"batch":7,"batches":30,"losses":{"box_loss":1.2,"cls_loss":0.8},"gpu_mem_gb":null}',
      '{"type":"error","code":"cuda-oom","message":"CUDA out of memory","hint":"batch 8"}',
      '  {"type":"epoch_start","epoch":1,"epochs":3}  ',
    ];
    expect(lines.map((l) => parseEventLine(l).ok)).toEqual([true, true, true, true]);
  });

  it('names what is wrong with a bad line', () => {
    const bad = (l: string) => {
      const r = parseEventLine(l);
      expect(r.ok).toBe(false);
      return r.ok ? '' : r.error;
    };
    expect(bad('Ultralytics 8.4.190 🚀 Python-3.11.7')).toMatch(/^not JSON/);
    expect(bad('{"type":"batch","epoch":"two","batch":1,"batches":3,"losses":{},"gpu_mem_gb":null}')).toMatch(/"batch".*epoch/);
    expect(bad('{"type":"error","code":"disk-full","message":"x","hint":null}')).toMatch(/"error".*code/);
    expect(bad('{"type":"teleport"}')).toMatch(/"teleport"/);
    expect(bad('[1,2]')).toMatch(/protocol/);
  });
});

describe.skipIf(!hasTrainer)('real event lines', () => {
  it('every line of a real run validates, in the protocol order', async () => {
    const run = await fixtureRun();
    const text = await fs.readFile(path.join(run.runDir, 'events.ndjson'), 'utf8');
    const events = text.trim().split('\n').map((l) => {
      const p = parseEventLine(l);
      if (!p.ok) throw new Error(p.error);
      return p.event;
    });
    const types = events.map((e) => e.type);
    const order = ['hello', 'setup', 'train_start', 'epoch_start', 'batch', 'epoch_end', 'val', 'checkpoint', 'done'];
    expect(order.every((t) => types.includes(t as TrainerEvent['type']))).toBe(true);
    const firsts = order.map((t) => types.indexOf(t as TrainerEvent['type']));
    expect([...firsts].sort((a, b) => a - b)).toEqual(firsts);
    const done = events.at(-1) as Extract<TrainerEvent, { type: 'done' }>;
    expect(done.run_dir).toBe(run.runDir);
    expect(done.per_class.map((c) => c.name)).toEqual(['rbc', 'wbc']);
    // the stdout of the CLI carried exactly these events
    expect(run.stdout.trim().split('\n').slice(0, -1)).toEqual(text.trim().split('\n'));
  });

  const expectCorrupt = async (weights: string, name: RegExp) => {
    const ctx = await testContext();
    const dir = await tempDir();
    const log = path.join(dir, 'export.log');
    const sc = startSidecar(ctx, { python: TRAINER_PYTHON, args: ['export', '--weights', weights], logFile: log });
    const r = await sc.result;
    expect(r.exitCode).toBe(1);
    expect(r.failure?.code).toBe('corrupt-weights');
    expect(r.failure?.message).toMatch(name);
    expect(r.protocolErrors).toBe(0);
    expect(await fs.readFile(log, 'utf8')).toMatch(/corrupt/i);
  };

  it("the fixture run's best.pt cut short is classified as corrupt-weights by the real sidecar", async () => {
    const run = await fixtureRun();
    const whole = await fs.readFile(path.join(run.runDir, 'weights', 'best.pt'));
    const cut = path.join(await tempDir(), 'best.cut.pt');
    await fs.writeFile(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    await expectCorrupt(cut, /best\.cut\.pt/);
  });

  itShared('a truncated yolov8n.pt (a real damaged file of another project) is classified as corrupt-weights', async () => {
    await expectCorrupt(shared('weights', 'corrupt', 'yolov8n.truncated.pt'), /yolov8n\.truncated\.pt/);
  });
});

/**
 * A stand-in trainer package (real Python, real pipes) that misbehaves in the ways the real one must
 * never do, to drive the runner's own edge cases: bad lines, a stop it ignores, a crash with no event.
 */
const STANDIN = String.raw`
import json, sys, time
def emit(o): print(json.dumps(o), flush=True)
mode = sys.argv[1]
emit({"type": "hello", "protocol": 1, "pid": 1, "command": mode})
print("progress bar on stdout", flush=True)
emit({"type": "epoch_end", "epoch": "one"})
print("a human log line", file=sys.stderr, flush=True)
emit({"type": "setup", "stage": "ready", "message": "ok"})
if mode == "obey":
    for line in sys.stdin:
        if json.loads(line).get("cmd") == "stop":
            emit({"type": "done", "run_dir": "/x", "epochs_completed": 1, "stopped": True, "best": None, "last": None, "metrics": {}, "per_class": [], "seconds": 0.1})
            sys.exit(0)
elif mode == "ignore":
    for line in sys.stdin:
        print("ignoring " + line.strip(), file=sys.stderr, flush=True)
    time.sleep(60)
elif mode == "slowstop":
    # a stop that takes longer than the kill timeout, reporting all along (a long final validation)
    for line in sys.stdin:
        for i in range(12):
            print(f"validating {i}", file=sys.stderr, flush=True)
            time.sleep(0.25)
        emit({"type": "done", "run_dir": "/x", "epochs_completed": 1, "stopped": True, "best": None, "last": None, "metrics": {}, "per_class": [], "seconds": 3.0})
        sys.exit(0)
elif mode == "train":
    # what trainRun hands the trainer: the spec's run_dir and the TensorBoard switch
    import os
    spec = json.load(open(sys.argv[3]))
    emit({"type": "setup", "stage": "env", "message": f"SPOTTER_TENSORBOARD={os.environ.get('SPOTTER_TENSORBOARD')} run_dir={spec['run_dir']}"})
    emit({"type": "done", "run_dir": spec["run_dir"], "epochs_completed": 0, "stopped": False, "best": None, "last": None, "metrics": {}, "per_class": [], "seconds": 0.1})
elif mode == "crash":
    raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
`;

async function standIn(): Promise<{ dir: string; python: string }> {
  const dir = await tempDir('spotter-standin-');
  await fs.mkdir(path.join(dir, 'spotter_trainer'));
  await fs.writeFile(path.join(dir, 'spotter_trainer', '__init__.py'), '');
  await fs.writeFile(path.join(dir, 'spotter_trainer', '__main__.py'), STANDIN);
  return { dir, python: hasTrainer ? TRAINER_PYTHON : 'python3' };
}

describe('the sidecar runner', () => {
  const withStandIn = async <T>(fn: (python: string, log: string) => Promise<T>): Promise<T> => {
    const s = await standIn();
    const prev = process.env.SPOTTER_NATIVE_BIN;
    process.env.SPOTTER_NATIVE_BIN = s.dir;
    try {
      return await fn(s.python, path.join(s.dir, 'train.log'));
    } finally {
      if (prev === undefined) delete process.env.SPOTTER_NATIVE_BIN;
      else process.env.SPOTTER_NATIVE_BIN = prev;
    }
  };

  it('passes valid events on, logs bad lines as protocol errors, stops gracefully', async () => {
    await withStandIn(async (python, log) => {
      const ctx = await testContext();
      const events: TrainerEvent[] = [];
      const bad: string[] = [];
      const ac = new AbortController();
      const sc = startSidecar(ctx, {
        python,
        args: ['obey'],
        logFile: log,
        signal: ac.signal,
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'setup') ac.abort(); // the user presses Stop
        },
        onProtocolError: (_l, why) => bad.push(why),
      });
      const r = await sc.result;
      expect(events.map((e) => e.type)).toEqual(['hello', 'setup', 'done']);
      expect(bad).toHaveLength(2);
      expect(r.protocolErrors).toBe(2);
      expect(r.stopRequested).toBe(true);
      expect(r.killed).toBe(false);
      expect(r.exitCode).toBe(0);
      expect(r.failure).toBeNull();
      expect(r.done?.stopped).toBe(true);
      const text = await fs.readFile(log, 'utf8');
      expect(text).toContain('a human log line');
      expect(text).toMatch(/protocol error: not JSON: progress bar on stdout/);
    });
  });

  it('kills a sidecar that ignores stop after the timeout', async () => {
    await withStandIn(async (python, log) => {
      const ctx = await testContext();
      let sc: ReturnType<typeof startSidecar> | null = null;
      sc = startSidecar(ctx, { python, args: ['ignore'], logFile: log, stopTimeoutMs: 1500, onEvent: (e) => e.type === 'setup' && sc?.stop() });
      const r = await sc.result; // the stand-in never exits by itself: the test ends only through the kill
      expect(r.killed).toBe(true);
      expect(r.signal).toBe('SIGKILL');
      expect(r.failure).toBeNull(); // a stop, not a failure
      expect(await fs.readFile(log, 'utf8')).toMatch(/ignoring \{"cmd":"stop"\}[\s\S]*stopped reporting for 2 s after the stop request: killed/);
    });
  });

  it('restarts the kill clock on every line: a stop that keeps reporting is never killed', async () => {
    await withStandIn(async (python, log) => {
      const ctx = await testContext();
      let sc: ReturnType<typeof startSidecar> | null = null;
      sc = startSidecar(ctx, { python, args: ['slowstop'], logFile: log, stopTimeoutMs: 1000, onEvent: (e) => e.type === 'setup' && sc?.stop() });
      const t0 = Date.now();
      const r = await sc.result;
      expect(Date.now() - t0).toBeGreaterThan(2500); // well past the 1 s timeout
      expect(r.killed).toBe(false);
      expect(r.exitCode).toBe(0);
      expect(r.done?.stopped).toBe(true);
      expect(r.failure).toBeNull();
    });
  });

  it('trainRun hands the sidecar the TensorBoard switch of the run', async () => {
    await withStandIn(async (python) => {
      const ctx = await testContext();
      for (const tensorboard of [true, false]) {
        const dir = path.join(await tempDir(), 'runs', `20250101-000000_tb-${tensorboard}`);
        await fs.mkdir(dir, { recursive: true });
        await fs.writeFile(path.join(dir, 'spec.json'), JSON.stringify({ data: '/d/data.yaml', model: 'yolov8n.yaml', run_dir: dir, epochs: 1, imgsz: 64, batch: 8, device: 'cpu', workers: 0 }));
        const rec = RunRecord.parse({
          spotter_version: 'test', name: path.basename(dir), label: 'tb', status: 'running', created_at: new Date().toISOString(), host: os.hostname(), boot_time: 0,
          model: 'yolov8n.yaml', dataset: { data_yaml: '/d/data.yaml', root: '/d', hash: null, classes: [], split_seed: null, train_images: null }, settings: { epochs: 1 }, tensorboard,
        });
        await writeRecord(dir, rec);
        const seen: TrainerEvent[] = [];
        const out = await trainRun(ctx, dir, python, standaloneJob(), { onEvent: (e) => seen.push(e) });
        expect(out.status).toBe('done');
        const setup = seen.find((e) => e.type === 'setup' && e.stage === 'env');
        expect(setup && setup.type === 'setup' && setup.message).toBe(`SPOTTER_TENSORBOARD=${tensorboard ? 1 : 0} run_dir=${dir}`);
      }
    });
  });

  it('classifies a crash without an error event from the traceback', async () => {
    await withStandIn(async (python, log) => {
      const r = await startSidecar(await testContext(), { python, args: ['crash'], logFile: log }).result;
      expect(r.exitCode).toBe(1);
      expect(r.failure?.code).toBe('cuda-oom');
      expect(r.failure?.hint).toMatch(/smaller batch/);
    });
  });

  it('a missing interpreter is a failure, not a throw', async () => {
    const r = await startSidecar(await testContext(), { python: '/nonexistent/python', args: ['env'] }).result;
    expect(r.failure).not.toBeNull();
    expect(r.exitCode).not.toBe(0);
  });
});

describe('classifyFailure', () => {
  const base = { exitCode: 1, signal: null, done: null, lastError: null, lastEvent: null, stopRequested: false, killed: false, protocolErrors: 0 };
  it('reads real tracebacks', () => {
    const f = (lines: string[]) => classifyFailure({ ...base, stderrTail: lines });
    expect(f(["ModuleNotFoundError: No module named 'ultralytics'"])).toMatchObject({ code: 'missing-package', message: expect.stringContaining('"ultralytics"') });
    expect(f(['ImportError: numpy.core.multiarray failed to import'])?.code).toBe('abi-mismatch');
    expect(f(['RuntimeError: PytorchStreamReader failed reading zip archive: failed finding central directory'])?.code).toBe('corrupt-weights');
    expect(f(['Segmentation fault'])).toMatchObject({ code: 'unknown', message: 'the trainer exited with code 1: Segmentation fault' });
    expect(classifyFailure({ ...base, exitCode: null, signal: 'SIGKILL', stderrTail: [] })?.message).toMatch(/running out of memory/);
  });
  it('prefers the error event and treats a requested stop as no failure', () => {
    const lastError = { type: 'error' as const, code: 'no-gpu' as const, message: "device '0' was asked for", hint: null };
    expect(classifyFailure({ ...base, lastError, stderrTail: [] })).toMatchObject({ code: 'no-gpu', hint: expect.stringMatching(/cpu/) });
    expect(classifyFailure({ ...base, stopRequested: true, killed: true, exitCode: null, signal: 'SIGKILL', stderrTail: [] })).toBeNull();
  });
  it('an "interrupted" end is a stop when one was asked for (Ctrl-C), a failure otherwise', () => {
    const lastError = { type: 'error' as const, code: 'unknown' as const, message: 'interrupted', hint: null };
    expect(classifyFailure({ ...base, lastError, stopRequested: true, stderrTail: [] })).toBeNull();
    expect(classifyFailure({ ...base, lastError, stderrTail: [] })).toMatchObject({ code: 'unknown', message: 'interrupted' });
    // a real error during a stop stays an error
    const oom = { type: 'error' as const, code: 'cuda-oom' as const, message: 'CUDA out of memory', hint: null };
    expect(classifyFailure({ ...base, lastError: oom, stopRequested: true, stderrTail: [] })?.code).toBe('cuda-oom');
  });
});
