import { memo, useEffect, useState } from 'react';
import type { ReviewImage } from '../../../../electron/shared/contract';
import { classColor } from '../../lib/palette';
import type { GtStatus, PredStatus } from './evaluate';
import { FN_COLOR, FP_COLOR } from './ReviewBoxes';

/**
 * A gallery cell's boxes drawn on a detached canvas and shown as an image, not SVG and not a live
 * canvas: a cell of blood cells holds a hundred boxes, and a fling mounts dozens of cells per frame —
 * one canvas draw costs far less than a hundred DOM nodes; and a page of live canvases made every
 * scrolled frame slow to paint in Chromium's software compositing (p50 33 ms against 16.7 ms with
 * the canvases hidden, 240 blood-cell images), while images paint like the thumbnails under them.
 * Same visual language as ReviewBoxes (class colours, FP dashed with an orange halo, FN with a red
 * halo, matched ground truth dotted), fitted like the `object-fit: contain` image under it.
 */
export const ThumbBoxes = memo(function ThumbBoxes(props: {
  image: ReviewImage;
  pred: PredStatus[];
  gt: GtStatus[];
  focus: number | null;
  size: number;
}) {
  const { image, pred, gt, focus, size } = props;
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    const canvas = document.createElement('canvas');
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    const px = Math.round(size * dpr);
    canvas.width = px;
    canvas.height = px;
    const scale = Math.min(px / image.width, px / image.height);
    const ox = (px - image.width * scale) / 2;
    const oy = (px - image.height * scale) / 2;
    const only = (cls: number) => focus === null || focus === cls;
    const lw = 1.2 * dpr;
    const rect = (b: readonly number[], color: string, width: number, dash: number[], alpha = 1) => {
      ctx.globalAlpha = alpha;
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.setLineDash(dash);
      ctx.strokeRect(ox + b[0]! * scale, oy + b[1]! * scale, (b[2]! - b[0]!) * scale, (b[3]! - b[1]!) * scale);
    };
    (image.gt ?? []).forEach((b, j) => {
      if (!only(b.cls)) return;
      if (gt[j] === 'fn') {
        rect(b.box, FN_COLOR, lw * 3.2, [], 0.55);
        rect(b.box, classColor(b.cls), lw * 1.4, []);
      } else rect(b.box, classColor(b.cls), lw * 0.8, [2 * dpr, 3 * dpr]);
    });
    image.pred.forEach((p, k) => {
      const st = pred[k];
      if (!only(p.cls) || st === 'below') return;
      if (st === 'fp') {
        rect(p.box, FP_COLOR, lw * 3.2, [], 0.5);
        rect(p.box, classColor(p.cls), lw, [6 * dpr, 4 * dpr]);
      } else rect(p.box, classColor(p.cls), lw, []);
    });
    // encoded off the main thread; the previous drawing stays until the new one is ready
    let live = true;
    canvas.toBlob((blob) => {
      if (blob && live) setUrl(URL.createObjectURL(blob));
    });
    return () => {
      live = false;
    };
  }, [image, pred, gt, focus, size]);
  // a drawing is released once the next one has replaced it, or the cell is gone
  useEffect(
    () => () => {
      if (url) URL.revokeObjectURL(url);
    },
    [url],
  );
  if (!url) return null;
  return <img src={url} className="rv-canvas" style={{ width: size, height: size }} alt="" aria-hidden="true" draggable={false} />;
});
