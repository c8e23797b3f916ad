/**
 * Training from the command line (stable interface; scripts and reviews depend on it):
 *   spotter env status [--json]            spotter env setup [--wheelhouse dir] [--repair]
 *   spotter train <dataset dir|data.yaml> [--model] [--epochs] [--imgsz] [--batch] [--device] [--label]
 *                 [--note] [--workspace dir] [--json] [--override-health] [--tensorboard] [--set k=v]…
 *   spotter train --resume <run dir>
 *   spotter val <run dir> [--split val|test] [--json]   (recorded in the run; test is for the final check)
 *   spotter export <run dir> [--format onnx|torchscript|openvino|…] [--imgsz N] [--half|--int8] [--dynamic] [--no-simplify] [--nms]
 *   spotter runs report [--workspace dir]  spotter runs compare <baseline run> <run>... [--json]
 * Exit codes: 0 ok (train: the run completed), 1 error, 2 usage, 3 the dataset's health check refused
 * the run, 130 stopped with Ctrl-C (the run stops gracefully and can be resumed).
 * `train --json` always ends with one object {run_dir, status, …, error: {code, message, hint} | null},
 * also when the run could not start.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import os from 'node:os';
import path from 'node:path';
import { TRAIN_ARG_NAME, TrainRequest, type TrainerEnvStatus } from '../shared/contract.js';
import type { TrainerEvent } from '../shared/trainer.js';
import type { CoreContext } from '../core/context.js';
import { CancelledError } from '../core/jobs/jobs.js';
import { loadSettings } from '../core/settings.js';
import { resolveDataYaml } from '../core/trainer/dataset.js';
import { envStatus, requireReadyEnv, setupEnv } from '../core/trainer/env.js';
import { exportModel } from '../core/models/export.js';
import { evaluateRun } from '../core/trainer/evaluate.js';
import { compareRuns, comparisonText, writeReport } from '../core/trainer/reports.js';
import { checkResumable, HealthRefusal, prepareRun, reserveRunDir, RunStartError, trainRun, type TrainOutcome } from '../core/trainer/runs.js';
import { f3, formatDuration } from '../core/trainer/summary.js';
import { cliJob, cliOptionName, ExitCode, keepAwake, parseIntArg, printHealth } from './common.js';

/** --workspace, else the app's saved workspace, else ~/Spotter. */
export async function cliWorkspace(ctx: CoreContext, given?: string): Promise<string> {
  if (given) return path.resolve(given);
  const s = await loadSettings(ctx.paths.dataDir);
  return s.workspace ? path.resolve(s.workspace) : path.join(os.homedir(), 'Spotter');
}

function parseNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

