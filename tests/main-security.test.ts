/**
 * The Electron shell's security decisions, tested without the runtime: the pure helpers main.ts and
 * ipc.ts are built on (electron/main/security.ts, dispatch.ts), on real files and the real core.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_ENTRY_URL,
  CONTENT_SECURITY_POLICY,
  isAppUrl,
  isExternalLinkAllowed,
  isPermissionAllowed,
  parseFileRequest,
  rendererFileFor,
  resolveAllowedFile,
  withCsp,
} from '../electron/main/security.js';
import { dispatchCall, toWireError } from '../electron/main/dispatch.js';
import { createCoreApi, type CoreApi } from '../electron/core/api.js';
import { silentLogger, type CoreContext } from '../electron/core/context.js';
import { CancelledError } from '../electron/core/jobs/jobs.js';
import type { JobFinished, PreloadBridge } from '../electron/shared/contract.js';
import { createIpcTransport } from '../renderer/src/api/ipc.js';
import { REPO_ROOT, fixture } from './helpers/shared.js';

/** A real photo (a frame of the drone video kept in tests/fixtures). */
const IMAGE = fixture('drone-person-video-frames-roboflow', 'train', 'DJI_0839_5meter_305_MP4-0000_jpg.rf.2f2a09227728d873895beca9e5583db3.jpg');

