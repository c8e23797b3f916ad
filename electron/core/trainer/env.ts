/**
 * The trainer's Python environment: find a Python (the `python` setting, SPOTTER_PYTHON, then PATH),
 * make a venv in the app's data folder, detect the hardware (nvidia-smi → CUDA torch; Apple Silicon →
 * MPS; else CPU), pip-install the pinned requirements for it, and finish with the sidecar's import
 * check (`python -m spotter_trainer env`), whose JSON is validated with EnvReport.
 *
 * Environment variables (documented in README):
 * - SPOTTER_PYTHON: the base interpreter that creates the venv.
 * - SPOTTER_TRAINER_PYTHON: an interpreter that already has everything (CI, tests, a hand-made env):
 *   used as it is, no venv, nothing installed.
 * - SPOTTER_TORCH_INDEX_URL: the package index torch/torchvision are installed from (e.g.
 *   https://download.pytorch.org/whl/cu126), or `default` for the default package index. Unset: chosen
 *   per hardware by `chooseTorchIndex` (Linux without an NVIDIA GPU: the CPU build index, since the
 *   default index's Linux wheels carry several GB of CUDA libraries; an NVIDIA driver too old for the
 *   default index's CUDA 13.0 build: an older CUDA build index; Windows with NVIDIA: a CUDA index).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { TrainerEnvStatus } from '../../shared/contract.js';
import { EnvReport, TRAINER_PROTOCOL } from '../../shared/trainer.js';
import type { CoreContext } from '../context.js';
import { exists, writeFileAtomic } from '../fsutil.js';
import type { JobContext } from '../jobs/jobs.js';
import { loadSettings } from '../settings.js';
import { runCommand, streamCommand } from './proc.js';
import { nativeBinDir, sidecarEnv } from './sidecar.js';

export type Hardware = TrainerEnvStatus['hardware'];
export type HardwareKind = Hardware['kind'];

export const MIN_PYTHON: [number, number] = [3, 9];
const STAMP = 'spotter-env.json';

export function venvDir(ctx: CoreContext): string {
  return path.join(ctx.paths.dataDir, 'trainer-env');
}

export function venvPython(venv: string): string {
  return process.platform === 'win32' ? path.join(venv, 'Scripts', 'python.exe') : path.join(venv, 'bin', 'python');
}

/** The interpreter training runs with: SPOTTER_TRAINER_PYTHON as it is, else the venv's. */
export function trainerPython(ctx: CoreContext): { python: string; prepared: boolean } {
  const pre = process.env.SPOTTER_TRAINER_PYTHON;
  if (pre) return { python: path.resolve(pre), prepared: true };
  return { python: venvPython(venvDir(ctx)), prepared: false };
}

export function requirementsFile(ctx: CoreContext, kind: HardwareKind): string {
  const name = kind === 'nvidia' ? 'cuda' : kind === 'apple' ? 'mps' : 'cpu';
  return path.join(nativeBinDir(ctx), 'requirements', `${name}.txt`);
}

// ------------------------------------------------------------------ python

export interface FoundPython {
  path: string;
  version: string;
}

