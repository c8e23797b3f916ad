import { useDeferredValue, useMemo } from 'react';
import { EChart, type ChartOption } from '../EChart';
import { useSpotter } from '../../state/react';
import { selectClassRows, selectReviewMatching } from '../../state/review';
import { classColor } from '../../lib/palette';

/**
 * Precision–recall per class with ground truth (one line each, from the matching: it does not move
 * with the threshold), and each class's current operating point marked on its line.
 * Loaded lazily with the page (ECharts is the largest dependency).
 */
export function PrCurve() {
  // redrawn at a lower priority than the slider (a drag skips intermediate frames)
  const m = useDeferredValue(useSpotter(selectReviewMatching));
  const rows = useDeferredValue(useSpotter(selectClassRows));
  const lines = useMemo(() => {
    if (!m) return [];
    return m.curves.flatMap((k, c) =>
      k
        ? [
            {
              name: m.set.classes[c]!,
              type: 'line' as const,
              data: k.points,
              showSymbol: false,
              lineStyle: { width: 2, color: classColor(c) },
              itemStyle: { color: classColor(c) },
              step: false as const,
            },
          ]
        : [],
    );
  }, [m]);
  const option = useMemo((): ChartOption => {
    const points = (rows ?? [])
      .filter((r) => r.gt > 0 && r.tp + r.fp > 0)
      .map((r) => ({
        name: r.name,
        type: 'line' as const,
        data: [[r.recall, r.precision]],
        symbol: 'circle',
        symbolSize: 11,
        itemStyle: { color: classColor(r.cls), borderColor: '#fff', borderWidth: 2 },
        tooltip: { valueFormatter: (v: unknown) => (typeof v === 'number' ? v.toFixed(3) : String(v)) },
        z: 5,
      }));
    return {
      animation: false,
      grid: { left: 48, right: 16, top: 36, bottom: 40 },
      legend: { top: 0, type: 'scroll' },
      tooltip: {
        trigger: 'item',
        formatter: (p: unknown) => {
          const q = p as { seriesName: string; value: [number, number] };
          return `${q.seriesName}<br/>recall ${q.value[0].toFixed(3)} · precision ${q.value[1].toFixed(3)}`;
        },
      },
      xAxis: { type: 'value', min: 0, max: 1, name: 'recall', nameLocation: 'middle', nameGap: 24 },
      yAxis: { type: 'value', min: 0, max: 1, name: 'precision', nameLocation: 'middle', nameGap: 34 },
      series: [...lines, ...points],
    };
  }, [lines, rows]);
  return <EChart option={option} height={320} data-testid="pr-curve" />;
}
