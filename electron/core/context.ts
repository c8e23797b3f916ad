/**
 * What the core is given from outside: paths, a logger and process spawning. The Electron shell,
 * serve mode, the CLI and the tests each build one; the core never reaches for globals itself.
 */
import type { Options as ExecaOptions, ResultPromise } from 'execa';

export interface Logger {
  debug(msg: string, extra?: Record<string, unknown>): void;
  info(msg: string, extra?: Record<string, unknown>): void;
  warn(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, extra?: Record<string, unknown>): void;
}

export interface CorePaths {
  /** the app's own data folder (settings, caches, the trainer environment) */
  dataDir: string;
  /** bundled resources (sample dataset, fonts, icons) */
  resourcesDir: string;
  /** where temporary import folders go (uploads, zip extraction) */
  tempDir: string;
}

export type SpawnFn = (file: string, args: readonly string[], options?: ExecaOptions) => ResultPromise;

export interface CoreContext {
  paths: CorePaths;
  logger: Logger;
  spawn: SpawnFn;
  version: string;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export function consoleLogger(level: 'debug' | 'info' | 'warn' | 'error' = 'info', stream: NodeJS.WritableStream = process.stderr): Logger {
  const order = ['debug', 'info', 'warn', 'error'];
  const min = order.indexOf(level);
  const write = (lvl: string) => (msg: string, extra?: Record<string, unknown>) => {
    if (order.indexOf(lvl) < min) return;
    stream.write(`[${new Date().toISOString()}] ${lvl}: ${msg}${extra ? ' ' + JSON.stringify(extra) : ''}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