/** A Python ≥ 3.9 to create the venv with; throws naming every candidate tried and why it failed. */
export async function findBasePython(ctx: CoreContext): Promise<FoundPython> {
  const settings = await loadSettings(ctx.paths.dataDir);
  const candidates: Array<[string, string]> = [];
  if (typeof settings.python === 'string' && settings.python) candidates.push([settings.python, 'the python setting']);
  if (process.env.SPOTTER_PYTHON) candidates.push([process.env.SPOTTER_PYTHON, 'SPOTTER_PYTHON']);
  for (const name of process.platform === 'win32' ? ['python', 'python3'] : ['python3', 'python']) candidates.push([name, 'PATH']);
  const tried: string[] = [];
  for (const [cand, from] of candidates) {
    const r = await runCommand(ctx, cand, ['-c', 'import sys, json; print(json.dumps([sys.version_info[0], sys.version_info[1], sys.version.split()[0], sys.executable]))'], { timeoutMs: 30_000 });
    if (r.code !== 0) {
      tried.push(`${cand} (${from}): ${r.error ?? (r.stderr.trim().split('\n').pop() || `exit ${r.code}`)}`);
      continue;
    }
    try {
      const [maj, min, version, exe] = JSON.parse(r.stdout.trim().split('\n').pop()!) as [number, number, string, string];
      if (maj < MIN_PYTHON[0] || (maj === MIN_PYTHON[0] && min < MIN_PYTHON[1])) {
        tried.push(`${cand} (${from}): Python ${version} is older than ${MIN_PYTHON.join('.')}`);
        continue;
      }
      return { path: exe || cand, version };
    } catch {
      tried.push(`${cand} (${from}): unexpected output ${r.stdout.slice(0, 80)}`);
    }
  }
  throw new Error(`no Python ${MIN_PYTHON.join('.')} or newer found; tried ${tried.join('; ')}. Install Python 3 (python.org) or set SPOTTER_PYTHON to its path.`);
}

// ------------------------------------------------------------------ hardware

/** Oldest Linux driver each CUDA build of torch runs on (NVIDIA's CUDA toolkit release notes). */
const DRIVER_FOR_CUDA: Record<string, number> = { '13.0': 580, '12.9': 575, '12.8': 570, '12.6': 560, '12.4': 550, '12.1': 530, '11.8': 520 };
/** The CUDA build the default index serves for the pinned torch (torch 2.14.1 → 13.0). */
const DEFAULT_CUDA = '13.0';

export async function detectHardware(ctx: CoreContext): Promise<Hardware> {
  const smi = await runCommand(ctx, 'nvidia-smi', ['--query-gpu=name,driver_version', '--format=csv,noheader'], { timeoutMs: 20_000 });
  if (smi.code === 0 && smi.stdout.trim()) {
    const rows = smi.stdout.trim().split('\n').map((l) => l.split(',').map((s) => s.trim()));
    return { kind: 'nvidia', gpus: rows.map((r) => r[0] ?? 'NVIDIA GPU'), driver: rows[0]?.[1] ?? null, note: null };
  }
  if (smi.code !== null && smi.code !== 0) {
    // nvidia-smi exists but fails: a driver problem worth saying, then train on the CPU
    const why = (smi.stderr || smi.stdout).trim().split('\n')[0] ?? '';
    return { kind: 'cpu', gpus: [], driver: null, note: `nvidia-smi failed (${why}): the NVIDIA driver is not working; set up for the CPU` };
  }
  if (process.platform === 'darwin' && os.arch() === 'arm64') return { kind: 'apple', gpus: ['Apple Silicon GPU (MPS)'], driver: null, note: null };
  return { kind: 'cpu', gpus: [], driver: null, note: process.platform === 'darwin' ? 'Intel Mac: no GPU training; CPU only' : null };
}

export const PYTORCH_INDEX = 'https://download.pytorch.org/whl';

export interface TorchIndexChoice {
  /** the index torch/torchvision come from; null: the default package index */
  url: string | null;
  /** why, in a sentence (logged at set-up) */
  reason: string;
  /** the choice is Spotter's, not the user's: fall back to the default index when it cannot be reached */
  fallback: boolean;
}

/**
 * Which package index torch comes from, per hardware and platform. `override` is SPOTTER_TORCH_INDEX_URL
 * (`default` = the default index).
 */
