#!/usr/bin/env node
/**
 * The e2e runner (`npm run test:e2e`): the real UI in Chromium against the real `spotter serve`.
 * Each `e2e/*.e2e.mjs` default-exports `async (t) => {}` (optional `export const timeout` in ms) and
 * gets its own server on a fresh data dir and workspace, its own browser context and a page already
 * showing the app in state ready. Screenshots (and on failure the page's console and the server's
 * log) go to e2e/artifacts/. A test whose prerequisite is missing calls `t.skip(reason)` (it throws).
 * The last line printed is `N passed, N failed` (`, N skipped` when some were).
 *
 *   node e2e/run.mjs [name-filter]     CHROMIUM=/path/to/chromium to use another browser
 */
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { launchServe } from '../scripts/serve-process.mjs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const artifacts = path.join(here, 'artifacts');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const isCI = ['1', 'true'].includes(String(process.env.CI).toLowerCase());
const DEFAULT_TIMEOUT = 120_000;

function done(passed, failed, skipped = 0) {
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(failed ? 1 : 0);
}

/** Missing prerequisites fail in CI (it installs them) and skip elsewhere, saying why. */
function unavailable(reason) {
  console.log(`e2e: ${reason}`);
  if (isCI) {
    console.log('e2e: CI=true, so this is a failure');
    done(0, 1);
  }
  console.log('e2e: skipping (set CI=true to make this an error)');
  done(0, 0, 1);
}

/**
 * The trainer environment prepared by `npm run test:trainer-env` (or SPOTTER_TRAINER_PYTHON), so a
 * fresh data dir does not need its own torch install.
 */
function trainerEnv() {
  if (process.env.SPOTTER_TRAINER_PYTHON) return { SPOTTER_TRAINER_PYTHON: process.env.SPOTTER_TRAINER_PYTHON };
  const file = path.join(root, '.cache', 'test-data', 'trainer-python.txt');
  return existsSync(file) ? { SPOTTER_TRAINER_PYTHON: readFileSync(file, 'utf8').trim() } : {};
}

/** `spotter serve` on a random port, in a fresh data dir and workspace. */
async function startServe(name) {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `spotter-e2e-${name}-data-`));
  const workspace = await fs.mkdtemp(path.join(os.tmpdir(), `spotter-e2e-${name}-ws-`));
  return { ...(await launchServe({ root, dataDir, workspace, env: trainerEnv() })), dataDir, workspace };
}

async function waitReady(page) {
  const state = await page.waitForFunction(
    () => {
      const s = document.documentElement.dataset.appState || document.body?.dataset.appState;
      return s === 'ready' || s === 'error' ? s : null;
    },
    null,
    { timeout: 30_000 },
  );
  if ((await state.jsonValue()) === 'error') {
    const text = await page.locator('[data-testid="app-error"]').first().textContent().catch(() => '');
    throw new Error(`the app started in state "error": ${text}`);
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms / 1000} s`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

const safe = (s) => s.replace(/[^A-Za-z0-9_.-]+/g, '_');

async function main() {
  const filter = process.argv[2];
  const files = (await fs.readdir(here)).filter((f) => f.endsWith('.e2e.mjs') && (!filter || f.includes(filter))).sort();
  if (!files.length) {
    console.log(`e2e: no tests${filter ? ` matching "${filter}"` : ''}`);
    done(0, filter ? 1 : 0);
  }
  if (!existsSync(chromiumPath)) unavailable(`Chromium not found at ${chromiumPath} (apt-get install chromium, or set CHROMIUM=)`);
  for (const built of ['dist/cli/index.js', 'dist/renderer/index.html']) {
    if (!existsSync(path.join(root, built))) {
      console.log(`e2e: ${built} is missing: run \`npm run build\` first`);
      done(0, 1);
    }
  }
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (err) {
    unavailable(`playwright-core cannot be loaded: ${err.message}`);
  }
  await fs.mkdir(artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });

  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const file of files) {
    const name = file.replace(/\.e2e\.mjs$/, '');
    const mod = await import(pathToFileURL(path.join(here, file)).href);
    const timeout = mod.timeout ?? DEFAULT_TIMEOUT;
    const started = Date.now();
    const consoleLines = [];
    // uncaught exceptions and CSP refusals fail a test even when its own checks passed
    const pageFaults = [];
    let server;
    let context;
    let page;
    let ok = false;
    let skipReason = null;
    try {
      server = await startServe(safe(name));
      context = await browser.newContext({ viewport: { width: 1440, height: 960 }, acceptDownloads: false });
      page = await context.newPage();
      page.setDefaultTimeout(30_000);
      page.on('console', (m) => {
        consoleLines.push(`[${m.type()}] ${m.text()}`);
        if (m.type() === 'error' && /Content Security Policy|Refused to|script-src/.test(m.text())) pageFaults.push(`CSP: ${m.text()}`);
      });
      page.on('pageerror', (e) => {
        consoleLines.push(`[pageerror] ${e.message}`);
        pageFaults.push(`uncaught: ${e.message}`);
      });
      const t = {
        name,
        page,
        context,
        url: server.url,
        token: server.token,
        workspace: server.workspace,
        dataDir: server.dataDir,
        root,
        artifacts,
        screenshot: (label) => page.screenshot({ path: path.join(artifacts, `${safe(name)}-${safe(label)}.png`), fullPage: true }),
        waitReady: () => waitReady(page),
        log: (...a) => console.log(`  ${name}:`, ...a),
        skip: (reason) => {
          throw Object.assign(new Error(reason), { e2eSkip: true });
        },
      };
      await withTimeout(
        (async () => {
          await page.goto(server.url);
          await waitReady(page);
          await mod.default(t);
        })(),
        timeout,
        name,
      );
      await t.screenshot('done');
      if (pageFaults.length) throw new Error(`the page reported errors:\n${pageFaults.join('\n')}`);
      ok = true;
    } catch (err) {
      if (err?.e2eSkip) {
        skipReason = err.message;
        ok = true; // nothing to keep
      } else {
        console.log(`✗ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)\n  ${String(err?.stack ?? err).split('\n').join('\n  ')}`);
        if (page) await page.screenshot({ path: path.join(artifacts, `${safe(name)}-failure.png`), fullPage: true }).catch(() => {});
        await fs.writeFile(path.join(artifacts, `${safe(name)}-console.log`), consoleLines.join('\n') + '\n');
        if (server) await fs.writeFile(path.join(artifacts, `${safe(name)}-server.log`), server.log.join(''));
        if (consoleLines.length) console.log(`  page console (last 20):\n    ${consoleLines.slice(-20).join('\n    ')}`);
        if (server) console.log(`  server log tail:\n    ${server.log.join('').slice(-2000).split('\n').join('\n    ')}`);
        console.log(`  artifacts: ${path.relative(root, artifacts)}/${safe(name)}-*`);
      }
    } finally {
      await context?.close().catch(() => {});
      await server?.stop().catch(() => {});
      // keep the folders of a failed test to look at
      if (ok && server) {
        await fs.rm(server.dataDir, { recursive: true, force: true });
        await fs.rm(server.workspace, { recursive: true, force: true });
      } else if (server) console.log(`  kept: ${server.dataDir} ${server.workspace}`);
    }
    if (skipReason !== null) {
      skipped++;
      console.log(`- ${name} skipped: ${skipReason}`);
    } else if (ok) {
      passed++;
      console.log(`✓ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } else failed++;
  }
  await browser.close();
  done(passed, failed, skipped);
}

main().catch((err) => {
  console.log(`e2e: runner crashed: ${err?.stack ?? err}`);
  done(0, 1);
});
