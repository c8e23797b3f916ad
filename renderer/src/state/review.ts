/**
 * The review gallery: a model's cached predictions on a source (a dataset split or a folder), matched
 * to the ground truth at an IoU threshold, evaluated at an operating point (a confidence for every
 * class, some classes with their own), and the gallery's order. The heavy parts are derived here,
 * once per change: matching when the set or the IoU changes, one pass over the predictions when the
 * slider moves (`evaluateReview`), one sort for the grid (`orderImages`). Components read the
 * results through the selectors below; a grid cell reads its own image's counts.
 *
 * Jobs: 'predict' (for the model under review and for a baseline) and 'batch' (a labelling batch for
 * CVAT) are owned here by id; their ends are recorded in this slice (the jobs slice prunes them).
 */
import type {
  BatchResult,
  BatchSelection,
  JobFinished,
  ModelInfo,
  ModelListItem,
  ReviewSet,
  ReviewSource,
} from '../../../electron/shared/contract';
import { evaluateReview, matchReview, suggestF1Thresholds, type Operating, type ReviewEvaluation, type ReviewMatching } from '../components/review/evaluate';
import { compareSets, orderImages, type CompareFilter, type Comparison, type ErrorFilter, type ReviewSort } from '../components/review/order';
import { decodeReviewSet } from '../../../electron/shared/review-codec';
import { errorMessage } from '../lib/paths';
import type { Page } from './route';
import type { SliceCreator, State } from './store';

export type ReviewSplit = 'train' | 'val' | 'test' | 'all';
export const REVIEW_SPLITS: ReviewSplit[] = ['val', 'test', 'train', 'all'];
export const DEFAULT_CONF = 0.25;
export const DEFAULT_IOU = 0.5;

/** What the page's pickers hold (applied to the route with "Open"). */
export interface ReviewForm {
  model: string;
  mode: 'dataset' | 'folder';
  dataset: string;
  split: ReviewSplit;
  folder: string;
}

/** A job this slice started, and how it ended. */
export interface OwnedJob {
  jobId: string;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  error?: string;
}

export type SetStatus = 'idle' | 'loading' | 'ready' | 'missing' | 'error';

export interface BaselineState {
  model: string;
  info: ModelInfo | null;
  set: ReviewSet | null;
  status: SetStatus;
  error: string | null;
  job: OwnedJob | null;
  matching: ReviewMatching | null;
  eval: ReviewEvaluation | null;
}

export interface BatchRequest {
  selection: BatchSelection;
  format: 'coco' | 'cvat';
  /** pre-annotations: predictions at or above this score */
  conf: number;
  out?: string;
}

export interface ReviewSlice {
  reviewModels: ModelListItem[] | null;
  reviewModelsError: string | null;
  reviewForm: ReviewForm;
  /** the source being reviewed (applied from the route); null before one is complete */
  reviewSource: ReviewSource | null;
  reviewInfo: ModelInfo | null;
  reviewSet: ReviewSet | null;
  reviewStatus: SetStatus;
  reviewError: string | null;
  reviewPredictJob: OwnedJob | null;
  reviewIou: number;
  reviewOp: Operating;
  reviewMatching: ReviewMatching | null;
  reviewEval: ReviewEvaluation | null;
  reviewFocus: number | null;
  reviewSort: ReviewSort;
  reviewErrors: ErrorFilter;
  reviewCompare: CompareFilter;
  /** image indices of the set, in the gallery's order, filtered */
  reviewOrder: Int32Array;
  reviewBaseline: BaselineState | null;
  reviewComparison: Comparison | null;
  reviewSave: { status: 'idle' | 'saving' | 'error'; error: string | null };
  reviewBatch: (OwnedJob & { result: BatchResult | null }) | null;
  reviewBatchError: string | null;