export function chooseTorchIndex(hw: Hardware, platform: NodeJS.Platform, override: string | undefined): TorchIndexChoice {
  if (override) {
    return override === 'default'
      ? { url: null, reason: 'SPOTTER_TORCH_INDEX_URL=default: torch from the default package index', fallback: false }
      : { url: override, reason: `SPOTTER_TORCH_INDEX_URL: torch from ${override}`, fallback: false };
  }
  if (hw.kind === 'apple' || platform === 'darwin') return { url: null, reason: "macOS: the default index's torch wheels are the right build", fallback: false };
  if (hw.kind === 'cpu') {
    return platform === 'linux'
      ? { url: `${PYTORCH_INDEX}/cpu`, reason: "no NVIDIA GPU: the CPU build of torch (the default index's Linux wheels carry several GB of CUDA libraries)", fallback: true }
      : { url: null, reason: "no NVIDIA GPU: the default index's torch wheels for this platform are CPU builds", fallback: false };
  }
  // NVIDIA: the newest CUDA build the driver runs
  const major = Number((hw.driver ?? '').split('.')[0]);
  const known = Number.isFinite(major) && major > 0;
  if (platform === 'linux' && (!known || major >= DRIVER_FOR_CUDA[DEFAULT_CUDA]!)) {
    return { url: null, reason: `NVIDIA driver ${hw.driver ?? '(unknown version)'}: the default index's CUDA ${DEFAULT_CUDA} build`, fallback: false };
  }
  for (const cuda of ['13.0', '12.8', '12.6']) {
    if (!known || major >= DRIVER_FOR_CUDA[cuda]!) {
      return { url: `${PYTORCH_INDEX}/cu${cuda.replace('.', '')}`, reason: `NVIDIA driver ${hw.driver ?? '?'}: the CUDA ${cuda} build of torch`, fallback: true };
    }
  }
  return { url: `${PYTORCH_INDEX}/cpu`, reason: `NVIDIA driver ${hw.driver} is older than any CUDA build of torch 2.14.1 supports: the CPU build (update the driver to train on the GPU)`, fallback: true };
}

/** Can the index be reached (a quick look, 5 s at most)? */
async function indexReachable(url: string): Promise<boolean> {
  try {
    const r = await fetch(`${url.replace(/\/+$/, '')}/torch/`, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
    return r.ok;
  } catch {
    return false;
  }
}

/** The CUDA version the torch build uses or will use: the check's report, the index URL, the requirements. */
async function cudaBuild(ctx: CoreContext, env: EnvReport | null): Promise<string> {
  if (env?.cuda) return env.cuda;
  const fromTag = (s: string) => {
    const m = /cu(\d{2,3})(\d)\b/.exec(s);
    return m ? `${Number(m[1])}.${m[2]}` : null;
  };
  const idx = process.env.SPOTTER_TORCH_INDEX_URL;
  if (idx && fromTag(idx)) return fromTag(idx)!;
  // only requirement lines (a pinned +cuXYZ build or an --index-url): the comments name example indexes
  const req = (await fs.readFile(requirementsFile(ctx, 'nvidia'), 'utf8').catch(() => ''))
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .join('\n');
  return fromTag(req) ?? DEFAULT_CUDA;
}

/** A plain sentence when the NVIDIA driver is older than the CUDA build of torch needs; else null. */
export function driverProblem(driver: string | null, cuda: string, torch: string | null): string | null {
  if (!driver) return null;
  const major = Number(driver.split('.')[0]);
  const need = DRIVER_FOR_CUDA[cuda] ?? (Number(cuda) >= 13 ? 580 : null);
  if (!need || !Number.isFinite(major) || major >= need) return null;
  return (
    `NVIDIA driver ${driver} is too old for torch ${torch ?? '2.14.1'} built for CUDA ${cuda}, which needs driver ${need} or newer. ` +
    `Update the driver, or set SPOTTER_TORCH_INDEX_URL to an index with an older CUDA build (e.g. https://download.pytorch.org/whl/cu126) and run \`spotter env setup --repair\`.`
  );
}

// ------------------------------------------------------------------ import check

/** `python -m spotter_trainer env`: the environment report, or why it could not be had. */
export async function checkEnv(ctx: CoreContext, python: string): Promise<{ report: EnvReport | null; error: string | null }> {
  if (!(await exists(python)) && path.isAbsolute(python)) return { report: null, error: `${python} does not exist` };
  const r = await runCommand(ctx, python, ['-m', 'spotter_trainer', 'env'], { env: sidecarEnv(ctx), timeoutMs: 180_000 });
  const lines = r.stdout.trim().split('\n').filter((l) => l.trim().startsWith('{'));
  const last = lines.pop();
  if (!last) {
    const why = r.error ?? (r.stderr.trim().split('\n').pop() || `exit ${r.code}`);
    return { report: null, error: `the import check (${python} -m spotter_trainer env) failed: ${why}` };
  }
  try {
    const parsed = EnvReport.safeParse(JSON.parse(last));
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      return { report: null, error: `the import check printed a report that does not match the protocol at ${i.path.join('.')}: ${i.message}` };
    }
    return { report: parsed.data, error: null };
  } catch (err) {
    return { report: null, error: `the import check printed invalid JSON: ${(err as Error).message}` };
  }
}

