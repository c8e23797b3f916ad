/**
 * Pretrained weights (COCO) for the wizard's architectures, downloaded on request from Ultralytics'
 * release assets into `<dataDir>/weights/` — the only network use in training, offered only when the
 * network answers. Training itself then starts from the local .pt, offline like any other.
 *
 * A download is streamed into a temporary sibling with progress, checked (size, the ZIP container
 * every torch.save checkpoint is) and renamed into place: a cancelled or failed download leaves
 * nothing behind. SPOTTER_WEIGHTS_URL replaces the release URL (a mirror in an air-gapped lab).
 */
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { PretrainedInfo } from '../../shared/contract.js';
import type { CoreContext } from '../context.js';
import { CancelledError, type JobContext } from '../jobs/jobs.js';

/** Ultralytics' release of these assets (ultralytics/utils/downloads.py: attempt_download_asset). */
export const DEFAULT_WEIGHTS_URL = 'https://github.com/ultralytics/assets/releases/download/v8.4.0';
/** The architectures the wizard offers: YOLOv8/YOLO11/YOLO26, n/s/m, detect or segment. */
export const PRETRAINED_RE = /^yolo(?:v8|11|26)[nsm](?:-seg)?\.pt$/;
const MIN_BYTES = 100_000; // what Ultralytics' safe_download asks of a weights file
const ONLINE_TTL_MS = 60_000;

export function weightsBaseUrl(): string {
  return (process.env.SPOTTER_WEIGHTS_URL || DEFAULT_WEIGHTS_URL).replace(/\/+$/, '');
}

export function weightsDir(ctx: CoreContext): string {
  return path.join(ctx.paths.dataDir, 'weights');
}

/** `yolo11n.yaml` → `yolo11n.pt`; an error for anything else. */
export function pretrainedName(model: string): string {
  const name = path.basename(model.trim()).replace(/\.ya?ml$/i, '.pt');
  if (!PRETRAINED_RE.test(name)) throw new Error(`${model}: no pretrained weights are offered for it (YOLOv8, YOLO11 or YOLO26, n/s/m, detect or -seg)`);
  return name;
}

let online: { url: string; at: number; value: boolean } | null = null;

/** Whether the weights' server answers (any HTTP answer counts; cached for a minute). */
export async function weightsOnline(timeoutMs = 4000): Promise<boolean> {
  const url = weightsBaseUrl();
  if (online && online.url === url && Date.now() - online.at < ONLINE_TTL_MS) return online.value;
  let value = false;
  try {
    const res = await fetch(`${url}/`, { method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    value = res.status > 0;
  } catch {
    value = false;
  }
  online = { url, at: Date.now(), value };
  return value;
}

export async function pretrainedInfo(ctx: CoreContext, model: string, o: { checkOnline?: boolean } = {}): Promise<PretrainedInfo> {
  const name = pretrainedName(model);
  const file = path.join(weightsDir(ctx), name);
  const st = await fs.stat(file).catch(() => null);
  return {
    name,
    path: file,
    url: `${weightsBaseUrl()}/${name}`,
    downloaded: !!st?.isFile(),
    bytes: st?.isFile() ? st.size : null,
    online: st?.isFile() || o.checkOnline === false ? null : await weightsOnline(),
  };
}

/** Download `<name>.pt` into the weights folder (atomically); returns its info. Errors name the URL. */
export async function downloadPretrained(ctx: CoreContext, model: string, job: JobContext): Promise<PretrainedInfo> {
  const name = pretrainedName(model);
  const dir = weightsDir(ctx);
  const file = path.join(dir, name);
  const url = `${weightsBaseUrl()}/${name}`;
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${name}.${randomBytes(4).toString('hex')}.part`);
  try {
    job.progress(`Connecting to ${new URL(url).host}`, 0, 1);
    let res: Response;
    try {
      res = await fetch(url, { signal: job.signal });
    } catch (err) {
      if (job.signal.aborted) throw new CancelledError();
      throw new Error(`${url}: cannot download (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); check the network, or pick a local .pt file`);
    }
    if (!res.ok || !res.body) throw new Error(`${url}: the server answered ${res.status} ${res.statusText}`.trim());
    const total = Number(res.headers.get('content-length')) || 0;
    const out = createWriteStream(tmp, { flags: 'wx' });
    let done = 0;
    let last = 0;
    const closed = new Promise<void>((resolve, reject) => {
      out.once('close', resolve);
      out.once('error', reject);
    });
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        if (job.signal.aborted) throw new CancelledError();
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
        done += chunk.length;
        if (done - last > 256 * 1024 || done === total) {
          last = done;
          job.progress(`Downloading ${name}`, done, total || done);
        }
      }
    } catch (err) {
      if (job.signal.aborted) throw new CancelledError();
      if (err instanceof CancelledError) throw err;
      throw new Error(`${url}: the download broke off after ${done} bytes (${(err as Error).message})`);
    } finally {
      out.end();
      await closed.catch(() => {});
    }
    if (total && done !== total) throw new Error(`${url}: the download broke off after ${done} of ${total} bytes`);
    if (done < MIN_BYTES) throw new Error(`${url}: only ${done} bytes arrived, not a weights file`);
    const head = Buffer.alloc(2);
    const fh = await fs.open(tmp, 'r');
    try {
      await fh.read(head, 0, 2, 0);
    } finally {
      await fh.close();
    }
    // torch.save writes a ZIP container
    if (head.toString('latin1') !== 'PK') throw new Error(`${url}: what arrived is not a PyTorch checkpoint`);
    await fs.rename(tmp, file);
    ctx.logger.info(`downloaded ${url} to ${file} (${done} bytes)`);
    return { name, path: file, url, downloaded: true, bytes: done, online: null };
  } finally {
    await fs.rm(tmp, { force: true }).catch(() => {});
  }
}
