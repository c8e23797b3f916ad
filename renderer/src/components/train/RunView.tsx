import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import { Evaluations } from './Evaluations';
import { ExportMenu } from '../models/ExportMenu';
import { Accordion, Alert, Badge, Button, Center, Code, Group, Loader, Modal, Paper, Progress, SimpleGrid, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import type { PerClassMetrics, RunDetail, RunSummary } from '../../../../electron/shared/contract';
import { useSpotter, useTransport } from '../../state/react';
import {
  etaSeconds,
  selectEvalJob,
  selectEvalJobProgress,
  selectLive,
  selectRunActionBusy,
  selectRunActionError,
  selectRunComparison,
  selectRunDetail,
  selectRunDetailError,
  selectRunDir,
  selectRunJob,
  selectRunJobProgress,
  selectRunSummary,
  selectStopping,
  type LiveRun,
} from '../../state/runs';
import { selectDatasets } from '../../state/app';
import { IconAlert } from '../icons';
import { LogBox } from './TrainerEnvPanel';
import { epochTable } from './epochs';
import { baseName, bestWeightsOf, deltaMark, dirOf, f3, formatDuration, signed3, STATUS_COLOR, VERDICT_COLOR } from './format';

// ECharts is the largest dependency: loaded with the first run view.
const RunCharts = lazy(() => import('./RunCharts').then((m) => ({ default: m.RunCharts })));

/** How often a training run's folder is re-read for its log and results (seconds). */
const POLL_S = 5;

/** The selected run: progress with ETA, charts, log, and Stop / Resume / Fine-tune / Promote / Evaluate on test. */
export function RunView() {
  const dir = useSpotter(selectRunDir);
  const detail = useSpotter(selectRunDetail);
  const error = useSpotter(selectRunDetailError);
  const listed = useSpotter(selectRunSummary(dir));
  const job = useSpotter(selectRunJob(dir));
  const jobProgress = useSpotter(selectRunJobProgress(dir));
  const refreshRun = useSpotter((s) => s.refreshRun);
  // the list is fresher than the detail between two reads (runs.changed); a job of ours training
  // it (a resume that has not reported yet) makes it running
  const known = listed ?? detail?.summary ?? null;
  const summary = known && job?.status === 'running' && known.status !== 'running' ? { ...known, status: 'running' as const } : known;
  const running = summary?.status === 'running' || job?.status === 'running';

  // while it trains: re-read the folder for the log tail and results.csv
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => void refreshRun(), POLL_S * 1000);
    return () => clearInterval(t);
  }, [running, refreshRun]);

  if (!dir) return null;
  if (!summary) {
    if (job) {
      return (
        <Paper withBorder p="md" radius="md" data-testid="run-view" data-status={job.status === 'running' ? 'preparing' : job.status}>
          <Stack gap="sm">
            <Title order={4}>{baseName(dir)}</Title>
            {job.status === 'running' ? (
              <>
                <Text size="sm">Preparing the run: {jobProgress?.stage ?? 'starting'}…</Text>
                <Progress value={100} animated striped size="sm" aria-label="preparing" />
              </>
            ) : (
              <Alert color="red" variant="light" icon={<IconAlert />} title="The run did not start" data-testid="run-error">
                <Text size="sm" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
                  {job.error ?? job.status}
                </Text>
              </Alert>
            )}
          </Stack>
        </Paper>
      );
    }
    if (error) {
      return (
        <Alert color="red" variant="light" icon={<IconAlert />} title="Could not open the run" data-testid="run-error">
          <Text size="sm" style={{ wordBreak: 'break-word' }}>
            {error}
          </Text>
        </Alert>
      );
    }
    return (
      <Center h={200}>
        <Loader />
      </Center>
    );
  }
  return <RunBody dir={dir} summary={summary} detail={detail} />;
}

