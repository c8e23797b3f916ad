/**
 * The trainer sidecar process (`python -m spotter_trainer <command>`): NDJSON events on stdout, each
 * validated with the shared schema (a bad line is logged as a protocol error, never a crash), human
 * logs on stderr (appended to the run's train.log), `{"cmd":"stop"}` on stdin for a graceful stop with
 * a hard kill only after a timeout. The end is classified into a plain-language failure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode, TRAINER_PROTOCOL, TrainerEvent, type TrainerCommand } from '../../shared/trainer.js';
import type { CoreContext } from '../context.js';
import { eachLine } from './proc.js';

export type DoneEvent = Extract<TrainerEvent, { type: 'done' }>;
export type ErrorEvent = Extract<TrainerEvent, { type: 'error' }>;

/** Where the Python package lives: beside resources/ in a checkout and in the packaged app alike. */
export function nativeBinDir(ctx: CoreContext): string {
  return process.env.SPOTTER_NATIVE_BIN ? path.resolve(process.env.SPOTTER_NATIVE_BIN) : path.resolve(ctx.paths.resourcesDir, '..', 'native-bin');
}

/**
 * The sidecar's environment: the package on PYTHONPATH, Ultralytics' settings kept in the app's data
 * folder (YOLO_CONFIG_DIR is Ultralytics' own name; the sidecar reads SPOTTER_YOLO_CONFIG_DIR), the
 * bundled font (Ultralytics would download Arial.ttf), offline, unbuffered output (live events).
 */
export function sidecarEnv(ctx: CoreContext): Record<string, string> {
  const configDir = path.join(ctx.paths.dataDir, 'ultralytics');
  const pp = process.env.PYTHONPATH;
  return {
    PYTHONPATH: pp ? `${nativeBinDir(ctx)}${path.delimiter}${pp}` : nativeBinDir(ctx),
    SPOTTER_YOLO_CONFIG_DIR: configDir,
    YOLO_CONFIG_DIR: configDir,
    SPOTTER_FONT: path.join(ctx.paths.resourcesDir, 'fonts', 'DejaVuSans.ttf'),
    YOLO_OFFLINE: '1',
    PYTHONUNBUFFERED: '1',
    PYTHONIOENCODING: 'utf-8',
  };
}

export type ParsedLine = { ok: true; event: TrainerEvent } | { ok: false; error: string };

/** One stdout line → a validated event, or why it is not one. */
export function parseEventLine(line: string): ParsedLine {
  const text = line.trim();
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, error: `not JSON: ${text.slice(0, 200)}` };
  }
  const r = TrainerEvent.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const type = data && typeof data === 'object' && 'type' in data ? String((data as { type: unknown }).type) : '?';
    return { ok: false, error: `event "${type}" does not match the protocol at ${issue.path.join('.') || '(root)'}: ${issue.message}` };
  }
  return { ok: true, event: r.data };
}

export interface SidecarFailure {
  code: ErrorCode;
  message: string;
  hint: string | null;
}

export interface SidecarOptions {
  python: string;
  /** sidecar command and its arguments, e.g. ['train', '--spec', file] */
  args: string[];
  /** stderr (and protocol errors) are appended here */
  logFile?: string;
  onEvent?: (e: TrainerEvent) => void;
  onLog?: (line: string) => void;
  onProtocolError?: (line: string, reason: string) => void;
  /** after a stop request, kill when the process has been silent this long (default 120 s): every event
   *  or log line restarts the clock (it is alive and finishing its epoch, validating, saving) */
  stopTimeoutMs?: number;
  /** aborting it is a graceful stop */
  signal?: AbortSignal;
  /** stop with this signal instead of the stop command (val and export have no graceful stop) */
  stopSignal?: NodeJS.Signals;
  cwd?: string;
  env?: Record<string, string>;
}

export interface SidecarResult {
  exitCode: number | null;
  signal: string | null;
  done: DoneEvent | null;
  lastError: ErrorEvent | null;
  /** every event, in order, of a short command (export, val, env); capped for training */
  lastEvent: TrainerEvent | null;
  stopRequested: boolean;
  /** hard-killed after the stop timeout */
  killed: boolean;
  protocolErrors: number;
  stderrTail: string[];
  /** null when it ended cleanly (exit 0, or stopped on request) */
  failure: SidecarFailure | null;
}

