import { useEffect } from 'react';
import { Alert, AppShell, Badge, Button, Center, Group, Loader, NavLink, Paper, Progress, ScrollArea, Stack, Text, Title } from '@mantine/core';
import { useShallow } from 'zustand/react/shallow';
import { useSpotter } from './state/react';
import { selectAppError, selectAppStatus, selectDatasets, selectInfo, selectPage } from './state/app';
import { selectDatasetDir } from './state/dataset';
import { selectBackgroundJobs, selectRunningJobCount, type JobState } from './state/jobs';
import { HomePage } from './pages/HomePage';
import { ImportPage } from './pages/ImportPage';
import { DatasetPage } from './pages/DatasetPage';
import { TrainPage } from './pages/TrainPage';
import { RunsPage } from './pages/RunsPage';
import { ReviewPage } from './pages/ReviewPage';
import { IconReview } from './components/review/icons';
import { IconRuns, IconTrain } from './components/train/icons';
import { Logo } from './components/Logo';
import { formatCount, plural } from './lib/paths';
import { IconAlert, IconDataset, IconHome, IconImport } from './components/icons';

export function App() {
  const status = useSpotter(selectAppStatus);
  useWindowDropGuard();
  return (
    <AppShell navbar={{ width: 232, breakpoint: 0 }} padding="md">
      <AppShell.Navbar p="xs">
        <Navbar />
      </AppShell.Navbar>
      <AppShell.Main>
        {status === 'loading' && (
          <Center h="60vh">
            <Loader />
          </Center>
        )}
        {status === 'error' && <StartupError />}
        {status === 'ready' && <CurrentPage />}
      </AppShell.Main>
    </AppShell>
  );
}

/**
 * A file dropped anywhere but the drop zone would make the browser open it and leave the app (serve
 * mode): refuse drops outside it. The drop zone handles its own first (React listens at the root).
 */
