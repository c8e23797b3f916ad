/**
 * The page's CSP has no 'unsafe-eval': keep zod from probing `new Function` (which the browser
 * reports as a CSP violation in the console) when the contract's schemas are built. Imported first
 * by api/index.ts so it runs before any schema module is evaluated.
 */
import { config } from 'zod';

config({ jitless: true });
