/**
 * Fixed class palette (Tableau 10 + extras): a class keeps its colour across the grid, the viewer,
 * the legend and the charts. Chosen for contrast on both light and dark thumbnails.
 */
export const PALETTE = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f',
  '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac',
  '#17becf', '#bcbd22', '#7f7f7f', '#d62728', '#9467bd',
  '#2ca02c', '#ff7f0e', '#1f77b4', '#e377c2', '#8c564b',
] as const;

export function classColor(cls: number): string {
  const n = PALETTE.length;
  return PALETTE[((cls % n) + n) % n]!;
}

/** Split colours, used by the charts and the split badges. */
export const SPLIT_COLORS: Record<string, string> = { train: '#4e79a7', val: '#f28e2b', test: '#59a14f' };
export const SPLIT_MANTINE_COLORS: Record<string, string> = { train: 'blue', val: 'orange', test: 'green' };
