/**
 * The dataset being viewed: its detail (report, health, mapping) and the image grid's pages.
 * Pages are fetched lazily and stored by page index, so a grid row subscribes to the one or two pages
 * it shows and re-renders only when those arrive; in-flight requests are tracked outside the state.
 */
import type { DatasetDetail, DatasetImage, HealthReport, JobFinished } from '../../../electron/shared/contract';
import type { SplitName } from '../../../electron/shared/schemas';
import { errorMessage } from '../lib/paths';
import type { SliceCreator, State } from './store';

export const PAGE_SIZE = 200;

export type SplitFilter = SplitName | 'all';

export interface GridState {
  /** dir + split: responses for another key are stale and ignored */
  key: string;
  split: SplitFilter;
  total: number | null;
  pages: Record<number, DatasetImage[]>;
  error: string | null;
  /** pages whose request failed: `retryGrid` asks again */
  failed: number[];
}

export interface DatasetSlice {
  datasetDir: string | null;
  detail: DatasetDetail | null;
  detailStatus: 'idle' | 'loading' | 'ready' | 'error';
  detailError: string | null;
  checkJobId: string | null;
  /** the job importing an evaluation set into this dataset */
  evalSetJobId: string | null;
  grid: GridState;
  openDataset(dir: string): Promise<void>;
  /** show a dataset whose detail we already hold (the result of an import) */
  showDataset(detail: DatasetDetail): void;
  setGridSplit(split: SplitFilter): void;
  ensurePage(page: number): void;
  /** ask again for the pages that failed (the grid error's Retry) */
  retryGrid(): void;
  runCheck(imgsz: number): Promise<void>;
  /** import sources as a named evaluation set of the open dataset (a job) */
  addEvalSet(name: string, sources: string[]): Promise<void>;
  removeEvalSet(name: string): Promise<void>;
  datasetJobFinished(f: JobFinished): void;
}

const gridKey = (dir: string, split: SplitFilter) => `${dir}\u0000${split}`;
const emptyGrid = (dir: string, split: SplitFilter): GridState => ({
  key: gridKey(dir, split),
  split,
  total: null,
  pages: {},
  error: null,
  failed: [],
});

