import { memo, type SVGProps } from 'react';
import type { ReviewImage } from '../../../../electron/shared/contract';
import { classColor } from '../../lib/palette';
import type { GtStatus, PredStatus } from './evaluate';

/** The error colours (the badges use the same). */
export const FP_COLOR = '#ff8c00';
export const FN_COLOR = '#ff1744';

type BoxXyxy = readonly [number, number, number, number];

/** The outline of an `[x1, y1, x2, y2]` box in image pixels (no fill, non-scaling stroke). */
function Outline({ box, ...rest }: SVGProps<SVGRectElement> & { box: BoxXyxy }) {
  const [x1, y1, x2, y2] = box;
  return <rect x={x1} y={y1} width={x2 - x1} height={y2 - y1} fill="none" vectorEffect="non-scaling-stroke" {...rest} />;
}

/**
 * Ground truth and predictions over an image shown with `object-fit: contain` (viewBox = the image's
 * original size, "meet" fit, non-scaling strokes). Colours are per class; errors stand out:
 * a false positive is dashed with an orange halo, a missed ground-truth box (false negative) is drawn
 * thick with a red halo. Matched ground truth is a thin dotted outline under its prediction.
 */
export const ReviewBoxes = memo(function ReviewBoxes(props: {
  image: ReviewImage;
  pred: PredStatus[];
  gt: GtStatus[];
  showGt: boolean;
  showPred: boolean;
  /** predictions under the threshold, faint */
  showBelow?: boolean;
  /** class + score labels (the viewer) */
  names?: string[];
  /** only this class (the gallery's class filter) */
  focus?: number | null;
  strokeWidth?: number;
}) {
  const { image, pred, gt, showGt, showPred, showBelow, names, focus } = props;
  const w = image.width;
  const h = image.height;
  const sw = props.strokeWidth ?? 1.5;
  const fs = Math.max(w, h) / 48;
  const only = (cls: number) => focus === null || focus === undefined || focus === cls;
  const label = (x: number, y: number, text: string, color: string, key: string) => (
    <text
      key={key}
      x={x}
      y={y > fs * 1.2 ? y - fs * 0.3 : y + fs}
      fontSize={fs}
      fill={color}
      stroke="rgba(0,0,0,0.85)"
      strokeWidth={fs / 6}
      paintOrder="stroke"
      fontFamily="system-ui, sans-serif"
      fontWeight={600}
    >
      {text}
    </text>
  );
  /** the wide translucent halo an error is drawn over */
  const halo = (key: string, box: BoxXyxy, color: string, opacity: number) => <Outline key={key} box={box} stroke={color} strokeWidth={sw * 3.2} strokeOpacity={opacity} />;
  const out: React.ReactNode[] = [];
  if (showGt && image.gt) {
    image.gt.forEach((b, j) => {
      if (!only(b.cls)) return;
      const [x1, y1] = b.box;
      const c = classColor(b.cls);
      const miss = gt[j] === 'fn';
      if (miss) out.push(halo(`gh${j}`, b.box, FN_COLOR, 0.55));
      out.push(
        <Outline key={`g${j}`} box={b.box} stroke={c} strokeWidth={miss ? sw * 1.4 : sw * 0.8} strokeDasharray={miss ? undefined : '2 3'} data-status={miss ? 'fn' : 'gt'}>
          <title>{`${names?.[b.cls] ?? `class ${b.cls}`}: ground truth${miss ? ', missed (FN)' : ''}`}</title>
        </Outline>,
      );
      if (names && miss) out.push(label(x1, y1, `FN ${names[b.cls] ?? b.cls}`, FN_COLOR, `gl${j}`));
    });
  }
  if (showPred) {
    image.pred.forEach((p, k) => {
      const st = pred[k];
      if (!only(p.cls) || (st === 'below' && !showBelow)) return;
      const [x1, y1] = p.box;
      const c = classColor(p.cls);
      const fp = st === 'fp';
      if (fp) out.push(halo(`ph${k}`, p.box, FP_COLOR, 0.5));
      out.push(
        <Outline key={`p${k}`} box={p.box} stroke={c} strokeOpacity={st === 'below' ? 0.35 : 1} strokeWidth={sw} strokeDasharray={fp ? '6 4' : undefined} data-status={st}>
          <title>{`${names?.[p.cls] ?? `class ${p.cls}`} ${p.score.toFixed(2)}${fp ? ' (FP)' : st === 'below' ? ' (under the threshold)' : ''}`}</title>
        </Outline>,
      );
      if (names && st !== 'below') out.push(label(x1, y1, `${fp ? 'FP ' : ''}${names[p.cls] ?? p.cls} ${p.score.toFixed(2)}`, fp ? FP_COLOR : c, `pl${k}`));
    });
  }
  return (
    <svg className="rv-boxes" viewBox={`0 0 ${w} ${h}`} preserveAspectRatio="xMidYMid meet" aria-hidden="true">
      {out}
    </svg>
  );
});
