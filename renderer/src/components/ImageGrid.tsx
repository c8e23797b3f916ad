/**
 * The dataset's images as a virtualized grid: only the visible rows (plus a few) are mounted, pages
 * of images are fetched as rows come into view, and rows are memoized so scrolling only moves them.
 * Each row subscribes to the one or two pages it shows, so a page arriving re-renders just its rows.
 */
import { memo, useCallback, useEffect, useState } from 'react';
import { Alert, Button, Group, SegmentedControl, Stack, Text } from '@mantine/core';
import type { DatasetImage } from '../../../electron/shared/contract';
import { useSpotter, useTransport } from '../state/react';
import {
  PAGE_SIZE,
  selectClassNames,
  selectGridError,
  selectGridPage,
  selectGridSplit,
  selectGridTotal,
  selectReport,
  type SplitFilter,
} from '../state/dataset';
import { LabelOverlay } from './LabelOverlay';
import { ClassLegend } from './ClassLegend';
import { ImageViewer } from './ImageViewer';
import { formatCount } from '../lib/paths';
import { SPLIT_COLORS } from '../lib/palette';
import { CAPTION, GAP, THUMB_SIZE, useThumbGrid, useThumbRequested } from './thumbGrid';

const MIN_CELL = 150;
/** thumbnail URLs the browser has loaded (and cached) in this session */
const seenThumbs = new Set<string>();

export function ImageGrid() {
  const total = useSpotter(selectGridTotal);
  const error = useSpotter(selectGridError);
  const names = useSpotter(selectClassNames);
  const retry = useSpotter((s) => s.retryGrid);
  const [viewer, setViewer] = useState<number | null>(null);
  const onOpen = useCallback((index: number) => setViewer(index), []);
  return (
    <Stack gap="xs">
      <GridToolbar />
      {names && <ClassLegend names={names} />}
      {error && (
        <Alert color="red" variant="light" p="xs" data-testid="grid-error">
          <Group justify="space-between" gap="xs" wrap="nowrap">
            <Text size="sm">Could not load images: {error}</Text>
            <Button size="compact-xs" variant="default" onClick={retry} data-testid="grid-retry">
              Retry
            </Button>
          </Group>
        </Alert>
      )}
      <GridBody total={total} onOpen={onOpen} />
      {viewer !== null && total !== null && (
        <ImageViewer index={viewer} total={total} onChange={setViewer} onClose={() => setViewer(null)} />
      )}
    </Stack>
  );
}

/** The scrolling part: re-renders on scroll (the virtualizer), but its rows are memoized. */
function GridBody({ total, onOpen }: { total: number | null; onOpen(i: number): void }) {
  const { scrollRef, sizeRef, width, cols, cell, rowHeight, virtualizer } = useThumbGrid(total ?? 0, MIN_CELL);

  return (
    <div
      ref={scrollRef}
      data-testid="dataset-grid"
      data-total={total ?? ''}
      style={{ height: 'min(72vh, 900px)', overflow: 'auto', contain: 'strict', position: 'relative' }}
    >
      <div ref={sizeRef} style={{ height: virtualizer.getTotalSize(), width: '100%', position: 'relative' }}>
        {width > 0 &&
          total !== null &&
          virtualizer.getVirtualItems().map((vr) => (
            <div
              key={vr.key}
              style={{ position: 'absolute', top: 0, left: 0, width: '100%', height: rowHeight, transform: `translateY(${vr.start}px)` }}
            >
              <GridRow row={vr.index} cols={cols} cell={cell} total={total} onOpen={onOpen} />
            </div>
          ))}
      </div>
      {total === 0 && (
        <Text c="dimmed" size="sm" p="md">
          No images in this split.
        </Text>
      )}
    </div>
  );
}

