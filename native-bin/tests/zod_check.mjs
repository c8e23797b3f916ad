// Validates NDJSON events (or one EnvReport with --env) against the real zod schemas of
// electron/shared/trainer.ts, bundled by the test with esbuild. Usage: node zod_check.mjs <bundle.mjs> <file> [--env]
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, file, mode] = process.argv.slice(2);
const { TrainerEvent, EnvReport } = await import(pathToFileURL(bundle).href);
const schema = mode === '--env' ? EnvReport : TrainerEvent;
const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
for (const line of lines) {
  const r = schema.safeParse(JSON.parse(line));
  if (!r.success) {
    console.error(`invalid: ${line}\n${JSON.stringify(r.error.issues)}`);
    process.exit(1);
  }
}
console.log(`valid ${lines.length}`);
