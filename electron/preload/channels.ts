/**
 * The Electron transport's wire format, shared by main/ipc.ts and preload.ts. Kept free of value
 * imports so the sandboxed preload bundle stays tiny (no zod, no contract schemas).
 */
import type { WireError } from '../shared/contract.js';

/** invoke(CALL_CHANNEL, name, input) → CallReply */
export const CALL_CHANNEL = 'spotter:call';
/** send(EVENT_CHANNEL, name, payload), main → renderer */
export const EVENT_CHANNEL = 'spotter:event';

/**
 * Calls resolve with an envelope instead of rejecting: ipcMain.handle rejections reach the renderer
 * as a bare Error with a prefixed message, dropping `code`.
 */
export type CallReply = { ok: true; value: unknown } | { ok: false; error: WireError };
