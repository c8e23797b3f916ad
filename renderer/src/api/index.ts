/**
 * Picks the transport once at start-up: inside Electron the preload script has put the bridge on
 * `window.spotter`; otherwise the page came from `spotter serve`, which put the token in
 * <meta name="spotter-token"> (a `?token=` in the address also works, e.g. under the Vite dev server).
 */
import type { PreloadBridge } from '../../../electron/shared/contract.js';
import type { Transport } from './types.js';
import { createIpcTransport } from './ipc.js';
import { createServeTransport } from './ws.js';

export type { Transport } from './types.js';
export { droppedFiles } from './drop.js';
export { TransportError } from './ws.js';

declare global {
  interface Window {
    spotter?: PreloadBridge;
  }
}

export function serveToken(doc: Document = document, loc: Location = location): string | null {
  const meta = doc.querySelector<HTMLMetaElement>('meta[name="spotter-token"]')?.content;
  return meta || new URLSearchParams(loc.search).get('token');
}

export function createTransport(): Transport {
  if (window.spotter) return createIpcTransport(window.spotter);
  const token = serveToken();
  if (!token) throw new Error('No access token: open the URL printed by `spotter serve` (it ends in ?token=...).');
  return createServeTransport({ token });
}
