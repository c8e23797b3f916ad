/**
 * Training through the real UI: import the bundled sample (Home → "Try the sample dataset" → Start
 * import), open the wizard from the dataset ("Train on this dataset"), choose Smoke, set imgsz 64 on
 * the CPU in Settings, Start; the run's live view sees epoch 1 of 1 finish with status done, the metrics chart is
 * drawn from results.csv, the run is listed, and its folder holds what the issue promises. Then the
 * trained model goes on to the gallery: "Review predictions" before any export says to export ONNX first;
 * the export menu exports ONNX (a job) and deploys it into models/ (a job); "Review predictions" opens the gallery on that export and the
 * dataset's val split, and its predictions are run and counted against the ground truth.
 *
 * Needs the trainer environment: the server gets SPOTTER_TRAINER_PYTHON (see run.mjs). Without a
 * ready environment the test fails in CI and is skipped elsewhere, saying why.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { importSampleFromHome } from './sample.mjs';

export const timeout = 600_000;

const isCI = ['1', 'true'].includes(String(process.env.CI).toLowerCase());

/** @param {{ page: import('playwright-core').Page, workspace: string, screenshot(label: string): Promise<unknown>, log(...a: unknown[]): void, skip(reason: string): never }} t */
export default async function trainSmoke(t) {
  const { page } = t;

  // 0. the trainer environment (checked first: without it there is nothing to test)
  await page.getByTestId('nav-train').click();
  const env = page.getByTestId('trainer-env');
  await page.waitForFunction(() => {
    const s = document.querySelector('[data-testid="trainer-env"]')?.getAttribute('data-env-status');
    return s === 'ready' || s === 'error';
  }, null, { timeout: 120_000 });
  if ((await env.getAttribute('data-ready')) !== 'true') {
    const problems = page.getByTestId('env-problems');
    const why = ((await problems.count()) ? await problems.innerText() : 'no report').replace(/\s*\n\s*/g, ' ').slice(0, 600);
    const reason = `the trainer environment is not ready (SPOTTER_TRAINER_PYTHON=${process.env.SPOTTER_TRAINER_PYTHON ?? 'unset'}): ${why}`;
    await t.screenshot('env-not-ready');
    if (isCI) throw new Error(`${reason}\nCI=true: set SPOTTER_TRAINER_PYTHON to a Python with torch and ultralytics, or run \`spotter env setup\` first.`);
    t.skip(`${reason} (set CI=true to make this an error)`);
  }

  // 1. the sample dataset, imported from Home
  await importSampleFromHome(page, { importTimeout: 240_000 });

  // 2. the wizard, opened from the dataset
  await page.getByTestId('train-on-dataset').click();
  await page.getByTestId('train-wizard').waitFor({ state: 'visible' });
  // the dataset the button named is the chosen one; errors in its health check would need "train anyway"
  const chosen = page.locator('[data-testid="train-dataset-option"][data-selected="true"]');
  await chosen.waitFor({ state: 'visible' });
  const health = page.getByTestId('train-dataset-health');
  await page.waitForFunction(() => !!document.querySelector('[data-testid="train-dataset-health"] .mono'), null, { timeout: 30_000 });
  if (Number(await health.getAttribute('data-errors')) > 0) {
    if (!(await page.getByTestId('train-start').isDisabled())) throw new Error('Start is enabled although the dataset has health errors');
    await page.getByTestId('train-anyway').check();
  }

  // 3. preset: Smoke (1 epoch)
  await page.getByTestId('step-preset').click();
  await page.getByTestId('preset-smoke').click();
  await page.locator('[data-testid="preset-smoke"][data-selected="true"]').waitFor();

  // 4. settings: imgsz 64, CPU, no loader workers (fast and light on a shared machine)
  await page.getByTestId('step-settings').click();
  await page.getByTestId('imgsz-input').fill('64');
  await page.getByTestId('device-select').click();
  await page.getByRole('option', { name: 'cpu', exact: true }).click();
  await page.getByTestId('workers-input').fill('0');

  // 5. review: the equivalent command carries the same fields
  await page.getByTestId('step-review').click();
  await page.getByTestId('train-label').fill('e2e-smoke');
  await page.getByTestId('train-note').fill('e2e: the wizard starts a Smoke run');
  const command = (await page.getByTestId('yolo-command').textContent()) ?? '';
  for (const want of ['yolo detect train', 'imgsz=64', 'epochs=1', 'device=cpu', 'workers=0', 'model=yolov8n.yaml', 'data.yaml']) {
    if (!command.includes(want)) throw new Error(`the review's command lacks "${want}": ${command}`);
  }
  await page.waitForFunction(() => /About/.test(document.querySelector('[data-testid="train-estimate"]')?.textContent ?? ''), null, { timeout: 60_000 });
  await t.screenshot('wizard-review');

  // 6. Start; a CPU-only run asks for confirmation first
  await page.getByTestId('train-start').click();
  const confirm = page.getByTestId('train-confirm');
  const view = page.getByTestId('run-view');
  await Promise.race([confirm.waitFor({ state: 'visible', timeout: 60_000 }), view.waitFor({ state: 'visible', timeout: 60_000 })]);
  if (await confirm.isVisible()) await confirm.click();
  await view.waitFor({ state: 'visible', timeout: 60_000 });

  // 7. the live view: running, then epoch 1 of 1 done
  await page.waitForFunction(
    () => {
      const err = document.querySelector('[data-testid="run-error"], [data-testid="train-error"]');
      if (err) throw new Error(`training failed in the UI: ${err.textContent}`);
      return ['running', 'done'].includes(document.querySelector('[data-testid="run-status"]')?.getAttribute('data-status') ?? '');
    },
    null,
    { timeout: 180_000, polling: 250 },
  );
  if ((await page.getByTestId('run-status').getAttribute('data-status')) === 'running') await t.screenshot('run-live');
  await page.waitForFunction(
    () => {
      const err = document.querySelector('[data-testid="run-error"]');
      if (err) throw new Error(`training failed in the UI: ${err.textContent}`);
      const status = document.querySelector('[data-testid="run-status"]')?.getAttribute('data-status');
      if (status === 'failed' || status === 'crashed' || status === 'stopped') throw new Error(`the run ended ${status}`);
      return status === 'done';
    },
    null,
    { timeout: 480_000, polling: 500 },
  );
  const progress = page.getByTestId('epoch-progress');
  await page.waitForFunction(() => {
    const p = document.querySelector('[data-testid="epoch-progress"]');
    return p?.getAttribute('data-done') === '1' && p?.getAttribute('data-epochs') === '1';
  }, null, { timeout: 30_000 }).catch(async () => {
    throw new Error(`epoch progress is ${await progress.getAttribute('data-done')}/${await progress.getAttribute('data-epochs')}, expected 1/1`);
  });
  if (!/1 \/ 1 epochs/.test((await progress.textContent()) ?? '')) throw new Error(`epoch progress reads "${await progress.textContent()}"`);

  // the metrics chart drawn (ECharts draws into a canvas) from the run's results
  await page.waitForFunction(() => {
    const c = document.querySelector('[data-testid="metrics-chart"] canvas');
    return c instanceof HTMLCanvasElement && c.width > 0 && c.height > 0;
  }, null, { timeout: 30_000 });
  const metric = (await page.getByTestId('run-metrics').textContent()) ?? '';
  if (!/mAP50-95\d\.\d{3}/.test(metric.replace(/\s+/g, ''))) throw new Error(`no mAP50-95 shown for the finished run: ${metric}`);

  // 8. listed in the run list, done, 1/1 epochs
  const row = page.locator('[data-testid="runs-list"] [data-testid="run-row"][data-status="done"]');
  await row.first().waitFor({ state: 'visible', timeout: 30_000 });
  const rowText = (await row.first().textContent()) ?? '';
  if (!rowText.includes('e2e-smoke') || !rowText.includes('1/1')) throw new Error(`the run's row reads "${rowText}"`);
  await t.screenshot('run-done');

  // on disk: a run folder Ultralytics and a colleague can read
  const runDir = await view.getAttribute('data-dir');
  if (!runDir || path.dirname(runDir) !== path.join(t.workspace, 'runs')) throw new Error(`run folder ${runDir} is not under ${t.workspace}/runs`);
  for (const f of ['results.csv', 'args.yaml', 'command.sh', 'preflight.json', 'summary.md', path.join('weights', 'best.pt'), path.join('weights', 'last.pt')]) {
    await fs.access(path.join(runDir, f)).catch(() => {
      throw new Error(`${path.join(runDir, f)} is missing`);
    });
  }
  const summary = await fs.readFile(path.join(runDir, 'summary.md'), 'utf8');
  if (!summary.includes('e2e: the wizard starts a Smoke run')) throw new Error("summary.md lacks the run's note");
  t.log(`run ${path.basename(runDir)}: ${metric.replace(/\s+/g, ' ')}`);

  // 9. the trained model in the review gallery: an ONNX export first (the gallery runs ONNX)
  await page.getByTestId('run-review').click();
  await page.getByTestId('run-review-hint').waitFor({ state: 'visible', timeout: 30_000 });
  if (!/export ONNX/i.test((await page.getByTestId('run-review-hint').textContent()) ?? '')) throw new Error('"Review predictions" without an export does not say to export ONNX first');
  await page.getByTestId('export-menu').scrollIntoViewIfNeeded();
  await page.getByTestId('export-run').click();
  await page.waitForFunction(
    () => {
      const err = document.querySelector('[data-testid="export-error"]');
      if (err) throw new Error(`the ONNX export failed in the UI: ${err.textContent}`);
      return !!document.querySelector('[data-testid="export-result"]');
    },
    null,
    { timeout: 180_000, polling: 500 },
  );
  const onnx = path.join(runDir, 'weights', 'best.onnx');
  await fs.access(onnx).catch(() => {
    throw new Error(`${onnx} was not written by the export`);
  });
  // deployed as the next version into the workspace's models/ (a job), with its card
  await page.getByTestId('deploy-run').click();
  await page.waitForFunction(
    () => {
      const err = document.querySelector('[data-testid="deploy-error"]');
      if (err) throw new Error(`the deploy failed in the UI: ${err.textContent}`);
      return !!document.querySelector('[data-testid="deploy-result"]');
    },
    null,
    { timeout: 120_000, polling: 500 },
  );
  for (const f of ['e2e-smoke_v1.onnx', 'e2e-smoke_v1.card.json']) {
    await fs.access(path.join(t.workspace, 'models', f)).catch(() => {
      throw new Error(`the deploy did not write models/${f}`);
    });
  }
  await page.getByTestId('run-review').click();
  await page.getByTestId('review-page').waitFor({ state: 'visible', timeout: 30_000 });
  const q = new URLSearchParams(new URL(page.url()).hash.split('?')[1] ?? '');
  if (q.get('model') !== onnx || q.get('split') !== 'val') throw new Error(`the gallery opened on ${page.url()}, not on ${onnx} and the val split`);
  await page.getByTestId('review-run').click();
  await page.waitForFunction(
    () => {
      const err = document.querySelector('[data-testid="review-error"], [data-testid="job-error"], [data-testid="predict-error"]');
      if (err) throw new Error(`predictions failed in the UI: ${err.textContent}`);
      return !!document.querySelector('[data-testid="review-totals"]');
    },
    null,
    { timeout: 180_000, polling: 250 },
  );
  const totals = await page.getByTestId('review-totals').evaluate((e) => ({ tp: Number(e.dataset.tp), fp: Number(e.dataset.fp), fn: Number(e.dataset.fn) }));
  const images = Number(await page.getByTestId('review-grid').getAttribute('data-total'));
  // every val cell is either found (TP) or missed (FN): their sum is the val split's ground truth
  if (!(images > 0) || !(totals.tp + totals.fn > 0) || Object.values(totals).some((v) => !Number.isInteger(v) || v < 0)) {
    throw new Error(`the gallery of the trained model shows ${images} images and ${JSON.stringify(totals)}`);
  }
  await t.screenshot('review-trained');
  t.log(`review of the trained model: ${images} val images, ${JSON.stringify(totals)}`);
}
