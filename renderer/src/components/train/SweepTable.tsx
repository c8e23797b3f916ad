import { useEffect } from 'react';
import { Alert, Badge, Button, Group, Paper, ScrollArea, Stack, Table, Text, Title } from '@mantine/core';
import type { SweepSummary } from '../../../../electron/shared/contract';
import { useSpotter } from '../../state/react';
import { selectSweepJob, selectSweeps, selectSweepsError } from '../../state/runs';
import { IconAlert } from '../icons';
import { baseName, formatDuration, STATUS_COLOR } from './format';
import { MetricTd } from './MetricTd';

const SWEEP_STATUS_COLOR: Record<SweepSummary['status'], string> = { running: 'blue', done: 'green', stopped: 'yellow', failed: 'red' };
const RUN_STATUS_COLOR: Record<SweepSummary['runs'][number]['status'], string> = { ...STATUS_COLOR, queued: 'gray', skipped: 'gray' };

/** Every sweep of the workspace with its grid results: params, status, metrics; the best run highlighted. */
export function SweepTables() {
  const sweeps = useSpotter(selectSweeps);
  const error = useSpotter(selectSweepsError);
  const loadSweeps = useSpotter((s) => s.loadSweeps);
  useEffect(() => {
    void loadSweeps();
  }, [loadSweeps]);
  if (error)
    return (
      <Alert color="red" variant="light" icon={<IconAlert />} title="Could not list the sweeps">
        {error}
      </Alert>
    );
  if (!sweeps?.length) return null;
  return (
    <Stack gap="sm" data-testid="sweeps">
      <Title order={4}>Sweeps</Title>
      {sweeps.map((s) => (
        <SweepTable key={s.id} sweep={s} />
      ))}
    </Stack>
  );
}

export function SweepTable({ sweep }: { sweep: SweepSummary }) {
  const navigate = useSpotter((s) => s.navigate);
  const job = useSpotter(selectSweepJob(sweep.id));
  const stopSweep = useSpotter((s) => s.stopSweep);
  const cancelling = useSpotter((s) => (job ? !!s.jobs[job.jobId]?.cancelling : false));
  const keys = Object.keys(sweep.grid);
  const finished = sweep.runs.filter((r) => !['queued', 'running'].includes(r.status)).length;
  return (
    <Paper withBorder p="xs" radius="md" data-testid="sweep" data-id={sweep.id} data-status={sweep.status}>
      <Group justify="space-between" mb={6} wrap="nowrap">
        <Group gap="xs" wrap="nowrap">
          <Badge color={SWEEP_STATUS_COLOR[sweep.status]} variant="light">
            {sweep.status}
          </Badge>
          <Text fw={500}>{sweep.label}</Text>
          <Text size="sm" c="dimmed">
            {keys.map((k) => `${k} ∈ {${sweep.grid[k]!.join(', ')}}`).join(' × ')} · {finished}/{sweep.runs.length} runs · {new Date(sweep.createdAt).toLocaleString()}
          </Text>
        </Group>
        {job?.status === 'running' && sweep.status === 'running' && (
          <Button size="xs" variant="default" color="red" loading={cancelling} onClick={() => void stopSweep(sweep.id)} data-testid="sweep-stop">
            Stop sweep
          </Button>
        )}
      </Group>
      <ScrollArea type="auto">
        <Table highlightOnHover verticalSpacing={4} fz="sm" data-testid="sweep-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th w={28} title="best mAP50-95">
                ★
              </Table.Th>
              {keys.map((k) => (
                <Table.Th key={k} ff="monospace">
                  {k}
                </Table.Th>
              ))}
              <Table.Th>status</Table.Th>
              <Table.Th ta="right">P</Table.Th>
              <Table.Th ta="right">R</Table.Th>
              <Table.Th ta="right">mAP50</Table.Th>
              <Table.Th ta="right">mAP50-95</Table.Th>
              <Table.Th ta="right">duration</Table.Th>
              <Table.Th>run</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {sweep.runs.map((r, i) => {
              const best = r.dir !== null && r.dir === sweep.best;
              return (
                <Table.Tr
                  key={i}
                  onClick={r.dir ? () => navigate({ name: 'runs', dir: r.dir! }) : undefined}
                  style={{ cursor: r.dir ? 'pointer' : undefined }}
                  bg={best ? 'var(--mantine-color-green-light)' : undefined}
                  data-testid="sweep-run"
                  data-best={best || undefined}
                  data-status={r.status}
                >
                  <Table.Td>
                    {best && (
                      <Text span c="green.7" fw={700} title="best mAP50-95 of the sweep">
                        ★
                      </Text>
                    )}
                  </Table.Td>
                  {keys.map((k) => (
                    <Table.Td key={k} ff="monospace">
                      {String(r.params[k] ?? '')}
                    </Table.Td>
                  ))}
                  <Table.Td>
                    <Badge color={RUN_STATUS_COLOR[r.status]} variant="light" size="sm">
                      {r.status}
                    </Badge>
                  </Table.Td>
                  <MetricTd value={r.metrics?.precision} />
                  <MetricTd value={r.metrics?.recall} />
                  <MetricTd value={r.metrics?.mAP50} />
                  <MetricTd value={r.metrics?.mAP50_95} bold={best} />
                  <Table.Td ta="right">{formatDuration(r.durationSeconds)}</Table.Td>
                  <Table.Td>
                    <Text size="xs" c="dimmed" truncate maw={260}>
                      {r.dir ? baseName(r.dir) : '—'}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </ScrollArea>
    </Paper>
  );
}
