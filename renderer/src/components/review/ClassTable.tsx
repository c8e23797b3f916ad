import { useState } from 'react';
import { Alert, Anchor, Badge, Button, Group, NumberInput, Stack, Table, Text, Tooltip } from '@mantine/core';
import { useSpotter } from '../../state/react';
import { selectClassRows, selectReviewConf, selectReviewFocus, selectReviewLabelled, selectReviewInfo, selectReviewSave, selectThresholdsDirty } from '../../state/review';
import { classColor } from '../../lib/palette';
import { formatCount } from '../../lib/paths';
import type { ClassRow } from './evaluate';
import { fmt } from './format';
import './review.css';

/**
 * Per class at the operating point: its threshold (its own, or the slider's), GT/TP/FP/FN, P, R, F1
 * and AP50 / AP50-95. "Suggest F1-optimal" sets every class with ground truth to the threshold
 * where its F1 peaks; Save writes the operating point into the model card beside the ONNX.
 */
const EXTRA_SHOWN = 6;

export function ClassTable() {
  const rows = useSpotter(selectClassRows);
  const focus = useSpotter(selectReviewFocus);
  const setFocus = useSpotter((s) => s.setReviewFocus);
  const [allExtra, setAllExtra] = useState(false);
  const labelled = useSpotter(selectReviewLabelled);
  if (!rows) return null;
  if (!labelled) return <DetectionTable rows={rows} />;
  const own = rows.filter((r) => r.inDataset);
  // the model's other classes: only those it predicts at this threshold (or that have their own),
  // most false positives first; a COCO model on microscopy has dozens: the first few, then "more"
  const extraAll = rows.filter((r) => !r.inDataset && (r.tp + r.fp > 0 || r.custom)).sort((a, b) => b.fp - a.fp || a.cls - b.cls);
  const extra = allExtra ? extraAll : extraAll.slice(0, EXTRA_SHOWN);
  const hidden = extraAll.slice(extra.length);
  const row = (r: ClassRow) => (
    <Table.Tr key={r.cls} data-testid="class-row" data-class={r.name} data-tp={r.tp} data-fp={r.fp} data-fn={r.fn} bg={focus === r.cls ? 'var(--mantine-color-blue-light)' : undefined}>
      <Table.Td>
        <Group gap={6} wrap="nowrap">
          <span className="rv-swatch" style={{ background: classColor(r.cls) }} />
          <Text
            size="sm"
            style={{ cursor: 'pointer' }}
            td={focus === r.cls ? 'underline' : undefined}
            onClick={() => setFocus(focus === r.cls ? null : r.cls)}
            title="show only this class in the gallery"
          >
            {r.name}
          </Text>
        </Group>
      </Table.Td>
      <Table.Td>
        <ThresholdInput row={r} marked />
      </Table.Td>
      <Table.Td>{formatCount(r.gt)}</Table.Td>
      <Table.Td c="green.7">{formatCount(r.tp)}</Table.Td>
      <Table.Td c="orange.7">{formatCount(r.fp)}</Table.Td>
      <Table.Td c="red.7">{formatCount(r.fn)}</Table.Td>
      <Table.Td>{fmt(r.precision)}</Table.Td>
      <Table.Td>{fmt(r.recall)}</Table.Td>
      <Table.Td>{fmt(r.f1)}</Table.Td>
      <Table.Td>{fmt(r.ap50)}</Table.Td>
      <Table.Td>{fmt(r.ap50_95)}</Table.Td>
    </Table.Tr>
  );
  return (
    <Stack gap="xs">
      <Table.ScrollContainer minWidth={640}>
        <Table striped highlightOnHover className="rv-table" data-testid="class-table" verticalSpacing={4} horizontalSpacing={8}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Class</Table.Th>
              <Table.Th>Threshold</Table.Th>
              <Table.Th>GT</Table.Th>
              <Table.Th>TP</Table.Th>
              <Table.Th>FP</Table.Th>
              <Table.Th>FN</Table.Th>
              <Table.Th>P</Table.Th>
              <Table.Th>R</Table.Th>
              <Table.Th>F1</Table.Th>
              <Table.Th>
                <Tooltip label="average precision at IoU 0.50 (Ultralytics' way): the area under the PR curve, whatever the threshold and the match IoU" withArrow multiline w={260}>
                  <span>AP50</span>
                </Tooltip>
              </Table.Th>
              <Table.Th>AP50-95</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {own.map(row)}
            {extra.length > 0 && (
              <Table.Tr>
                <Table.Td colSpan={11} style={{ whiteSpace: 'normal' }}>
                  <Text size="xs" c="dimmed">
                    The model's {extraAll.length} other classes it predicts here (the dataset does not have them: every prediction is a false positive)
                    {extraAll.length > EXTRA_SHOWN && (
                      <>
                        {' · '}
                        <Anchor component="button" size="xs" onClick={() => setAllExtra(!allExtra)} data-testid="class-extra-toggle">
                          {allExtra ? 'show fewer' : `show all ${extraAll.length}`}
                        </Anchor>
                      </>
                    )}
                  </Text>
                </Table.Td>
              </Table.Tr>
            )}
            {extra.map(row)}
            {hidden.length > 0 && (
              <Table.Tr>
                <Table.Td colSpan={11} style={{ whiteSpace: 'normal' }}>
                  <Text size="xs" c="dimmed">
                    + {hidden.length} more: {hidden.reduce((n, r) => n + r.fp, 0)} FP ({hidden.map((r) => r.name).slice(0, 8).join(', ')}
                    {hidden.length > 8 ? ', …' : ''})
                  </Text>
                </Table.Td>
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <ThresholdActions />
    </Stack>
  );
}

/** A source without ground truth: per class, what the model keeps at its threshold. */
function DetectionTable({ rows }: { rows: ClassRow[] }) {
  const shown = rows.filter((r) => r.det > 0 || r.custom).sort((a, b) => b.det - a.det || a.cls - b.cls);
  return (
    <Stack gap="xs">
      <Text size="xs" c="dimmed">
        No ground truth on this source: nothing is right or wrong, these are the predictions kept per class.
      </Text>
      <Table striped className="rv-table" data-testid="class-table" verticalSpacing={4} horizontalSpacing={8}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Class</Table.Th>
            <Table.Th>Threshold</Table.Th>
            <Table.Th>Kept</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {shown.map((r) => (
            <Table.Tr key={r.cls} data-testid="class-row" data-class={r.name} data-det={r.det}>
              <Table.Td>
                <Group gap={6} wrap="nowrap">
                  <span className="rv-swatch" style={{ background: classColor(r.cls) }} />
                  <Text size="sm">{r.name}</Text>
                </Group>
              </Table.Td>
              <Table.Td>
                <ThresholdInput row={r} />
              </Table.Td>
              <Table.Td>{formatCount(r.det)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {!shown.length && (
        <Text size="sm" c="dimmed">
          Nothing kept at this threshold.
        </Text>
      )}
      <ThresholdActions />
    </Stack>
  );
}

/**
 * A class's own threshold (empty: the slider's, shown as the placeholder); clearing it or typing a
 * value outside [0, 1] drops the class's own. `marked`: with its test id, bold when the class has its own.
 */
function ThresholdInput({ row: r, marked = false }: { row: ClassRow; marked?: boolean }) {
  const conf = useSpotter(selectReviewConf);
  const setThreshold = useSpotter((s) => s.setClassThreshold);
  return (
    <NumberInput
      size="xs"
      w={78}
      min={0}
      max={1}
      step={0.01}
      decimalScale={3}
      placeholder={conf.toFixed(2)}
      value={r.custom ? r.threshold : ''}
      onChange={(v) => setThreshold(r.name, typeof v === 'number' && v >= 0 && v <= 1 ? v : null)}
      aria-label={`threshold of ${r.name}`}
      data-testid={marked ? 'class-threshold' : undefined}
      styles={{ input: marked && r.custom ? { fontWeight: 700 } : undefined }}
    />
  );
}

function ThresholdActions() {
  const info = useSpotter(selectReviewInfo);
  const save = useSpotter(selectReviewSave);
  const dirty = useSpotter(selectThresholdsDirty);
  const suggest = useSpotter((s) => s.suggestClassThresholds);
  const reset = useSpotter((s) => s.resetClassThresholds);
  const saveThresholds = useSpotter((s) => s.saveThresholds);
  const card = info?.card;
  return (
    <Stack gap={6}>
      <Group gap="xs">
        <Button size="xs" variant="light" onClick={suggest} data-testid="suggest-thresholds">
          Suggest F1-optimal
        </Button>
        <Button size="xs" variant="default" onClick={reset}>
          Clear per-class
        </Button>
        <Button size="xs" ml="auto" onClick={() => void saveThresholds()} loading={save.status === 'saving'} disabled={!info || !dirty} data-testid="save-thresholds">
          Save to model card
        </Button>
      </Group>
      <Group gap={6} data-testid="thresholds-saved" data-dirty={dirty ? 'true' : 'false'}>
        {card ? (
          <>
            <Badge size="sm" variant="light" color={dirty ? 'yellow' : 'green'}>
              {dirty ? 'unsaved changes' : 'saved in the model card'}
            </Badge>
            <Text size="xs" c="dimmed">
              card: default {card.thresholds.default.toFixed(2)}
              {Object.keys(card.thresholds.perClass).length
                ? `, ${Object.entries(card.thresholds.perClass)
                    .map(([k, v]) => `${k} ${v.toFixed(3)}`)
                    .join(', ')}`
                : ''}{' '}
              · updated {new Date(card.updatedAt).toLocaleString()}
            </Text>
          </>
        ) : (
          <Text size="xs" c="dimmed">
            No model card yet: Save writes one beside the model, so the operating point ships with the weights.
          </Text>
        )}
      </Group>
      {save.status === 'error' && (
        <Alert color="red" variant="light" p="xs">
          {save.error}
        </Alert>
      )}
    </Stack>
  );
}
