import { Table } from '@mantine/core';
import { f3 } from './format';

/** A metric's table cell: three decimals, right-aligned in monospace (— when there is none). */
export function MetricTd({ value, bold }: { value: number | null | undefined; bold?: boolean }) {
  return (
    <Table.Td ta="right" ff="monospace" fw={bold ? 700 : undefined}>
      {f3(value)}
    </Table.Td>
  );
}
