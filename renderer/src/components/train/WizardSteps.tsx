import { useMemo } from 'react';
import { Alert, Anchor, Badge, Button, Card, Checkbox, Group, Loader, ScrollArea, SegmentedControl, Select, SimpleGrid, Stack, Text, TextInput, UnstyledButton } from '@mantine/core';
import { useShallow } from 'zustand/react/shallow';
import type { DatasetListItem } from '../../../../electron/shared/contract';
import { useSpotter } from '../../state/react';
import { selectDatasets, selectMode } from '../../state/app';
import { selectFinetuneSources } from '../../state/runs';
import { TestSpentAlert } from './TestSpentAlert';
import { PretrainedOffer } from './PretrainedOffer';
import { datasetItemOf, modelOf, PRESETS, selectForm, selectWizardDataset, type ModelFamily, type ModelSize, type ModelSource, type PresetName } from '../../state/train';
import { SEVERITY_COLOR } from '../Severity';
import { formatCount, plural } from '../../lib/paths';
import { IconAlert, IconCheck } from '../icons';
import { bestWeightsOf, f3 } from './format';

// ---------------------------------------------------------------- dataset

export function DatasetStep() {
  const datasets = useSpotter(selectDatasets);
  const form = useSpotter(selectForm);
  const setForm = useSpotter((s) => s.setForm);
  const navigate = useSpotter((s) => s.navigate);
  const sorted = useMemo(() => [...(datasets ?? [])].sort((a, b) => b.createdAt.localeCompare(a.createdAt)), [datasets]);

  if (!sorted.length) {
    return (
      <Alert color="gray" variant="light" title="No datasets in this workspace yet" data-testid="train-no-datasets">
        <Group gap="sm">
          <Text size="sm">Import an annotation export first; it becomes a dataset you can train on.</Text>
          <Button size="xs" onClick={() => navigate({ name: 'import' })}>
            Import…
          </Button>
        </Group>
      </Alert>
    );
  }
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
      <Stack gap={6}>
        <Text size="sm" fw={500}>
          Dataset
        </Text>
        <ScrollArea.Autosize mah={360} type="auto">
          <Stack gap={6} data-testid="train-datasets">
            {sorted.map((d) => (
              <DatasetOption key={d.dir} d={d} selected={form.dataset === d.dir} onSelect={() => setForm({ dataset: d.dir, overrideHealth: false })} />
            ))}
          </Stack>
        </ScrollArea.Autosize>
      </Stack>
      <Stack gap="sm">
        <TestSpentAlert dataset={form.dataset} />
        <DatasetHealth />
      </Stack>
    </SimpleGrid>
  );
}

function DatasetOption({ d, selected, onSelect }: { d: DatasetListItem; selected: boolean; onSelect: () => void }) {
  return (
    <UnstyledButton onClick={onSelect} data-testid="train-dataset-option" data-dir={d.dir} data-selected={selected} aria-pressed={selected}>
      <Card
        withBorder
        padding="xs"
        radius="md"
        className="clickable-card"
        style={selected ? { borderColor: 'var(--mantine-color-blue-filled)', background: 'var(--mantine-color-blue-light)' } : undefined}
      >
        <Group justify="space-between" wrap="nowrap" gap="xs">
          <Text fw={600} truncate>
            {d.name}
          </Text>
          <Group gap={4} wrap="nowrap">
            <Badge variant="light" color="gray" size="sm">
              {d.task}
            </Badge>
            {d.errors > 0 ? (
              <Badge color="red" variant="light" size="sm">
                {d.errors} errors
              </Badge>
            ) : (
              <Badge color="green" variant="light" size="sm">
                ok
              </Badge>
            )}
            {d.warnings > 0 && (
              <Badge color="yellow" variant="light" size="sm">
                {d.warnings} warnings
              </Badge>
            )}
          </Group>
        </Group>
        <Text size="xs" c="dimmed" truncate>
          {formatCount(d.images)} images · {plural(d.classes.length, 'class', 'classes')}: {d.classes.join(', ')}
        </Text>
      </Card>
    </UnstyledButton>
  );
}

