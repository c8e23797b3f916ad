/**
 * Pretrained weights on request: the download job against a local HTTP server standing in for
 * Ultralytics' release assets (SPOTTER_WEIGHTS_URL, as a lab mirror would), serving a real checkpoint
 * (the fixture run's best.pt, which torch loads back afterwards); the server's failures (404, a page
 * that is not a checkpoint, a body cut short, no server at all, a cancel mid-way) leave nothing in the
 * weights folder; names outside the wizard's architectures are refused; the CLI prints the path.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobFinished, JobProgress } from '../electron/shared/contract.js';
import { JobManager } from '../electron/core/jobs/jobs.js';
import { createWeightsHandlers } from '../electron/core/trainer/weights-handlers.js';
import { pretrainedInfo, pretrainedName, weightsDir } from '../electron/core/trainer/weights.js';
import type { CoreContext } from '../electron/core/context.js';
import { tempDir, testContext } from './helpers/core.js';
import { BIN, fixtureRun, hasTrainer, TRAINER_PYTHON } from './trainer-fixture.js';

type Route = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A local server answering each path with its route (404 otherwise). */
async function serve(routes: Record<string, Route>): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const route = routes[req.url ?? ''];
    if (route) route(req, res);
    else res.writeHead(404, { 'content-type': 'text/html' }).end('<html>Not Found</html>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

describe('pretrained weights: names', () => {
  it("maps the wizard's architectures to their .pt and refuses anything else", () => {
    expect(pretrainedName('yolo11n.yaml')).toBe('yolo11n.pt');
    expect(pretrainedName('/x/yolov8s-seg.yaml')).toBe('yolov8s-seg.pt');
    expect(pretrainedName('yolo26m.pt')).toBe('yolo26m.pt');
    for (const bad of ['rtdetr-l.yaml', 'yolo11x.yaml', '../../etc/passwd', 'yolo11n.pt.exe', 'sam_b.pt']) expect(() => pretrainedName(bad)).toThrow(/no pretrained weights are offered/);
  });
});

describe.skipIf(!hasTrainer)('pretrained weights: the download job', () => {
  let ctx: CoreContext;
  let checkpoint: Buffer;
  const saved = process.env.SPOTTER_WEIGHTS_URL;
  const servers: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    const fx = await fixtureRun();
    expect(fx.exitCode, fx.stderr).toBe(0);
    checkpoint = readFileSync(path.join(fx.runDir, 'weights', 'best.pt'));
  }, 660_000);
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.SPOTTER_WEIGHTS_URL;
    else process.env.SPOTTER_WEIGHTS_URL = saved;
  });

  /** the handlers on a fresh data folder; `run(model)` resolves with the finished job and its progress */
  async function setup(routes: Record<string, Route>) {
    const srv = await serve(routes);
    servers.push(srv);
    process.env.SPOTTER_WEIGHTS_URL = `${srv.url}/releases/v8.4.0/`;
    ctx = await testContext();
    const finished: JobFinished[] = [];
    const progress: JobProgress[] = [];
    const jobs = new JobManager({ progress: (p) => progress.push(p), finished: (f) => finished.push(f) });
    const h = createWeightsHandlers({ ctx, emit: () => {}, jobs, workspace: () => ctx.paths.dataDir });
    const wait = async (jobId: string) => {
      for (let i = 0; i < 600 && !finished.some((f) => f.jobId === jobId); i++) await new Promise((r) => setTimeout(r, 50));
      return finished.find((f) => f.jobId === jobId)!;
    };
    return { h, jobs, progress, wait, url: srv.url };
  }

  const leftovers = async () => (await fs.readdir(weightsDir(ctx)).catch(() => [] as string[])).filter((f) => f !== 'yolo11n.pt');

  it('downloads a real checkpoint into the data folder, atomically, with progress; torch loads it', async () => {
    const { h, progress, wait } = await setup({
      '/releases/v8.4.0/': (_q, res) => res.writeHead(302, { location: '/elsewhere' }).end(),
      '/releases/v8.4.0/yolo11n.pt': (_q, res) => {
        res.writeHead(200, { 'content-length': String(checkpoint.length), 'content-type': 'application/octet-stream' });
        // in pieces, as a network delivers it
        let at = 0;
        const next = () => {
          if (at >= checkpoint.length) return res.end();
          res.write(checkpoint.subarray(at, (at += 300_000)));
          setTimeout(next, 5);
        };
        next();
      },
    });
    const before = await h['weights.pretrained']({ model: 'yolo11n.yaml' });
    expect(before).toMatchObject({ name: 'yolo11n.pt', downloaded: false, bytes: null, online: true });
    expect(before.path).toBe(path.join(ctx.paths.dataDir, 'weights', 'yolo11n.pt'));

    const { jobId } = await h['weights.download']({ model: 'yolo11n.yaml' });
    await expect(h['weights.download']({ model: 'yolo11n.pt' })).rejects.toThrow(/being downloaded already/);
    const f = await wait(jobId);
    expect(f.status, f.error).toBe('done');
    expect(f.result).toMatchObject({ name: 'yolo11n.pt', path: before.path, downloaded: true, bytes: checkpoint.length });
    expect(sha1(await fs.readFile(before.path))).toBe(sha1(checkpoint));
    expect(await leftovers()).toEqual([]);
    const steps = progress.filter((p) => p.jobId === jobId && p.stage === 'Downloading yolo11n.pt');
    expect(steps.length).toBeGreaterThan(1);
    expect(steps.at(-1)).toMatchObject({ done: checkpoint.length, total: checkpoint.length });
    // (unpickling imports Ultralytics, which may print its first-run settings notice: the last line is the answer)
    const loaded = await execa(TRAINER_PYTHON, ['-c', 'import sys, torch; ck = torch.load(sys.argv[1], weights_only=False, map_location="cpu"); print(type(ck["model"]).__name__)', before.path], {
      reject: false,
      env: { YOLO_OFFLINE: '1', YOLO_CONFIG_DIR: path.join(ctx.paths.dataDir, 'ultralytics-config') },
    });
    expect(loaded.exitCode, loaded.stderr).toBe(0);
    expect(loaded.stdout.trim().split('\n').pop()).toBe('DetectionModel');
    expect(await h['weights.pretrained']({ model: 'yolo11n.yaml' })).toMatchObject({ downloaded: true, bytes: checkpoint.length, online: null });
  }, 60_000);

  it('a 404, a page that is no checkpoint, a body cut short: clear errors naming the URL, nothing left behind', async () => {
    const { h, wait, url } = await setup({
      '/releases/v8.4.0/yolov8s.pt': (_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(`<html>${'x'.repeat(200_000)}</html>`),
      '/releases/v8.4.0/yolo26n.pt': (_q, res) => {
        res.writeHead(200, { 'content-length': String(checkpoint.length) });
        res.write(checkpoint.subarray(0, 400_000), () => res.destroy());
      },
    });
    const cases: Array<[string, RegExp]> = [
      ['yolov8m.yaml', new RegExp(`${url}/releases/v8.4.0/yolov8m.pt: the server answered 404`)],
      ['yolov8s.yaml', /yolov8s\.pt: what arrived is not a PyTorch checkpoint/],
      ['yolo26n.yaml', /yolo26n\.pt: the download broke off after \d+ (of \d+ )?bytes/],
    ];
    for (const [model, re] of cases) {
      const f = await wait((await h['weights.download']({ model })).jobId);
      expect(f.status).toBe('failed');
      expect(f.error).toMatch(re);
    }
    expect(await fs.readdir(weightsDir(ctx))).toEqual([]);
  }, 60_000);

  it('a cancel mid-way leaves nothing; with no server at all nothing is offered and a download says why', async () => {
    const { h, jobs, wait } = await setup({
      '/releases/v8.4.0/yolo11s.pt': (_q, res) => {
        res.writeHead(200, { 'content-length': String(checkpoint.length) });
        res.write(checkpoint.subarray(0, 200_000)); // and then nothing more: the user cancels
      },
    });
    const { jobId } = await h['weights.download']({ model: 'yolo11s.yaml' });
    for (let i = 0; i < 100 && !(await fs.readdir(weightsDir(ctx)).catch(() => [])).length; i++) await new Promise((r) => setTimeout(r, 50));
    jobs.cancel(jobId);
    const f = await wait(jobId);
    expect(f.status).toBe('cancelled');
    expect(await fs.readdir(weightsDir(ctx))).toEqual([]);

    // a port nobody listens on
    const dead = await serve({});
    await dead.close();
    process.env.SPOTTER_WEIGHTS_URL = dead.url;
    expect(await pretrainedInfo(ctx, 'yolo11m.yaml')).toMatchObject({ downloaded: false, online: false });
    const g = await wait((await h['weights.download']({ model: 'yolo11m.yaml' })).jobId);
    expect(g.status).toBe('failed');
    expect(g.error).toMatch(new RegExp(`${dead.url}/yolo11m.pt: cannot download .*check the network, or pick a local .pt file`));
  }, 60_000);

  it('spotter weights download prints the path (exit 2 for a model without weights)', async () => {
    const srv = await serve({ '/yolov8n.pt': (_q, res) => res.writeHead(200, { 'content-length': String(checkpoint.length) }).end(checkpoint) });
    servers.push(srv);
    const dataDir = await tempDir();
    const env = { SPOTTER_DATA_DIR: dataDir, SPOTTER_WEIGHTS_URL: srv.url };
    const r = await execa(process.execPath, [BIN, 'weights', 'download', 'yolov8n'], { reject: false, env });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(path.join(dataDir, 'weights', 'yolov8n.pt'));
    expect(sha1(await fs.readFile(r.stdout.trim()))).toBe(sha1(checkpoint));
    const bad = await execa(process.execPath, [BIN, 'weights', 'download', 'rtdetr-l'], { reject: false, env });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/rtdetr-l\.pt: no pretrained weights are offered/);
  }, 60_000);
});
