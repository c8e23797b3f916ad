import { Badge, Checkbox, Group, Paper, Stack, Table, Text, TextInput, Title, Tooltip } from '@mantine/core';
import { useSpotter } from '../state/react';
import { mergedTargets, selectClassRows, selectImportLocked } from '../state/import';
import { formatCount } from '../lib/paths';
import { classColor } from '../lib/palette';

/**
 * Source categories -> Spotter classes, editable: rename (type a target), merge (the same target in
 * two rows), drop (checkbox). Ids are dense and follow the order of first appearance of each target.
 */
export function ClassMappingTable() {
  const rows = useSpotter(selectClassRows);
  const setClassRow = useSpotter((s) => s.setClassRow);
  const locked = useSpotter(selectImportLocked);
  const merged = mergedTargets(rows);
  const finalNames: string[] = [];
  for (const r of rows) {
    const t = r.target.trim() || r.source;
    if (!r.drop && !finalNames.includes(t)) finalNames.push(t);
  }
  return (
    <Paper withBorder p="md" radius="md" data-testid="class-mapping">
      <Stack gap="sm">
        <Group justify="space-between" align="baseline">
          <Title order={4}>Class mapping</Title>
          <Text size="xs" c="dimmed">
            Mapped by name to dense ids. Type the same target in two rows to merge them.
          </Text>
        </Group>
        <Table.ScrollContainer minWidth={460}>
          <Table withTableBorder fz="sm" verticalSpacing={4} highlightOnHover>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Source category</Table.Th>
                <Table.Th ta="right">Instances</Table.Th>
                <Table.Th ta="right">Images</Table.Th>
                <Table.Th>Target class</Table.Th>
                <Table.Th ta="center">Drop</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((r) => {
                const target = r.target.trim() || r.source;
                const id = finalNames.indexOf(target);
                return (
                  <Table.Tr key={r.source} data-testid="class-row" opacity={r.drop ? 0.6 : 1}>
                    <Table.Td>
                      <Text size="sm" fw={500} style={{ whiteSpace: 'nowrap' }}>
                        {r.source}
                      </Text>
                      {r.unused && (
                        <Tooltip label="No object uses this category (Roboflow adds such a placeholder), so it is dropped by default.">
                          <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
                            unused: dropped
                          </Text>
                        </Tooltip>
                      )}
                    </Table.Td>
                    <Table.Td ta="right">{formatCount(r.instances)}</Table.Td>
                    <Table.Td ta="right">{formatCount(r.images)}</Table.Td>
                    <Table.Td>
                      <Group gap={6} wrap="nowrap">
                        {!r.drop && (
                          <Badge size="sm" variant="filled" autoContrast color={classColor(id)} w={32} style={{ flexShrink: 0 }} title="class id">
                            {id}
                          </Badge>
                        )}
                        <TextInput
                          size="xs"
                          style={{ flex: 1 }}
                          value={r.target}
                          disabled={locked || r.drop}
                          aria-label={`target class for ${r.source}`}
                          onChange={(e) => setClassRow(r.source, { target: e.currentTarget.value })}
                          rightSectionWidth={64}
                          rightSection={
                            !r.drop && merged.has(target) ? (
                              <Badge size="xs" color="violet" variant="light">
                                merged
                              </Badge>
                            ) : null
                          }
                        />
                      </Group>
                    </Table.Td>
                    <Table.Td ta="center">
                      <Checkbox
                        checked={r.drop}
                        onChange={(e) => setClassRow(r.source, { drop: e.currentTarget.checked })}
                        aria-label={`drop ${r.source}`}
                        disabled={locked}
                        styles={{ body: { justifyContent: 'center' } }}
                      />
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        <Text size="sm">
          <Text span c="dimmed">
            Result:{' '}
          </Text>
          {finalNames.length} {finalNames.length === 1 ? 'class' : 'classes'}
          {finalNames.length > 0 && ': '}
          {finalNames.map((n, i) => `${i} ${n}`).join(', ')}
        </Text>
      </Stack>
    </Paper>
  );
}