export interface Sidecar {
  readonly pid: number | undefined;
  /** graceful stop: the stop command, then a kill after the timeout */
  stop(): void;
  readonly result: Promise<SidecarResult>;
}

export function startSidecar(ctx: CoreContext, opts: SidecarOptions): Sidecar {
  const log = opts.logFile ? fs.createWriteStream(opts.logFile, { flags: 'a' }) : null;
  const logLine = (s: string) => log?.write(s.endsWith('\n') ? s : s + '\n');
  const sub = ctx.spawn(opts.python, ['-m', 'spotter_trainer', ...opts.args], {
    env: { ...sidecarEnv(ctx), ...opts.env },
    cwd: opts.cwd,
    reject: false,
    buffer: false,
    stdin: 'pipe',
    windowsHide: true,
    cleanup: true, // never leave a trainer behind when Node exits
  });
  // a trainer that exits while we write the stop command: EPIPE is expected, not an error
  sub.stdin?.on('error', () => {});

  const st = {
    done: null as DoneEvent | null,
    lastError: null as ErrorEvent | null,
    lastEvent: null as TrainerEvent | null,
    stopRequested: false,
    killed: false,
    protocolErrors: 0,
    stderrTail: [] as string[],
  };
  let killTimer: NodeJS.Timeout | undefined;
  let exited = false;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 120_000;
  /** (re)start the hard-kill clock: a kill in the middle of a save is what the graceful stop avoids */
  const armKill = () => {
    if (!st.stopRequested || st.killed || exited) return;
    clearTimeout(killTimer);
    killTimer = setTimeout(() => {
      st.killed = true;
      logLine(`[spotter] the trainer stopped reporting for ${Math.round(stopTimeoutMs / 1000)} s after the stop request: killed`);
      sub.kill('SIGKILL');
    }, stopTimeoutMs);
    killTimer.unref?.();
  };

  const stop = () => {
    if (st.stopRequested) return;
    st.stopRequested = true;
    const cmd: TrainerCommand = { cmd: 'stop' };
    logLine(`[spotter] stop requested`);
    try {
      if (opts.stopSignal) sub.kill(opts.stopSignal);
      else sub.stdin?.write(JSON.stringify(cmd) + '\n');
    } catch {
      /* already gone */
    }
    armKill();
  };
  if (opts.signal) {
    if (opts.signal.aborted) stop();
    else opts.signal.addEventListener('abort', stop, { once: true });
  }

  const onStdout = (line: string) => {
    armKill();
    const p = parseEventLine(line);
    if (!p.ok) {
      st.protocolErrors++;
      logLine(`[spotter] protocol error: ${p.error}`);
      ctx.logger.warn(`trainer protocol error: ${p.error}`);
      opts.onProtocolError?.(line, p.error);
      return;
    }
    const e = p.event;
    if (e.type === 'hello' && e.protocol !== TRAINER_PROTOCOL) {
      const msg = `the trainer speaks protocol ${e.protocol}, this app ${TRAINER_PROTOCOL}: run \`spotter env setup --repair\` or update the app`;
      logLine(`[spotter] protocol error: ${msg}`);
      opts.onProtocolError?.(line, msg);
    }
    if (e.type === 'done') st.done = e;
    if (e.type === 'error') st.lastError = e;
    st.lastEvent = e;
    opts.onEvent?.(e);
  };
  const onStderr = (line: string) => {
    armKill();
    st.stderrTail.push(line);
    if (st.stderrTail.length > 60) st.stderrTail.shift();
    logLine(line);
    opts.onLog?.(line);
  };

  const result = (async (): Promise<SidecarResult> => {
    // readline only: the stdout 'line' handler must not drop a line when the consumer throws
    const lines = Promise.all([eachLine(sub.stdout, onStdout), eachLine(sub.stderr, onStderr)]);
    const r = await sub;
    exited = true;
    clearTimeout(killTimer);
    await lines;
    opts.signal?.removeEventListener('abort', stop);
    const exitCode = typeof r.exitCode === 'number' ? r.exitCode : null;
    const signal = r.signal ?? null;
    if (exitCode === null && !signal && r.failed) onStderr(`[spotter] could not start ${opts.python}: ${r.originalMessage ?? r.shortMessage}`);
    await new Promise<void>((res) => (log ? log.end(() => res()) : res()));
    const base = { exitCode, signal, ...st };
    return { ...base, failure: classifyFailure(base) };
  })();

  return { pid: sub.pid, stop, result };
}

