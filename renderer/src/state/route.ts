/** Pages and their URL hash, so a reload (or a link in a test) lands on the same page. */
export type Page =
  | { name: 'home' }
  | { name: 'import' }
  | { name: 'dataset'; dir: string }
  | { name: 'train' }
  /** the run list; with `dir`, that run's live view beside it */
  | { name: 'runs'; dir?: string }
  /** the review gallery: a model's predictions on a dataset split (or a folder of images) */
  | { name: 'review'; model?: string; dataset?: string; split?: string; folder?: string };

export function pageToHash(page: Page): string {
  switch (page.name) {
    case 'home':
      return '#/';
    case 'import':
      return '#/import';
    case 'dataset':
      return `#/dataset?dir=${encodeURIComponent(page.dir)}`;
    case 'train':
      return '#/train';
    case 'runs':
      return page.dir ? `#/runs?dir=${encodeURIComponent(page.dir)}` : '#/runs';
    case 'review': {
      const q = new URLSearchParams();
      for (const k of ['model', 'dataset', 'split', 'folder'] as const) if (page[k]) q.set(k, page[k]);
      const qs = q.toString();
      return qs ? `#/review?${qs}` : '#/review';
    }
  }
}

export function hashToPage(hash: string): Page {
  const [route, query] = hash.replace(/^#/, '').split('?', 2);
  if (route === '/import') return { name: 'import' };
  if (route === '/train') return { name: 'train' };
  if (route === '/runs') {
    const dir = new URLSearchParams(query ?? '').get('dir');
    return dir ? { name: 'runs', dir } : { name: 'runs' };
  }
  if (route === '/review') {
    const q = new URLSearchParams(query ?? '');
    const page: Page = { name: 'review' };
    for (const k of ['model', 'dataset', 'split', 'folder'] as const) {
      const v = q.get(k);
      if (v) page[k] = v;
    }
    return page;
  }
  if (route === '/dataset') {
    const dir = new URLSearchParams(query ?? '').get('dir');
    if (dir) return { name: 'dataset', dir };
  }
  return { name: 'home' };
}

export function samePage(a: Page, b: Page): boolean {
  return pageToHash(a) === pageToHash(b);
}
