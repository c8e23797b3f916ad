/**
 * The desktop shell's runtime is fetched on first use (scripts/electron.mjs; .npmrc keeps `npm install` from running
 * Electron's download): where it cannot be fetched, `npm run electron` says what is missing and how to get it; where
 * a runtime is given (ELECTRON_OVERRIDE_DIST_PATH, Electron's own variable), it starts that one on the app.
 */
import { execa } from 'execa';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/shared.js';

const LAUNCHER = path.join(REPO_ROOT, 'scripts', 'electron.mjs');
// a mirror nothing listens on: the download fails here and on a machine that could reach GitHub alike
const UNREACHABLE = { ELECTRON_MIRROR: 'http://127.0.0.1:9/', ELECTRON_OVERRIDE_DIST_PATH: '' };

async function withoutRuntime<T>(fn: () => Promise<T>): Promise<T> {
  // a runtime downloaded on this machine would be used as it is: hide it for the test
  const dist = path.join(REPO_ROOT, 'node_modules', 'electron', 'dist');
  const hidden = `${dist}.hidden-${process.pid}`;
  const had = await fs.rename(dist, hidden).then(() => true, () => false);
  try {
    return await fn();
  } finally {
    if (had) await fs.rename(hidden, dist);
  }
}

describe('npm run electron without the Electron runtime', () => {
  it('says what is missing and the ways to get it, and exits 1', async () => {
    const r = await withoutRuntime(() => execa(process.execPath, [LAUNCHER, '--ensure'], { reject: false, env: UNREACHABLE }));
    expect(r.exitCode).toBe(1);
    const version = JSON.parse(await fs.readFile(path.join(REPO_ROOT, 'node_modules', 'electron', 'package.json'), 'utf8')).version;
    expect(r.stderr).toContain(`the Electron ${version} runtime is not installed, and downloading it failed:`);
    expect(r.stderr).toMatch(/ELECTRON_MIRROR=.* npm run electron/);
    expect(r.stderr).toMatch(/ELECTRON_OVERRIDE_DIST_PATH=<that folder>/);
    expect(r.stderr).toContain('`npm start` runs the same UI in your browser');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('starts a runtime given by ELECTRON_OVERRIDE_DIST_PATH on the app folder and passes its exit code on', async () => {
    if (process.platform === 'win32') return; // the stand-in runtime below is a shell script
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'spotter-electron-'));
    const log = path.join(dir, 'argv.txt');
    // a stand-in executable where the runtime would be: it records how it was started
    await fs.writeFile(path.join(dir, 'electron'), `#!/bin/sh\nprintf '%s\\n' "$PWD" "$@" > '${log}'\nexit 7\n`, { mode: 0o755 });
    const r = await withoutRuntime(() => execa(process.execPath, [LAUNCHER], { reject: false, env: { ELECTRON_OVERRIDE_DIST_PATH: dir } }));
    expect(r.exitCode).toBe(7);
    expect((await fs.readFile(log, 'utf8')).trim().split('\n')).toEqual([REPO_ROOT, '.']);
    await fs.rm(dir, { recursive: true, force: true });
  });
});

describe('npm run dist', () => {
  it('names what packaging needs that this machine lacks', async () => {
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    const r = await withoutRuntime(() => execa(process.execPath, [path.join(REPO_ROOT, 'scripts', 'dist.mjs')], { reject: false, env: UNREACHABLE }));
    expect(r.exitCode).toBe(1);
    if (major < 22 || (major === 22 && minor < 12)) {
      expect(r.stderr).toContain(`packaging (npm run dist) needs Node.js ≥ 22.12`);
      expect(r.stderr).toContain(`this is Node.js ${process.versions.node}`);
    } else {
      expect(r.stderr).toContain('runtime is not installed, and downloading it failed');
    }
  });
});
