import { Alert, Button, Group, Progress, Stack, Text } from '@mantine/core';
import type { JobState } from '../state/jobs';
import { useSpotter } from '../state/react';
import { formatCount } from '../lib/paths';
import { IconAlert } from './icons';

const LABEL: Record<string, string> = { inspect: 'Inspecting', import: 'Importing', check: 'Checking', evalset: 'Adding the evaluation set' };

/** Progress of one job: bar, stage, done/total, Cancel; a red Alert when it failed. */
export function JobProgress({ job }: { job: JobState }) {
  const cancelJob = useSpotter((s) => s.cancelJob);
  if (job.status === 'failed') {
    return (
      <Alert color="red" variant="light" title={`${LABEL[job.kind] ?? job.kind} failed`} icon={<IconAlert />} data-testid="job-error">
        <Text size="sm" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
          {job.error ?? 'Unknown error'}
        </Text>
      </Alert>
    );
  }
  if (job.status === 'cancelled') {
    return (
      <Alert color="gray" variant="light" title="Cancelled">
        {LABEL[job.kind] ?? job.kind} was cancelled; nothing was written.
      </Alert>
    );
  }
  if (job.status === 'done') return null;
  const pct = job.total > 0 ? Math.min(100, (job.done / job.total) * 100) : 0;
  return (
    <Stack gap={6} data-testid="job-progress">
      <Group justify="space-between" gap="xs">
        <Text size="sm" fw={500}>
          {LABEL[job.kind] ?? job.kind}: <span data-testid="job-stage">{job.stage}</span>
        </Text>
        <Group gap="sm">
          <Text size="sm" c="dimmed" ff="monospace">
            {job.total > 0 ? `${formatCount(job.done)} / ${formatCount(job.total)}` : ''}
          </Text>
          <Button size="compact-sm" variant="default" onClick={() => void cancelJob(job.jobId)} loading={job.cancelling}>
            Cancel
          </Button>
        </Group>
      </Group>
      <Progress
        value={job.total > 0 ? pct : 100}
        animated={job.total === 0}
        striped={job.total === 0}
        size="lg"
        data-testid="progress-bar"
        aria-label={`${job.stage} progress`}
        transitionDuration={150}
      />
    </Stack>
  );
}
