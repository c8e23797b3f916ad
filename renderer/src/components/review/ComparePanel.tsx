import { useState } from 'react';
import { Alert, Badge, Button, Group, Select, Stack, Text, TextInput } from '@mantine/core';
import { useSpotter } from '../../state/react';
import { selectBaselineProgress, selectReviewBaseline, selectReviewComparison, selectReviewModels, selectReviewSource } from '../../state/review';
import { JobProgress } from '../JobProgress';
import { formatCount } from '../../lib/paths';
import { modelLabel } from './format';

/**
 * Baseline vs candidate: a second model's predictions on the same source, matched at the same IoU;
 * per image, its errors (FP + FN) against the candidate's → better / worse / same. The baseline is
 * taken at its own saved operating point (its card), or at the slider's confidence without one.
 */
export function ComparePanel() {
  const models = useSpotter(selectReviewModels);
  const source = useSpotter(selectReviewSource);
  const b = useSpotter(selectReviewBaseline);
  const cmp = useSpotter(selectReviewComparison);
  const progress = useSpotter(selectBaselineProgress);
  const setBaseline = useSpotter((s) => s.setBaselineModel);
  const runBaseline = useSpotter((s) => s.runBaselinePredict);
  const setCompare = useSpotter((s) => s.setReviewCompare);
  const [path, setPath] = useState('');
  const options = (models ?? [])
    .filter((m) => m.path !== source?.model)
    .map((m) => ({ value: m.path, label: `${m.origin === 'deployed' ? '★ ' : ''}${m.name}${m.run ? ` · ${m.run}` : ''}` }));
  if (b && !options.some((o) => o.value === b.model)) options.push({ value: b.model, label: modelLabel(b.model) });
  return (
    <Stack gap="xs" data-testid="compare-panel">
      <Group gap="sm" align="flex-end">
        <Select
          label="Baseline model"
          placeholder={options.length ? 'compare with…' : 'no other model in the workspace'}
          data={options}
          value={b?.model ?? null}
          onChange={(v) => void setBaseline(v)}
          clearable
          searchable
          w={340}
          data-testid="baseline-select"
        />
        <TextInput
          label="or its path"
          placeholder="/path/to/baseline.onnx"
          value={path}
          onChange={(e) => setPath(e.currentTarget.value)}
          onKeyDown={(e) => e.key === 'Enter' && path.trim() && void setBaseline(path.trim())}
          classNames={{ input: 'mono' }}
          spellCheck={false}
          style={{ flex: 1, minWidth: 220, maxWidth: 480 }}
          data-testid="baseline-path"
        />
        <Button variant="default" disabled={!path.trim()} onClick={() => void setBaseline(path.trim())} data-testid="baseline-use">
          Compare
        </Button>
        {b?.status === 'missing' && !progress && (
          <Button variant="light" onClick={() => void runBaseline()} data-testid="baseline-run">
            Run its predictions on this source
          </Button>
        )}
      </Group>
      {progress && <JobProgress job={progress} />}
      {b?.job?.status === 'failed' && (
        <Alert color="red" variant="light" p="xs">
          Baseline predictions failed: {b.job.error}
        </Alert>
      )}
      {b?.error && (
        <Alert color="red" variant="light" p="xs">
          {b.error}
        </Alert>
      )}
      {b?.status === 'missing' && !progress && (
        <Text size="xs" c="dimmed">
          The baseline has no predictions on this source yet.
        </Text>
      )}
      {cmp && b?.set && (
        <Group gap="xs" data-testid="compare-counts" data-better={cmp.better} data-worse={cmp.worse} data-same={cmp.same}>
          <Text size="sm">Per image, candidate vs baseline ({b.info?.card ? 'at its saved thresholds' : 'at the same confidence'}):</Text>
          <Badge color="green" variant="light" style={{ cursor: 'pointer' }} onClick={() => setCompare('better')}>
            {formatCount(cmp.better)} better
          </Badge>
          <Badge color="red" variant="light" style={{ cursor: 'pointer' }} onClick={() => setCompare('worse')}>
            {formatCount(cmp.worse)} worse
          </Badge>
          <Badge color="gray" variant="light" style={{ cursor: 'pointer' }} onClick={() => setCompare('same')}>
            {formatCount(cmp.same)} same
          </Badge>
          {cmp.missing > 0 && (
            <Text size="xs" c="dimmed">
              {formatCount(cmp.missing)} images not in the baseline's set
            </Text>
          )}
        </Group>
      )}
    </Stack>
  );
}
