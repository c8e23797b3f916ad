import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { Alert, Badge, Button, Center, Grid, Group, Loader, Paper, Stack, Text, Title } from '@mantine/core';
import { useSpotter } from '../state/react';
import { selectPage } from '../state/app';
import {
  selectPredictJob,
  selectPredictProgress,
  selectReviewError,
  selectReviewInfo,
  selectReviewLabelled,
  selectReviewSet,
  selectReviewSource,
  selectReviewStatus,
} from '../state/review';
import { SourcePicker } from '../components/review/SourcePicker';
import { ReviewControls } from '../components/review/ReviewControls';
import { ClassTable } from '../components/review/ClassTable';
import { ComparePanel } from '../components/review/ComparePanel';
import { GalleryToolbar } from '../components/review/GalleryToolbar';
import { ReviewGrid } from '../components/review/ReviewGrid';
import { ReviewViewer } from '../components/review/ReviewViewer';
import { BatchDialog } from '../components/review/BatchDialog';
import { JobProgress } from '../components/JobProgress';
import { IconAlert } from '../components/icons';
import { basename, formatCount } from '../lib/paths';
import { Section } from '../components/Section';

// ECharts is the largest dependency: load the PR curve with the page, not at start-up.
const PrCurve = lazy(() => import('../components/review/PrCurve').then((m) => ({ default: m.PrCurve })));

/**
 * The review gallery: pick a model and a source, run predictions (cached per model and source),
 * then look at what the model gets wrong — live at any confidence, per class, image by image — set
 * and save the per-class operating point, compare with a baseline, and send the hard images back to
 * the annotators as a CVAT batch.
 */
export function ReviewPage() {
  const page = useSpotter(selectPage);
  const openReview = useSpotter((s) => s.openReview);
  const params = page.name === 'review' ? page : null;
  const model = params?.model;
  const dataset = params?.dataset;
  const split = params?.split;
  const folder = params?.folder;
  useEffect(() => {
    openReview({ model, dataset, split, folder });
  }, [model, dataset, split, folder, openReview]);

  const status = useSpotter(selectReviewStatus);
  const set = useSpotter(selectReviewSet);
  return (
    <Stack gap="md" maw={1500} data-testid="review-page" data-status={status}>
      <Header />
      <Paper withBorder p="md" radius="md">
        <SourcePicker />
      </Paper>
      <PredictStatus />
      {set && <ReviewBody />}
    </Stack>
  );
}

function Header() {
  const info = useSpotter(selectReviewInfo);
  const set = useSpotter(selectReviewSet);
  return (
    <Stack gap={2}>
      <Group gap="sm">
        <Title order={2}>Review</Title>
        {info && (
          <>
            <Badge variant="light">{info.task}</Badge>
            <Badge variant="light" color="gray">
              {info.imgsz[0]}×{info.imgsz[1]}
            </Badge>
            <Badge variant="light" color="gray">
              {info.names.length} classes
            </Badge>
            <Text size="sm" className="mono" c="dimmed" data-testid="review-model">
              {info.path}
            </Text>
          </>
        )}
      </Group>
      {set && (
        <Text size="xs" c="dimmed" data-testid="review-set-info">
          {formatCount(set.images.length)} images ·{' '}
          {set.source.folder ? `folder ${set.source.folder}` : `${basename(set.source.dataset ?? '')} / ${set.source.split}`} · predicted{' '}
          {new Date(set.createdAt).toLocaleString()} in {set.seconds.toFixed(1)} s (kept down to {set.confFloor}, NMS IoU {set.iou})
        </Text>
      )}
    </Stack>
  );
}

function PredictStatus() {
  const status = useSpotter(selectReviewStatus);
  const error = useSpotter(selectReviewError);
  const job = useSpotter(selectPredictJob);
  const progress = useSpotter(selectPredictProgress);
  const source = useSpotter(selectReviewSource);
  const runPredict = useSpotter((s) => s.runPredict);
  const reload = useSpotter((s) => s.reloadReview);
  return (
    <>
      {progress && <JobProgress job={progress} />}
      {job?.status === 'failed' && (
        <Alert color="red" variant="light" icon={<IconAlert />} title="Predictions failed" data-testid="review-error">
          <Text size="sm" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
            {job.error}
          </Text>
        </Alert>
      )}
      {job?.status === 'cancelled' && (
        <Alert color="gray" variant="light">
          Predictions were cancelled.
        </Alert>
      )}
      {error && (
        <Alert color="red" variant="light" icon={<IconAlert />} data-testid="review-error">
          <Group justify="space-between" wrap="nowrap">
            <Text size="sm" style={{ wordBreak: 'break-word' }}>
              {error}
            </Text>
            {status === 'error' && (
              <Button size="compact-xs" variant="default" onClick={() => void reload()}>
                Retry
              </Button>
            )}
          </Group>
        </Alert>
      )}
      {status === 'loading' && (
        <Center h={120}>
          <Loader />
        </Center>
      )}
      {status === 'missing' && !progress && job?.status !== 'failed' && (
        <Alert color="blue" variant="light" data-testid="review-missing">
          <Group justify="space-between">
            <Text size="sm">This model has no predictions on this source yet.</Text>
            <Button size="xs" onClick={() => void runPredict(false)} disabled={!source}>
              Run predictions
            </Button>
          </Group>
        </Alert>
      )}
      {status === 'idle' && (
        <Text size="sm" c="dimmed">
          Pick a model and a source, then run predictions: they are cached per model and source, so coming back is instant.
        </Text>
      )}
    </>
  );
}

function ReviewBody() {
  const [viewer, setViewer] = useState<number | null>(null);
  const [batch, setBatch] = useState(false);
  const onOpen = useCallback((pos: number) => setViewer(pos), []);
  const onClose = useCallback(() => setViewer(null), []);
  const labelled = useSpotter(selectReviewLabelled);
  return (
    <>
      <Section title="Operating point">
        <ReviewControls />
      </Section>
      <Grid gutter="md">
        <Grid.Col span={{ base: 12, xl: 8 }}>
          <Section title="Per class">
            <ClassTable />
          </Section>
        </Grid.Col>
        <Grid.Col span={{ base: 12, xl: 4 }}>
          <Section title="Precision–recall">
            {labelled ? (
              <Suspense fallback={<Loader size="sm" />}>
                <PrCurve />
              </Suspense>
            ) : (
              <Text size="sm" c="dimmed">
                No ground truth on this source: no precision or recall. Pick a dataset split to measure; use this source to choose an
                unlabelled batch.
              </Text>
            )}
          </Section>
        </Grid.Col>
      </Grid>
      {labelled && (
        <Section title="Baseline vs candidate">
          <ComparePanel />
        </Section>
      )}
      <Section title="Images">
        <GalleryToolbar onBatch={() => setBatch(true)} />
        <ReviewGrid onOpen={onOpen} selected={viewer} />
      </Section>
      {viewer !== null && <ReviewViewer pos={viewer} onChange={setViewer} onClose={onClose} />}
      <BatchDialog opened={batch} onClose={() => setBatch(false)} />
    </>
  );
}
