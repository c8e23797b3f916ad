/**
 * `spotter predict <model.onnx> <image|dir>... [--conf 0.25] [--iou 0.7] [--max-det 300] [--json out.json] [--coco out.json]`
 * Ultralytics' predict on an ONNX model, in Node (same preprocessing, decoding and NMS; parity is tested).
 * Prints one line per image (or nothing but a summary with --json/--coco to a file). A progress bar on a TTY.
 * `--json` writes [{file, width, height, detections: [{class, class_id, score, box: [x1, y1, x2, y2]}]}]
 * in original pixels (segmentation models add `polygon`); `--coco` writes a loadable COCO file (images,
 * categories and results-style annotations with `score`).
 * Exit codes: 0 ok, 1 error (bad model, no images) or some images could not be read (named on stderr,
 * the others are still predicted and written), 2 usage, 130 Ctrl-C.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ImagePrediction } from '../shared/review.js';
import { isImageFile, walkFiles, writeFileAtomic } from '../core/fsutil.js';
import { openPool, predictFiles } from '../core/predict/pool.js';
import { cliJob, ExitCode, parseIntArg } from './common.js';

function parseUnit(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('expected a number from 0 to 1');
  return n;
}

/** Files and folders (searched recursively for images) → image files, in the order given. */
export async function collectImages(inputs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const i of inputs) {
    const abs = path.resolve(i);
    const st = await fs.stat(abs).catch(() => null);
    if (!st) throw new Error(`${abs}: no such file or folder`);
    if (st.isDirectory()) {
      const imgs = (await walkFiles(abs)).filter(isImageFile);
      if (!imgs.length) throw new Error(`${abs}: no images in this folder`);
      out.push(...imgs);
    } else out.push(abs);
  }
  return out;
}

/** COCO results with images and categories, so the file loads as a COCO dataset too. */
export function toCoco(results: ImagePrediction[], names: string[]): object {
  const images = results.map((r, i) => ({ id: i + 1, file_name: r.file, width: r.width, height: r.height }));
  let id = 0;
  const annotations = results.flatMap((r, i) =>
    r.detections.map((d) => {
      const [x1, y1, x2, y2] = d.box;
      const w = x2 - x1;
      const h = y2 - y1;
      return {
        id: ++id,
        image_id: i + 1,
        category_id: d.classId + 1,
        bbox: [x1, y1, w, h].map((v) => Math.round(v * 100) / 100),
        area: Math.round(w * h * 100) / 100,
        score: Math.round(d.score * 1e5) / 1e5,
        iscrowd: 0,
        ...(d.polygon ? { segmentation: [d.polygon.map((v) => Math.round(v * 100) / 100)] } : {}),
      };
    }),
  );
  return { info: { description: 'predictions by spotter predict' }, images, categories: names.map((n, i) => ({ id: i + 1, name: n, supercategory: '' })), annotations };
}

export function registerPredictCommands(program: Command): void {
  program
    .command('predict')
    .description("run an ONNX model (Ultralytics export) on images, with Ultralytics' preprocessing and NMS")
    .argument('<model>', 'the .onnx model')
    .argument('<images...>', 'image files or folders (searched recursively)')
    .option('--conf <x>', 'confidence threshold', parseUnit, 0.25)
    .option('--iou <x>', 'NMS IoU threshold', parseUnit, 0.7)
    .option('--max-det <n>', 'at most this many detections per image', parseIntArg, 300)
    .option('--json <file>', 'write the detections as JSON (one entry per image)')
    .option('--coco <file>', 'write the detections as a COCO file (results with images and categories)')
    .option('--workers <n>', 'worker threads (default: about the square root of the cores)', parseIntArg)
    .action(async (model: string, inputs: string[], o) => {
      if (o.maxDet < 1) throw new CommanderError(2, 'usage', 'invalid --max-det: must be at least 1');
      const files = await collectImages(inputs);
      const pool = await openPool(path.resolve(model), { workers: o.workers });
      const results: Array<ImagePrediction | null> = new Array(files.length).fill(null);
      const failed: string[] = [];
      const { job, done } = cliJob(false, !!program.opts().verbose);
      const quietLines = !!(o.json || o.coco) || process.stderr.isTTY;
      let n = 0;
      try {
        job.progress('predict', 0, files.length);
        await predictFiles(
          pool,
          files,
          { conf: o.conf, iou: o.iou, maxDet: o.maxDet },
          (i, r, err) => {
            n++;
            job.progress('predict', n, files.length);
            if (r) {
              results[i] = r;
              if (!quietLines) {
                const counts = new Map<string, number>();
                for (const d of r.detections) counts.set(d.class, (counts.get(d.class) ?? 0) + 1);
                process.stdout.write(`${r.file}: ${r.width}x${r.height}, ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ') || 'nothing'}\n`);
              }
            } else failed.push(err?.message ?? files[i]!);
          },
          job.signal,
        );
        job.throwIfCancelled();
      } finally {
        done();
        await pool.close();
      }
      const ok = results.filter((r): r is ImagePrediction => r !== null);
      if (o.json) {
        const entries = ok.map((r) => ({
          file: r.file,
          width: r.width,
          height: r.height,
          detections: r.detections.map((d) => ({ class: d.class, class_id: d.classId, score: d.score, box: d.box, ...(d.polygon ? { polygon: d.polygon } : {}) })),
        }));
        await writeFileAtomic(path.resolve(o.json), JSON.stringify(entries, null, 1) + '\n');
      }
      if (o.coco) await writeFileAtomic(path.resolve(o.coco), JSON.stringify(toCoco(ok, pool.meta.names)) + '\n');
      const dets = ok.reduce((s, r) => s + r.detections.length, 0);
      const t = pool.times;
      process.stderr.write(`${ok.length} images, ${dets} detections (${pool.mode}${pool.mode === 'workers' ? ` ×${pool.size}` : ''}; pre ${t.pre.toFixed(2)} s, inference ${t.infer.toFixed(2)} s, post ${t.post.toFixed(2)} s)\n`);
      if (failed.length) {
        for (const f of failed) process.stderr.write(`spotter: ${f}\n`);
        process.stderr.write(`spotter: ${failed.length} of ${files.length} images could not be read\n`);
        throw new ExitCode(1);
      }
    });
}
