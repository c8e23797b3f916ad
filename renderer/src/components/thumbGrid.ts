/**
 * What the virtualized thumbnail grids (the dataset's ImageGrid and the review gallery) share: the
 * column and row sizing from the grid's width, the row virtualizer, and the delayed thumbnail request.
 */
import { useEffect, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useElementSize } from '@mantine/hooks';

/** space between cells and rows (px) */
export const GAP = 8;
/** the caption line under a thumbnail (px) */
export const CAPTION = 20;
/** the thumbnail size asked of the server (px) */
export const THUMB_SIZE = 256;
const THUMB_DELAY_MS = 120;

/**
 * As many columns of at least `minCell` px as the width holds, square cells filling the width, and
 * a virtualizer over the rows of `total` cells. `scrollRef` goes on the scrolling element, `sizeRef`
 * on the full-height element inside it whose width is measured.
 */
export function useThumbGrid(total: number, minCell: number) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const { ref: sizeRef, width } = useElementSize();

  const cols = Math.max(1, Math.floor((width + GAP) / (minCell + GAP)));
  const cell = width > 0 ? Math.floor((width - GAP * (cols - 1)) / cols) : minCell;
  const rowHeight = cell + CAPTION + GAP;
  const rows = total ? Math.ceil(total / cols) : 0;

  const virtualizer = useVirtualizer({
    count: rows,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan: 2,
    // let React batch scroll updates instead of rendering synchronously on every scroll event
    // (fewer long tasks on a fast fling; rows may appear one frame later)
    useFlushSync: false,
  });
  useEffect(() => {
    virtualizer.measure();
  }, [rowHeight, virtualizer]);
  return { scrollRef, sizeRef, width, cols, cell, rowHeight, virtualizer };
}

/**
 * Whether a cell may request its thumbnail: once it has stayed mounted a moment, so a fling does not
 * queue hundreds of thumbnails (made on demand) for cells already gone; at once when `seen` (the
 * thumbnails the browser has loaded, and cached, in this session) holds `src`.
 */
export function useThumbRequested(src: string, seen: ReadonlySet<string>): boolean {
  const [requested, setRequested] = useState(() => seen.has(src));
  useEffect(() => {
    if (requested) return;
    const t = setTimeout(() => setRequested(true), THUMB_DELAY_MS);
    return () => clearTimeout(t);
  }, [requested]);
  return requested;
}
