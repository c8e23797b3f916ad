/**
 * A thin ECharts wrapper: init on mount, setOption on change, resize with the container, dispose on
 * unmount. Only the chart types and components Spotter uses are registered (keeps the bundle small).
 */
import { useEffect, useRef } from 'react';
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent, DatasetComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import type { ComposeOption } from 'echarts/core';
import type { BarSeriesOption, LineSeriesOption } from 'echarts/charts';
import type {
  GridComponentOption,
  LegendComponentOption,
  TooltipComponentOption,
  DatasetComponentOption,
} from 'echarts/components';
import { useComputedColorScheme } from '@mantine/core';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, DatasetComponent, CanvasRenderer]);

export type ChartOption = ComposeOption<
  BarSeriesOption | LineSeriesOption | GridComponentOption | LegendComponentOption | TooltipComponentOption | DatasetComponentOption
>;

export function EChart(props: { option: ChartOption; height: number | string; 'data-testid'?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const scheme = useComputedColorScheme('light');

  // (re)create on mount and when the colour scheme flips (themes are fixed at init)
  useEffect(() => {
    const el = ref.current!;
    const instance = echarts.init(el, scheme === 'dark' ? 'dark' : undefined, { renderer: 'canvas' });
    chart.current = instance;
    const ro = new ResizeObserver(() => instance.resize());
    ro.observe(el);
    return () => {
      ro.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, [scheme]);

  useEffect(() => {
    chart.current?.setOption({ backgroundColor: 'transparent', ...props.option }, { notMerge: true });
  }, [props.option, scheme]);

  return <div ref={ref} style={{ width: '100%', height: props.height }} data-testid={props['data-testid']} />;
}
