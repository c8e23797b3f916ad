import { useMemo } from 'react';
import { Alert, Group, NumberInput, Paper, Slider, Stack, Text, Tooltip } from '@mantine/core';
import { useSpotter } from '../../state/react';
import { selectReviewConf, selectReviewEval, selectReviewIou, selectReviewLabelled, selectReviewOp, selectReviewSet, selectReviewTotals } from '../../state/review';
import { formatCount } from '../../lib/paths';
import { fmt } from './format';
import { leakPrice } from '../../../../electron/shared/review-metrics';
import './review.css';

/** The confidence slider (live), the matching IoU, and the totals at that operating point. */
export function ReviewControls() {
  const conf = useSpotter(selectReviewConf);
  const op = useSpotter(selectReviewOp);
  const iou = useSpotter(selectReviewIou);
  const set = useSpotter(selectReviewSet);
  const setConf = useSpotter((s) => s.setReviewConf);
  const setIou = useSpotter((s) => s.setReviewIou);
  const labelled = useSpotter(selectReviewLabelled);
  const floor = set?.confFloor ?? 0;
  // whole hundredths on the slider (a floor of 0.001 would make every step 0.x01)
  const min = Math.min(Math.floor(floor * 100) / 100, 0.99);
  const custom = Object.keys(op.perClass).length;
  return (
    <Stack gap="sm">
      <Group align="flex-end" gap="lg" wrap="nowrap">
        <Stack gap={4} style={{ flex: 1 }}>
          <Group justify="space-between" gap="xs">
            <Text size="sm" fw={500}>
              Confidence threshold
            </Text>
            <Text size="sm" ff="monospace" data-testid="conf-value">
              {conf.toFixed(2)}
            </Text>
          </Group>
          <Slider
            min={min}
            max={1}
            step={0.01}
            value={conf}
            onChange={setConf}
            label={(v) => v.toFixed(2)}
            marks={[{ value: 0.25 }, { value: 0.5 }, { value: 0.75 }]}
            data-testid="conf-slider"
            thumbLabel="confidence threshold"
          />
          <Text size="xs" c="dimmed">
            {custom > 0
              ? `${custom} ${custom === 1 ? 'class has its' : 'classes have their'} own threshold (table below); the slider sets the others.`
              : `Every class at ${conf.toFixed(2)}.`}{' '}
            Predictions were kept down to {floor < 0.01 ? floor.toFixed(3) : floor.toFixed(2)}.
          </Text>
        </Stack>
        {labelled && (
          <Tooltip label="A prediction matches a ground-truth box of its class when they overlap at least this much (IoU); matching is redone when it changes." multiline w={260} withArrow>
            <NumberInput
              label="Match IoU"
              size="sm"
              w={100}
              min={0.1}
              max={0.95}
              step={0.05}
              decimalScale={2}
              value={iou}
              onChange={(v) => typeof v === 'number' && v >= 0.1 && v <= 0.95 && setIou(Math.round(v * 100) / 100)}
              data-testid="iou-input"
            />
          </Tooltip>
        )}
      </Group>
      <Totals />
      <LeakPriceView />
    </Stack>
  );
}

