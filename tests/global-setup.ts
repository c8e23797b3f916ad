/**
 * Once per Vitest run, before any test file: unpack the bundled sample (the Roboflow blood-cell export the app
 * ships, resources/sample/rbc-roboflow-coco.zip) into .cache/test-data, where the tests read it as `rbc(...)`.
 * Unpacked into a temporary folder and renamed, so an interrupted run never leaves half a copy.
 */
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractZip } from '../electron/core/datasets/zip.js';

// the same paths as tests/helpers/shared.ts (not imported: it loads vitest's test API)
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RBC_DIR = path.join(REPO_ROOT, '.cache', 'test-data', 'rbc-roboflow-coco');

export default async function setup(): Promise<void> {
  if (existsSync(RBC_DIR)) return;
  await fs.mkdir(path.dirname(RBC_DIR), { recursive: true });
  const tmp = `${RBC_DIR}.tmp-${process.pid}`;
  await fs.rm(tmp, { recursive: true, force: true });
  await extractZip(path.join(REPO_ROOT, 'resources', 'sample', 'rbc-roboflow-coco.zip'), tmp);
  await fs.rename(tmp, RBC_DIR);
}
