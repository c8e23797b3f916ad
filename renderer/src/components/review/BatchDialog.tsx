import { useMemo, useState } from 'react';
import { Alert, Button, Code, Group, Modal, NumberInput, RangeSlider, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import { useSpotter } from '../../state/react';
import { selectBatchProgress, selectReviewBatch, selectReviewBatchError, selectReviewIou, selectReviewMatching, selectReviewOp } from '../../state/review';
import { JobProgress } from '../JobProgress';
import { formatCount, plural } from '../../lib/paths';
import { evaluateReview, type Operating, type ReviewMatching } from './evaluate';

type Mode = 'uncertain' | 'disagree' | 'unlabelled';

/** How many images of the set a selection picks (before the limit), estimated here from the matching. */
function selectionCount(m: ReviewMatching, mode: Mode, low: number, high: number, op: Operating): number {
  const images = m.set.images;
  if (mode === 'unlabelled') return images.reduce((n, im) => n + (im.gt ? 0 : 1), 0);
  if (mode === 'uncertain') return images.reduce((n, im) => n + (im.pred.some((p) => p.score >= low && p.score <= high) ? 1 : 0), 0);
  const ev = evaluateReview(m, op, null);
  let n = 0;
  for (let i = 0; i < images.length; i++) if (images[i]!.gt && ev.fp[i]! + ev.fn[i]! > 0) n++;
  return n;
}

/**
 * The next labelling batch: images the model is unsure about (a score within a band), that disagree
 * with the ground truth (FP or FN at the gallery's operating point — its confidence and per-class
 * thresholds — and the match IoU), or that have no labels; written with their predictions as
 * pre-annotations, as CVAT imports them (a class with its own threshold keeps it there too).
 */
export function BatchDialog({ opened, onClose }: { opened: boolean; onClose(): void }) {
  const m = useSpotter(selectReviewMatching);
  const op = useSpotter(selectReviewOp);
  const conf = op.conf;
  const ownThresholds = Object.entries(op.perClass);
  const iou = useSpotter(selectReviewIou);
  const batch = useSpotter(selectReviewBatch);
  const error = useSpotter(selectReviewBatchError);
  const progress = useSpotter(selectBatchProgress);
  const exportBatch = useSpotter((s) => s.exportBatch);
  const clear = useSpotter((s) => s.clearBatch);
  const labelled = m?.labelled ?? false;
  const [mode, setMode] = useState<Mode>(labelled ? 'uncertain' : 'unlabelled');
  const [band, setBand] = useState<[number, number]>([0.25, 0.6]);
  const [limit, setLimit] = useState<number>(200);
  const [format, setFormat] = useState<'cvat' | 'coco'>('cvat');
  const [preConf, setPreConf] = useState<number | null>(null);
  const [out, setOut] = useState('');
  const pre = preConf ?? conf;
  const matching = useMemo(() => (m ? selectionCount(m, mode, band[0], band[1], op) : 0), [m, mode, band, op]);
  const running = batch?.status === 'running';

  return (
    <Modal opened={opened} onClose={onClose} title="Next labelling batch for CVAT" size="lg" data-testid="batch-dialog">
      <Stack gap="sm">
        <SegmentedControl
          value={mode}
          onChange={(v) => setMode(v as Mode)}
          data={[
            { value: 'uncertain', label: 'Uncertain' },
            { value: 'disagree', label: 'Disagrees with labels', disabled: !labelled },
            { value: 'unlabelled', label: 'Unlabelled' },
          ]}
          data-testid="batch-mode"
        />
        {mode === 'uncertain' && (
          <Stack gap={4}>
            <Text size="sm">
              Images with a prediction scored between <b>{band[0].toFixed(2)}</b> and <b>{band[1].toFixed(2)}</b> (most uncertain first)
            </Text>
            <RangeSlider min={0} max={1} step={0.01} minRange={0.01} value={band} onChange={setBand} label={(v) => v.toFixed(2)} data-testid="batch-band" />
          </Stack>
        )}
        {mode === 'disagree' && (
          <Text size="sm">
            Images with a false positive or a missed box at confidence {conf.toFixed(2)}
            {ownThresholds.length > 0 && <> ({ownThresholds.map(([n, v]) => `${n} ${v.toFixed(2)}`).join(', ')})</>} and match IoU {iou.toFixed(2)} (most
            errors first).
          </Text>
        )}
        {mode === 'unlabelled' && <Text size="sm">Images without ground truth (a folder source, or images with no label file).</Text>}
        <Text size="sm" c="dimmed" data-testid="batch-estimate" data-count={matching}>
          {plural(matching, 'image matches', 'images match')}; the batch takes at most {formatCount(limit)}.
        </Text>
        <Group gap="sm" align="flex-end">
          <NumberInput label="Limit" min={1} max={10000} value={limit} onChange={(v) => typeof v === 'number' && setLimit(v)} w={110} data-testid="batch-limit" />
          <NumberInput
            label="Pre-annotations from score"
            description={ownThresholds.length > 0 ? 'classes with their own threshold: from that one' : undefined}
            min={0}
            max={1}
            step={0.05}
            decimalScale={2}
            value={pre}
            onChange={(v) => typeof v === 'number' && setPreConf(v)}
            w={200}
          />
          <Stack gap={2}>
            <Text size="sm" fw={500}>
              Format
            </Text>
            <SegmentedControl
              value={format}
              onChange={(v) => setFormat(v as 'cvat' | 'coco')}
              data={[
                { value: 'cvat', label: 'CVAT 1.1 XML' },
                { value: 'coco', label: 'COCO 1.0 zip' },
              ]}
              data-testid="batch-format"
            />
          </Stack>
        </Group>
        <TextInput
          label="Output folder"
          description="A path on the machine running Spotter; empty: the workspace's batches/"
          placeholder="(workspace)/batches"
          value={out}
          onChange={(e) => setOut(e.currentTarget.value)}
          classNames={{ input: 'mono' }}
          spellCheck={false}
          data-testid="batch-out"
        />
        {progress && <JobProgress job={progress} />}
        {error && (
          <Alert color="red" variant="light" p="xs" data-testid="batch-error">
            {error}
          </Alert>
        )}
        {batch?.status === 'failed' && (
          <Alert color="red" variant="light" title="The batch could not be written" data-testid="batch-error">
            {batch.error}
          </Alert>
        )}
        {batch?.status === 'cancelled' && (
          <Alert color="gray" variant="light">
            Cancelled; nothing was written.
          </Alert>
        )}
        {batch?.status === 'done' && batch.result && (
          <Alert color="green" variant="light" title="Batch written" data-testid="batch-result" data-images={batch.result.images} data-boxes={batch.result.boxes}>
            <Stack gap={4}>
              <Text size="sm">
                {plural(batch.result.images, 'image', 'images')} with {plural(batch.result.boxes, 'pre-annotated box', 'pre-annotated boxes')}
              </Text>
              <Text size="sm">
                Folder: <Code data-testid="batch-dir">{batch.result.dir}</Code>
              </Text>
              <Text size="sm">
                Upload to CVAT: <Code data-testid="batch-annotations">{batch.result.annotations}</Code>
              </Text>
            </Stack>
          </Alert>
        )}
        <Group justify="flex-end" gap="xs">
          {batch && !running && (
            <Button variant="default" onClick={clear}>
              New batch
            </Button>
          )}
          <Button
            onClick={() =>
              void exportBatch({
                selection: { mode, low: band[0], high: band[1], conf, perClass: op.perClass, iou, limit },
                format,
                conf: pre,
                out: out.trim() || undefined,
              })
            }
            loading={running}
            disabled={running || matching === 0}
            data-testid="batch-start"
          >
            Write the batch
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
