import { Button, Group, SegmentedControl, Select, Text } from '@mantine/core';
import { useSpotter } from '../../state/react';
import {
  selectReviewClasses,
  selectReviewCompare,
  selectReviewComparison,
  selectReviewErrors,
  selectReviewFocus,
  selectReviewOrder,
  selectReviewSet,
  selectReviewSort,
} from '../../state/review';
import type { CompareFilter, ErrorFilter, ReviewSort } from './order';
import { shownLabel } from './ReviewGrid';

/** Sort, filters (class, FP / FN, better / worse against the baseline) and the batch button. */
export function GalleryToolbar({ onBatch }: { onBatch(): void }) {
  const sort = useSpotter(selectReviewSort);
  const errors = useSpotter(selectReviewErrors);
  const compare = useSpotter(selectReviewCompare);
  const cmp = useSpotter(selectReviewComparison);
  const focus = useSpotter(selectReviewFocus);
  const classes = useSpotter(selectReviewClasses);
  const order = useSpotter(selectReviewOrder);
  const set = useSpotter(selectReviewSet);
  const setSort = useSpotter((s) => s.setReviewSort);
  const setErrors = useSpotter((s) => s.setReviewErrors);
  const setCompare = useSpotter((s) => s.setReviewCompare);
  const setFocus = useSpotter((s) => s.setReviewFocus);
  const sorts: Array<{ value: ReviewSort; label: string }> = [
    { value: 'errors', label: 'Most errors' },
    { value: 'fn', label: 'Most FN' },
    { value: 'fp', label: 'Most FP' },
    { value: 'lowconf', label: 'Lowest confidence' },
    { value: 'name', label: 'Name' },
  ];
  if (cmp) sorts.push({ value: 'change', label: 'Biggest change vs baseline' });
  return (
    <Group gap="sm" align="flex-end" wrap="wrap">
      <Select
        label="Sort"
        size="xs"
        w={200}
        data={sorts}
        value={sort}
        onChange={(v) => v && setSort(v as ReviewSort)}
        allowDeselect={false}
        data-testid="review-sort"
      />
      <Select
        label="Class"
        size="xs"
        w={180}
        placeholder="all classes"
        clearable
        searchable
        data={(classes ?? []).map((c, i) => ({ value: String(i), label: c }))}
        value={focus === null ? null : String(focus)}
        onChange={(v) => setFocus(v === null ? null : Number(v))}
        data-testid="review-class-filter"
      />
      <div>
        <Text size="xs" fw={500} mb={2}>
          Show
        </Text>
        <SegmentedControl
          size="xs"
          value={errors}
          onChange={(v) => setErrors(v as ErrorFilter)}
          data={[
            { value: 'all', label: 'All' },
            { value: 'errors', label: 'With errors' },
            { value: 'fp', label: 'FP only' },
            { value: 'fn', label: 'FN only' },
            { value: 'correct', label: 'Correct' },
          ]}
          data-testid="review-error-filter"
        />
      </div>
      {cmp && (
        <div>
          <Text size="xs" fw={500} mb={2}>
            Vs baseline
          </Text>
          <SegmentedControl
            size="xs"
            value={compare}
            onChange={(v) => setCompare(v as CompareFilter)}
            data={[
              { value: 'all', label: 'All' },
              { value: 'better', label: `Better (${cmp.better})` },
              { value: 'worse', label: `Worse (${cmp.worse})` },
              { value: 'same', label: `Same (${cmp.same})` },
            ]}
            data-testid="review-compare-filter"
          />
        </div>
      )}
      <Group gap="sm" ml="auto" align="center">
        <Text size="sm" c="dimmed" data-testid="review-shown" data-shown={order.length}>
          {shownLabel(order.length, set?.images.length ?? 0)}
        </Text>
        <Button size="xs" onClick={onBatch} data-testid="batch-open">
          Next labelling batch…
        </Button>
      </Group>
    </Group>
  );
}