/** --set key=value: any other Ultralytics train argument, typed as the `yolo` CLI types it. */
function parseSet(v: string, prev: Record<string, number | string | boolean | null>) {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got "${v}"`);
  const key = v.slice(0, eq);
  if (!TRAIN_ARG_NAME.test(key)) throw new InvalidArgumentError(`"${key}" is not an Ultralytics argument name (lower-case letters, digits and _)`);
  const raw = v.slice(eq + 1);
  const val = /^(true|false)$/i.test(raw) ? raw.toLowerCase() === 'true' : /^(none|null)$/i.test(raw) ? null : raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  return { ...prev, [key]: val };
}

interface StartFailure {
  code: string;
  message: string;
  hint: string | null;
}

/** Why a run could not start, in the codes of `train --json`'s final object. */
function startFailure(err: unknown): StartFailure {
  if (err instanceof RunStartError) return { code: err.code, message: err.message, hint: err.hint };
  if (err instanceof HealthRefusal) return { code: 'dataset-unhealthy', message: err.message, hint: "Fix what `spotter check` lists, or train anyway with --override-health." };
  if (err instanceof CancelledError) return { code: 'cancelled', message: 'cancelled before training started; nothing was written', hint: null };
  if (err instanceof CommanderError) return { code: 'usage', message: err.message, hint: 'See spotter train --help.' };
  return { code: 'unknown', message: (err as Error).message, hint: null };
}

function printEnv(s: TrainerEnvStatus, out: NodeJS.WritableStream): void {
  out.write(`trainer environment: ${s.ready ? 'ready' : 'NOT READY'}\n`);
  out.write(`python: ${s.python ?? '(none yet)'}\nenvironment: ${s.venv}\n`);
  const h = s.hardware;
  out.write(`hardware: ${h.kind}${h.gpus.length ? ` — ${h.gpus.join(', ')}` : ''}${h.driver ? `, driver ${h.driver}` : ''}${h.note ? ` (${h.note})` : ''}\n`);
  if (s.env) {
    const e = s.env;
    out.write(`python ${e.python_version}, torch ${e.torch ?? '-'} (CUDA ${e.cuda ?? 'none'}, GPU usable: ${e.cuda_available ? 'yes' : 'no'}${e.mps_available ? ', MPS usable' : ''}), torchvision ${e.torchvision ?? '-'}, ultralytics ${e.ultralytics ?? '-'}, numpy ${e.numpy ?? '-'}, onnx ${e.onnx ?? '-'}\n`);
    for (const g of e.gpus) out.write(`  GPU ${g.name}, ${g.memory_gb.toFixed(1)} GB\n`);
  }
  for (const p of s.problems) out.write(`problem: ${p}\n`);
}

/** One line per epoch for logs (no TTY), on stderr. */
export function epochLine(e: TrainerEvent): string | null {
  if (e.type === 'epoch_end') {
    const losses = Object.entries(e.losses).map(([k, v]) => `${k.replace(/^train\//, '')} ${v.toFixed(3)}`).join(', ');
    return `epoch ${e.epoch}/${e.epochs}: ${losses} (${e.seconds.toFixed(1)} s)`;
  }
  if (e.type === 'val') {
    const pick = (k: string) => e.metrics[`metrics/${k}(B)`] ?? e.metrics[k];
    return `  val: mAP50 ${f3(pick('mAP50'))}, mAP50-95 ${f3(pick('mAP50-95'))}, P ${f3(pick('precision'))}, R ${f3(pick('recall'))}`;
  }
  if (e.type === 'error') return `error (${e.code}): ${e.message}${e.hint ? ` — ${e.hint}` : ''}`;
  return null;
}

/** The training options `train` and `sweep` share (Ultralytics names; --label, --resume, --json are each command's own). */
export function addTrainOptions(cmd: Command): Command {
  return cmd
    .option('--model <yaml|pt>', "model yaml (yolov8n.yaml, yolo11s.yaml, …) or a local .pt (fine-tune: a run's weights/best.pt)", 'yolov8n.yaml')
    .option('--epochs <n>', 'epochs', parseIntArg, 1)
    .option('--imgsz <n>', 'training image size', parseIntArg, 640)
    .option('--batch <n>', 'batch size (-1: auto on CUDA, 8 elsewhere)', parseNumber, -1)
    .option('--device <d>', 'auto, cpu, 0, 1, … or mps: a single device (multi-GPU training is not supported yet)', 'auto')
    .option('--workers <n>', 'dataloader workers', parseIntArg, 2)
    .option('--patience <n>', 'stop after this many epochs without improvement', parseIntArg)
    .option('--seed <n>', 'random seed', parseIntArg)
    .option('--lr0 <x>', 'initial learning rate', parseNumber)
    .option('--optimizer <name>', 'SGD, AdamW, auto, …')
    .option('--cos-lr', 'cosine learning-rate schedule')
    .option('--set <key=value>', 'any other Ultralytics train argument (mosaic=0.2, degrees=180, …); repeatable', parseSet, {})
    .option('--note <text>', 'why this run exists (goes into summary.md and REPORT.md)', '')
    .option('--workspace <dir>', "workspace folder (default: the app's workspace, else ~/Spotter)")
    .option('--override-health', "train even though the dataset's health check found errors", false)
    .option('--tensorboard', "Ultralytics' local TensorBoard logging into the run folder", false);
}

/** The shared training options → a validated request; a bad value is a usage error naming its option. */
export function trainRequestFromOptions(dataset: string, o: Record<string, unknown>): ReturnType<typeof TrainRequest.parse> {
  const parsed = TrainRequest.safeParse({
    dataset: path.resolve(dataset),
    model: o.model,
    label: o.label,
    note: o.note,
    epochs: o.epochs,
    imgsz: o.imgsz,
    batch: o.batch,
    device: String(o.device),
    workers: o.workers,
    patience: o.patience,
    optimizer: o.optimizer,
    lr0: o.lr0,
    cos_lr: o.cosLr,
    seed: o.seed,
    extra: o.set,
    tensorboard: o.tensorboard,
    overrideHealth: o.overrideHealth,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CommanderError(2, 'usage', `invalid --${cliOptionName(String(issue.path[0] ?? ''))}: ${issue.message}`);
  }
  return parsed.data;
}

export function registerTrainerCommands(program: Command, ctxOf: () => CoreContext): void {
  const verbose = () => !!program.opts().verbose;

  // ---------------------------------------------------------------- env
  const env = program.command('env').description('the Python trainer environment (torch + Ultralytics)');
  env
    .command('status')
    .description("show the trainer environment: interpreter, torch/CUDA, Ultralytics, problems (exit 1 when not ready)")
    .option('--json', 'print {ready, python, venv, env, hardware, problems} as JSON')
    .action(async (o) => {
      const s = await envStatus(ctxOf());
      if (o.json) process.stdout.write(JSON.stringify(s, null, 2) + '\n');
      else printEnv(s, process.stdout);
      if (!s.ready) throw new ExitCode(1);
    });
  env
    .command('setup')
    .description("create the trainer environment in the app's data folder and install the pinned torch + Ultralytics for this hardware")
    .option('--wheelhouse <dir>', 'install offline from a folder of wheels (pip --no-index --find-links)')
    .option('--repair', 'remove the environment and install everything again', false)
    .option('--json', 'print the final status as JSON on stdout')
    .action(async (o) => {
      const ctx = ctxOf();
      const { job, done } = cliJob(!!o.json, verbose());
      let s: TrainerEnvStatus;
      try {
        s = await setupEnv(ctx, { repair: o.repair, wheelhouse: o.wheelhouse }, job, (line) => process.stderr.write(`${line}\n`));
      } finally {
        done();
      }
      if (o.json) process.stdout.write(JSON.stringify(s, null, 2) + '\n');
      else printEnv(s, process.stdout);
    });

  // ---------------------------------------------------------------- train
  addTrainOptions(
    program
      .command('train')
      .description('train a YOLO model on a dataset in the foreground (Ctrl-C stops gracefully); writes a run folder in <workspace>/runs')
      .argument('[dataset]', 'dataset folder or its data.yaml'),
  )
    .option('--label <name>', 'a short name for the run (folder: <UTC>_<label>)')
    .option('--resume <run dir>', 'continue a stopped or crashed run from its weights/last.pt')
    .option('--json', 'NDJSON events on stdout, then a final object with run_dir')
    .action(async (dataset: string | undefined, o) => {
      const json = !!o.json;
      let dir: string | null = null;
      // --json: whatever goes wrong before the run ends, the last stdout line is still the final object
      const final = (status: string, error: StartFailure | null, s?: TrainOutcome['summary'], restored = false) => {
        if (!json) return;
        process.stdout.write(
          JSON.stringify({ run_dir: dir, status, epochs_completed: s?.epochsCompleted ?? 0, metrics: s?.metrics ?? null, duration_seconds: s?.durationSeconds ?? null, restored, error }) + '\n',
        );
      };
      let outcome: TrainOutcome;
      try {
        outcome = await trainCommand(dataset, o, json, (d) => (dir = d));
      } catch (err) {
        if (err instanceof ExitCode) throw err; // already reported (the health refusal)
        const f = startFailure(err);
        final(f.code === 'cancelled' ? 'cancelled' : 'failed', f);
        if (err instanceof RunStartError && err.hint) throw new Error(`${err.message} — ${err.hint}`);
        throw err;
      }
      const s = outcome.summary;
      final(outcome.status, outcome.failure, s, outcome.restored);
      if (!json) {
        process.stdout.write(`run: ${dir}\nstatus: ${outcome.restored ? `${s.status} (left as it was)` : s.status} (${s.epochsCompleted}/${s.epochs} epochs, ${formatDuration(s.durationSeconds)})\n`);
        if (s.metrics) process.stdout.write(`mAP50 ${f3(s.metrics.mAP50)}, mAP50-95 ${f3(s.metrics.mAP50_95)}, P ${f3(s.metrics.precision)}, R ${f3(s.metrics.recall)}\n`);
      }
      if (outcome.status === 'failed') {
        const f = outcome.failure;
        process.stderr.write(`spotter: ${outcome.restored ? 'resume' : 'training'} failed (${f?.code ?? 'unknown'}): ${f?.message ?? ''}${f?.hint ? ` — ${f.hint}` : ''}\n`);
        throw new ExitCode(1);
      }
      if (outcome.status === 'stopped') {
        process.stderr.write(`spotter: stopped; continue with: spotter train --resume ${dir}\n`);
        throw new ExitCode(130);
      }
    });

  async function trainCommand(dataset: string | undefined, o: Record<string, unknown>, json: boolean, setDir: (d: string) => void): Promise<TrainOutcome> {
    if (!dataset && !o.resume) throw new CommanderError(2, 'usage', 'name a dataset folder or data.yaml, or --resume <run dir>');
    if (dataset && o.resume) throw new CommanderError(2, 'usage', '--resume continues an existing run: give no dataset with it');
    const ctx = ctxOf();
    let dir: string;
    let request: ReturnType<typeof TrainRequest.parse> | null = null;
    if (o.resume) {
      dir = path.resolve(String(o.resume));
      setDir(dir);
      await checkResumable(dir);
    } else {
      request = trainRequestFromOptions(dataset!, o);
      // the cheap check first: a wrong path fails at once, not after the environment check
      await resolveDataYaml(request.dataset).catch((err: Error) => {
        throw new RunStartError('dataset-not-found', err.message, 'Name a dataset folder that holds a data.yaml, or the data.yaml itself.');
      });
      dir = reserveRunDir(await cliWorkspace(ctx, o.workspace as string | undefined), request.label, request);
    }
    let env;
    try {
      env = await requireReadyEnv(ctx);
    } catch (err) {
      throw new RunStartError('env-not-ready', (err as Error).message, 'Run `spotter env setup` (or `--repair`).');
    }
    const { python, env: report } = env;
    const { job, done } = cliJob(json, verbose());
    const release = keepAwake(`training ${path.basename(dir)}`);
    const tty = !json && process.stderr.isTTY;
    try {
      if (request) {
        try {
          await prepareRun(ctx, dir, request, { python, report }, job);
        } catch (err) {
          if (!(err instanceof HealthRefusal)) throw err;
          done();
          process.stderr.write(`spotter: ${err.dataYaml}: the dataset's health check found errors; not training (--override-health to train anyway)\n`);
          printHealth(err.health, process.stderr);
          if (json) {
            const f = startFailure(err);
            process.stdout.write(JSON.stringify({ run_dir: null, status: 'refused', epochs_completed: 0, metrics: null, duration_seconds: null, restored: false, error: f }) + '\n');
          }
          throw new ExitCode(3);
        }
        setDir(dir);
        if (!json) process.stderr.write(`run: ${dir}\n`);
      }
      return await trainRun(ctx, dir, python, job, {
        onEvent: (e) => {
          if (json) process.stdout.write(JSON.stringify(e) + '\n');
          else if (!tty) {
            const line = epochLine(e);
            if (line) process.stderr.write(line + '\n');
          }
        },
        onLog: verbose() && !tty ? (l) => process.stderr.write(`  ${l}\n`) : undefined,
      }, { resume: !request });
    } finally {
      done();
      release();
    }
  }

  // ---------------------------------------------------------------- val
  program
    .command('val')
    .description("evaluate a run's best.pt on a split of its dataset; recorded in the run folder (eval-<split>.json, spotter-run.json, summary.md). The test split is for the final check: its use is recorded as test_evaluated")
    .argument('<run>', 'run folder')
    .option('--split <split>', 'val or test', 'val')
    .option('--json', 'print the evaluation as JSON')
    .action(async (run: string, o) => {
      if (o.split !== 'val' && o.split !== 'test') throw new CommanderError(2, 'usage', `--split must be val or test, not "${o.split}"`);
      const ctx = ctxOf();
      const { job, done } = cliJob(!!o.json, verbose());
      let ev;
      try {
        ev = await evaluateRun(ctx, path.resolve(run), o.split, job);
      } finally {
        done();
      }
      if (o.json) {
        process.stdout.write(JSON.stringify({ run_dir: ev.dir, split: ev.split, weights: ev.weights, metrics: ev.metrics, per_class: ev.perClass, file: ev.file }, null, 2) + '\n');
        return;
      }
      const m = ev.metrics;
      process.stdout.write(`run: ${ev.dir}\nsplit: ${ev.split} (weights ${ev.weights})\n`);
      process.stdout.write(m ? `mAP50 ${f3(m.mAP50)}, mAP50-95 ${f3(m.mAP50_95)}, P ${f3(m.precision)}, R ${f3(m.recall)}\n` : 'no metrics\n');
      for (const c of ev.perClass) process.stdout.write(`  ${c.name}: AP50 ${f3(c.ap50)}, AP50-95 ${f3(c.ap50_95)} (${c.instances} instances)\n`);
      process.stdout.write(`recorded: ${ev.file}${ev.split === 'test' ? ' (the run is marked test_evaluated)' : ''}\n`);
    });

  // ---------------------------------------------------------------- export
  program
    .command('export')
    .description("export a run's best.pt (ONNX by default, with Ultralytics' metadata and a model card) into its weights/ and print the exported path")
    .argument('<run>', 'run folder (or a .pt file)')
    .option('--format <f>', 'onnx, torchscript, openvino, tflite, ncnn, coreml, engine (TensorRT), rknn, or another Ultralytics format; `spotter models formats` says which build here', 'onnx')
    .option('--imgsz <n>', 'input size (default: the training imgsz)', parseIntArg)
    .option('--half', 'FP16 weights', false)
    .option('--int8', "INT8 quantization, calibrated on the run's dataset", false)
    .option('--dynamic', 'dynamic input shape (and batch)', false)
    .option('--no-simplify', 'keep the ONNX graph as traced (onnxslim simplifies it by default)')
    .option('--nms', 'embed NMS: the model outputs final boxes', false)
    .action(async (run: string, o) => {
      const ctx = ctxOf();
      if (o.half && o.int8) throw new CommanderError(2, 'usage', 'choose one of --half and --int8');
      const { job, done } = cliJob(false, verbose());
      let r;
      try {
        r = await exportModel(ctx, run, { format: o.format, imgsz: o.imgsz, half: o.half, int8: o.int8, dynamic: o.dynamic, simplify: o.simplify, nms: o.nms }, job);
      } finally {
        done();
      }
      process.stderr.write(`${r.format}: ${(r.bytes / 1e6).toFixed(1)} MB in ${r.seconds.toFixed(1)} s\n`);
      process.stdout.write(r.path + '\n');
    });

  // ---------------------------------------------------------------- runs
  const runs = program.command('runs').description('reports and comparisons over the runs of a workspace');
  runs
    .command('report')
    .description('write REPORT.md (one table of every run) into <workspace>/runs and print its path')
    .option('--workspace <dir>', "workspace folder (default: the app's workspace, else ~/Spotter)")
    .action(async (o) => {
      const ws = await cliWorkspace(ctxOf(), o.workspace);
      process.stdout.write((await writeReport(ws)) + '\n');
    });
  runs
    .command('compare')
    .description('compare runs with a baseline run, per metric and per class (degraded: mAP50-95 drops by more than the threshold)')
    .argument('<baseline>', 'the baseline run folder')
    .argument('<run...>', 'run folders to compare with it')
    .option('--threshold <x>', 'mAP50-95 drop that counts as degraded', parseNumber, 0.01)
    .option('--json', 'print the comparison as JSON')
    .action(async (baseline: string, list: string[], o) => {
      const base = path.resolve(baseline);
      // the workspace of the baseline run (<ws>/runs/<run>): its baseline.json only marks isBaseline
      const c = await compareRuns(path.dirname(path.dirname(base)), { baseline: base, runs: list.map((d) => path.resolve(d)), threshold: o.threshold });
      process.stdout.write(o.json ? JSON.stringify(c, null, 2) + '\n' : comparisonText(c));
    });
}
