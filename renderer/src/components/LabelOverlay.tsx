import { memo } from 'react';
import type { DatasetImageLabel } from '../../../electron/shared/contract';
import { classColor } from '../lib/palette';

/**
 * Boxes and polygons over an image shown with `object-fit: contain`. The SVG uses the image's natural
 * size as its viewBox with the same "meet" fit, so its coordinates land exactly on the drawn image
 * whatever the cell's shape; strokes keep a constant on-screen width.
 */
export const LabelOverlay = memo(function LabelOverlay(props: {
  labels: DatasetImageLabel[];
  width: number;
  height: number;
  strokeWidth?: number;
  names?: string[];
}) {
  const { labels, width: w, height: h } = props;
  const sw = props.strokeWidth ?? 1.5;
  return (
    <svg className="labels" viewBox={`0 0 ${w} ${h}`} preserveAspectRatio="xMidYMid meet" aria-hidden="true">
      {labels.map((l, i) => {
        const c = classColor(l.cls);
        const title = props.names?.[l.cls] ?? `class ${l.cls}`;
        if (l.polygon && l.polygon.length >= 6) {
          const pts: string[] = [];
          for (let k = 0; k + 1 < l.polygon.length; k += 2) pts.push(`${l.polygon[k]! * w},${l.polygon[k + 1]! * h}`);
          return (
            <polygon
              key={i}
              points={pts.join(' ')}
              fill={c}
              fillOpacity={0.22}
              stroke={c}
              strokeWidth={sw}
              vectorEffect="non-scaling-stroke"
            >
              <title>{title}</title>
            </polygon>
          );
        }
        const [cx, cy, bw, bh] = l.box;
        return (
          <rect
            key={i}
            x={(cx - bw / 2) * w}
            y={(cy - bh / 2) * h}
            width={bw * w}
            height={bh * h}
            fill="none"
            stroke={c}
            strokeWidth={sw}
            vectorEffect="non-scaling-stroke"
          >
            <title>{title}</title>
          </rect>
        );
      })}
    </svg>
  );
});