  loadReviewModels(): Promise<void>;
  /** the route's model and source: loads what is cached for them */
  openReview(params: { model?: string; dataset?: string; split?: string; folder?: string }): void;
  setReviewForm(patch: Partial<ReviewForm>): void;
  /** go to the gallery, on the source under review (the navbar's entry) */
  showReview(): void;
  /** go to the gallery on the pickers' model and source (the route then opens it) */
  applyReviewForm(): void;
  reloadReview(): Promise<void>;
  runPredict(force?: boolean): Promise<void>;
  setReviewConf(conf: number): void;
  setReviewIou(iou: number): void;
  /** null: the class follows the global confidence again */
  setClassThreshold(name: string, value: number | null): void;
  resetClassThresholds(): void;
  suggestClassThresholds(): void;
  saveThresholds(): Promise<void>;
  setReviewFocus(cls: number | null): void;
  setReviewSort(sort: ReviewSort): void;
  setReviewErrors(f: ErrorFilter): void;
  setReviewCompare(f: CompareFilter): void;
  setBaselineModel(model: string | null): Promise<void>;
  runBaselinePredict(): Promise<void>;
  exportBatch(req: BatchRequest): Promise<void>;
  clearBatch(): void;
  reviewJobFinished(f: JobFinished): void;
}

const EMPTY_ORDER = new Int32Array(0);

function sourceOf(form: ReviewForm): ReviewSource | null {
  if (!form.model) return null;
  if (form.mode === 'dataset') return form.dataset ? { model: form.model, dataset: form.dataset, split: form.split } : null;
  return form.folder ? { model: form.model, folder: form.folder } : null;
}

function pageOf(source: ReviewSource | null): Page {
  if (!source) return { name: 'review' };
  return source.folder
    ? { name: 'review', model: source.model, folder: source.folder }
    : { name: 'review', model: source.model, dataset: source.dataset, split: source.split };
}

const sameSource = (a: ReviewSource | null, b: ReviewSource | null) => JSON.stringify(a) === JSON.stringify(b);

function opFromCard(info: ModelInfo | null): Operating {
  const t = info?.card?.thresholds;
  return t ? { conf: t.default, perClass: { ...t.perClass } } : { conf: DEFAULT_CONF, perClass: {} };
}

