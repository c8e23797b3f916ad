/**
 * `spotter sweep <dataset> --grid lr0=0.01,0.001 --grid imgsz=320,416 [train options…] [--label] [--json]`:
 * a queue of runs over a small grid (1 to 3 arguments, at most 24 runs), trained one after the other
 * in the foreground with the same options as `spotter train`. Each run is an ordinary run folder in
 * <workspace>/runs; the sweep's record is runs/_sweeps/<UTC>_<label>.json with <UTC>_<label>.results.md
 * beside it (the results table, also printed at the end). Ctrl-C stops the current run gracefully and
 * skips the rest. Exit codes: 0 every run completed, 1 a run failed (the others still ran), 2 usage,
 * 130 stopped. `--json` prints the final sweep (SweepSummary plus `results`) as one JSON object.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import path from 'node:path';
import { TRAIN_ARG_NAME } from '../shared/contract.js';
import type { CoreContext } from '../core/context.js';
import { resolveDataYaml } from '../core/trainer/dataset.js';
import { requireReadyEnv } from '../core/trainer/env.js';
import { prepareRun, RunStartError, trainRun } from '../core/trainer/runs.js';
import { createSweep, parseGridValue, planSweep, resultsFile, runSweep, type Grid, type TrainOne } from '../core/trainer/sweep.js';
import { cliJob, ExitCode, keepAwake } from './common.js';
import { addTrainOptions, cliWorkspace, epochLine, trainRequestFromOptions } from './trainer-commands.js';
import fs from 'node:fs/promises';

/** --grid name=v1,v2,…: values typed as numbers and booleans when they look like them; repeatable. */
export function parseGrid(v: string, prev: Grid): Grid {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected name=value,value…, got "${v}"`);
  const key = v.slice(0, eq).trim();
  if (!TRAIN_ARG_NAME.test(key)) throw new InvalidArgumentError(`"${key}" is not an Ultralytics argument name (lower-case letters, digits and _)`);
  if (key in prev) throw new InvalidArgumentError(`"${key}" is given twice; list all its values in one --grid`);
  const values = v
    .slice(eq + 1)
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '')
    .map(parseGridValue);
  if (!values.length) throw new InvalidArgumentError(`"${key}" has no values`);
  return { ...prev, [key]: values };
}

export function registerSweepCommands(program: Command, ctxOf: () => CoreContext): void {
  const verbose = () => !!program.opts().verbose;
  addTrainOptions(
    program
      .command('sweep')
      .description('train a small grid of runs one after the other (e.g. --grid lr0=0.01,0.001 --grid imgsz=320,416) and print a results table; Ctrl-C stops the current run and skips the rest')
      .argument('<dataset>', 'dataset folder or its data.yaml')
      .option('--grid <name=values>', 'an argument and its comma-separated values (Ultralytics names); repeatable, 1 to 3 arguments', parseGrid, {} as Grid),
  )
    .option('--label <name>', 'a short name for the sweep; each run is labelled <label>-<arg>=<value>-…', 'sweep')
    .option('--json', 'print the final sweep (its runs, metrics and the best run) as one JSON object on stdout')
    .action(async (dataset: string, o) => {
      const json = !!o.json;
      const grid = o.grid as Grid;
      if (!Object.keys(grid).length) throw new CommanderError(2, 'usage', 'name at least one --grid argument, e.g. --grid lr0=0.01,0.001');
      const request = trainRequestFromOptions(dataset, { ...o, label: undefined });
      let plan;
      try {
        plan = planSweep({ request, grid, label: o.label });
      } catch (err) {
        throw new CommanderError(2, 'usage', (err as Error).message.replace(/^runs\.sweep: /, ''));
      }
      await resolveDataYaml(request.dataset);
      const ctx = ctxOf();
      let env;
      try {
        env = await requireReadyEnv(ctx);
      } catch (err) {
        throw new RunStartError('env-not-ready', `${(err as Error).message} — run \`spotter env setup\` (or --repair)`);
      }
      const { python, env: report } = env;
      const ws = await cliWorkspace(ctx, o.workspace as string | undefined);
      const sweep = await createSweep(ctx, ws, plan);
      process.stderr.write(`sweep: ${sweep.file} (${plan.runs.length} runs)\n`);
      const { job, done } = cliJob(json, verbose());
      const release = keepAwake(`training the sweep ${sweep.id}`);
      const tty = !json && process.stderr.isTTY;
      const trainOne: TrainOne = async ({ dir, request: req, sweep: id, job: runJob }) => {
        await prepareRun(ctx, dir, req, { python, report }, runJob, { sweep: id });
        if (!tty) process.stderr.write(`run: ${dir}\n`);
        return trainRun(ctx, dir, python, runJob, {
          onEvent: (e) => {
            if (tty) return;
            const line = epochLine(e);
            if (line) process.stderr.write(`  ${line}\n`);
          },
        });
      };
      let summary;
      try {
        summary = await runSweep(ctx, ws, sweep, plan, job, {
          trainOne,
          onRunStart: (dir) => {
            if (tty) process.stderr.write(`\nrun: ${path.basename(dir)}\n`);
          },
        });
      } finally {
        done();
        release();
      }
      const results = resultsFile(ws, sweep.id);
      if (json) process.stdout.write(JSON.stringify({ ...summary, results }) + '\n');
      else process.stdout.write(`${await fs.readFile(results, 'utf8')}\nresults: ${results}\n`);
      if (summary.status === 'stopped') {
        process.stderr.write('spotter: the sweep was stopped; the runs not trained are marked skipped\n');
        throw new ExitCode(130);
      }
      if (summary.runs.some((r) => r.status === 'failed')) {
        process.stderr.write(`spotter: ${summary.runs.filter((r) => r.status === 'failed').length} run(s) of the sweep failed (see results: ${results})\n`);
        throw new ExitCode(1);
      }
    });
}
