import { useEffect, useState } from 'react';
import { Badge, Group, ScrollArea, Table, Text, Tooltip } from '@mantine/core';
import type { RunComparison, RunSummary } from '../../../../electron/shared/contract';
import { useSpotter } from '../../state/react';
import { selectComparison, selectRunDir, selectRunsAt } from '../../state/runs';
import { baseName, deltaMark, f3, formatDuration, signed3, STATUS_COLOR, VERDICT_COLOR } from './format';
import { MetricTd } from './MetricTd';

/** Every run of the workspace, newest first, with its key metrics and its verdict against the baseline. */
export function RunsTable({ runs }: { runs: RunSummary[] }) {
  const selected = useSpotter(selectRunDir);
  const comparison = useSpotter(selectComparison);
  const navigate = useSpotter((s) => s.navigate);
  const runJobs = useSpotter((s) => s.runJobs);
  const byDir = new Map((comparison?.runs ?? []).map((r) => [r.run.dir, r]));
  return (
    <ScrollArea type="auto">
      <Table highlightOnHover verticalSpacing={6} fz="sm" miw={980} data-testid="runs-list">
        <Table.Thead>
          <Table.Tr>
            <Table.Th w={28} title="baseline">
              ★
            </Table.Th>
            <Table.Th>status</Table.Th>
            <Table.Th>label</Table.Th>
            <Table.Th>model</Table.Th>
            <Table.Th ta="right">imgsz</Table.Th>
            <Table.Th ta="right">epochs</Table.Th>
            <Table.Th ta="right">mAP50-95</Table.Th>
            <Table.Th ta="right">mAP50</Table.Th>
            <Table.Th>vs baseline</Table.Th>
            <Table.Th ta="right">duration</Table.Th>
            <Table.Th>started</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {runs.map((listed) => {
            // a resume of ours that has not reported yet trains all the same
            const r = runJobs[listed.dir]?.status === 'running' && listed.status !== 'running' ? { ...listed, status: 'running' as const } : listed;
            return (
              <Table.Tr
                key={r.dir}
                onClick={() => navigate({ name: 'runs', dir: r.dir })}
                style={{ cursor: 'pointer' }}
                bg={r.dir === selected ? 'var(--mantine-color-blue-light)' : undefined}
                data-testid="run-row"
                data-dir={r.dir}
                data-status={r.status}
              >
                <Table.Td>
                  {r.isBaseline ? (
                    <Text span c="yellow.6" title="baseline">
                      ★
                    </Text>
                  ) : null}
                </Table.Td>
                <Table.Td>
                  <Badge color={STATUS_COLOR[r.status]} variant="light" size="sm">
                    {r.status}
                  </Badge>
                </Table.Td>
                <Table.Td maw={260}>
                  <Group gap={6} wrap="nowrap">
                    <Text size="sm" fw={500} truncate title={r.note ? `${r.label}: ${r.note}` : r.label}>
                      {r.label}
                    </Text>
                    {r.testEvaluated && (
                      <Tooltip label="Evaluated on the test split: the dataset's test split has been used for a decision" withArrow>
                        <Badge size="xs" color="orange" variant="light" style={{ flexShrink: 0 }} data-testid="run-row-test-evaluated">
                          test evaluated
                        </Badge>
                      </Tooltip>
                    )}
                  </Group>
                </Table.Td>
                <Table.Td>
                  <Text size="sm" truncate maw={180} title={r.model}>
                    {baseName(r.model)}
                  </Text>
                </Table.Td>
                <Table.Td ta="right">{r.imgsz}</Table.Td>
                <Table.Td ta="right">
                  {r.epochsCompleted}/{r.epochs}
                </Table.Td>
                <MetricTd value={r.metrics?.mAP50_95} />
                <MetricTd value={r.metrics?.mAP50} />
                <Table.Td>
                  <VersusBaseline run={r} cmp={byDir.get(r.dir)} />
                </Table.Td>
                <Table.Td ta="right">{r.status === 'running' ? <RunningFor seconds={r.durationSeconds} /> : formatDuration(r.durationSeconds)}</Table.Td>
                <Table.Td>
                  <Text size="xs" c="dimmed">
                    {new Date(r.createdAt).toLocaleString()}
                  </Text>
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </ScrollArea>
  );
}

function VersusBaseline({ run, cmp }: { run: RunSummary; cmp: RunComparison['runs'][number] | undefined }) {
  if (run.isBaseline) return <Text size="xs" c="dimmed">baseline</Text>;
  if (!cmp) return <Text size="xs" c="dimmed">—</Text>;
  const d = cmp.metrics.mAP50_95.delta;
  const mark = deltaMark(d);
  const tip = (['mAP50_95', 'mAP50', 'precision', 'recall'] as const)
    .map((k) => `${k === 'mAP50_95' ? 'mAP50-95' : k}: ${f3(cmp.metrics[k].base)} → ${f3(cmp.metrics[k].run)} (${signed3(cmp.metrics[k].delta)})`)
    .join('\n');
  return (
    <Tooltip label={<span style={{ whiteSpace: 'pre' }}>{tip}</span>} withArrow>
      <Group gap={6} wrap="nowrap" data-testid="run-verdict" data-verdict={cmp.verdict}>
        <Text span size="sm" ff="monospace" c={mark === '↑' ? 'green' : mark === '↓' ? 'red' : 'dimmed'}>
          {mark} {signed3(d)}
        </Text>
        <Badge size="sm" color={VERDICT_COLOR[cmp.verdict]} variant={cmp.verdict === 'degraded' ? 'filled' : 'light'}>
          {cmp.verdict}
        </Badge>
      </Group>
    </Tooltip>
  );
}

/** A running run's duration, counting on from when the list was read. */
function RunningFor({ seconds }: { seconds: number | null }) {
  const at = useSpotter(selectRunsAt);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return <>{formatDuration((seconds ?? 0) + Math.max(0, now - at) / 1000)}</>;
}
