/**
 * `spotter weights`: pretrained (COCO) weights of the wizard's architectures, in the app's data folder.
 *   spotter weights status <model> [--json]     here, or downloadable (the server answers)?
 *   spotter weights download <model> [--json]   prints the .pt path (for `spotter train --model`)
 * <model> is e.g. yolo11n, yolo11n.yaml or yolo11n-seg.pt. The only command that uses the network.
 */
import { CommanderError, type Command } from 'commander';
import type { CoreContext } from '../core/context.js';
import { downloadPretrained, pretrainedInfo, pretrainedName } from '../core/trainer/weights.js';
import { cliJob } from './common.js';

/** yolo11n → yolo11n.pt; a usage error (exit 2) for anything not offered. */
function nameOf(model: string): string {
  try {
    return pretrainedName(/\.(pt|ya?ml)$/i.test(model) ? model : `${model}.pt`);
  } catch (err) {
    throw new CommanderError(2, 'usage', (err as Error).message);
  }
}

export function registerWeightsCommands(program: Command, context: () => CoreContext): void {
  const verbose = () => !!program.opts().verbose;
  const weights = program.command('weights').description("pretrained COCO weights (YOLOv8/YOLO11/YOLO26 n/s/m) in the app's data folder");

  weights
    .command('status')
    .description('whether the weights are here, or can be downloaded (the server answers)')
    .argument('<model>', 'yolov8n, yolo11s, yolo26m, yolo11n-seg, …')
    .option('--json', 'print as JSON')
    .action(async (model: string, o: { json?: boolean }) => {
      const info = await pretrainedInfo(context(), nameOf(model));
      if (o.json) process.stdout.write(JSON.stringify(info, null, 2) + '\n');
      else if (info.downloaded) process.stdout.write(`${info.path}\n`);
      else process.stdout.write(`${info.name}: not downloaded; ${info.online ? `downloadable from ${info.url}` : `${info.url} does not answer (no network?)`}\n`);
    });

  weights
    .command('download')
    .description('download the weights (atomically, with progress) and print their path; already here: just the path')
    .argument('<model>', 'yolov8n, yolo11s, yolo26m, yolo11n-seg, …')
    .option('--json', 'print as JSON')
    .action(async (model: string, o: { json?: boolean }) => {
      const ctx = context();
      const name = nameOf(model);
      let info = await pretrainedInfo(ctx, name, { checkOnline: false });
      if (!info.downloaded) {
        const { job, done } = cliJob(!!o.json, verbose());
        try {
          info = await downloadPretrained(ctx, name, job);
        } finally {
          done();
        }
      }
      process.stdout.write(o.json ? JSON.stringify(info, null, 2) + '\n' : `${info.path}\n`);
    });
}
