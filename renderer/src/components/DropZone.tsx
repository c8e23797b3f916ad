import { useRef, useState, type DragEvent } from 'react';
import { Group, Progress, Stack, Text } from '@mantine/core';
import { droppedFiles } from '../api/drop';
import { useSpotter, useTransport } from '../state/react';
import { selectUpload } from '../state/import';
import { IconImport } from './icons';

function hasFiles(e: DragEvent) {
  return Array.from(e.dataTransfer.types).includes('Files');
}

/**
 * The big drop target for exports: files, folders and zips. Dropped items go through
 * transport.resolveDrop (real paths in Electron, an upload to the server in serve mode).
 * Clicking it opens the native picker in Electron, or the browser's file chooser in serve mode.
 */
export function DropZone({ compact }: { compact?: boolean }) {
  const transport = useTransport();
  const dropFiles = useSpotter((s) => s.dropFiles);
  const addSources = useSpotter((s) => s.addSources);
  const pick = useSpotter((s) => s.pick);
  const upload = useSpotter(selectUpload);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  // dragenter/leave fire for every child: count them so the highlight does not flicker
  const depth = useRef(0);

  const onClick = async () => {
    if (transport.mode === 'electron') {
      const paths = await pick('files', 'Choose annotation exports');
      if (paths?.length) addSources(paths);
    } else {
      input.current?.click();
    }
  };

  return (
    <div
      className="dropzone"
      data-over={over}
      data-testid="dropzone"
      role="button"
      tabIndex={0}
      onClick={() => void onClick()}
      onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && void onClick()}
      onDragEnter={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        depth.current += 1;
        setOver(true);
      }}
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
      }}
      onDragLeave={() => {
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) setOver(false);
      }}
      onDrop={(e) => {
        e.preventDefault();
        depth.current = 0;
        setOver(false);
        // must run synchronously inside the handler: folder entries vanish afterwards
        const files = droppedFiles(e.dataTransfer);
        void dropFiles(files);
      }}
      style={{ padding: compact ? '18px 16px' : '48px 24px' }}
    >
      <input
        ref={input}
        type="file"
        multiple
        hidden
        onChange={(e) => {
          const files = Array.from(e.currentTarget.files ?? []);
          e.currentTarget.value = '';
          void dropFiles(files);
        }}
      />
      <Stack align="center" gap={compact ? 2 : 6}>
        <Group gap="xs" c="dimmed">
          <IconImport size={compact ? 20 : 36} />
        </Group>
        <Text fw={600} size={compact ? 'sm' : 'lg'} ta="center">
          {compact ? 'Drop more exports here to merge them' : 'Drop a COCO / CVAT / YOLO export here'}
        </Text>
        {!compact && (
          <Text size="sm" c="dimmed" ta="center">
            A zip as CVAT or Roboflow gives it, a folder, or an annotation file — several at once are merged into one
            dataset. Or click to choose files.
          </Text>
        )}
        {upload && (
          <Stack gap={2} w="100%" maw={420} mt="xs">
            <Text size="xs" c="dimmed" ta="center">
              Uploading {(upload.sent / 1e6).toFixed(1)} / {(upload.total / 1e6).toFixed(1)} MB
            </Text>
            <Progress value={upload.total ? (upload.sent / upload.total) * 100 : 0} size="sm" data-testid="upload-progress" />
          </Stack>
        )}
      </Stack>
    </div>
  );
}
