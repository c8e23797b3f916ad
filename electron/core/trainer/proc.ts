/**
 * Small process helpers on the injected spawn (ctx.spawn is execa): one-shot commands with their
 * output, and line streaming of long ones. Never a shell string: file + argument array.
 */
import { readFileSync } from 'node:fs';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import type { CoreContext } from '../context.js';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** the process could not be started or was killed (timeout, signal): in words */
  error: string | null;
}

/** Run to completion and collect output; never throws for a failing command. */
export async function runCommand(
  ctx: CoreContext,
  file: string,
  args: readonly string[],
  opts: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  try {
    const r = await ctx.spawn(file, args, {
      env: opts.env,
      cwd: opts.cwd,
      reject: false,
      timeout: opts.timeoutMs,
      stdin: 'ignore',
      windowsHide: true,
    });
    const stdout = typeof r.stdout === 'string' ? r.stdout : '';
    const stderr = typeof r.stderr === 'string' ? r.stderr : '';
    const code = typeof r.exitCode === 'number' ? r.exitCode : null;
    let error: string | null = null;
    if (r.timedOut) error = `timed out after ${Math.round((opts.timeoutMs ?? 0) / 1000)} s`;
    else if (code === null) error = r.signal ? `killed by ${r.signal}` : (r.originalMessage ?? r.shortMessage ?? 'could not be started');
    return { code, stdout, stderr, error };
  } catch (err) {
    return { code: null, stdout: '', stderr: '', error: (err as Error).message };
  }
}

/** Call `onLine` for every line of a stream (CR-only progress redraws count as line ends). */
export function eachLine(stream: Readable | null | undefined, onLine: (line: string) => void): Promise<void> {
  if (!stream) return Promise.resolve();
  const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
  rl.on('line', (l) => {
    for (const part of l.split('\r')) if (part.trim()) onLine(part);
  });
  return new Promise((resolve) => rl.once('close', () => resolve()));
}

/** When a process started (ms since the epoch, to a clock tick), from /proc on Linux; null elsewhere or when gone. */
function procStartMs(pid: number): number | null {
  if (process.platform !== 'linux') return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: fields after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]); // field 22, starttime, in clock ticks after boot
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(btime)) return null;
    return Math.round(btime * 1000 + ticks * 10); // USER_HZ is 100 on every Linux ABI Node runs on
  } catch {
    return null;
  }
}

/** This process's start (ms since the epoch), measured the way other processes' starts are. */
export const PROCESS_STARTED_MS = procStartMs(process.pid) ?? Math.round(Date.now() - process.uptime() * 1000);

/** When a process started: this process's everywhere, others' on Linux; null when it cannot be told or the process is gone. */
export function processStartMs(pid: number): number | null {
  return pid === process.pid ? PROCESS_STARTED_MS : procStartMs(pid);
}

/**
 * Whether `pid` still names the process that started at `startedMs`: a pid reused by another process
 * (a restarted container gives the app the same small pid) is not it. Without a recorded start (older
 * records) or where starts cannot be read, whether the pid is alive.
 */
export function isSameProcess(pid: number, startedMs: number | null | undefined): boolean {
  if (!isAlive(pid)) return false;
  if (startedMs === null || startedMs === undefined) return true;
  const now = processStartMs(pid);
  return now === null || Math.abs(now - startedMs) <= 2_000;
}

/** True while a process with this id exists (EPERM: exists, not ours). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Run a long command, handing every output line (stdout and stderr) to `onLine`; cancellable. */
export async function streamCommand(
  ctx: CoreContext,
  file: string,
  args: readonly string[],
  opts: { env?: Record<string, string>; signal?: AbortSignal; onLine: (line: string) => void; tail?: number },
): Promise<RunResult> {
  const tail: string[] = [];
  const keep = opts.tail ?? 40;
  const onLine = (line: string) => {
    tail.push(line);
    if (tail.length > keep) tail.shift();
    opts.onLine(line);
  };
  let sub;
  try {
    sub = ctx.spawn(file, args, {
      env: opts.env,
      reject: false,
      buffer: false,
      stdin: 'ignore',
      windowsHide: true,
      cancelSignal: opts.signal,
      cleanup: true,
    });
  } catch (err) {
    return { code: null, stdout: '', stderr: '', error: (err as Error).message };
  }
  const lines = Promise.all([eachLine(sub.stdout, onLine), eachLine(sub.stderr, onLine)]);
  const r = await sub;
  await lines;
  const code = typeof r.exitCode === 'number' ? r.exitCode : null;
  const error = r.isCanceled ? 'cancelled' : code === null ? (r.signal ? `killed by ${r.signal}` : (r.originalMessage ?? 'could not be started')) : null;
  return { code, stdout: '', stderr: tail.join('\n'), error };
}
