/**
 * Serve mode end to end at the HTTP level: a real server on a random loopback port with the real
 * core behind it (temp data dir and workspace), probed with raw requests for the security rules
 * (token, Host, Origin, allowed roots, upload names), streaming uploads, validation and events.
 * The renderer's serve transport (renderer/src/api/ws.ts) is driven against it as well.
 */
import fs from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { execa } from 'execa';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../electron/server/server.js';
import { uploadSegments } from '../electron/server/upload.js';
import { thumbnail } from '../electron/core/thumbs.js';
import { silentLogger, type CoreContext } from '../electron/core/context.js';
import type { EventPayloads, JobFinished } from '../electron/shared/contract.js';
import { createServeTransport, type WebSocketLike } from '../renderer/src/api/ws.js';
import { fixture, rbc } from './helpers/shared.js';

/** A real photo: a 640x640 frame of the drone video kept in tests/fixtures. */
const PHOTO = fixture('drone-person-video-frames-roboflow', 'train', 'DJI_0839_5meter_305_MP4-0000_jpg.rf.2f2a09227728d873895beca9e5583db3.jpg');

let tmp: string;
let server: RunningServer;
let base: string;
let workspace: string;
let ctx: CoreContext;

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request with full control over headers (fetch forbids setting Host). */
function raw(method: string, p: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path: p, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const auth = () => ({ 'x-spotter-token': server.token });
const json = (r: Raw) => JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;

function callRaw(name: string, input: unknown, headers: Record<string, string> = auth()): Promise<Raw> {
  return raw('POST', `/api/call/${name}`, { 'Content-Type': 'application/json', ...headers }, JSON.stringify(input));
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'spotter-server-'));
  workspace = path.join(tmp, 'workspace');
  const rendererDir = path.join(tmp, 'renderer');
  await fs.mkdir(path.join(rendererDir, 'assets'), { recursive: true });
  await fs.writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><html><head><title>t</title></head><body></body></html>');
  await fs.writeFile(path.join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  // a file right beside the renderer folder that traversal must not reach
  await fs.writeFile(path.join(tmp, 'secret.txt'), 'SECRET');
  ctx = {
    paths: { dataDir: path.join(tmp, 'data'), resourcesDir: path.join(tmp, 'resources'), tempDir: path.join(tmp, 'temp') },
    logger: silentLogger,
    spawn: (file, args, options) => execa(file, args, options),
    version: 'test',
  };
  server = await startServer({ ctx, rendererDir, defaultWorkspace: workspace, port: 0 });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('access rules', () => {
  it('answers 401 to an API request without the token or with a wrong one', async () => {
    expect((await callRaw('app.info', {}, {})).status).toBe(401);
    expect((await callRaw('app.info', {}, { 'x-spotter-token': 'nope' })).status).toBe(401);
    expect((await callRaw('app.info', {}, { Authorization: 'Bearer nope' })).status).toBe(401);
    const ok = await callRaw('app.info', {}, { Authorization: `Bearer ${server.token}` });
    expect(ok.status).toBe(200);
    expect(json(ok)).toMatchObject({ mode: 'serve', workspace });
    expect(server.url).toBe(`${base}/?token=${server.token}`);
  });

  it('refuses a foreign Host header (DNS rebinding) even with the token', async () => {
    const r = await callRaw('app.info', {}, { ...auth(), Host: `evil.com:${server.port}` });
    expect(r.status).toBe(403);
    expect(String(json(r).message)).toContain('evil.com');
    expect((await raw('GET', `/?token=${server.token}`, { Host: `evil.com:${server.port}` })).status).toBe(403);
    expect((await callRaw('app.info', {}, { ...auth(), Host: `localhost:${server.port}` })).status).toBe(200);
  });

  it('refuses a foreign Origin, accepts its own', async () => {
    expect((await callRaw('app.info', {}, { ...auth(), Origin: 'http://evil.com' })).status).toBe(403);
    expect((await callRaw('app.info', {}, { ...auth(), Origin: 'null' })).status).toBe(403);
    expect((await callRaw('app.info', {}, { ...auth(), Origin: base })).status).toBe(200);
  });

  it('refuses WebSocket upgrades without the token or from another origin', async () => {
    const attempt = (url: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url, { headers });
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => resolve(-1));
      });
    const ws = `ws://127.0.0.1:${server.port}/api/events`;
    expect(await attempt(ws)).toBe(401);
    expect(await attempt(`${ws}?token=${server.token}`, { Origin: 'http://evil.com' })).toBe(403);
    expect(await attempt(`${ws}?token=${server.token}`, { Origin: base })).toBe(101);
  });

  it('serves the page only with the token, with the token and a strict CSP in it', async () => {
    const denied = await raw('GET', '/');
    expect(denied.status).toBe(401);
    expect(denied.body.toString()).not.toContain(server.token);
    const page = await raw('GET', `/?token=${server.token}`);
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain(`<meta name="spotter-token" content="${server.token}">`);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['set-cookie']).toBeUndefined();
    expect((await raw('GET', '/?token=wrong')).status).toBe(401);
  });

  it('serves static assets, no directory listing, no traversal', async () => {
    const asset = await raw('GET', '/assets/app.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toContain('javascript');
    expect((await raw('GET', '/assets/')).status).toBe(404);
    expect((await raw('GET', '/assets/missing.js')).status).toBe(404);
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt']) {
      const r = await raw('GET', p);
      expect(r.status, p).toBeGreaterThanOrEqual(400);
      expect(r.body.toString(), p).not.toContain('SECRET');
    }
  });
});

