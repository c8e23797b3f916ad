/**
 * The import flow: sources (dropped, picked or typed) -> inspect job -> editable class mapping and
 * split settings -> import job -> the new dataset. The options sent to `import.run` are built from
 * this state by `selectImportOptions`, the single place that translates UI choices to ImportOptions.
 */
import type { ImportOptions } from '../../../electron/shared/schemas';
import type { ImportResult, InspectResult, JobFinished } from '../../../electron/shared/contract';
import { datasetNameFromPath, errorMessage } from '../lib/paths';
import type { SliceCreator, State } from './store';

export interface ClassRow {
  source: string;
  instances: number;
  images: number;
  /** target class name; rows with the same target are merged */
  target: string;
  drop: boolean;
  /** dropped by default because no object uses it (Roboflow's placeholder category) */
  unused: boolean;
}

export type GroupMode = 'auto' | 'none' | 'custom';

export interface ImportSettings {
  name: string;
  task: 'detect' | 'segment';
  ratios: [number, number, number];
  seed: number;
  keepSplits: boolean;
  /** split by ratio even when the export's own split is complete and clean by the audit */
  resplit: boolean;
  groupMode: GroupMode;
  groupRegex: string;
  /** with groupMode auto: a level of the inferred structure (GroupingInfo.levels id) to group by; null = the inferred one */
  groupLevel: string | null;
  /** null: the core picks it */
  guardGap: number | null;
  dupThreshold: number;
  keepCrowd: boolean;
  /** '' : a new dataset; else the folder of a workspace dataset this import becomes a new version of (a corrected re-import) */
  base: string;
}

export const DEFAULT_SETTINGS: ImportSettings = {
  name: '',
  task: 'detect',
  ratios: [0.8, 0.1, 0.1],
  seed: 0,
  keepSplits: false,
  resplit: false,
  groupMode: 'auto',
  groupRegex: '',
  groupLevel: null,
  guardGap: null,
  dupThreshold: 4,
  keepCrowd: true,
  base: '',
};

/** What an inspect was asked about: results for other sources are not shown, other settings mark it out of date. */
export interface InspectRequest {
  sources: string;
  settings: string;
}

export interface ImportSlice {
  sources: string[];
  /** serve mode: bytes of dropped files streamed to the server */
  upload: { sent: number; total: number } | null;
  /** set synchronously when a call that starts a job is made, cleared once the job id is known */
  starting: { inspect: boolean; import: boolean };
  /** the latest inspect job and what it was started for */
  inspectJobId: string | null;
  inspectFor: InspectRequest | null;
  runJobId: string | null;
  inspect: InspectResult | null;
  /** what `inspect` was started for */
  inspectResultFor: InspectRequest | null;
  classRows: ClassRow[];
  settings: ImportSettings;
  /** errors of calls (not of jobs: those are on the job) */
  importError: string | null;
  addSources(paths: string[]): void;
  removeSource(path: string): void;
  dropFiles(files: File[]): Promise<void>;
  cancelUpload(): void;
  inspectSources(): Promise<void>;
  trySample(): Promise<void>;
  setClassRow(source: string, patch: Partial<Pick<ClassRow, 'target' | 'drop'>>): void;
  setSettings(patch: Partial<ImportSettings>): void;
  startImport(): Promise<void>;
  cancelImportJobs(): Promise<void>;
  resetImport(): void;
  importJobFinished(f: JobFinished): void;
}

/** Class rows from an inspect result, keeping the user's edits for sources seen before. */
function rowsFromInspect(result: InspectResult, previous: ClassRow[]): ClassRow[] {
  const prev = new Map(previous.map((r) => [r.source, r]));
  return result.classes.map((c) => {
    const old = prev.get(c.source);
    const unused = c.target === null && c.instances === 0;
    return {
      source: c.source,
      instances: c.instances,
      images: c.images,
      target: old?.target ?? c.target ?? c.source,
      drop: old?.drop ?? c.target === null,
      unused,
    };
  });
}

const sourcesKey = (sources: string[]) => JSON.stringify(sources);
/**
 * The settings the inspect result depends on (grouping preview: the level is chosen by a trial split at the ratios
 * and seed; crowd counts); the rest only matter to the run.
 */
