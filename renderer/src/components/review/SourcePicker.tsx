import { useEffect } from 'react';
import { Alert, Button, Group, SegmentedControl, Select, Stack, Text, TextInput } from '@mantine/core';
import { useSpotter } from '../../state/react';
import { selectDatasets } from '../../state/app';
import {
  REVIEW_SPLITS,
  selectPredictJob,
  selectReviewForm,
  selectReviewModels,
  selectReviewModelsError,
  selectReviewSource,
  selectReviewStatus,
  type ReviewSplit,
} from '../../state/review';
import { modelLabel } from './format';

/**
 * The model (one of the workspace's exports and deployed models, or any .onnx path) and the source
 * (a dataset of the workspace and its split, or a folder of images); "Run predictions" applies them
 * and starts the 'predict' job (the cache answers at once when nothing changed).
 */
export function SourcePicker() {
  const form = useSpotter(selectReviewForm);
  const models = useSpotter(selectReviewModels);
  const modelsError = useSpotter(selectReviewModelsError);
  const datasets = useSpotter(selectDatasets);
  const source = useSpotter(selectReviewSource);
  const status = useSpotter(selectReviewStatus);
  const job = useSpotter(selectPredictJob);
  const setForm = useSpotter((s) => s.setReviewForm);
  const apply = useSpotter((s) => s.applyReviewForm);
  const runPredict = useSpotter((s) => s.runPredict);
  const loadModels = useSpotter((s) => s.loadReviewModels);

  useEffect(() => {
    void loadModels();
  }, [loadModels]);

  const complete = !!form.model && (form.mode === 'dataset' ? !!form.dataset : !!form.folder);
  const applied =
    !!source &&
    source.model === form.model &&
    (form.mode === 'dataset' ? source.dataset === form.dataset && source.split === form.split : source.folder === form.folder);
  const running = job?.status === 'running';
  const modelOptions = (models ?? []).map((m) => ({
    value: m.path,
    label: `${m.origin === 'deployed' ? '★ ' : ''}${m.name}${m.run ? ` · ${m.run}` : ''}`,
  }));
  if (form.model && !modelOptions.some((o) => o.value === form.model)) modelOptions.push({ value: form.model, label: modelLabel(form.model) });

  return (
    <Stack gap="sm" data-testid="review-source">
      <Group align="flex-end" gap="sm" wrap="wrap">
        <Select
          label="Model"
          placeholder={models?.length ? 'an exported model' : 'no exported models yet: give a path'}
          data={modelOptions}
          value={form.model || null}
          onChange={(v) => setForm({ model: v ?? '' })}
          searchable
          w={320}
          nothingFoundMessage="no such model"
          data-testid="review-model-select"
        />
        <TextInput
          label="or the path of an .onnx model"
          placeholder="/path/to/best.onnx"
          value={form.model}
          onChange={(e) => setForm({ model: e.currentTarget.value.trim() })}
          classNames={{ input: 'mono' }}
          spellCheck={false}
          style={{ flex: 1, minWidth: 260 }}
          data-testid="review-model-path"
        />
      </Group>
      <Group align="flex-end" gap="sm" wrap="wrap">
        <SegmentedControl
          value={form.mode}
          onChange={(v) => setForm({ mode: v as 'dataset' | 'folder' })}
          data={[
            { value: 'dataset', label: 'Dataset' },
            { value: 'folder', label: 'Folder of images' },
          ]}
          data-testid="review-source-mode"
        />
        {form.mode === 'dataset' ? (
          <>
            <Select
              label="Dataset"
              placeholder={datasets?.length ? 'a dataset of the workspace' : 'no datasets imported yet'}
              data={(datasets ?? []).map((d) => ({ value: d.dir, label: d.name }))}
              value={form.dataset || null}
              onChange={(v) => setForm({ dataset: v ?? '' })}
              w={280}
              data-testid="review-dataset"
            />
            <Stack gap={2}>
              <Text size="sm" fw={500}>
                Split
              </Text>
              <SegmentedControl
                value={form.split}
                onChange={(v) => setForm({ split: v as ReviewSplit })}
                data={REVIEW_SPLITS.map((s) => ({ value: s, label: s }))}
                data-testid="review-split"
              />
            </Stack>
          </>
        ) : (
          <TextInput
            label="Folder"
            description="images without labels: everything is 'unlabelled'"
            placeholder="/path/to/images"
            value={form.folder}
            onChange={(e) => setForm({ folder: e.currentTarget.value.trim() })}
            classNames={{ input: 'mono' }}
            spellCheck={false}
            style={{ flex: 1, minWidth: 260 }}
            data-testid="review-folder"
          />
        )}
        <Group gap="xs" ml="auto">
          {!applied && (
            <Button variant="default" disabled={!complete} onClick={apply} data-testid="review-open">
              Open cached
            </Button>
          )}
          <Button
            disabled={!complete || running}
            loading={running}
            onClick={() => {
              apply();
              void runPredict(applied && status === 'ready');
            }}
            data-testid="review-run"
          >
            {applied && status === 'ready' ? 'Predict again' : 'Run predictions'}
          </Button>
        </Group>
      </Group>
      {modelsError && (
        <Alert color="red" variant="light" p="xs">
          Could not list the models: {modelsError}
        </Alert>
      )}
    </Stack>
  );
}