export const createReviewSlice: SliceCreator<ReviewSlice> = (set, get, transport) => {
  let loadSeq = 0;
  let baseSeq = 0;
  let predictStarting = false;
  let batchStarting = false;

  /**
   * Re-derive what depends on the changed inputs: matching (set or IoU), the evaluation (operating
   * point, focus), the baseline's, the comparison, the order. `from` says where to start.
   */
  function derive(from: 'match' | 'eval' | 'order') {
    const s = get();
    const rs = s.reviewSet;
    if (!rs) {
      set({ reviewMatching: null, reviewEval: null, reviewOrder: EMPTY_ORDER, reviewComparison: null });
      return;
    }
    const matching = from === 'match' || !s.reviewMatching ? matchReview(rs, s.reviewIou) : s.reviewMatching;
    const ev = from === 'order' && s.reviewEval ? s.reviewEval : evaluateReview(matching, s.reviewOp, s.reviewFocus);
    let baseline = s.reviewBaseline;
    let comparison: Comparison | null = null;
    if (baseline?.set) {
      const bm = from === 'match' || !baseline.matching ? matchReview(baseline.set, s.reviewIou) : baseline.matching;
      // the baseline at its own saved operating point; without a card, at the same confidence
      const bop = baseline.info?.card ? opFromCard(baseline.info) : { conf: s.reviewOp.conf, perClass: {} };
      const be = from === 'order' && baseline.eval ? baseline.eval : evaluateReview(bm, bop, null);
      baseline = { ...baseline, matching: bm, eval: be };
      // errors over all classes on both sides (the focus narrows the candidate's badges only)
      const all = s.reviewFocus === null ? ev : evaluateReview(matching, s.reviewOp, null);
      comparison = compareSets(matching, all, bm, be);
    }
    const order = orderImages(matching, ev, { sort: s.reviewSort, errors: s.reviewErrors, compare: s.reviewCompare }, comparison);
    set({ reviewMatching: matching, reviewEval: ev, reviewBaseline: baseline, reviewComparison: comparison, reviewOrder: order });
  }

  async function loadSet(source: ReviewSource, seq: number) {
    const [info, wire] = await Promise.all([
      transport.call('review.modelInfo', { model: source.model }),
      transport.call('review.get', { source }),
    ]);
    if (seq !== loadSeq) return;
    const rs = wire ? decodeReviewSet(wire) : null;
    const prev = get().reviewInfo;
    const fresh = !prev || prev.path !== info.path;
    set({
      reviewInfo: info,
      reviewSet: rs,
      reviewStatus: rs ? 'ready' : 'missing',
      reviewError: null,
      // a new model: its saved operating point (the card), or the defaults
      ...(fresh ? { reviewOp: opFromCard(info), reviewFocus: null } : {}),
    });
    // no ground truth: errors mean nothing, the least confident images first
    const labelled = !!rs?.images.some((im) => im.gt !== null);
    if (rs && !labelled && ['errors', 'fn', 'fp'].includes(get().reviewSort)) set({ reviewSort: 'lowconf', reviewErrors: 'all' });
    derive('match');
  }

  async function loadBaseline(model: string, seq: number) {
    const source = get().reviewSource;
    if (!source) return;
    const [info, wire] = await Promise.all([
      transport.call('review.modelInfo', { model }),
      transport.call('review.get', { source: { ...source, model } }),
    ]);
    const b = get().reviewBaseline;
    if (seq !== baseSeq || !b || b.model !== model) return;
    const rs = wire ? decodeReviewSet(wire) : null;
    set({ reviewBaseline: { ...b, info, set: rs, status: rs ? 'ready' : 'missing', error: null, matching: null, eval: null } });
    derive('match');
  }

  return {
    reviewModels: null,
    reviewModelsError: null,
    reviewForm: { model: '', mode: 'dataset', dataset: '', split: 'val', folder: '' },
    reviewSource: null,
    reviewInfo: null,
    reviewSet: null,
    reviewStatus: 'idle',
    reviewError: null,
    reviewPredictJob: null,
    reviewIou: DEFAULT_IOU,
    reviewOp: { conf: DEFAULT_CONF, perClass: {} },
    reviewMatching: null,
    reviewEval: null,
    reviewFocus: null,
    reviewSort: 'errors',
    reviewErrors: 'all',
    reviewCompare: 'all',
    reviewOrder: EMPTY_ORDER,
    reviewBaseline: null,
    reviewComparison: null,
    reviewSave: { status: 'idle', error: null },
    reviewBatch: null,
    reviewBatchError: null,

    async loadReviewModels() {
      try {
        set({ reviewModels: await transport.call('review.models', {}), reviewModelsError: null });
      } catch (e) {
        set({ reviewModelsError: errorMessage(e) });
      }
    },

    openReview(params) {
      const form = get().reviewForm;
      const split = (REVIEW_SPLITS as string[]).includes(params.split ?? '') ? (params.split as ReviewSplit) : 'val';
      const next: ReviewForm = {
        model: params.model ?? form.model,
        mode: params.folder ? 'folder' : params.dataset ? 'dataset' : form.mode,
        dataset: params.dataset ?? form.dataset,
        split: params.dataset ? split : form.split,
        folder: params.folder ?? form.folder,
      };
      const source = params.model && (params.dataset || params.folder) ? sourceOf(next) : null;
      set({ reviewForm: next });
      if (!source || sameSource(source, get().reviewSource)) return;
      const modelChanged = get().reviewSource?.model !== source.model;
      set({
        reviewSource: source,
        reviewSet: null,
        reviewStatus: 'loading',
        reviewError: null,
        reviewPredictJob: null,
        reviewBatch: null,
        reviewBatchError: null,
        reviewSave: { status: 'idle', error: null },
        ...(modelChanged ? { reviewInfo: null } : {}),
      });
      derive('match');
      void get().reloadReview();
      // the baseline follows the source
      const b = get().reviewBaseline;
      if (b) void get().setBaselineModel(b.model === source.model ? null : b.model);
    },

    setReviewForm(patch) {
      set({ reviewForm: { ...get().reviewForm, ...patch } });
    },

    showReview() {
      get().navigate(pageOf(get().reviewSource));
    },

    applyReviewForm() {
      const source = sourceOf(get().reviewForm);
      if (!source) return;
      const page = pageOf(source);
      get().navigate(page);
      // at once (the page's effect on the route would do it a render later)
      if (page.name === 'review') get().openReview(page);
    },

    async reloadReview() {
      const source = get().reviewSource;
      if (!source) return;
      const seq = ++loadSeq;
      if (!get().reviewSet) set({ reviewStatus: 'loading' });
      try {
        await loadSet(source, seq);
      } catch (e) {
        if (seq === loadSeq) set({ reviewStatus: 'error', reviewError: errorMessage(e) });
      }
    },

    async runPredict(force = false) {
      const source = get().reviewSource;
      if (!source || predictStarting || get().reviewPredictJob?.status === 'running') return;
      predictStarting = true;
      set({ reviewError: null });
      try {
        const { jobId, early } = await get().startJob('predict', () => transport.call('review.predict', { source, force }));
        if (!sameSource(source, get().reviewSource)) return;
        set({ reviewPredictJob: { jobId, status: 'running' } });
        if (early) get().reviewJobFinished(early);
        get().pruneJobs();
      } catch (e) {
        set({ reviewError: errorMessage(e) });
      } finally {
        predictStarting = false;
      }
    },

    setReviewConf(conf) {
      set({ reviewOp: { ...get().reviewOp, conf } });
      derive('eval');
    },

    setReviewIou(iou) {
      if (iou === get().reviewIou) return;
      set({ reviewIou: iou });
      derive('match');
    },

    setClassThreshold(name, value) {
      const { [name]: _old, ...rest } = get().reviewOp.perClass;
      set({ reviewOp: { ...get().reviewOp, perClass: value === null ? rest : { ...rest, [name]: value } } });
      derive('eval');
    },

    resetClassThresholds() {
      set({ reviewOp: { ...get().reviewOp, perClass: {} } });
      derive('eval');
    },

    suggestClassThresholds() {
      const m = get().reviewMatching;
      if (!m) return;
      set({ reviewOp: { ...get().reviewOp, perClass: suggestF1Thresholds(m) } });
      derive('eval');
    },

    async saveThresholds() {
      const info = get().reviewInfo;
      if (!info) return;
      const op = get().reviewOp;
      set({ reviewSave: { status: 'saving', error: null } });
      try {
        const card = await transport.call('review.saveThresholds', {
          model: info.path,
          thresholds: { default: op.conf, perClass: op.perClass, iou: info.card?.thresholds.iou ?? get().reviewSet?.iou ?? 0.7 },
        });
        const now = get().reviewInfo;
        if (now?.path === info.path) set({ reviewInfo: { ...now, card } });
        set({ reviewSave: { status: 'idle', error: null } });
        // the model list shows cards too
        void get().loadReviewModels();
      } catch (e) {
        set({ reviewSave: { status: 'error', error: errorMessage(e) } });
      }
    },

    setReviewFocus(cls) {
      set({ reviewFocus: cls });
      derive('eval');
    },
    setReviewSort(sort) {
      set({ reviewSort: sort });
      derive('order');
    },
    setReviewErrors(f) {
      set({ reviewErrors: f });
      derive('order');
    },
    setReviewCompare(f) {
      set({ reviewCompare: f });
      derive('order');
    },

    async setBaselineModel(model) {
      const seq = ++baseSeq;
      if (!model) {
        set({ reviewBaseline: null, reviewCompare: 'all', reviewSort: get().reviewSort === 'change' ? 'errors' : get().reviewSort });
        derive('order');
        return;
      }
      set({ reviewBaseline: { model, info: null, set: null, status: 'loading', error: null, job: null, matching: null, eval: null } });
      derive('order');
      try {
        await loadBaseline(model, seq);
      } catch (e) {
        const b = get().reviewBaseline;
        if (seq === baseSeq && b) set({ reviewBaseline: { ...b, status: 'error', error: errorMessage(e) } });
      }
    },

    async runBaselinePredict() {
      const b = get().reviewBaseline;
      const source = get().reviewSource;
      if (!b || !source || b.job?.status === 'running') return;
      try {
        const { jobId, early } = await get().startJob('predict', () =>
          transport.call('review.predict', { source: { ...source, model: b.model }, force: false }),
        );
        const now = get().reviewBaseline;
        if (!now || now.model !== b.model) return;
        set({ reviewBaseline: { ...now, job: { jobId, status: 'running' }, error: null } });
        if (early) get().reviewJobFinished(early);
        get().pruneJobs();
      } catch (e) {
        const now = get().reviewBaseline;
        if (now) set({ reviewBaseline: { ...now, error: errorMessage(e) } });
      }
    },

    async exportBatch(req) {
      const source = get().reviewSource;
      if (!source || batchStarting || get().reviewBatch?.status === 'running') return;
      batchStarting = true;
      set({ reviewBatchError: null, reviewBatch: null });
      try {
        const { jobId, early } = await get().startJob('batch', () =>
          transport.call('review.exportBatch', { source, selection: req.selection, format: req.format, conf: req.conf, out: req.out || undefined }),
        );
        set({ reviewBatch: { jobId, status: 'running', result: null } });
        if (early) get().reviewJobFinished(early);
        get().pruneJobs();
      } catch (e) {
        set({ reviewBatchError: errorMessage(e) });
      } finally {
        batchStarting = false;
      }
    },

    clearBatch() {
      if (get().reviewBatch?.status === 'running') return;
      set({ reviewBatch: null, reviewBatchError: null });
    },

    reviewJobFinished(f) {
      if (f.kind === 'predict') {
        const own = get().reviewPredictJob;
        if (own?.jobId === f.jobId && own.status === 'running') {
          set({ reviewPredictJob: { ...own, status: f.status, error: f.error } });
          if (f.status === 'done') void get().reloadReview();
          return;
        }
        const b = get().reviewBaseline;
        if (b?.job?.jobId === f.jobId && b.job.status === 'running') {
          set({ reviewBaseline: { ...b, job: { ...b.job, status: f.status, error: f.error } } });
          if (f.status === 'done') void get().setBaselineModel(b.model);
        }
        return;
      }
      if (f.kind === 'batch') {
        const own = get().reviewBatch;
        if (own?.jobId !== f.jobId || own.status !== 'running') return;
        set({ reviewBatch: { ...own, status: f.status, error: f.error, result: f.status === 'done' ? (f.result as BatchResult) : null } });
      }
    },
  };
};

