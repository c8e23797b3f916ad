#!/usr/bin/env node
/**
 * The desktop shell's runtime, fetched when it is first needed instead of at `npm install`.
 *
 * The project's .npmrc sets `ignore-scripts=true`: no dependency runs an install script, so `npm install`
 * succeeds where Electron's postinstall cannot download its binary (air-gapped labs, CI, our build machines).
 * The one package that needs its script is Electron, and only for the desktop shell: `npm run electron` and
 * `npm run dist` call ensureElectron(), which runs Electron's own installer (the same download `npm install` would
 * have made: ELECTRON_MIRROR, electron_config_cache and ELECTRON_OVERRIDE_DIST_PATH work as Electron documents)
 * and, where it cannot, says plainly what is missing and the ways to get it.
 *
 *   node scripts/electron.mjs [args for electron]     start the shell (npm run electron)
 *   node scripts/electron.mjs --ensure                only fetch/check the runtime (npm run dist uses it)
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));

/** The Electron executable, downloading it first where it is missing; exits 1 with the reasons where it cannot. */
export function ensureElectron() {
  let dir;
  try {
    dir = path.dirname(require.resolve('electron/package.json'));
  } catch {
    fail('the `electron` package is not installed (node_modules/electron is missing): run `npm install` first.');
  }
  const { version } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const found = executable(dir);
  if (found) return found;
  process.stderr.write(`The Electron ${version} runtime is not here yet: downloading it (about 100 MB) with Electron's installer…\n`);
  const env = { ...process.env };
  delete env.ELECTRON_SKIP_BINARY_DOWNLOAD; // asked for explicitly now
  const r = spawnSync(process.execPath, [path.join(dir, 'install.js')], { cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
  const after = r.status === 0 ? executable(dir) : null;
  if (after) return after;
  const reason = (r.stderr || '').trim().split('\n').find((l) => l.trim()) ?? `the installer exited with ${r.status}`;
  fail(
    [
      `the Electron ${version} runtime is not installed, and downloading it failed: ${reason}`,
      '',
      'Ways to get it:',
      '  - with network access to GitHub: run the same command again;',
      `  - through a mirror: ELECTRON_MIRROR=https://your.mirror/electron/ ${commandName()}`,
      `  - offline: unpack electron-v${version}-${process.platform}-${process.arch}.zip into a folder and run`,
      `      ELECTRON_OVERRIDE_DIST_PATH=<that folder> ${commandName()}`,
      '',
      'The app itself needs no Electron: `npm start` runs the same UI in your browser (serve mode).',
    ].join('\n'),
  );
}

/** The installed executable, or null. Mirrors electron/index.js (path.txt, dist/, ELECTRON_OVERRIDE_DIST_PATH). */
function executable(dir) {
  const pathFile = path.join(dir, 'path.txt');
  const rel = fs.existsSync(pathFile) ? fs.readFileSync(pathFile, 'utf8') : null;
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const p = path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH, rel || (process.platform === 'win32' ? 'electron.exe' : 'electron'));
    return fs.existsSync(p) ? p : null;
  }
  const p = rel ? path.join(dir, 'dist', rel) : null;
  return p && fs.existsSync(p) ? p : null;
}

function commandName() {
  return process.env.npm_lifecycle_event === 'dist' ? 'npm run dist' : 'npm run electron';
}

function fail(message) {
  process.stderr.write(`spotter: ${message}\n`);
  process.exit(1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const exe = ensureElectron();
  if (args[0] === '--ensure') {
    process.stdout.write(exe + '\n');
  } else {
    const child = spawn(exe, args.length ? args : ['.'], { cwd: root, stdio: 'inherit' });
    for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
    child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  }
}
