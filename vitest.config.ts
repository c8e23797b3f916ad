import { defineConfig } from 'vitest/config';
import fs from 'node:fs';

// The trainer tests run real trainings with the environment `npm run test:trainer-env` prepared
// (or one named by SPOTTER_TRAINER_PYTHON).
const pyFile = '.cache/test-data/trainer-python.txt';
const trainerPython = process.env.SPOTTER_TRAINER_PYTHON ?? (fs.existsSync(pyFile) ? fs.readFileSync(pyFile, 'utf8').trim() : undefined);

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/global-setup.ts'],
    typecheck: { enabled: true, include: ['tests/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    env: trainerPython ? { SPOTTER_TRAINER_PYTHON: trainerPython } : {},
  },
});
