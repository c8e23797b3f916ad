/**
 * The `spotter` command on the same core as the app: import, check, serve. Stable interface:
 * scripts and reviews depend on it. Exit codes: 0 ok, 1 error (one line naming the file and what is
 * wrong), 2 usage error, 3 `check` found errors, 130 cancelled (Ctrl-C).
 */
import { Command, CommanderError } from 'commander';
import path from 'node:path';
import os from 'node:os';
import { execa } from 'execa';
import { CancelledError } from '../core/jobs/jobs.js';
import { groupOptions, runImport } from '../core/datasets/importer.js';
import { auditIsClean, auditSentence } from '../shared/audit.js';
import { computeGroups } from '../core/datasets/groups.js';
import { sweepStaleTemp } from '../core/fsutil.js';
import { checkDataset } from '../core/datasets/health.js';
import { ImportOptions } from '../shared/schemas.js';
import { SPOTTER_VERSION } from '../core/version.js';
import { sampleDatasetPath } from '../core/api.js';
import type { HealthReport } from '../shared/schemas.js';
import { registerTrainerCommands } from './trainer-commands.js';
import { registerPredictCommands } from './predict-commands.js';
import { registerEvalSetCommands } from './evalset-commands.js';
import { registerReviewCommands } from './review-commands.js';
import { registerModelsCommands } from './models-commands.js';
import { registerWeightsCommands } from './weights-commands.js';
import { registerSweepCommands } from './sweep-commands.js';
import { appRoot, cliJob, cliOptionName, ExitCode, keepAwake, makeContext, parseIntArg, parseRatios, printHealth } from './common.js';

export { defaultDataDir, makeContext } from './common.js';