/** Packages training cannot do without; the others (onnx, onnxslim, onnxruntime) are needed for export. */
const TRAINING_PACKAGES = new Set(['numpy', 'torch', 'torchvision', 'ultralytics']);

/**
 * Problems with an environment report, in words: `blocking` ones keep the environment from being
 * ready to train, `other` ones limit it (export, GPU use).
 */
export function reportProblems(env: EnvReport, hw: Hardware): { blocking: string[]; other: string[] } {
  const blocking: string[] = [];
  const other: string[] = [];
  for (const m of env.missing) {
    if (TRAINING_PACKAGES.has(m.package)) blocking.push(`${m.package}: ${m.error}`);
    else other.push(`${m.package} (needed for export): ${m.error}`);
  }
  if (!env.torch && !env.missing.some((m) => m.package === 'torch')) blocking.push('torch is not installed');
  if (!env.ultralytics && !env.missing.some((m) => m.package === 'ultralytics')) blocking.push('ultralytics is not installed');
  if (env.protocol !== TRAINER_PROTOCOL) blocking.push(`the trainer package speaks protocol ${env.protocol}, the app ${TRAINER_PROTOCOL}: run setup with repair`);
  if (hw.kind === 'nvidia' && env.torch && !env.cuda_available) {
    other.push(env.cuda ? `torch ${env.torch} was built for CUDA ${env.cuda} but cannot use the GPU (driver ${hw.driver ?? 'unknown'}): training runs on the CPU` : `torch ${env.torch} is a CPU build on a machine with an NVIDIA GPU: run setup with repair to install the CUDA build`);
  }
  return { blocking, other };
}

export async function envStatus(ctx: CoreContext): Promise<TrainerEnvStatus> {
  const venv = venvDir(ctx);
  const { python, prepared } = trainerPython(ctx);
  const hardware = await detectHardware(ctx);
  const problems: string[] = [];
  let env: EnvReport | null = null;
  let blocking = true;
  if (!prepared && !(await exists(python))) {
    problems.push('the trainer environment is not set up yet: run `spotter env setup` (or Set up in the app)');
  } else {
    const c = await checkEnv(ctx, python);
    env = c.report;
    if (c.error) problems.push(c.error);
    if (env) {
      const p = reportProblems(env, hardware);
      problems.push(...p.blocking, ...p.other);
      blocking = p.blocking.length > 0;
    }
  }
  if (hardware.kind === 'nvidia') {
    const p = driverProblem(hardware.driver, await cudaBuild(ctx, env), env?.torch ?? null);
    if (p) problems.push(p);
  }
  return { ready: !!env && !blocking, python: prepared || (await exists(python)) ? python : null, venv: prepared ? path.dirname(path.dirname(python)) : venv, env, hardware, problems };
}

/** The interpreter and report of a ready environment, or an error saying what to do. */
export async function requireReadyEnv(ctx: CoreContext): Promise<{ python: string; env: EnvReport }> {
  const s = await envStatus(ctx);
  if (!s.ready || !s.python || !s.env) throw new Error(`the trainer environment is not ready: ${s.problems.join('; ') || 'unknown problem'}`);
  return { python: s.python, env: s.env };
}

// ------------------------------------------------------------------ set-up

const Stamp = z.object({ requirements: z.string(), hash: z.string(), torch_index: z.string().nullable(), installed_at: z.string() });

