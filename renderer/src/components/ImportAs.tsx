import { Alert, Badge, Group, Paper, SegmentedControl, Select, Stack, Text, Title } from '@mantine/core';
import { useSpotter } from '../state/react';
import { selectDatasets } from '../state/app';
import { selectCurrentInspect, selectImportLocked, selectInspecting, selectSettings } from '../state/import';
import { formatCount } from '../lib/paths';
import { IconAlert } from './icons';

/**
 * A new dataset, or a new version of one of the workspace's datasets: the way back of the active
 * learning round trip (a corrected CVAT export merged into `<base>_v<N>`; the base is never written
 * to). Choosing a base inspects again, and the preview says what the merge will do.
 */
export function ImportAs() {
  const settings = useSpotter(selectSettings);
  const datasets = useSpotter(selectDatasets);
  const locked = useSpotter(selectImportLocked);
  const inspecting = useSpotter(selectInspecting);
  const current = useSpotter(selectCurrentInspect);
  const setSettings = useSpotter((s) => s.setSettings);
  const reinspect = useSpotter((s) => s.inspectSources);
  const choose = (base: string) => {
    if (base === settings.base) return;
    setSettings({ base });
    void reinspect(); // the merge preview (and a class conflict) depends on the base
  };
  const merge = settings.base ? current?.merge : undefined;
  const options = (datasets ?? []).map((d) => ({ value: d.dir, label: `${d.name} · ${formatCount(d.images)} images` }));

  return (
    <Paper withBorder p="md" radius="md" data-testid="import-as" data-base={settings.base}>
      <Stack gap="sm">
        <Group justify="space-between" align="flex-end" wrap="wrap">
          <Title order={4}>Import as</Title>
          <Group gap="sm" align="flex-end" wrap="wrap">
            <SegmentedControl
              value={settings.base ? 'version' : 'new'}
              onChange={(v) => choose(v === 'new' ? '' : (settings.base || options[0]?.value || ''))}
              disabled={locked || !options.length}
              data={[
                { value: 'new', label: 'A new dataset' },
                { value: 'version', label: 'A new version of a dataset' },
              ]}
              data-testid="import-as-mode"
            />
            {settings.base && (
              <Select
                aria-label="the dataset this import corrects"
                data={options}
                value={settings.base}
                onChange={(v) => v && choose(v)}
                disabled={locked}
                w={300}
                allowDeselect={false}
                data-testid="import-base"
              />
            )}
          </Group>
        </Group>
        {!settings.base && (
          <Text size="sm" c="dimmed">
            Re-importing a corrected export (a labelling batch back from CVAT)? Make it a new version of its dataset: corrected images get the new labels and keep
            their split, new images join their group&apos;s split, and the dataset itself stays as it is.
          </Text>
        )}
        {settings.base && inspecting && (
          <Text size="sm" c="dimmed">
            Matching the images with the dataset…
          </Text>
        )}
        {merge && (
          <Stack gap={6} data-testid="merge-preview" data-replaced={merge.replaced} data-added={merge.added} data-emptied={merge.emptied}>
            <Text size="sm">
              A new version of <b>{merge.baseName}</b> ({formatCount(merge.baseImages)} images) is written beside it:
            </Text>
            <Group gap={6}>
              <Badge variant="light" color="blue">
                {formatCount(merge.replaced)} corrected
              </Badge>
              <Badge variant="light" color="green">
                {formatCount(merge.added)} added
              </Badge>
              <Badge variant="light" color="gray">
                {formatCount(merge.baseImages - merge.replaced)} unchanged
              </Badge>
              {merge.emptied > 0 && (
                <Badge variant="light" color="orange" title="The re-import has no object on them while the dataset labels them: the new version labels them as empty">
                  {formatCount(merge.emptied)} lose all their boxes
                </Badge>
              )}
              {merge.ambiguous > 0 && (
                <Badge variant="light" color="orange">
                  {formatCount(merge.ambiguous)} ambiguous, not used
                </Badge>
              )}
            </Group>
            {merge.newClasses.length > 0 && (
              <Text size="sm" c="orange">
                New classes, appended after the dataset&apos;s {merge.baseClasses.length}: {merge.newClasses.join(', ')}
              </Text>
            )}
            {merge.conflict && (
              <Alert color="red" variant="light" icon={<IconAlert />} p="xs" data-testid="merge-conflict">
                {merge.conflict.split(': map it')[0]}: map it to the dataset&apos;s class in the class table below.
              </Alert>
            )}
          </Stack>
        )}
      </Stack>
    </Paper>
  );
}
