import { Alert, Anchor, List, Text } from '@mantine/core';
import type { DatasetReport } from '../../../electron/shared/contract';
import { IconAlert, IconScale } from './icons';

type License = DatasetReport['licenses'][number];

/** Licences found in the source: shown prominently, since users must know what they may ship. */
export function Licenses({ licenses }: { licenses: License[] }) {
  if (!licenses.length) {
    return (
      <Alert color="yellow" variant="light" icon={<IconAlert />} title="No licence found in the export" data-testid="licenses">
        <Text size="sm">
          The sources declare no licence. Check with the data owner before you ship a model trained on these images.
        </Text>
      </Alert>
    );
  }
  return (
    <Alert color="blue" variant="light" icon={<IconScale />} title="Licences: what you may ship" data-testid="licenses">
      <List size="sm" spacing={4}>
        {licenses.map((l, i) => (
          <List.Item key={`${l.name}-${i}`}>
            <Text span fw={600} size="sm">
              {l.name}
            </Text>
            {l.url && (
              <>
                {' — '}
                <Anchor href={l.url} target="_blank" rel="noreferrer noopener" size="sm">
                  {l.url}
                </Anchor>
              </>
            )}
            <Text span size="xs" c="dimmed">
              {' '}
              (from {l.source})
            </Text>
          </List.Item>
        ))}
      </List>
    </Alert>
  );
}
