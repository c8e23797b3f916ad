import { Alert, AppShell, Badge, Button, Center, Group, Loader, NavLink, ScrollArea, Stack, Text, Title } from '@mantine/core';
import { useSpotter } from './state/react';
import { selectAppError, selectAppStatus, selectDatasets, selectInfo, selectPage } from './state/app';
import { selectDatasetDir } from './state/dataset';
import { selectRunningJobCount } from './state/jobs';
import { HomePage } from './pages/HomePage';
import { ImportPage } from './pages/ImportPage';
import { DatasetPage } from './pages/DatasetPage';
import { Logo } from './components/Logo';
import { formatCount, plural } from './lib/paths';
import { IconAlert, IconDataset, IconHome, IconImport } from './components/icons';

export function App() {
  const status = useSpotter(selectAppStatus);
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

function CurrentPage() {
  const page = useSpotter(selectPage);
  switch (page.name) {
    case 'home':
      return <HomePage />;
    case 'import':
      return <ImportPage />;
    case 'dataset':
      return <DatasetPage key={page.dir} />;
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
      {info && (
        <Text size="xs" c="dimmed" px="xs" mt="auto">
          v{info.version} · {info.mode === 'serve' ? 'serve mode' : 'desktop'}
        </Text>
      )}
    </Stack>
  );
}
