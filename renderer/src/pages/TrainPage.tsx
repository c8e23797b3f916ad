import { useEffect } from 'react';
import { Button, Group, Stack, Text, Title } from '@mantine/core';
import { useSpotter } from '../state/react';
import { selectDatasets } from '../state/app';
import { selectForm, selectTrainerEnvStatus, selectWizardDataset } from '../state/train';
import { selectRuns } from '../state/runs';
import { TrainerEnvPanel } from '../components/train/TrainerEnvPanel';
import { Wizard } from '../components/train/Wizard';

/** Train: the trainer environment (set up when needed) and the wizard that starts a run. */
export function TrainPage() {
  const envStatus = useSpotter(selectTrainerEnvStatus);
  const loadEnv = useSpotter((s) => s.loadTrainerEnv);
  const runs = useSpotter(selectRuns);
  const loadRuns = useSpotter((s) => s.loadRuns);
  const datasets = useSpotter(selectDatasets);
  const form = useSpotter(selectForm);
  const wizardDataset = useSpotter(selectWizardDataset);
  const setForm = useSpotter((s) => s.setForm);
  const loadWizardDataset = useSpotter((s) => s.loadWizardDataset);
  const resetWizard = useSpotter((s) => s.resetWizard);

  useEffect(() => {
    if (envStatus === 'idle') void loadEnv();
    if (runs === null) void loadRuns();
  }, [envStatus, loadEnv, runs, loadRuns]);

  // default dataset: the newest of the workspace (or the chosen one, when it is still there)
  useEffect(() => {
    if (!datasets?.length) return;
    if (!form.dataset || !datasets.some((d) => d.dir === form.dataset)) {
      const newest = [...datasets].sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0]!;
      setForm({ dataset: newest.dir, overrideHealth: false });
    } else if (wizardDataset?.dir !== form.dataset) void loadWizardDataset(form.dataset);
  }, [datasets, form.dataset, wizardDataset?.dir, setForm, loadWizardDataset]);

  return (
    <Stack gap="md" maw={1400} data-testid="train-page">
      <Group justify="space-between">
        <Stack gap={0}>
          <Title order={2}>Train</Title>
          <Text size="sm" c="dimmed">
            Ultralytics on this machine, offline. Each run gets its own folder under the workspace's runs/ that reproduces without Spotter.
          </Text>
        </Stack>
        <Button variant="subtle" size="xs" onClick={resetWizard}>
          Reset to defaults
        </Button>
      </Group>
      <TrainerEnvPanel />
      <Wizard />
    </Stack>
  );
}
