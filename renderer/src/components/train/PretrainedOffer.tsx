import { useEffect, useState } from 'react';
import { Button, Group, Stack, Text } from '@mantine/core';
import type { PretrainedInfo } from '../../../../electron/shared/contract';
import { useSpotter, useTransport } from '../../state/react';
import { errorMessage } from '../../lib/paths';
import { JobBar } from '../models/JobBar';
import { useLocalJob } from '../models/hooks';

/**
 * Pretrained COCO weights for the chosen architecture: used from the app's data folder when they are
 * there, downloaded on request when the network answers (nothing is offered without it). Choosing them
 * switches the wizard to "Local weights" with that file; training stays offline.
 */
export function PretrainedOffer({ model }: { model: string }) {
  const transport = useTransport();
  const setForm = useSpotter((s) => s.setForm);
  const [info, setInfo] = useState<PretrainedInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  const download = useLocalJob<PretrainedInfo>('download');

  useEffect(() => {
    let live = true;
    setInfo(null);
    setError(null);
    transport.call('weights.pretrained', { model }).then(
      (i) => live && setInfo(i),
      (e: unknown) => live && setError(errorMessage(e)),
    );
    return () => {
      live = false;
    };
  }, [transport, model]);

  const downloaded = download.job?.status === 'done' ? download.job.result : null;
  const here = downloaded ?? (info?.downloaded ? info : null);
  const use = (p: PretrainedInfo) => setForm({ modelSource: 'pt', ptPath: p.path });

  if (error || !info) return null; // an architecture without published weights, or still asking
  if (here) {
    return (
      <Group gap="sm" data-testid="pretrained" data-state="here">
        <Text size="sm">
          Pretrained COCO weights <span className="mono">{here.name}</span> are on this computer: fine-tuning from them needs far fewer epochs.
        </Text>
        <Button size="xs" variant="light" onClick={() => use(here)} data-testid="pretrained-use">
          Start from {here.name}
        </Button>
      </Group>
    );
  }
  if (!info.online) {
    return (
      <Text size="xs" c="dimmed" data-testid="pretrained" data-state="offline">
        Pretrained weights can be downloaded here when the network is there ({new URL(info.url).host} does not answer now).
      </Text>
    );
  }
  return (
    <Stack gap={6} data-testid="pretrained" data-state="online">
      <Group gap="sm">
        <Text size="sm">
          Start from pretrained COCO weights instead: <span className="mono">{info.name}</span> from Ultralytics&apos; releases (AGPL-3.0), kept in the app&apos;s
          data folder.
        </Text>
        <Button
          size="xs"
          variant="light"
          loading={download.job?.status === 'running' || download.job?.status === 'starting'}
          onClick={() => void download.start(() => transport.call('weights.download', { model }))}
          data-testid="pretrained-download"
        >
          Download {info.name}
        </Button>
      </Group>
      {download.job && <JobBar job={download.job} label={`Downloading ${info.name}`} onCancel={() => void download.cancel()} />}
    </Stack>
  );
}