export const createDatasetSlice: SliceCreator<DatasetSlice> = (set, get, transport) => {
  // page requests in flight, per grid key (not state: nothing renders from it)
  const inFlight = new Set<string>();
  // a check call awaiting its job id: a second click must not start another
  let checkStarting = false;

  return {
    datasetDir: null,
    detail: null,
    detailStatus: 'idle',
    detailError: null,
    checkJobId: null,
    evalSetJobId: null,
    grid: emptyGrid('', 'all'),

    async openDataset(dir) {
      set({ datasetDir: dir, detail: null, detailStatus: 'loading', detailError: null, checkJobId: null, evalSetJobId: null, grid: emptyGrid(dir, 'all') });
      get().ensurePage(0);
      try {
        const detail = await transport.call('datasets.get', { dir });
        if (get().datasetDir === dir) set({ detail, detailStatus: 'ready' });
      } catch (e) {
        if (get().datasetDir === dir) set({ detailStatus: 'error', detailError: errorMessage(e) });
      }
    },

    showDataset(detail) {
      set({
        datasetDir: detail.dir,
        detail,
        detailStatus: 'ready',
        detailError: null,
        checkJobId: null,
        evalSetJobId: null,
        grid: emptyGrid(detail.dir, 'all'),
      });
      get().ensurePage(0);
    },

    setGridSplit(split) {
      const dir = get().datasetDir;
      if (!dir || get().grid.split === split) return;
      set({ grid: emptyGrid(dir, split) });
      get().ensurePage(0);
    },

    ensurePage(page) {
      const dir = get().datasetDir;
      const grid = get().grid;
      if (!dir || grid.pages[page]) return;
      if (grid.total !== null && page * PAGE_SIZE >= grid.total) return;
      const reqKey = `${grid.key}\u0000${page}`;
      if (inFlight.has(reqKey)) return;
      inFlight.add(reqKey);
      const split = grid.split === 'all' ? undefined : grid.split;
      transport
        .call('datasets.images', { dir, split, offset: page * PAGE_SIZE, limit: PAGE_SIZE })
        .then((res) => {
          const g = get().grid;
          if (g.key !== grid.key) return;
          const failed = g.failed.filter((p) => p !== page);
          set({ grid: { ...g, total: res.total, pages: { ...g.pages, [page]: res.items }, failed, error: failed.length ? g.error : null } });
        })
        .catch((e: unknown) => {
          const g = get().grid;
          if (g.key === grid.key) set({ grid: { ...g, error: errorMessage(e), failed: [...new Set([...g.failed, page])] } });
        })
        .finally(() => inFlight.delete(reqKey));
    },

    retryGrid() {
      const g = get().grid;
      set({ grid: { ...g, error: null, failed: [] } });
      // no page known yet (the first request failed): start from the first
      for (const page of g.failed.length ? g.failed : [0]) get().ensurePage(page);
    },

    async runCheck(imgsz) {
      const dir = get().datasetDir;
      if (!dir || checkStarting || selectCheckJob(get())?.status === 'running') return;
      checkStarting = true;
      // a new action: the error of the last one is history
      set({ detailError: null });
      try {
        const { jobId, early } = await get().startJob('check', () => transport.call('datasets.check', { dir, imgsz }));
        if (get().datasetDir !== dir) return; // another dataset opened meanwhile: the job runs on in the navbar
        set({ checkJobId: jobId });
        if (early) get().datasetJobFinished(early);
        get().pruneJobs();
      } catch (e) {
        if (get().datasetDir === dir) set({ detailError: errorMessage(e) });
      } finally {
        checkStarting = false;
      }
    },

    async addEvalSet(name, sources) {
      const dir = get().datasetDir;
      if (!dir) return;
      set({ detailError: null });
      try {
        const { jobId, early } = await get().startJob('evalset', () => transport.call('datasets.addEvalSet', { dir, name, sources }));
        if (get().datasetDir !== dir) return;
        set({ evalSetJobId: jobId });
        if (early) get().datasetJobFinished(early);
      } catch (e) {
        if (get().datasetDir === dir) set({ detailError: errorMessage(e) });
      }
    },

    async removeEvalSet(name) {
      const dir = get().datasetDir;
      if (!dir) return;
      try {
        const detail = await transport.call('datasets.removeEvalSet', { dir, name });
        if (get().datasetDir === dir) set({ detail, detailError: null });
      } catch (e) {
        if (get().datasetDir === dir) set({ detailError: errorMessage(e) });
      }
    },

    datasetJobFinished(f) {
      const { checkJobId, evalSetJobId, detail } = get();
      if (f.status !== 'done' || !detail) return;
      if (f.jobId === checkJobId) set({ detail: { ...detail, health: f.result as HealthReport }, detailError: null });
      if (f.jobId === evalSetJobId) {
        const next = f.result as DatasetDetail;
        if (next.dir === detail.dir) set({ detail: next, detailError: null });
      }
    },
  };
};

export const selectDatasetDir = (s: State) => s.datasetDir;
export const selectDetail = (s: State) => s.detail;
export const selectReport = (s: State) => s.detail?.report;
export const selectHealth = (s: State) => s.detail?.health;
export const selectMapping = (s: State) => s.detail?.mapping;
export const selectDetailStatus = (s: State) => s.detailStatus;
export const selectDetailError = (s: State) => s.detailError;
export const selectGridTotal = (s: State) => s.grid.total;
export const selectGridSplit = (s: State) => s.grid.split;
export const selectGridError = (s: State) => s.grid.error;
export const selectGridPage = (page: number) => (s: State) => s.grid.pages[page];
export const selectCheckJob = (s: State) => (s.checkJobId ? s.jobs[s.checkJobId] : undefined);
export const selectEvalSetJob = (s: State) => (s.evalSetJobId ? s.jobs[s.evalSetJobId] : undefined);
export const selectEvalSets = (s: State) => s.detail?.evalSets;
/** class names by id, for labels and legends */
export const selectClassNames = (s: State) => s.detail?.report.names;

/** The image at a global index of the current grid, when its page is loaded. */
export function imageAt(s: State, index: number): DatasetImage | undefined {
  return s.grid.pages[Math.floor(index / PAGE_SIZE)]?.[index % PAGE_SIZE];
}
