/**
 * Serve-mode transport: calls are POSTs to /api/call/<name>, events arrive on one WebSocket
 * (/api/events) that reconnects by itself, dropped files are streamed to /api/upload.
 * Every request carries the per-launch token the server put in the page.
 */
import type { CallInput, CallName, CallOutput, EventName, EventPayloads, WireError } from '../../../electron/shared/contract.js';
import type { Transport } from './types.js';
import { expandDrop } from './drop.js';

export class TransportError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/** The subset of the browser's WebSocket we use (tests pass the `ws` package's). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(): void;
}

export interface ServeTransportOptions {
  token: string;
  /** http(s) origin of the server; default: the page's own */
  baseUrl?: string;
  WebSocket?: new (url: string) => WebSocketLike;
  /** parallel uploads of a drop */
  uploadConcurrency?: number;
}

export interface ServeTransport extends Transport {
  mode: 'serve';
  /** true while the event socket is open */
  readonly connected: boolean;
  /** close the event socket for good */
  dispose(): void;
}

interface UploadAnswer {
  path: string;
  top: string;
  size: number;
}

/** What an upload stopped by an AbortSignal rejects with (code `aborted`). */
function abortError(relPath: string): TransportError {
  return new TransportError(`upload of ${relPath} was cancelled`, 0, 'aborted');
}

function randomId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function createServeTransport(opts: ServeTransportOptions): ServeTransport {
  const base = (opts.baseUrl ?? globalThis.location.origin).replace(/\/$/, '');
  const token = opts.token;
  const WS = opts.WebSocket ?? (globalThis.WebSocket as unknown as new (url: string) => WebSocketLike);
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let socket: WebSocketLike | null = null;
  let connected = false;
  let disposed = false;
  let retryMs = 250;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const apiUrl = (route: string, params: Record<string, string> = {}) => {
    const q = new URLSearchParams(params).toString();
    return `${base}${route}${q ? `?${q}` : ''}`;
  };

  function connect(): void {
    if (disposed) return;
    const ws = new WS(`${base.replace(/^http/, 'ws')}/api/events?token=${encodeURIComponent(token)}`);
    socket = ws;
    ws.onopen = () => {
      connected = true;
      retryMs = 250;
    };
    ws.onmessage = (ev) => {
      let msg: { event?: string; payload?: unknown };
      try {
        msg = JSON.parse(typeof ev.data === 'string' ? ev.data : String(ev.data));
      } catch {
        return;
      }
      const set = msg.event ? listeners.get(msg.event) : undefined;
      if (!set) return;
      for (const fn of [...set]) {
        try {
          fn(msg.payload);
        } catch (err) {
          console.error(`listener of ${msg.event} failed`, err);
        }
      }
    };
    ws.onerror = () => {
      /* onclose follows and reconnects */
    };
    ws.onclose = () => {
      connected = false;
      if (socket === ws) socket = null;
      if (disposed) return;
      // the server restarting or the laptop sleeping: come back, a bit later each time
      retryTimer = setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  }
  connect();

  async function call<K extends CallName>(name: K, input: CallInput<K>): Promise<CallOutput<K>> {
    const res = await fetch(apiUrl(`/api/call/${name}`), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'x-spotter-token': token },
      body: JSON.stringify(input ?? {}),
    });
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      if (res.ok) throw new TransportError(`${name}: the server answered something that is not JSON`, res.status);
    }
    if (!res.ok) {
      const err = (body ?? {}) as Partial<WireError>;
      throw new TransportError(err.message ?? `${name}: HTTP ${res.status}`, res.status, err.code);
    }
    return body as CallOutput<K>;
  }

  function on<E extends EventName>(event: E, listener: (payload: EventPayloads[E]) => void): () => void {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    const fn = listener as (payload: unknown) => void;
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  function upload(file: File, relPath: string, batch: string, signal: AbortSignal, onBytes: (loaded: number) => void): Promise<UploadAnswer> {
    // XHR, not fetch: it streams a File from disk and reports upload progress
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(abortError(relPath));
      const xhr = new XMLHttpRequest();
      const onAbort = () => xhr.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      const settle = (fn: () => void) => {
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      xhr.open('POST', apiUrl('/api/upload', { batch, name: relPath }));
      xhr.setRequestHeader('x-spotter-token', token);
      xhr.setRequestHeader('Content-Type', 'application/octet-stream');
      xhr.upload.onprogress = (e) => onBytes(e.loaded);
      xhr.onload = () => {
        let body: Partial<UploadAnswer & WireError> = {};
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          /* reported below */
        }
        if (xhr.status === 200 && body.path && body.top) {
          onBytes(file.size);
          settle(() => resolve(body as UploadAnswer));
        } else
          settle(() => reject(new TransportError(body.message ?? `upload of ${relPath} failed (HTTP ${xhr.status})`, xhr.status, body.code)));
      };
      xhr.onabort = () => settle(() => reject(abortError(relPath)));
      xhr.onerror = () =>
        settle(() => reject(new TransportError(`upload of ${relPath} failed: the connection was lost (is it a folder the browser cannot read?)`, 0)));
      xhr.send(file);
    });
  }

  async function resolveDrop(
    files: File[],
    onProgress?: (sentBytes: number, totalBytes: number) => void,
    signal?: AbortSignal,
  ): Promise<string[]> {
    const items = await expandDrop(files);
    // one controller for the whole drop: the first failure (or the caller's abort) stops every upload
    const drop = new AbortController();
    const stop = () => drop.abort();
    if (signal?.aborted) stop();
    signal?.addEventListener('abort', stop, { once: true });
    const total = items.reduce((n, i) => n + i.file.size, 0);
    const sent = new Array<number>(items.length).fill(0);
    // XHR progress can still fire after a failure elsewhere: say nothing once the drop is over
    const report = () => {
      if (!drop.signal.aborted) onProgress?.(sent.reduce((a, b) => a + b, 0), total);
    };
    report();
    const batch = randomId();
    const tops: string[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
      while (next < items.length && !drop.signal.aborted) {
        const i = next++;
        const item = items[i]!;
        const answer = await upload(item.file, item.relPath, batch, drop.signal, (loaded) => {
          sent[i] = loaded;
          report();
        });
        tops[i] = answer.top;
      }
    };
    const n = Math.max(1, Math.min(opts.uploadConcurrency ?? 4, items.length));
    try {
      await Promise.all(Array.from({ length: n }, worker));
      if (drop.signal.aborted) throw abortError(items[0]?.relPath ?? 'the drop');
    } catch (err) {
      stop();
      throw err;
    } finally {
      signal?.removeEventListener('abort', stop);
    }
    // one path per dropped item: a file's own path, a folder's folder
    return [...new Set(tops)];
  }

  return {
    mode: 'serve',
    get connected() {
      return connected;
    },
    call,
    on,
    fileUrl: (path) => apiUrl('/api/file', { path, token }),
    thumbUrl: (path, size) => apiUrl('/api/thumb', { path, size: String(Math.round(size)), token }),
    resolveDrop,
    dispose() {
      disposed = true;
      clearTimeout(retryTimer);
      socket?.close();
      socket = null;
    },
  };
}
