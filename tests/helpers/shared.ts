import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** ../shared/data beside the checkout (CI clones main with shared/ beside it). */
export const SHARED_DATA = process.env.SPOTTER_SHARED_DATA ?? path.resolve(REPO_ROOT, '../shared/data');
export const hasSharedData = fs.existsSync(SHARED_DATA);
if (!hasSharedData) {
  if (['1', 'true'].includes(String(process.env.CI).toLowerCase())) throw new Error(`CI: the shared test data is missing at ${SHARED_DATA}`);
  console.warn(`skipping tests on shared data: nothing at ${SHARED_DATA} (set SPOTTER_SHARED_DATA)`);
}
export const shared = (...parts: string[]) => path.join(SHARED_DATA, ...parts);