/** The requirements file and every file it includes (-r / -c), with the torch index: what an install depends on. */
async function requirementsHash(file: string, torchIndex: string | null): Promise<string> {
  const h = createHash('sha256');
  const seen = new Set<string>();
  const add = async (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    const text = await fs.readFile(f, 'utf8');
    h.update(`${path.basename(f)}\0${text}\0`);
    for (const line of text.split('\n')) {
      const m = /^\s*(?:-r|--requirement|-c|--constraint)[\s=]+(\S+)/.exec(line);
      if (m) await add(path.resolve(path.dirname(f), m[1]!));
    }
  };
  await add(file);
  h.update(`torch-index=${torchIndex ?? ''}`);
  return h.digest('hex');
}

export interface SetupOptions {
  repair?: boolean;
  /** a folder of wheels: install with --no-index --find-links (air-gapped labs) */
  wheelhouse?: string;
}

export const LICENSE_NOTE =
  'Ultralytics is licensed under AGPL-3.0 (https://www.ultralytics.com/license). Spotter (MIT) does not include its code or weights: ' +
  'set-up installs it from the package index into this trainer environment, like torch, and your use of it is under its licence.';

/**
 * Create or update the trainer environment. Idempotent: when the requirements file (and the torch index)
 * has not changed since the last install and the import check passes, nothing is installed.
 * `repair` removes the environment and installs everything again.
 */
