import { Alert, Button, Group, Progress, Stack, Text } from '@mantine/core';
import { IconAlert } from '../icons';
import type { LocalJob } from './hooks';

/** A job started from a component (useLocalJob): its stage and progress with Cancel, or how it failed. */
export function JobBar<T>({ job, label, onCancel }: { job: LocalJob<T>; label: string; onCancel: () => void }) {
  if (job.status === 'failed' || job.status === 'cancelled') {
    return (
      <Alert color={job.status === 'failed' ? 'red' : 'gray'} variant="light" title={`${label} ${job.status}`} icon={<IconAlert />} data-testid={`${job.kind}-error`}>
        <Text size="sm" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
          {job.status === 'cancelled' ? 'Cancelled; nothing was written.' : job.error}
        </Text>
      </Alert>
    );
  }
  if (job.status === 'done') return null;
  const pct = job.total > 0 ? (job.done / job.total) * 100 : 0;
  return (
    <Stack gap={4} data-testid={`${job.kind}-progress`}>
      <Group justify="space-between">
        <Text size="sm">
          {label}: {job.stage}
        </Text>
        <Button size="compact-sm" variant="default" onClick={onCancel} disabled={!job.jobId}>
          Cancel
        </Button>
      </Group>
      <Progress value={pct} animated={pct < 100} />
    </Stack>
  );
}
