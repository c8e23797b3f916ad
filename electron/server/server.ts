/**
 * Serve mode: the core's typed API over HTTP + one WebSocket for events, plus the built renderer,
 * on loopback with a per-launch token. The browser UI uses it exactly as the Electron UI uses IPC.
 *
 *   GET  /                       the renderer (index.html with the token in <meta name="spotter-token">)
 *   POST /api/call/<name>        JSON in (validated by CallInputs[name]) -> JSON out
 *   GET  /api/events             WebSocket: {event, payload} for every core event
 *   GET  /api/file?path=         a local file inside the allowed roots
 *   GET  /api/thumb?path=&size=  its cached thumbnail
 *   POST /api/upload?name=&batch=  a dropped file, streamed to <tempDir>/uploads/<batch>/<name>
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { CallInputs, type CallName, type EventName, type EventPayloads, type WireError } from '../shared/contract.js';
import type { CoreContext } from '../core/context.js';
import { createCoreApi, type CoreApi, type CoreApiOptions } from '../core/api.js';
import { isInside } from '../core/fsutil.js';
import { thumbnail, thumbSize, THUMB_MIME } from '../core/thumbs.js';
import { checkHostAndOrigin, isLoopbackHost, requestToken, tokenEquals, type GuardOptions } from './guard.js';
import { receiveUpload, UploadError } from './upload.js';

export interface ServerOptions {
  ctx: CoreContext;
  /** address to bind; default 127.0.0.1. Anything but loopback is refused unless allowRemote. */
  host?: string;
  allowRemote?: boolean;
  /** 0 (default) picks a free port */
  port?: number;
  /** the built renderer (dist/renderer) */
  rendererDir: string;
  defaultWorkspace: string;
  /** use defaultWorkspace even when the saved settings name another (`spotter serve --workspace`) */
  forceWorkspace?: boolean;
  /** fixed token (tests); default: 32 random bytes */
  token?: string;
  /** keep the computer awake while a run trains (the CLI passes the OS's inhibitor) */
  keepAwake?: (reason: string) => () => void;
}

export interface RunningServer {
  /** the URL to open, token included */
  url: string;
  port: number;
  token: string;
  /** the core behind the server (the CLI and tests wait on its jobs) */
  api: CoreApi;
  close(): Promise<void>;
}

export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*",
  // Mantine and ECharts set inline styles
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
// local files are data, never active content in our origin (a dataset may hold an .html or .svg)
const FILE_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox";

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.bmp': 'image/bmp',
  '.ico': 'image/x-icon',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};
// what /api/file may label as itself; the rest goes out as plain text or bytes
const FILE_TYPES = new Set(['.png', '.jpg', '.jpeg', '.gif', '.webp', '.bmp', '.tif', '.tiff', '.svg']);
const TEXT_TYPES = new Set(['.txt', '.json', '.yaml', '.yml', '.csv', '.xml', '.md', '.log']);
const MAX_CALL_BODY = 1 << 20;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const BASE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  // the token travels in URLs: never leak it in a Referer
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    ...BASE_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(data),
    'Cache-Control': 'no-store',
  });
  res.end(data);
}