const inspectSettingsKey = (st: ImportSettings) =>
  JSON.stringify([st.groupMode, st.groupMode === 'custom' ? st.groupRegex : '', groupLevelOf(st), st.ratios, st.seed, st.guardGap, st.keepCrowd, st.base]);
const groupLevelOf = (st: ImportSettings) => (st.groupMode === 'auto' ? st.groupLevel : null);

/** The Import page's state before anything was dropped (also what "Start over" returns to). */
function initialImportState() {
  return {
    sources: [] as string[],
    upload: null,
    starting: { inspect: false, import: false },
    inspectJobId: null,
    inspectFor: null,
    runJobId: null,
    inspect: null,
    inspectResultFor: null,
    classRows: [] as ClassRow[],
    settings: DEFAULT_SETTINGS,
    importError: null,
  } satisfies Partial<ImportSlice>;
}

export const createImportSlice: SliceCreator<ImportSlice> = (set, get, transport) => {
  // the latest inspect request: an older one still awaiting its job id is superseded
  let inspectSeq = 0;
  // the upload of the current drop (serve mode); aborted by Cancel or Start over
  let uploadAbort: AbortController | null = null;

  const setStarting = (patch: Partial<ImportSlice['starting']>) => set({ starting: { ...get().starting, ...patch } });

  return {
    ...initialImportState(),

    addSources(paths) {
      if (selectImportLocked(get())) return;
      const next = [...get().sources];
      for (const p of paths) if (!next.includes(p)) next.push(p);
      // other sources, other names: a level chosen for the old ones may not exist
      set({ sources: next, settings: { ...get().settings, groupLevel: null } });
      void get().inspectSources();
    },

    removeSource(path) {
      if (selectImportLocked(get())) return;
      const sources = get().sources.filter((p) => p !== path);
      if (!sources.length) return get().resetImport();
      set({ sources, settings: { ...get().settings, groupLevel: null } });
      void get().inspectSources();
    },

    async dropFiles(files) {
      if (!files.length || get().upload || selectImportLocked(get())) return;
      const abort = new AbortController();
      uploadAbort = abort;
      // progress may still trickle in after the drop settled (or was cancelled): only this drop's, and only until then
      const current = () => uploadAbort === abort && !abort.signal.aborted;
      set({ upload: { sent: 0, total: files.reduce((n, f) => n + f.size, 0) }, importError: null });
      try {
        const paths = await transport.resolveDrop(
          files,
          (sent, total) => {
            if (current()) set({ upload: { sent, total } });
          },
          abort.signal,
        );
        if (!current()) return;
        uploadAbort = null;
        set({ upload: null });
        get().addSources(paths);
      } catch (e) {
        if (uploadAbort !== abort) return; // Start over came in between
        uploadAbort = null;
        set({ upload: null, importError: abort.signal.aborted ? null : `Could not read the dropped files: ${errorMessage(e)}` });
      }
    },

    cancelUpload() {
      uploadAbort?.abort();
    },

    async inspectSources() {
      const s0 = get();
      if (!s0.sources.length || selectImportLocked(s0)) return;
      const seq = ++inspectSeq;
      const prevJob = selectInspectJob(s0);
      if (prevJob?.status === 'running') void get().cancelJob(prevJob.jobId);
      const st = s0.settings;
      const request: InspectRequest = { sources: sourcesKey(s0.sources), settings: inspectSettingsKey(st) };
      // a result for other sources would be misleading: clear it (class edits survive in classRows)
      const sourcesChanged = s0.inspectResultFor?.sources !== request.sources;
      set({
        settings: st.name ? st : { ...st, name: datasetNameFromPath(s0.sources[0]!) },
        importError: null,
        runJobId: null, // not running: selectImportLocked said so
        inspectJobId: null,
        inspectFor: request,
        ...(sourcesChanged ? { inspect: null, inspectResultFor: null } : {}),
        starting: { ...s0.starting, inspect: true },
      });
      const options = selectImportOptions(get());
      try {
        const { jobId, early } = await get().startJob('inspect', () => transport.call('import.inspect', options));
        if (seq !== inspectSeq) {
          // superseded while waiting for the id (a quick second drop): stop this job, touch nothing
          void get().cancelJob(jobId);
          get().pruneJobs();
          return;
        }
        set({ inspectJobId: jobId });
        if (early) get().importJobFinished(early);
        get().pruneJobs();
      } catch (e) {
        if (seq === inspectSeq) set({ importError: errorMessage(e) });
      } finally {
        if (seq === inspectSeq) setStarting({ inspect: false });
      }
    },

    async trySample() {
      const sample = get().info?.sampleDataset;
      if (!sample) return;
      // an import is running: show it rather than throwing it away
      if (!selectImportLocked(get())) {
        get().resetImport();
        get().addSources([sample]);
      }
      get().navigate({ name: 'import' });
    },

    setClassRow(source, patch) {
      if (selectImportLocked(get())) return;
      set({ classRows: get().classRows.map((r) => (r.source === source ? { ...r, ...patch } : r)) });
    },

    setSettings(patch) {
      if (selectImportLocked(get())) return;
      set({ settings: { ...get().settings, ...patch } });
    },

    async startImport() {
      if (selectStartDisabled(get())) return;
      // before the round trip: a second click must find Start disabled
      set({ importError: null, starting: { ...get().starting, import: true } });
      try {
        const { jobId, early } = await get().startJob('import', () => transport.call('import.run', selectImportOptions(get())));
        set({ runJobId: jobId });
        if (early) get().importJobFinished(early);
        get().pruneJobs();
      } catch (e) {
        set({ importError: errorMessage(e) });
      } finally {
        setStarting({ import: false });
      }
    },

    async cancelImportJobs() {
      const { inspectJobId, runJobId } = get();
      for (const id of [inspectJobId, runJobId]) if (id) await get().cancelJob(id);
    },

    resetImport() {
      if (selectImportLocked(get())) return;
      inspectSeq++; // an inspect still waiting for its id cancels itself
      uploadAbort?.abort();
      uploadAbort = null;
      const inspectJob = selectInspectJob(get());
      if (inspectJob?.status === 'running') void get().cancelJob(inspectJob.jobId);
      set(initialImportState());
      get().pruneJobs();
    },

    importJobFinished(f) {
      const s = get();
      if (f.jobId === s.inspectJobId && f.status === 'done' && f.result) {
        const result = f.result as InspectResult;
        const settings = result.subsets.length ? s.settings : { ...s.settings, keepSplits: false };
        set({ inspect: result, inspectResultFor: s.inspectFor, classRows: rowsFromInspect(result, s.classRows), settings });
      } else if (f.jobId === s.runJobId && f.status === 'done' && f.result) {
        const result = f.result as ImportResult;
        get().showDataset({ ...result, evalSets: [] }); // a new dataset has no evaluation sets yet
        get().navigate({ name: 'dataset', dir: result.dir });
      }
    },
  };
};

