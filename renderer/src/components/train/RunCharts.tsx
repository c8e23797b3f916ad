/**
 * Per-epoch charts of a run: train/val losses and validation metrics (mAP50, mAP50-95, P, R), from
 * the table `epochTable` builds. Loaded lazily: ECharts is the largest dependency.
 */
import { useMemo } from 'react';
import { SimpleGrid, Stack, Text } from '@mantine/core';
import { EChart, type ChartOption } from '../EChart';
import type { EpochTable } from './epochs';

const METRIC_LABELS: Array<[RegExp, string]> = [
  [/^metrics\/mAP50\((B)\)$/, 'mAP50'],
  [/^metrics\/mAP50-95\((B)\)$/, 'mAP50-95'],
  [/^metrics\/precision\((B)\)$/, 'P'],
  [/^metrics\/recall\((B)\)$/, 'R'],
  [/^metrics\/mAP50\((M)\)$/, 'mask mAP50'],
  [/^metrics\/mAP50-95\((M)\)$/, 'mask mAP50-95'],
];

/** One colour per loss (box, cls, dfl, …) shared by its train and val series. */
const LOSS_COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#b07aa1', '#edc948'];

function lineSeries(name: string, data: Array<number | null>, opts: { dashed?: boolean; color?: string } = {}) {
  return {
    name,
    type: 'line' as const,
    data,
    showSymbol: true,
    symbolSize: data.length > 40 ? 3 : 6,
    connectNulls: true,
    ...(opts.color && { itemStyle: { color: opts.color } }),
    lineStyle: { width: 2, type: opts.dashed ? ('dashed' as const) : ('solid' as const) },
  };
}

function baseOption(epochs: number[], yMax?: number): ChartOption {
  return {
    // live updates redraw the whole chart: no transitions (they show half-drawn lines)
    animation: false,
    tooltip: { trigger: 'axis', valueFormatter: (v) => (typeof v === 'number' ? v.toFixed(4) : String(v ?? '—')) },
    // a plain legend wraps onto a second row rather than hiding series behind paging arrows
    legend: { top: 0, left: 'center', width: '96%', itemGap: 12 },
    grid: { left: 8, right: 16, top: 58, bottom: 8, containLabel: true },
    xAxis: { type: 'category', name: 'epoch', nameLocation: 'middle', nameGap: 24, data: epochs.map(String), boundaryGap: epochs.length === 1 },
    yAxis: { type: 'value', min: 0, ...(yMax !== undefined && { max: yMax }), scale: yMax === undefined },
  };
}

export function RunCharts({ table }: { table: EpochTable }) {
  const lossOption = useMemo<ChartOption>(() => {
    const names = Object.keys(table.series).filter((n) => /loss/i.test(n) && /^(train|val)\//.test(n));
    const kinds = [...new Set(names.map((n) => n.replace(/^\w+\//, '')))];
    names.sort((a, b) => a.replace(/^\w+\//, '').localeCompare(b.replace(/^\w+\//, '')) || a.localeCompare(b));
    return {
      ...baseOption(table.epochs),
      series: names.map((n) =>
        lineSeries(n, table.series[n]!, { dashed: n.startsWith('val/'), color: LOSS_COLORS[kinds.indexOf(n.replace(/^\w+\//, '')) % LOSS_COLORS.length] }),
      ),
    };
  }, [table]);
  const metricOption = useMemo<ChartOption>(() => {
    const series = METRIC_LABELS.flatMap(([re, label]) => {
      const col = Object.keys(table.series).find((n) => re.test(n));
      return col ? [lineSeries(label, table.series[col]!)] : [];
    });
    return { ...baseOption(table.epochs, 1), series };
  }, [table]);

  if (!table.epochs.length) {
    return (
      <Text size="sm" c="dimmed" data-testid="charts-empty">
        The charts fill in as epochs end.
      </Text>
    );
  }
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
      <Stack gap={4}>
        <Text size="sm" fw={600}>
          Losses per epoch <Text span size="xs" c="dimmed">(train solid, val dashed)</Text>
        </Text>
        <EChart option={lossOption} height={280} data-testid="loss-chart" />
      </Stack>
      <Stack gap={4}>
        <Text size="sm" fw={600}>
          Validation per epoch
        </Text>
        <EChart option={metricOption} height={280} data-testid="metrics-chart" />
      </Stack>
    </SimpleGrid>
  );
}