describe('local files', () => {
  it('streams a file inside the workspace and refuses /etc/passwd and symlinks out', async () => {
    const inside = path.join(workspace, 'notes.txt');
    await fs.writeFile(inside, 'hello');
    const ok = await raw('GET', `/api/file?path=${encodeURIComponent(inside)}&token=${server.token}`);
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toBe('hello');
    expect(ok.headers['content-security-policy']).toContain('sandbox');

    const passwd = await raw('GET', `/api/file?path=${encodeURIComponent('/etc/passwd')}&token=${server.token}`);
    expect(passwd.status).toBe(403);
    expect(passwd.body.toString()).not.toContain('root:');

    const link = path.join(workspace, 'passwd-link');
    await fs.symlink('/etc/passwd', link);
    expect((await raw('GET', `/api/file?path=${encodeURIComponent(link)}&token=${server.token}`)).status).toBe(403);
    const dotted = path.join(workspace, '..', '..', '..', '..', 'etc', 'passwd');
    expect((await raw('GET', `/api/file?path=${encodeURIComponent(dotted)}&token=${server.token}`)).status).toBe(403);
    expect((await raw('GET', `/api/file?path=${encodeURIComponent(inside)}`)).status).toBe(401);
  });

  it('answers a cached WebP thumbnail of a workspace image', async () => {
    const img = path.join(workspace, 'drone.jpg');
    await fs.copyFile(PHOTO, img);
    const url = `/api/thumb?path=${encodeURIComponent(img)}&size=128&token=${server.token}`;
    const r = await raw('GET', url);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('image/webp');
    const meta = await sharp(r.body).metadata();
    expect(meta.format).toBe('webp');
    expect(Math.max(meta.width!, meta.height!)).toBe(128);
    const again = await raw('GET', url);
    expect(again.body.equals(r.body)).toBe(true);
    expect((await raw('GET', `/api/thumb?path=${encodeURIComponent('/etc/hostname')}&size=64&token=${server.token}`)).status).toBe(403);
  });
});