export async function setupEnv(ctx: CoreContext, opts: SetupOptions, job: JobContext, onLog: (line: string) => void): Promise<TrainerEnvStatus> {
  const steps = 5;
  const log = (s: string) => {
    ctx.logger.info(s);
    onLog(s);
  };
  log(LICENSE_NOTE);
  const { python, prepared } = trainerPython(ctx);
  if (prepared) {
    job.progress('check', 4, steps);
    log(`SPOTTER_TRAINER_PYTHON=${python}: using this interpreter as it is; nothing is installed`);
    const s = await envStatus(ctx);
    for (const p of s.problems) log(`problem: ${p}`);
    job.progress('check', steps, steps);
    return s;
  }

  job.progress('hardware', 0, steps);
  const hw = await detectHardware(ctx);
  log(`hardware: ${hw.kind}${hw.gpus.length ? ` (${hw.gpus.join(', ')}${hw.driver ? `, driver ${hw.driver}` : ''})` : ''}${hw.note ? ` — ${hw.note}` : ''}`);
  const req = requirementsFile(ctx, hw.kind);
  if (!(await exists(req))) throw new Error(`${req}: the pinned requirements for ${hw.kind} are missing from the app`);
  const wheelhouse = opts.wheelhouse ? path.resolve(opts.wheelhouse) : undefined;
  if (wheelhouse && !(await exists(wheelhouse))) throw new Error(`${wheelhouse}: the wheelhouse folder does not exist`);
  let torchIndex: string | null = null;
  if (!wheelhouse) {
    const choice = chooseTorchIndex(hw, process.platform, process.env.SPOTTER_TORCH_INDEX_URL || undefined);
    log(`torch index: ${choice.reason}`);
    torchIndex = choice.url;
    if (torchIndex && choice.fallback && !(await indexReachable(torchIndex))) {
      log(`warning: ${torchIndex} cannot be reached: torch comes from the default package index instead (set SPOTTER_TORCH_INDEX_URL to choose)`);
      torchIndex = null;
    }
  }
  if (hw.kind === 'nvidia') {
    const tag = torchIndex ? /cu(\d{2,3})(\d)\b/.exec(torchIndex) : null;
    const p = driverProblem(hw.driver, tag ? `${Number(tag[1])}.${tag[2]}` : await cudaBuild(ctx, null), null);
    if (p) log(`warning: ${p}`);
  }
  const hash = await requirementsHash(req, wheelhouse ? null : torchIndex);
  const venv = venvDir(ctx);
  const stampFile = path.join(venv, STAMP);
  job.throwIfCancelled();

  if (opts.repair && (await exists(venv))) {
    log(`repair: removing ${venv}`);
    await fs.rm(venv, { recursive: true, force: true });
  }
  if (!opts.repair && (await exists(python))) {
    const stamp = Stamp.safeParse(JSON.parse(await fs.readFile(stampFile, 'utf8').catch(() => 'null')));
    if (stamp.success && stamp.data.hash === hash) {
      job.progress('check', 4, steps);
      const s = await envStatus(ctx);
      if (s.ready) {
        log(`the trainer environment at ${venv} is up to date (${path.basename(req)}); nothing to install`);
        job.progress('check', steps, steps);
        return s;
      }
      log(`the environment is installed but its check fails (${s.problems.join('; ')}): installing again`);
    }
  }

  job.progress('python', 1, steps);
  if (!(await exists(python))) {
    const base = await findBasePython(ctx);
    log(`creating a virtual environment with Python ${base.version} (${base.path}) at ${venv}`);
    await fs.mkdir(path.dirname(venv), { recursive: true });
    const r = await streamCommand(ctx, base.path, ['-m', 'venv', venv], { onLine: log, signal: job.signal });
    job.throwIfCancelled();
    if (r.code !== 0) {
      const why = r.stderr.includes('ensurepip') ? ' (Debian/Ubuntu: install the python3-venv package)' : '';
      throw new Error(`could not create the virtual environment at ${venv}: ${r.error ?? r.stderr.split('\n').pop()}${why}`);
    }
  }

  const pip = async (stage: string, step: number, args: string[]) => {
    job.progress(stage, step, steps);
    log(`$ python -m pip ${args.join(' ')}`);
    const r = await streamCommand(ctx, python, ['-m', 'pip', ...args], {
      env: { PIP_NO_INPUT: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1' },
      signal: job.signal,
      onLine: log,
    });
    job.throwIfCancelled();
    if (r.code !== 0) {
      const last = r.stderr.split('\n').filter((l) => /error/i.test(l)).pop() ?? r.stderr.split('\n').pop() ?? '';
      const offline = /Could not find a version|No matching distribution|NewConnectionError|Temporary failure in name resolution|Network is unreachable/i.test(r.stderr);
      throw new Error(
        `pip ${args[0]} failed: ${r.error ?? last}` +
          (offline ? (wheelhouse ? ` — the wheelhouse ${wheelhouse} lacks a wheel for this platform and Python` : ' — no network? Use --wheelhouse <dir> with downloaded wheels') : ''),
      );
    }
  };
  const source = wheelhouse ? ['--no-index', '--find-links', wheelhouse] : [];
  log(wheelhouse ? `installing offline from the wheelhouse ${wheelhouse}` : `installing from the package index${torchIndex ? ` (torch from ${torchIndex})` : ''}: ${path.basename(req)}`);
  if (!wheelhouse) await pip('pip', 2, ['install', '--upgrade', 'pip']).catch((err) => log(`warning: ${(err as Error).message} (continuing with the bundled pip)`));
  if (torchIndex && !wheelhouse) {
    // torch and torchvision alone from the override index (it does not serve ultralytics and friends)
    const pins = (await fs.readFile(req, 'utf8')).split('\n').map((l) => l.trim()).filter((l) => /^(torch|torchvision)\s*[=<>~!]/.test(l));
    if (pins.length) await pip('install torch', 3, ['install', '--index-url', torchIndex, ...pins]);
  }
  await pip('install', 3, ['install', ...source, '-r', req]);

  job.progress('check', 4, steps);
  log(`import check: ${python} -m spotter_trainer env`);
  const s = await envStatus(ctx);
  if (s.env) log(`torch ${s.env.torch ?? '-'} (CUDA ${s.env.cuda ?? 'none'}, available: ${s.env.cuda_available}), ultralytics ${s.env.ultralytics ?? '-'}, numpy ${s.env.numpy ?? '-'}`);
  for (const p of s.problems) log(`problem: ${p}`);
  if (!s.ready) throw new Error(`the import check failed after installing: ${s.problems.join('; ')}`);
  await writeFileAtomic(stampFile, JSON.stringify({ requirements: path.basename(req), hash, torch_index: wheelhouse ? null : torchIndex, installed_at: new Date().toISOString() }, null, 2));
  job.progress('check', steps, steps);
  log('the trainer environment is ready');
  return s;
}
