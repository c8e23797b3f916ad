/**
 * `spotter evalset add|list|remove|eval`: named evaluation sets of a dataset (night, winter, a new
 * camera), kept out of training; every run is validated on each once it has trained, and REPORT.md
 * has a column per set.
 */
import path from 'node:path';
import type { Command } from 'commander';
import type { CoreContext } from '../core/context.js';
import { addEvalSet, listEvalSets, removeEvalSet } from '../core/datasets/evalsets.js';
import { evaluateEvalSets, evaluateRun } from '../core/trainer/evaluate.js';
import type { Evaluation } from '../shared/contract.js';
import { cliJob } from './common.js';

const f3 = (x: number) => x.toFixed(3);

export function registerEvalSetCommands(program: Command, ctxOf: () => CoreContext): void {
  const verbose = () => !!program.opts().verbose;
  const cmd = program.command('evalset').description("named evaluation sets of a dataset, never trained on; every run is validated on each");

  cmd
    .command('add')
    .description('import a source (COCO / CVAT / YOLO export, folder or zip) as a named evaluation set of a dataset; its class names must be the dataset\'s')
    .argument('<dataset>', 'a Spotter dataset folder')
    .argument('<name>', 'the set\'s name (letters, digits, _ . -)')
    .argument('<source...>', 'annotation files, folders or zips')
    .option('--json', 'print the set as JSON')
    .action(async (dataset: string, name: string, sources: string[], o: { json?: boolean }) => {
      const ctx = ctxOf();
      const { job, done } = cliJob(!!o.json, verbose());
      let info;
      try {
        info = await addEvalSet(ctx, path.resolve(dataset), name, sources.map((s) => path.resolve(s)), job);
      } finally {
        done();
      }
      if (o.json) process.stdout.write(JSON.stringify(info, null, 2) + '\n');
      else process.stdout.write(`evaluation set ${info.name}: ${info.images} images, ${info.objects} objects in ${info.dir}\n`);
    });

  cmd
    .command('list')
    .description("a dataset's evaluation sets")
    .argument('<dataset>', 'a Spotter dataset folder')
    .option('--json', 'print JSON')
    .action(async (dataset: string, o: { json?: boolean }) => {
      const sets = await listEvalSets(path.resolve(dataset));
      if (o.json) {
        process.stdout.write(JSON.stringify(sets, null, 2) + '\n');
        return;
      }
      if (!sets.length) process.stdout.write('no evaluation sets\n');
      for (const s of sets) process.stdout.write(`${s.name}\t${s.images} images\t${s.objects} objects\tfrom ${s.source}\n`);
    });

  cmd
    .command('remove')
    .description('remove an evaluation set (its folder and its entry)')
    .argument('<dataset>', 'a Spotter dataset folder')
    .argument('<name>', "the set's name")
    .action(async (dataset: string, name: string) => {
      await removeEvalSet(path.resolve(dataset), name);
      process.stdout.write(`removed evaluation set ${name}\n`);
    });

  cmd
    .command('eval')
    .description("validate a run's best.pt on its dataset's evaluation sets (all, or those named); recorded in the run")
    .argument('<run>', 'run folder')
    .argument('[names...]', 'only these sets')
    .option('--json', 'print the evaluations as JSON')
    .action(async (run: string, names: string[], o: { json?: boolean }) => {
      const ctx = ctxOf();
      const { job, done } = cliJob(!!o.json, verbose());
      let evals: Evaluation[] = [];
      try {
        if (names.length) for (const n of names) evals.push(await evaluateRun(ctx, path.resolve(run), { set: n }, job));
        else evals = await evaluateEvalSets(ctx, path.resolve(run), job);
      } finally {
        done();
      }
      if (o.json) {
        process.stdout.write(JSON.stringify(evals.map((e) => ({ set: e.set, metrics: e.metrics, per_class: e.perClass, file: e.file })), null, 2) + '\n');
        return;
      }
      if (!evals.length) process.stdout.write("the run's dataset has no evaluation sets\n");
      for (const e of evals) {
        const m = e.metrics;
        process.stdout.write(`${e.set}: ${m ? `mAP50 ${f3(m.mAP50)}, mAP50-95 ${f3(m.mAP50_95)}, P ${f3(m.precision)}, R ${f3(m.recall)}` : 'no metrics'} (${e.file})\n`);
      }
    });
}