describe('thumbnail()', () => {
  it('applies EXIF rotation, never enlarges, caches by mtime and coalesces concurrent requests', async () => {
    const dir = path.join(tmp, 'thumbs-unit');
    const cache = path.join(dir, 'cache');
    await fs.mkdir(dir, { recursive: true });
    // a 16:9 cut of the (square) drone frame: real pixels, and a landscape source to rotate
    const src = path.join(dir, 'landscape.jpg');
    await sharp(PHOTO).extract({ left: 0, top: 140, width: 640, height: 360 }).jpeg({ quality: 90 }).toFile(src);
    const { width, height } = await sharp(src).metadata();
    expect(width).toBeGreaterThan(height!); // landscape source
    // the same pixels tagged "rotate 90° clockwise to display", as phone cameras write them
    const rotated = path.join(dir, 'rotated.jpg');
    await sharp(src).withMetadata({ orientation: 6 }).toFile(rotated);

    const [a, b] = await Promise.all([thumbnail(rotated, 200, cache), thumbnail(rotated, 200, cache)]);
    expect(a).toBe(b);
    const files = (await fs.readdir(cache, { recursive: true })).filter((f) => f.endsWith('.webp'));
    expect(files).toHaveLength(1);
    const m = await sharp(a).metadata();
    expect(m.height).toBe(200);
    expect(m.width).toBeLessThan(200); // displayed upright: portrait

    const big = await sharp(await thumbnail(src, 5000, cache)).metadata();
    expect(big.width).toBe(width); // 5000 is clamped and never enlarges

    const before = await fs.stat(a);
    const later = new Date(Date.now() + 5000);
    await fs.utimes(rotated, later, later);
    const c = await thumbnail(rotated, 200, cache);
    expect(c).not.toBe(a); // an edited file gets a fresh thumbnail
    expect((await fs.stat(a)).mtimeMs).toBe(before.mtimeMs);
  });
});

describe('uploads', () => {
  it('refuses traversal, absolute and odd names without writing anything', async () => {
    for (const name of ['../evil.txt', 'a/../../evil.txt', '/etc/evil', 'C:/evil', 'a//b', 'a\\..\\b', 'nul\u0000', 'x/./y', 'trailing. ']) {
      const r = await raw('POST', `/api/upload?batch=b1&name=${encodeURIComponent(name)}`, auth(), 'data');
      expect(r.status, name).toBe(400);
      expect(String(json(r).message), name).toMatch(/upload/);
    }
    const bad = await raw('POST', `/api/upload?batch=${encodeURIComponent('../x')}&name=a.txt`, auth(), 'data');
    expect(bad.status).toBe(400);
    expect(await fs.readdir(path.join(ctx.paths.tempDir, 'uploads')).catch(() => [])).toEqual([]);
    await expect(fs.access(path.join(tmp, 'evil.txt'))).rejects.toThrow();
    expect(() => uploadSegments('ok/naïve пример.jpg')).not.toThrow();
  });

  it('keeps the relative layout of a dropped folder and answers its top-level path', async () => {
    const r = await raw('POST', `/api/upload?batch=b2&name=${encodeURIComponent('export dir/train/a.json')}`, auth(), '{"x":1}');
    expect(r.status).toBe(200);
    const ans = json(r);
    const batchDir = path.join(ctx.paths.tempDir, 'uploads', 'b2');
    expect(ans.path).toBe(path.join(batchDir, 'export dir', 'train', 'a.json'));
    expect(ans.top).toBe(path.join(batchDir, 'export dir'));
    expect(await fs.readFile(String(ans.path), 'utf8')).toBe('{"x":1}');
  });

  it('streams a 50 MB body to disk while it arrives, intact', async () => {
    const total = 50 * 1024 * 1024;
    const chunk = 1024 * 1024;
    const batchDir = path.join(ctx.paths.tempDir, 'uploads', 'big');
    const hash = createHash('sha256');
    const req = http.request({
      host: '127.0.0.1',
      port: server.port,
      method: 'POST',
      path: `/api/upload?batch=big&name=${encodeURIComponent('big.bin')}`,
      headers: { ...auth(), 'Content-Type': 'application/octet-stream', 'Content-Length': String(total) },
    });
    const answer = new Promise<Raw>((resolve, reject) => {
      req.on('response', (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      });
      req.on('error', reject);
    });
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const buf = randomBytes(chunk);
        hash.update(buf);
        if (!req.write(buf)) await new Promise((r) => req.once('drain', r));
      }
    };
    await send(10);
    // the first 10 MB must be on disk before the rest is even sent: nothing waits for the whole body
    let onDisk = 0;
    for (let i = 0; i < 100 && onDisk < 8 * chunk; i++) {
      const parts = (await fs.readdir(batchDir).catch(() => [] as string[])).filter((f) => f.endsWith('.part'));
      onDisk = parts.length ? (await fs.stat(path.join(batchDir, parts[0]!))).size : 0;
      if (onDisk < 8 * chunk) await new Promise((r) => setTimeout(r, 50));
    }
    expect(onDisk).toBeGreaterThanOrEqual(8 * chunk);
    await send(40);
    req.end();
    const r = await answer;
    expect(r.status).toBe(200);
    const dest = String(json(r).path);
    expect(dest).toBe(path.join(batchDir, 'big.bin'));
    expect((await fs.stat(dest)).size).toBe(total);
    const disk = createHash('sha256');
    for await (const c of createReadStream(dest)) disk.update(c as Buffer);
    expect(disk.digest('hex')).toBe(hash.digest('hex'));
    expect((await fs.readdir(batchDir)).filter((f) => f.endsWith('.part'))).toEqual([]);
  });
});

