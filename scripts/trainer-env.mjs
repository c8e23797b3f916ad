#!/usr/bin/env node
// Sets up the trainer environment the tests use, through Spotter's own bootstrap
// (`spotter env setup`: venv, pinned requirements for this hardware, import check), into
// .cache/test-data so it is reused between runs (idempotent: a ready environment installs nothing).
// Adds pytest to that environment, and prints the interpreter path on stdout.
// SPOTTER_TRAINER_PYTHON set from outside (an environment you prepared) skips all of this.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TEST_DATA_DIR = path.join(root, '.cache', 'test-data');

export function trainerPython() {
  if (process.env.SPOTTER_TRAINER_PYTHON) return process.env.SPOTTER_TRAINER_PYTHON;
  const spotter = [path.join(root, 'bin', 'spotter.mjs'), '--data-dir', TEST_DATA_DIR];
  process.stderr.write(`trainer environment: ${path.join(TEST_DATA_DIR, 'trainer-env')} (spotter env setup)\n`);
  // our build and CI machines get torch==2.14.1 from the default index (a CPU-only Linux user's set-up would
  // choose the CPU build index instead): say so, so set-up neither probes nor reaches another index
  const env = { ...process.env, SPOTTER_TORCH_INDEX_URL: process.env.SPOTTER_TORCH_INDEX_URL || 'default' };
  const setup = spawnSync(process.execPath, [...spotter, 'env', 'setup'], { stdio: ['ignore', 'inherit', 'inherit'], env });
  if (setup.status !== 0) throw new Error(`spotter env setup failed (exit ${setup.status})`);
  const status = JSON.parse(execFileSync(process.execPath, [...spotter, 'env', 'status', '--json'], { encoding: 'utf8' }));
  if (!status.ready || !status.python) throw new Error(`trainer environment not ready after set-up: ${status.problems?.join('; ')}`);
  // pytest is a test-only dependency: it goes into this test environment, not the requirements
  if (spawnSync(status.python, ['-c', 'import pytest'], { stdio: 'ignore' }).status !== 0) {
    execFileSync(status.python, ['-m', 'pip', 'install', '-q', 'pytest==8.4.2'], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return status.python;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const py = trainerPython();
  fs.mkdirSync(TEST_DATA_DIR, { recursive: true });
  fs.writeFileSync(path.join(TEST_DATA_DIR, 'trainer-python.txt'), py + '\n');
  process.stdout.write(py + '\n');
}