export const selectReviewModels = (s: State) => s.reviewModels;
export const selectReviewModelsError = (s: State) => s.reviewModelsError;
export const selectReviewForm = (s: State) => s.reviewForm;
export const selectReviewSource = (s: State) => s.reviewSource;
export const selectReviewInfo = (s: State) => s.reviewInfo;
export const selectReviewSet = (s: State) => s.reviewSet;
export const selectReviewStatus = (s: State) => s.reviewStatus;
export const selectReviewError = (s: State) => s.reviewError;
export const selectPredictJob = (s: State) => s.reviewPredictJob;
/** the running predict job's progress (from the jobs slice) */
export const selectPredictProgress = (s: State) => (s.reviewPredictJob?.status === 'running' ? s.jobs[s.reviewPredictJob.jobId] : undefined);
export const selectBaselineProgress = (s: State) =>
  s.reviewBaseline?.job?.status === 'running' ? s.jobs[s.reviewBaseline.job.jobId] : undefined;
export const selectBatchProgress = (s: State) => (s.reviewBatch?.status === 'running' ? s.jobs[s.reviewBatch.jobId] : undefined);
export const selectReviewIou = (s: State) => s.reviewIou;
export const selectReviewOp = (s: State) => s.reviewOp;
export const selectReviewConf = (s: State) => s.reviewOp.conf;
export const selectReviewMatching = (s: State) => s.reviewMatching;
export const selectReviewEval = (s: State) => s.reviewEval;
export const selectReviewTotals = (s: State) => s.reviewEval?.totals;
export const selectClassRows = (s: State) => s.reviewEval?.classes;
export const selectReviewFocus = (s: State) => s.reviewFocus;
export const selectReviewSort = (s: State) => s.reviewSort;
export const selectReviewErrors = (s: State) => s.reviewErrors;
export const selectReviewCompare = (s: State) => s.reviewCompare;
export const selectReviewOrder = (s: State) => s.reviewOrder;
export const selectReviewBaseline = (s: State) => s.reviewBaseline;
export const selectReviewComparison = (s: State) => s.reviewComparison;
export const selectReviewSave = (s: State) => s.reviewSave;
export const selectReviewBatch = (s: State) => s.reviewBatch;
export const selectReviewBatchError = (s: State) => s.reviewBatchError;
export const selectReviewClasses = (s: State) => s.reviewSet?.classes;
/** whether the source has ground truth (a folder has none) */
export const selectReviewLabelled = (s: State) => s.reviewMatching?.labelled ?? false;

/** Whether the operating point differs from the one saved in the model card. */
export function selectThresholdsDirty(s: State): boolean {
  const t = s.reviewInfo?.card?.thresholds;
  const op = s.reviewOp;
  if (!t) return true;
  if (t.default !== op.conf) return true;
  const a = Object.entries(t.perClass);
  const b = Object.entries(op.perClass);
  return a.length !== b.length || a.some(([k, v]) => op.perClass[k] !== v);
}