describe('calls and events', () => {
  it('answers 400 naming the field for bad input, 404 for an unknown call', async () => {
    const r = await callRaw('import.run', { sources: 'not-an-array' });
    expect(r.status).toBe(400);
    expect(json(r)).toMatchObject({ code: 'invalid_input' });
    expect(String(json(r).message)).toMatch(/^import\.run: input\.sources: /);
    const nested = await callRaw('datasets.images', { dir: '/x', limit: 5000 });
    expect(nested.status).toBe(400);
    expect(String(json(nested).message)).toContain('input.limit');
    expect((await callRaw('nope.nothing', {})).status).toBe(404);
    expect((await callRaw('__proto__', {})).status).toBe(404);
    const notJson = await raw('POST', '/api/call/app.info', { ...auth(), 'Content-Type': 'text/plain' }, '{}');
    expect(notJson.status).toBe(415);
  });

  it('pushes job events to the WebSocket (renderer serve transport)', async () => {
    const transport = createServeTransport({
      token: server.token,
      baseUrl: base,
      WebSocket: WebSocket as unknown as new (url: string) => WebSocketLike,
    });
    try {
      for (let i = 0; i < 100 && !transport.connected; i++) await new Promise((r) => setTimeout(r, 20));
      expect(transport.connected).toBe(true);
      const progress: EventPayloads['job.progress'][] = [];
      const offProgress = transport.on('job.progress', (p) => progress.push(p));
      const finished = new Promise<JobFinished>((resolve) => {
        const off = transport.on('job.finished', (f) => {
          off();
          resolve(f);
        });
      });
      const { jobId } = await transport.call('import.inspect', { sources: [rbc()] });
      const f = await finished;
      offProgress();
      expect(f.jobId).toBe(jobId);
      expect(f.kind).toBe('inspect');
      expect(f.status, f.error).toBe('done');
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.every((p) => p.jobId === jobId)).toBe(true);
      // errors from the server surface as the transport's errors, with the server's message
      await expect(transport.call('workspace.set', { path: '' })).rejects.toThrow(/input\.path/);
      expect((await transport.call('workspace.get', {})).path).toBe(workspace);
      expect(transport.fileUrl('/a b')).toBe(`${base}/api/file?path=%2Fa+b&token=${server.token}`);

      // a client that connects after the job ended (a reconnect, a reload) still receives its job.finished
      const late = new WebSocket(`ws://127.0.0.1:${server.port}/api/events?token=${server.token}`);
      const replayed = await new Promise<JobFinished>((resolve, reject) => {
        late.on('message', (data) => {
          const msg = JSON.parse(String(data)) as { event: string; payload: JobFinished };
          if (msg.event === 'job.finished' && msg.payload.jobId === jobId) resolve(msg.payload);
        });
        late.on('error', reject);
        setTimeout(() => reject(new Error('no replay within 5 s')), 5000);
      });
      late.close();
      expect(replayed.status).toBe('done');
    } finally {
      transport.dispose();
    }
  });
});
