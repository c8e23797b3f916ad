import { useEffect, useMemo } from 'react';
import { ActionIcon, Alert, Code, CopyButton, Group, Loader, SimpleGrid, Stack, Table, Text, Textarea, TextInput, Title, Tooltip } from '@mantine/core';
import { useSpotter } from '../../state/react';
import { datasetItemOf, selectEstimate, selectForm, selectTrainerEnv, selectWizardDataset, trainRequestOf, yoloCommandOf } from '../../state/train';
import { IconAlert, IconCheck, IconCopy } from '../icons';
import { baseName, formatDuration } from './format';
import { useCurrentEstimate } from './hooks';
import { SweepSection } from './SweepSection';

/** The run as it will start: the settings, the equivalent `yolo` command, label and note, the estimate. */
export function ReviewStep() {
  const form = useSpotter(selectForm);
  const setForm = useSpotter((s) => s.setForm);
  const item = useSpotter(datasetItemOf);
  const ds = useSpotter(selectWizardDataset);
  const env = useSpotter(selectTrainerEnv);
  const estimate = useSpotter(selectEstimate);
  const loadEstimate = useSpotter((s) => s.loadEstimate);
  const req = useMemo(() => trainRequestOf(form, item?.task), [form, item?.task]);
  const reqKey = req ? JSON.stringify(req) : null;
  const est = useCurrentEstimate(estimate);

  // the estimate follows the request (debounced: typing a number changes it per keystroke)
  useEffect(() => {
    if (!reqKey || !env?.ready) return;
    const t = setTimeout(() => void loadEstimate(), 300);
    return () => clearTimeout(t);
  }, [reqKey, env?.ready, loadEstimate]);

  if (!req) return <Text c="dimmed">Choose a dataset and a model first.</Text>;
  const dataYaml = ds?.dir === form.dataset && ds.detail ? ds.detail.dataYaml : `${form.dataset}/data.yaml`;
  const command = yoloCommandOf(req, dataYaml, item?.task);
  const defaultLabel = `${baseName(req.model).replace(/\.(ya?ml|pt)$/i, '').replace(/^(best|last)$/, 'finetune')}-${req.imgsz}`;
  const extra = Object.entries(req.extra ?? {});
  const rows: Array<[string, string]> = [
    ['dataset', item ? `${item.name} (${item.images} images)` : (form.dataset ?? '')],
    ['model', req.model],
    ['epochs', `${req.epochs}${req.patience !== undefined ? `, patience ${req.patience}` : ''}`],
    ['imgsz · batch', `${req.imgsz} · ${req.batch === -1 ? 'auto' : req.batch}`],
    ['device · workers', `${req.device} · ${req.workers}`],
    ['optimizer', `${req.optimizer ?? 'auto'}${req.lr0 !== undefined ? `, lr0 ${req.lr0}` : ''}${req.cos_lr ? ', cosine' : ''}`],
    ['seed · cache', `${req.seed ?? 0} · ${req.cache === undefined ? 'off' : String(req.cache)}`],
    ['augmentation', extra.length ? extra.map(([k, v]) => `${k}=${v}`).join(', ') : 'Ultralytics defaults'],
  ];
  if (req.tensorboard) rows.push(['logging', 'TensorBoard (local, in the run folder)']);
  if (req.overrideHealth) rows.push(['health', 'errors overridden: trains anyway']);

  return (
    <Stack gap="md">
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
        <Stack gap="xs">
          <TextInput
            label="Label"
            description="names the run folder and its row in the run list"
            placeholder={defaultLabel}
            value={form.label}
            maxLength={80}
            onChange={(e) => setForm({ label: e.currentTarget.value })}
            data-testid="train-label"
          />
          <Textarea
            label="Why this run exists"
            description="goes into summary.md and REPORT.md, for whoever reads the runs later (you, in a month)"
            placeholder="e.g. baseline at 416 px for the Orange Pi; compare with the 640 run"
            value={form.note}
            maxLength={2000}
            autosize
            minRows={3}
            onChange={(e) => setForm({ note: e.currentTarget.value })}
            data-testid="train-note"
          />
        </Stack>
        <Table withRowBorders={false} verticalSpacing={2} fz="sm" data-testid="review-table">
          <Table.Tbody>
            {rows.map(([k, v]) => (
              <Table.Tr key={k}>
                <Table.Td w={150} c="dimmed" style={{ whiteSpace: 'nowrap' }}>
                  {k}
                </Table.Td>
                <Table.Td style={{ wordBreak: 'break-all' }}>{v}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </SimpleGrid>
      <Stack gap={4}>
        <Group gap={6}>
          <Title order={5}>Equivalent command</Title>
          <CopyButton value={command} timeout={1500}>
            {({ copied, copy }) => (
              <Tooltip label={copied ? 'Copied' : 'Copy'} withArrow>
                <ActionIcon variant="subtle" color={copied ? 'teal' : 'gray'} onClick={copy} aria-label="copy the command">
                  {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
                </ActionIcon>
              </Tooltip>
            )}
          </CopyButton>
        </Group>
        <Code block data-testid="yolo-command" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
          {command}
        </Code>
        <Text size="xs" c="dimmed">
          The run folder's command.sh holds the exact command, with project/name set to the run folder
          {req.device === 'auto' || req.batch === -1 ? ' and device and batch resolved for this machine' : ''}.
        </Text>
      </Stack>
      <Stack gap={4} data-testid="train-estimate">
        <Title order={5}>Estimate</Title>
        {!env?.ready ? (
          <Text size="sm" c="dimmed">
            Available once the trainer environment is set up.
          </Text>
        ) : estimate?.loading || (!est && !estimate?.error) ? (
          <Group gap="xs">
            <Loader size="sm" />
            <Text size="xs" c="dimmed">
              the first time for these settings, a few training batches are timed on this machine (seconds)
            </Text>
          </Group>
        ) : estimate?.error ? (
          <Alert color="red" variant="light" icon={<IconAlert />} p="xs">
            {estimate.error}
          </Alert>
        ) : est ? (
          <>
            <Text size="sm">
              About <b>{formatDuration(est.seconds)}</b> <Text span c="dimmed">({est.basis})</Text>
            </Text>
            {est.confirm && (
              <Alert color="yellow" variant="light" icon={<IconAlert />} p="xs" data-testid="estimate-confirm-note">
                {est.confirm.replace(/\s*Start anyway\?\s*$/, '')} Start will ask you to confirm.
              </Alert>
            )}
          </>
        ) : null}
      </Stack>
      <SweepSection />
    </Stack>
  );
}
