/**
 * One real tiny training shared by the trainer tests: `spotter train <rbc8> --epochs 1 --imgsz 64
 * --device cpu --json` through the built CLI, inside `unshare -rn` (no network) where allowed, once per Vitest invocation (the test files run in
 * worker processes of one Vitest process: the fixture is keyed by that parent's pid and guarded by a
 * lock folder, so parallel files wait for the first one instead of training again).
 *
 * The interpreter: SPOTTER_TRAINER_PYTHON, else the development environment at .cache/bench-venv
 * (torch + Ultralytics). Without either the trainer tests are skipped (CI sets one up first).
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { fixture, REPO_ROOT } from './helpers/shared.js';

export const TRAINER_PYTHON = process.env.SPOTTER_TRAINER_PYTHON ?? path.join(REPO_ROOT, '.cache', 'test-data', 'trainer-env', 'bin', 'python');
export const hasTrainer = existsSync(TRAINER_PYTHON) && existsSync(path.join(REPO_ROOT, 'native-bin', 'spotter_trainer', '__main__.py'));
if (!hasTrainer) {
  const reason = `no trainer environment at ${TRAINER_PYTHON} (run \`npm run test:trainer-env\` or set SPOTTER_TRAINER_PYTHON)`;
  // CI sets the environment up first: there a missing one is a failure, not a skip
  if (['1', 'true'].includes(String(process.env.CI).toLowerCase())) throw new Error(reason);
  console.warn(`skipping the trainer tests: ${reason}`);
}
export const BIN = path.join(REPO_ROOT, 'bin', 'spotter.mjs');

export interface FixtureRun {
  /** the CLI's exit code, stdout and stderr */
  exitCode: number;
  stdout: string;
  stderr: string;
  workspace: string;
  dataDir: string;
  /** the rbc8 copy with an absolute data.yaml */
  dataset: string;
  runDir: string;
  /** trained inside `unshare -rn` (no network at all), where the system allows it */
  offline: boolean;
}

/**
 * tests/fixtures/rbc8 (8 real blood-cell images, classes rbc and wbc, train and val, no test split) copied to
 * `dir`/rbc8 with data.yaml's `path:` made absolute.
 */
export async function trainDatasetCopy(dir: string): Promise<string> {
  const ds = path.join(dir, 'rbc8');
  await fs.cp(fixture('rbc8'), ds, { recursive: true });
  await fs.rm(path.join(ds, 'LICENSE-NOTE.md'));
  const src = await fs.readFile(path.join(ds, 'data.yaml'), 'utf8');
  await fs.writeFile(path.join(ds, 'data.yaml'), src.replace(/^path:.*$/m, `path: ${ds}`));
  return ds;
}

/** The environment the CLI runs with: the prepared interpreter, a private data folder. */
export function trainerEnv(dataDir: string): Record<string, string> {
  return { SPOTTER_TRAINER_PYTHON: TRAINER_PYTHON, SPOTTER_DATA_DIR: dataDir };
}

