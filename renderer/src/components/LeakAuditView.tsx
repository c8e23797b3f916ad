import { Alert, Badge, Group, Stack, Text } from '@mantine/core';
import type { DatasetReport } from '../../../electron/shared/contract';
import { IconAlert, IconCheck } from './icons';
import { formatCount } from '../lib/paths';

type Audit = DatasetReport['leak_audit'];

const MAX_EXAMPLES = 6;

const total = (a: Audit) => a.group_crossings + a.near_duplicate_crossings + a.exact_duplicate_crossings;

/** The leak audit of the written splits: a green badge for 0 crossings, else the crossings in red. */
export function LeakAuditView({ audit }: { audit: Audit }) {
  if (total(audit) === 0) {
    return (
      <Group gap="xs" data-testid="leak-audit" data-leaks={0}>
        <Badge color="green" variant="filled" leftSection={<IconCheck size={12} />} data-testid="no-leaks">
          no leaks
        </Badge>
        <Text size="sm" c="dimmed">
          0 groups, 0 near-duplicate pairs and 0 exact duplicates cross splits.
        </Text>
      </Group>
    );
  }
  return (
    <Alert color="red" variant="light" icon={<IconAlert />} title="Leaks across splits" data-testid="leak-audit" data-leaks={total(audit)}>
      <AuditBody audit={audit} />
    </Alert>
  );
}

/** The audit of the export's own splits (kept or not): this is the leak Spotter exists to expose. */
export function SourceSplitAuditView({ audit }: { audit: Audit }) {
  const n = total(audit);
  if (n === 0) {
    return (
      <Alert color="green" variant="light" icon={<IconCheck />} title="The export's own splits were clean" data-testid="source-split-audit">
        No group or duplicate crossed the export's train/val/test.
      </Alert>
    );
  }
  return (
    <Alert
      color="red"
      variant="light"
      icon={<IconAlert />}
      title={`The export's own split leaked: ${formatCount(audit.group_crossings)} ${audit.group_crossings === 1 ? 'group crosses' : 'groups cross'}`}
      data-testid="source-split-audit"
    >
      <Stack gap={6}>
        <Text size="sm">
          Metrics measured on that split are inflated: related images sit on both sides of it.
        </Text>
        <AuditBody audit={audit} />
      </Stack>
    </Alert>
  );
}

function AuditBody({ audit }: { audit: Audit }) {
  return (
    <Stack gap={6}>
      <Group gap="xs">
        <Badge color={audit.group_crossings ? 'red' : 'gray'} variant="light">
          {formatCount(audit.group_crossings)} group crossings
        </Badge>
        <Badge color={audit.near_duplicate_crossings ? 'red' : 'gray'} variant="light">
          {formatCount(audit.near_duplicate_crossings)} near-duplicate pairs
        </Badge>
        <Badge color={audit.exact_duplicate_crossings ? 'red' : 'gray'} variant="light">
          {formatCount(audit.exact_duplicate_crossings)} exact duplicates
        </Badge>
      </Group>
      {audit.examples.length > 0 && (
        <Stack gap={4}>
          {audit.examples.slice(0, MAX_EXAMPLES).map((ex, i) => (
            <div key={i}>
              <Group gap={6}>
                <Badge size="xs" variant="outline" color="red" tt="none">
                  {ex.kind}
                </Badge>
                <Text size="xs" fw={600}>
                  {ex.splits.join(' / ')}
                </Text>
              </Group>
              <Text size="xs" className="mono" truncate="end" title={ex.b ? `${ex.a}\n${ex.b}` : ex.a}>
                {ex.a}
              </Text>
              {ex.b && (
                <Text size="xs" className="mono" truncate="end">
                  ↔ {ex.b}
                </Text>
              )}
            </div>
          ))}
          {audit.examples.length > MAX_EXAMPLES && (
            <Text size="xs" c="dimmed">
              …and {audit.examples.length - MAX_EXAMPLES} more examples
            </Text>
          )}
        </Stack>
      )}
    </Stack>
  );
}
