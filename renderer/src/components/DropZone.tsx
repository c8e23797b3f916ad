import { useRef, useState, type DragEvent } from 'react';
import { Button, Group, Progress, Stack, Text } from '@mantine/core';
import { droppedFiles } from '../api/drop';
import { useSpotter, useTransport } from '../state/react';
import { selectImportLocked, selectUpload } from '../state/import';
import { IconImport } from './icons';

function hasFiles(e: DragEvent) {
  return Array.from(e.dataTransfer.types).includes('Files');
}

/**
 * The big drop target for exports: files, folders and zips. Dropped items go through
 * transport.resolveDrop (real paths in Electron, an upload to the server in serve mode).
 * Clicking it opens the native picker in Electron, or the browser's file chooser in serve mode.
 * It takes nothing while an import runs (its sources are fixed) or while a drop is still uploading.
 */
export function DropZone({ compact }: { compact?: boolean }) {
  const transport = useTransport();
  const dropFiles = useSpotter((s) => s.dropFiles);
  const addSources = useSpotter((s) => s.addSources);
  const pick = useSpotter((s) => s.pick);
  const upload = useSpotter(selectUpload);
  const locked = useSpotter(selectImportLocked);
  const cancelUpload = useSpotter((s) => s.cancelUpload);
  const disabled = locked || !!upload;
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  // dragenter/leave fire for every child: count them so the highlight does not flicker
  const depth = useRef(0);

  const onClick = async () => {
    if (disabled) return;
    if (transport.mode === 'electron') {
      const paths = await pick('files', 'Choose annotation exports');
      if (paths?.length) addSources(paths);
    } else {
      input.current?.click();
    }
  };

  return (
    <Stack gap="xs">
      <div
        className="dropzone"
        data-over={over && !disabled}
        data-disabled={disabled}
        aria-disabled={disabled}
        data-testid="dropzone"
        role="button"
        tabIndex={disabled ? -1 : 0}
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
          e.dataTransfer.dropEffect = disabled ? 'none' : 'copy';
        }}
        onDragLeave={() => {
          depth.current = Math.max(0, depth.current - 1);
          if (depth.current === 0) setOver(false);
        }}
        onDrop={(e) => {
          e.preventDefault();
          depth.current = 0;
          setOver(false);
          if (disabled) return;
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
            {locked
              ? 'Importing: the sources are fixed until it ends'
              : compact
                ? 'Drop more exports here to merge them'
                : 'Drop a COCO / CVAT / YOLO export here'}
          </Text>
          {!compact && (
            <Text size="sm" c="dimmed" ta="center">
              A zip as CVAT or Roboflow gives it, a folder, or an annotation file — several at once are merged into one
              dataset. Or click to choose files.
            </Text>
          )}
        </Stack>
      </div>
      {upload && <UploadProgress sent={upload.sent} total={upload.total} onCancel={cancelUpload} />}
    </Stack>
  );
}

/** Serve mode: bytes of the drop streamed to the server so far, with Cancel (outside the drop zone's button). */
function UploadProgress({ sent, total, onCancel }: { sent: number; total: number; onCancel(): void }) {
  return (
    <Group gap="xs" wrap="nowrap" w="100%" maw={520} mx="auto" data-testid="upload">
      <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
        Uploading {(sent / 1e6).toFixed(1)} / {(total / 1e6).toFixed(1)} MB
      </Text>
      <Progress value={total ? (sent / total) * 100 : 0} size="sm" style={{ flex: 1 }} data-testid="upload-progress" />
      <Button size="compact-xs" variant="default" onClick={onCancel} data-testid="upload-cancel">
        Cancel
      </Button>
    </Group>
  );
}
