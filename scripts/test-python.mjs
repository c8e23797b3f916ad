#!/usr/bin/env node
// pytest for the trainer sidecar, with the trainer environment from scripts/trainer-env.mjs.
// Extra arguments go to pytest (scripts/test-all.mjs passes --junitxml for its summary).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainerPython } from './trainer-env.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const python = trainerPython();
const r = spawnSync(python, ['-m', 'pytest', 'native-bin/tests', '-q', '-rs', '-p', 'no:cacheprovider', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PYTHONPATH: path.join(root, 'native-bin'), SPOTTER_TRAINER_PYTHON: python },
});
// pytest exits 5 when it collected no test: that is a failure here, not a pass
process.exit(r.status ?? 1);
