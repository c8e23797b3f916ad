/**
 * The one place where transport events become state. Returns the unsubscribe.
 * job.progress -> jobs slice; job.finished (once per job) -> jobs slice, then the slices that own the job (import
 * navigates to the new dataset, dataset takes a fresh health report), then finished jobs are pruned;
 * 'predict' and 'batch' jobs -> review slice;
 * workspace.changed -> app slice; run.event -> the run's live state, runs.changed -> the run list (runs
 * slice); sweeps.changed -> the sweep list (runs slice); trainer.setupLog -> the set-up log (train slice).
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
      s.trainJobFinished(f);
      s.runJobFinished(f);
      s.reviewJobFinished(f);
      s.pruneJobs();
    }),
    transport.on('workspace.changed', (w) => store.getState().workspaceChanged(w)),
    transport.on('run.event', (p) => store.getState().runEvent(p)),
    transport.on('runs.changed', (p) => store.getState().runsChanged(p)),
    transport.on('sweeps.changed', (p) => store.getState().sweepsChanged(p)),
    transport.on('trainer.setupLog', (p) => store.getState().setupLogLine(p)),
  ];
  return () => {
    for (const off of offs) off();
  };
}
