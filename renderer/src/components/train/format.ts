/** Display helpers shared by the training pages. */
import type { RunStatus } from '../../../../electron/shared/contract';

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** A metric in [0, 1] with three decimals; '—' when unknown. */
export function f3(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(3);
}

export function signed3(v: number): string {
  return `${v > 0 ? '+' : ''}${v.toFixed(3)}`;
}

/** ↑ / ↓ / = for a delta, with a tolerance so 1e-12 is "same". */
export function deltaMark(d: number): '↑' | '↓' | '=' {
  return d > 1e-9 ? '↑' : d < -1e-9 ? '↓' : '=';
}

export const STATUS_COLOR: Record<RunStatus, string> = {
  running: 'blue',
  done: 'green',
  stopped: 'yellow',
  failed: 'red',
  crashed: 'orange',
};

export const VERDICT_COLOR = { better: 'green', same: 'gray', degraded: 'red' } as const;

/** The last path component, whatever the separator (display only). */
export function baseName(p: string): string {
  const t = p.replace(/[\\/]+$/, '');
  return t.slice(Math.max(t.lastIndexOf('/'), t.lastIndexOf('\\')) + 1);
}

/** `<run>/weights/best.pt` with the run folder's own separator. */
export function bestWeightsOf(runDir: string): string {
  const sep = runDir.includes('\\') && !runDir.includes('/') ? '\\' : '/';
  return `${runDir.replace(/[\\/]+$/, '')}${sep}weights${sep}best.pt`;
}

/** The folder holding a data.yaml (display/matching only). */
export function dirOf(p: string): string {
  const t = p.replace(/[\\/]+$/, '');
  const i = Math.max(t.lastIndexOf('/'), t.lastIndexOf('\\'));
  return i > 0 ? t.slice(0, i) : t;
}
