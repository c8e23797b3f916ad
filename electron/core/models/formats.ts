/**
 * The export formats and whether this machine can build each (`python -m spotter_trainer formats`: package
 * metadata only, well under a second), and installing a format's packages on demand into the trainer
 * environment: `pip install -r native-bin/requirements/export-<format>.txt`, with torch, torchvision,
 * Ultralytics and the other packages training depends on held at their installed versions by a constraints
 * file, so an export package can never replace them (pip refuses and says which package wanted what).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ExportFormatInfo } from '../../shared/review.js';
import type { CoreContext } from '../context.js';
import { exists, writeFileAtomic } from '../fsutil.js';
import type { JobContext } from '../jobs/jobs.js';
import { trainerPython } from '../trainer/env.js';
import { runCommand, streamCommand } from '../trainer/proc.js';
import { nativeBinDir, sidecarEnv, startSidecar } from '../trainer/sidecar.js';

/** Spotter's format keys, in menu order (the sidecar's table is the source of truth for the details). */
export const FORMAT_KEYS = ['onnx', 'torchscript', 'openvino', 'tflite', 'ncnn', 'coreml', 'engine', 'rknn'] as const;
const ALIASES: Record<string, string> = { litert: 'tflite', tensorrt: 'engine', trt: 'engine', mlpackage: 'coreml' };

export function normalizeFormat(format: string): string {
  const f = format.trim().toLowerCase();
  return ALIASES[f] ?? f;
}

/** The interpreter of the trainer environment, when it exists (formats need no import check). */
async function trainerInterpreter(ctx: CoreContext): Promise<string> {
  const { python, prepared } = trainerPython(ctx);
  if (!prepared && !(await exists(python))) throw new Error('the trainer environment is not set up yet: run `spotter env setup` (or Set up on the Train page)');
  return python;
}

/** Every export format with what it lacks here (missing packages) or why it cannot be built here (blocked). */
export async function listFormats(ctx: CoreContext, signal?: AbortSignal): Promise<ExportFormatInfo[]> {
  const python = await trainerInterpreter(ctx);
  let formats: ExportFormatInfo[] | null = null;
  const sc = startSidecar(ctx, {
    python,
    args: ['formats'],
    signal,
    stopSignal: 'SIGTERM',
    stopTimeoutMs: 5_000,
    onEvent: (e) => {
      if (e.type === 'formats') formats = e.formats;
    },
  });
  const r = await sc.result;
  if (r.failure) throw new Error(`the trainer could not list the export formats: ${r.failure.message}${r.failure.hint ? ` — ${r.failure.hint}` : ''}`);
  if (!formats) throw new Error(`the trainer listed no export formats (${r.stderrTail.slice(-3).join(' ') || `exit ${r.exitCode}`})`);
  return formats;
}

export async function formatInfo(ctx: CoreContext, format: string): Promise<ExportFormatInfo> {
  const key = normalizeFormat(format);
  const all = await listFormats(ctx);
  const f = all.find((x) => x.format === key);
  if (!f) throw new Error(`unknown export format "${format}" (known: ${all.map((x) => x.format).join(', ')})`);
  return f;
}

/** export-<format>.txt; TensorRT for a torch built for CUDA 12 uses export-engine-cu12.txt. */
export async function requirementsFor(ctx: CoreContext, format: string, cuda: string | null): Promise<string> {
  const dir = path.join(nativeBinDir(ctx), 'requirements');
  const key = normalizeFormat(format);
  const major = cuda?.split('.')[0];
  if (key === 'engine' && major && major !== '13' && (await exists(path.join(dir, `export-engine-cu${major}.txt`)))) return path.join(dir, `export-engine-cu${major}.txt`);
  return path.join(dir, `export-${key}.txt`);
}

/** What training depends on: held at the installed versions while a format's packages are installed. */
const HELD = ['torch', 'torchvision', 'ultralytics', 'numpy', 'opencv-python', 'onnx', 'onnxruntime', 'onnxslim', 'pillow', 'matplotlib'];

/** Requirement names of a requirements file (lower case, `-` for `_`). */
export function requirementNames(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter((l) => l && !l.startsWith('-'))
    .map((l) => (/^[A-Za-z0-9][A-Za-z0-9._-]*/.exec(l)?.[0] ?? '').toLowerCase().replace(/_/g, '-'))
    .filter(Boolean);
}

