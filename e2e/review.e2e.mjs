/**
 * The review gallery through the real UI: import the bundled sample (blood cells), run a real ONNX
 * model over its val split (the 'predict' job), move the confidence slider and see the TP/FP/FN
 * counts follow, step through images in the viewer with the keyboard, save the operating point into
 * the model card beside the ONNX, compare with a second model (better / worse / same per image),
 * and write the next labelling batch as CVAT 1.1 XML — checked on disk.
 *
 * The models are the pretrained COCO YOLO11n and YOLOv8n int8 exports of the shared data (copied
 * into the workspace): on blood cells they find nothing of the dataset's classes, so every kept
 * prediction is a false positive and every cell a false negative — real errors, real scores, and
 * counts that move with the slider, without a training in the test. Without the shared data the
 * test fails in CI and is skipped elsewhere, saying why.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { importSampleFromHome } from './sample.mjs';

export const timeout = 300_000;

const isCI = ['1', 'true'].includes(String(process.env.CI).toLowerCase());

/** throws when the page shows one of the gallery's error alerts */
const ERRORS = '[data-testid="review-error"], [data-testid="job-error"], [data-testid="batch-error"]';

/** @param {import('playwright-core').Page} page */
async function totals(page) {
  return page.getByTestId('review-totals').evaluate((e) => ({ tp: Number(e.dataset.tp), fp: Number(e.dataset.fp), fn: Number(e.dataset.fn) }));
}

