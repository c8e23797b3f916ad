/**
 * The export menu of a finished run: every format with its state here (available, missing packages with
 * an Install button and pip's live log, or blocked and why), the options that apply to the chosen format,
 * Export as a job with progress and its result, then Deploy into the workspace's models/ as the next version.
 * Mount: `<ExportMenu run={summary} />` (a panel) or inside a Modal.
 */
import { Alert, Badge, Button, Checkbox, Code, Group, NumberInput, Paper, Radio, ScrollArea, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useMemo, useState } from 'react';
import type { DeployedModel, ExportFormatInfo, ExportResult, RunSummary } from '../../../../electron/shared/contract';
import { useTransport } from '../../state/react';
import { IconAlert } from '../icons';
import { useExportFormats, useLocalJob } from './hooks';
import { JobBar } from './JobBar';

type Option = ExportFormatInfo['options'][number];
const OPTION_LABEL: Record<Exclude<Option, 'imgsz'>, string> = {
  half: 'FP16 (half)',
  int8: "INT8 (calibrated on the run's dataset)",
  dynamic: 'Dynamic input size',
  simplify: 'Simplify graph (onnxslim)',
  nms: 'NMS inside the model',
};
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$/;

export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(n / 1e3))} kB`;
}

function StateBadge({ f }: { f: ExportFormatInfo }) {
  if (f.blocked) return <Badge color="gray" variant="light">blocked</Badge>;
  if (f.available) return <Badge color="green" variant="light">available</Badge>;
  return <Badge color="yellow" variant="light" style={{ overflow: 'visible' }}>
      missing packages
    </Badge>;
}


export function ExportMenu({ run, onDeployed }: { run: Pick<RunSummary, 'dir' | 'label' | 'name' | 'status' | 'imgsz'>; onDeployed?: (m: DeployedModel) => void }) {
  const transport = useTransport();
  const { formats, setFormats, error: formatsError, loading, reload } = useExportFormats();
  const [format, setFormat] = useState('onnx');
  const [opts, setOpts] = useState<Record<Exclude<Option, 'imgsz'>, boolean>>({ half: false, int8: false, dynamic: false, simplify: true, nms: false });
  const [imgsz, setImgsz] = useState<number | ''>(run.imgsz || '');
  const exportJob = useLocalJob<ExportResult>('export');
  const installJob = useLocalJob<ExportFormatInfo[]>('install');
  const [name, setName] = useState(run.label || run.name);
  const deployJob = useLocalJob<DeployedModel>('deploy');

  const chosen = useMemo(() => formats?.find((f) => f.format === format) ?? null, [formats, format]);
  const finished = run.status === 'done' || run.status === 'stopped';
  const result = exportJob.job?.status === 'done' ? exportJob.job.result : null;

  // an install ends with the formats listed again
  useEffect(() => {
    if (installJob.job?.status === 'done' && installJob.job.result) setFormats(installJob.job.result);
  }, [installJob.job?.status, installJob.job?.result, setFormats]);

  const setOpt = (k: Exclude<Option, 'imgsz'>, v: boolean) => setOpts((o) => ({ ...o, [k]: v, ...(k === 'half' && v ? { int8: false } : {}), ...(k === 'int8' && v ? { half: false } : {}) }));

  const doExport = () => {
    if (!chosen) return;
    const has = (o: Option) => chosen.options.includes(o);
    deployJob.reset();
    void exportJob.start(() =>
      transport.call('models.export', {
        dir: run.dir,
        format: chosen.format,
        imgsz: has('imgsz') && typeof imgsz === 'number' ? imgsz : undefined,
        half: has('half') && opts.half,
        int8: has('int8') && opts.int8,
        dynamic: has('dynamic') && opts.dynamic,
        simplify: has('simplify') ? opts.simplify : true,
        nms: has('nms') && opts.nms,
      }),
    );
  };

  const doDeploy = () => {
    const file = result ? result.path.split(/[\\/]/).pop() : undefined;
    void deployJob.start(() => transport.call('models.deploy', { dir: run.dir, file, name: name || undefined }));
  };
  const deployed = deployJob.job?.status === 'done' ? deployJob.job.result : null;
  const deploying = deployJob.job?.status === 'running' || deployJob.job?.status === 'starting';
  // a deploy ends with the models listed again
  useEffect(() => {
    if (deployed) onDeployed?.(deployed);
  }, [deployed, onDeployed]);

  const busy = exportJob.job?.status === 'running' || exportJob.job?.status === 'starting';
  const installing = installJob.job?.status === 'running' || installJob.job?.status === 'starting';

  return (
    <Paper withBorder p="md" data-testid="export-menu">
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={4}>Export and deploy</Title>
          <Button size="compact-sm" variant="subtle" onClick={() => void reload()} loading={loading}>
            Re-check
          </Button>
        </Group>
        {!finished && <Alert color="yellow">The run is {run.status}: export it once it has finished.</Alert>}
        {formatsError && (
          <Alert color="red" icon={<IconAlert />} title="Cannot list the export formats">
            {formatsError}
          </Alert>
        )}
        {formats && (
          <Radio.Group value={format} onChange={setFormat}>
            <Table verticalSpacing={4} data-testid="export-formats">
              <Table.Tbody>
                {formats.map((f) => (
                  <Table.Tr key={f.format} data-testid={`format-${f.format}`}>
                    <Table.Td w={30}>
                      <Radio value={f.format} disabled={!!f.blocked} aria-label={f.label} />
                    </Table.Td>
                    <Table.Td w={150}>
                      <Text size="sm" fw={500}>
                        {f.label}
                      </Text>
                    </Table.Td>
                    <Table.Td w={150}>
                      <StateBadge f={f} />
                    </Table.Td>
                    <Table.Td>
                      <Text size="xs" c="dimmed">
                        {f.blocked ?? (f.missing.length ? `needs ${f.missing.join(', ')}` : '')}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Radio.Group>
        )}

        {chosen && !chosen.blocked && !chosen.available && (
          <Group>
            <Button variant="light" onClick={() => void installJob.start(() => transport.call('models.install', { format: chosen.format }))} loading={installing} data-testid="install-format">
              Install {chosen.missing.join(', ')}
            </Button>
            <Text size="xs" c="dimmed">
              into the trainer environment (pip; torch and Ultralytics stay as they are)
            </Text>
          </Group>
        )}
        {installJob.job && (
          <Stack gap={4}>
            <JobBar job={installJob.job} label="Installing" onCancel={() => void installJob.cancel()} />
            {installJob.job.log.length > 0 && (
              <ScrollArea h={160} type="auto" offsetScrollbars data-testid="install-log">
                <Code block>{installJob.job.log.join('\n')}</Code>
              </ScrollArea>
            )}
          </Stack>
        )}

        {chosen && (
          <Group gap="md" align="end">
            {chosen.options.includes('imgsz') && (
              <NumberInput label="imgsz" value={imgsz} onChange={(v) => setImgsz(typeof v === 'number' ? v : '')} min={32} step={32} w={110} size="xs" />
            )}
            {(Object.keys(OPTION_LABEL) as Array<Exclude<Option, 'imgsz'>>)
              .filter((o) => chosen.options.includes(o))
              .map((o) => (
                <Checkbox key={o} label={OPTION_LABEL[o]} checked={opts[o]} onChange={(e) => setOpt(o, e.currentTarget.checked)} size="xs" data-testid={`opt-${o}`} />
              ))}
          </Group>
        )}
        <Group>
          <Button onClick={doExport} disabled={!chosen || !chosen.available || !finished || busy || installing} loading={busy} data-testid="export-run">
            Export {chosen?.label ?? ''}
          </Button>
        </Group>
        {exportJob.job && <JobBar job={exportJob.job} label="Exporting" onCancel={() => void exportJob.cancel()} />}
        {result && (
          <Alert color="green" variant="light" title={`${result.format} export ready`} data-testid="export-result">
            <Text size="sm" ff="monospace" style={{ wordBreak: 'break-all' }}>
              {result.path}
            </Text>
            <Text size="xs" c="dimmed">
              {formatBytes(result.bytes)} in {result.seconds.toFixed(1)} s
            </Text>
          </Alert>
        )}

        <Group align="end">
          <TextInput label="Deploy as" description="workspace models/<name>_v<N>, earlier versions kept" value={name} onChange={(e) => setName(e.currentTarget.value)} error={name && !NAME_RE.test(name) ? 'letters, digits, _ . -' : null} w={260} size="xs" />
          <Button variant="light" onClick={doDeploy} loading={deploying} disabled={!finished || busy || deploying || (!!name && !NAME_RE.test(name))} data-testid="deploy-run">
            Deploy {result ? result.path.split(/[\\/]/).pop() : 'best.onnx'}
          </Button>
        </Group>
        {deployJob.job && <JobBar job={deployJob.job} label="Deploying" onCancel={() => void deployJob.cancel()} />}
        {deployed && (
          <Alert color="blue" variant="light" title={`Deployed ${deployed.name} v${deployed.version}`} data-testid="deploy-result">
            <Text size="sm" ff="monospace" style={{ wordBreak: 'break-all' }}>
              {deployed.path}
            </Text>
            <Text size="xs" c="dimmed">
              with its model card (metrics, classes, thresholds {deployed.card.thresholds.default} / IoU {deployed.card.thresholds.iou}, run {deployed.card.run?.name ?? '—'})
            </Text>
          </Alert>
        )}
      </Stack>
    </Paper>
  );
}
