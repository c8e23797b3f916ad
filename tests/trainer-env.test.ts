/**
 * The trainer environment: the status of a prepared interpreter (SPOTTER_TRAINER_PYTHON), and the
 * set-up itself — a real venv, real pip (offline: --wheelhouse), the real import check, the stamp
 * that makes it idempotent, repair. Torch cannot be installed offline in a test, so the venv is
 * given the development environment's packages with a .pth file (Python's own mechanism) to pass.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { standaloneJob } from '../electron/core/jobs/jobs.js';
import { chooseTorchIndex, detectHardware, driverProblem, envStatus, findBasePython, LICENSE_NOTE, requirementsFile, setupEnv, venvDir, venvPython } from '../electron/core/trainer/env.js';
import { tempDir, testContext } from './helpers/core.js';
import { REPO_ROOT } from './helpers/shared.js';
import { hasTrainer, TRAINER_PYTHON } from './trainer-fixture.js';

const saved: Record<string, string | undefined> = {};
const setEnv = (k: string, v: string | undefined) => {
  if (!(k in saved)) saved[k] = process.env[k];
  if (v === undefined) delete process.env[k];
  else process.env[k] = v;
};
beforeEach(() => setEnv('SPOTTER_TRAINER_PYTHON', undefined));
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
    delete saved[k];
  }
});

describe('driver check', () => {
  it('says plainly when the driver is too old for the CUDA build', () => {
    const p = driverProblem('535.104.05', '13.0', '2.14.1+cu130');
    expect(p).toMatch(/NVIDIA driver 535\.104\.05 is too old for torch 2\.14\.1\+cu130 built for CUDA 13\.0, which needs driver 580 or newer/);
    expect(p).toMatch(/SPOTTER_TORCH_INDEX_URL/);
    expect(driverProblem('580.65.06', '13.0', null)).toBeNull();
    expect(driverProblem('550.54', '12.4', null)).toBeNull();
    expect(driverProblem('550.54', '12.6', null)).toMatch(/needs driver 560/);
    expect(driverProblem(null, '13.0', null)).toBeNull();
  });

  it('chooses the torch index per hardware, and the override wins', () => {
    const cpu = { kind: 'cpu' as const, gpus: [], driver: null, note: null };
    const nv = (driver: string | null) => ({ kind: 'nvidia' as const, gpus: ['NVIDIA H100'], driver, note: null });
    // Linux without a GPU: the CPU build, not several GB of CUDA wheels; may fall back to the default index
    expect(chooseTorchIndex(cpu, 'linux', undefined)).toMatchObject({ url: 'https://download.pytorch.org/whl/cpu', fallback: true });
    expect(chooseTorchIndex(cpu, 'win32', undefined).url).toBeNull();
    expect(chooseTorchIndex({ kind: 'apple', gpus: [], driver: null, note: null }, 'darwin', undefined).url).toBeNull();
    // NVIDIA on Linux: the default index's CUDA 13.0 build when the driver runs it, else an older CUDA build
    expect(chooseTorchIndex(nv('580.65.06'), 'linux', undefined).url).toBeNull();
    expect(chooseTorchIndex(nv('570.86.10'), 'linux', undefined).url).toBe('https://download.pytorch.org/whl/cu128');
    expect(chooseTorchIndex(nv('560.35.03'), 'linux', undefined).url).toBe('https://download.pytorch.org/whl/cu126');
    const old = chooseTorchIndex(nv('535.104.05'), 'linux', undefined);
    expect(old.url).toBe('https://download.pytorch.org/whl/cpu');
    expect(old.reason).toMatch(/535\.104\.05 is older than any CUDA build/);
    // Windows: the default index serves CPU wheels, so a CUDA index
    expect(chooseTorchIndex(nv('581.15'), 'win32', undefined).url).toBe('https://download.pytorch.org/whl/cu130');
    // the user's word is final (and never falls back)
    expect(chooseTorchIndex(cpu, 'linux', 'default')).toMatchObject({ url: null, fallback: false });
    expect(chooseTorchIndex(nv('580.1'), 'linux', 'https://example.invalid/whl/cu126')).toMatchObject({ url: 'https://example.invalid/whl/cu126', fallback: false });
  });

  it('detects this machine and picks its requirements file', async () => {
    const ctx = await testContext();
    const hw = await detectHardware(ctx);
    expect(['nvidia', 'apple', 'cpu']).toContain(hw.kind);
    const smi = await execa('nvidia-smi', ['-L'], { reject: false });
    if (smi.exitCode !== 0) expect(hw.kind).not.toBe('nvidia');
    else expect(hw.gpus.length).toBeGreaterThan(0);
    expect(requirementsFile(ctx, 'nvidia')).toBe(path.join(REPO_ROOT, 'native-bin', 'requirements', 'cuda.txt'));
    expect(requirementsFile(ctx, 'apple')).toMatch(/mps\.txt$/);
    expect(requirementsFile(ctx, 'cpu')).toMatch(/cpu\.txt$/);
  });
});

describe('finding a Python', () => {
  it('takes SPOTTER_PYTHON, and names every candidate when none works', async () => {
    const ctx = await testContext();
    const sys = (await execa('python3', ['-c', 'import sys; print(sys.executable)'])).stdout.trim();
    setEnv('SPOTTER_PYTHON', sys);
    const found = await findBasePython(ctx);
    expect(found.path).toBe(sys);
    expect(found.version).toMatch(/^3\.\d+\.\d+/);
    setEnv('SPOTTER_PYTHON', '/nonexistent/python3.12');
    setEnv('PATH', '/nonexistent-bin');
    await expect(findBasePython(ctx)).rejects.toThrow(/no Python 3\.9 or newer found; tried \/nonexistent\/python3\.12 \(SPOTTER_PYTHON\).*python3 \(PATH\)/);
  });
});

describe.skipIf(!hasTrainer)('environment status', () => {
  it('a prepared interpreter is used as it is and validated', async () => {
    const ctx = await testContext();
    setEnv('SPOTTER_TRAINER_PYTHON', TRAINER_PYTHON);
    const s = await envStatus(ctx);
    expect(s.ready).toBe(true);
    expect(s.python).toBe(TRAINER_PYTHON);
    expect(s.env?.ultralytics).toMatch(/^\d+\.\d+\.\d+/);
    expect(s.env?.python).toBe(TRAINER_PYTHON);
    const lines: string[] = [];
    const again = await setupEnv(ctx, {}, standaloneJob(), (l) => lines.push(l));
    expect(again.ready).toBe(true);
    expect(lines[0]).toBe(LICENSE_NOTE);
    expect(lines.join('\n')).toMatch(/nothing is installed/);
    expect(existsSync(venvDir(ctx))).toBe(false);
  });

  it('before set-up: not ready, and says what to do', async () => {
    const s = await envStatus(await testContext());
    expect(s.ready).toBe(false);
    expect(s.python).toBeNull();
    expect(s.problems[0]).toMatch(/not set up yet: run `spotter env setup`/);
  });
});

describe.skipIf(!hasTrainer)('set-up (real venv, real pip, offline)', () => {
  it('creates the venv, installs from a wheelhouse, checks, is idempotent, repairs', async () => {
    const ctx = await testContext();
    // the app's package with requirements that need nothing from a network
    const nativeBin = await tempDir('spotter-native-');
    await fs.cp(path.join(REPO_ROOT, 'native-bin', 'spotter_trainer'), path.join(nativeBin, 'spotter_trainer'), { recursive: true, filter: (s) => !s.includes('__pycache__') });
    await fs.mkdir(path.join(nativeBin, 'requirements'));
    await fs.writeFile(path.join(nativeBin, 'requirements', 'common.txt'), '# test: everything comes from the .pth below\n');
    for (const k of ['cpu', 'cuda', 'mps']) await fs.writeFile(path.join(nativeBin, 'requirements', `${k}.txt`), '-r common.txt\n');
    setEnv('SPOTTER_NATIVE_BIN', nativeBin);
    const sys = (await execa(TRAINER_PYTHON, ['-c', 'import sys; print(sys._base_executable)'])).stdout.trim();
    setEnv('SPOTTER_PYTHON', sys);
    const wheelhouse = await tempDir('spotter-wheels-');

    const run = async (opts: { repair?: boolean } = {}) => {
      const lines: string[] = [];
      const stages: string[] = [];
      const job = standaloneJob((s) => stages.push(s));
      try {
        return { status: await setupEnv(ctx, { wheelhouse, ...opts }, job, (l) => lines.push(l)), lines, stages, error: null };
      } catch (err) {
        return { status: null, lines, stages, error: (err as Error).message };
      }
    };

    // 1. a fresh venv, pip offline from the wheelhouse; torch is not there, so the check fails plainly
    const first = await run();
    const py = venvPython(venvDir(ctx));
    expect(existsSync(py)).toBe(true);
    expect(first.lines[0]).toBe(LICENSE_NOTE);
    expect(first.lines.join('\n')).toContain(`$ python -m pip install --no-index --find-links ${wheelhouse} -r`);
    expect(first.error).toMatch(/the import check failed after installing: .*(numpy|torch).*ModuleNotFoundError/);
    expect(first.stages).toEqual(expect.arrayContaining(['hardware', 'python', 'install', 'check']));
    expect(existsSync(path.join(venvDir(ctx), 'spotter-env.json'))).toBe(false);

    // 2. give the venv the development environment's packages: now the check passes, the stamp is written
    const purelib = async (p: string) => (await execa(p, ['-c', "import sysconfig; print(sysconfig.get_paths()['purelib'])"])).stdout.trim();
    await fs.writeFile(path.join(await purelib(py), 'spotter-test-dev.pth'), (await purelib(TRAINER_PYTHON)) + '\n');
    const second = await run();
    expect(second.error).toBeNull();
    expect(second.status?.ready).toBe(true);
    expect(second.status?.python).toBe(py);
    expect(second.status?.env?.python).toBe(py);
    expect(JSON.parse(await fs.readFile(path.join(venvDir(ctx), 'spotter-env.json'), 'utf8'))).toMatchObject({ requirements: expect.stringMatching(/\.txt$/), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });

    // 3. idempotent: nothing installed when the requirements did not change
    const third = await run();
    expect(third.status?.ready).toBe(true);
    expect(third.lines.join('\n')).toMatch(/up to date .*nothing to install/);
    expect(third.lines.some((l) => l.startsWith('$ python -m pip'))).toBe(false);

    // 4. changed requirements (in the file the per-hardware one includes) install again
    await fs.appendFile(path.join(nativeBin, 'requirements', 'common.txt'), '# changed\n');
    const fourth = await run();
    expect(fourth.lines.some((l) => l.startsWith('$ python -m pip install'))).toBe(true);
    expect(fourth.status?.ready).toBe(true);

    // 5. repair removes the environment and builds it again (the .pth is gone with it)
    const fifth = await run({ repair: true });
    expect(fifth.lines.join('\n')).toMatch(/repair: removing/);
    expect(fifth.error).toMatch(/import check failed/);
    expect(existsSync(py)).toBe(true);
    await fs.rm(ctx.paths.dataDir, { recursive: true, force: true }); // a venv is ~20 MB
  });
});
