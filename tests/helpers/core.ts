import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { silentLogger, type CoreContext } from '../../electron/core/context.js';
import { expect } from 'vitest';
import { ImportError } from '../../electron/core/datasets/model.js';
import { REPO_ROOT } from './shared.js';

/** A fresh temporary folder; removed by the returned cleanup. */
export async function tempDir(prefix = 'spotter-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** A real core context in temporary folders (no mocks: real spawn, real files). */
export async function testContext(): Promise<CoreContext> {
  const dataDir = await tempDir('spotter-data-');
  return {
    paths: { dataDir, resourcesDir: path.join(REPO_ROOT, 'resources'), tempDir: path.join(dataDir, 'tmp') },
    logger: silentLogger,
    spawn: (file, args, options) => execa(file, args, options),
    version: '0.0.0-test',
  };
}

export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  await walk(dir);
  return out.sort();
}

/** Awaits `p`, expects it to reject with an ImportError, and returns that error for more checks. */
export async function expectImportError(p: Promise<unknown>): Promise<ImportError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImportError);
  return err as ImportError;
}
