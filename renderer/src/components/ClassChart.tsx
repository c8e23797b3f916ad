import { useMemo } from 'react';
import type { DatasetReport } from '../../../electron/shared/contract';
import { EChart, type ChartOption } from './EChart';
import { SPLIT_COLORS } from '../lib/palette';

/** Instances per class per split, as a grouped bar chart. */
export function ClassChart({ report }: { report: DatasetReport }) {
  const option = useMemo<ChartOption>(() => {
    const splits = (['train', 'val', 'test'] as const).filter((s) => report.splits[s]);
    // instances are keyed by class name; fall back to the id for reports keyed by id
    const value = (split: (typeof splits)[number], name: string, id: number) => {
      const inst = report.splits[split]?.instances ?? {};
      return inst[name] ?? inst[String(id)] ?? 0;
    };
    return {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { top: 0 },
      grid: { left: 8, right: 8, top: 32, bottom: 4, containLabel: true },
      xAxis: {
        type: 'category',
        data: report.names,
        axisLabel: { interval: 0, rotate: report.names.length > 8 ? 30 : 0 },
      },
      yAxis: { type: 'value' },
      series: splits.map((s) => ({
        name: s,
        type: 'bar',
        itemStyle: { color: SPLIT_COLORS[s] },
        label: { show: report.names.length <= 12, position: 'top', fontSize: 10 },
        data: report.names.map((n, i) => value(s, n, i)),
      })),
    };
  }, [report]);
  const height = Math.max(240, Math.min(420, 160 + report.names.length * 6));
  return <EChart option={option} height={height} data-testid="class-chart" />;
}