/** The ImportOptions the current UI state stands for (used by both inspect and run). */
export function selectImportOptions(s: State): ImportOptions {
  const st = s.settings;
  const classMap: Record<string, string | null> = {};
  for (const r of s.classRows) {
    // an unused category left dropped is the core's own default: leave it out so it is reported as "unused"
    if (r.drop && r.unused) continue;
    classMap[r.source] = r.drop ? null : r.target.trim() || r.source;
  }
  const group = st.groupMode === 'custom' ? st.groupRegex : st.groupMode;
  return {
    sources: s.sources,
    name: st.name.trim() || undefined,
    task: st.task,
    ratios: st.ratios,
    seed: st.seed,
    group,
    ...(groupLevelOf(st) ? { groupLevel: groupLevelOf(st)! } : {}),
    keepSplits: st.keepSplits,
    resplit: st.resplit,
    keepCrowd: st.keepCrowd,
    guardGap: st.guardGap ?? undefined,
    dupThreshold: st.dupThreshold,
    classMap,
    ...(st.base && { base: st.base }),
  };
}

/** An import is starting or running: sources and settings must not change under it. */
export function selectImportLocked(s: State): boolean {
  return s.starting.import || selectRunJob(s)?.status === 'running';
}

/** An inspect is starting or running (Start waits for it). */
export function selectInspecting(s: State): boolean {
  return s.starting.inspect || selectInspectJob(s)?.status === 'running';
}

