/**
 * One-shot sidecar commands on a run's weights: export (ONNX and every format Ultralytics exports).
 * Evaluation on a split lives in evaluate.ts.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { TrainerEvent } from '../../shared/trainer.js';
import type { CoreContext } from '../context.js';
import type { JobContext } from '../jobs/jobs.js';
import { requireReadyEnv } from './env.js';
import { startSidecar, type SidecarResult } from './sidecar.js';

/** best.pt of a run folder (last.pt when the run never validated), or a .pt path as it is. */
export function runWeights(runOrWeights: string): string {
  const abs = path.resolve(runOrWeights);
  if (abs.endsWith('.pt')) return abs;
  for (const f of ['best.pt', 'last.pt']) if (existsSync(path.join(abs, 'weights', f))) return path.join(abs, 'weights', f);
  throw new Error(`${abs}: no weights/best.pt or weights/last.pt — not a finished run folder`);
}

export async function oneShot(ctx: CoreContext, args: string[], logFile: string, job?: JobContext, onEvent?: (e: TrainerEvent) => void): Promise<SidecarResult> {
  const { python } = await requireReadyEnv(ctx);
  const sc = startSidecar(ctx, { python, args, logFile, signal: job?.signal, onEvent, stopTimeoutMs: 10_000, stopSignal: 'SIGTERM' });
  const r = await sc.result;
  job?.throwIfCancelled();
  if (r.failure) throw new Error(`${r.failure.message}${r.failure.hint ? ` — ${r.failure.hint}` : ''}`);
  return r;
}

export interface ExportOptions {
  /** Spotter's format key (onnx, torchscript, openvino, tflite, ncnn, coreml, engine, rknn) or any Ultralytics format */
  format?: string;
  imgsz?: number;
  half?: boolean;
  /** INT8 quantization, calibrated on `data` (default: the run's data.yaml) */
  int8?: boolean;
  dynamic?: boolean;
  /** simplify the ONNX graph (onnxslim); on by default */
  simplify?: boolean;
  /** embed NMS in the graph (outputs final boxes) */
  nms?: boolean;
  /** data.yaml for INT8 calibration */
  data?: string;
  device?: string;
}

export interface ExportOutcome {
  path: string;
  format: string;
  /** the .pt it was exported from */
  weights: string;
}

/** The run folder of runs/<x>/weights/best.pt; the weights' folder otherwise. */
export function weightsRun(weights: string): string {
  return path.basename(path.dirname(weights)) === 'weights' ? path.dirname(path.dirname(weights)) : path.dirname(weights);
}

/**
 * Export a run's best.pt; returns the exported file (or folder, for formats that write one), beside the weights
 * as Ultralytics names it (weights/best.onnx, weights/best_openvino_model/, …). The sidecar builds in a private
 * folder under weights/ and moves only a finished export into place; that folder is removed here too, so a
 * cancelled (killed) export leaves nothing behind.
 */
export async function exportRun(ctx: CoreContext, runOrWeights: string, opts: ExportOptions = {}, job?: JobContext, onEvent?: (e: TrainerEvent) => void): Promise<ExportOutcome> {
  const weights = runWeights(runOrWeights);
  const run = weightsRun(weights);
  const format = opts.format ?? 'onnx';
  const workdir = path.join(path.dirname(weights), `.export-${randomUUID().slice(0, 8)}`);
  const args = ['export', '--weights', weights, '--format', format, '--workdir', workdir];
  if (opts.imgsz) args.push('--imgsz', String(opts.imgsz));
  if (opts.half) args.push('--half');
  if (opts.int8) args.push('--int8');
  if (opts.dynamic) args.push('--dynamic');
  if (opts.simplify === false) args.push('--no-simplify');
  if (opts.nms) args.push('--nms');
  if (opts.data) args.push('--data', path.resolve(opts.data));
  if (opts.device) args.push('--device', opts.device);
  job?.progress(`export ${format}`, 0, 2);
  let out: ExportOutcome | null = null;
  try {
    await oneShot(ctx, args, path.join(run, 'export.log'), job, (e) => {
      if (e.type === 'export_start') job?.progress(`export ${format}`, 1, 2);
      if (e.type === 'export_done') out = { path: e.path, format: e.format, weights };
      onEvent?.(e);
    });
  } finally {
    await fs.rm(workdir, { recursive: true, force: true }).catch(() => {});
  }
  job?.progress(`export ${format}`, 2, 2);
  if (!out) throw new Error(`the ${format} export of ${weights} reported no file (see ${path.join(run, 'export.log')})`);
  return out;
}
