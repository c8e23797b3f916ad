import { useState } from 'react';
import { Alert, Badge, Button, Card, Group, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import type { DatasetListItem } from '../../../electron/shared/contract';
import { useSpotter } from '../state/react';
import { selectDatasets, selectInfo, selectWorkspace, selectWorkspaceBusy, selectWorkspaceError } from '../state/app';
import { selectImportLocked } from '../state/import';
import { PathInput } from '../components/PathInput';
import { IconAlert, IconFolder, IconImport } from '../components/icons';
import { formatCount, plural } from '../lib/paths';

export function HomePage() {
  return (
    <Stack gap="lg" maw={1100}>
      <Title order={2}>Home</Title>
      <SampleCard />
      <WorkspaceCard />
      <DatasetList />
    </Stack>
  );
}

function SampleCard() {
  const info = useSpotter(selectInfo);
  const trySample = useSpotter((s) => s.trySample);
  const navigate = useSpotter((s) => s.navigate);
  // an import is running: the button shows it instead of starting over (trySample does the same)
  const importing = useSpotter(selectImportLocked);
  return (
    <Paper withBorder p="lg" radius="md">
      <Group justify="space-between" align="center" wrap="wrap" gap="md">
        <Stack gap={4} maw={640}>
          <Text fw={600} size="lg">
            From annotation export to a leak-free YOLO dataset
          </Text>
          <Text size="sm" c="dimmed">
            Drop a COCO or CVAT export (zip, folder or file) or a YOLO dataset. Spotter maps classes by name, keeps
            negatives, groups augmented copies and video frames so they never straddle splits, and checks the result.
          </Text>
        </Stack>
        <Group>
          <Button variant="default" leftSection={<IconImport />} onClick={() => navigate({ name: 'import' })}>
            Import an export…
          </Button>
          <Button size="md" onClick={() => void trySample()} disabled={!info?.sampleDataset} data-testid="try-sample">
            {importing ? 'Show the running import' : 'Try the sample dataset'}
          </Button>
        </Group>
      </Group>
    </Paper>
  );
}

function WorkspaceCard() {
  const workspace = useSpotter(selectWorkspace);
  const busy = useSpotter(selectWorkspaceBusy);
  const error = useSpotter(selectWorkspaceError);
  const pick = useSpotter((s) => s.pick);
  const setWorkspace = useSpotter((s) => s.setWorkspace);
  const [typing, setTyping] = useState(false);
  const [pickError, setPickError] = useState<string | null>(null);

  const change = async () => {
    setPickError(null);
    try {
      const picked = await pick('folder', 'Choose a workspace folder');
      if (picked === null) setTyping(true);
      else if (picked[0]) await setWorkspace(picked[0]);
    } catch (e) {
      setPickError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <Paper withBorder p="md" radius="md">
      <Stack gap="xs">
        <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
          Workspace
        </Text>
        {typing ? (
          <PathInput
            label="Workspace folder"
            placeholder="/home/me/spotter-workspace"
            submitLabel="Use this folder"
            initial={workspace?.path}
            busy={busy}
            data-testid="workspace-path-input"
            onCancel={() => setTyping(false)}
            onSubmit={async (p) => {
              if (await setWorkspace(p)) setTyping(false);
            }}
          />
        ) : (
          <Group justify="space-between" wrap="nowrap">
            <Group gap="xs" wrap="nowrap" style={{ minWidth: 0 }}>
              <IconFolder />
              <Text className="mono" data-testid="workspace-path" truncate="start" title={workspace?.path}>
                {/* bdi: truncate="start" sets direction rtl, which would move the leading slash to the end */}
                <bdi>{workspace?.path}</bdi>
              </Text>
            </Group>
            <Button variant="default" size="xs" onClick={() => void change()} loading={busy} data-testid="workspace-change">
              Change…
            </Button>
          </Group>
        )}
        {(error ?? pickError) && (
          <Alert color="red" variant="light" icon={<IconAlert />} p="xs">
            {error ?? pickError}
          </Alert>
        )}
      </Stack>
    </Paper>
  );
}

function DatasetList() {
  const datasets = useSpotter(selectDatasets);
  return (
    <Stack gap="xs">
      <Title order={4}>Datasets in this workspace</Title>
      {!datasets || datasets.length === 0 ? (
        <Text c="dimmed" size="sm">
          No datasets yet. Import an export or try the sample.
        </Text>
      ) : (
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="sm" data-testid="dataset-list">
          {[...datasets]
            .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
            .map((d) => (
              <DatasetCard key={d.dir} d={d} />
            ))}
        </SimpleGrid>
      )}
    </Stack>
  );
}

function DatasetCard({ d }: { d: DatasetListItem }) {
  const navigate = useSpotter((s) => s.navigate);
  const open = () => navigate({ name: 'dataset', dir: d.dir });
  return (
    <Card
      withBorder
      padding="sm"
      radius="md"
      role="button"
      tabIndex={0}
      className="clickable-card"
      onClick={open}
      onKeyDown={(e) => e.key === 'Enter' && open()}
      data-testid="dataset-item"
    >
        <Group justify="space-between" wrap="nowrap" gap="xs">
          <Text fw={600} truncate>
            {d.name}
          </Text>
          <Badge variant="light" color="gray" size="sm" style={{ flexShrink: 0 }}>
            {d.task}
          </Badge>
        </Group>
        <Text size="sm" c="dimmed">
          {formatCount(d.images)} images · {plural(d.classes.length, 'class', 'classes')}
        </Text>
        <Text size="xs" c="dimmed" truncate>
          {d.classes.join(', ')}
        </Text>
        <Group gap={6} mt={8}>
          {d.ok && d.errors === 0 ? (
            <Badge color="green" variant="light" size="sm">
              ok
            </Badge>
          ) : (
            <Badge color="red" variant="light" size="sm">
              {d.errors} errors
            </Badge>
          )}
          {d.warnings > 0 && (
            <Badge color="yellow" variant="light" size="sm">
              {d.warnings} warnings
            </Badge>
          )}
          <Text size="xs" c="dimmed" ml="auto">
            {new Date(d.createdAt).toLocaleString()}
          </Text>
        </Group>
    </Card>
  );
}
