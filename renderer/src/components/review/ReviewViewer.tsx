import { useEffect, useMemo, useState } from 'react';
import { Badge, Checkbox, Group, Text } from '@mantine/core';
import { useSpotter, useTransport } from '../../state/react';
import { selectReviewComparison, selectReviewEval, selectReviewFocus, selectReviewMatching, selectReviewOrder } from '../../state/review';
import { ViewerModal } from '../ViewerModal';
import { classColor } from '../../lib/palette';
import { imageStatus } from './evaluate';
import { FN_COLOR, FP_COLOR, ReviewBoxes } from './ReviewBoxes';

/**
 * One image large, ground truth and predictions each toggled (G and P keys too), class colours,
 * errors emphasised, scores on the predictions. ←/→ move through the gallery's order, Esc closes.
 */
export function ReviewViewer(props: { pos: number; onChange(pos: number): void; onClose(): void }) {
  const { pos, onChange, onClose } = props;
  const transport = useTransport();
  const order = useSpotter(selectReviewOrder);
  const m = useSpotter(selectReviewMatching);
  const ev = useSpotter(selectReviewEval);
  const cmp = useSpotter(selectReviewComparison);
  const focus = useSpotter(selectReviewFocus);
  const [showGt, setShowGt] = useState(true);
  const [showPred, setShowPred] = useState(true);
  const [showBelow, setShowBelow] = useState(false);
  const [loadedSrc, setLoadedSrc] = useState<string | null>(null);
  const total = order.length;
  const index = pos < total ? order[pos]! : -1;

  const keys = useMemo(() => ({ g: () => setShowGt((v) => !v), p: () => setShowPred((v) => !v) }), []);

  // the filters changed under the viewer and the image is gone: close
  useEffect(() => {
    if (index < 0) onClose();
  }, [index, onClose]);

  const status = useMemo(() => (m && ev && index >= 0 ? imageStatus(m, index, ev.thresholds) : null), [m, ev, index]);
  if (!m || !ev || index < 0 || !status) return null;
  const image = m.set.images[index]!;
  const names = m.set.classes;
  const src = transport.fileUrl(image.path);
  const base = cmp ? cmp.baseErrors[index]! : -1;
  const errs = ev.fp[index]! + ev.fn[index]!;

  // per class: TP / FP / FN in this image (all classes, whatever the focus)
  const perClass = new Map<number, { tp: number; fp: number; fn: number; kept: number }>();
  const bump = (cls: number, k: 'tp' | 'fp' | 'fn' | 'kept') => {
    const e = perClass.get(cls) ?? { tp: 0, fp: 0, fn: 0, kept: 0 };
    e[k]++;
    perClass.set(cls, e);
  };
  image.pred.forEach((p, k) => {
    const st = status.pred[k]!;
    if (st !== 'below') bump(p.cls, st);
  });
  (image.gt ?? []).forEach((b, j) => status.gt[j] === 'fn' && bump(b.cls, 'fn'));

  return (
    <ViewerModal
      file={image.file}
      pos={pos}
      total={total}
      onChange={onChange}
      onClose={onClose}
      keys={keys}
      size="min(1280px, 95vw)"
      height="min(70vh, 820px)"
      testId="review-viewer"
      footer={
        <Group justify="space-between" gap="xs">
          <Group gap="md">
            <Checkbox size="xs" label="Ground truth (G)" checked={showGt} onChange={(e) => setShowGt(e.currentTarget.checked)} disabled={!image.gt} data-testid="toggle-gt" />
            <Checkbox size="xs" label="Predictions (P)" checked={showPred} onChange={(e) => setShowPred(e.currentTarget.checked)} data-testid="toggle-pred" />
            <Checkbox size="xs" label="Under the threshold" checked={showBelow} onChange={(e) => setShowBelow(e.currentTarget.checked)} />
            <Text size="xs" c="dimmed">
              <span style={{ color: FP_COLOR, fontWeight: 700 }}>dashed + orange halo</span>: false positive ·{' '}
              <span style={{ color: FN_COLOR, fontWeight: 700 }}>red halo</span>: missed (FN) · dotted: matched ground truth
            </Text>
          </Group>
          <Group gap={6} data-testid="viewer-counts" data-tp={ev.tp[index]} data-fp={ev.fp[index]} data-fn={ev.fn[index]}>
            {cmp && base >= 0 && (
              <Badge color={errs < base ? 'green' : errs > base ? 'red' : 'gray'} variant="light">
                baseline {base} → {errs} errors
              </Badge>
            )}
            {!image.gt && (
              <Badge color="gray" variant="light">
                no ground truth
              </Badge>
            )}
            {[...perClass].sort((a, b) => a[0] - b[0]).map(([cls, c]) => (
              <Badge key={cls} color={classColor(cls)} variant="light" tt="none" leftSection={<span className="rv-swatch" style={{ background: classColor(cls) }} />}>
                {names[cls]}: {image.gt ? `${c.tp} TP · ${c.fp} FP · ${c.fn} FN` : `${c.kept} detected`}
              </Badge>
            ))}
          </Group>
        </Group>
      }
    >
      <img key={src} src={src} alt={image.file} onLoad={() => setLoadedSrc(src)} />
      {loadedSrc === src && (
        <ReviewBoxes
          image={image}
          pred={status.pred}
          gt={status.gt}
          showGt={showGt}
          showPred={showPred}
          showBelow={showBelow}
          names={names}
          focus={focus}
          strokeWidth={2}
        />
      )}
    </ViewerModal>
  );
}
