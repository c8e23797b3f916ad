/**
 * A run's per-epoch values: results.csv's columns from its header (never fixed positions), merged with
 * the epochs the event stream has reported since the file was last read.
 */
export interface EpochTable {
  /** sorted epochs (1-based) */
  epochs: number[];
  /** column name -> value per epoch (null where unknown) */
  series: Record<string, Array<number | null>>;
}

/** results.csv rows (cells may arrive as null: NaN does not survive JSON) merged with live rows by epoch. */
export function epochTable(columns: string[], rows: Array<Array<number | null>>, live: Record<number, Record<string, number>>): EpochTable {
  const byEpoch = new Map<number, Record<string, number>>();
  const epochCol = columns.indexOf('epoch');
  rows.forEach((row, i) => {
    const e = epochCol >= 0 && typeof row[epochCol] === 'number' ? row[epochCol]! : i + 1;
    const rec: Record<string, number> = {};
    columns.forEach((c, j) => {
      const v = row[j];
      if (typeof v === 'number' && Number.isFinite(v)) rec[c] = v;
    });
    byEpoch.set(e, rec);
  });
  // live values fill in what the file does not hold yet; the file wins where both have a value
  for (const [k, rec] of Object.entries(live)) {
    const e = Number(k);
    byEpoch.set(e, { ...rec, ...byEpoch.get(e) });
  }
  const epochs = [...byEpoch.keys()].sort((a, b) => a - b);
  const names = new Set<string>();
  for (const rec of byEpoch.values()) for (const n of Object.keys(rec)) names.add(n);
  names.delete('epoch');
  const series: EpochTable['series'] = {};
  for (const n of names) series[n] = epochs.map((e) => byEpoch.get(e)?.[n] ?? null);
  return { epochs, series };
}
