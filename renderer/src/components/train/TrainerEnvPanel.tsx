import { useEffect, useMemo, useRef, useState } from 'react';
import { Alert, Anchor, Badge, Button, Collapse, Group, Loader, Paper, Progress, ScrollArea, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import type { TrainerEnvStatus } from '../../../../electron/shared/contract';
import { useSpotter } from '../../state/react';
import {
  selectSetup,
  selectSetupJob,
  selectSetupStarting,
  selectTrainerEnv,
  selectTrainerEnvError,
  selectTrainerEnvStatus,
} from '../../state/train';
import { selectInfo } from '../../state/app';
import { IconAlert, IconCheck } from '../icons';

/**
 * The trainer environment: what the import check found (Python, torch, CUDA, GPUs, Ultralytics),
 * problems in plain words, and Set up / Repair with a progress bar and the pip log. Compact (one line)
 * once the environment is ready, unless opened.
 */
export function TrainerEnvPanel() {
  const env = useSpotter(selectTrainerEnv);
  const status = useSpotter(selectTrainerEnvStatus);
  const error = useSpotter(selectTrainerEnvError);
  const setup = useSpotter(selectSetup);
  const load = useSpotter((s) => s.loadTrainerEnv);
  const [open, setOpen] = useState(false);
  const settingUp = setup?.status === 'running';
  const expanded = open || (env !== null && !env.ready) || settingUp || (setup !== null && setup.status !== 'done');

  return (
    <Paper withBorder p="md" radius="md" data-testid="trainer-env" data-ready={env?.ready ? 'true' : 'false'} data-env-status={status}>
      <Stack gap="sm">
        <Group justify="space-between" wrap="nowrap">
          <Group gap="xs" wrap="nowrap" style={{ minWidth: 0 }}>
            <Title order={4}>Trainer environment</Title>
            <EnvBadge env={env} loading={status === 'loading' && !env} />
            {env?.ready && !expanded && <EnvLine env={env} />}
          </Group>
          <Group gap="xs" wrap="nowrap">
            {status === 'loading' && <Loader size="xs" />}
            <Button size="compact-sm" variant="subtle" onClick={() => void load()} disabled={status === 'loading' || settingUp}>
              Re-check
            </Button>
            {env?.ready && (
              <Button size="compact-sm" variant="default" onClick={() => setOpen((o) => !o)}>
                {expanded ? 'Hide details' : 'Details'}
              </Button>
            )}
          </Group>
        </Group>
        {error && (
          <Alert color="red" variant="light" icon={<IconAlert />} title="Could not check the trainer environment">
            <Text size="sm" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
              {error}
            </Text>
          </Alert>
        )}
        <Collapse in={expanded}>
          <Stack gap="sm">
            {env && <EnvTable env={env} />}
            {env && env.problems.length > 0 && (
              <Alert color={env.ready ? 'yellow' : 'red'} variant="light" icon={<IconAlert />} title={env.ready ? 'Works, with warnings' : 'Not ready to train'} data-testid="env-problems">
                <Stack gap={2}>
                  {env.problems.map((p) => (
                    <Text key={p} size="sm" style={{ wordBreak: 'break-word' }}>
                      • {p}
                    </Text>
                  ))}
                </Stack>
              </Alert>
            )}
            <SetupSection env={env} />
          </Stack>
        </Collapse>
      </Stack>
    </Paper>
  );
}

function EnvBadge({ env, loading }: { env: TrainerEnvStatus | null; loading: boolean }) {
  if (loading) return <Badge variant="light" color="gray">checking…</Badge>;
  if (!env) return null;
  if (env.ready) return <Badge color="green" variant="light">ready</Badge>;
  return <Badge color={env.python ? 'red' : 'gray'} variant="light">{env.python ? 'needs repair' : 'not set up'}</Badge>;
}

/** torch 2.x · CUDA 13 · GPU name, on one line. */
function EnvLine({ env }: { env: TrainerEnvStatus }) {
  const r = env.env;
  if (!r) return null;
  const device = r.gpus.length ? r.gpus.map((g) => `${g.name} (${g.memory_gb.toFixed(0)} GB)`).join(', ') : r.mps_available ? 'Apple MPS' : 'CPU only';
  return (
    <Text size="sm" c="dimmed" truncate>
      Python {r.python_version} · torch {r.torch ?? '—'} · Ultralytics {r.ultralytics ?? '—'} · {device}
    </Text>
  );
}

function EnvTable({ env }: { env: TrainerEnvStatus }) {
  const r = env.env;
  const rows: Array<[string, React.ReactNode]> = [
    ['Python', env.python ? `${env.python}${r ? ` (${r.python_version})` : ''}` : `not set up yet (will live in ${env.venv})`],
    ['PyTorch', r ? (r.torch ?? 'missing') + (r.torchvision ? ` · torchvision ${r.torchvision}` : '') : '—'],
    ['CUDA', r?.torch ? (r.cuda ? `${r.cuda} (${r.cuda_available ? 'available' : 'not usable on this machine'})` : 'CPU build of torch') : '—'],
    ['GPUs', r ? (r.gpus.length ? r.gpus.map((g) => `${g.name}, ${g.memory_gb.toFixed(1)} GB`).join('; ') : r.mps_available ? 'Apple MPS' : 'none (training runs on the CPU)') : '—'],
    ['Driver', r?.driver ?? env.hardware.driver ?? '—'],
    ['Ultralytics', r ? (r.ultralytics ?? 'missing') : '—'],
    ['numpy', r ? (r.numpy ?? 'missing') : '—'],
    [
      'Hardware found',
      `${env.hardware.kind === 'nvidia' ? 'NVIDIA' : env.hardware.kind === 'apple' ? 'Apple Silicon' : 'CPU only'}${env.hardware.gpus.length ? `: ${env.hardware.gpus.join(', ')}` : ''}${env.hardware.note ? ` — ${env.hardware.note}` : ''}`,
    ],
  ];
  // before set-up only the interpreter's place and the hardware are known
  const shown = r ? rows : rows.filter(([k]) => k === 'Python' || k === 'Hardware found');
  return (
    <Table withRowBorders={false} verticalSpacing={2} fz="sm" data-testid="env-table">
      <Table.Tbody>
        {shown.map(([k, v]) => (
          <Table.Tr key={k}>
            <Table.Td w={140} c="dimmed">
              {k}
            </Table.Td>
            <Table.Td style={{ wordBreak: 'break-all' }}>{v}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function SetupSection({ env }: { env: TrainerEnvStatus | null }) {
  const setup = useSpotter(selectSetup);
  const job = useSpotter(selectSetupJob);
  const starting = useSpotter(selectSetupStarting);
  const startSetup = useSpotter((s) => s.startSetup);
  const cancelJob = useSpotter((s) => s.cancelJob);
  const info = useSpotter(selectInfo);
  const [offline, setOffline] = useState(false);
  const [wheelhouse, setWheelhouse] = useState('');
  const running = setup?.status === 'running';
  const repair = !!env?.python;
  const pct = job && job.total > 0 ? Math.min(100, (job.done / job.total) * 100) : 100;

  return (
    <Stack gap="xs">
      {!env?.ready && (
        <Text size="sm">
          Set-up creates a Python environment in Spotter's data folder{info ? ` (${info.dataDir})` : ''}, picks the PyTorch build for this
          machine (CUDA for NVIDIA GPUs, MPS on Apple Silicon, else CPU) and checks that everything imports. Nothing else on your system changes.
        </Text>
      )}
      <Alert color="blue" variant="light" p="xs" data-testid="agpl-notice">
        <Text size="sm">
          <b>Ultralytics is licensed AGPL-3.0</b> and is installed from the Python package index (PyPI) into this environment at set-up, together
          with PyTorch (a few GB with CUDA). Spotter itself is MIT and does not bundle Ultralytics code or weights. Training never uses the network.
        </Text>
      </Alert>
      <Group gap="xs">
        <Button
          onClick={() => void startSetup({ repair, wheelhouse: offline ? wheelhouse.trim() : undefined })}
          loading={starting}
          disabled={running || (offline && !wheelhouse.trim())}
          variant={env?.ready ? 'default' : 'filled'}
          data-testid="env-setup"
        >
          {repair ? 'Repair (reinstall)' : 'Set up'}
        </Button>
        <Anchor size="sm" component="button" type="button" onClick={() => setOffline((o) => !o)}>
          {offline ? 'Install from the package index' : 'Install offline from a folder of wheels…'}
        </Anchor>
      </Group>
      {offline && (
        <TextInput
          label="Wheelhouse folder"
          description="A folder of .whl files (pip download) for an air-gapped machine: nothing is fetched from the network."
          placeholder="/path/to/wheels"
          value={wheelhouse}
          onChange={(e) => setWheelhouse(e.currentTarget.value)}
          spellCheck={false}
          maw={560}
        />
      )}
      {setup && (
        <Stack gap={6} data-testid="env-setup-progress">
          {running && (
            <>
              <Group justify="space-between">
                <Text size="sm" fw={500}>
                  {setup.repair ? 'Repairing' : 'Setting up'}: {job?.stage ?? 'starting'}
                </Text>
                <Button size="compact-sm" variant="default" onClick={() => void cancelJob(setup.jobId)} loading={job?.cancelling}>
                  Cancel
                </Button>
              </Group>
              <Progress value={pct} animated={!job || job.total === 0} striped={!job || job.total === 0} size="lg" aria-label="set-up progress" />
            </>
          )}
          {setup.status === 'done' && (
            <Alert color="green" variant="light" icon={<IconCheck />} p="xs">
              The trainer environment is set up.
            </Alert>
          )}
          {setup.status === 'failed' && (
            <Alert color="red" variant="light" icon={<IconAlert />} title="Set-up failed">
              <Text size="sm" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
                {setup.error}
              </Text>
            </Alert>
          )}
          {setup.status === 'cancelled' && (
            <Alert color="gray" variant="light" p="xs">
              Set-up was cancelled.
            </Alert>
          )}
          <LogBox lines={setup.log} testId="env-setup-log" />
        </Stack>
      )}
    </Stack>
  );
}

/** A scrolling monospace log that follows its end unless the user scrolled up. */
export function LogBox({ lines, testId, height = 220 }: { lines: string[] | string; testId?: string; height?: number }) {
  const viewport = useRef<HTMLDivElement>(null);
  const follow = useRef(true);
  const text = useMemo(() => cleanLog(Array.isArray(lines) ? lines.join('\n') : lines), [lines]);
  useEffect(() => {
    const el = viewport.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [text]);
  return (
    <ScrollArea
      h={height}
      type="auto"
      viewportRef={viewport}
      onScrollPositionChange={({ y }) => {
        const el = viewport.current;
        if (el) follow.current = y + el.clientHeight >= el.scrollHeight - 8;
      }}
      style={{ background: 'var(--mantine-color-default-hover)', borderRadius: 'var(--mantine-radius-sm)' }}
      data-testid={testId}
    >
      <pre style={{ margin: 0, padding: 8, fontSize: 12, lineHeight: 1.4, whiteSpace: 'pre-wrap', wordBreak: 'break-all', fontFamily: 'var(--mantine-font-family-monospace)' }}>
        {text || ' '}
      </pre>
    </ScrollArea>
  );
}

/**
 * A terminal log as a page shows it: colour and cursor escapes dropped, and of a line redrawn with
 * carriage returns (tqdm progress bars) only its last state kept.
 */
export function cleanLog(text: string): string {
  const ansi = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]/g;
  return text
    .split('\n')
    .map((line) => {
      const parts = line.replace(ansi, '').split('\r');
      for (let i = parts.length - 1; i >= 0; i--) if (parts[i]!.trim()) return parts[i]!;
      return '';
    })
    .join('\n');
}
