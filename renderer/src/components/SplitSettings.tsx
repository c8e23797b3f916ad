import {
  Button,
  Group,
  NumberInput,
  Paper,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useSpotter } from '../state/react';
import { regexProblem, selectImportLocked, selectInspect, selectInspectOutdated, selectInspecting, selectSettings, type GroupMode } from '../state/import';

const SPLIT_LABELS = ['train', 'val', 'test'] as const;

/** Split, grouping and output settings of the import (ImportOptions, in the UI's words). */
export function SplitSettings() {
  const settings = useSpotter(selectSettings);
  const inspect = useSpotter(selectInspect);
  const setSettings = useSpotter((s) => s.setSettings);
  const reinspect = useSpotter((s) => s.inspectSources);
  // an import is starting or running: these are the settings it runs with
  const locked = useSpotter(selectImportLocked);
  const outdated = useSpotter(selectInspectOutdated);
  const inspecting = useSpotter(selectInspecting);
  const subsets = inspect?.subsets ?? [];
  const sum = settings.ratios.reduce((a, b) => a + b, 0);
  const regexError = settings.groupMode === 'custom' ? regexProblem(settings.groupRegex) : null;

  const setRatio = (i: number, v: number | string) => {
    const ratios = [...settings.ratios] as [number, number, number];
    ratios[i] = typeof v === 'number' ? v : Number(v) || 0;
    setSettings({ ratios });
  };

  return (
    <Paper withBorder p="md" radius="md" data-testid="split-settings">
      <Stack gap="sm">
        <Title order={4}>Split and output</Title>
        <Group grow gap="xs" align="flex-start">
          <TextInput
            label="Dataset name"
            value={settings.base ? '' : settings.name}
            placeholder={settings.base ? 'the next version: <dataset>_v2, _v3…' : undefined}
            onChange={(e) => setSettings({ name: e.currentTarget.value })}
            data-testid="dataset-name"
            spellCheck={false}
            disabled={locked || !!settings.base}
          />
          <div title="Detect writes boxes; segment writes polygons (boxes-only objects are reported)">
            <Text size="sm" fw={500} mb={4}>
              Task
            </Text>
            <SegmentedControl
              fullWidth
              value={settings.task}
              onChange={(v) => setSettings({ task: v as 'detect' | 'segment' })}
              disabled={locked}
              data={[
                { value: 'detect', label: 'Detect' },
                { value: 'segment', label: 'Segment' },
              ]}
            />
          </div>
        </Group>

        {subsets.length > 0 && (
          <>
            <Switch
              label={`Keep the export's own splits (${subsets.join(', ')}) even if they leak`}
              description="Without this, Spotter keeps them only when its audit finds them clean (no group, near-duplicate or twin across them), and re-splits by group otherwise."
              checked={settings.keepSplits}
              onChange={(e) => setSettings({ keepSplits: e.currentTarget.checked, ...(e.currentTarget.checked ? { resplit: false } : {}) })}
              disabled={locked}
              data-testid="keep-splits"
            />
            <Switch
              label="Re-split by ratio even if the export's splits are clean"
              checked={settings.resplit}
              onChange={(e) => setSettings({ resplit: e.currentTarget.checked, ...(e.currentTarget.checked ? { keepSplits: false } : {}) })}
              disabled={locked}
              data-testid="resplit"
            />
          </>
        )}

        <div>
          <Group gap="xs" align="flex-end">
            {SPLIT_LABELS.map((label, i) => (
              <NumberInput
                key={label}
                label={label}
                w={90}
                min={0}
                max={1}
                step={0.05}
                decimalScale={3}
                value={settings.ratios[i]}
                onChange={(v) => setRatio(i, v)}
                disabled={locked || settings.keepSplits}
              />
            ))}
            <NumberInput
              label="Seed"
              w={90}
              min={0}
              step={1}
              allowDecimal={false}
              value={settings.seed}
              onChange={(v) => setSettings({ seed: typeof v === 'number' ? v : Number(v) || 0 })}
              disabled={locked || settings.keepSplits}
            />
          </Group>
          {!settings.keepSplits && Math.abs(sum - 1) > 1e-6 && (
            <Text size="xs" c={sum > 0 ? 'dimmed' : 'red'} mt={4}>
              {sum > 0 ? `Ratios add up to ${sum.toFixed(3)}; they are used relative to each other.` : 'Ratios add up to 0.'}
            </Text>
          )}
        </div>

        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="xs">
          <Select
            label="Group images by"
            value={settings.groupMode}
            onChange={(v) => v && setSettings({ groupMode: v as GroupMode })}
            allowDeselect={false}
            disabled={locked}
            data={[
              { value: 'auto', label: 'Auto-detect (recommended)' },
              { value: 'none', label: 'None: every image alone (leaks!)' },
              { value: 'custom', label: 'Custom regular expression' },
            ]}
            data-testid="group-mode"
          />
          {settings.groupMode === 'custom' ? (
            <TextInput
              label="Group regex"
              placeholder="^(?<group>.+?)_\d+\.jpg$"
              value={settings.groupRegex}
              onChange={(e) => setSettings({ groupRegex: e.currentTarget.value })}
              error={regexError}
              classNames={{ input: 'mono' }}
              spellCheck={false}
              disabled={locked}
            />
          ) : (
            <div />
          )}
          <NumberInput
            label="Guard gap (frames)"
            description="Dropped at every time-block boundary"
            placeholder={inspect?.grouping.time_blocks ? `auto (${inspect.grouping.guard_gap})` : 'auto'}
            min={0}
            allowDecimal={false}
            value={settings.guardGap ?? ''}
            onChange={(v) => setSettings({ guardGap: v === '' ? null : Number(v) })}
            disabled={locked}
          />
          <NumberInput
            label="Near-duplicate threshold"
            description="Hamming distance of 64-bit hashes; -1 disables"
            min={-1}
            max={15}
            allowDecimal={false}
            value={settings.dupThreshold}
            onChange={(v) => setSettings({ dupThreshold: typeof v === 'number' ? v : Number(v) || 0 })}
            disabled={locked}
          />
        </SimpleGrid>
        <Switch
          label="Keep crowd annotations (iscrowd: 1; CVAT uses it for real masks)"
          checked={settings.keepCrowd}
          onChange={(e) => setSettings({ keepCrowd: e.currentTarget.checked })}
          size="sm"
          disabled={locked}
        />
        <Group gap="xs">
          <Button
            variant="default"
            size="xs"
            onClick={() => void reinspect()}
            disabled={locked || !!regexError}
            loading={inspecting}
            data-testid="update-preview"
          >
            Update grouping preview
          </Button>
          {outdated && !inspecting && (
            <Text size="xs" c="orange" data-testid="preview-outdated">
              The grouping preview is out of date.
            </Text>
          )}
        </Group>
      </Stack>
    </Paper>
  );
}
