import { useState } from 'react';
import { Alert, Button, CloseButton, Group, Paper, SimpleGrid, Stack, Text, Title, Tooltip } from '@mantine/core';
import { useSpotter } from '../state/react';
import {
  selectImportError,
  selectImportProblems,
  selectInspect,
  selectInspectJob,
  selectRunJob,
  selectSources,
} from '../state/import';
import { useShallow } from 'zustand/react/shallow';
import { DropZone } from '../components/DropZone';
import { JobProgress } from '../components/JobProgress';
import { InspectSummary } from '../components/InspectSummary';
import { Licenses } from '../components/Licenses';
import { ClassMappingTable } from '../components/ClassMappingTable';
import { GroupingPreview } from '../components/GroupingPreview';
import { SplitSettings } from '../components/SplitSettings';
import { PathInput } from '../components/PathInput';
import { IconAlert, IconFile, IconFolder } from '../components/icons';
import { basename } from '../lib/paths';

export function ImportPage() {
  const sources = useSpotter(selectSources);
  const inspect = useSpotter(selectInspect);
  const inspectJob = useSpotter(selectInspectJob);
  const runJob = useSpotter(selectRunJob);
  const error = useSpotter(selectImportError);
  const resetImport = useSpotter((s) => s.resetImport);
  const running = runJob?.status === 'running';

  return (
    <Stack gap="md" maw={1280}>
      <Group justify="space-between">
        <Title order={2}>Import</Title>
        {sources.length > 0 && (
          <Button variant="subtle" size="xs" onClick={resetImport} disabled={running}>
            Start over
          </Button>
        )}
      </Group>

      <DropZone compact={sources.length > 0} />
      <SourcesPanel />

      {error && (
        <Alert color="red" variant="light" icon={<IconAlert />} title="Import error" data-testid="import-error">
          <Text size="sm" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
            {error}
          </Text>
        </Alert>
      )}
      {inspectJob && (inspectJob.status !== 'done' || !inspect) && <JobProgress job={inspectJob} />}

      {inspect && (
        <>
          <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="md">
            <InspectSummary result={inspect} />
            <Stack gap="md">
              <Licenses licenses={inspect.licenses} />
              <GroupingPreview grouping={inspect.grouping} />
            </Stack>
          </SimpleGrid>
          <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="md">
            <ClassMappingTable />
            <SplitSettings />
          </SimpleGrid>
          <StartBar />
        </>
      )}
    </Stack>
  );
}

function SourcesPanel() {
  const sources = useSpotter(selectSources);
  const removeSource = useSpotter((s) => s.removeSource);
  const addSources = useSpotter((s) => s.addSources);
  const pick = useSpotter((s) => s.pick);
  const [typing, setTyping] = useState(false);

  const choose = async (kind: 'files' | 'folder') => {
    const paths = await pick(kind, kind === 'files' ? 'Choose annotation exports' : 'Choose an export folder');
    if (paths === null) setTyping(true);
    else if (paths.length) addSources(paths);
  };

  return (
    <Stack gap="xs">
      <Group gap="xs">
        <Button variant="default" size="xs" leftSection={<IconFile size={16} />} onClick={() => void choose('files')} data-testid="choose-files">
          Choose files…
        </Button>
        <Button variant="default" size="xs" leftSection={<IconFolder size={16} />} onClick={() => void choose('folder')} data-testid="choose-folder">
          Choose folder…
        </Button>
        {!typing && (
          <Button variant="subtle" size="xs" onClick={() => setTyping(true)}>
            Type a path…
          </Button>
        )}
      </Group>
      {typing && (
        <PathInput
          label="Export path (zip, folder or annotation file)"
          placeholder="/data/exports/task_12.zip"
          submitLabel="Add"
          data-testid="source-path-input"
          onCancel={() => setTyping(false)}
          onSubmit={(p) => {
            addSources([p]);
            setTyping(false);
          }}
        />
      )}
      {sources.length > 0 && (
        <Paper withBorder p="xs" radius="md">
          <Stack gap={4} data-testid="sources">
            {sources.map((p) => (
              <Group key={p} gap="xs" wrap="nowrap" justify="space-between">
                <Group gap={6} wrap="nowrap" style={{ minWidth: 0 }}>
                  <Text size="sm" fw={600}>
                    {basename(p)}
                  </Text>
                  <Text size="xs" c="dimmed" className="mono" truncate="start" title={p}>
                    <bdi>{p}</bdi>
                  </Text>
                </Group>
                <CloseButton size="sm" aria-label={`remove ${basename(p)}`} onClick={() => removeSource(p)} />
              </Group>
            ))}
          </Stack>
        </Paper>
      )}
    </Stack>
  );
}

function StartBar() {
  const problems = useSpotter(useShallow(selectImportProblems));
  const runJob = useSpotter(selectRunJob);
  const inspectJob = useSpotter(selectInspectJob);
  const startImport = useSpotter((s) => s.startImport);
  const running = runJob?.status === 'running';
  const inspecting = inspectJob?.status === 'running';
  const disabled = problems.length > 0 || running || inspecting;
  return (
    <Paper withBorder p="md" radius="md" pos="sticky" bottom={8} style={{ zIndex: 5 }} shadow="sm">
      <Stack gap="sm">
        {runJob && runJob.status !== 'done' && <JobProgress job={runJob} />}
        <Group justify="space-between">
          <Text size="sm" c={problems.length ? 'red' : 'dimmed'}>
            {problems.length
              ? problems.join(' ')
              : 'Writes images/, labels/, data.yaml, split.json, health.json and mapping.json, atomically.'}
          </Text>
          <Tooltip label={problems.join(' ')} disabled={!problems.length}>
            <Button size="md" onClick={() => void startImport()} disabled={disabled} loading={running} data-testid="import-start">
              Start import
            </Button>
          </Tooltip>
        </Group>
      </Stack>
    </Paper>
  );
}