const HINTS: Record<ErrorCode, string | null> = {
  'cuda-oom': 'The GPU ran out of memory: retry with a smaller batch (half of it), a smaller imgsz, or batch -1 (auto).',
  'dataset-not-found': "Check that data.yaml's path: is the dataset's absolute folder and that its images are there.",
  'corrupt-weights': 'The .pt file is damaged or not an Ultralytics checkpoint: train from a model .yaml or pick another .pt.',
  'abi-mismatch': 'numpy and torch in the trainer environment do not fit together: run `spotter env setup --repair`.',
  'no-gpu': "No usable GPU for the device asked for: pick device cpu, or check the driver with nvidia-smi.",
  'missing-package': 'The trainer environment is incomplete: run `spotter env setup --repair`.',
  'bad-spec': null,
  unknown: null,
};

/** Patterns of Python tracebacks for when the sidecar died before it could report the error itself. */
const PATTERNS: Array<[RegExp, ErrorCode]> = [
  [/CUDA out of memory|OutOfMemoryError|CUBLAS_STATUS_ALLOC_FAILED/i, 'cuda-oom'],
  [/_ARRAY_API not found|numpy\.core\.multiarray failed|compiled using NumPy 1|numpy\.dtype size changed|\bABI\b/, 'abi-mismatch'],
  [/PytorchStreamReader failed|invalid load key|failed finding central directory|checkpoint file is corrupted/i, 'corrupt-weights'],
  [/Dataset .*(not found|missing)|images not found|does not exist.*\.yaml|No such file or directory.*data\.yaml/i, 'dataset-not-found'],
  [/Invalid CUDA 'device|no CUDA GPUs are available|Torch not compiled with CUDA|cuda\.is_available\(\): False|MPS backend.*not available/i, 'no-gpu'],
  [/ModuleNotFoundError|No module named|ImportError/i, 'missing-package'],
];

export function classifyFailure(r: Omit<SidecarResult, 'failure'>): SidecarFailure | null {
  // a second Ctrl-C (or one during val/export) ends the sidecar with "interrupted": what was asked for
  if (r.stopRequested && (!r.lastError || r.lastError.message === 'interrupted')) return null; // hard-killed or not
  if (r.lastError) return { code: r.lastError.code, message: r.lastError.message, hint: r.lastError.hint ?? HINTS[r.lastError.code] };
  if (r.exitCode === 0) return null;
  const text = r.stderrTail.join('\n');
  const lastLine = [...r.stderrTail].reverse().find((l) => l.trim() && !l.startsWith('[spotter]')) ?? '';
  for (const [re, code] of PATTERNS) {
    if (re.test(text)) {
      const m = code === 'missing-package' ? /No module named '?([\w.]+)'?/.exec(text) : null;
      return { code, message: m ? `the Python package "${m[1]}" is missing in the trainer environment` : lastLine || `the trainer failed (${code})`, hint: HINTS[code] };
    }
  }
  if (r.signal) {
    const oom = r.signal === 'SIGKILL';
    return {
      code: 'unknown',
      message: `the trainer was killed (${r.signal})${oom ? ': often the system running out of memory' : ''}`,
      hint: oom ? 'Lower batch, workers or cache (cache=ram holds the whole dataset in memory).' : null,
    };
  }
  return { code: 'unknown', message: lastLine ? `the trainer exited with code ${r.exitCode}: ${lastLine}` : `the trainer exited with code ${r.exitCode}`, hint: 'See train.log in the run folder.' };
}
