import { Badge, Table } from '@mantine/core';
import type { DatasetReport } from '../../../electron/shared/contract';
import { formatCount } from '../lib/paths';
import { SPLIT_MANTINE_COLORS } from '../lib/palette';

/** Groups, images, negatives and instances per split. */
export function SplitTable({ report }: { report: DatasetReport }) {
  const splits = (['train', 'val', 'test'] as const).filter((s) => report.splits[s]);
  const sum = (xs: Record<string, number>) => Object.values(xs).reduce((a, b) => a + b, 0);
  return (
    <Table withTableBorder fz="sm" verticalSpacing={4} data-testid="split-table">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Split</Table.Th>
          <Table.Th ta="right">Groups</Table.Th>
          <Table.Th ta="right">Images</Table.Th>
          <Table.Th ta="right">Negatives</Table.Th>
          <Table.Th ta="right">Instances</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {splits.map((s) => {
          const st = report.splits[s]!;
          return (
            <Table.Tr key={s}>
              <Table.Td>
                <Badge color={SPLIT_MANTINE_COLORS[s]} variant="light" size="sm">
                  {s}
                </Badge>
              </Table.Td>
              <Table.Td ta="right">{formatCount(st.groups)}</Table.Td>
              <Table.Td ta="right">{formatCount(st.images)}</Table.Td>
              <Table.Td ta="right">{formatCount(st.negatives)}</Table.Td>
              <Table.Td ta="right">{formatCount(sum(st.instances))}</Table.Td>
            </Table.Tr>
          );
        })}
      </Table.Tbody>
    </Table>
  );
}
