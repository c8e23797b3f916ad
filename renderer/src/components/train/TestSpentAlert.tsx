import { useEffect } from 'react';
import { Alert, Anchor, Text } from '@mantine/core';
import { useShallow } from 'zustand/react/shallow';
import { useSpotter } from '../../state/react';
import { selectRuns, selectTestSpentBy } from '../../state/runs';
import { IconAlert } from '../icons';

/**
 * Warns that a dataset's test split has already been used for a decision (a run evaluated on it):
 * its test numbers are no longer an unbiased final check. `dataset`: its folder or its data.yaml.
 */
export function TestSpentAlert({ dataset }: { dataset: string | null | undefined }) {
  const runs = useSpotter(selectRuns);
  const loadRuns = useSpotter((s) => s.loadRuns);
  const spent = useSpotter(useShallow(selectTestSpentBy(dataset)));
  const navigate = useSpotter((s) => s.navigate);
  // the run list tells which runs evaluated the test split
  useEffect(() => {
    if (runs === null) void loadRuns();
  }, [runs, loadRuns]);
  if (!spent.length) return null;
  return (
    <Alert color="orange" variant="light" icon={<IconAlert />} title="Test split already used" data-testid="test-spent-warning" data-runs={spent.length}>
      <Text size="sm">
        The test split of this dataset has already been used for a decision in run{spent.length > 1 ? 's' : ''}{' '}
        {spent.map((r, i) => (
          <span key={r.dir}>
            {i > 0 && ', '}
            <Anchor component="button" type="button" size="sm" onClick={() => navigate({ name: 'runs', dir: r.dir })}>
              {r.label || r.name}
            </Anchor>
          </span>
        ))}
        : its numbers are no longer an unbiased final check. Keep evaluating on the val split, and hold out a fresh test split (a new import or
        split) for the final check.
      </Text>
    </Alert>
  );
}
