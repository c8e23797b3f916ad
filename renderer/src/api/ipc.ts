/**
 * Electron transport: the preload bridge (`window.spotter`) already speaks the typed contract;
 * local files and thumbnails come through the main process's custom protocol, which serves only
 * the allowed roots.
 */
import type { PreloadBridge, WireError } from '../../../electron/shared/contract.js';
import { FILE_PROTOCOL } from '../../../electron/shared/constants.js';
import { TransportError } from './ws.js';
import type { Transport } from './types.js';

export function createIpcTransport(bridge: PreloadBridge): Transport {
  return {
    mode: 'electron',
    // the bridge rejects with a plain {message, code} (Errors lose their shape crossing contextBridge):
    // give the UI the same TransportError as serve mode
    call: (name, input) =>
      bridge.call(name, input).catch((err: unknown) => {
        const w = (err ?? {}) as Partial<WireError>;
        throw new TransportError(w.message ?? String(err), 0, w.code);
      }),
    on: (event, listener) => bridge.on(event, listener),
    fileUrl: (path) => `${FILE_PROTOCOL}://file/${encodeURIComponent(path)}`,
    thumbUrl: (path, size) => `${FILE_PROTOCOL}://thumb/${encodeURIComponent(path)}?size=${Math.round(size)}`,
    // dropped files and folders already live on this machine: use their real paths
    async resolveDrop(files, onProgress) {
      const paths = files.map((f) => bridge.pathForFile(f)).filter((p) => p.length > 0);
      if (files.length && !paths.length) throw new Error('the dropped items have no path on disk');
      onProgress?.(0, 0);
      return [...new Set(paths)];
    },
  };
}
