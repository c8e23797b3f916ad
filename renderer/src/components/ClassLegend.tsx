import { Group, Text } from '@mantine/core';
import { classColor } from '../lib/palette';

export function ClassLegend({ names }: { names: string[] }) {
  return (
    <Group gap="sm" data-testid="class-legend">
      {names.map((n, i) => (
        <Group key={`${i}-${n}`} gap={4} wrap="nowrap">
          <span style={{ width: 10, height: 10, borderRadius: 2, background: classColor(i), display: 'inline-block' }} />
          <Text size="xs">
            {i} {n}
          </Text>
        </Group>
      ))}
    </Group>
  );
}
