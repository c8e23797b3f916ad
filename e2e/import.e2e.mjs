/**
 * The first promise of the app, through the real UI: drop the bundled sample export (a Roboflow
 * COCO zip of blood cells) on the drop zone, inspect, import, and land on the dataset with its
 * health report and per-class chart — and the Ultralytics dataset folder on disk.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';

export const timeout = 240_000;

/** @param {{ page: import('playwright-core').Page, root: string, workspace: string, screenshot(label: string): Promise<unknown>, log(...a: unknown[]): void }} t */
export default async function importSample(t) {
  const { page } = t;
  const zipPath = path.join(t.root, 'resources', 'sample', 'rbc-roboflow-coco.zip');
  const bytes = await fs.readFile(zipPath);

  const dropzone = page.getByTestId('dropzone').first();
  if (!(await dropzone.isVisible())) await page.getByTestId('nav-import').click();
  await dropzone.waitFor({ state: 'visible' });

  // what a user's drag from the file manager delivers: a DataTransfer holding the zip as a File
  const dataTransfer = await page.evaluateHandle(
    ({ b64, name }) => {
      const bin = atob(b64);
      const buf = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) buf[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([buf], name, { type: 'application/zip' }));
      return dt;
    },
    { b64: bytes.toString('base64'), name: path.basename(zipPath) },
  );
  await dropzone.dispatchEvent('dragenter', { dataTransfer });
  await dropzone.dispatchEvent('dragover', { dataTransfer });
  await dropzone.dispatchEvent('drop', { dataTransfer });

  // upload, then the inspect job: its summary appears and import-start becomes clickable
  const start = page.getByTestId('import-start');
  await page.waitForFunction(
    () => {
      const err = document.querySelector('[data-testid="import-error"], [data-testid="job-error"]');
      if (err) throw new Error(`import page shows an error: ${err.textContent}`);
      const b = document.querySelector('[data-testid="import-start"]');
      return (
        !!document.querySelector('[data-testid="inspect-summary"]') &&
        !!b &&
        !b.hasAttribute('disabled') &&
        b.getAttribute('data-loading') !== 'true'
      );
    },
    null,
    { timeout: 90_000, polling: 250 },
  );
  await t.screenshot('inspected');
  await start.click();

  const health = page.getByTestId('health-report');
  await page.waitForFunction(
    () => {
      const err = document.querySelector('[data-testid="import-error"], [data-testid="job-error"]');
      if (err) throw new Error(`import failed in the UI: ${err.textContent}`);
      return !!document.querySelector('[data-testid="health-report"]');
    },
    null,
    { timeout: 180_000, polling: 250 },
  );
  await health.waitFor({ state: 'visible' });
  const chart = page.getByTestId('class-chart').first();
  await chart.waitFor({ state: 'visible' });
  // ECharts draws into a canvas: the chart must have actually rendered, not just mounted
  await page.waitForFunction(() => {
    const c = document.querySelector('[data-testid="class-chart"] canvas');
    return c instanceof HTMLCanvasElement && c.width > 0 && c.height > 0;
  });
  await t.screenshot('dataset');

  // on disk: <workspace>/datasets/<name>/data.yaml, an Ultralytics dataset with an absolute path
  const datasetsDir = path.join(t.workspace, 'datasets');
  const names = (await fs.readdir(datasetsDir, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.'));
  if (names.length !== 1) throw new Error(`expected one dataset in ${datasetsDir}, found: ${names.map((d) => d.name).join(', ') || 'none'}`);
  const dir = path.join(datasetsDir, names[0].name);
  const yaml = YAML.parse(await fs.readFile(path.join(dir, 'data.yaml'), 'utf8'));
  if (!path.isAbsolute(String(yaml.path))) throw new Error(`data.yaml path is not absolute: ${yaml.path}`);
  const classNames = Array.isArray(yaml.names) ? yaml.names : Object.values(yaml.names ?? {});
  if (classNames.join(',') !== 'rbc,wbc') throw new Error(`data.yaml names: expected rbc,wbc (placeholder dropped), got ${classNames.join(',')}`);
  for (const split of ['train', 'val']) {
    const labels = await fs.readdir(path.join(dir, 'labels', split));
    const images = await fs.readdir(path.join(dir, 'images', split));
    if (!labels.length || labels.length !== images.length) throw new Error(`${split}: ${images.length} images, ${labels.length} label files`);
  }
  t.log(`dataset ${names[0].name}: ${classNames.join(', ')}`);
}
