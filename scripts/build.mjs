// Builds every runnable piece: the CLI/serve bundle (Node ESM), the Electron main process and the
// sandboxed preload (CommonJS, one file each), and the renderer (Vite). Dependencies stay external:
// they are installed node_modules, and native ones (sharp, onnxruntime) cannot be bundled.
import { build } from 'esbuild';
import { build as viteBuild } from 'vite';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
const only = process.argv.slice(2);
const want = (name) => only.length === 0 || only.includes(name);
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  define: { __SPOTTER_VERSION__: JSON.stringify(pkg.version) },
  absWorkingDir: root,
};

const jobs = [];
if (want('cli')) {
  jobs.push(
    build({
      ...common,
      entryPoints: ['electron/cli/index.ts'],
      outfile: 'dist/cli/index.js',
      format: 'esm',
      packages: 'external',
    }),
    // the predict worker (worker_threads), found beside the bundle at run time (electron/core/predict/pool.ts)
    build({ ...common, entryPoints: ['electron/core/predict/worker.ts'], outfile: 'dist/cli/predict-worker.mjs', format: 'esm', packages: 'external' }),
  );
}
if (want('main')) {
  jobs.push(
    build({
      ...common,
      entryPoints: ['electron/main/main.ts'],
      outfile: 'dist/main/main.cjs',
      format: 'cjs',
      packages: 'external',
    }),
    build({ ...common, entryPoints: ['electron/core/predict/worker.ts'], outfile: 'dist/main/predict-worker.mjs', format: 'esm', packages: 'external' }),
    build({
      ...common,
      entryPoints: ['electron/preload/preload.ts'],
      outfile: 'dist/preload/preload.cjs',
      format: 'cjs',
      platform: 'browser',
      external: ['electron'],
    }),
  );
}
if (want('renderer')) {
  jobs.push(viteBuild({ configFile: path.join(root, 'renderer/vite.config.ts'), logLevel: 'warn' }));
}
await Promise.all(jobs);
console.log(`built ${only.length ? only.join(', ') : 'cli, main, preload, renderer'} into dist/`);
