/**
 * Predicting many images with one model: a pool of worker threads, each with its own onnxruntime
 * session (a few intra-op threads each), so one image is decoded and letterboxed while another is in
 * inference — onnxruntime-node's run() holds its thread, so the overlap has to come from threads. The
 * UI thread (Electron main, serve mode) only hands out file names and collects detections.
 *
 * Where the worker runs from: the bundles (dist/cli/index.js, dist/main/main.cjs) have
 * predict-worker.mjs beside them (scripts/build.mjs). Vitest runs the TypeScript sources, where no
 * built worker exists beside this file: the pool then runs the same Engine in-process (one session,
 * images one after the other). SPOTTER_PREDICT_WORKERS=0 forces that, a number sets the pool size.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ImagePrediction } from '../../shared/review.js';
import { cudaInstalled, Engine, ort as loadOrt, type PredictOptions, type StageTimes } from './engine.js';
import { readModelMeta, type ModelMeta } from './onnx-meta.js';

/** The built worker beside the running bundle, or null (sources under Vitest/tsx). */
export function builtWorkerFile(): string | null {
  if (process.env.SPOTTER_PREDICT_WORKER) return path.resolve(process.env.SPOTTER_PREDICT_WORKER);
  const dirs: string[] = [];
  if (typeof __dirname === 'string') dirs.push(__dirname);
  try {
    dirs.push(path.dirname(fileURLToPath(import.meta.url)));
  } catch {
    /* CommonJS bundle: __dirname above */
  }
  for (const d of dirs) {
    const f = path.join(d, 'predict-worker.mjs');
    if (existsSync(f)) return f;
  }
  return null;
}

export interface PoolOptions {
  /** worker threads (default: about √cores, 1–4); 0: in-process */
  workers?: number;
  /** onnxruntime intra-op threads per session (default: cores / workers) */
  threads?: number;
  cuda?: boolean;
}

export interface PredictPool {
  meta: ModelMeta;
  /** 'workers' or 'in-process' */
  mode: string;
  size: number;
  predict(file: string, opts: PredictOptions): Promise<ImagePrediction>;
  /** seconds spent in each stage, summed over images (and over workers) */
  times: StageTimes;
  close(): Promise<void>;
}

function defaultWorkers(cuda: boolean): number {
  const env = process.env.SPOTTER_PREDICT_WORKERS;
  if (env !== undefined && env !== '' && Number.isInteger(Number(env))) return Math.max(0, Number(env));
  // with the CUDA provider, one session holds the GPU: more would each take GPU memory and queue on it
  if (cuda) return 1;
  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  // a few sessions with a few threads each beat one session with all of them (small convolutions scale
  // poorly over threads, and one image decodes while another runs): 2→2×1, 4→2×2, 8→3×2, 16→4×4
  return Math.max(1, Math.min(4, Math.ceil(Math.sqrt(cpus))));
}

interface Pending {
  resolve: (r: ImagePrediction) => void;
  reject: (e: Error) => void;
}

class WorkerSlot {
  inflight = 0;
  readonly pending = new Map<number, Pending>();
  readonly ready: Promise<void>;
  dead: Error | null = null;
  constructor(
    readonly worker: Worker,
    times: StageTimes,
  ) {
    this.ready = new Promise((resolve, reject) => {
      worker.once('message', (m: { ready: boolean; error?: string }) => (m.ready ? resolve() : reject(new Error(m.error))));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the predict worker exited (${code}) before it was ready`)));
    });
    this.ready.catch(() => {});
    worker.on('message', (m: { id?: number; result?: ImagePrediction; error?: string; times?: StageTimes }) => {
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      this.inflight--;
      if (m.times) {
        times.pre += m.times.pre;
        times.infer += m.times.infer;
        times.post += m.times.post;
      }
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.result!);
    });
    const fail = (err: Error) => {
      this.dead = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    // whatever the exit code, nothing still pending will ever be answered
    worker.on('exit', (code) => fail(new Error(`the predict worker stopped (exit ${code})`)));
  }
}

/** Open a model for predicting many images. Errors name the model file. */
export async function openPool(model: string, o: PoolOptions = {}): Promise<PredictPool> {
  const meta = await readModelMeta(model);
  const file = builtWorkerFile();
  const n = o.workers ?? defaultWorkers(o.cuda !== false && cudaInstalled());
  const times: StageTimes = { pre: 0, infer: 0, post: 0 };
  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  if (!file || n === 0) {
    const engine = await Engine.open(meta.path, { threads: o.threads, cuda: o.cuda });
    // one image at a time: run() holds the thread, overlapping would only add waiting
    let chain: Promise<unknown> = Promise.resolve();
    return {
      meta,
      mode: 'in-process',
      size: 1,
      times,
      predict(f, opts) {
        const p = chain.then(() => engine.predictFile(f, opts, times));
        chain = p.catch(() => {});
        return p;
      },
      close: () => chain.then(() => engine.close()), // after the queued images
    };
  }
  // onnxruntime's native addon loaded once on this thread first: workers that load and unload it
  // on their own are what crashes native addons at worker exit
  await loadOrt();
  const threads = o.threads ?? Math.max(1, Math.floor(cpus / n));
  const slots = Array.from({ length: n }, () => new WorkerSlot(new Worker(file, { workerData: { model: meta.path, engine: { threads, cuda: o.cuda } } }), times));
  try {
    await Promise.all(slots.map((s) => s.ready));
  } catch (err) {
    await Promise.all(slots.map((s) => s.worker.terminate()));
    throw err;
  }
  let nextId = 0;
  return {
    meta,
    mode: 'workers',
    size: n,
    times,
    predict(f, opts) {
      const live = slots.filter((s) => !s.dead);
      if (!live.length) return Promise.reject(slots[0]!.dead ?? new Error('no predict worker'));
      const slot = live.reduce((a, b) => (b.inflight < a.inflight ? b : a));
      const id = nextId++;
      slot.inflight++;
      return new Promise<ImagePrediction>((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        slot.worker.postMessage({ id, file: f, opts });
      });
    },
    async close() {
      await Promise.all(
        slots.map(
          (s) =>
            new Promise<void>((resolve) => {
              const t = setTimeout(() => void s.worker.terminate().then(() => resolve()), 2000);
              s.worker.once('exit', () => {
                clearTimeout(t);
                resolve();
              });
              s.worker.postMessage('close');
            }),
        ),
      );
    },
  };
}

/**
 * Predict a list of files with at most `2 × pool size` in flight (each worker has the next image
 * queued while it works). Unreadable images do not stop the others: they come back as errors.
 */
export async function predictFiles(
  pool: PredictPool,
  files: readonly string[],
  opts: PredictOptions,
  onResult: (i: number, r: ImagePrediction | null, err: Error | null) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  const lanes = Math.max(1, pool.size * 2);
  const lane = async () => {
    while (next < files.length) {
      if (signal?.aborted) return;
      const i = next++;
      let r: ImagePrediction | null = null;
      let e: Error | null = null;
      try {
        r = await pool.predict(files[i]!, opts);
      } catch (err) {
        e = err as Error;
      }
      await onResult(i, r, e);
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, files.length) }, lane));
}
