/**
 * The renderer's one zustand store, composed of slices per area. Each slice lives in its own module
 * with its selectors (named functions); transport events are turned into state in `events.ts` only.
 * The store is created per transport (not a module singleton) so it can be built for tests too.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Transport } from '../api/types';
import { createAppSlice, type AppSlice } from './app';
import { createJobsSlice, type JobsSlice } from './jobs';
import { createImportSlice, type ImportSlice } from './import';
import { createDatasetSlice, type DatasetSlice } from './dataset';
import { createTrainSlice, type TrainSlice } from './train';
import { createRunsSlice, type RunsSlice } from './runs';
import { createReviewSlice, type ReviewSlice } from './review';

export type State = AppSlice & JobsSlice & ImportSlice & DatasetSlice & TrainSlice & RunsSlice & ReviewSlice;
export type SetState = StoreApi<State>['setState'];
export type GetState = StoreApi<State>['getState'];
export type SliceCreator<T> = (set: SetState, get: GetState, transport: Transport) => T;
export type SpotterStore = StoreApi<State>;

export function createSpotterStore(transport: Transport): SpotterStore {
  return createStore<State>()((set, get) => ({
    ...createAppSlice(set, get, transport),
    ...createJobsSlice(set, get, transport),
    ...createImportSlice(set, get, transport),
    ...createDatasetSlice(set, get, transport),
    ...createTrainSlice(set, get, transport),
    ...createRunsSlice(set, get, transport),
    ...createReviewSlice(set, get, transport),
  }));
}