async function installedVersions(ctx: CoreContext, python: string, names: string[]): Promise<Record<string, string>> {
  const code = `import json, sys\nfrom importlib import metadata\nout = {}\nfor n in sys.argv[1:]:\n    try:\n        out[n] = metadata.version(n)\n    except metadata.PackageNotFoundError:\n        pass\nprint(json.dumps(out))`;
  const r = await runCommand(ctx, python, ['-c', code, ...names], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`could not read the trainer environment's packages: ${r.error ?? r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, string>;
}

/** pip's output, as stages of the install job. */
function pipStage(line: string): [string, number] | null {
  if (/^\s*Collecting |^\s*Requirement already satisfied/.test(line)) return ['resolve', 1];
  if (/^\s*Downloading |^\s*Using cached /.test(line)) return ['download', 2];
  if (/^\s*Installing collected packages/.test(line)) return ['install', 3];
  return null;
}

/**
 * The 'install' job: pip-install a format's pinned packages into the trainer environment, each pip line to
 * `onLog`, then list the formats again. Refuses a blocked format (wrong OS, no GPU, a conflict with the
 * trainer's torch) and says so; a format with nothing missing installs nothing.
 */
export async function installFormat(ctx: CoreContext, format: string, job: JobContext, onLog: (line: string) => void): Promise<ExportFormatInfo[]> {
  const steps = 5;
  const log = (s: string) => {
    ctx.logger.info(s);
    onLog(s);
  };
  job.progress('check', 0, steps);
  const python = await trainerInterpreter(ctx);
  const info = await formatInfo(ctx, format);
  if (info.blocked) throw new Error(`${info.label} export cannot be built on this machine, so nothing is installed: ${info.blocked}`);
  if (!info.missing.length) {
    log(`${info.label}: every package it needs is installed; nothing to install`);
    job.progress('check', steps, steps);
    return listFormats(ctx, job.signal);
  }
  // the sidecar names the TensorRT build for torch's CUDA (tensorrt-cu13, tensorrt-cu12)
  const cudaMajor = info.missing.map((m) => /^tensorrt-cu(\d+)/.exec(m)?.[1]).find(Boolean) ?? null;
  const req = await requirementsFor(ctx, info.format, cudaMajor ? `${cudaMajor}.0` : null);
  if (!(await exists(req))) throw new Error(`${req}: the app has no pinned requirements for ${info.label} (missing: ${info.missing.join(', ')})`);
  const wanted = new Set(requirementNames(await fs.readFile(req, 'utf8')));
  const held = await installedVersions(ctx, python, HELD.filter((n) => !wanted.has(n)));
  const constraints = path.join(ctx.paths.tempDir, `export-constraints-${process.pid}-${Date.now()}.txt`);
  await fs.mkdir(ctx.paths.tempDir, { recursive: true });
  await writeFileAtomic(constraints, `# held while installing ${path.basename(req)}\n${Object.entries(held).map(([n, v]) => `${n}==${v}`).join('\n')}\n`);
  log(`${info.label} needs ${info.missing.join(', ')}: installing ${path.basename(req)} into the trainer environment (${python})`);
  if (wanted.has('numpy')) log(`note: ${path.basename(req)} pins numpy; \`spotter env setup --repair\` restores the trainer's own pins`);
  const args = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-r', req, '-c', constraints];
  log(`$ python ${args.join(' ')}`);
  job.progress('resolve', 1, steps);
  let r;
  try {
    r = await streamCommand(ctx, python, args, {
      env: { ...sidecarEnv(ctx), PIP_NO_INPUT: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1' },
      signal: job.signal,
      tail: 60,
      onLine: (line) => {
        log(line);
        const st = pipStage(line);
        if (st) job.progress(st[0], st[1], steps);
      },
    });
  } finally {
    await fs.rm(constraints, { force: true });
  }
  job.throwIfCancelled();
  if (r.code !== 0) {
    const lines = r.stderr.split('\n');
    const last = lines.filter((l) => /error|conflict|cannot install/i.test(l)).slice(-2).join(' ') || lines.pop() || '';
    const offline = /Could not find a version|No matching distribution|NewConnectionError|Temporary failure in name resolution|Network is unreachable/i.test(r.stderr);
    throw new Error(`installing ${info.label}'s packages failed (pip, ${path.basename(req)}): ${r.error ?? last}${offline ? ' — no network, or no wheel for this platform and Python' : ''}`);
  }
  job.progress('check', 4, steps);
  const after = await listFormats(ctx, job.signal);
  const now = after.find((f) => f.format === info.format);
  if (now && !now.available) throw new Error(`pip finished, but ${info.label} export is still not available: ${now.blocked ?? `missing ${now.missing.join(', ')}`}`);
  log(`${info.label} export is available`);
  job.progress('check', steps, steps);
  return after;
}
