/**
 * The one place where transport events become state. Returns the unsubscribe.
 * job.progress -> jobs slice; job.finished (once per job) -> jobs slice, then the slices that own the job (import
 * navigates to the new dataset, dataset takes a fresh health report), then finished jobs are pruned;
 * workspace.changed -> app slice.
 */
import type { SpotterApi } from '../../../electron/shared/contract';
import type { SpotterStore } from './store';

export function subscribeEvents(transport: SpotterApi, store: SpotterStore): () => void {
  const offs = [
    transport.on('job.progress', (p) => store.getState().jobProgress(p)),
    transport.on('job.finished', (f) => {
      const s = store.getState();
      // serve mode replays recent job.finished events on every (re)connect: handle each job once
      if (!s.jobFinished(f)) return;
      s.importJobFinished(f);
      s.datasetJobFinished(f);
      s.pruneJobs();
    }),
    transport.on('workspace.changed', (w) => store.getState().workspaceChanged(w)),
  ];
  return () => {
    for (const off of offs) off();
  };
}
