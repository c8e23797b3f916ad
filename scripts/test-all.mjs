#!/usr/bin/env node
/**
 * `npm test`: every stage, in order, each one run even when an earlier one failed, then one summary.
 *
 *   build → typecheck → lint → trainer environment → unit (Vitest) → python (pytest) → e2e (Chromium)
 *
 * Exits non-zero when any stage failed. The last line is `total: N passed, N failed, N skipped`; the line
 * above it says how many of the skipped ones were skipped because the optional shared test data
 * (../shared/data, or SPOTTER_SHARED_DATA) is missing, and why the others were.
 *
 *   node scripts/test-all.mjs [stage...]     e.g. `node scripts/test-all.mjs unit python`
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const results = path.join(root, '.cache', 'test-results');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const node = process.execPath;
const sharedData = process.env.SPOTTER_SHARED_DATA ?? path.resolve(root, '../shared/data');
/** The mark tests/helpers/shared.ts puts in the titles of tests that need ../shared/data. */
const SHARED_TAG = '[shared data]';
const hasShared = fs.existsSync(sharedData);
// a test marked [shared data] that was skipped while the data is here was skipped for another reason (no trainer)
const isSharedReason = (text) => !hasShared && /shared data|SPOTTER_SHARED_DATA|shared\/data/i.test(text ?? '');

/** @typedef {{ passed: number, failed: number, skipped: number, skippedShared: number }} Counts */

const stages = [
  { name: 'build', cmd: [node, 'scripts/build.mjs'] },
  { name: 'typecheck', cmd: [node, tsc, '-p', 'tsconfig.json'], then: [node, tsc, '-p', 'renderer/tsconfig.json'] },
  { name: 'lint', cmd: [node, path.join(root, 'node_modules/eslint/bin/eslint.js'), '.'] },
  { name: 'trainer-env', cmd: [node, 'scripts/trainer-env.mjs'] },
  {
    name: 'unit',
    cmd: [node, path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile=${path.join(results, 'vitest.json')}`],
    counts: vitestCounts,
    report: 'vitest.json',
  },
  { name: 'python', cmd: [node, 'scripts/test-python.mjs', `--junitxml=${path.join(results, 'pytest.xml')}`], counts: pytestCounts, report: 'pytest.xml' },
  { name: 'e2e', cmd: [node, 'e2e/run.mjs'], counts: e2eCounts },
];

function run(cmd) {
  return new Promise((resolve) => {
    const child = spawn(cmd[0], cmd.slice(1), { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b) => {
      process.stdout.write(b);
      out += b.toString();
      if (out.length > 2_000_000) out = out.slice(-1_000_000);
    });
    child.on('error', (err) => resolve({ code: 127, out: `${out}\n${err.message}` }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), out }));
  });
}

/** @returns {Counts | null} */
function vitestCounts() {
  const file = path.join(results, 'vitest.json');
  if (!fs.existsSync(file)) return null;
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  let skippedShared = 0;
  for (const f of r.testResults ?? []) {
    for (const t of f.assertionResults ?? []) {
      if (!hasShared && (t.status === 'pending' || t.status === 'skipped') && (t.fullName ?? t.title ?? '').includes(SHARED_TAG)) skippedShared++;
    }
  }
  return { passed: r.numPassedTests ?? 0, failed: r.numFailedTests ?? 0, skipped: (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0), skippedShared };
}

/** @returns {Counts | null} */
function pytestCounts() {
  const file = path.join(results, 'pytest.xml');
  if (!fs.existsSync(file)) return null;
  const xml = fs.readFileSync(file, 'utf8');
  const suite = /<testsuite\b([^>]*)>/.exec(xml)?.[1] ?? '';
  const attr = (k) => Number(new RegExp(`\\b${k}="(\\d+)"`).exec(suite)?.[1] ?? 0);
  const skips = [...xml.matchAll(/<skipped\b[^>]*message="([^"]*)"/g)].map((m) => m[1]);
  const failed = attr('failures') + attr('errors');
  return { passed: attr('tests') - failed - attr('skipped'), failed, skipped: attr('skipped'), skippedShared: skips.filter(isSharedReason).length };
}

/** e2e/run.mjs prints `- <name> skipped: <reason>` per skip and `N passed, N failed[, N skipped]` last. */
function e2eCounts(out) {
  const m = /^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/m.exec(out.split('\n').filter((l) => /^\d+ passed, \d+ failed/.test(l)).pop() ?? '');
  if (!m) return null;
  const reasons = [...out.matchAll(/^- .+? skipped: (.*)$/gm)].map((x) => x[1]);
  return { passed: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3] ?? 0), skippedShared: reasons.filter(isSharedReason).length };
}

const only = process.argv.slice(2);
const unknown = only.filter((n) => !stages.some((s) => s.name === n));
if (unknown.length) {
  process.stderr.write(`unknown stage(s): ${unknown.join(', ')}; stages: ${stages.map((s) => s.name).join(', ')}\n`);
  process.exit(2);
}
fs.mkdirSync(results, { recursive: true });
console.log(
  hasShared
    ? `shared test data: ${sharedData} (the tests marked ${SHARED_TAG} run on it)`
    : `shared test data: none at ${sharedData} — the tests marked ${SHARED_TAG} are skipped (set SPOTTER_SHARED_DATA to run them)`,
);

const rows = [];
for (const stage of stages.filter((s) => only.length === 0 || only.includes(s.name))) {
  console.log(`\n===== ${stage.name} =====`);
  const t0 = Date.now();
  // a report left by an earlier run must not stand in for this one's
  if (stage.report) fs.rmSync(path.join(results, stage.report), { force: true });
  let { code, out } = await run(stage.cmd);
  if (code === 0 && stage.then) ({ code, out } = await run(stage.then));
  const counts = stage.counts ? stage.counts(out) : null;
  // a runner that exits 0 but reports failures, or fails without a report, is a failed stage all the same
  const ok = code === 0 && (!counts || counts.failed === 0) && (!stage.counts || counts !== null);
  rows.push({ name: stage.name, ok, code, seconds: (Date.now() - t0) / 1000, counts });
}

const total = { passed: 0, failed: 0, skipped: 0, skippedShared: 0 };
console.log('\n===== summary =====');
for (const r of rows) {
  const c = r.counts;
  if (c) for (const k of Object.keys(total)) total[k] += c[k];
  const detail = c ? `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped${c.skippedShared ? ` (${c.skippedShared} for missing shared data)` : ''}` : r.ok ? 'ok' : `exit ${r.code}`;
  console.log(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.name.padEnd(12)} ${detail.padEnd(64)} ${r.seconds.toFixed(0).padStart(5)} s`);
}
const failedStages = rows.filter((r) => !r.ok);
// a failed stage without its own test counts (build, typecheck, lint, set-up) counts as one failure
total.failed += failedStages.filter((r) => !r.counts || r.counts.failed === 0).length;
const other = total.skipped - total.skippedShared;
console.log(
  `skipped: ${total.skippedShared} for missing shared data (${hasShared ? 'present' : `nothing at ${sharedData}`}), ${other} for other reasons (printed above by each runner)` +
    (failedStages.length ? `; failed stages: ${failedStages.map((r) => r.name).join(', ')}` : ''),
);
console.log(`total: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(failedStages.length ? 1 : 0);
