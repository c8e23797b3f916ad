import { Group, Paper, Stack, Title } from '@mantine/core';

/** A titled card of a page (optional content on the title's right). */
export function Section({ title, children, right }: { title: string; children: React.ReactNode; right?: React.ReactNode }) {
  return (
    <Paper withBorder p="md" radius="md">
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={4}>{title}</Title>
          {right}
        </Group>
        {children}
      </Stack>
    </Paper>
  );
}
