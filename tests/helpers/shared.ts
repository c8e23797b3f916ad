/**
 * Where the tests' real data lives.
 *
 * - In the repository (`tests/fixtures/…`, licence and source beside each copy): everything whose licence allows
 *   copying. `fixture(...)` names it. The Roboflow blood-cell export is the app's bundled sample
 *   (`resources/sample/rbc-roboflow-coco.zip`): tests/global-setup.ts unpacks it once into `.cache/test-data`,
 *   and `rbc(...)` names the unpacked copy.
 * - In `../shared/data` (or `SPOTTER_SHARED_DATA`): data that may not be copied (no licence stated, non-commercial,
 *   AGPL weights). `shared(...)` names it; tests on it are declared with `describeShared` / `itShared`, which skip
 *   with one printed reason when the folder is missing and fail under `CI=true` (CI puts it beside the clone).
 *   Their titles carry SHARED_TAG so the test summary can count what was skipped for missing data.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';
import { describe, it } from 'vitest';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** ../shared/data beside the checkout (CI clones main with shared/ beside it). */
export const SHARED_DATA = process.env.SPOTTER_SHARED_DATA ?? path.resolve(REPO_ROOT, '../shared/data');
export const hasSharedData = fs.existsSync(SHARED_DATA);
export const isCI = ['1', 'true'].includes(String(process.env.CI).toLowerCase());
/** In the title of every test that needs ../shared/data (scripts/test-all.mjs counts the skipped ones). */
export const SHARED_TAG = '[shared data]';
if (!hasSharedData) {
  if (isCI) throw new Error(`CI: the shared test data is missing at ${SHARED_DATA}`);
}
/** Data that may not be copied into the repository: only under ../shared/data. */
export const shared = (...parts: string[]) => path.join(SHARED_DATA, ...parts);
/** Real data kept in the repository (tests/fixtures, with its licence beside it). */
export const fixture = (...parts: string[]) => path.join(REPO_ROOT, 'tests', 'fixtures', ...parts);
/** The bundled sample (Roboflow blood cells: train/ valid/ test/), unpacked by tests/global-setup.ts. */
export const RBC_DIR = path.join(REPO_ROOT, '.cache', 'test-data', 'rbc-roboflow-coco');
export const rbc = (...parts: string[]) => path.join(RBC_DIR, ...parts);

let warned = false;
function sharedReason(): string {
  const reason = `needs ${SHARED_DATA} (data that may not be copied into the repository; set SPOTTER_SHARED_DATA)`;
  if (!warned) console.warn(`skipping the tests marked ${SHARED_TAG}: nothing at ${SHARED_DATA} (set SPOTTER_SHARED_DATA)`);
  warned = true;
  return reason;
}

/** A describe block on ../shared/data: skipped (saying why) where the folder is missing. */
export function describeShared(name: string, fn: () => void, when = true): void {
  if (!hasSharedData) sharedReason();
  describe.skipIf(!hasSharedData || !when)(`${name} ${SHARED_TAG}`, fn);
}

/** One test on ../shared/data: skipped (saying why) where the folder is missing. */
export function itShared(name: string, fn: () => Promise<void> | void, timeout?: number): void {
  if (!hasSharedData) sharedReason();
  it.skipIf(!hasSharedData)(`${name} ${SHARED_TAG}`, fn, timeout);
}