/** The leak's price: the same metrics on the val/test images with a twin in train and on those without one. */
function LeakPriceView() {
  const set = useSpotter(selectReviewSet);
  const price = useMemo(() => (set ? leakPrice(set) : null), [set]);
  if (!price) return null;
  const { all, withTwin, without } = price;
  if (withTwin.images === 0) {
    return (
      <Text size="xs" c="dimmed" data-testid="leak-price" data-twins={0}>
        None of these {formatCount(all.images)} images has a twin in train (by the dataset's leak audit): the numbers above are not inflated by a leak.
      </Text>
    );
  }
  return (
    <Alert color="orange" variant="light" p="xs" data-testid="leak-price" data-twins={withTwin.images} title="The leak's price">
      <Text size="sm">
        mAP50-95 on all {formatCount(all.images)} images is {fmt(all.map50_95)}; on the {formatCount(withTwin.images)} that have a twin in train (a near-duplicate,
        group member or neighbouring frame) it is {fmt(withTwin.map50_95)}
        {without.images > 0 ? `, and on the ${formatCount(without.images)} with none ${fmt(without.map50_95)}` : ', and no image here is free of one'} (mAP50: all{' '}
        {fmt(all.map50)}, with a twin {fmt(withTwin.map50)}
        {without.images > 0 ? `, without ${fmt(without.map50)}` : ''}).{' '}
        {without.images > 0 ? 'The images without a twin are what a new video or scene would score.' : 'This split cannot tell how the model does on a new video or scene.'}
      </Text>
    </Alert>
  );
}

function Stat({ label, value, color, testid, hint }: { label: string; value: string; color?: string; testid: string; hint?: string }) {
  return (
    <Paper withBorder px="sm" py={6} radius="sm" className="rv-stat" title={hint}>
      <Text size="xs" c="dimmed" fw={600} tt="uppercase">
        {label}
      </Text>
      <div className="rv-stat-value" style={color ? { color } : undefined} data-testid={testid}>
        {value}
      </div>
    </Paper>
  );
}

function Totals() {
  const t = useSpotter(selectReviewTotals);
  const ev = useSpotter(selectReviewEval);
  const set = useSpotter(selectReviewSet);
  const labelled = useSpotter(selectReviewLabelled);
  if (!t || !ev || !set) return null;
  if (!labelled) {
    return (
      <Group gap="xs" data-testid="review-totals" data-tp={t.tp} data-fp={t.fp} data-fn={t.fn}>
        <Stat label="Images" value={formatCount(set.images.length)} testid="review-images" />
        <Stat label="Predictions kept" value={formatCount(t.unlabelledDetections)} testid="review-unlabelled-det" hint="at or above the threshold; no ground truth to judge them by" />
        <Stat label="Images with any" value={formatCount(ev.det.reduce((n, d) => n + (d > 0 ? 1 : 0), 0))} testid="review-det-images" />
      </Group>
    );
  }
  return (
    <Group gap="xs" data-testid="review-totals" data-tp={t.tp} data-fp={t.fp} data-fn={t.fn}>
      <Stat label="Images" value={formatCount(set.images.length)} testid="review-images" />
      <Stat label="TP" value={formatCount(t.tp)} color="var(--mantine-color-green-7)" testid="review-tp" hint="true positives: predictions that match a ground-truth box" />
      <Stat label="FP" value={formatCount(t.fp)} color="var(--mantine-color-orange-7)" testid="review-fp" hint="false positives: predictions that match nothing" />
      <Stat label="FN" value={formatCount(t.fn)} color="var(--mantine-color-red-7)" testid="review-fn" hint="false negatives: ground-truth boxes no prediction found" />
      <Stat label="Precision" value={fmt(t.precision)} testid="review-precision" />
      <Stat label="Recall" value={fmt(t.recall)} testid="review-recall" />
      <Stat label="F1" value={fmt(t.f1)} testid="review-f1" />
      <Stat label="mAP50" value={fmt(t.map50)} testid="review-map50" hint="mean AP at IoU 0.50 over the classes with ground truth (Ultralytics' way); does not depend on the confidence threshold" />
      <Stat label="mAP50-95" value={fmt(t.map50_95)} testid="review-map" hint="mean AP over IoU 0.50–0.95" />
      <Stat label="With errors" value={formatCount(t.imagesWithErrors)} testid="review-error-images" hint="images with at least one FP or FN" />
      {t.unlabelledDetections > 0 && (
        <Stat label="On unlabelled" value={formatCount(t.unlabelledDetections)} testid="review-unlabelled-det" hint="predictions kept on images without ground truth" />
      )}
    </Group>
  );
}
