/**
 * Sandboxed preload: exposes `window.spotter` (PreloadBridge) and nothing else. Only functions cross
 * the bridge; no ipcRenderer, no event objects, no node APIs reach the page.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { CallName, EventName, PreloadBridge } from '../shared/contract.js';
import { CALL_CHANNEL, EVENT_CHANNEL, type CallReply } from './channels.js';

const listeners = new Map<string, Set<(payload: unknown) => void>>();

// One IPC listener for all events; subscriptions only touch the map.
ipcRenderer.on(EVENT_CHANNEL, (_event, name: string, payload: unknown) => {
  for (const listener of listeners.get(name) ?? []) {
    try {
      listener(payload);
    } catch (err) {
      console.error(`spotter: listener for ${name} threw`, err);
    }
  }
});

const bridge = {
  async call(name, input) {
    const reply = (await ipcRenderer.invoke(CALL_CHANNEL, name satisfies CallName, input)) as CallReply;
    // Rejects with a plain WireError object: an Error crossing contextBridge keeps only its message.
    if (!reply.ok) throw reply.error;
    return reply.value as never;
  },
  on(event: EventName, listener) {
    const fn = listener as (payload: unknown) => void;
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  },
  pathForFile: (file) => webUtils.getPathForFile(file),
} satisfies PreloadBridge;

/**
 * What is really exposed, checked against PreloadBridge in tests/contract.test-d.ts. Type-only; the
 * bundle's empty `module.exports` is fine (sandboxed preloads get `exports`/`module` like CJS).
 */
export type ExposedBridge = typeof bridge;

contextBridge.exposeInMainWorld('spotter', bridge);
