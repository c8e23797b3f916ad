/**
 * The renderer's view of the backend, whichever transport carries it (Electron IPC through the
 * preload bridge, or serve mode's WebSocket). Chosen once at start-up in `api/index.ts`.
 */
import type { SpotterApi } from '../../../electron/shared/contract.js';

export interface Transport extends SpotterApi {
  mode: 'electron' | 'serve';
  /** URL the renderer can put in <img src> for a local file (dataset image) */
  fileUrl(path: string): string;
  /** URL of a cached thumbnail (longest side `size` px) of a local image */
  thumbUrl(path: string, size: number): string;
  /**
   * Turn dropped files into paths the core can read: in Electron the real paths
   * (webUtils.getPathForFile); in serve mode the files are streamed to the server into a
   * temporary import folder, and the server-side paths are returned. Aborting `signal` stops every
   * upload of the drop and rejects; no progress is reported after the promise settles.
   */
  resolveDrop(files: File[], onProgress?: (sentBytes: number, totalBytes: number) => void, signal?: AbortSignal): Promise<string[]>;
}
