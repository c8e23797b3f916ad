/**
 * The only place in main that touches ipcMain: one invoke channel for every call of the contract and
 * one send channel for every event. Calls from any frame that is not the app's own page are refused.
 */
import { BrowserWindow, ipcMain, type IpcMainInvokeEvent } from 'electron';
import type { CallHandlers } from '../shared/contract.js';
import type { Emit } from '../core/api.js';
import type { Logger } from '../core/context.js';
import { CALL_CHANNEL, EVENT_CHANNEL, type CallReply } from '../preload/channels.js';
import { dispatchCall } from './dispatch.js';
import { isAppUrl } from './security.js';

function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  // senderFrame is null when the frame navigated away or was destroyed before the call arrived.
  const frame = event.senderFrame;
  return frame !== null && isAppUrl(frame.url);
}

/** Serve every call of the contract on CALL_CHANNEL. Returns the unregister function. */
export function registerIpc(handlers: CallHandlers, logger: Logger): () => void {
  ipcMain.handle(CALL_CHANNEL, async (event, name: unknown, input: unknown): Promise<CallReply> => {
    if (!isTrustedSender(event)) {
      logger.warn('ipc: refused call from a foreign frame', { name: String(name), url: event.senderFrame?.url ?? null });
      return { ok: false, error: { code: 'forbidden', message: 'Calls are only accepted from the Spotter window' } };
    }
    const reply = await dispatchCall(handlers, name, input);
    if (!reply.ok) logger.debug('ipc: call failed', { name: String(name), ...reply.error });
    return reply;
  });
  return () => ipcMain.removeHandler(CALL_CHANNEL);
}

/** The core's event sink: every event goes to every window currently showing the app's page. */
export function createEmitter(): Emit {
  return (event, payload) => {
    for (const win of BrowserWindow.getAllWindows()) {
      const wc = win.webContents;
      if (!wc.isDestroyed() && isAppUrl(wc.getURL())) wc.send(EVENT_CHANNEL, event, payload);
    }
  };
}
