import { Alert, Badge, Group, Stack, Text } from '@mantine/core';
import type { DatasetReport } from '../../../electron/shared/contract';
import { IconAlert, IconCheck } from './icons';
import { formatCount } from '../lib/paths';
import { auditIsClean, auditSentence } from '../../../electron/shared/audit';

type Audit = DatasetReport['leak_audit'];

const MAX_EXAMPLES = 6;

const total = (a: Audit) => a.group_crossings + a.near_duplicate_crossings + a.exact_duplicate_crossings + (a.held_out_with_twin ?? 0);

/**
 * The leak audit of the written splits (the one report.json, health.json and the CLI show): the green badge only
 * when nothing crosses and no val/test image has a twin in train, else the numbers in red.
 */
export function LeakAuditView({ audit }: { audit: Audit }) {
  if (auditIsClean(audit)) {
    return (
      <Group gap="xs" data-testid="leak-audit" data-leaks={0}>
        <Badge color="green" variant="filled" leftSection={<IconCheck size={12} />} data-testid="no-leaks">
          no leaks
        </Badge>
        <Text size="sm" c="dimmed">
          {auditSentence(audit)}.
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
  if (auditIsClean(audit)) {
    return (
      <Alert color="green" variant="light" icon={<IconCheck />} title="The export's own splits were clean" data-testid="source-split-audit">
        {auditSentence(audit)}.
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
      {audit.held_out_images !== undefined && (
        <Text size="sm" fw={600} data-testid="held-out-twins">
          val/test images with a twin in train: {formatCount(audit.held_out_with_twin ?? 0)} of {formatCount(audit.held_out_images)}
        </Text>
      )}
      <Group gap="xs">
        <Badge color={audit.group_crossings ? 'red' : 'gray'} variant="light">
          {formatCount(audit.group_crossings)} group crossings
        </Badge>
        <Badge color={audit.near_duplicate_crossings ? 'red' : 'gray'} variant="light">
          {audit.dup_threshold === -1 ? 'near-duplicates not compared' : `${formatCount(audit.near_duplicate_crossings)} near-duplicate pairs`}
        </Badge>
        <Badge color={audit.exact_duplicate_crossings ? 'red' : 'gray'} variant="light">
          {formatCount(audit.exact_duplicate_crossings)} identical pairs
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
                  {ex.detail ? ` · ${ex.detail}` : ''}
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
