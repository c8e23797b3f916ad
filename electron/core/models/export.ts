/**
 * Exporting a run's best.pt from the export menu, the CLI and deploy: the sidecar builds the format (see
 * trainer/export.ts), the result lands in the run's weights/ as Ultralytics names it, and an ONNX export
 * (which always carries Ultralytics' metadata: names, imgsz, stride, task) gets its model card beside it —
 * the run's metrics and per-class AP, the class names, and the operating point (confidence 0.25, NMS IoU 0.7,
 * or the thresholds an earlier card of the same file already had).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ExportResult, ModelCard, ModelTask } from '../../shared/review.js';
import type { TrainerEvent } from '../../shared/trainer.js';
import type { CoreContext } from '../context.js';
import type { JobContext } from '../jobs/jobs.js';
import { exportRun, runWeights, weightsRun, type ExportOptions } from '../trainer/export.js';
import { loadAnyRun, type RunRecord } from '../trainer/runs.js';
import { readModelCard, writeModelCard } from './card.js';
import { normalizeFormat } from './formats.js';

export const DEFAULT_THRESHOLDS = { default: 0.25, perClass: {} as Record<string, number>, iou: 0.7 };

/** Size of a file, or of every file in a folder export. */
export async function pathBytes(p: string): Promise<number> {
  const st = await fs.stat(p);
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const e of await fs.readdir(p, { withFileTypes: true })) n += await pathBytes(path.join(p, e.name));
  return n;
}

/** The format of an export from its name (Ultralytics' suffixes). */
export function formatOfPath(p: string): string {
  const base = path.basename(p.replace(/[\\/]+$/, ''));
  const suffixes: Array<[RegExp, string]> = [
    [/\.onnx$/i, 'onnx'],
    [/\.torchscript$/i, 'torchscript'],
    [/_openvino_model$/, 'openvino'],
    [/\.tflite$/i, 'tflite'],
    [/_ncnn_model$/, 'ncnn'],
    [/\.(mlpackage|mlmodel)$/i, 'coreml'],
    [/\.engine$/i, 'engine'],
    [/_rknn_model$/, 'rknn'],
    [/\.pt$/i, 'pytorch'],
  ];
  for (const [re, f] of suffixes) if (re.test(base)) return f;
  return path.extname(base).slice(1).toLowerCase() || 'unknown';
}

/** A card for a model built from a run: its metrics, classes and data; thresholds default or carried over. */
export function cardFromRun(
  rec: RunRecord,
  runDir: string,
  o: { name: string; version: number | null; file: string; format: string; imgsz: number | [number, number]; thresholds?: ModelCard['thresholds']; createdAt?: string },
): ModelCard {
  const now = new Date().toISOString();
  const imgsz: [number, number] = Array.isArray(o.imgsz) ? o.imgsz : [o.imgsz, o.imgsz];
  return {
    schema: 1,
    name: o.name,
    version: o.version,
    file: o.file,
    format: o.format,
    task: (rec.task ?? 'detect') as ModelTask,
    imgsz,
    names: rec.dataset.classes,
    thresholds: o.thresholds ?? { ...DEFAULT_THRESHOLDS, perClass: {} },
    metrics: rec.final_metrics ?? rec.metrics ?? null,
    perClass: rec.per_class,
    run: { dir: path.resolve(runDir), name: rec.name, label: rec.label, dataset: rec.dataset.data_yaml, datasetHash: rec.dataset.hash },
    createdAt: o.createdAt ?? now,
    updatedAt: now,
  };
}

export interface ModelExportOptions extends Omit<ExportOptions, 'data'> {
  format: string;
}

/**
 * Export a run's best.pt to a format: ExportResult with the path (file or folder), bytes and seconds. An
 * ONNX export gets its card. Errors name the format and what is missing or why it cannot be built here.
 */
export async function exportModel(ctx: CoreContext, runOrWeights: string, opts: ModelExportOptions, job?: JobContext, onEvent?: (e: TrainerEvent) => void): Promise<ExportResult> {
  const t0 = Date.now();
  const weights = runWeights(runOrWeights);
  const runDir = weightsRun(weights);
  const rec = await loadAnyRun(runDir).catch(() => null);
  if (rec?.status === 'running') throw new Error(`${runDir}: the run is still training; export it once it has ended`);
  const format = normalizeFormat(opts.format);
  // INT8 calibrates on the run's own dataset (Ultralytics would otherwise fall back to downloading coco8)
  const data = opts.int8 ? rec?.dataset.data_yaml : undefined;
  if (opts.int8 && !data) throw new Error(`${runDir}: INT8 export calibrates on the run's dataset, and this run names none`);
  const imgsz = opts.imgsz ?? (Number(rec?.settings.imgsz) || undefined);
  const out = await exportRun(ctx, weights, { ...opts, format, imgsz, data }, job, onEvent);
  if (out.format === 'onnx' && rec) {
    const prev = await readModelCard(out.path).catch(() => null);
    const card = cardFromRun(rec, runDir, {
      name: rec.label || rec.name,
      version: null,
      file: path.basename(out.path),
      format: 'onnx',
      imgsz: imgsz ?? 640,
      thresholds: prev?.thresholds,
      createdAt: prev?.createdAt,
    });
    await writeModelCard(out.path, card);
  }
  return { path: out.path, format: out.format, seconds: Math.round((Date.now() - t0) / 100) / 10, bytes: await pathBytes(out.path) };
}
