/** App and workspace: start-up status, AppInfo, the workspace folder and its datasets, navigation. */
import type { AppInfo, WorkspaceInfo } from '../../../electron/shared/contract';
import { errorMessage } from '../lib/paths';
import { hashToPage, pageToHash, samePage, type Page } from './route';
import type { SliceCreator, State } from './store';

export type AppStatus = 'loading' | 'ready' | 'error';

export interface AppSlice {
  appStatus: AppStatus;
  appError: string | null;
  info: AppInfo | null;
  workspace: WorkspaceInfo | null;
  workspaceError: string | null;
  workspaceBusy: boolean;
  page: Page;
  /** loads app.info and workspace.get; sets data-app-state (e2e waits on it) */
  init(): Promise<void>;
  setWorkspace(path: string): Promise<boolean>;
  refreshWorkspace(): Promise<void>;
  workspaceChanged(info: WorkspaceInfo): void;
  /** native picker; null when there is none (serve mode): the UI then shows a path field */
  pick(kind: 'folder' | 'files', title?: string): Promise<string[] | null>;
  navigate(page: Page): void;
}

function setDocumentState(status: AppStatus) {
  document.documentElement.dataset.appState = status;
}

export const createAppSlice: SliceCreator<AppSlice> = (set, get, transport) => ({
  appStatus: 'loading',
  appError: null,
  info: null,
  workspace: null,
  workspaceError: null,
  workspaceBusy: false,
  page: hashToPage(window.location.hash),

  async init() {
    set({ appStatus: 'loading', appError: null });
    setDocumentState('loading');
    try {
      const [info, workspace] = await Promise.all([
        transport.call('app.info', {}),
        transport.call('workspace.get', {}),
      ]);
      set({ info, workspace, appStatus: 'ready' });
      setDocumentState('ready');
      // A reload on a dataset page: load it now that the transport answers.
      const page = get().page;
      if (page.name === 'dataset') void get().openDataset(page.dir);
    } catch (e) {
      set({ appStatus: 'error', appError: errorMessage(e) });
      setDocumentState('error');
    }
  },

  async setWorkspace(path) {
    set({ workspaceBusy: true, workspaceError: null });
    try {
      const workspace = await transport.call('workspace.set', { path });
      set({ workspace, info: get().info ? { ...get().info!, workspace: workspace.path } : null });
      return true;
    } catch (e) {
      set({ workspaceError: errorMessage(e) });
      return false;
    } finally {
      set({ workspaceBusy: false });
    }
  },

  async refreshWorkspace() {
    try {
      set({ workspace: await transport.call('workspace.get', {}), workspaceError: null });
    } catch (e) {
      set({ workspaceError: errorMessage(e) });
    }
  },

  workspaceChanged(workspace) {
    set({ workspace });
  },

  async pick(kind, title) {
    return transport.call('dialog.pick', { kind, title });
  },

  navigate(page) {
    if (samePage(page, get().page)) return;
    set({ page });
    const hash = pageToHash(page);
    if (window.location.hash !== hash) window.history.pushState(null, '', hash);
    if (page.name === 'dataset' && get().datasetDir !== page.dir) void get().openDataset(page.dir);
  },
});

export const selectAppStatus = (s: State) => s.appStatus;
export const selectAppError = (s: State) => s.appError;
export const selectInfo = (s: State) => s.info;
export const selectMode = (s: State) => s.info?.mode ?? 'serve';
export const selectWorkspace = (s: State) => s.workspace;
export const selectDatasets = (s: State) => s.workspace?.datasets;
export const selectPage = (s: State) => s.page;
export const selectPageName = (s: State) => s.page.name;
export const selectWorkspaceError = (s: State) => s.workspaceError;
export const selectWorkspaceBusy = (s: State) => s.workspaceBusy;
