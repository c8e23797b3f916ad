import { useState } from 'react';
import { Button, Group, TextInput } from '@mantine/core';

/**
 * A path typed by hand: serve mode has no native picker (dialog.pick answers null), and the path is
 * one on the machine running `spotter serve`, not the browser's.
 */
export function PathInput(props: {
  label: string;
  placeholder?: string;
  submitLabel: string;
  initial?: string;
  busy?: boolean;
  onSubmit(path: string): void;
  onCancel?(): void;
  'data-testid'?: string;
}) {
  const [value, setValue] = useState(props.initial ?? '');
  const submit = () => {
    const v = value.trim();
    if (v) props.onSubmit(v);
  };
  return (
    <Group align="flex-end" gap="xs" wrap="nowrap">
      <TextInput
        style={{ flex: 1 }}
        label={props.label}
        placeholder={props.placeholder}
        description="A path on the machine running Spotter"
        value={value}
        onChange={(e) => setValue(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') submit();
          if (e.key === 'Escape') props.onCancel?.();
        }}
        autoFocus
        spellCheck={false}
        data-testid={props['data-testid']}
        classNames={{ input: 'mono' }}
      />
      <Button onClick={submit} loading={props.busy} disabled={!value.trim()}>
        {props.submitLabel}
      </Button>
      {props.onCancel && (
        <Button variant="default" onClick={props.onCancel}>
          Cancel
        </Button>
      )}
    </Group>
  );
}