function useWindowDropGuard() {
  useEffect(() => {
    const refuse = (e: DragEvent) => {
      if (e.defaultPrevented || !e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'none';
    };
    window.addEventListener('dragover', refuse);
    window.addEventListener('drop', refuse);
    return () => {
      window.removeEventListener('dragover', refuse);
      window.removeEventListener('drop', refuse);
    };
  }, []);
}

function CurrentPage() {
  const page = useSpotter(selectPage);
  switch (page.name) {
    case 'home':
      return <HomePage />;
    case 'import':
      return <ImportPage />;
    case 'dataset':
      return <DatasetPage key={page.dir} />;
    case 'train':
      return <TrainPage />;
    case 'runs':
      return <RunsPage />;
    case 'review':
      return <ReviewPage />;
  }
}

function StartupError() {
  const error = useSpotter(selectAppError);
  const init = useSpotter((s) => s.init);
  return (
    <Center h="60vh">
      <Alert color="red" title="Spotter could not reach its backend" icon={<IconAlert />} maw={560} data-testid="app-error">
        <Stack gap="sm">
          <Text size="sm" style={{ wordBreak: 'break-word' }}>
            {error}
          </Text>
          <Group>
            <Button size="xs" color="red" variant="light" onClick={() => void init()}>
              Retry
            </Button>
          </Group>
        </Stack>
      </Alert>
    </Center>
  );
}

function Navbar() {
  const page = useSpotter(selectPage);
  const navigate = useSpotter((s) => s.navigate);
  const datasetDir = useSpotter(selectDatasetDir);
  const datasets = useSpotter(selectDatasets);
  const info = useSpotter(selectInfo);
  const running = useSpotter(selectRunningJobCount);
  const showReview = useSpotter((s) => s.showReview);
  return (
    <Stack h="100%" gap="xs">
      <Group gap="xs" px="xs" py={6}>
        <Logo />
        <Title order={4} fw={650}>
          Spotter
        </Title>
        {running > 0 && (
          <Badge size="xs" variant="light" ml="auto" title="jobs running">
            {running} running
          </Badge>
        )}
      </Group>
      <div>
        <NavLink label="Home" leftSection={<IconHome />} active={page.name === 'home'} onClick={() => navigate({ name: 'home' })} data-testid="nav-home" />
        <NavLink label="Import" leftSection={<IconImport />} active={page.name === 'import'} onClick={() => navigate({ name: 'import' })} data-testid="nav-import" />
        <NavLink
          label="Dataset"
          leftSection={<IconDataset />}
          active={page.name === 'dataset'}
          disabled={!datasetDir}
          onClick={() => datasetDir && navigate({ name: 'dataset', dir: datasetDir })}
          data-testid="nav-dataset"
        />
        <NavLink label="Train" leftSection={<IconTrain />} active={page.name === 'train'} onClick={() => navigate({ name: 'train' })} data-testid="nav-train" />
        <NavLink label="Runs" leftSection={<IconRuns />} active={page.name === 'runs'} onClick={() => navigate({ name: 'runs' })} data-testid="nav-runs" />
        <NavLink label="Review" leftSection={<IconReview />} active={page.name === 'review'} onClick={showReview} data-testid="nav-review" />
      </div>
      {datasets && datasets.length > 0 && (
        <>
          <Text size="xs" c="dimmed" tt="uppercase" fw={600} px="xs" mt="sm">
            Datasets
          </Text>
          <ScrollArea style={{ flex: 1 }} type="auto">
            {datasets.map((d) => (
              <NavLink
                key={d.dir}
                label={d.name}
                description={`${formatCount(d.images)} images · ${plural(d.classes.length, 'class', 'classes')}`}
                active={page.name === 'dataset' && page.dir === d.dir}
                onClick={() => navigate({ name: 'dataset', dir: d.dir })}
                styles={{ label: { overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' } }}
              />
            ))}
          </ScrollArea>
        </>
      )}
      <Stack gap="xs" mt="auto">
        <BackgroundJobs />
        {info && (
          <Text size="xs" c="dimmed" px="xs">
            v{info.version} · {info.mode === 'serve' ? 'serve mode' : 'desktop'}
          </Text>
        )}
      </Stack>
    </Stack>
  );
}

const JOB_LABEL: Record<string, string> = { inspect: 'Inspect', import: 'Import', check: 'Health check', train: 'Training', 'env-setup': 'Trainer set-up', predict: 'Predictions', batch: 'Labelling batch' };

/**
 * Running jobs the current page does not show: an import while on another page, or jobs replayed
 * after a reload that no page owns any more. Each with its stage, progress and Cancel.
 */
function BackgroundJobs() {
  const jobs = useSpotter(useShallow(selectBackgroundJobs));
  if (!jobs.length) return null;
  return (
    <Stack gap={6} data-testid="background-jobs">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600} px="xs">
        Running
      </Text>
      {jobs.map((j) => (
        <BackgroundJob key={j.jobId} job={j} />
      ))}
    </Stack>
  );
}

function BackgroundJob({ job }: { job: JobState }) {
  const cancelJob = useSpotter((s) => s.cancelJob);
  const navigate = useSpotter((s) => s.navigate);
  const showReview = useSpotter((s) => s.showReview);
  // the import slice's own jobs can be shown on their page
  const onImportPage = useSpotter((s) => job.jobId === s.inspectJobId || job.jobId === s.runJobId);
  // a training started or resumed here: its run's live view; a set-up: the Train page
  const runDir = useSpotter((s) => Object.entries(s.runJobs).find(([, j]) => j.jobId === job.jobId)?.[0]);
  const show = onImportPage
    ? () => navigate({ name: 'import' })
    : runDir
      ? () => navigate({ name: 'runs', dir: runDir })
      : job.kind === 'env-setup'
        ? () => navigate({ name: 'train' })
        : job.kind === 'predict' || job.kind === 'batch'
          ? showReview
          : null;
  const pct = job.total > 0 ? Math.min(100, (job.done / job.total) * 100) : 100;
  return (
    <Paper withBorder p={6} radius="sm" data-testid="background-job">
      <Stack gap={4}>
        <Group justify="space-between" gap={4} wrap="nowrap">
          <Text size="xs" fw={600}>
            {JOB_LABEL[job.kind] ?? job.kind}
          </Text>
          <Group gap={4} wrap="nowrap">
            {show && (
              <Button size="compact-xs" variant="subtle" onClick={show}>
                Show
              </Button>
            )}
            <Button size="compact-xs" variant="default" loading={job.cancelling} onClick={() => void cancelJob(job.jobId)}>
              Cancel
            </Button>
          </Group>
        </Group>
        <Text size="xs" c="dimmed" truncate title={job.stage}>
          {job.stage}
          {job.total > 0 ? ` · ${formatCount(job.done)} / ${formatCount(job.total)}` : ''}
        </Text>
        <Progress value={pct} size="xs" animated={job.total === 0} striped={job.total === 0} aria-label={`${job.kind} progress`} />
      </Stack>
    </Paper>
  );
}
