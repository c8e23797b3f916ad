import { Badge } from '@mantine/core';

export type SeverityName = 'error' | 'warning' | 'info';
export const SEVERITIES: SeverityName[] = ['error', 'warning', 'info'];
export const SEVERITY_COLOR: Record<SeverityName, string> = { error: 'red', warning: 'yellow', info: 'blue' };
export const SEVERITY_TITLE: Record<SeverityName, string> = { error: 'Errors', warning: 'Warnings', info: 'Notes' };

export function SeverityBadge({ severity, children }: { severity: SeverityName; children?: React.ReactNode }) {
  return (
    <Badge color={SEVERITY_COLOR[severity]} variant="light" size="sm">
      {children ?? severity}
    </Badge>
  );
}
