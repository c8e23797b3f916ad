import { useEffect } from 'react';
import { Alert, Button, Center, Group, Loader, Paper, Stack, Text, Title } from '@mantine/core';
import { useSpotter } from '../state/react';
import { selectPage } from '../state/app';
import { selectBaseline, selectModelsVersion, selectComparisonError, selectRuns, selectRunsError } from '../state/runs';
import { RunsTable } from '../components/train/RunsTable';
import { RunView } from '../components/train/RunView';
import { SweepTables } from '../components/train/SweepTable';
import { ModelsList } from '../components/models/ModelsList';
import { IconAlert } from '../components/icons';
import { baseName } from '../components/train/format';

/** Runs: the list (with the comparison against the baseline) and the selected run's live view. */
export function RunsPage() {
  const page = useSpotter(selectPage);
  const dir = page.name === 'runs' ? (page.dir ?? null) : null;
  const runs = useSpotter(selectRuns);
  const error = useSpotter(selectRunsError);
  const baseline = useSpotter(selectBaseline);
  const baseRun = runs?.find((r) => r.dir === baseline);
  const comparisonError = useSpotter(selectComparisonError);
  const loadRuns = useSpotter((s) => s.loadRuns);
  const openRun = useSpotter((s) => s.openRun);
  const navigate = useSpotter((s) => s.navigate);

  const modelsVersion = useSpotter(selectModelsVersion);
  useEffect(() => {
    void loadRuns();
  }, [loadRuns]);
  useEffect(() => {
    void openRun(dir);
  }, [dir, openRun]);

  return (
    <Stack gap="md" maw={1400} data-testid="runs-page">
      <Group justify="space-between">
        <Stack gap={0}>
          <Title order={2}>Runs</Title>
          <Text size="sm" c="dimmed">
            {baseline
              ? `Compared with the baseline ★ ${baseRun?.label ?? baseName(baseline)}: degraded when mAP50-95 drops by more than 0.01.`
              : 'Promote a run to baseline to compare every other run with it.'}
          </Text>
        </Stack>
        <Button onClick={() => navigate({ name: 'train' })} data-testid="runs-new">
          New run…
        </Button>
      </Group>
      {error && (
        <Alert color="red" variant="light" icon={<IconAlert />} title="Could not list the runs">
          {error}
        </Alert>
      )}
      {comparisonError && baseline && (
        <Alert color="yellow" variant="light" icon={<IconAlert />} p="xs">
          {comparisonError}
        </Alert>
      )}
      <Paper withBorder p="xs" radius="md">
        {runs === null ? (
          <Center h={80}>
            <Loader size="sm" />
          </Center>
        ) : runs.length === 0 ? (
          <Text c="dimmed" size="sm" p="sm" data-testid="runs-empty">
            No runs in this workspace yet. Start one from Train.
          </Text>
        ) : (
          <RunsTable runs={runs} />
        )}
      </Paper>
      <SweepTables />
      <ModelsList refreshKey={modelsVersion} />
      {dir ? (
        <RunView />
      ) : (
        runs !== null &&
        runs.length > 0 && (
          <Text c="dimmed" size="sm">
            Choose a run to see its progress, charts and log.
          </Text>
        )
      )}
    </Stack>
  );
}
