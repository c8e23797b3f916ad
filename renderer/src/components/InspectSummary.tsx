import { Accordion, Badge, Group, Paper, Stack, Table, Text, Title } from '@mantine/core';
import type { InspectNote, InspectResult } from '../../../electron/shared/contract';
import { basename, formatCount } from '../lib/paths';
import { SEVERITIES, SEVERITY_COLOR, SEVERITY_TITLE } from './Severity';

/** What inspect found: the sources with their format, counts, and the notes by severity. */
export function InspectSummary({ result }: { result: InspectResult }) {
  return (
    <Paper withBorder p="md" radius="md" data-testid="inspect-summary">
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={4}>Detected</Title>
          <Group gap={6}>
            <Badge variant="light">{formatCount(result.images)} images</Badge>
            <Badge variant="light">{formatCount(result.objects)} objects</Badge>
            <Badge variant="light" color="gray">
              {formatCount(result.negatives)} negatives
            </Badge>
            {result.missingImages > 0 && (
              <Badge variant="light" color="orange">
                {formatCount(result.missingImages)} missing images
              </Badge>
            )}
          </Group>
        </Group>
        <Table.ScrollContainer minWidth={520}>
          <Table striped withTableBorder fz="sm" verticalSpacing={4}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Source</Table.Th>
                <Table.Th>Format</Table.Th>
                <Table.Th ta="right">Images</Table.Th>
                <Table.Th>Subsets</Table.Th>
                <Table.Th>Annotation files</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {result.sources.map((s) => (
                <Table.Tr key={s.input}>
                  <Table.Td title={s.input} maw={200}>
                    <Text size="sm" fw={500} truncate>
                      {basename(s.input)}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="outline" size="sm" data-testid="source-format">
                      {s.format}
                    </Badge>
                  </Table.Td>
                  <Table.Td ta="right">{formatCount(s.images)}</Table.Td>
                  <Table.Td>{s.subsets.length ? s.subsets.join(', ') : <Text c="dimmed" size="sm">—</Text>}</Table.Td>
                  <Table.Td>
                    <Text size="xs" className="mono" lineClamp={2} title={s.files.join('\n')}>
                      {s.files.slice(0, 3).map(shortPath).join(', ')}
                      {s.files.length > 3 ? ` +${s.files.length - 3} more` : ''}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {Object.keys(result.counts).length > 0 && (
          <Group gap={6}>
            {Object.entries(result.counts).map(([k, v]) => (
              <Badge key={k} variant="default" size="sm" tt="none" fw={500}>
                {k}: {formatCount(v)}
              </Badge>
            ))}
          </Group>
        )}
        <NotesBySeverity notes={result.notes} />
      </Stack>
    </Paper>
  );
}

const MAX_NOTES = 200;

/** The last two segments of a path: enough to tell `train/_annotations.coco.json` from `valid/…`. */
function shortPath(p: string): string {
  return p.split(/[\\/]/).filter(Boolean).slice(-2).join('/');
}

export function NotesBySeverity({ notes }: { notes: InspectNote[] }) {
  if (!notes.length) return <Text size="sm" c="dimmed">No problems found while reading the sources.</Text>;
  const groups = SEVERITIES.map((sev) => ({ sev, items: notes.filter((n) => n.severity === sev) })).filter((g) => g.items.length);
  return (
    <Accordion multiple defaultValue={groups.filter((g) => g.sev !== 'info').map((g) => g.sev)} variant="separated" data-testid="inspect-notes">
      {groups.map(({ sev, items }) => (
        <Accordion.Item value={sev} key={sev}>
          <Accordion.Control>
            <Group gap="xs">
              <Badge color={SEVERITY_COLOR[sev]} variant="filled" size="sm" circle>
                {items.length}
              </Badge>
              <Text size="sm" fw={600}>
                {SEVERITY_TITLE[sev]}
              </Text>
            </Group>
          </Accordion.Control>
          <Accordion.Panel>
            <Stack gap={6}>
              {items.slice(0, MAX_NOTES).map((n, i) => (
                <div key={i}>
                  <Group gap={6} wrap="nowrap" align="flex-start">
                    <Badge color={SEVERITY_COLOR[sev]} variant="light" size="xs" tt="none" style={{ flexShrink: 0 }}>
                      {n.code}
                    </Badge>
                    <Text size="sm">{n.message}</Text>
                  </Group>
                  {(n.file || n.item) && (
                    <Text size="xs" c="dimmed" className="mono" ml={4}>
                      {n.file}
                      {n.file && n.item ? ' · ' : ''}
                      {n.item}
                    </Text>
                  )}
                </div>
              ))}
              {items.length > MAX_NOTES && (
                <Text size="xs" c="dimmed">
                  …and {items.length - MAX_NOTES} more
                </Text>
              )}
            </Stack>
          </Accordion.Panel>
        </Accordion.Item>
      ))}
    </Accordion>
  );
}
