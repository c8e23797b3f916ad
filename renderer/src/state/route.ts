/** Pages and their URL hash, so a reload (or a link in a test) lands on the same page. */
export type Page = { name: 'home' } | { name: 'import' } | { name: 'dataset'; dir: string };

export function pageToHash(page: Page): string {
  switch (page.name) {
    case 'home':
      return '#/';
    case 'import':
      return '#/import';
    case 'dataset':
      return `#/dataset?dir=${encodeURIComponent(page.dir)}`;
  }
}

export function hashToPage(hash: string): Page {
  const [route, query] = hash.replace(/^#/, '').split('?', 2);
  if (route === '/import') return { name: 'import' };
  if (route === '/dataset') {
    const dir = new URLSearchParams(query ?? '').get('dir');
    if (dir) return { name: 'dataset', dir };
  }
  return { name: 'home' };
}

export function samePage(a: Page, b: Page): boolean {
  return pageToHash(a) === pageToHash(b);
}
