/**
 * Spotter's side of the predict benchmark: the worker pool on a list of images with one ONNX model,
 * after a warm-up; images/s end to end and the share of thread time in pre-, inference and
 * post-processing. Bundled and imported by bench/run.mjs.
 */
import { openPool, predictFiles } from '../electron/core/predict/pool.js';

export async function benchPredict(model: string, files: string[], o: { workers?: number; threads?: number } = {}) {
  const pool = await openPool(model, o);
  try {
    const opts = { conf: 0.25, iou: 0.7, maxDet: 300 };
    // warm-up: every worker's session runs once
    await Promise.all(Array.from({ length: pool.size }, () => pool.predict(files[0]!, opts)));
    pool.times.pre = pool.times.infer = pool.times.post = 0;
    let dets = 0;
    let failed = 0;
    const t0 = performance.now();
    await predictFiles(pool, files, opts, (_, r) => {
      if (r) dets += r.detections.length;
      else failed++;
    });
    const seconds = (performance.now() - t0) / 1000;
    const t = pool.times;
    const all = t.pre + t.infer + t.post || 1;
    return {
      images: files.length,
      failed,
      detections: dets,
      seconds,
      images_per_s: files.length / seconds,
      mode: pool.mode,
      workers: pool.size,
      share: { pre: t.pre / all, infer: t.infer / all, post: t.post / all },
    };
  } finally {
    await pool.close();
  }
}