async function train(base: string): Promise<FixtureRun> {
  const dataDir = path.join(base, 'data');
  const workspace = path.join(base, 'ws');
  await fs.mkdir(dataDir, { recursive: true });
  const dataset = await trainDatasetCopy(base);
  // no network namespace at all where the system allows it: training must never need one
  const offline = process.platform === 'linux' && (await execa('unshare', ['-rn', 'true'], { reject: false })).exitCode === 0;
  const argv = [process.execPath, BIN, 'train', dataset, '--epochs', '1', '--imgsz', '64', '--device', 'cpu', '--workers', '0', '--workspace', workspace, '--label', 'fixture', '--note', 'shared test fixture', '--json'];
  const r = await execa(offline ? 'unshare' : argv[0]!, offline ? ['-rn', ...argv] : argv.slice(1), {
    reject: false,
    env: trainerEnv(dataDir),
    timeout: 600_000,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '{}';
  let runDir = '';
  try {
    runDir = (JSON.parse(last) as { run_dir?: string }).run_dir ?? '';
  } catch {
    /* left empty: the tests say what went wrong */
  }
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr, workspace, dataDir, dataset, runDir, offline };
}

/**
 * `make(base)` run once per Vitest invocation across its worker processes: the first file to ask takes the lock
 * folder and makes it, the others wait for its result.json.
 */
async function once<T>(name: string, make: (base: string) => Promise<T>): Promise<T> {
  if (!existsSync(path.join(REPO_ROOT, 'dist/cli/index.js'))) throw new Error('dist/cli is missing: run `node scripts/build.mjs cli` first');
  const key = process.env.SPOTTER_TRAINER_FIXTURE_KEY ?? String(process.ppid);
  const base = path.join(os.tmpdir(), `spotter-trainer-fixture-${key}${name}`);
  const resultFile = path.join(base, 'result.json');
  await sweepOld();
  let mine = false;
  try {
    await fs.mkdir(`${base}.lock`);
    mine = true;
  } catch {
    /* another test file makes it: wait below */
  }
  if (mine) {
    await fs.rm(base, { recursive: true, force: true });
    await fs.mkdir(base, { recursive: true });
    let result: T | { error: string };
    try {
      result = await make(base);
    } catch (err) {
      result = { error: (err as Error).message };
    }
    await fs.writeFile(resultFile, JSON.stringify(result));
  }
  for (let waited = 0; !existsSync(resultFile); waited += 500) {
    if (waited > 600_000) throw new Error(`the shared fixture ${name || 'training'} did not finish in 10 minutes (${base})`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const result = JSON.parse(await fs.readFile(resultFile, 'utf8')) as T | { error: string };
  if (result && typeof result === 'object' && 'error' in result) throw new Error(`the shared fixture ${name || 'training'} failed: ${result.error}`);
  return result as T;
}

let cached: Promise<FixtureRun> | null = null;

export function fixtureRun(): Promise<FixtureRun> {
  cached ??= once('', train);
  return cached;
}

let cachedOnnx: Promise<string> | null = null;

/**
 * The fixture run exported to ONNX (`spotter export <copy of the run> --format onnx`, imgsz 64): a real model the
 * tests made themselves, for ONNX inference, parity and review tests that need no pretrained weights. Trained for
 * one epoch, it scores low: tests use it at low confidence thresholds.
 */
export function fixtureOnnx(): Promise<string> {
  cachedOnnx ??= once('-onnx', async (base) => {
    const run = await fixtureRun();
    const runDir = await copyRun(run, path.join(base, 'ws'), 'fixture-onnx');
    const r = await execa(process.execPath, [BIN, 'export', runDir, '--format', 'onnx'], { reject: false, env: trainerEnv(run.dataDir), timeout: 600_000 });
    const onnx = r.stdout.trim().split('\n').pop() ?? '';
    if (r.exitCode !== 0 || !onnx.endsWith('.onnx') || !existsSync(onnx)) throw new Error(`spotter export --format onnx failed (exit ${r.exitCode}): ${r.stderr.slice(-2000)}`);
    return onnx;
  });
  return cachedOnnx;
}

/** Fixtures of earlier Vitest invocations (over 6 hours old). */
async function sweepOld(): Promise<void> {
  const now = Date.now();
  for (const name of await fs.readdir(os.tmpdir()).catch(() => [] as string[])) {
    if (!name.startsWith('spotter-trainer-fixture-')) continue;
    const p = path.join(os.tmpdir(), name);
    const st = await fs.stat(p).catch(() => null);
    if (st && now - st.mtimeMs > 6 * 3600_000) await fs.rm(p, { recursive: true, force: true }).catch(() => {});
  }
}

/** A copy of the fixture's run folder (tests change their copies, never the shared one). */
export async function copyRun(run: FixtureRun, workspace: string, name: string): Promise<string> {
  const dst = path.join(workspace, 'runs', name);
  await fs.mkdir(path.dirname(dst), { recursive: true });
  await fs.cp(run.runDir, dst, { recursive: true });
  const rec = JSON.parse(await fs.readFile(path.join(dst, 'spotter-run.json'), 'utf8'));
  rec.name = name;
  await fs.writeFile(path.join(dst, 'spotter-run.json'), JSON.stringify(rec, null, 2));
  return dst;
}
