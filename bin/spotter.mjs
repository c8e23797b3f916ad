#!/usr/bin/env node
// The `spotter` command: runs the built CLI bundle (npm run build writes dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/cli/index.js');
if (!existsSync(entry)) {
  process.stderr.write('spotter: the app is not built yet; run `npm run build` first\n');
  process.exit(1);
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