let tmp: string;
beforeAll(async () => {
  tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'spotter-main-')));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('origins and links', () => {
  it('treats only app://spotter as the app', () => {
    expect(isAppUrl(APP_ENTRY_URL)).toBe(true);
    expect(isAppUrl('app://spotter/assets/index-abc.js?x=1#y')).toBe(true);
    expect(isAppUrl('app://evil/index.html')).toBe(false);
    expect(isAppUrl('app://spotter.evil.com/index.html')).toBe(false);
    expect(isAppUrl('app://spotter:8080/index.html')).toBe(false);
    expect(isAppUrl('https://spotter/index.html')).toBe(false);
    expect(isAppUrl('file:///etc/passwd')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
  });

  it('hands only https links to the system browser', () => {
    expect(isExternalLinkAllowed('https://docs.ultralytics.com/modes/train/')).toBe(true);
    expect(isExternalLinkAllowed('http://example.com')).toBe(false);
    expect(isExternalLinkAllowed('file:///etc/passwd')).toBe(false);
    expect(isExternalLinkAllowed('javascript:alert(1)')).toBe(false);
    expect(isExternalLinkAllowed('smb://host/share')).toBe(false);
    expect(isExternalLinkAllowed('app://spotter/index.html')).toBe(false);
  });
});

describe('permissions', () => {
  it('allows only clipboard writes, and only to the app page', () => {
    expect(isPermissionAllowed('clipboard-sanitized-write', 'app://spotter/index.html')).toBe(true);
    expect(isPermissionAllowed('clipboard-sanitized-write', 'app://spotter')).toBe(true);
    expect(isPermissionAllowed('clipboard-sanitized-write', 'https://example.com/')).toBe(false);
    expect(isPermissionAllowed('clipboard-sanitized-write', undefined)).toBe(false);
    for (const p of ['media', 'notifications', 'geolocation', 'clipboard-read', 'openExternal', 'fileSystem']) {
      expect(isPermissionAllowed(p, 'app://spotter/index.html'), p).toBe(false);
    }
  });
});

describe('content security policy', () => {
  const directives = (policy: string) =>
    new Map(
      policy
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .filter((parts) => parts[0])
        .map(([name, ...values]) => [name!, values.join(' ')]),
    );

  it('matches the renderer meta tag (connect-src minus serve mode ws:)', async () => {
    const html = await fs.readFile(path.join(REPO_ROOT, 'renderer', 'index.html'), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
    expect(meta, 'renderer/index.html has a CSP meta tag').toBeTruthy();
    const header = directives(CONTENT_SECURITY_POLICY);
    for (const [name, value] of directives(meta!)) {
      if (name === 'connect-src') expect(header.get(name)).toBe("'self'");
      else expect(header.get(name), name).toBe(value);
    }
    expect(header.get('script-src')).toBeUndefined(); // falls back to default-src 'self': no inline, no eval
  });

  it('replaces any CSP the response carried and keeps other headers', () => {
    const out = withCsp({ 'content-security-policy': ["default-src *"], 'Content-Type': ['text/html'] });
    expect(out).toEqual({ 'Content-Type': ['text/html'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
    expect(withCsp(undefined)).toEqual({ 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
  });
});

describe('spotter-file URLs', () => {
  // the renderer's real URL builders: main must parse exactly what they produce
  const transport = createIpcTransport(null as unknown as PreloadBridge);

  it('round-trips awkward absolute paths from the renderer', () => {
    const paths =
      process.platform === 'win32'
        ? ['C:\\Users\\me\\Spotter\\a b#1?.jpg', 'D:\\ünï\\%41\\x.png']
        : ['/data/ds/images/train/a b#1?.jpg', '/data/ünï/%41/x.png', '/data/a+b&c=d.jpg'];
    for (const p of paths) {
      expect(parseFileRequest(transport.fileUrl(p))).toEqual({ kind: 'file', path: p });
      expect(parseFileRequest(transport.thumbUrl(p, 200))).toEqual({ kind: 'thumb', path: p, size: 200 });
    }
  });

  it('clamps thumbnail sizes and defaults a missing one', () => {
    expect(parseFileRequest('spotter-file://thumb/%2Fa.jpg?size=99999')).toMatchObject({ size: 1024 });
    expect(parseFileRequest('spotter-file://thumb/%2Fa.jpg?size=1')).toMatchObject({ size: 16 });
    expect(parseFileRequest('spotter-file://thumb/%2Fa.jpg')).toMatchObject({ size: 256 });
    expect(parseFileRequest('spotter-file://thumb/%2Fa.jpg?size=big')).toMatchObject({ size: 256 });
  });

  it('refuses relative paths, other hosts and malformed encodings', () => {
    expect(parseFileRequest('spotter-file://file/etc/passwd')).toBeNull(); // unencoded: not absolute
    expect(parseFileRequest('spotter-file://file/')).toBeNull();
    expect(parseFileRequest('spotter-file://other/%2Fetc%2Fpasswd')).toBeNull();
    expect(parseFileRequest('spotter-file://file/%E0%A4%A')).toBeNull();
    expect(parseFileRequest('spotter-file://file/%2Fetc%00x')).toBeNull();
  });
});

describe('allowed roots', () => {
  let root: string;
  let inside: string;
  let outside: string;
  beforeAll(async () => {
    root = path.join(tmp, 'workspace');
    await fs.mkdir(path.join(root, 'datasets'), { recursive: true });
    await fs.mkdir(path.join(tmp, 'workspace-evil'), { recursive: true });
    inside = path.join(root, 'datasets', 'a.jpg');
    outside = path.join(tmp, 'workspace-evil', 'b.jpg');
    await fs.copyFile(IMAGE, inside);
    await fs.copyFile(IMAGE, outside);
  });

  it('serves a real image inside a root', async () => {
    expect(await resolveAllowedFile(inside, [root])).toBe(inside);
    // a later root can allow what an earlier (missing) one does not
    expect(await resolveAllowedFile(inside, [path.join(tmp, 'missing'), root])).toBe(inside);
  });

  it('refuses files outside, including a sibling folder sharing the prefix', async () => {
    expect(await resolveAllowedFile(outside, [root])).toBeNull();
    expect(await resolveAllowedFile(IMAGE, [root])).toBeNull();
    expect(await resolveAllowedFile(path.join(root, '..', 'workspace-evil', 'b.jpg'), [root])).toBeNull();
  });

  it('refuses a symlink inside the root that points outside', async () => {
    const link = path.join(root, 'datasets', 'escape.jpg');
    await fs.symlink(outside, link);
    expect(await resolveAllowedFile(link, [root])).toBeNull();
    const dirLink = path.join(root, 'datasets', 'escape-dir');
    await fs.symlink(path.join(tmp, 'workspace-evil'), dirLink);
    expect(await resolveAllowedFile(path.join(dirLink, 'b.jpg'), [root])).toBeNull();
  });

  it('accepts a root reached through a symlink', async () => {
    const rootLink = path.join(tmp, 'ws-link');
    await fs.symlink(root, rootLink);
    expect(await resolveAllowedFile(path.join(rootLink, 'datasets', 'a.jpg'), [rootLink])).toBe(inside);
  });

  it('refuses folders and missing files', async () => {
    expect(await resolveAllowedFile(path.join(root, 'datasets'), [root])).toBeNull();
    expect(await resolveAllowedFile(path.join(root, 'datasets', 'nope.jpg'), [root])).toBeNull();
    expect(await resolveAllowedFile(inside, [])).toBeNull();
  });
});

describe('renderer files', () => {
  const dir = path.join(REPO_ROOT, 'dist', 'renderer');

  it('maps app:// URLs into dist/renderer, with index.html for / and routes', () => {
    expect(rendererFileFor(dir, APP_ENTRY_URL)).toBe(path.join(dir, 'index.html'));
    expect(rendererFileFor(dir, 'app://spotter/')).toBe(path.join(dir, 'index.html'));
    expect(rendererFileFor(dir, 'app://spotter/index.html?dataset=%2Fa%2Fb')).toBe(path.join(dir, 'index.html'));
    expect(rendererFileFor(dir, 'app://spotter/datasets')).toBe(path.join(dir, 'index.html'));
    expect(rendererFileFor(dir, 'app://spotter/assets/index-abc.js')).toBe(path.join(dir, 'assets', 'index-abc.js'));
  });

  it('never leaves dist/renderer and ignores foreign hosts', () => {
    // URL parsing already drops (encoded) dot segments: this names dist/renderer/package.json
    expect(rendererFileFor(dir, 'app://spotter/%2e%2e/%2e%2e/package.json')).toBe(path.join(dir, 'package.json'));
    // an encoded slash survives parsing and only turns into `../..` after decoding: refused
    expect(rendererFileFor(dir, 'app://spotter/..%2F..%2Fpackage.json')).toBeNull();
    expect(rendererFileFor(dir, 'app://spotter/a%00.js')).toBeNull();
    expect(rendererFileFor(dir, 'app://other/index.html')).toBeNull();
    expect(rendererFileFor(dir, 'file:///etc/passwd')).toBeNull();
  });
});

describe('IPC dispatch on the real core', () => {
  let api: CoreApi;
  let workspace: string;
  const events: { name: string; payload: unknown }[] = [];
  beforeAll(async () => {
    workspace = path.join(tmp, 'dispatch-ws');
    const ctx: CoreContext = {
      paths: { dataDir: path.join(tmp, 'data'), resourcesDir: path.join(REPO_ROOT, 'resources'), tempDir: path.join(tmp, 't') },
      logger: silentLogger,
      spawn: () => {
        throw new Error('no process is spawned by these calls');
      },
      version: 'test',
    };
    api = await createCoreApi(ctx, (name, payload) => events.push({ name, payload }), { mode: 'electron', defaultWorkspace: workspace });
  });

  it('answers a valid call', async () => {
    const reply = await dispatchCall(api, 'app.info', {});
    expect(reply).toMatchObject({ ok: true, value: { mode: 'electron', workspace, version: 'test' } });
  });

  it('runs an import end to end and applies schema defaults', async () => {
    // real import of rbc8 (8 blood-cell images, Ultralytics layout) through the dispatcher: ImportOptions defaults fill in
    const started = await dispatchCall(api, 'import.run', { sources: [fixture('rbc8')], name: 'rbc8', dupThreshold: -1 });
    expect(started.ok, JSON.stringify(started)).toBe(true);
    const { jobId } = (started as { ok: true; value: { jobId: string } }).value;
    await api.jobs.wait(jobId);
    const finished = events.find((e) => e.name === 'job.finished') as { payload: JobFinished } | undefined;
    expect(finished?.payload, JSON.stringify(finished)).toMatchObject({ jobId, kind: 'import', status: 'done' });
    expect(events.some((e) => e.name === 'workspace.changed')).toBe(true);
    const dir = (finished!.payload.result as { dir: string }).dir;

    // offset/limit omitted: the handler gets the defaults (0, 200), not undefined
    const page = await dispatchCall(api, 'datasets.images', { dir });
    expect(page).toMatchObject({ ok: true, value: { total: 8, offset: 0 } });
    if (page.ok) expect((page.value as { items: unknown[] }).items).toHaveLength(8);
    const second = await dispatchCall(api, 'datasets.images', { dir, offset: 6, limit: 5 });
    if (!second.ok) throw new Error(second.error.message);
    expect((second.value as { items: unknown[] }).items).toHaveLength(2);
  });

  it('rejects unknown names, including prototype keys', async () => {
    for (const name of ['no.such.call', 'toString', '__proto__', 42, undefined]) {
      const reply = await dispatchCall(api, name, {});
      expect(reply).toMatchObject({ ok: false, error: { code: 'unknown_call' } });
    }
  });

  it('rejects invalid input with a message naming the call and field', async () => {
    const tooMany = await dispatchCall(api, 'datasets.images', { dir: '/x', limit: 5000 });
    expect(tooMany).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    if (!tooMany.ok) expect(tooMany.error.message).toMatch(/datasets\.images[\s\S]*limit/);
    expect(await dispatchCall(api, 'app.info', { extra: 1 })).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(await dispatchCall(api, 'app.info', undefined)).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(await dispatchCall(api, 'jobs.cancel', { jobId: 7 })).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
  });

  it('carries a real handler error as a WireError with its code', async () => {
    const file = path.join(tmp, 'a-file');
    await fs.writeFile(file, 'x');
    // a workspace under a regular file cannot be created: the core's fs error code comes through
    const reply = await dispatchCall(api, 'workspace.set', { path: path.join(file, 'ws') });
    expect(reply).toMatchObject({ ok: false, error: { code: 'ENOTDIR' } });
  });

  it('flattens thrown values to WireError', () => {
    expect(toWireError(new CancelledError())).toEqual({ message: 'cancelled', code: 'cancelled' });
    expect(toWireError(new TypeError('bad'))).toEqual({ message: 'bad', code: 'TypeError' });
    expect(toWireError(new Error('plain'))).toEqual({ message: 'plain' });
    expect(toWireError('text')).toEqual({ message: 'text' });
  });
});
