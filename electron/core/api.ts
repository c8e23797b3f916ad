/**
 * The core's implementation of every call in the contract. The Electron shell (main/ipc.ts) and
 * serve mode (server/) both wrap exactly this object; inputs arrive already validated by the
 * transport (zod, CallInputs) and results go back as they are.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { CallHandlers, WorkspaceInfo } from '../shared/contract.js';
import type { CoreContext } from './context.js';
import { JobManager } from './jobs/jobs.js';
import { inspectImport, runImport } from './datasets/importer.js';
import { listDatasets, readDatasetDetail, readDatasetImages } from './datasets/store.js';
import { checkDataset } from './datasets/health.js';
import { addEvalSet, removeEvalSet } from './datasets/evalsets.js';
import { loadSettings, saveSettings } from './settings.js';
import { sweepStaleTemp } from './fsutil.js';
import { createTrainerHandlers } from './trainer/handlers.js';
import { createPredictHandlers } from './predict/handlers.js';
import { createReviewHandlers } from './review/handlers.js';
import { createModelsHandlers } from './models/handlers.js';
import { createWeightsHandlers } from './trainer/weights-handlers.js';

import type { Emit, HandlerDeps } from './deps.js';
export type { Emit };

export interface CoreApiOptions {
  mode: 'electron' | 'serve';
  /** Electron provides a native picker; serve mode has none (the UI shows a path field). */
  pick?: (kind: 'folder' | 'files', title?: string) => Promise<string[] | null>;
  /** workspace to use when settings name none */
  defaultWorkspace: string;
  /** use defaultWorkspace even when the saved settings name another (`spotter serve --workspace`) */
  forceWorkspace?: boolean;
  /**
   * Keep the computer awake while a run trains (Electron's powerSaveBlocker; the CLI uses the OS's
   * inhibitor where there is one). Returns the release function.
   */
  keepAwake?: (reason: string) => () => void;
}

export interface CoreApi extends CallHandlers {
  /** folders whose files may be served to the renderer (workspace, temp imports, bundled resources) */
  allowedRoots(): string[];
  /** the job manager (the CLI and tests wait on jobs) */
  readonly jobs: JobManager;
}

export function sampleDatasetPath(ctx: CoreContext): string {
  return path.join(ctx.paths.resourcesDir, 'sample', 'rbc-roboflow-coco.zip');
}

export async function createCoreApi(ctx: CoreContext, emit: Emit, options: CoreApiOptions): Promise<CoreApi> {
  const jobs = new JobManager({
    progress: (p) => emit('job.progress', p),
    finished: (f) => emit('job.finished', f),
  });
  const settings = await loadSettings(ctx.paths.dataDir);
  void sweepStaleTemp(ctx.paths.tempDir); // leftovers of a crash; in the background
  let workspace = options.forceWorkspace ? options.defaultWorkspace : (settings.workspace ?? options.defaultWorkspace);
  await fs.mkdir(path.join(workspace, 'datasets'), { recursive: true });

  const workspaceInfo = async (): Promise<WorkspaceInfo> => ({
    path: workspace,
    datasets: await listDatasets(path.join(workspace, 'datasets')),
  });
  const datasetsDir = () => path.join(workspace, 'datasets');

  const deps: HandlerDeps = { ctx, emit, jobs, workspace: () => workspace, keepAwake: options.keepAwake };
  const predict = createPredictHandlers(deps);
  /** folders of images the user reviewed (review.predict / review.get with a folder): their thumbnails and files may be served */
  const reviewRoots = new Set<string>();
  const allowFolder = async (folder: string | undefined) => {
    if (!folder) return;
    const abs = path.resolve(folder);
    if (path.parse(abs).root === abs) return; // never a whole disk
    if (await fs.stat(abs).then((st) => st.isDirectory(), () => false)) reviewRoots.add(abs);
  };
  const api: CoreApi = {
    jobs,
    allowedRoots: () => [workspace, ctx.paths.tempDir, ctx.paths.resourcesDir, ...reviewRoots],

    'app.info': async () => ({
      version: ctx.version,
      mode: options.mode,
      platform: process.platform,
      dataDir: ctx.paths.dataDir,
      workspace,
      sampleDataset: sampleDatasetPath(ctx),
    }),
    'workspace.get': workspaceInfo,
    'workspace.set': async ({ path: p }) => {
      const abs = path.resolve(p);
      // the workspace is an allowed root for serving files to the page: never a whole disk
      if (path.parse(abs).root === abs) throw new Error(`${abs}: a disk's root cannot be the workspace; pick or create a folder for Spotter`);
      await fs.mkdir(path.join(abs, 'datasets'), { recursive: true });
      workspace = abs;
      await saveSettings(ctx.paths.dataDir, { ...settings, workspace: abs });
      const info = await workspaceInfo();
      emit('workspace.changed', info);
      return info;
    },
    'dialog.pick': async ({ kind, title }) => (options.pick ? options.pick(kind, title) : null),
    'import.inspect': async (opts) => ({
      jobId: jobs.start('inspect', (job) => inspectImport(opts, job, ctx)),
    }),
    'import.run': async (opts) => ({
      jobId: jobs.start('import', async (job) => {
        const result = await runImport(opts, job, ctx, { datasetsDir: datasetsDir() });
        emit('workspace.changed', await workspaceInfo());
        return result;
      }),
    }),
    'jobs.cancel': async ({ jobId }) => ({ cancelled: jobs.cancel(jobId) }),
    'datasets.get': async ({ dir }) => readDatasetDetail(dir),
    'datasets.images': async ({ dir, split, offset, limit }) => readDatasetImages(dir, { split, offset, limit }),
    ...createTrainerHandlers(deps),
    ...predict,
    'review.predict': async (input) => {
      const started = await predict['review.predict'](input);
      await allowFolder(input.source.folder);
      return started;
    },
    'review.get': async (input) => {
      const set = await predict['review.get'](input);
      if (set) await allowFolder(input.source.folder);
      return set;
    },
    ...createReviewHandlers(deps),
    ...createModelsHandlers(deps),
    ...createWeightsHandlers(deps),
    'datasets.addEvalSet': async ({ dir, name, sources }) => ({
      jobId: jobs.start('evalset', async (job) => {
        await addEvalSet(ctx, dir, name, sources, job);
        return readDatasetDetail(dir);
      }),
    }),
    'datasets.removeEvalSet': async ({ dir, name }) => {
      await removeEvalSet(dir, name);
      return readDatasetDetail(dir);
    },
    'datasets.check': async ({ dir, imgsz }) => ({
      jobId: jobs.start('check', (job) =>
        checkDataset(dir, { imgsz, signal: job.signal, onProgress: (s, d, t) => job.progress(s, d, t) }),
      ),
    }),
  };
  return api;
}