export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('spotter')
    .description('Spotter: the annotation-to-training loop for YOLO detectors')
    .version(SPOTTER_VERSION)
    .option('--data-dir <dir>', "the app's data folder (settings, caches, temporary imports)")
    .option('-v, --verbose', 'log debug messages to stderr')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });

  const ctxOf = () => {
    const o = program.opts<{ dataDir?: string; verbose?: boolean }>();
    return makeContext(o.dataDir ? path.resolve(o.dataDir) : undefined, o.verbose);
  };

  program
    .command('import')
    .description('convert COCO / CVAT / YOLO exports (files, folders or zips) into one leak-free Ultralytics dataset')
    .argument('<source...>', 'annotation files, folders or zips; several are merged into one dataset')
    .option('--out <dir>', 'output dataset folder (must not exist or be empty); required unless --base')
    .option('--base <dataset>', 'merge into a new version of this dataset (<name>_v<N> beside it): re-imported images replace their labels, new ones are added')
    .option('--task <task>', 'detect (boxes) or segment (polygons)', 'detect')
    .option('--split <ratios>', 'train,val[,test] shares', parseRatios, [0.8, 0.1, 0.1] as [number, number, number])
    .option('--seed <n>', 'split seed', parseIntArg, 0)
    .option('--group <mode>', "auto, none, or a regex with a named group (?<group>...)", 'auto')
    .option('--group-level <level>', 'with --group auto: group by this level of the inferred structure (folder, task, field:1, field:2, clip, source: the import lists them)')
    .option('--keep-splits', "keep the export's own train/val/test split even when the audit finds it leaks", false)
    .option('--resplit', "split by ratio even when the export's own split is clean (given --split implies it)", false)
    .option('--drop-crowd', 'drop COCO iscrowd objects (kept by default: CVAT uses them for real masks)', false)
    .option('--guard-gap <n>', 'frames dropped at every time-block boundary of a video', parseIntArg)
    .option('--dup-threshold <n>', 'near-duplicate Hamming distance (of 64 bits); -1 turns the check off', parseIntArg, 4)
    .option('--imgsz <n>', 'training image size the health check judges tiny objects at', parseIntArg, 640)
    .option('--map <from=to>', 'rename or merge a class (to empty string: drop); repeatable', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--json', 'print a JSON summary on stdout')
    .action(async (sources: string[], o, cmd: Command) => {
      if (!['detect', 'segment'].includes(o.task)) throw new CommanderError(2, 'usage', `--task must be detect or segment, not "${o.task}"`);
      if (!o.out && !o.base) throw new CommanderError(2, 'usage', "required option '--out <dir>' not specified (or give --base <dataset>)");
      const classMap: Record<string, string | null> = {};
      for (const m of o.map as string[]) {
        const eq = m.indexOf('=');
        if (eq <= 0) throw new CommanderError(2, 'usage', `--map expects from=to, got "${m}"`);
        const to = m.slice(eq + 1).trim();
        classMap[m.slice(0, eq)] = to === '' ? null : to;
      }
      const parsed = ImportOptions.safeParse({
        sources: sources.map((s) => path.resolve(s)),
        out: o.out ? path.resolve(o.out) : undefined,
        base: o.base ? path.resolve(o.base) : undefined,
        task: o.task,
        ratios: o.split,
        seed: o.seed,
        group: o.group,
        groupLevel: o.groupLevel,
        keepSplits: o.keepSplits,
        // ratios given on the command line are a request to split by them
        resplit: o.resplit || cmd.getOptionValueSource('split') === 'cli',
        keepCrowd: !o.dropCrowd,
        guardGap: o.guardGap,
        dupThreshold: o.dupThreshold,
        imgsz: o.imgsz,
        classMap,
      });
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new CommanderError(2, 'usage', `invalid --${cliOptionName(String(issue.path[0] ?? ''))}: ${issue.message}`);
      }
      const opts = parsed.data;
      try {
        computeGroups([], opts.group, groupOptions(opts));
      } catch (err) {
        throw new CommanderError(2, 'usage', `invalid --group: ${(err as Error).message}`);
      }
      const ctx = ctxOf();
      await sweepStaleTemp(ctx.paths.tempDir);
      const { job, done } = cliJob(!!o.json, !!program.opts().verbose);
      let result;
      try {
        result = await runImport(opts, job, ctx, { datasetsDir: path.dirname(opts.out ?? opts.base!) });
      } finally {
        done();
      }
      const r = result.report;
      if (o.json) {
        process.stdout.write(
          JSON.stringify(
            {
              dir: result.dir,
              data_yaml: result.dataYaml,
              task: r.task,
              names: r.names,
              mapping: result.mapping,
              splits: r.splits,
              grouping: r.grouping,
              leak_audit: r.leak_audit,
              source_split_audit: r.source_split_audit ?? null,
              licenses: r.licenses,
              counts: r.counts,
              health: result.health,
              merge: r.merge ?? null,
            },
            null,
            2,
          ) + '\n',
        );
      } else {
        const out = process.stdout;
        out.write(`dataset: ${result.dir}\n`);
        if (r.merge) {
          const m = r.merge;
          out.write(`merged into a new version of ${m.base}: ${m.replaced} images relabelled, ${m.added} added (${m.joined_groups} joined an existing group), ${m.unchanged} unchanged${m.skipped ? `, ${m.skipped} not used` : ''}${m.new_classes.length ? `; new classes: ${m.new_classes.join(', ')}` : ''}\n`);
        }
        out.write(`classes: ${r.names.map((n, i) => `${i}=${n}`).join(', ')}\n`);
        for (const d of result.mapping.dropped) out.write(`  dropped category "${d.name}" (${d.reason}, ${d.instances} instances)\n`);
        out.write(`groups: ${r.grouping.groups} (${r.grouping.strategy}: ${r.grouping.description})\n`);
        for (const l of r.grouping.levels ?? []) {
          const ex = l.examples[0];
          out.write(`  ${l.chosen ? '→' : ' '} ${l.id.padEnd(8)} ${String(l.groups).padStart(6)} groups  ${l.label}${ex ? ` (largest: ${ex.group}, ${ex.size} images)` : ''} — ${l.verdict}\n`);
        }
        if ((r.grouping.levels?.length ?? 0) > 1) out.write(`  (another level: --group-level <id>)\n`);
        const px = r.grouping.pixels;
        if (px) {
          out.write(
            `pixels: ${px.near_duplicate_merges + px.mutual_neighbour_merges} group merges (near-duplicates: ${px.near_duplicate_merges}; mutual nearest neighbours ` +
              `${px.learned_threshold !== undefined ? `within the learned threshold ${px.learned_threshold}: ${px.mutual_neighbour_merges}` : 'none: the distances show no near group'})\n`,
          );
        }
        if (r.grouping.split_summary) out.write(`split: ${r.grouping.split_summary}\n`);
        for (const [s, st] of Object.entries(r.splits)) {
          out.write(`  ${s.padEnd(5)} ${st.images} images, ${st.groups} groups, ${st.negatives} negatives, ${Object.entries(st.instances).map(([k, v]) => `${k}: ${v}`).join(', ')}\n`);
        }
        out.write(`leak audit: ${auditIsClean(r.leak_audit) ? 'no leaks — ' : ''}${auditSentence(r.leak_audit)}\n`);
        if (r.source_split_audit) out.write(`the export's own split: ${auditIsClean(r.source_split_audit) ? 'clean — ' : ''}${auditSentence(r.source_split_audit)}\n`);
        for (const l of r.licenses) out.write(`licence: ${l.name}${l.url ? ` <${l.url}>` : ''} (${l.source})\n`);
        printHealth(result.health, out);
      }
    });

  program
    .command('check')
    .description('health-check an Ultralytics dataset (folder or data.yaml); exit 3 when it finds errors')
    .argument('<dataset>', 'dataset folder or its data.yaml')
    .option('--imgsz <n>', 'training image size (judges tiny objects)', parseIntArg, 640)
    .option('--dup-threshold <n>', 'near-duplicate Hamming distance; -1 off', parseIntArg, 4)
    .option('--json', 'print the health report as JSON')
    .action(async (dataset: string, o) => {
      if (!(o.imgsz > 0)) throw new CommanderError(2, 'usage', 'invalid --imgsz: must be a positive integer');
      if (o.dupThreshold < -1 || o.dupThreshold > 15) throw new CommanderError(2, 'usage', 'invalid --dup-threshold: -1 (off) to 15');
      const { job, done } = cliJob(!!o.json);
      let report: HealthReport;
      try {
        report = await checkDataset(path.resolve(dataset), {
          imgsz: o.imgsz,
          dupThreshold: o.dupThreshold,
          signal: job.signal,
          onProgress: (s, d, t) => job.progress(s, d, t),
        });
      } finally {
        done();
      }
      if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else printHealth(report, process.stdout);
      if (!report.ok) throw new ExitCode(3);
    });

  program
    .command('serve')
    .description('serve the app (same UI and core) on 127.0.0.1 with a per-launch token; open the printed URL in a browser')
    .argument('[source...]', 'exports to import into the workspace before serving (files, folders or zips)')
    .option('--sample', 'when the workspace holds no dataset yet, import the bundled sample dataset first', false)
    .option('--port <n>', 'port (0 = any free port)', parseIntArg, 0)
    .option('--host <host>', 'interface to bind (loopback only unless --allow-remote)', '127.0.0.1')
    .option('--allow-remote', 'allow binding a non-loopback interface (use an SSH tunnel instead where you can)', false)
    .option('--workspace <dir>', 'workspace folder (datasets and runs)')
    .option('--open', 'open the URL in the default browser', false)
    .option('--print-url-json', 'print {"url","token","port"} as one JSON line on stdout (for scripts and tests)', false)
    .action(async (sources: string[], o) => {
      const { startServer } = await import('../server/server.js');
      const ctx = ctxOf();
      const workspace = o.workspace ? path.resolve(o.workspace) : path.join(os.homedir(), 'Spotter');
      const server = await startServer({
        ctx,
        host: o.host,
        port: o.port,
        allowRemote: o.allowRemote,
        rendererDir: path.join(appRoot(), 'dist', 'renderer'),
        defaultWorkspace: workspace,
        forceWorkspace: !!o.workspace,
        keepAwake,
      });
      const info = await server.api['workspace.get']({});
      const toImport = sources.length ? sources.map((x) => [path.resolve(x)]) : o.sample && info.datasets.length === 0 ? [[sampleDatasetPath(ctx)]] : [];
      for (const src of toImport) {
        process.stderr.write(`importing ${src.join(', ')} into ${info.path}/datasets …\n`);
        const { job, done } = cliJob(!!o.printUrlJson);
        try {
          const r = await runImport(ImportOptions.parse({ sources: src }), job, ctx, { datasetsDir: path.join(info.path, 'datasets') });
          process.stderr.write(`  → ${r.dir} (${r.health.ok ? 'healthy' : `${r.health.counts.errors} health errors`})\n`);
        } finally {
          done();
        }
      }
      if (o.printUrlJson) process.stdout.write(JSON.stringify({ url: server.url, token: server.token, port: server.port }) + '\n');
      else process.stdout.write(`Spotter is serving on ${server.url}\n(open it in a browser; Ctrl-C stops)\n`);
      if (o.open) {
        const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
        execa(opener, [server.url], { detached: true, stdio: 'ignore', reject: false }).unref?.();
      }
      await new Promise<void>((resolve) => {
        const stop = () => void server.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  registerTrainerCommands(program, ctxOf);
  registerPredictCommands(program);
  registerEvalSetCommands(program, ctxOf);
  registerReviewCommands(program, ctxOf);
  registerModelsCommands(program, ctxOf);
  registerWeightsCommands(program, ctxOf);
  registerSweepCommands(program, ctxOf);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof ExitCode) return err.code;
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0;
      if (err.code === 'usage') process.stderr.write(`spotter: ${err.message}\n`);
      return 2;
    }
    if (err instanceof CancelledError) {
      process.stderr.write('spotter: cancelled; nothing was written\n');
      return 130;
    }
    process.stderr.write(`spotter: ${(err as Error).message.split('\n')[0]}\n`);
    return 1;
  }
}