/** The chosen dataset's health check: errors block Start unless "train anyway" is ticked. */
function DatasetHealth() {
  const form = useSpotter(selectForm);
  const ds = useSpotter(selectWizardDataset);
  const item = useSpotter(datasetItemOf);
  const setForm = useSpotter((s) => s.setForm);
  const navigate = useSpotter((s) => s.navigate);
  if (!form.dataset) return <Text c="dimmed" size="sm">Choose a dataset.</Text>;
  const detail = ds?.dir === form.dataset ? ds.detail : null;
  const health = detail?.health;
  const errors = health?.counts.errors ?? item?.errors ?? 0;
  const issues = (health?.issues ?? []).filter((i) => i.severity !== 'info');
  return (
    <Stack gap="xs" data-testid="train-dataset-health" data-errors={errors}>
      <Group justify="space-between">
        <Text size="sm" fw={500}>
          Health check{health ? ` (imgsz ${health.imgsz})` : ''}
        </Text>
        <Anchor size="sm" component="button" type="button" onClick={() => navigate({ name: 'dataset', dir: form.dataset! })}>
          Open the dataset
        </Anchor>
      </Group>
      {ds?.error && ds.dir === form.dataset && (
        <Alert color="red" variant="light" icon={<IconAlert />} p="xs">
          {ds.error}
        </Alert>
      )}
      {!detail && !ds?.error && <Loader size="sm" />}
      {detail && (
        <>
          <Text size="xs" c="dimmed" className="mono">
            {detail.dataYaml}
          </Text>
          <Text size="sm">
            {Object.entries(detail.report.splits)
              .filter(([, v]) => v)
              .map(([k, v]) => `${k} ${formatCount(v!.images)}`)
              .join(' · ')}{' '}
            images · classes {detail.report.names.join(', ')}
          </Text>
          {issues.length === 0 ? (
            <Alert color="green" variant="light" icon={<IconCheck />} p="xs">
              No errors or warnings.
            </Alert>
          ) : (
            <ScrollArea.Autosize mah={220} type="auto">
              <Stack gap={4}>
                {issues.map((i, n) => (
                  <Group key={n} gap={6} wrap="nowrap" align="flex-start">
                    <Badge size="xs" color={SEVERITY_COLOR[i.severity]} variant="filled" style={{ flexShrink: 0, marginTop: 3 }}>
                      {i.severity}
                    </Badge>
                    <Text size="sm">{i.message}</Text>
                  </Group>
                ))}
              </Stack>
            </ScrollArea.Autosize>
          )}
        </>
      )}
      {errors > 0 && (
        <Checkbox
          color="red"
          label={`Train anyway, despite ${plural(errors, 'error', 'errors')} (recorded in the run's preflight.json)`}
          checked={form.overrideHealth}
          onChange={(e) => setForm({ overrideHealth: e.currentTarget.checked })}
          data-testid="train-anyway"
        />
      )}
    </Stack>
  );
}

// ---------------------------------------------------------------- model

const FAMILIES: Array<{ value: ModelFamily; label: string }> = [
  { value: 'yolov8', label: 'YOLOv8' },
  { value: 'yolo11', label: 'YOLO11' },
  { value: 'yolo26', label: 'YOLO26' },
];
const SIZES: Array<{ value: ModelSize; label: string }> = [
  { value: 'n', label: 'n (nano)' },
  { value: 's', label: 's (small)' },
  { value: 'm', label: 'm (medium)' },
];

export function ModelStep() {
  const form = useSpotter(selectForm);
  const setForm = useSpotter((s) => s.setForm);
  const item = useSpotter(datasetItemOf);
  const model = modelOf(form, item?.task);
  return (
    <Stack gap="sm" maw={820}>
      <SegmentedControl
        value={form.modelSource}
        onChange={(v) => setForm({ modelSource: v as ModelSource })}
        data={[
          { value: 'yaml', label: 'Architecture (.yaml)' },
          { value: 'pt', label: 'Local weights (.pt)' },
          { value: 'run', label: "A previous run's best.pt" },
        ]}
        data-testid="model-source"
      />
      {form.modelSource === 'yaml' && (
        <Stack gap="xs">
          <Group gap="md" align="flex-end">
            <div>
              <Text size="sm" fw={500} mb={4}>
                Family
              </Text>
              <SegmentedControl value={form.family} onChange={(v) => setForm({ family: v as ModelFamily })} data={FAMILIES} />
            </div>
            <div>
              <Text size="sm" fw={500} mb={4}>
                Size
              </Text>
              <SegmentedControl value={form.size} onChange={(v) => setForm({ size: v as ModelSize })} data={SIZES} />
            </div>
          </Group>
          <Text size="sm">
            Model: <span className="mono">{model}</span>
            {item?.task === 'segment' ? ' (segmentation, as the dataset)' : ''}
          </Text>
          <Text size="sm" c="dimmed">
            A .yaml is the architecture alone: training starts from random weights, which needs more epochs than fine-tuning. Spotter never downloads
            pretrained weights by itself (training stays offline): download them here when the network is there, or pick a local .pt file you already have.
          </Text>
          <PretrainedOffer model={model} />
        </Stack>
      )}
      {form.modelSource === 'pt' && <PtPicker />}
      {form.modelSource === 'run' && <RunPicker />}
    </Stack>
  );
}

