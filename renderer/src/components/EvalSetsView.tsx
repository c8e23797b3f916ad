import { useState } from 'react';
import { ActionIcon, Alert, Button, Group, Stack, Table, Text, TextInput, Tooltip } from '@mantine/core';
import type { EvalSetInfo } from '../../../electron/shared/contract';
import { useSpotter } from '../state/react';
import { selectEvalSetJob } from '../state/dataset';
import { formatCount } from '../lib/paths';
import { JobProgress } from './JobProgress';
import { PathInput } from './PathInput';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;

/**
 * The dataset's named evaluation sets (night, winter, a new camera): images never trained on that
 * every run is validated on; the run report has a column per set. Added from any export the importer
 * reads, with the dataset's class names.
 */
export function EvalSetsView({ sets }: { sets: EvalSetInfo[] }) {
  const addEvalSet = useSpotter((s) => s.addEvalSet);
  const removeEvalSet = useSpotter((s) => s.removeEvalSet);
  const job = useSpotter(selectEvalSetJob);
  const [adding, setAdding] = useState(false);
  const [name, setName] = useState('');
  const nameError = name && !NAME.test(name) ? 'letters, digits, _ . - (up to 40)' : sets.some((s) => s.name === name) ? 'replaces the set of that name' : null;
  const running = job?.status === 'running';
  return (
    <Stack gap="sm" data-testid="evalsets">
      <Text size="sm" c="dimmed">
        Images kept out of training — another site, night shots, a new camera. Every run is validated on each set after training, and the run report shows a column
        per set.
      </Text>
      {sets.length > 0 && (
        <Table withTableBorder fz="sm" data-testid="evalsets-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>set</Table.Th>
              <Table.Th ta="right">images</Table.Th>
              <Table.Th ta="right">objects</Table.Th>
              <Table.Th>from</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {sets.map((s) => (
              <Table.Tr key={s.name}>
                <Table.Td fw={500}>{s.name}</Table.Td>
                <Table.Td ta="right">{formatCount(s.images)}</Table.Td>
                <Table.Td ta="right">{formatCount(s.objects)}</Table.Td>
                <Table.Td>
                  <Text size="xs" c="dimmed" className="mono" lineClamp={1} title={s.source}>
                    {s.source}
                  </Text>
                </Table.Td>
                <Table.Td w={40}>
                  <Tooltip label="Remove this evaluation set" withArrow>
                    <ActionIcon variant="subtle" color="gray" aria-label={`remove evaluation set ${s.name}`} onClick={() => void removeEvalSet(s.name)}>
                      ×
                    </ActionIcon>
                  </Tooltip>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {job && job.status !== 'done' && <JobProgress job={job} />}
      {job?.status === 'done' && !adding && (
        <Alert color="teal" variant="light" py={6}>
          Evaluation set added; runs trained from now on are validated on it.
        </Alert>
      )}
      {adding ? (
        <Stack gap="xs">
          <TextInput
            label="Name"
            placeholder="night"
            value={name}
            onChange={(e) => setName(e.currentTarget.value.trim())}
            error={nameError && !nameError.startsWith('replaces') ? nameError : undefined}
            description={nameError?.startsWith('replaces') ? nameError : undefined}
            maw={260}
            data-testid="evalset-name"
          />
          <PathInput
            label="Export to add (COCO JSON, CVAT XML, YOLO folder, or a zip)"
            submitLabel="Add"
            busy={running}
            onCancel={() => setAdding(false)}
            onSubmit={(p) => {
              if (!name || !NAME.test(name)) return;
              void addEvalSet(name, [p]);
              setAdding(false);
              setName('');
            }}
            data-testid="evalset-source"
          />
        </Stack>
      ) : (
        <Group>
          <Button size="xs" variant="light" onClick={() => setAdding(true)} disabled={running} data-testid="evalset-add">
            Add an evaluation set…
          </Button>
        </Group>
      )}
    </Stack>
  );
}
