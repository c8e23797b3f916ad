/**
 * The predict worker (a worker_threads entry, bundled to predict-worker.mjs beside the CLI and the
 * Electron main bundles by scripts/build.mjs). It opens its own session and answers
 * {id, file, opts} with {id, result, times} or {id, error}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Engine, type EngineOptions, type PredictOptions, type StageTimes } from './engine.js';

export interface WorkerRequest {
  id: number;
  file: string;
  opts: PredictOptions;
}

const port = parentPort;
if (port) {
  const data = workerData as { model: string; engine: EngineOptions };
  const ready = Engine.open(data.model, data.engine);
  ready.then(
    (e) => port.postMessage({ ready: true, provider: e.provider }),
    (err: Error) => port.postMessage({ ready: false, error: err.message }),
  );
  let chain: Promise<void> = Promise.resolve();
  port.on('message', (m: WorkerRequest | 'close') => {
    if (m === 'close') {
      void chain.then(() => ready).then((e) => e.close()).finally(() => process.exit(0)); // after the queued images
      return;
    }
    // one image at a time: run() holds this thread, so overlapping images here would only queue
    // (the next request waits in the port, so the worker never idles between images)
    chain = chain.then(async () => {
      const times: StageTimes = { pre: 0, infer: 0, post: 0 };
      try {
        const e = await ready;
        const result = await e.predictFile(m.file, m.opts, times);
        port.postMessage({ id: m.id, result, times });
      } catch (err) {
        port.postMessage({ id: m.id, error: (err as Error).message, times });
      }
    });
  });
}
