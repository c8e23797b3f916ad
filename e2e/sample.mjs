/**
 * Shared e2e steps (not a test: the runner loads only *.e2e.mjs).
 */

/** Import the bundled sample dataset from Home, as a user does: inspect, Start import, wait for the health report. */
export async function importSampleFromHome(page, { importTimeout = 180_000 } = {}) {
  await page.getByTestId('nav-home').click();
  await page.getByTestId('try-sample').click();
  // the sample is inspected first; Start import once it may be pressed
  await page.waitForFunction(
    () => {
      const err = document.querySelector('[data-testid="import-error"], [data-testid="job-error"]');
      if (err) throw new Error(`inspect failed in the UI: ${err.textContent}`);
      const b = document.querySelector('[data-testid="import-start"]');
      return !!document.querySelector('[data-testid="inspect-summary"]') && !!b && !b.hasAttribute('disabled') && b.getAttribute('data-loading') !== 'true';
    },
    null,
    { timeout: 120_000, polling: 250 },
  );
  await page.getByTestId('import-start').click();
  await page.waitForFunction(
    () => {
      const err = document.querySelector('[data-testid="import-error"], [data-testid="job-error"]');
      if (err) throw new Error(`import failed in the UI: ${err.textContent}`);
      return !!document.querySelector('[data-testid="health-report"]');
    },
    null,
    { timeout: importTimeout, polling: 250 },
  );
}