/** @param {{ page: import('playwright-core').Page, root: string, workspace: string, screenshot(label: string): Promise<unknown>, log(...a: unknown[]): void, skip(reason: string): never }} t */
export default async function review(t) {
  const { page } = t;
  const sharedData = process.env.SPOTTER_SHARED_DATA ?? path.resolve(t.root, '../shared/data');
  const weights = path.join(sharedData, 'weights');
  const candidateSrc = path.join(weights, 'yolo11n_int8.onnx');
  const baselineSrc = path.join(weights, 'yolov8n_int8.onnx');
  if (!existsSync(candidateSrc) || !existsSync(baselineSrc)) {
    const reason = `the shared ONNX weights are missing (${weights}; set SPOTTER_SHARED_DATA)`;
    if (isCI) throw new Error(`${reason}\nCI=true: the shared data must be beside the checkout.`);
    t.skip(`${reason} (set CI=true to make this an error)`);
  }
  // the models live in the workspace (a card is written beside them)
  const modelsDir = path.join(t.workspace, 'e2e-models');
  await fs.mkdir(modelsDir, { recursive: true });
  const candidate = path.join(modelsDir, 'yolo11n.onnx');
  const baseline = path.join(modelsDir, 'yolov8n.onnx');
  await fs.copyFile(candidateSrc, candidate);
  await fs.copyFile(baselineSrc, baseline);

  // 1. the sample dataset, imported from Home
  await importSampleFromHome(page, { importTimeout: 180_000 });
  const datasetName = ((await page.getByTestId('dataset-name').textContent()) ?? '').trim();

  // 2. the gallery: model by path, the dataset's val split, Run predictions
  await page.getByTestId('nav-review').click();
  await page.getByTestId('review-page').waitFor({ state: 'visible' });
  await t.screenshot('empty');
  await page.getByTestId('review-model-path').fill(candidate);
  await page.getByTestId('review-dataset').click();
  await page.getByRole('option', { name: datasetName, exact: true }).click();
  await page.getByTestId('review-split').getByText('val', { exact: true }).click();
  await page.getByTestId('review-run').click();
  await page.waitForFunction(
    (sel) => {
      const err = document.querySelector(sel);
      if (err) throw new Error(`predictions failed in the UI: ${err.textContent}`);
      return !!document.querySelector('[data-testid="review-totals"]') && !!document.querySelector('[data-testid="review-thumb"]');
    },
    ERRORS,
    { timeout: 180_000, polling: 250 },
  );
  const images = Number(await page.getByTestId('review-grid').getAttribute('data-total'));
  if (!(images > 0)) throw new Error(`the gallery shows ${images} images`);
  if (!page.url().includes('#/review?')) throw new Error(`the address does not hold the review source: ${page.url()}`);
  // thumbnails drawn (the server makes them once, then they are cached)
  await page.waitForFunction(() => {
    const img = document.querySelector('[data-testid="review-thumb"] img');
    return img instanceof HTMLImageElement && img.complete && img.naturalWidth > 0;
  });
  await t.screenshot('predicted');

  // 3. the slider: all the way down, then up to 0.60; the counts follow, live
  const slider = page.getByRole('slider', { name: 'confidence threshold' });
  await slider.focus();
  await page.keyboard.press('Home');
  // Home: the set's confidence floor (what predictions were kept down to)
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="conf-value"]')?.textContent) < 0.25);
  const confLow = Number(await page.getByTestId('conf-value').textContent());
  const low = await totals(page);
  const lowCells = await page.locator('[data-testid="review-thumb"]').first().getAttribute('data-fp');
  await t.screenshot('slider-low');
  for (let i = 0; i < 60; i++) await page.keyboard.press('ArrowRight');
  const confHigh = Number(await page.getByTestId('conf-value').textContent());
  if (!(confHigh >= confLow + 0.5)) throw new Error(`the slider did not move up: ${confLow} → ${confHigh}`);
  const high = await totals(page);
  t.log(`TP/FP/FN at ${confLow} ${JSON.stringify(low)}, at ${confHigh} ${JSON.stringify(high)} (first cell FP at the floor: ${lowCells})`);
  if (low.tp === high.tp && low.fp === high.fp && low.fn === high.fn) throw new Error(`the counts did not change with the slider: ${JSON.stringify(low)}`);
  // fewer predictions kept: never more TP or FP, never fewer FN
  if (high.tp + high.fp > low.tp + low.fp || high.fn < low.fn) throw new Error(`raising the threshold kept more: ${JSON.stringify(low)} → ${JSON.stringify(high)}`);
  if (low.fn + low.tp === 0) throw new Error('the val split has no ground truth in the gallery');
  // the per-image badges agree with the totals' direction
  const cellFp = await page.locator('[data-testid="review-thumb"]').evaluateAll((els) => els.reduce((n, e) => n + Number(e.getAttribute('data-fp')), 0));
  if (cellFp > high.fp) throw new Error(`grid cells show ${cellFp} FP, more than the total ${high.fp}`);
  await t.screenshot('slider-high');

  // 4. sort and filter: FN only keeps images with a missed box; most FN first
  await page.getByTestId('review-error-filter').getByText('FN only', { exact: true }).click();
  const fnFirst = await page.locator('[data-testid="review-thumb"]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-fn'))));
  if (!fnFirst.length || fnFirst.some((n) => n === 0)) throw new Error(`FN only shows images without FN: ${fnFirst.join(',')}`);
  await page.getByTestId('review-sort').click();
  await page.getByRole('option', { name: 'Most FN' }).click();
  const fnSorted = await page.locator('[data-testid="review-thumb"]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-fn'))));
  for (let i = 1; i < fnSorted.length; i++) if (fnSorted[i] > fnSorted[i - 1]) throw new Error(`not sorted by most FN: ${fnSorted.join(',')}`);
  await page.getByTestId('review-error-filter').getByText('All', { exact: true }).click();

  // 5. the viewer: ground truth and predictions, → moves on, Esc closes
  await page.locator('[data-testid="review-thumb"] .thumb').first().click();
  await page.locator('[data-testid="review-viewer"] .viewer img').waitFor({ state: 'visible' });
  await page.waitForFunction(() => !!document.querySelector('[data-testid="review-viewer"] svg.rv-boxes'));
  const pos1 = await page.getByTestId('viewer-position').textContent();
  await t.screenshot('viewer');
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction((p) => document.querySelector('[data-testid="viewer-position"]')?.textContent !== p, pos1);
  const pos2 = await page.getByTestId('viewer-position').textContent();
  if (!/^2 \//.test(pos2 ?? '')) throw new Error(`→ in the viewer went to "${pos2}" from "${pos1}"`);
  await page.getByTestId('toggle-gt').click();
  await page.keyboard.press('Escape');
  await page.locator('[data-testid="review-viewer"] .viewer').waitFor({ state: 'detached' });

  // 6. the operating point saved with the weights: the model card beside the ONNX
  await page.getByTestId('save-thresholds').click();
  await page.locator('[data-testid="thresholds-saved"][data-dirty="false"]').waitFor({ timeout: 30_000 });
  const cardFile = path.join(modelsDir, 'yolo11n.card.json');
  const card = JSON.parse(await fs.readFile(cardFile, 'utf8'));
  if (Math.abs(card.thresholds.default - confHigh) > 1e-9) throw new Error(`the card holds threshold ${card.thresholds.default}, the slider ${confHigh}`);
  await t.screenshot('saved');
  // back down to 0.10 for the rest: the COCO models' guesses on blood cells score low
  await page.getByRole('slider', { name: 'confidence threshold' }).focus();
  await page.keyboard.press('Home');
  for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
  const conf = Number(await page.getByTestId('conf-value').textContent());
  if (!(conf > confLow && conf < confHigh)) throw new Error(`the slider reads ${conf}`);
  if ((await page.getByTestId('thresholds-saved').getAttribute('data-dirty')) !== 'true') throw new Error('moving off the saved threshold does not show unsaved changes');

  // 7. baseline vs candidate: YOLOv8n's predictions on the same split, per image better/worse/same
  await page.getByTestId('baseline-path').fill(baseline);
  await page.getByTestId('baseline-use').click();
  await page.getByTestId('baseline-run').click();
  await page.waitForFunction(
    (sel) => {
      const err = document.querySelector(sel);
      if (err) throw new Error(`baseline predictions failed in the UI: ${err.textContent}`);
      return !!document.querySelector('[data-testid="compare-counts"]');
    },
    ERRORS,
    { timeout: 180_000, polling: 250 },
  );
  const cmp = await page.getByTestId('compare-counts').evaluate((e) => ({ better: Number(e.dataset.better), worse: Number(e.dataset.worse), same: Number(e.dataset.same) }));
  if (cmp.better + cmp.worse + cmp.same !== images) throw new Error(`better/worse/same ${JSON.stringify(cmp)} do not add up to ${images} images`);
  t.log(`candidate vs baseline per image at ${conf}: ${JSON.stringify(cmp)}`);
  if (cmp.better + cmp.worse === 0) throw new Error(`YOLO11n and YOLOv8n make exactly the same number of errors on every image at ${conf}: ${JSON.stringify(cmp)}`);
  const deltas = await page.locator('[data-testid="review-delta"]').count();
  if (!deltas) throw new Error('the cells show no better/worse badge');
  await page.getByTestId('review-compare-filter').getByText(/^Worse/).click();
  const shown = Number(await page.getByTestId('review-shown').getAttribute('data-shown'));
  if (shown !== cmp.worse) throw new Error(`the Worse filter shows ${shown} images, the counts say ${cmp.worse}`);
  await t.screenshot('compare');
  await page.getByTestId('review-compare-filter').getByText('All', { exact: true }).click();

  // 8. the next labelling batch: images disagreeing with the labels, CVAT 1.1 XML
  await page.getByTestId('batch-open').click();
  await page.getByTestId('batch-mode').getByText('Disagrees with labels').click();
  const estimate = Number(await page.getByTestId('batch-estimate').getAttribute('data-count'));
  if (!(estimate > 0)) throw new Error('no image disagrees with its labels');
  await page.getByTestId('batch-limit').fill('5');
  await t.screenshot('batch-dialog');
  await page.getByTestId('batch-start').click();
  await page.waitForFunction(
    (sel) => {
      const err = document.querySelector(sel);
      if (err) throw new Error(`the batch failed in the UI: ${err.textContent}`);
      return !!document.querySelector('[data-testid="batch-result"]');
    },
    ERRORS,
    { timeout: 120_000, polling: 250 },
  );
  const result = page.getByTestId('batch-result');
  const batchImages = Number(await result.getAttribute('data-images'));
  if (batchImages !== Math.min(5, estimate)) throw new Error(`the batch holds ${batchImages} images, expected ${Math.min(5, estimate)}`);
  const dir = ((await page.getByTestId('batch-dir').textContent()) ?? '').trim();
  const annotations = ((await page.getByTestId('batch-annotations').textContent()) ?? '').trim();
  const xml = await fs.readFile(annotations, 'utf8');
  if (!/<annotations>/.test(xml) || !/<version>1\.1<\/version>/.test(xml)) throw new Error(`${annotations} is not CVAT 1.1 XML:\n${xml.slice(0, 400)}`);
  const inXml = (xml.match(/<image\b/g) ?? []).length;
  if (inXml !== batchImages) throw new Error(`${annotations} lists ${inXml} images, the UI says ${batchImages}`);
  // pre-annotations: predictions of the dataset's labels at or above the slider's confidence (a COCO
  // model has none of rbc/wbc: the XML holds the images with the labels to draw, and no boxes)
  const boxes = Number(await result.getAttribute('data-boxes'));
  const inXmlBoxes = (xml.match(/<box\b/g) ?? []).length;
  if (inXmlBoxes !== boxes) throw new Error(`the batch has ${boxes} pre-annotated boxes, its XML ${inXmlBoxes}`);
  if (!/<label>\s*<name>rbc<\/name>/.test(xml)) throw new Error(`${annotations} does not declare the dataset's labels`);
  if (!dir || !existsSync(dir)) throw new Error(`the batch folder ${dir} does not exist`);
  await t.screenshot('batch-written');
  await page.keyboard.press('Escape');

  // 8b. the way back: the batch (as CVAT would export it after correction: the same images and XML)
  // re-imported as a new version of the dataset. The preview says every batch image is corrected.
  await page.getByTestId('nav-import').click();
  if (await page.getByTestId('import-reset').isVisible()) await page.getByTestId('import-reset').click();
  await page.getByTestId('type-path').click();
  await page.getByTestId('source-path-input').fill(dir);
  await page.getByTestId('source-path-input').press('Enter');
  await page.getByTestId('import-as').waitFor({ state: 'visible', timeout: 60_000 });
  await page.getByTestId('import-as-mode').getByText('A new version of a dataset').click();
  await page.locator(`[data-testid="import-as"][data-base$="${datasetName}"]`).waitFor({ timeout: 10_000 });
  await page.waitForFunction(
    () => {
      const err = document.querySelector('[data-testid="import-error"], [data-testid="job-error"], [data-testid="merge-conflict"]');
      if (err) throw new Error(`the merge preview failed in the UI: ${err.textContent}`);
      const b = document.querySelector('[data-testid="import-start"]');
      return !!document.querySelector('[data-testid="merge-preview"]') && !!b && !b.hasAttribute('disabled') && b.getAttribute('data-loading') !== 'true';
    },
    null,
    { timeout: 120_000, polling: 250 },
  );
  const preview = page.getByTestId('merge-preview');
  const corrected = Number(await preview.getAttribute('data-replaced'));
  const added = Number(await preview.getAttribute('data-added'));
  if (corrected !== batchImages || added !== 0) throw new Error(`the merge preview says ${corrected} corrected and ${added} added; the batch holds ${batchImages} images of the dataset`);
  // the COCO model pre-annotated none of the dataset's classes: sent back as they are, those images lose their boxes, and the preview says so
  const emptied = Number(await preview.getAttribute('data-emptied'));
  if (boxes === 0 && emptied !== batchImages) throw new Error(`the batch has no boxes, yet the preview says ${emptied} of its ${batchImages} images lose their boxes`);
  await t.screenshot('merge-preview');
  await page.getByTestId('import-start').click();
  await page.waitForFunction(
    () => {
      const err = document.querySelector('[data-testid="import-error"], [data-testid="job-error"]');
      if (err) throw new Error(`the merge failed in the UI: ${err.textContent}`);
      return !!document.querySelector('[data-testid="health-report"]');
    },
    null,
    { timeout: 180_000, polling: 250 },
  );
  const version = ((await page.getByTestId('dataset-name').textContent()) ?? '').trim();
  if (version !== `${datasetName}_v2`) throw new Error(`the merge made "${version}", not ${datasetName}_v2`);
  const report = JSON.parse(await fs.readFile(path.join(t.workspace, 'datasets', version, 'report.json'), 'utf8'));
  if (report.merge?.replaced !== batchImages || report.merge?.base_name !== datasetName) throw new Error(`${version}/report.json records the merge as ${JSON.stringify(report.merge)}`);
  t.log(`merged the batch back: ${version}, ${corrected} images corrected`);
  await page.getByTestId('nav-review').click();
  await page.getByTestId('review-page').waitFor({ state: 'visible' });

  // 9. any folder of images (no ground truth): everything is unlabelled; its batch as a COCO 1.0 zip,
  // pre-annotated with the model's own classes
  const folder = path.join(t.workspace, 'datasets', datasetName, 'images', 'val');
  await page.getByTestId('review-source-mode').getByText('Folder of images').click();
  await page.getByTestId('review-folder').fill(folder);
  await page.getByTestId('review-run').click();
  await page.waitForFunction(
    ([sel, f]) => {
      const err = document.querySelector(sel);
      if (err) throw new Error(`predictions on the folder failed in the UI: ${err.textContent}`);
      return (document.querySelector('[data-testid="review-set-info"]')?.textContent ?? '').includes(f) && !!document.querySelector('[data-testid="review-thumb"]');
    },
    [ERRORS, folder],
    { timeout: 180_000, polling: 250 },
  );
  const folderTotals = await totals(page);
  if (folderTotals.tp + folderTotals.fn !== 0) throw new Error(`a folder has no ground truth, yet the gallery counts ${JSON.stringify(folderTotals)}`);
  await t.screenshot('folder');
  await page.getByTestId('batch-open').click();
  await page.getByTestId('batch-mode').getByText('Unlabelled').click();
  await page.getByTestId('batch-format').getByText('COCO 1.0 zip').click();
  await page.getByTestId('batch-limit').fill('4');
  await page.getByTestId('batch-start').click();
  await page.waitForFunction(
    (sel) => {
      const err = document.querySelector(sel);
      if (err) throw new Error(`the folder's batch failed in the UI: ${err.textContent}`);
      return !!document.querySelector('[data-testid="batch-result"]');
    },
    ERRORS,
    { timeout: 120_000, polling: 250 },
  );
  const zip = ((await page.getByTestId('batch-annotations').textContent()) ?? '').trim();
  const zipBoxes = Number(await page.getByTestId('batch-result').getAttribute('data-boxes'));
  if (!zip.endsWith('.zip') || !existsSync(zip)) throw new Error(`no COCO zip at ${zip}`);
  if ((await fs.readFile(zip)).subarray(0, 2).toString('latin1') !== 'PK') throw new Error(`${zip} is not a zip`);
  if (Number(await page.getByTestId('batch-result').getAttribute('data-images')) !== 4) throw new Error('the folder batch does not hold 4 images');
  if (!(zipBoxes > 0)) throw new Error(`the folder batch has no pre-annotations at ${conf}`);
  t.log(`folder batch: 4 images, ${zipBoxes} pre-annotated boxes in ${path.basename(zip)}`);
  await t.screenshot('folder-batch');
}
