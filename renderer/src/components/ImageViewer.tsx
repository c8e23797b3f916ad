import { useEffect, useState } from 'react';
import { Badge, Group, Text } from '@mantine/core';
import { useSpotter, useTransport } from '../state/react';
import { imageAt, PAGE_SIZE, selectClassNames } from '../state/dataset';
import { LabelOverlay } from './LabelOverlay';
import { ViewerModal } from './ViewerModal';
import { classColor, SPLIT_MANTINE_COLORS } from '../lib/palette';

/** A larger view of one image with its labels; left/right arrows move through the grid's order. */
export function ImageViewer(props: { index: number; total: number; onChange(i: number): void; onClose(): void }) {
  const { index, total, onChange, onClose } = props;
  const transport = useTransport();
  const image = useSpotter((s) => imageAt(s, index));
  const names = useSpotter(selectClassNames);
  const ensurePage = useSpotter((s) => s.ensurePage);
  const [natural, setNatural] = useState<{ w: number; h: number; src: string } | null>(null);

  useEffect(() => {
    if (!image) ensurePage(Math.floor(index / PAGE_SIZE));
  }, [image, index, ensurePage]);

  const src = image ? transport.fileUrl(image.path) : null;
  const counts = new Map<number, number>();
  for (const l of image?.labels ?? []) counts.set(l.cls, (counts.get(l.cls) ?? 0) + 1);

  return (
    <ViewerModal
      file={image?.file ?? '…'}
      pos={index}
      total={total}
      onChange={onChange}
      onClose={onClose}
      size="min(1200px, 94vw)"
      height="min(70vh, 800px)"
      testId="image-viewer"
      footer={
        image && (
          <Group gap="xs" justify="space-between">
            <Group gap={6}>
              <Badge color={SPLIT_MANTINE_COLORS[image.split] ?? 'gray'} variant="light">
                {image.split}
              </Badge>
              <Text size="xs" c="dimmed">
                group <span className="mono">{image.group}</span> · source <span className="mono">{image.source}</span>
                {natural && natural.src === src ? ` · ${natural.w}×${natural.h}` : ''}
              </Text>
            </Group>
            <Group gap={6}>
              {counts.size === 0 && (
                <Badge color="gray" variant="light">
                  negative (no objects)
                </Badge>
              )}
              {[...counts].sort((x, y) => x[0] - y[0]).map(([cls, n]) => (
                <Badge key={cls} color={classColor(cls)} variant="filled" autoContrast tt="none">
                  {names?.[cls] ?? cls}: {n}
                </Badge>
              ))}
            </Group>
          </Group>
        )
      }
    >
      {src && (
        <img
          key={src}
          src={src}
          alt={image?.file}
          onLoad={(e) => setNatural({ w: e.currentTarget.naturalWidth, h: e.currentTarget.naturalHeight, src })}
        />
      )}
      {image && natural && natural.src === src && <LabelOverlay labels={image.labels} width={natural.w} height={natural.h} strokeWidth={2} names={names} />}
    </ViewerModal>
  );
}