function RunBody({ dir, summary, detail }: { dir: string; summary: RunSummary; detail: RunDetail | null }) {
  const modelDeployed = useSpotter((s) => s.modelDeployed);
  const live = useSpotter(selectLive(dir));
  const job = useSpotter(selectRunJob(dir));
  const liveRows = live?.rows;
  const table = useMemo(() => epochTable(detail?.columns ?? [], detail?.rows ?? [], liveRows ?? {}), [detail?.columns, detail?.rows, liveRows]);
  const failure =
    summary.status === 'failed' || summary.status === 'crashed'
      ? (live?.error ? `${live.error.message}${live.error.hint ? ` — ${live.error.hint}` : ''}` : null) ??
        (job?.status === 'failed' ? job.error : null) ??
        (detail?.lastEvent?.type === 'error' ? `${detail.lastEvent.message}${detail.lastEvent.hint ? ` — ${detail.lastEvent.hint}` : ''}` : null)
      : null;

  return (
    <Paper withBorder p="md" radius="md" data-testid="run-view" data-status={summary.status} data-dir={dir}>
      <Stack gap="md">
        <RunHeader summary={summary} />
        {summary.status === 'failed' && (
          <Alert color="red" variant="light" icon={<IconAlert />} title="Training failed" data-testid="run-error">
            <Text size="sm" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
              {failure ?? 'See the log below and train.log in the run folder.'}
            </Text>
          </Alert>
        )}
        {summary.status === 'crashed' && (
          <Alert color="orange" variant="light" icon={<IconAlert />} title="The training process ended without finishing">
            <Text size="sm">
              {failure ?? 'The app or the computer may have stopped while it trained.'} Resume continues from the last checkpoint (weights/last.pt).
            </Text>
          </Alert>
        )}
        <RunProgress summary={summary} live={live} device={live?.device ?? (detail?.args.device !== undefined ? String(detail.args.device) : null)} />
        <MetricsRow summary={summary} />
        <TestEvaluation dir={dir} />
        <Evaluations summary={summary} />
        <Comparison dir={dir} />
        <Suspense fallback={<Loader size="sm" />}>
          <RunCharts table={table} />
        </Suspense>
        {detail && detail.perClass.length > 0 && <PerClass rows={detail.perClass} note="final validation of best.pt" testId="run-per-class" />}
        <Stack gap={4}>
          <Text size="sm" fw={600}>
            Log <Text span size="xs" c="dimmed">(train.log, last lines{summary.status === 'running' ? `, refreshed every ${POLL_S} s` : ''})</Text>
          </Text>
          <LogBox lines={detail?.logTail ?? ''} testId="run-log" height={240} />
        </Stack>
        {(summary.status === 'done' || summary.status === 'stopped') && <ExportMenu run={summary} onDeployed={modelDeployed} />}
        {detail && <RunFiles summary={summary} detail={detail} />}
      </Stack>
    </Paper>
  );
}

