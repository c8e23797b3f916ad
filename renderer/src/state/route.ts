/** Pages and their URL hash, so a reload (or a link in a test) lands on the same page. */
export type Page =
  | { name: 'home' }
  | { name: 'import' }
  | { name: 'dataset'; dir: string }
  | { name: 'train' }
  /** the run list; with `dir`, that run's live view beside it */
  | { name: 'runs'; dir?: string };

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
  if (route === '/dataset') {
    const dir = new URLSearchParams(query ?? '').get('dir');
    if (dir) return { name: 'dataset', dir };
  }
  return { name: 'home' };
}

export function samePage(a: Page, b: Page): boolean {
  return pageToHash(a) === pageToHash(b);
}
