/**
 * The gallery: the set's images in the slice's order (`reviewOrder`), virtualized like the dataset
 * grid (only visible rows mounted, memoized rows, thumbnails requested once a cell has stayed a
 * moment, cached by the server and the browser). The counts a cell shows are read from the slice's
 * per-image arrays (computed once per slider move); a cell only computes its own boxes' statuses.
 */
import { memo, useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import { Text } from '@mantine/core';
import { useSpotter, useTransport } from '../../state/react';
import { selectReviewComparison, selectReviewEval, selectReviewFocus, selectReviewMatching, selectReviewOrder } from '../../state/review';
import { imageStatus, type GtStatus, type PredStatus, type ReviewEvaluation, type ReviewMatching } from './evaluate';
import type { Comparison } from './order';
import { ThumbBoxes } from './ThumbBoxes';
import { formatCount } from '../../lib/paths';
import { CAPTION, GAP, THUMB_SIZE, useThumbGrid, useThumbRequested } from '../thumbGrid';
import './review.css';

const MIN_CELL = 160;
const seenThumbs = new Set<string>();

export function ReviewGrid({ onOpen, selected }: { onOpen(pos: number): void; selected: number | null }) {
  // the slider, the totals and the table answer first; the cells follow at a lower priority
  // (React drops intermediate states of a fast drag instead of queueing them)
  const order = useDeferredValue(useSpotter(selectReviewOrder));
  const matching = useDeferredValue(useSpotter(selectReviewMatching));
  const ev = useDeferredValue(useSpotter(selectReviewEval));
  const cmp = useDeferredValue(useSpotter(selectReviewComparison));
  const focus = useSpotter(selectReviewFocus);
  const total = order.length;
  const { scrollRef, sizeRef, width, cols, cell, rowHeight, virtualizer } = useThumbGrid(total, MIN_CELL);
  // keep the viewer's image in view when it moves with the keyboard
  useEffect(() => {
    if (selected !== null) virtualizer.scrollToIndex(Math.floor(selected / cols), { align: 'auto' });
  }, [selected, cols, virtualizer]);

  return (
    <div
      ref={scrollRef}
      data-testid="review-grid"
      data-total={total}
      style={{ height: 'min(74vh, 960px)', overflow: 'auto', contain: 'strict', position: 'relative' }}
    >
      <div ref={sizeRef} style={{ height: virtualizer.getTotalSize(), width: '100%', position: 'relative' }}>
        {width > 0 &&
          matching &&
          ev &&
          virtualizer.getVirtualItems().map((vr) => (
            <div
              key={vr.key}
              style={{ position: 'absolute', top: 0, left: 0, width: '100%', height: rowHeight, transform: `translateY(${vr.start}px)` }}
            >
              <GridRow
                row={vr.index}
                cols={cols}
                cell={cell}
                order={order}
                matching={matching}
                ev={ev}
                cmp={cmp}
                focus={focus}
                selected={selected}
                onOpen={onOpen}
              />
            </div>
          ))}
      </div>
      {total === 0 && (
        <Text c="dimmed" size="sm" p="md" data-testid="review-grid-empty">
          No image matches these filters.
        </Text>
      )}
    </div>
  );
}

const GridRow = memo(function GridRow(props: {
  row: number;
  cols: number;
  cell: number;
  order: Int32Array;
  matching: ReviewMatching;
  ev: ReviewEvaluation;
  cmp: Comparison | null;
  focus: number | null;
  selected: number | null;
  onOpen(pos: number): void;
}) {
  const { row, cols, cell, order, matching, ev, cmp, focus, selected, onOpen } = props;
  const start = row * cols;
  const end = Math.min(start + cols, order.length);
  const cells = [];
  for (let pos = start; pos < end; pos++) {
    const index = order[pos]!;
    const base = cmp ? cmp.baseErrors[index]! : -1;
    cells.push(
      <Thumb
        key={index}
        pos={pos}
        index={index}
        size={cell}
        matching={matching}
        thresholds={ev.thresholds}
        tp={ev.tp[index]!}
        fp={ev.fp[index]!}
        fn={ev.fn[index]!}
        det={ev.det[index]!}
        minScore={ev.minScore[index]!}
        delta={cmp && base >= 0 ? ev.fp[index]! + ev.fn[index]! - base : null}
        focus={focus}
        selected={selected === pos}
        onOpen={onOpen}
      />,
    );
  }
  return (
    <div style={{ display: 'flex', gap: GAP }} data-row={row}>
      {cells}
    </div>
  );
});

const Thumb = memo(function Thumb(props: {
  pos: number;
  index: number;
  size: number;
  matching: ReviewMatching;
  thresholds: Float64Array;
  tp: number;
  fp: number;
  fn: number;
  /** predictions kept (what an unlabelled image shows) */
  det: number;
  minScore: number;
  /** errors minus the baseline's (null: no comparison) */
  delta: number | null;
  focus: number | null;
  selected: boolean;
  onOpen(pos: number): void;
}) {
  const { pos, index, size, matching, thresholds, tp, fp, fn, det, minScore, delta, focus, selected, onOpen } = props;
  const image = matching.set.images[index]!;
  const transport = useTransport();
  const src = transport.thumbUrl(image.path, THUMB_SIZE);
  const [loaded, setLoaded] = useState(() => seenThumbs.has(src));
  const [failed, setFailed] = useState(false);
  const requested = useThumbRequested(src, seenThumbs);
  const status = useStableStatus(useMemo(() => imageStatus(matching, index, thresholds), [matching, index, thresholds]));
  const name = image.file.replace(/^images\/[^/]+\//, '');
  return (
    <div style={{ width: size }} data-testid="review-thumb" data-index={index} data-file={image.file} data-tp={tp} data-fp={fp} data-fn={fn} data-det={det}>
      <div
        className={selected ? 'thumb rv-thumb-selected' : 'thumb'}
        style={{ width: size, height: size }}
        onClick={() => onOpen(pos)}
        role="button"
        tabIndex={0}
        onKeyDown={(e) => e.key === 'Enter' && onOpen(pos)}
        title={`${image.file}\n${tp} TP · ${fp} FP · ${fn} FN${Number.isNaN(minScore) ? '' : `\nlowest kept score ${minScore.toFixed(2)}`}`}
      >
        {failed ? (
          <span className="thumb-failed">image unreadable</span>
        ) : requested ? (
          <img
            src={src}
            alt={image.file}
            decoding="async"
            draggable={false}
            onLoad={() => {
              seenThumbs.add(src);
              setLoaded(true);
            }}
            onError={() => setFailed(true)}
          />
        ) : null}
        {loaded && !failed && (
          <ThumbBoxes image={image} pred={status.pred} gt={status.gt} focus={focus} size={size} />
        )}
        <span className="rv-badges">
          {tp > 0 && <span className="rv-pill rv-pill-tp">{tp} TP</span>}
          {fp > 0 && <span className="rv-pill rv-pill-fp">{fp} FP</span>}
          {fn > 0 && <span className="rv-pill rv-pill-fn">{fn} FN</span>}
          {!image.gt && <span className="rv-pill rv-pill-ok">{det} det · no labels</span>}
          {image.gt && tp + fp + fn === 0 && <span className="rv-pill rv-pill-ok">empty</span>}
        </span>
        {delta !== null && (
          <span className={`rv-delta ${delta < 0 ? 'rv-delta-better' : delta > 0 ? 'rv-delta-worse' : 'rv-delta-same'}`} data-testid="review-delta">
            {delta < 0 ? `better ${delta}` : delta > 0 ? `worse +${delta}` : 'same'}
          </span>
        )}
      </div>
      <div className="thumb-caption" style={{ height: CAPTION }}>
        <span className="thumb-name">{name}</span>
        {!Number.isNaN(minScore) && <span className="rv-score">min {minScore.toFixed(2)}</span>}
      </div>
    </div>
  );
});

type Status = { pred: PredStatus[]; gt: GtStatus[] };
const sameList = <T,>(a: T[], b: T[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The previous statuses while nothing changed (most slider steps change few images): no redraw. */
function useStableStatus(next: Status): Status {
  const prev = useRef(next);
  if (prev.current !== next && (!sameList(prev.current.pred, next.pred) || !sameList(prev.current.gt, next.gt))) prev.current = next;
  return prev.current;
}

/** "1,234 of 10,000 images" for the toolbar. */
export function shownLabel(shown: number, total: number): string {
  return shown === total ? `${formatCount(total)} images` : `${formatCount(shown)} of ${formatCount(total)} images`;
}
