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
  groupMode: GroupMode;
  groupRegex: string;
  /** null: the core picks it */
  guardGap: number | null;
  dupThreshold: number;
  keepCrowd: boolean;
}

export const DEFAULT_SETTINGS: ImportSettings = {
  name: '',
  task: 'detect',
  ratios: [0.8, 0.1, 0.1],
  seed: 0,
  keepSplits: false,
  groupMode: 'auto',
  groupRegex: '',
  guardGap: null,
  dupThreshold: 4,
  keepCrowd: true,
};

export interface ImportSlice {
  sources: string[];
  /** serve mode: bytes of dropped files streamed to the server */
  upload: { sent: number; total: number } | null;
  inspectJobId: string | null;
  runJobId: string | null;
  inspect: InspectResult | null;
  classRows: ClassRow[];
  settings: ImportSettings;
  /** errors of calls (not of jobs: those are on the job) */
  importError: string | null;
  addSources(paths: string[]): void;
  removeSource(path: string): void;
  dropFiles(files: File[]): Promise<void>;
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

export const createImportSlice: SliceCreator<ImportSlice> = (set, get, transport) => ({
  sources: [],
  upload: null,
  inspectJobId: null,
  runJobId: null,
  inspect: null,
  classRows: [],
  settings: DEFAULT_SETTINGS,
  importError: null,

  addSources(paths) {
    const next = [...get().sources];
    for (const p of paths) if (!next.includes(p)) next.push(p);
    set({ sources: next });
    void get().inspectSources();
  },

  removeSource(path) {
    const sources = get().sources.filter((p) => p !== path);
    set({ sources });
    if (sources.length) void get().inspectSources();
    else get().resetImport();
  },

  async dropFiles(files) {
    if (!files.length) return;
    set({ upload: { sent: 0, total: files.reduce((n, f) => n + f.size, 0) }, importError: null });
    try {
      const paths = await transport.resolveDrop(files, (sent, total) => set({ upload: { sent, total } }));
      set({ upload: null });
      get().addSources(paths);
    } catch (e) {
      set({ upload: null, importError: `Could not read the dropped files: ${errorMessage(e)}` });
    }
  },

  async inspectSources() {
    const { sources, inspectJobId } = get();
    if (!sources.length) return;
    const prevJob = inspectJobId ? get().jobs[inspectJobId] : undefined;
    if (prevJob?.status === 'running') void get().cancelJob(prevJob.jobId);
    const s = get().settings;
    if (!s.name) set({ settings: { ...s, name: datasetNameFromPath(sources[0]!) } });
    set({ importError: null, runJobId: null });
    try {
      const { jobId, early } = await get().startJob('inspect', () => transport.call('import.inspect', selectImportOptions(get())));
      set({ inspectJobId: jobId });
      if (early) get().importJobFinished(early);
    } catch (e) {
      set({ importError: errorMessage(e) });
    }
  },

  async trySample() {
    const sample = get().info?.sampleDataset;
    if (!sample) return;
    get().resetImport();
    get().navigate({ name: 'import' });
    get().addSources([sample]);
  },

  setClassRow(source, patch) {
    set({ classRows: get().classRows.map((r) => (r.source === source ? { ...r, ...patch } : r)) });
  },

  setSettings(patch) {
    set({ settings: { ...get().settings, ...patch } });
  },

  async startImport() {
    set({ importError: null });
    try {
      const { jobId, early } = await get().startJob('import', () => transport.call('import.run', selectImportOptions(get())));
      set({ runJobId: jobId });
      if (early) get().importJobFinished(early);
    } catch (e) {
      set({ importError: errorMessage(e) });
    }
  },

  async cancelImportJobs() {
    const { inspectJobId, runJobId } = get();
    for (const id of [inspectJobId, runJobId]) if (id) await get().cancelJob(id);
  },

  resetImport() {
    set({
      sources: [],
      upload: null,
      inspectJobId: null,
      runJobId: null,
      inspect: null,
      classRows: [],
      settings: DEFAULT_SETTINGS,
      importError: null,
    });
  },

  importJobFinished(f) {
    const s = get();
    if (f.jobId === s.inspectJobId && f.status === 'done' && f.result) {
      const result = f.result as InspectResult;
      const settings = result.subsets.length ? s.settings : { ...s.settings, keepSplits: false };
      set({ inspect: result, classRows: rowsFromInspect(result, s.classRows), settings });
    } else if (f.jobId === s.runJobId && f.status === 'done' && f.result) {
      const result = f.result as ImportResult;
      get().showDataset(result);
      get().navigate({ name: 'dataset', dir: result.dir });
    }
  },
});

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
    keepSplits: st.keepSplits,
    keepCrowd: st.keepCrowd,
    guardGap: st.guardGap ?? undefined,
    dupThreshold: st.dupThreshold,
    classMap,
  };
}

/** Why Start must stay disabled (empty: good to go). */
export function selectImportProblems(s: State): string[] {
  const problems: string[] = [];
  const st = s.settings;
  if (!s.inspect) problems.push('Inspect the sources first.');
  if (!st.name.trim()) problems.push('Give the dataset a name.');
  if (!st.keepSplits && st.ratios.reduce((a, b) => a + b, 0) <= 0) problems.push('The split ratios add up to 0.');
  if (st.groupMode === 'custom') {
    const err = regexProblem(st.groupRegex);
    if (err) problems.push(err);
  }
  if (s.inspect && !s.classRows.some((r) => !r.drop)) problems.push('Every class is dropped.');
  return problems;
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
export const selectClassRows = (s: State) => s.classRows;
export const selectSettings = (s: State) => s.settings;
export const selectImportError = (s: State) => s.importError;
export const selectInspectJob = (s: State) => (s.inspectJobId ? s.jobs[s.inspectJobId] : undefined);
export const selectRunJob = (s: State) => (s.runJobId ? s.jobs[s.runJobId] : undefined);
/** The job the Import page shows progress for: the import run when there is one, else the inspect. */
export const selectActiveImportJob = (s: State) => selectRunJob(s) ?? selectInspectJob(s);
