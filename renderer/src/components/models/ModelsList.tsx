/**
 * The deployed models of the workspace (models/<name>_v<N>), newest version first per name, with the
 * metrics and thresholds their cards carry and the run they came from.
 * Mount: `<ModelsList />` (pass `refreshKey` to reload after a deploy).
 */
import { Alert, Badge, Paper, Stack, Table, Text, Title } from '@mantine/core';
import { IconAlert } from '../icons';
import { useDeployedModels } from './hooks';

const f3 = (x: number | undefined) => (typeof x === 'number' ? x.toFixed(3) : '—');

export function ModelsList({ refreshKey = 0 }: { refreshKey?: number }) {
  const { models, error } = useDeployedModels(refreshKey);
  return (
    <Paper withBorder p="md" data-testid="models-list">
      <Stack gap="sm">
        <Title order={4}>Deployed models</Title>
        {error && (
          <Alert color="red" icon={<IconAlert />} title="Cannot list the deployed models">
            {error}
          </Alert>
        )}
        {models && models.length === 0 && (
          <Text size="sm" c="dimmed">
            Nothing deployed yet: deploy a finished run from its export menu.
          </Text>
        )}
        {models && models.length > 0 && (
          <Table striped verticalSpacing={4}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>model</Table.Th>
                <Table.Th>version</Table.Th>
                <Table.Th>format</Table.Th>
                <Table.Th>mAP50</Table.Th>
                <Table.Th>mAP50-95</Table.Th>
                <Table.Th>thresholds</Table.Th>
                <Table.Th>run</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {models.map((m, i) => {
                const latest = i === 0 || models[i - 1]!.name !== m.name;
                const th = m.card.thresholds;
                const per = Object.entries(th.perClass);
                return (
                  <Table.Tr key={m.path} data-testid={`model-${m.name}-v${m.version}`}>
                    <Table.Td>
                      <Text size="sm" fw={latest ? 600 : 400} title={m.path}>
                        {m.name}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      v{m.version} {latest && <Badge size="xs" variant="light">latest</Badge>}
                    </Table.Td>
                    <Table.Td>{m.format}</Table.Td>
                    <Table.Td>{f3(m.card.metrics?.mAP50)}</Table.Td>
                    <Table.Td>{f3(m.card.metrics?.mAP50_95)}</Table.Td>
                    <Table.Td>
                      <Text size="xs" title={per.map(([k, v]) => `${k}: ${v}`).join('\n')}>
                        conf {th.default}
                        {per.length ? ` (+${per.length} per class)` : ''}, IoU {th.iou}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="xs" c="dimmed">
                        {m.card.run ? m.card.run.name : '—'}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
      </Stack>
    </Paper>
  );
}
