import { Badge, Group, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
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

/** How images are grouped so that related ones never straddle splits, with examples. */
export function GroupingPreview({ grouping, title = 'Anti-leak grouping' }: { grouping: Grouping; title?: string }) {
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
        <SimpleGrid cols={{ base: 2, sm: 3 }} spacing="xs" verticalSpacing="xs">
          <Stat label="Groups" value={formatCount(grouping.groups)} />
          <Stat label="Sequences" value={formatCount(grouping.sequences)} />
          <Stat label="Time blocks" value={grouping.time_blocks ? `yes, guard gap ${grouping.guard_gap}` : 'no'} />
          {grouping.time_blocks && <Stat label="Guard frames dropped" value={formatCount(grouping.dropped_guard_frames)} />}
          <Stat label="Near-duplicate merges" value={formatCount(grouping.near_duplicate_merges)} />
        </SimpleGrid>
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
