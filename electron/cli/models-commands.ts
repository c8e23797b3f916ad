/**
 * `spotter models formats|install|deploy|list`: the export formats this machine can build, installing a
 * format's packages into the trainer environment, deploying a run's export into <workspace>/models as the
 * next version (with its model card), and the deployed models.
 *   spotter models formats [--json]
 *   spotter models install <format>                  pip's output on stderr
 *   spotter models deploy <run> [--file f] [--name n] [--workspace dir] [--json]   prints the deployed path
 *   spotter models list [--workspace dir] [--json]
 */
import path from 'node:path';
import { CommanderError, type Command } from 'commander';
import type { CoreContext } from '../core/context.js';
import { cardPath } from '../core/models/card.js';
import { deployModel, listDeployed, NAME_RE } from '../core/models/deploy.js';
import { installFormat, listFormats } from '../core/models/formats.js';
import { f3 } from '../core/trainer/summary.js';
import { cliJob, ExitCode } from './common.js';
import { cliWorkspace } from './trainer-commands.js';

/** The run's workspace: the folder holding its runs/ folder, when it sits in one. */
function workspaceOfRun(run: string): string | null {
  const parent = path.dirname(path.resolve(run));
  return path.basename(parent) === 'runs' ? path.dirname(parent) : null;
}

export function registerModelsCommands(program: Command, context: () => CoreContext): void {
  const verbose = () => !!program.opts().verbose;
  const models = program.command('models').description('export formats, deployed models (workspace models/) and their cards');

  models
    .command('formats')
    .description('list the export formats: available here, missing Python packages (install them with `spotter models install`), or blocked on this machine')
    .option('--json', 'print the list as JSON')
    .action(async (o: { json?: boolean }) => {
      const list = await listFormats(context());
      if (o.json) {
        process.stdout.write(JSON.stringify(list, null, 2) + '\n');
        return;
      }
      for (const f of list) {
        const state = f.blocked ? `blocked: ${f.blocked}` : f.available ? 'available' : `missing ${f.missing.join(', ')} (spotter models install ${f.format})`;
        process.stdout.write(`${f.format.padEnd(12)} ${f.label.padEnd(16)} ${state}\n`);
        process.stdout.write(`${''.padEnd(12)} options: ${f.options.join(', ')}\n`);
      }
    });

  models
    .command('install')
    .description("install the pinned Python packages an export format needs into the trainer environment (torch and Ultralytics stay as they are)")
    .argument('<format>', 'onnx, openvino, tflite, ncnn, coreml, engine, …')
    .option('--json', 'print the formats afterwards as JSON')
    .action(async (format: string, o: { json?: boolean }) => {
      const { job, done } = cliJob(true, verbose());
      let list;
      try {
        list = await installFormat(context(), format, job, (line) => process.stderr.write(`${line}\n`));
      } finally {
        done();
      }
      if (o.json) process.stdout.write(JSON.stringify(list, null, 2) + '\n');
      else {
        const f = list.find((x) => x.format === format.toLowerCase() || x.label.toLowerCase() === format.toLowerCase());
        process.stdout.write(`${f?.label ?? format}: ${f?.available ? 'available' : 'not available'}\n`);
      }
    });

  models
    .command('deploy')
    .description("copy a run's export into <workspace>/models as <name>_v<N> (the next version; earlier ones are kept) with its model card, and print its path")
    .argument('<run>', 'run folder')
    .option('--file <f>', "the export to deploy (in the run's weights/): default best.onnx, exported first when missing")
    .option('--name <n>', "model name (default: the run's label)")
    .option('--workspace <dir>', "workspace folder (default: the run's workspace, else the app's)")
    .option('--json', 'print the deployed model (path, name, version, format, card) as JSON')
    .action(async (run: string, o: { file?: string; name?: string; workspace?: string; json?: boolean }) => {
      if (o.name !== undefined && !NAME_RE.test(o.name)) throw new CommanderError(2, 'usage', `invalid --name "${o.name}": letters, digits, _ . - (up to 60)`);
      const ctx = context();
      const ws = o.workspace ? path.resolve(o.workspace) : (workspaceOfRun(run) ?? (await cliWorkspace(ctx)));
      const { job, done } = cliJob(!!o.json, verbose());
      let d;
      try {
        d = await deployModel(ctx, ws, { dir: path.resolve(run), file: o.file, name: o.name }, job);
      } finally {
        done();
      }
      if (o.json) process.stdout.write(JSON.stringify(d, null, 2) + '\n');
      else {
        process.stderr.write(`deployed ${d.name} version ${d.version} (${d.format}) with its card ${cardPath(d.path)}\n`);
        process.stdout.write(d.path + '\n');
      }
    });

  models
    .command('list')
    .description('list the deployed models of a workspace (newest version first per name)')
    .option('--workspace <dir>', "workspace folder (default: the app's workspace, else ~/Spotter)")
    .option('--json', 'print the list as JSON')
    .action(async (o: { workspace?: string; json?: boolean }) => {
      const ws = await cliWorkspace(context(), o.workspace);
      const list = await listDeployed(ws);
      if (o.json) {
        process.stdout.write(JSON.stringify(list, null, 2) + '\n');
        return;
      }
      if (!list.length) {
        process.stderr.write(`no deployed models in ${path.join(ws, 'models')}\n`);
        throw new ExitCode(0);
      }
      for (const m of list) {
        const mt = m.card.metrics;
        const th = m.card.thresholds;
        const per = Object.keys(th.perClass).length;
        process.stdout.write(
          `${m.name} v${m.version}  ${m.format}  mAP50-95 ${mt ? f3(mt.mAP50_95) : '—'}  conf ${th.default}${per ? ` (+${per} per-class)` : ''}  iou ${th.iou}  ${m.path}\n`,
        );
      }
    });
}