function GridToolbar() {
  const split = useSpotter(selectGridSplit);
  const setSplit = useSpotter((s) => s.setGridSplit);
  const total = useSpotter(selectGridTotal);
  const report = useSpotter(selectReport);
  const count = (s: string) => report?.splits[s as 'train']?.images;
  const all = report ? Object.values(report.splits).reduce((n, s) => n + (s?.images ?? 0), 0) : undefined;
  const label = (s: string, n: number | undefined) => (n === undefined ? s : `${s} (${formatCount(n)})`);
  return (
    <Group justify="space-between">
      <SegmentedControl
        size="xs"
        value={split}
        onChange={(v) => setSplit(v as SplitFilter)}
        data={[
          { value: 'all', label: label('all', all) },
          ...(['train', 'val', 'test'] as const).map((s) => ({ value: s, label: label(s, count(s)) })),
        ]}
        data-testid="grid-split"
      />
      <Text size="xs" c="dimmed">
        {total === null ? 'loading…' : `${formatCount(total)} images`}
      </Text>
    </Group>
  );
}

const GridRow = memo(function GridRow(props: { row: number; cols: number; cell: number; total: number; onOpen(i: number): void }) {
  const { row, cols, cell, total, onOpen } = props;
  const start = row * cols;
  const end = Math.min(start + cols, total);
  const pageA = Math.floor(start / PAGE_SIZE);
  const pageB = Math.floor((end - 1) / PAGE_SIZE);
  const a = useSpotter(selectGridPage(pageA));
  const b = useSpotter(selectGridPage(pageB));
  const ensurePage = useSpotter((s) => s.ensurePage);
  useEffect(() => {
    if (!a) ensurePage(pageA);
    if (!b) ensurePage(pageB);
  }, [a, b, pageA, pageB, ensurePage]);

  const cells = [];
  for (let i = start; i < end; i++) {
    const page = Math.floor(i / PAGE_SIZE) === pageA ? a : b;
    const image = page?.[i % PAGE_SIZE];
    cells.push(
      image ? (
        <Thumb key={`${i}:${image.path}`} index={i} image={image} size={cell} onOpen={onOpen} />
      ) : (
        <div key={i} className="thumb-placeholder" style={{ width: cell, height: cell }} />
      ),
    );
  }
  return (
    <div style={{ display: 'flex', gap: GAP }} data-row={row}>
      {cells}
    </div>
  );
});

// Plain elements and CSS classes here, not Mantine components: a fast fling mounts hundreds of
// thumbnails per second, and each Mantine Badge/Text costs several components.
const Thumb = memo(function Thumb(props: { index: number; image: DatasetImage; size: number; onOpen(i: number): void }) {
  const { image, size, index, onOpen } = props;
  const transport = useTransport();
  const src = transport.thumbUrl(image.path, THUMB_SIZE);
  const [natural, setNatural] = useState<{ w: number; h: number } | null>(null);
  const [failed, setFailed] = useState(false);
  const requested = useThumbRequested(src, seenThumbs);
  return (
    <div style={{ width: size }} data-testid="thumb">
      <div
        className="thumb"
        style={{ width: size, height: size }}
        onClick={() => onOpen(index)}
        role="button"
        tabIndex={0}
        onKeyDown={(e) => e.key === 'Enter' && onOpen(index)}
        title={`${image.file}\ngroup: ${image.group}\n${image.labels.length} objects`}
      >
        {failed ? (
          <span className="thumb-failed">image unreadable</span>
        ) : requested ? (
          <img
            src={src}
            alt={image.file}
            decoding="async"
            draggable={false}
            onLoad={(e) => {
              seenThumbs.add(src);
              setNatural({ w: e.currentTarget.naturalWidth, h: e.currentTarget.naturalHeight });
            }}
            onError={() => setFailed(true)}
          />
        ) : null}
        {natural && image.labels.length > 0 && <LabelOverlay labels={image.labels} width={natural.w} height={natural.h} strokeWidth={1.2} />}
        {image.labels.length === 0 && <span className="thumb-negative">negative</span>}
      </div>
      <div className="thumb-caption" style={{ height: CAPTION }}>
        <span className="split-dot" style={{ background: SPLIT_COLORS[image.split] }} />
        <span className="thumb-split">{image.split}</span>
        <span className="thumb-name">{image.file.replace(/^images\/[^/]+\//, '')}</span>
      </div>
    </div>
  );
});
