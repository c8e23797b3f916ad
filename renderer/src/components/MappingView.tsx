import { Badge, Group, Stack, Table, Text } from '@mantine/core';
import type { MappingFile } from '../../../electron/shared/contract';
import { classColor } from '../lib/palette';
import { formatCount } from '../lib/paths';

/** mapping.json: class id -> name, which source categories were merged into it, and what was dropped. */
export function MappingView({ mapping }: { mapping: MappingFile }) {
  return (
    <Stack gap="xs" data-testid="mapping">
      <Table withTableBorder fz="sm" verticalSpacing={4}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th w={50}>id</Table.Th>
            <Table.Th>Class</Table.Th>
            <Table.Th>From source categories</Table.Th>
            <Table.Th ta="right">Instances</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {mapping.classes.map((c) => (
            <Table.Tr key={c.id}>
              <Table.Td>
                <Badge color={classColor(c.id)} variant="filled" autoContrast size="sm" w={32}>
                  {c.id}
                </Badge>
              </Table.Td>
              <Table.Td fw={600}>{c.name}</Table.Td>
              <Table.Td>
                <Group gap={4}>
                  {c.sources.map((s) => (
                    <Badge key={s} variant="default" size="sm" tt="none" fw={500}>
                      {s}
                    </Badge>
                  ))}
                  {c.sources.length > 1 && (
                    <Badge color="violet" variant="light" size="xs">
                      merged
                    </Badge>
                  )}
                </Group>
              </Table.Td>
              <Table.Td ta="right">{formatCount(c.instances)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {mapping.dropped.length > 0 && (
        <Text size="sm">
          <Text span c="dimmed">
            Dropped:{' '}
          </Text>
          {mapping.dropped.map((d, i) => (
            <span key={d.name}>
              {i > 0 && ', '}
              <b>{d.name}</b> ({d.reason === 'unused' ? 'unused' : `by you, ${formatCount(d.instances)} instances`})
            </span>
          ))}
        </Text>
      )}
    </Stack>
  );
}
