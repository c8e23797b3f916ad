/**
 * What every CLI command shares: the core context, a job context that draws a progress bar on a
 * TTY and cancels on Ctrl-C, argument parsers, and the exit-code carrier.
 */
import { InvalidArgumentError } from 'commander';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import cliProgress from 'cli-progress';
import { consoleLogger, type CoreContext } from '../core/context.js';
import { standaloneJob, type JobContext } from '../core/jobs/jobs.js';
import { SPOTTER_VERSION } from '../core/version.js';
import type { HealthReport } from '../shared/schemas.js';

/** The repository/app root: dist/cli/index.js → ../.. */
export function appRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
}

export function defaultDataDir(): string {
  if (process.env.SPOTTER_DATA_DIR) return path.resolve(process.env.SPOTTER_DATA_DIR);
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? os.homedir(), 'Spotter');
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', 'Spotter');
  return path.join(process.env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share'), 'spotter');
}

export function makeContext(dataDir = defaultDataDir(), verbose = false): CoreContext {
  return {
    paths: { dataDir, resourcesDir: path.join(appRoot(), 'resources'), tempDir: path.join(dataDir, 'tmp') },
    logger: consoleLogger(verbose ? 'debug' : 'warn'),
    spawn: (file, args, options) => execa(file, args, options),
    version: SPOTTER_VERSION,
  };
}

/** A job context that draws a progress bar on a TTY (quiet otherwise) and cancels on Ctrl-C. */
export function cliJob(quiet: boolean, verbose = false): { job: JobContext; done: () => void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping… (Ctrl-C again to force)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  const tty = !quiet && process.stderr.isTTY;
  const bar = tty
    ? new cliProgress.SingleBar(
        { format: ' {bar} {percentage}% | {value}/{total} | {stage}', stream: process.stderr, hideCursor: true, clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let started = false;
  let lastStage = '';
  let stageStart = performance.now();
  let timedStage = '';
  const job = standaloneJob((stage, d, t) => {
    if (verbose && stage !== timedStage) {
      const now = performance.now();
      if (timedStage) process.stderr.write(`[stage] ${timedStage}: ${((now - stageStart) / 1000).toFixed(2)} s\n`);
      timedStage = stage;
      stageStart = now;
    }
    if (!bar) return;
    if (!started) {
      bar.start(Math.max(1, t), d, { stage });
      started = true;
    }
    if (stage !== lastStage) {
      bar.setTotal(Math.max(1, t));
      lastStage = stage;
    }
    bar.update(d, { stage });
  }, controller.signal);
  return {
    job,
    done: () => {
      if (verbose && timedStage) process.stderr.write(`[stage] ${timedStage}: ${((performance.now() - stageStart) / 1000).toFixed(2)} s\n`);
      if (started) bar?.stop();
      process.off('SIGINT', onSigint);
    },
  };
}

/** ImportOptions field → the CLI flag that sets it, for usage messages. */
export function cliOptionName(field: string): string {
  const names: Record<string, string> = { dupThreshold: 'dup-threshold', guardGap: 'guard-gap', ratios: 'split', keepSplits: 'keep-splits', classMap: 'map', sources: 'source' };
  return names[field] ?? field;
}

export function parseRatios(v: string): [number, number, number] {
  const parts = v.split(',').map((x) => Number(x.trim()));
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => !Number.isFinite(x) || x < 0)) {
    throw new InvalidArgumentError('expected two or three non-negative numbers, e.g. 0.8,0.1,0.1');
  }
  const [a, b, c = 0] = parts as [number, number, number?];
  const sum = a + b + c;
  if (!(a > 0) || sum <= 0) throw new InvalidArgumentError('train share must be positive');
  return [a / sum, b / sum, c / sum];
}

export function parseIntArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected an integer');
  return n;
}

export function printHealth(h: HealthReport, out: NodeJS.WritableStream): void {
  out.write(`health: ${h.ok ? 'ok' : 'ERRORS'} (${h.counts.errors} errors, ${h.counts.warnings} warnings, ${h.counts.infos} notes) at imgsz ${h.imgsz}\n`);
  for (const i of h.issues) {
    out.write(`  ${i.severity.padEnd(7)} ${i.code}: ${i.message}${i.count !== undefined ? ` [${i.count}]` : ''}\n`);
    const ex = [...(i.files ?? []), ...(i.items ?? [])].slice(0, 3);
    if (ex.length) out.write(`          e.g. ${ex.join(', ')}\n`);
  }
}

export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/**
 * Keep the computer from sleeping while training, where the OS offers a command for it (macOS
 * caffeinate, systemd-inhibit on Linux); silently nothing elsewhere.
 */
export function keepAwake(reason: string): () => void {
  const cmd: [string, string[]] | null =
    process.platform === 'darwin'
      ? ['caffeinate', ['-i', '-w', String(process.pid)]]
      : process.platform === 'linux'
        ? ['systemd-inhibit', ['--what=idle:sleep', '--who=Spotter', `--why=${reason}`, '--mode=block', 'sleep', 'infinity']]
        : null;
  if (!cmd) return () => {};
  try {
    const sub = execa(cmd[0], cmd[1], { stdio: 'ignore', reject: false, cleanup: true });
    sub.catch(() => {});
    return () => {
      sub.kill();
    };
  } catch {
    return () => {};
  }
}
