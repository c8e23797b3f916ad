/**
 * Reading what Ultralytics writes: results.csv (columns from its header, never by position: they
 * differ between tasks and versions, and older versions pad names with spaces) and its metric names.
 */
import type { RunMetrics } from '../../shared/contract.js';

export interface ResultsTable {
  columns: string[];
  /** one row per epoch; a cell that is not a number is NaN */
  rows: number[][];
}

export function parseResultsCsv(text: string): ResultsTable {
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  if (!lines.length) return { columns: [], rows: [] };
  const columns = lines[0]!.split(',').map((c) => c.trim());
  const rows = lines.slice(1).map((l) => {
    const cells = l.split(',');
    return columns.map((_, i) => {
      const c = cells[i]?.trim();
      return c === undefined || c === '' ? NaN : Number(c);
    });
  });
  return { columns, rows };
}

/** The value of a metric in a record keyed by Ultralytics' names, box metrics first: "metrics/mAP50-95(B)". */
function find(rec: Record<string, number>, metric: 'precision' | 'recall' | 'mAP50' | 'mAP50-95'): number | null {
  for (const key of [`metrics/${metric}(B)`, `metrics/${metric}`, metric, `${metric}(B)`]) {
    const v = rec[key];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  // tolerate other spellings ("metrics/mAP50-95(M)" for masks only, "mAP50_95")
  const alt = metric.replace('-', '_');
  for (const [k, v] of Object.entries(rec)) {
    const base = k.replace(/^metrics\//, '').replace(/\([A-Z]\)$/, '');
    if ((base === metric || base === alt) && Number.isFinite(v)) return v;
  }
  return null;
}

/** RunMetrics from Ultralytics' metric names (an event's metrics or a results.csv row); null without mAP. */
export function pickMetrics(rec: Record<string, number>): RunMetrics | null {
  const mAP50_95 = find(rec, 'mAP50-95');
  const mAP50 = find(rec, 'mAP50');
  if (mAP50_95 === null || mAP50 === null) return null;
  return { precision: find(rec, 'precision') ?? 0, recall: find(rec, 'recall') ?? 0, mAP50, mAP50_95 };
}

export function rowRecord(t: ResultsTable, i: number): Record<string, number> {
  const row = t.rows[i] ?? [];
  return Object.fromEntries(t.columns.map((c, j) => [c, row[j] ?? NaN]));
}

/**
 * The best epoch as Ultralytics picks best.pt: highest fitness, which in Ultralytics 8.4 is
 * mAP50-95 (box, plus mask for segmentation); of equal ones the last (best.pt is rewritten whenever an
 * epoch's fitness equals the best so far). Returns the row index, or -1.
 */
export function bestRow(t: ResultsTable): number {
  const cols = t.columns.map((c, i) => [c, i] as const).filter(([c]) => /^metrics\/mAP50-95\([BM]\)$/.test(c)).map(([, i]) => i);
  if (!cols.length) return -1;
  let best = -1;
  let bestFit = -Infinity;
  t.rows.forEach((r, i) => {
    const fit = cols.reduce((s, j) => s + (Number.isFinite(r[j]!) ? r[j]! : 0), 0);
    if (fit >= bestFit) {
      bestFit = fit;
      best = i;
    }
  });
  return best;
}
