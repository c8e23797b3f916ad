import { useEffect, type ReactNode } from 'react';
import { ActionIcon, Group, Modal, Stack, Text } from '@mantine/core';
import { IconChevronLeft, IconChevronRight } from './icons';

/**
 * The frame of the image viewers (the dataset's and the review gallery's): a modal titled with the
 * file and its position, the image area between previous/next buttons, what goes under it. ←/→ move
 * (as do the `keys` given, e.g. G and P), Esc closes; keys typed into a text field are left alone.
 */
export function ViewerModal(props: {
  file: string;
  pos: number;
  total: number;
  onChange(pos: number): void;
  onClose(): void;
  /** more single-key shortcuts (the key as KeyboardEvent.key, lower case) */
  keys?: Record<string, () => void>;
  size: string;
  height: string;
  testId: string;
  /** the image with its overlays */
  children: ReactNode;
  /** under the image */
  footer?: ReactNode;
}) {
  const { file, pos, total, onChange, onClose, keys, size, height, testId, children, footer } = props;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.target instanceof HTMLInputElement && e.target.type !== 'checkbox') || e.target instanceof HTMLTextAreaElement) return;
      const extra = keys?.[e.key.toLowerCase()];
      if (e.key === 'ArrowLeft' && pos > 0) onChange(pos - 1);
      else if (e.key === 'ArrowRight' && pos < total - 1) onChange(pos + 1);
      else if (extra) extra();
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [pos, total, onChange, keys]);

  return (
    <Modal
      opened
      onClose={onClose}
      size={size}
      title={
        <Group gap="xs">
          <Text fw={600} size="sm" className="mono">
            {file}
          </Text>
          <Text size="xs" c="dimmed" data-testid="viewer-position">
            {pos + 1} / {total}
          </Text>
        </Group>
      }
      data-testid={testId}
    >
      <Stack gap="xs">
        <Group gap="xs" wrap="nowrap" align="center">
          <ActionIcon variant="default" size="lg" onClick={() => onChange(pos - 1)} disabled={pos <= 0} aria-label="previous image">
            <IconChevronLeft />
          </ActionIcon>
          <div className="viewer" style={{ flex: 1, height }}>
            {children}
          </div>
          <ActionIcon variant="default" size="lg" onClick={() => onChange(pos + 1)} disabled={pos >= total - 1} aria-label="next image">
            <IconChevronRight />
          </ActionIcon>
        </Group>
        {footer}
      </Stack>
    </Modal>
  );
}
