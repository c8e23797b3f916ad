import { Badge, Button, Group, Paper, Radio, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import type { DatasetReport } from '../../../electron/shared/contract';
import { formatCount } from '../lib/paths';

type Grouping = DatasetReport['grouping'];

function Stat({ label, value }: { label: string; value: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={600} size="sm">
        {value}
      </Text>
    </div>
  );
}

type Level = NonNullable<Grouping['levels']>[number];

/**
 * The capture structure found in the names, coarse to fine: groups per level, the largest group, the verdict.
 * With `onPick` (the Import page) a level can be chosen instead of the inferred one; `picked` null = inferred.
 */
function LevelsTable({ levels, picked, onPick }: { levels: Level[]; picked?: string | null; onPick?: (id: string | null) => void }) {
  return (
    <Stack gap={4} data-testid="grouping-levels">
      <Group justify="space-between">
        <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
          Capture structure in the names (coarse → fine)
        </Text>
        {onPick && picked && (
          <Button size="compact-xs" variant="subtle" onClick={() => onPick(null)} data-testid="level-inferred">
            use the inferred level
          </Button>
        )}
      </Group>
      <Table withRowBorders={false} verticalSpacing={2} horizontalSpacing="xs" fz="xs">
        <Table.Thead>
          <Table.Tr>
            {onPick && <Table.Th />}
            <Table.Th>Level</Table.Th>
            <Table.Th ta="right">Groups</Table.Th>
            <Table.Th ta="right">Largest</Table.Th>
            <Table.Th>Example</Table.Th>
            <Table.Th>Verdict</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {levels.map((l) => {
            const ex = l.examples[0];
            return (
              <Table.Tr key={l.id} data-testid={`level-${l.id}`} data-chosen={l.chosen} fw={l.chosen ? 600 : undefined}>
                {onPick && (
                  <Table.Td>
                    <Radio size="xs" checked={picked ? picked === l.id : l.chosen} onChange={() => onPick(l.id)} aria-label={`group by ${l.label}`} />
                  </Table.Td>
                )}
                <Table.Td>
                  {l.label}
                  {l.ordered ? ' ⟶' : ''}
                </Table.Td>
                <Table.Td ta="right">{formatCount(l.groups)}</Table.Td>
                <Table.Td ta="right">{formatCount(l.largest)}</Table.Td>
                <Table.Td className="mono" maw={220} style={{ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }} title={ex ? ex.members.join('\n') : undefined}>
                  {ex ? `${ex.group} (${ex.size})` : ''}
                </Table.Td>
                <Table.Td c={l.chosen ? undefined : 'dimmed'}>{l.verdict}</Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}

/** How images are grouped so that related ones never straddle splits, with examples. */
export function GroupingPreview({
  grouping,
  title = 'Anti-leak grouping',
  picked,
  onPickLevel,
  children,
}: {
  grouping: Grouping;
  title?: string;
  picked?: string | null;
  onPickLevel?: (id: string | null) => void;
  children?: React.ReactNode;
}) {
  return (
    <Paper withBorder p="md" radius="md" data-testid="grouping-preview">
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={4}>{title}</Title>
          <Badge variant="light" color="grape" tt="none" data-testid="grouping-strategy">
            {grouping.strategy}
          </Badge>
        </Group>
        <Text size="sm">{grouping.description}</Text>
        {grouping.split_summary && (
          <Text size="sm" data-testid="split-summary">
            {grouping.split_summary}
          </Text>
        )}
        <SimpleGrid cols={{ base: 2, sm: 3 }} spacing="xs" verticalSpacing="xs">
          <Stat label="Groups" value={formatCount(grouping.groups)} />
          <Stat label="Sequences" value={formatCount(grouping.sequences)} />
          <Stat label="Time blocks" value={grouping.time_blocks ? `yes, guard gap ${grouping.guard_gap}` : 'no'} />
          {grouping.time_blocks && <Stat label="Guard frames dropped" value={formatCount(grouping.dropped_guard_frames)} />}
          {!!grouping.dropped_augmented && <Stat label="Augmented copies left out of val/test" value={formatCount(grouping.dropped_augmented)} />}
          <Stat label="Near-duplicate merges" value={formatCount(grouping.near_duplicate_merges)} />
          {grouping.pixels && (
            <Stat
              label="Merged by the pixels"
              value={
                <span title="Groups merged because two of their images look alike: near-duplicates, or each other's nearest neighbour within a threshold learned from this dataset's distances">
                  {formatCount(grouping.pixels.near_duplicate_merges)} near-dup · {formatCount(grouping.pixels.mutual_neighbour_merges)} mutual NN
                  {grouping.pixels.learned_threshold !== undefined ? ` (≤ ${grouping.pixels.learned_threshold})` : ''}
                </span>
              }
            />
          )}
        </SimpleGrid>
        {grouping.levels && grouping.levels.length > 0 && <LevelsTable levels={grouping.levels} picked={picked} onPick={onPickLevel} />}
        {children}
        {grouping.examples.length > 0 && (
          <Stack gap={6}>
            <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
              Examples
            </Text>
            {grouping.examples.slice(0, 5).map((ex) => (
              <div key={ex.group}>
                <Group gap={6} wrap="nowrap">
                  <Text size="sm" fw={600} className="mono" truncate>
                    {ex.group}
                  </Text>
                  <Badge size="xs" variant="default">
                    {ex.size} {ex.size === 1 ? 'image' : 'images'}
                  </Badge>
                </Group>
                <Text size="xs" c="dimmed" className="mono" lineClamp={2}>
                  {ex.members.slice(0, 4).join('  ·  ')}
                  {ex.size > Math.min(4, ex.members.length) ? `  · +${ex.size - Math.min(4, ex.members.length)} more` : ''}
                </Text>
              </div>
            ))}
          </Stack>
        )}
      </Stack>
    </Paper>
  );
}