function sendError(res: ServerResponse, status: number, message: string, code?: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body: WireError = code ? { message, code } : { message };
  sendJson(res, status, body);
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  // a JSON content type cannot be sent cross-site without a preflight, which we never answer
  if (!type.toLowerCase().startsWith('application/json')) throw new HttpError(415, 'calls take Content-Type: application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_CALL_BODY) throw new HttpError(413, `call body over ${MAX_CALL_BODY} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `call body is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** `import.run: input.sources: Too small: expected array to have >=1 items` — one line per problem. */
function describeZodError(name: string, issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .map((i) => `${name}: ${i.path.length ? 'input.' + i.path.map(String).join('.') : 'input'}: ${i.message}`)
    .join('; ');
}

async function realInsideRoots(p: string, roots: string[]): Promise<string | null> {
  if (!p || p.includes('\0') || !path.isAbsolute(p)) return null;
  let real: string;
  try {
    real = await fsp.realpath(p);
  } catch {
    return null;
  }
  for (const root of roots) {
    try {
      if (isInside(await fsp.realpath(root), real)) return real;
    } catch {
      // a root that does not exist allows nothing
    }
  }
  return null;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const bindHost = opts.host ?? '127.0.0.1';
  if (!isLoopbackHost(bindHost) && !opts.allowRemote) {
    throw new Error(`serve: refusing to listen on ${bindHost}: only loopback addresses are allowed (use an SSH tunnel, or allowRemote)`);
  }
  const token = opts.token ?? randomBytes(32).toString('base64url');
  const { ctx } = opts;
  const rendererDir = path.resolve(opts.rendererDir);
  const uploadsDir = path.join(ctx.paths.tempDir, 'uploads');
  const thumbsDir = path.join(ctx.paths.dataDir, 'cache', 'thumbs');
  const wildcard = bindHost === '0.0.0.0' || bindHost === '::';
  const guard: GuardOptions = {
    token,
    extraHosts: wildcard ? [] : [bindHost.includes(':') ? `[${bindHost.toLowerCase()}]` : bindHost.toLowerCase()],
    anyHost: wildcard && !!opts.allowRemote,
  };

  const clients = new Set<WebSocket>();
  const emit = <E extends EventName>(event: E, payload: EventPayloads[E]): void => {
    const msg = JSON.stringify({ event, payload });
    for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(msg);
  };
  const coreOptions: CoreApiOptions = {
    mode: 'serve',
    defaultWorkspace: opts.defaultWorkspace,
    forceWorkspace: opts.forceWorkspace,
    keepAwake: opts.keepAwake,
  };
  const api = await createCoreApi(ctx, emit, coreOptions);

  async function serveIndex(res: ServerResponse, url: URL): Promise<void> {
    // the page carries the token, so it is only given to whoever already holds it (another user
    // on a shared machine can reach the port too). No cookie: cookies ignore ports, so one would
    // be sent to any other server on 127.0.0.1 the browser visits.
    if (!tokenEquals(url.searchParams.get('token'), token)) {
      res.writeHead(401, { ...BASE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end('Spotter serve: open the URL printed by `spotter serve` (it includes ?token=...).\n');
      return;
    }
    let html: string;
    try {
      html = await fsp.readFile(path.join(rendererDir, 'index.html'), 'utf8');
    } catch {
      throw new HttpError(500, `the renderer is not built (${path.join(rendererDir, 'index.html')} missing); run npm run build`);
    }
    const meta = `<meta name="spotter-token" content="${token}">`;
    html = /<head[^>]*>/i.test(html) ? html.replace(/<head[^>]*>/i, (m) => `${m}\n    ${meta}`) : meta + html;
    res.writeHead(200, {
      ...BASE_HEADERS,
      'Content-Type': MIME['.html']!,
      'Content-Security-Policy': PAGE_CSP,
      'Cache-Control': 'no-store',
    });
    res.end(html);
  }

  async function serveStatic(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method not allowed');
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      throw new HttpError(400, 'malformed path');
    }
    if (rel === '/' || rel === '/index.html') return serveIndex(res, url);
    if (rel.includes('\0') || rel.includes('\\') || rel.split('/').includes('..')) throw new HttpError(403, 'path refused');
    const file = path.join(rendererDir, rel);
    if (!isInside(rendererDir, file)) throw new HttpError(403, 'path refused');
    let st: fs.Stats | null = null;
    try {
      st = await fsp.stat(file);
    } catch {
      st = null;
    }
    if (!st || !st.isFile()) {
      // client-side routes get the app; missing assets and folders (no listing) get 404
      if (!path.extname(rel) && !st) return serveIndex(res, url);
      throw new HttpError(404, 'not found');
    }
    const real = await fsp.realpath(file);
    if (!isInside(await fsp.realpath(rendererDir), real)) throw new HttpError(403, 'path refused');
    res.writeHead(200, {
      ...BASE_HEADERS,
      'Content-Type': MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': st.size,
      // Vite names assets by content hash
      'Cache-Control': rel.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (req.method === 'HEAD') return void res.end();
    await pipeline(fs.createReadStream(real), res);
  }

  async function handleCall(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    if (!Object.hasOwn(CallInputs, name)) throw new HttpError(404, `unknown call "${name}"`, 'unknown_call');
    if (req.method !== 'POST') throw new HttpError(405, 'calls are POST');
    const schema = CallInputs[name as CallName];
    const parsed = schema.safeParse(await readJsonBody(req));
    if (!parsed.success) throw new HttpError(400, describeZodError(name, parsed.error.issues), 'invalid_input');
    const handler = api[name as CallName] as (input: unknown) => Promise<unknown>;
    let result: unknown;
    try {
      result = await handler(parsed.data);
    } catch (err) {
      const e = err as Error & { code?: unknown };
      ctx.logger.warn(`call ${name} failed`, { error: e?.message ?? String(err) });
      throw new HttpError(500, e?.message ?? String(err), typeof e?.code === 'string' ? e.code : e?.name);
    }
    sendJson(res, 200, result ?? null);
  }

  async function serveFile(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const real = await realInsideRoots(url.searchParams.get('path') ?? '', api.allowedRoots());
    if (!real) throw new HttpError(403, 'path is not inside the workspace or an import folder');
    const st = await fsp.stat(real);
    if (!st.isFile()) throw new HttpError(404, 'not a file');
    const ext = path.extname(real).toLowerCase();
    const type = FILE_TYPES.has(ext) ? MIME[ext]! : TEXT_TYPES.has(ext) ? 'text/plain; charset=utf-8' : 'application/octet-stream';
    res.writeHead(200, {
      ...BASE_HEADERS,
      'Content-Type': type,
      'Content-Length': st.size,
      'Content-Security-Policy': FILE_CSP,
      'Cache-Control': 'private, max-age=60',
      'Last-Modified': st.mtime.toUTCString(),
    });
    if (req.method === 'HEAD') return void res.end();
    await pipeline(fs.createReadStream(real), res);
  }

  async function serveThumb(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const real = await realInsideRoots(url.searchParams.get('path') ?? '', api.allowedRoots());
    if (!real) throw new HttpError(403, 'path is not inside the workspace or an import folder');
    const size = thumbSize(Number(url.searchParams.get('size') ?? 256));
    let thumb: string;
    try {
      thumb = await thumbnail(real, size, thumbsDir);
    } catch (err) {
      throw new HttpError(422, err instanceof Error ? err.message : String(err), 'thumbnail_failed');
    }
    const st = await fsp.stat(thumb);
    res.writeHead(200, {
      ...BASE_HEADERS,
      'Content-Type': THUMB_MIME,
      'Content-Length': st.size,
      'Cache-Control': 'private, max-age=300',
    });
    if (req.method === 'HEAD') return void res.end();
    await pipeline(fs.createReadStream(thumb), res);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const check = checkHostAndOrigin(req, guard);
    if (!check.ok) throw new HttpError(check.status, check.message, 'forbidden');
    if (!url.pathname.startsWith('/api/')) return serveStatic(req, res, url);
    if (!tokenEquals(requestToken(req, url), token)) throw new HttpError(401, 'missing or wrong token', 'unauthorized');

    if (url.pathname.startsWith('/api/call/')) return handleCall(req, res, url.pathname.slice('/api/call/'.length));
    if (url.pathname === '/api/file' && (req.method === 'GET' || req.method === 'HEAD')) return serveFile(req, res, url);
    if (url.pathname === '/api/thumb' && (req.method === 'GET' || req.method === 'HEAD')) return serveThumb(req, res, url);
    if (url.pathname === '/api/upload' && req.method === 'POST') {
      try {
        sendJson(res, 200, await receiveUpload(req, uploadsDir, url.searchParams.get('batch'), url.searchParams.get('name')));
      } catch (err) {
        if (err instanceof UploadError) throw new HttpError(err.status, err.message, 'upload_refused');
        throw err;
      }
      return;
    }
    if (url.pathname === '/api/events') throw new HttpError(426, 'this is a WebSocket endpoint');
    throw new HttpError(404, 'not found');
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) {
        // a refused upload: stop reading its body, and close rather than drain gigabytes
        if (req.method === 'POST' && !req.complete) res.setHeader('Connection', 'close');
        sendError(res, err.status, err.message, err.code);
      } else {
        const e = err as NodeJS.ErrnoException;
        if (e?.code === 'ERR_STREAM_PREMATURE_CLOSE' || e?.code === 'ECONNRESET') return void res.destroy();
        ctx.logger.error('serve: request failed', { url: req.url, error: e?.message ?? String(err) });
        sendError(res, 500, e?.message ?? String(err));
      }
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const check = checkHostAndOrigin(req, guard);
    if (!check.ok) return refuse(check.status, 'Forbidden');
    if (url.pathname !== '/api/events') return refuse(404, 'Not Found');
    if (!tokenEquals(requestToken(req, url), token)) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      // replay what this client missed while it was away (a reconnect must not lose a job.finished)
      const missed = api.jobs.snapshot();
      for (const payload of missed.progress) ws.send(JSON.stringify({ event: 'job.progress', payload }));
      for (const payload of missed.finished) ws.send(JSON.stringify({ event: 'job.finished', payload }));
      let alive = true;
      ws.on('pong', () => (alive = true));
      const ping = setInterval(() => {
        if (!alive) return void ws.terminate();
        alive = false;
        ws.ping();
      }, 30_000);
      ping.unref();
      ws.on('close', () => {
        clearInterval(ping);
        clients.delete(ws);
      });
      ws.on('error', () => ws.terminate());
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, bindHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const urlHost = wildcard ? '127.0.0.1' : bindHost.includes(':') ? `[${bindHost}]` : bindHost;
  ctx.logger.info('serve: listening', { host: bindHost, port });

  return {
    url: `http://${urlHost}:${port}/?token=${token}`,
    port,
    token,
    api,
    async close() {
      // dropped files were copies for this session's imports; the datasets hold what was imported
      await fsp.rm(uploadsDir, { recursive: true, force: true }).catch(() => {});
      for (const ws of clients) ws.terminate();
      clients.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
