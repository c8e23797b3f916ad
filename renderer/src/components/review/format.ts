/** A metric in [0, 1] with three decimals; '—' where undefined (NaN). */
export function fmt(x: number | undefined | null): string {
  return x === undefined || x === null || Number.isNaN(x) ? '—' : x.toFixed(3);
}

/** A model's display name from its path (`runs/…/weights/best.onnx` → `…/best.onnx`). */
export function modelLabel(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts.slice(-3).join('/');
}
