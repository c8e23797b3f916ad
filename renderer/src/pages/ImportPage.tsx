import { useState } from 'react';
import { Alert, Button, CloseButton, Group, Loader, Paper, SimpleGrid, Stack, Text, Title, Tooltip } from '@mantine/core';
import { useSpotter } from '../state/react';
import {
  selectCurrentInspect,
  selectImportError,
  selectImportLocked,
  selectImportProblems,
  selectInspect,
  selectInspecting,
  selectInspectJob,
  selectRunJob,
  selectSources,
  selectStartDisabled,
} from '../state/import';
import { useShallow } from 'zustand/react/shallow';
import { DropZone } from '../components/DropZone';
import { JobProgress } from '../components/JobProgress';
import { InspectSummary } from '../components/InspectSummary';
import { Licenses } from '../components/Licenses';
import { ClassMappingTable } from '../components/ClassMappingTable';
import { ImportAs } from '../components/ImportAs';
import { GroupingPreview } from '../components/GroupingPreview';
import { SplitSettings } from '../components/SplitSettings';
import { PathInput } from '../components/PathInput';
import { IconAlert, IconFile, IconFolder } from '../components/icons';
import { basename } from '../lib/paths';

export function ImportPage() {
  const sources = useSpotter(selectSources);
  const inspect = useSpotter(selectInspect);
  const inspectJob = useSpotter(selectInspectJob);
  const inspecting = useSpotter(selectInspecting);
  const error = useSpotter(selectImportError);
  const resetImport = useSpotter((s) => s.resetImport);
  const locked = useSpotter(selectImportLocked);

  return (
    <Stack gap="md" maw={1280}>
      <Group justify="space-between">
        <Title order={2}>Import</Title>
        {sources.length > 0 && (
          <Button variant="subtle" size="xs" onClick={resetImport} disabled={locked} data-testid="import-reset">
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
      {inspecting && !inspectJob && (
        <Group gap="xs" data-testid="inspect-starting">
          <Loader size="xs" />
          <Text size="sm">Inspecting: starting…</Text>
        </Group>
      )}
      {inspectJob && (inspectJob.status !== 'done' || !inspect) && <JobProgress job={inspectJob} />}
      <EarlierInspectNotice />

      {inspect && (
        <>
          <ImportAs />
          <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="md">
            <InspectSummary result={inspect} />
            <Stack gap="md">
              <Licenses licenses={inspect.licenses} />
              <InspectGrouping grouping={inspect.grouping} />
            </Stack>
          </SimpleGrid>
          <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="md">
            <ClassMappingTable />
            <SplitSettings />
          </SimpleGrid>
        </>
      )}
      {sources.length > 0 && <StartBar />}
    </Stack>
  );
}

/** The summary shown is not the latest inspect's (it failed or was cancelled): say so, offer a retry. */
function EarlierInspectNotice() {
  const inspect = useSpotter(selectInspect);
  const current = useSpotter(selectCurrentInspect);
  const inspecting = useSpotter(selectInspecting);
  const locked = useSpotter(selectImportLocked);
  const reinspect = useSpotter((s) => s.inspectSources);
  if (!inspect || current || inspecting) return null;
  return (
    <Alert color="yellow" variant="light" icon={<IconAlert />} data-testid="inspect-stale">
      <Group justify="space-between" gap="xs">
        <Text size="sm">The summary below comes from an earlier inspect; the latest one did not finish.</Text>
        <Button size="compact-sm" variant="default" onClick={() => void reinspect()} disabled={locked}>
          Inspect again
        </Button>
      </Group>
    </Alert>
  );
}

function SourcesPanel() {
  const sources = useSpotter(selectSources);
  const removeSource = useSpotter((s) => s.removeSource);
  const addSources = useSpotter((s) => s.addSources);
  const pick = useSpotter((s) => s.pick);
  const locked = useSpotter(selectImportLocked);
  const [typing, setTyping] = useState(false);

  const choose = async (kind: 'files' | 'folder') => {
    const paths = await pick(kind, kind === 'files' ? 'Choose annotation exports' : 'Choose an export folder');
    if (paths === null) setTyping(true);
    else if (paths.length) addSources(paths);
  };

  return (
    <Stack gap="xs">
      <Group gap="xs">
        <Button variant="default" size="xs" leftSection={<IconFile size={16} />} onClick={() => void choose('files')} disabled={locked} data-testid="choose-files">
          Choose files…
        </Button>
        <Button variant="default" size="xs" leftSection={<IconFolder size={16} />} onClick={() => void choose('folder')} disabled={locked} data-testid="choose-folder">
          Choose folder…
        </Button>
        {!typing && (
          <Button variant="subtle" size="xs" onClick={() => setTyping(true)} disabled={locked} data-testid="type-path">
            Type a path…
          </Button>
        )}
      </Group>
      {typing && !locked && (
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
                <CloseButton size="sm" aria-label={`remove ${basename(p)}`} onClick={() => removeSource(p)} disabled={locked} />
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
  const disabled = useSpotter(selectStartDisabled);
  const locked = useSpotter(selectImportLocked);
  const inspecting = useSpotter(selectInspecting);
  const runJob = useSpotter(selectRunJob);
  const startImport = useSpotter((s) => s.startImport);
  const base = useSpotter((s) => s.settings.base);
  return (
    <Paper withBorder p="md" radius="md" pos="sticky" bottom={8} style={{ zIndex: 5 }} shadow="sm" data-testid="start-bar">
      <Stack gap="sm">
        {runJob && runJob.status !== 'done' && <JobProgress job={runJob} />}
        <Group justify="space-between">
          <Text size="sm" c={problems.length ? 'red' : 'dimmed'} data-testid="import-problems">
            {problems.length
              ? problems.join(' ')
              : inspecting
                ? 'Waiting for the inspect to finish…'
                : base
                  ? 'Writes a new version beside the dataset (images/, labels/, data.yaml, split.json, …), atomically; the dataset itself is not touched.'
                  : 'Writes images/, labels/, data.yaml, split.json, health.json and mapping.json, atomically.'}
          </Text>
          <Tooltip label={problems.join(' ')} disabled={!problems.length}>
            <Button
              size="md"
              onClick={() => void startImport()}
              disabled={disabled}
              loading={locked}
              data-testid="import-start"
            >
              Start import
            </Button>
          </Tooltip>
        </Group>
      </Stack>
    </Paper>
  );
}

/** The inspected grouping, with its levels to choose from (a choice re-inspects with it). */
function InspectGrouping({ grouping }: { grouping: NonNullable<ReturnType<typeof selectInspect>>['grouping'] }) {
  const picked = useSpotter((s) => s.settings.groupLevel);
  const locked = useSpotter(selectImportLocked);
  const setSettings = useSpotter((s) => s.setSettings);
  const reinspect = useSpotter((s) => s.inspectSources);
  const pick = (id: string | null) => {
    if (locked) return;
    setSettings({ groupLevel: id });
    void reinspect();
  };
  return (
    <GroupingPreview grouping={grouping} picked={picked} onPickLevel={pick}>
      <Text size="xs" c="dimmed">
        Chosen from the names; during the import the pixels are checked too (numbered names that do not look like frames are not a video), so the
        dataset's report can differ.
      </Text>
    </GroupingPreview>
  );
}
