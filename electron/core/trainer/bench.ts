/**
 * A short timing on this machine for the estimate before Start: the sidecar's `bench` command trains a
 * few real batches of the dataset at the requested model, imgsz, batch and device and reports seconds
 * per training image (see native-bin/spotter_trainer/bench.py). Measurements are cached per (model,
 * imgsz, batch, device, environment) in `<dataDir>/trainer-timings.json`, so the wizard does not time
 * again on every keystroke; concurrent requests for the same key share one timing, and a failed timing
 * is not retried for a while.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { EnvReport } from '../../shared/trainer.js';
import type { CoreContext } from '../context.js';
import { writeFileAtomic } from '../fsutil.js';
import { startSidecar } from './sidecar.js';

export const TIMED_BATCHES = 8;
const WARMUP_BATCHES = 2;
const MAX_TIMING_SECONDS = 20;
/** the whole bench process (imports, model, dataset scan, the batches) */
const BENCH_TIMEOUT_MS = 180_000;
const FAILURE_RETRY_MS = 10 * 60_000;

export const Timing = z.object({
  secondsPerImage: z.number().positive(),
  /** imports, model build, dataset scan: what a run spends before its first batch */
  setupSeconds: z.number().min(0),
  batches: z.number().int().positive(),
  images: z.number().int().positive(),
  /** the batch size trained (AutoBatch resolved) */
  batch: z.number().int().positive(),
  valImages: z.number().int().min(0).default(0),
  device: z.string(),
  measuredAt: z.string(),
});
export type Timing = z.infer<typeof Timing>;

const CacheFile = z.object({ version: z.literal(1), entries: z.record(z.string(), Timing) });

export interface TimingQuery {
  dataYaml: string;
  model: string;
  imgsz: number;
  /** resolved (no 'auto') */
  device: string;
  batch: number;
  workers: number;
}

export interface TimingAnswer {
  timing: Timing | null;
  /** served from the cache (no new timing) */
  cached: boolean;
  /** why there is no timing, in words */
  note: string | null;
}

export type TimingSource = (q: TimingQuery) => Promise<TimingAnswer>;

export function timingsFile(ctx: CoreContext): string {
  return path.join(ctx.paths.dataDir, 'trainer-timings.json');
}

/** What a timing depends on: the model (a yaml by name, weights by path), imgsz, batch, device, environment. */
export function timingKey(python: string, env: EnvReport, q: Pick<TimingQuery, 'model' | 'imgsz' | 'batch' | 'device'>): string {
  const model = /\.pt$/i.test(q.model) ? path.resolve(q.model) : path.basename(q.model);
  const envId = [python, env.torch, env.ultralytics, env.cuda, env.gpus.map((g) => g.name).join('+'), env.platform].join('|');
  const h = createHash('sha256').update(envId).digest('hex').slice(0, 12);
  return `${model}|imgsz=${q.imgsz}|batch=${q.batch}|device=${q.device}|env=${h}`;
}

async function readCache(ctx: CoreContext): Promise<z.infer<typeof CacheFile>> {
  const text = await fs.readFile(timingsFile(ctx), 'utf8').catch(() => null);
  if (text === null) return { version: 1, entries: {} };
  try {
    const r = CacheFile.safeParse(JSON.parse(text));
    if (r.success) return r.data;
  } catch {
    /* damaged: start over */
  }
  ctx.logger.warn(`${timingsFile(ctx)}: unreadable; timings are measured again`);
  return { version: 1, entries: {} };
}

let cacheWrite: Promise<void> = Promise.resolve();
async function storeTiming(ctx: CoreContext, key: string, t: Timing): Promise<void> {
  cacheWrite = cacheWrite
    .then(async () => {
      const c = await readCache(ctx);
      c.entries[key] = t;
      await fs.mkdir(ctx.paths.dataDir, { recursive: true });
      await writeFileAtomic(timingsFile(ctx), JSON.stringify(c, null, 2) + '\n');
    })
    .catch((err) => ctx.logger.warn(`${timingsFile(ctx)}: could not save the timing: ${(err as Error).message}`));
  return cacheWrite;
}

export async function cachedTiming(ctx: CoreContext, key: string): Promise<Timing | null> {
  return (await readCache(ctx)).entries[key] ?? null;
}

/** Run the sidecar's bench once (no cache). Throws with the trainer's message when it fails. */
export async function measureTiming(ctx: CoreContext, python: string, q: TimingQuery, signal?: AbortSignal): Promise<Timing> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), BENCH_TIMEOUT_MS);
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const sidecar = startSidecar(ctx, {
      python,
      args: [
        'bench',
        ...['--data', q.dataYaml, '--model', q.model, '--imgsz', String(q.imgsz), '--batch', String(q.batch), '--device', q.device, '--workers', String(q.workers)],
        ...['--batches', String(TIMED_BATCHES), '--warmup', String(WARMUP_BATCHES), '--max-seconds', String(MAX_TIMING_SECONDS)],
      ],
      signal: controller.signal,
      stopSignal: 'SIGTERM',
      stopTimeoutMs: 5_000,
    });
    const r = await sidecar.result;
    const m = r.done?.metrics;
    if (r.failure || !m || !(m['bench/seconds_per_image']! > 0)) {
      const why = r.failure ? `${r.failure.message}${r.failure.hint ? ` — ${r.failure.hint}` : ''}` : controller.signal.aborted ? 'stopped (took too long)' : 'no result';
      throw new Error(`the timing run failed: ${why}`);
    }
    return Timing.parse({
      secondsPerImage: m['bench/seconds_per_image'],
      setupSeconds: m['bench/setup_seconds'] ?? 0,
      batches: Math.round(m['bench/timed_batches'] ?? 1),
      images: Math.round(m['bench/timed_images'] ?? 1),
      batch: Math.max(1, Math.round(m['bench/batch'] ?? q.batch)),
      valImages: Math.round(m['bench/val_images'] ?? 0),
      device: q.device,
      measuredAt: new Date().toISOString(),
    });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

const inFlight = new Map<string, Promise<Timing>>();
const failedAt = new Map<string, { at: number; message: string }>();

/**
 * The timing source for estimates: the cached measurement, else one new timing (shared by concurrent
 * requests). `busy` (a reason) forbids a new timing: something trains now and would be slowed down.
 */
export function timingSource(ctx: CoreContext, python: string, env: EnvReport, opts: { busy?: string | null } = {}): TimingSource {
  return async (q) => {
    const key = timingKey(python, env, q);
    const hit = await cachedTiming(ctx, key);
    if (hit) return { timing: hit, cached: true, note: null };
    if (opts.busy) return { timing: null, cached: false, note: `not timed: ${opts.busy}` };
    const failed = failedAt.get(key);
    if (failed && Date.now() - failed.at < FAILURE_RETRY_MS) return { timing: null, cached: false, note: failed.message };
    let p = inFlight.get(key);
    if (!p) {
      p = measureTiming(ctx, python, q).then(async (t) => {
        await storeTiming(ctx, key, t);
        return t;
      });
      inFlight.set(key, p);
      void p.catch(() => {}).finally(() => inFlight.delete(key));
    }
    try {
      return { timing: await p, cached: false, note: null };
    } catch (err) {
      const message = (err as Error).message;
      failedAt.set(key, { at: Date.now(), message });
      ctx.logger.warn(`estimate: ${message}`);
      return { timing: null, cached: false, note: message };
    }
  };
}
