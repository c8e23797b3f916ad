/**
 * `spotter review batch`: the next labelling batch for CVAT from a model's predictions on a dataset
 * (or a folder of images) — the images it is unsure about, those where it disagrees with the ground
 * truth, or unlabelled ones — with the predictions as pre-annotations (COCO 1.0 zip or CVAT 1.1 XML).
 * Predicts first when the model's predictions on the source are not cached yet. Re-import the
 * corrected export with `spotter import <export> --base <dataset>`.
 */
import os from 'node:os';
import path from 'node:path';
import { CommanderError, InvalidArgumentError, type Command } from 'commander';
import type { CoreContext } from '../core/context.js';
import type { HandlerDeps } from '../core/deps.js';
import { JobManager } from '../core/jobs/jobs.js';
import { getReviewSet } from '../core/predict/cache.js';
import { runPredictJob } from '../core/predict/handlers.js';
import { writeBatch } from '../core/review/batch.js';
import { batchesDir } from '../core/review/handlers.js';
import type { ReviewSource } from '../shared/review.js';
import { cliJob, makeContext, parseIntArg } from './common.js';

function parseScore(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('expected a number from 0 to 1');
  return n;
}

export function registerReviewCommands(program: Command, ctxOf: () => CoreContext = () => makeContext()): void {
  const cmd = program.command('review').description("review a model's predictions; send the hard images back to the annotators");
  cmd
    .command('batch')
    .description('write the next labelling batch for CVAT: images, pre-annotations (predictions with a confidence attribute) and a README')
    .argument('<model>', 'the ONNX model (Ultralytics export)')
    .argument('<source>', 'a Spotter dataset folder, or a folder of images (--folder)')
    .option('--folder', 'the source is a plain folder of images (no ground truth: use --mode unlabelled)', false)
    .option('--split <split>', 'the dataset split: train, val, test or all', 'val')
    .requiredOption('--mode <mode>', 'uncertain (scores in [--low, --high]), disagree (FP or FN at --conf/--iou) or unlabelled')
    .option('--low <score>', 'uncertain band, low end', parseScore, 0.25)
    .option('--high <score>', 'uncertain band, high end', parseScore, 0.6)
    .option('--conf <score>', 'pre-annotate predictions scored at least this (and the disagree threshold)', parseScore, 0.25)
    .option('--iou <iou>', 'IoU a prediction needs to match a box (disagree)', parseScore, 0.5)
    .option('--limit <n>', 'at most this many images', parseIntArg, 200)
    .option('--format <format>', 'coco (COCO 1.0 zip) or cvat (CVAT for images 1.1 XML)', 'coco')
    .option('--name <name>', 'batch folder name (default batch-<UTC>-<mode>)')
    .option('--out <dir>', 'where the batch folder goes (default <workspace>/batches)')
    .option('--workspace <dir>', 'workspace folder (prediction cache, batches)')
    .option('--json', 'print the result as JSON')
    .action(async (model: string, source: string, o) => {
      if (!['uncertain', 'disagree', 'unlabelled'].includes(o.mode)) throw new CommanderError(2, 'usage', `--mode must be uncertain, disagree or unlabelled, not "${o.mode}"`);
      if (!['coco', 'cvat'].includes(o.format)) throw new CommanderError(2, 'usage', `--format must be coco or cvat, not "${o.format}"`);
      if (!['train', 'val', 'test', 'all'].includes(o.split)) throw new CommanderError(2, 'usage', `--split must be train, val, test or all, not "${o.split}"`);
      if (!(o.limit >= 1)) throw new CommanderError(2, 'usage', '--limit must be 1 or more');
      if (o.low > o.high) throw new CommanderError(2, 'usage', '--low must not exceed --high');
      const ctx = ctxOf();
      const workspace = o.workspace ? path.resolve(o.workspace) : path.join(os.homedir(), 'Spotter');
      const deps: HandlerDeps = { ctx, emit: () => {}, jobs: new JobManager({ progress: () => {}, finished: () => {} }), workspace: () => workspace };
      const src: ReviewSource = o.folder ? { model: path.resolve(model), folder: path.resolve(source) } : { model: path.resolve(model), dataset: path.resolve(source), split: o.split };
      const { job, done } = cliJob(!!o.json, !!program.opts().verbose);
      let result;
      try {
        // predictions are cached per model and source: predict first when nothing is cached yet
        let set = await getReviewSet(deps, src);
        if (!set) {
          if (!o.json) process.stderr.write(`predicting with ${path.basename(src.model)} on ${source}${src.dataset ? ` (${src.split})` : ''} …\n`);
          await runPredictJob(deps, src, false, job);
          set = await getReviewSet(deps, src);
        }
        if (!set) throw new Error(`${src.model}: no predictions on ${source} after predicting`);
        result = await writeBatch(
          set,
          {
            out: o.out ? path.resolve(o.out) : batchesDir(workspace),
            name: o.name,
            format: o.format,
            conf: o.conf,
            selection: { mode: o.mode, low: o.low, high: o.high, conf: o.conf, iou: o.iou, limit: o.limit },
          },
          job,
        );
      } finally {
        done();
      }
      if (o.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else {
        process.stdout.write(`batch: ${result.dir}\n  ${result.images} images, ${result.boxes} pre-annotated boxes\n  upload to CVAT: ${result.annotations} (see README.md there)\n`);
      }
    });
}