function PtPicker() {
  const form = useSpotter(selectForm);
  const setForm = useSpotter((s) => s.setForm);
  const pick = useSpotter((s) => s.pick);
  const mode = useSpotter(selectMode);
  const bad = form.ptPath.trim() !== '' && !/\.pt$/i.test(form.ptPath.trim());
  return (
    <Stack gap="xs">
      <Group align="flex-end" gap="xs" wrap="nowrap">
        <TextInput
          label="Weights file"
          placeholder="/path/to/yolov8n.pt"
          value={form.ptPath}
          onChange={(e) => setForm({ ptPath: e.currentTarget.value })}
          error={bad ? 'a .pt file' : undefined}
          spellCheck={false}
          style={{ flex: 1 }}
          data-testid="model-pt"
        />
        {mode === 'electron' && (
          <Button
            variant="default"
            onClick={() =>
              void pick('files', 'Choose a .pt weights file').then((p) => {
                if (p?.[0]) setForm({ ptPath: p[0] });
              })
            }
          >
            Browse…
          </Button>
        )}
      </Group>
      <Text size="sm" c="dimmed">
        Fine-tunes from these weights as a new run. A path on {mode === 'serve' ? 'the machine Spotter serves from' : 'this computer'}; nothing is
        downloaded.
      </Text>
    </Stack>
  );
}

function RunPicker() {
  const form = useSpotter(selectForm);
  const setForm = useSpotter((s) => s.setForm);
  const runs = useSpotter(useShallow(selectFinetuneSources));
  const data = runs.map((r) => ({
    value: bestWeightsOf(r.dir),
    label: `${r.label} · ${r.name} · mAP50-95 ${f3(r.metrics?.mAP50_95)}${r.isBaseline ? ' · baseline' : ''}`,
  }));
  if (!data.length) return <Text size="sm" c="dimmed">No finished run yet: train one first, then fine-tune from its best.pt.</Text>;
  return (
    <Stack gap="xs">
      <Select
        label="Run"
        placeholder="Choose a run"
        data={data}
        value={form.runWeights}
        onChange={(v) => setForm({ runWeights: v })}
        searchable
        data-testid="model-run"
      />
      {form.runWeights && (
        <Text size="xs" c="dimmed" className="mono">
          {form.runWeights}
        </Text>
      )}
      <Text size="sm" c="dimmed">
        A new run starts from that run's best weights, with the epochs and settings chosen here (unlike resume, which only continues a run).
      </Text>
    </Stack>
  );
}

// ---------------------------------------------------------------- preset

export function PresetStep() {
  const form = useSpotter(selectForm);
  const applyPreset = useSpotter((s) => s.applyPreset);
  return (
    <Stack gap="xs">
      <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="sm">
        {(Object.keys(PRESETS) as PresetName[]).map((name) => {
          const p = PRESETS[name];
          const selected = form.preset === name;
          return (
            <UnstyledButton key={name} onClick={() => applyPreset(name)} data-testid={`preset-${name}`} data-selected={selected} aria-pressed={selected}>
              <Card
                withBorder
                padding="sm"
                radius="md"
                className="clickable-card"
                h="100%"
                style={selected ? { borderColor: 'var(--mantine-color-blue-filled)', background: 'var(--mantine-color-blue-light)' } : undefined}
              >
                <Group justify="space-between">
                  <Text fw={600}>{p.label}</Text>
                  <Badge variant="light">{plural(p.epochs, 'epoch', 'epochs')}</Badge>
                </Group>
                <Text size="sm" c="dimmed">
                  {p.description}
                </Text>
              </Card>
            </UnstyledButton>
          );
        })}
      </SimpleGrid>
      {form.preset === 'custom' && (
        <Text size="sm" c="dimmed">
          Custom: {plural(form.epochs, 'epoch', 'epochs')}
          {form.patience !== null ? `, patience ${form.patience}` : ''} (edited in Settings).
        </Text>
      )}
    </Stack>
  );
}
