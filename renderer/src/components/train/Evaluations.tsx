import { useEffect, useState } from 'react';
import { Badge, Group, Stack, Table, Text } from '@mantine/core';
import type { Evaluation, RunSummary } from '../../../../electron/shared/contract';
import { errorMessage } from '../../lib/paths';
import { useTransport } from '../../state/react';
import { MetricTd } from './MetricTd';

const on = (e: Evaluation) => (e.split === 'set' ? `evaluation set ${e.set ?? '?'}` : e.split === 'test' ? 'test split (final check)' : 'val split');

/**
 * Every evaluation recorded in the run, read back from its eval-*.json: the dataset's named evaluation
 * sets (validated after training) and explicit evaluations on val/test. Reloaded when the run's record
 * says something changed.
 */
export function Evaluations({ summary }: { summary: RunSummary }) {
  const transport = useTransport();
  const [evals, setEvals] = useState<Evaluation[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const version = `${summary.status}|${summary.testEvaluated}|${JSON.stringify(summary.evalSets)}`;
  useEffect(() => {
    let live = true;
    transport
      .call('runs.evaluations', { dir: summary.dir })
      .then((e) => live && (setEvals(e), setError(null)))
      .catch((e: unknown) => live && setError(errorMessage(e)));
    return () => {
      live = false;
    };
  }, [transport, summary.dir, version]);
  if (error) return <Text size="sm" c="red">Evaluations could not be read: {error}</Text>;
  if (!evals?.length) return null;
  return (
    <Stack gap={4} data-testid="run-evaluations">
      <Group gap="xs">
        <Text size="sm" fw={600}>
          Evaluations of best.pt
        </Text>
        <Text size="xs" c="dimmed">
          evaluation sets are images never trained on; the test split is for the final check
        </Text>
      </Group>
      <Table withTableBorder fz="sm" striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>on</Table.Th>
            <Table.Th ta="right">mAP50-95</Table.Th>
            <Table.Th ta="right">mAP50</Table.Th>
            <Table.Th ta="right">P</Table.Th>
            <Table.Th ta="right">R</Table.Th>
            <Table.Th>when</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {evals.map((e) => (
            <Table.Tr key={e.file} data-testid="run-evaluation-row" data-set={e.set ?? e.split}>
              <Table.Td>
                {on(e)}{' '}
                {e.split === 'test' && (
                  <Badge size="xs" color="orange" variant="light">
                    test evaluated
                  </Badge>
                )}
              </Table.Td>
              <MetricTd value={e.metrics?.mAP50_95} />
              <MetricTd value={e.metrics?.mAP50} />
              <MetricTd value={e.metrics?.precision} />
              <MetricTd value={e.metrics?.recall} />
              <Table.Td>
                <Text size="xs" c="dimmed">
                  {new Date(e.evaluatedAt).toLocaleString()}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