function RunHeader({ summary }: { summary: RunSummary }) {
  const busy = useSpotter(selectRunActionBusy);
  const actionError = useSpotter(selectRunActionError);
  const stopping = useSpotter(selectStopping(summary.dir));
  const stopRun = useSpotter((s) => s.stopRun);
  const resumeRun = useSpotter((s) => s.resumeRun);
  const setBaseline = useSpotter((s) => s.setBaseline);
  const openWizard = useSpotter((s) => s.openWizard);
  const evaluateRun = useSpotter((s) => s.evaluateRun);
  const evalJob = useSpotter(selectEvalJob(summary.dir));
  const [confirmEval, setConfirmEval] = useState(false);
  const [reviewHint, setReviewHint] = useState<string | null>(null);
  const datasets = useSpotter(selectDatasets);
  const running = summary.status === 'running';
  const resumable = summary.status === 'stopped' || summary.status === 'crashed' || summary.status === 'failed';
  const hasWeights = summary.epochsCompleted > 0;
  // the final check: only for a run that has ended with weights
  const evaluable = (summary.status === 'done' || summary.status === 'stopped') && hasWeights;
  const evaluating = evalJob?.status === 'running';

  const fineTune = () => {
    // the same dataset when it is one of the workspace's
    const ds = datasets?.find((d) => d.dir === dirOf(summary.dataset) || d.dir === summary.dataset);
    openWizard(
      // at the size its weights learnt; the rest as the wizard holds it
      { modelSource: 'run', runWeights: bestWeightsOf(summary.dir), ...(ds && { dataset: ds.dir }), ...(summary.imgsz > 0 && { imgsz: summary.imgsz }), label: `${summary.label}-ft`, note: `Fine-tuned from ${summary.name}.` },
      1,
    );
  };

  return (
    <Stack gap={6}>
      <Group justify="space-between" align="flex-start" wrap="nowrap">
        <Stack gap={2} style={{ minWidth: 0 }}>
          <Group gap="xs">
            <Title order={3} data-testid="run-label">
              {summary.isBaseline && (
                <Text span c="yellow.6" title="baseline" mr={6}>
                  ★
                </Text>
              )}
              {summary.label}
            </Title>
            <Badge color={STATUS_COLOR[summary.status]} variant="filled" data-testid="run-status" data-status={summary.status}>
              {stopping && running ? 'stopping' : summary.status}
            </Badge>
            {summary.testEvaluated && (
              <Tooltip label="The test split was evaluated in this run: it has been used for a decision">
                <Badge color="orange" variant="light" data-testid="run-test-evaluated">
                  test evaluated
                </Badge>
              </Tooltip>
            )}
          </Group>
          <Text size="xs" c="dimmed" className="mono" data-testid="run-dir">
            {summary.dir}
          </Text>
          <Text size="sm" c="dimmed">
            {baseName(summary.model)} · imgsz {summary.imgsz} · {baseName(dirOf(summary.dataset))} · started {new Date(summary.createdAt).toLocaleString()}
          </Text>
          {summary.note && (
            <Text size="sm" fs="italic">
              “{summary.note}”
            </Text>
          )}
        </Stack>
        <Group gap="xs" wrap="nowrap">
          {running && (
            <Button color="red" variant="light" onClick={() => void stopRun(summary.dir)} loading={busy === 'stop'} disabled={stopping} data-testid="run-stop">
              {stopping ? 'Stopping…' : 'Stop'}
            </Button>
          )}
          {resumable && (
            <Button variant="light" onClick={() => void resumeRun(summary.dir)} loading={busy === 'resume'} data-testid="run-resume">
              Resume
            </Button>
          )}
          {evaluable && (
            <Button variant="default" onClick={() => setConfirmEval(true)} loading={evaluating} data-testid="run-evaluate-test">
              Evaluate on test split
            </Button>
          )}
          {evaluable && <ReviewPredictionsButton summary={summary} onHint={setReviewHint} />}
          <Button variant="default" onClick={fineTune} disabled={!hasWeights || running} data-testid="run-finetune">
            Fine-tune from this
          </Button>
          {summary.isBaseline ? (
            <Button variant="subtle" color="gray" onClick={() => void setBaseline(null)} loading={busy === 'baseline'} data-testid="run-unbaseline">
              Unset baseline
            </Button>
          ) : (
            <Button variant="default" onClick={() => void setBaseline(summary.dir)} loading={busy === 'baseline'} disabled={!summary.metrics} data-testid="run-baseline">
              ★ Promote to baseline
            </Button>
          )}
        </Group>
      </Group>
      {stopping && running && (
        <Text size="sm" c="dimmed">
          Stopping gracefully: the current epoch ends, is validated and saved; last.pt and best.pt stay valid.
        </Text>
      )}
      {reviewHint && (
        <Alert color="orange" variant="light" icon={<IconAlert />} p="xs" withCloseButton onClose={() => setReviewHint(null)} data-testid="run-review-hint">
          {reviewHint}
        </Alert>
      )}
      {actionError && (
        <Alert color="red" variant="light" icon={<IconAlert />} p="xs" data-testid="run-action-error">
          {actionError}
        </Alert>
      )}
      <Modal opened={confirmEval} onClose={() => setConfirmEval(false)} title="Evaluate on the test split?" centered data-testid="evaluate-confirm-modal">
        <Stack gap="md">
          <Text size="sm">
            The test split is for the final check: an unbiased estimate of how the chosen model does on data it has never influenced. Evaluate on it
            once, when every decision (model, settings, which run to keep) has been made on the val split.
          </Text>
          <Text size="sm">
            Using its numbers for a decision makes it a validation set: they stop being an unbiased final check. The evaluation is recorded in this run
            (eval-test.json, summary.md), and Spotter will warn wherever this dataset is used for training.
          </Text>
          {summary.testEvaluated && (
            <Text size="sm" c="orange">
              This run has already been evaluated on the test split.
            </Text>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirmEval(false)}>
              Cancel
            </Button>
            <Button
              color="orange"
              onClick={() => {
                setConfirmEval(false);
                void evaluateRun(summary.dir);
              }}
              data-testid="evaluate-confirm"
            >
              Evaluate on test
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

/** The test-split evaluation this window ran on the run: its progress, then its metrics. */
function TestEvaluation({ dir }: { dir: string }) {
  const job = useSpotter(selectEvalJob(dir));
  const progress = useSpotter(selectEvalJobProgress(dir));
  if (!job) return null;
  if (job.status === 'running') {
    return (
      <Stack gap={4} data-testid="run-evaluation" data-status="running">
        <Text size="sm">Evaluating best.pt on the test split: {progress?.stage ?? 'starting'}…</Text>
        <Progress value={100} animated striped size="sm" color="orange" aria-label="evaluating on the test split" />
      </Stack>
    );
  }
  if (job.status !== 'done' || !job.result) {
    return (
      <Alert color="red" variant="light" icon={<IconAlert />} title="The evaluation on the test split did not finish" data-testid="run-evaluation" data-status={job.status}>
        <Text size="sm" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
          {job.error ?? job.status}
        </Text>
      </Alert>
    );
  }
  const { metrics, perClass, file } = job.result;
  const items: Array<[string, number | undefined]> = [
    ['mAP50-95', metrics?.mAP50_95],
    ['mAP50', metrics?.mAP50],
    ['P', metrics?.precision],
    ['R', metrics?.recall],
  ];
  return (
    <Paper withBorder p="sm" radius="md" data-testid="run-evaluation" data-status="done">
      <Stack gap={6}>
        <Group gap="xs">
          <Text size="sm" fw={600}>
            Test split (final check)
          </Text>
          <Badge color="orange" variant="light">
            test evaluated
          </Badge>
          <Text size="xs" c="dimmed" className="mono">
            {file}
          </Text>
        </Group>
        <Group gap="xl" data-testid="run-evaluation-metrics">
          {items.map(([k, v]) => (
            <Stack key={k} gap={0}>
              <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
                {k}
              </Text>
              <Text size="lg" fw={700} ff="monospace">
                {f3(v)}
              </Text>
            </Stack>
          ))}
        </Group>
        {perClass.length > 0 && <PerClass rows={perClass} note="best.pt on the test split" testId="run-evaluation-per-class" />}
      </Stack>
    </Paper>
  );
}

/** Epoch and batch bars with the ETA, the device and GPU memory. Re-renders every second while running (ETA). */
function RunProgress({ summary, live, device }: { summary: RunSummary; live: LiveRun | undefined; device: string | null }) {
  const running = summary.status === 'running';
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [running]);
  const epochs = (running && live?.epochs) || summary.epochs || live?.epochs || 0;
  const done = Math.min(epochs || Infinity, Math.max(summary.epochsCompleted, live?.epochsDone ?? 0));
  const current = running && live && live.epoch > done ? live.epoch : done;
  const inEpoch = running && live && live.batches > 0 && live.epoch > done;
  const batchPct = inEpoch ? (live.batch / live.batches) * 100 : 0;
  const epochPct = epochs ? ((done + (inEpoch ? live.batch / live.batches : 0)) / epochs) * 100 : 0;
  const eta = running && live ? etaSeconds(live, now) : null;

  return (
    <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
      <Stack gap={4} data-testid="epoch-progress" data-done={done} data-epochs={epochs} data-current={current}>
        <Group justify="space-between">
          <Text size="sm" fw={600}>
            {running && inEpoch ? `Epoch ${current} / ${epochs}` : `${done} / ${epochs} epochs`}
          </Text>
          <Text size="sm" c="dimmed" data-testid="run-eta">
            {running
              ? eta !== null
                ? `about ${formatDuration(eta)} left`
                : inEpoch
                  ? 'estimating the time left…'
                  : (live?.stage ?? 'starting…')
              : `took ${formatDuration(summary.durationSeconds)}`}
          </Text>
        </Group>
        <Progress value={epochPct} size="lg" color={STATUS_COLOR[summary.status]} aria-label="epochs" transitionDuration={200} />
      </Stack>
      {running ? (
        <Stack gap={4} data-testid="batch-progress">
          <Group justify="space-between" wrap="nowrap">
            <Text size="sm" fw={600} truncate>
              {inEpoch ? `Batch ${live.batch} / ${live.batches}` : (live?.stage ?? 'Waiting for the first batch')}
            </Text>
            <Text size="sm" c="dimmed" data-testid="run-gpu" style={{ flexShrink: 0 }}>
              {[device, live?.gpuMemGb !== null && live?.gpuMemGb !== undefined ? `GPU memory ${live.gpuMemGb.toFixed(2)} GB` : device === 'cpu' ? null : 'GPU memory —']
                .filter(Boolean)
                .join(' · ')}
            </Text>
          </Group>
          <Progress
            value={inEpoch ? batchPct : 100}
            animated={!inEpoch}
            striped={!inEpoch}
            size="lg"
            color="gray"
            aria-label="batches of this epoch"
            transitionDuration={200}
          />
        </Stack>
      ) : (
        <Stack gap={4} justify="center">
          <Text size="sm" c="dimmed">
            {summary.status === 'done'
              ? `Finished: ${summary.epochsCompleted} of ${summary.epochs} epochs${summary.epochsCompleted < summary.epochs ? ' (early stop: no improvement within patience)' : ''}.`
              : summary.status === 'stopped'
                ? `Stopped after ${summary.epochsCompleted} epochs; Resume continues from weights/last.pt.`
                : `Ended after ${summary.epochsCompleted} epochs.`}
            {live?.gpuMemGb ? ` GPU memory at the end: ${live.gpuMemGb.toFixed(2)} GB.` : ''}
          </Text>
        </Stack>
      )}
    </SimpleGrid>
  );
}

function MetricsRow({ summary }: { summary: RunSummary }) {
  const m = summary.metrics;
  const items: Array<[string, number | undefined]> = [
    ['mAP50-95', m?.mAP50_95],
    ['mAP50', m?.mAP50],
    ['precision', m?.precision],
    ['recall', m?.recall],
  ];
  return (
    <Group gap="xl" data-testid="run-metrics">
      {items.map(([k, v]) => (
        <Stack key={k} gap={0}>
          <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
            {k}
          </Text>
          <Text size="xl" fw={700} ff="monospace">
            {f3(v)}
          </Text>
        </Stack>
      ))}
      <Text size="xs" c="dimmed" maw={320}>
        {summary.status === 'done' ? 'final validation of best.pt on the val split' : 'best epoch so far, on the val split'}
      </Text>
    </Group>
  );
}

function DeltaText({ d }: { d: { delta: number } }) {
  const mark = deltaMark(d.delta);
  return (
    <Text span c={mark === '↑' ? 'green' : mark === '↓' ? 'red' : 'dimmed'} ff="monospace" size="sm">
      {mark} {signed3(d.delta)}
    </Text>
  );
}

/** This run against the baseline: metric deltas, the verdict, per-class AP. */
function Comparison({ dir }: { dir: string }) {
  const cmp = useSpotter(selectRunComparison(dir));
  if (!cmp) return null;
  const keys = [
    ['mAP50_95', 'mAP50-95'],
    ['mAP50', 'mAP50'],
    ['precision', 'P'],
    ['recall', 'R'],
  ] as const;
  return (
    <Paper withBorder p="sm" radius="md" data-testid="run-comparison" data-verdict={cmp.verdict}>
      <Stack gap={6}>
        <Group gap="xs">
          <Text size="sm" fw={600}>
            Against the baseline
          </Text>
          <Badge color={VERDICT_COLOR[cmp.verdict]} variant={cmp.verdict === 'degraded' ? 'filled' : 'light'}>
            {cmp.verdict}
          </Badge>
        </Group>
        <Group gap="lg">
          {keys.map(([k, label]) => (
            <Text key={k} size="sm">
              {label} {f3(cmp.metrics[k].base)} → {f3(cmp.metrics[k].run)} <DeltaText d={cmp.metrics[k]} />
            </Text>
          ))}
        </Group>
        {cmp.perClass.length > 0 && (
          <Table fz="sm" verticalSpacing={2} withRowBorders={false}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>class</Table.Th>
                <Table.Th>AP50</Table.Th>
                <Table.Th>AP50-95</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {cmp.perClass.map((c) => (
                <Table.Tr key={c.name}>
                  <Table.Td>{c.name}</Table.Td>
                  <Table.Td>{c.ap50 ? <>{f3(c.ap50.run)} <DeltaText d={c.ap50} /></> : <Text span c="dimmed" size="sm">only in one run</Text>}</Table.Td>
                  <Table.Td>{c.ap50_95 ? <>{f3(c.ap50_95.run)} <DeltaText d={c.ap50_95} /></> : <Text span c="dimmed" size="sm">only in one run</Text>}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Stack>
    </Paper>
  );
}

function PerClass({ rows, note, testId }: { rows: PerClassMetrics[]; note: string; testId: string }) {
  return (
    <Stack gap={4}>
      <Text size="sm" fw={600}>
        Per class <Text span size="xs" c="dimmed">({note})</Text>
      </Text>
      <Table fz="sm" verticalSpacing={2} striped data-testid={testId}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>class</Table.Th>
            <Table.Th ta="right">images</Table.Th>
            <Table.Th ta="right">instances</Table.Th>
            <Table.Th ta="right">P</Table.Th>
            <Table.Th ta="right">R</Table.Th>
            <Table.Th ta="right">AP50</Table.Th>
            <Table.Th ta="right">AP50-95</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((c) => (
            <Table.Tr key={c.name}>
              <Table.Td>{c.name}</Table.Td>
              <Table.Td ta="right">{c.images}</Table.Td>
              <Table.Td ta="right">{c.instances}</Table.Td>
              <Table.Td ta="right">{f3(c.p)}</Table.Td>
              <Table.Td ta="right">{f3(c.r)}</Table.Td>
              <Table.Td ta="right">{f3(c.ap50)}</Table.Td>
              <Table.Td ta="right">{f3(c.ap50_95)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}

/**
 * Opens the review gallery on this run's ONNX export and its dataset's val split. The gallery runs ONNX
 * models: without an export of this run, it says so and points at the export menu below.
 */
function ReviewPredictionsButton({ summary, onHint: setHint }: { summary: RunSummary; onHint(hint: string | null): void }) {
  const transport = useTransport();
  const navigate = useSpotter((s) => s.navigate);
  const datasets = useSpotter(selectDatasets);
  const [busy, setBusy] = useState(false);
  const open = async () => {
    setBusy(true);
    setHint(null);
    try {
      const models = await transport.call('review.models', {});
      const own = models.filter((m) => m.origin === 'run' && dirOf(dirOf(m.path)) === summary.dir && m.path.endsWith('.onnx'));
      const model = own.find((m) => baseName(m.path) === 'best.onnx') ?? own[0];
      if (!model) {
        setHint('This run has no ONNX export yet: export ONNX under "Export and deploy" below, then review its predictions.');
        return;
      }
      const ds = datasets?.find((d) => d.dir === dirOf(summary.dataset) || d.dir === summary.dataset);
      navigate({ name: 'review', model: model.path, dataset: ds?.dir ?? dirOf(summary.dataset), split: 'val' });
    } catch (err) {
      setHint((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Tooltip label="This run's ONNX export on its dataset's val split, against the ground truth: errors per image, per class, at any threshold" multiline w={300}>
      <Button variant="default" onClick={() => void open()} loading={busy} data-testid="run-review">
        Review predictions
      </Button>
    </Tooltip>
  );
}

function RunFiles({ summary, detail }: { summary: RunSummary; detail: RunDetail }) {
  return (
    <Accordion variant="separated" multiple>
      <Accordion.Item value="command">
        <Accordion.Control>command.sh — the same training without Spotter</Accordion.Control>
        <Accordion.Panel>
          <Code block style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }} data-testid="run-command">
            {detail.commandSh || '(not written yet)'}
          </Code>
        </Accordion.Panel>
      </Accordion.Item>
      {detail.summaryMd && (
        <Accordion.Item value="summary">
          <Accordion.Control>summary.md</Accordion.Control>
          <Accordion.Panel>
            <Code block style={{ whiteSpace: 'pre-wrap' }}>
              {detail.summaryMd}
            </Code>
          </Accordion.Panel>
        </Accordion.Item>
      )}
      <Accordion.Item value="data">
        <Accordion.Control>Data</Accordion.Control>
        <Accordion.Panel>
          <Text size="sm" className="mono">
            {summary.dataset}
          </Text>
          {summary.datasetHash && (
            <Text size="xs" c="dimmed" className="mono">
              content hash {summary.datasetHash}
            </Text>
          )}
        </Accordion.Panel>
      </Accordion.Item>
    </Accordion>
  );
}
