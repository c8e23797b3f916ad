/**
 * Fixed class palette: a class keeps its colour across the grid, the viewer, the legend and the
 * mapping. Saturated on purpose: thin outlines must stay visible over busy photos and microscopy.
 */
export const PALETTE = [
  '#1e90ff', '#ff8c00', '#ff2d55', '#00c2a8', '#ffd60a',
  '#a259ff', '#00e0ff', '#ff5ec4', '#7bd500', '#ff6b35',
  '#3d5afe', '#00b050', '#c51162', '#b8860b', '#9e9e9e',
  '#00897b', '#e040fb', '#76ff03', '#ff1744', '#651fff',
] as const;

export function classColor(cls: number): string {
  const n = PALETTE.length;
  return PALETTE[((cls % n) + n) % n]!;
}

/** Split colours, used by the charts and the split badges. */
export const SPLIT_COLORS: Record<string, string> = { train: '#4e79a7', val: '#f28e2b', test: '#59a14f' };
export const SPLIT_MANTINE_COLORS: Record<string, string> = { train: 'blue', val: 'orange', test: 'green' };
