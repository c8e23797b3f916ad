/** Path helpers for display only (the renderer never touches the file system). Handles / and \ separators. */
export function basename(p: string): string {
  const trimmed = p.replace(/[\\/]+$/, '');
  const i = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
  return i >= 0 ? trimmed.slice(i + 1) : trimmed;
}

function dirnameOf(p: string): string {
  const trimmed = p.replace(/[\\/]+$/, '');
  const i = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
  return i > 0 ? trimmed.slice(0, i) : trimmed;
}

/** A dataset name proposed from a source path: its base name without archive/JSON extension. */
export function datasetNameFromPath(p: string): string {
  let base = basename(p).replace(/\.(zip|json|xml|ya?ml|txt)$/i, '');
  // Roboflow's per-split `_annotations.coco.json`, CVAT's `annotations.xml`: the folder names the set
  if (/^_?annotations(\.coco)?$|^instances_/i.test(base)) base = basename(dirnameOf(p));
  const cleaned = base.replace(/[^\p{L}\p{N}._-]+/gu, '-').replace(/^-+|-+$/g, '');
  return cleaned || 'dataset';
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object' && 'message' in e && typeof e.message === 'string') return e.message;
  return String(e);
}