/** The inspect result, when it is the one of the latest inspect job, done, for the current sources. */
export function selectCurrentInspect(s: State): InspectResult | null {
  if (!s.inspect || selectInspecting(s) || selectInspectJob(s)?.status !== 'done') return null;
  return s.inspectResultFor?.sources === sourcesKey(s.sources) ? s.inspect : null;
}

/** The shown inspect result was made with other grouping settings: its preview is out of date. */
export function selectInspectOutdated(s: State): boolean {
  return !!s.inspect && !!s.inspectResultFor && s.inspectResultFor.settings !== inspectSettingsKey(s.settings);
}

/** Why Start must stay disabled (empty: good to go, once no inspect is running). */
export function selectImportProblems(s: State): string[] {
  const problems: string[] = [];
  const st = s.settings;
  const inspectJob = selectInspectJob(s);
  if (s.upload) problems.push('Wait for the upload to finish.');
  if (!selectInspecting(s)) {
    if (inspectJob?.status === 'failed') problems.push('Inspecting the sources failed: fix or remove them, then inspect again.');
    else if (inspectJob?.status === 'cancelled') problems.push('Inspecting was cancelled: inspect the sources again.');
    else if (!selectCurrentInspect(s)) problems.push('Inspect the sources first.');
  }
  if (!st.name.trim() && !st.base) problems.push('Give the dataset a name.');
  const conflict = selectCurrentInspect(s)?.merge?.conflict;
  if (st.base && conflict) problems.push(`Merge: ${conflict.split(': map it')[0]}; map it in the class table.`);
  if (!st.keepSplits && st.ratios.reduce((a, b) => a + b, 0) <= 0) problems.push('The split ratios add up to 0.');
  if (st.groupMode === 'custom') {
    const err = regexProblem(st.groupRegex);
    if (err) problems.push(err);
  }
  // a new version keeps the base's classes: a corrected batch may name none of them
  if (s.inspect && !st.base && !s.classRows.some((r) => !r.drop)) problems.push('Every class is dropped.');
  return problems;
}

/** Start import is clickable only with no problem, the latest inspect done, and no import under way. */
export function selectStartDisabled(s: State): boolean {
  return selectImportLocked(s) || selectInspecting(s) || !selectCurrentInspect(s) || selectImportProblems(s).length > 0;
}

export function regexProblem(source: string): string | null {
  if (!source) return 'Type a regular expression with a named group (?<group>…).';
  try {
    new RegExp(source);
  } catch (e) {
    return `Invalid regular expression: ${errorMessage(e)}`;
  }
  return source.includes('(?<group>') ? null : 'The expression needs a named group: (?<group>…).';
}

/** Target names used by more than one kept row: those rows are merged into one class. */
export function mergedTargets(rows: ClassRow[]): Set<string> {
  const seen = new Map<string, number>();
  for (const r of rows) if (!r.drop) seen.set(r.target.trim(), (seen.get(r.target.trim()) ?? 0) + 1);
  return new Set([...seen].filter(([, n]) => n > 1).map(([t]) => t));
}

export const selectSources = (s: State) => s.sources;
export const selectUpload = (s: State) => s.upload;
export const selectInspect = (s: State) => s.inspect;
export const selectStarting = (s: State) => s.starting;
export const selectClassRows = (s: State) => s.classRows;
export const selectSettings = (s: State) => s.settings;
export const selectImportError = (s: State) => s.importError;
export const selectInspectJob = (s: State) => (s.inspectJobId ? s.jobs[s.inspectJobId] : undefined);
export const selectRunJob = (s: State) => (s.runJobId ? s.jobs[s.runJobId] : undefined);
/** The job the Import page shows progress for: the import run when there is one, else the inspect. */
export const selectActiveImportJob = (s: State) => selectRunJob(s) ?? selectInspectJob(s);
