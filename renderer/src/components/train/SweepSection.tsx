import { ActionIcon, Button, Group, Stack, Switch, Text, TextInput, Title, Autocomplete } from '@mantine/core';
import { useSpotter } from '../../state/react';
import { selectSweepForm, sweepGridOf, SWEEP_ARGS, SWEEP_MAX_ARGS } from '../../state/train';

/**
 * The wizard's optional sweep: up to 3 arguments with comma-separated values; Start then trains every
 * combination one after the other (runs.sweep) and the Runs page shows the results table.
 */
export function SweepSection() {
  const f = useSpotter(selectSweepForm);
  const set = useSpotter((s) => s.setSweepForm);
  const g = sweepGridOf(f);
  const setArg = (i: number, patch: Partial<{ name: string; values: string }>) => set({ args: f.args.map((a, j) => (j === i ? { ...a, ...patch } : a)) });
  return (
    <Stack gap="xs" data-testid="sweep-section">
      <Group gap="sm">
        <Title order={5}>Sweep</Title>
        <Switch
          checked={f.enabled}
          onChange={(e) => set({ enabled: e.currentTarget.checked })}
          label="train a small grid of runs one after the other instead of one run"
          data-testid="sweep-enabled"
        />
      </Group>
      {f.enabled && (
        <>
          {f.args.map((a, i) => (
            <Group key={i} gap="xs" align="flex-end" wrap="nowrap">
              <Autocomplete
                label={i === 0 ? 'argument' : undefined}
                data={[...SWEEP_ARGS]}
                value={a.name}
                onChange={(v) => setArg(i, { name: v })}
                w={180}
                data-testid={`sweep-arg-${i}`}
              />
              <TextInput
                label={i === 0 ? 'values (comma-separated)' : undefined}
                placeholder="0.01, 0.001"
                value={a.values}
                onChange={(e) => setArg(i, { values: e.currentTarget.value })}
                style={{ flex: 1 }}
                data-testid={`sweep-values-${i}`}
              />
              <ActionIcon variant="subtle" color="gray" onClick={() => set({ args: f.args.filter((_, j) => j !== i) })} disabled={f.args.length <= 1} aria-label="remove this argument" mb={4}>
                ×
              </ActionIcon>
            </Group>
          ))}
          <Group gap="sm">
            <Button size="compact-sm" variant="subtle" disabled={f.args.length >= SWEEP_MAX_ARGS} onClick={() => set({ args: [...f.args, { name: '', values: '' }] })}>
              Add an argument
            </Button>
            <TextInput size="xs" placeholder="sweep label (default: sweep)" value={f.label} maxLength={40} onChange={(e) => set({ label: e.currentTarget.value })} w={220} />
          </Group>
          <Text size="sm" c={'error' in g ? 'red' : undefined} data-testid="sweep-count">
            {'error' in g
              ? g.error
              : `${g.runs} run(s), one after the other; each gets the settings above with its values (label <label>-${Object.keys(g.grid).map((k) => `${k}=…`).join('-')}).`}
          </Text>
        </>
      )}
    </Stack>
  );
}
