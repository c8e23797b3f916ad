import { useState } from 'react';
import { Accordion, Alert, Badge, Button, Group, Paper, Select, Stack, Text, Title } from '@mantine/core';
import type { HealthReport } from '../../../electron/shared/contract';
import { useSpotter } from '../state/react';
import { selectCheckJob } from '../state/dataset';
import { JobProgress } from './JobProgress';
import { SEVERITIES, SEVERITY_COLOR, SEVERITY_TITLE } from './Severity';
import { IconCheck } from './icons';
import { formatCount } from '../lib/paths';

const SHOWN = 5;

/** health.json: issues by severity with the first affected files/items, and a re-check at another imgsz. */
export function HealthReportView({ health }: { health: HealthReport }) {
  const groups = SEVERITIES.map((sev) => ({ sev, issues: health.issues.filter((i) => i.severity === sev) })).filter(
    (g) => g.issues.length,
  );
  return (
    <Paper withBorder p="md" radius="md" data-testid="health-report" data-ok={health.ok}>
      <Stack gap="sm">
        <Group justify="space-between">
          <Group gap="xs">
            <Title order={4}>Health check</Title>
            {health.ok ? (
              <Badge color="green" variant="filled">
                ok
              </Badge>
            ) : (
              <Badge color="red" variant="filled">
                errors
              </Badge>
            )}
            <Text size="xs" c="dimmed">
              imgsz {health.imgsz} · {new Date(health.checked_at).toLocaleString()}
            </Text>
          </Group>
          <Recheck current={health.imgsz} />
        </Group>
        <CheckProgress />
        {groups.length === 0 ? (
          <Alert color="green" variant="light" icon={<IconCheck />}>
            No issues found.
          </Alert>
        ) : (
          <Accordion multiple variant="separated" defaultValue={openByDefault(groups.map((g) => g.sev))}>
            {groups.map(({ sev, issues }) => (
              <Accordion.Item key={sev} value={sev} data-severity={sev}>
                <Accordion.Control>
                  <Group gap="xs">
                    <Badge color={SEVERITY_COLOR[sev]} variant="filled" size="sm" circle>
                      {issues.length}
                    </Badge>
                    <Text fw={600} size="sm">
                      {SEVERITY_TITLE[sev]}
                    </Text>
                  </Group>
                </Accordion.Control>
                <Accordion.Panel>
                  <Stack gap="sm">
                    {issues.map((issue, i) => (
                      <div key={`${issue.code}-${i}`} data-testid="health-issue" data-code={issue.code}>
                        <Group gap={6} wrap="nowrap" align="flex-start">
                          <Badge color={SEVERITY_COLOR[sev]} variant="light" size="sm" tt="none" style={{ flexShrink: 0 }}>
                            {issue.code}
                          </Badge>
                          <Text size="sm" style={{ flex: 1 }}>
                            {issue.message}
                          </Text>
                          {issue.count !== undefined && issue.count > 0 && (
                            <Badge variant="default" size="sm" style={{ flexShrink: 0 }}>
                              ×{formatCount(issue.count)}
                            </Badge>
                          )}
                        </Group>
                        <AffectedList label="files" values={issue.files} />
                        <AffectedList label="items" values={issue.items} />
                      </div>
                    ))}
                  </Stack>
                </Accordion.Panel>
              </Accordion.Item>
            ))}
          </Accordion>
        )}
      </Stack>
    </Paper>
  );
}

/** Errors and warnings open; notes too when they are all there is. */
function openByDefault(present: string[]): string[] {
  const serious = present.filter((s) => s !== 'info');
  return serious.length ? serious : present;
}

/** The first affected files or items, one a line (they can be long), expandable to all. */
function AffectedList({ label, values }: { label: string; values?: string[] }) {
  const [all, setAll] = useState(false);
  if (!values?.length) return null;
  const shown = all ? values : values.slice(0, SHOWN);
  return (
    <div className="affected">
      <Text size="xs" c="dimmed" fw={600}>
        {label}
      </Text>
      {shown.map((v, i) => (
        <Text key={i} size="xs" c="dimmed" className="mono" truncate="end" title={v}>
          {v}
        </Text>
      ))}
      {values.length > SHOWN && (
        <Text size="xs" c="blue" style={{ cursor: 'pointer' }} onClick={() => setAll(!all)}>
          {all ? 'show fewer' : `+${values.length - SHOWN} more`}
        </Text>
      )}
    </div>
  );
}

function Recheck({ current }: { current: number }) {
  const [imgsz, setImgsz] = useState(String(current));
  const runCheck = useSpotter((s) => s.runCheck);
  const job = useSpotter(selectCheckJob);
  return (
    <Group gap={6}>
      <Select
        size="xs"
        w={96}
        value={imgsz}
        onChange={(v) => v && setImgsz(v)}
        allowDeselect={false}
        data={['320', '416', '512', '640', '800', '960', '1280']}
        aria-label="imgsz"
        title="Objects that become tiny at this training size are reported"
      />
      <Button size="xs" variant="default" onClick={() => void runCheck(Number(imgsz))} loading={job?.status === 'running'}>
        Re-check
      </Button>
    </Group>
  );
}

function CheckProgress() {
  const job = useSpotter(selectCheckJob);
  if (!job || job.status === 'done') return null;
  return <JobProgress job={job} />;
}
