#!/usr/bin/env node
/**
 * `npm run dist`: installers for this platform into release/ with electron-builder (after `npm run build`).
 * Says plainly what is missing first: electron-builder 26 (through @electron/rebuild 4) needs Node.js ≥ 22.12,
 * and it packages the Electron runtime that scripts/electron.mjs fetches (the one `npm run electron` uses, passed
 * as `electronDist`, so nothing is downloaded twice).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureElectron } from './electron.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(
    `spotter: packaging (npm run dist) needs Node.js ≥ 22.12 — electron-builder 26 and its @electron/rebuild 4 require it — and this is Node.js ${process.versions.node}.\n` +
      'The app, the CLI and the tests need only Node.js ≥ 20.19.\n',
  );
  process.exit(1);
}
const exe = ensureElectron();
// the folder holding the runtime (on macOS the executable sits inside Electron.app/Contents/MacOS)
const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH || path.join(root, 'node_modules', 'electron', 'dist');
process.stderr.write(`packaging with the Electron runtime at ${path.relative(root, exe) || exe}\n`);
const builder = path.join(root, 'node_modules', 'electron-builder', 'cli.js');
const r = spawnSync(process.execPath, [builder, '--config', 'electron-builder.yml', `-c.electronDist=${dist}`, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
