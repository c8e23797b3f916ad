/**
 * The import page's guards, through the real UI: an inspect that fails (a broken annotation file
 * added to a good export) leaves Start disabled instead of offering the earlier summary; a
 * double-click on Start runs one import and writes one dataset; a drop whose upload is refused (a
 * name the server rejects) reports it and leaves no upload bar behind.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export const timeout = 240_000;

/** Drop Files built in the page: `{ b64, name }` (bytes) or `{ text, name }` or `{ size, name }` (zeros). */
async function drop(page, files) {
  const dataTransfer = await page.evaluateHandle((files) => {
    const dt = new DataTransfer();
    for (const f of files) {
      let buf;
      if (f.b64 !== undefined) {
        const bin = atob(f.b64);
        buf = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) buf[i] = bin.charCodeAt(i);
      } else if (f.text !== undefined) buf = new TextEncoder().encode(f.text);
      else buf = new Uint8Array(f.size);
      dt.items.add(new File([buf], f.name));
    }
    return dt;
  }, files);
  const dropzone = page.getByTestId('dropzone');
  await dropzone.dispatchEvent('dragenter', { dataTransfer });
  await dropzone.dispatchEvent('dragover', { dataTransfer });
  await dropzone.dispatchEvent('drop', { dataTransfer });
}

/** Start import as the page shows it: present, not disabled, not loading. */
function startState(page) {
  return page.evaluate(() => {
    const b = document.querySelector('[data-testid="import-start"]');
    if (!b) return 'absent';
    return b.hasAttribute('disabled') || b.getAttribute('data-loading') === 'true' ? 'disabled' : 'enabled';
  });
}

async function waitInspected(page) {
  await page.waitForFunction(
    () => {
      const b = document.querySelector('[data-testid="import-start"]');
      return !!document.querySelector('[data-testid="inspect-summary"]') && !!b && !b.hasAttribute('disabled');
    },
    null,
    { timeout: 90_000, polling: 250 },
  );
}

/** @param {{ page: import('playwright-core').Page, root: string, workspace: string, screenshot(label: string): Promise<unknown>, log(...a: unknown[]): void }} t */
export default async function importGuards(t) {
  const { page } = t;
  const zip = await fs.readFile(path.join(t.root, 'resources', 'sample', 'rbc-roboflow-coco.zip'));
  await page.getByTestId('nav-import').click();
  await page.getByTestId('dropzone').waitFor({ state: 'visible' });

  // 1. a good export inspects and Start is enabled
  await drop(page, [{ b64: zip.toString('base64'), name: 'rbc-roboflow-coco.zip' }]);
  await waitInspected(page);

  // 2. adding a broken file: its inspect fails, and Start must not offer the earlier result
  await drop(page, [{ text: '{"images": [ not json', name: 'broken.json' }]);
  await page.getByTestId('job-error').waitFor({ timeout: 60_000 });
  const jobError = await page.getByTestId('job-error').textContent();
  if (!jobError.includes('broken.json')) throw new Error(`the inspect error does not name the file: ${jobError}`);
  if ((await startState(page)) !== 'disabled') throw new Error(`after a failed inspect Start is ${await startState(page)}, expected disabled`);
  const problems = await page.getByTestId('import-problems').textContent();
  if (!/failed/i.test(problems)) throw new Error(`Start gives no reason about the failed inspect: "${problems}"`);
  await t.screenshot('inspect-failed');

  // removing it inspects the good export again and Start comes back
  await page.getByRole('button', { name: 'remove broken.json' }).click();
  await waitInspected(page);

  // 3. a double-click on Start: one import.run call, one dataset on disk
  const runs = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/call/import.run')) runs.push(r.url());
  });
  await page.getByTestId('import-start').dblclick();
  await page.getByTestId('dataset-page').waitFor({ timeout: 180_000 });
  // a second import, had one started, would still be writing: give it time to show up
  await page.waitForTimeout(3000);
  if (runs.length !== 1) throw new Error(`a double-click on Start made ${runs.length} import.run calls`);
  const datasetsDir = path.join(t.workspace, 'datasets');
  const names = (await fs.readdir(datasetsDir, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
  if (names.length !== 1) throw new Error(`expected one dataset after a double-click, found: ${names.join(', ') || 'none'}`);

  // 4. an upload the server refuses beside a big one: an error, and no upload bar left behind
  await page.getByTestId('nav-import').click();
  await drop(page, [
    { size: 20e6, name: 'big.bin' },
    { text: '{}', name: 'bad:name.json' },
  ]);
  await page.getByTestId('import-error').waitFor({ timeout: 60_000 });
  const uploadError = await page.getByTestId('import-error').textContent();
  if (!uploadError.includes('bad:name.json')) throw new Error(`the upload error does not name the file: ${uploadError}`);
  await page.waitForTimeout(3000);
  if (await page.getByTestId('upload-progress').count()) throw new Error('the upload bar is still shown after the upload failed');
  t.log(`one dataset (${names[0]}); inspect failure and upload refusal reported`);
}
