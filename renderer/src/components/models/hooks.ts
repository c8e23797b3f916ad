/**
 * Local state for the export menu and the deployed-models list: calls go straight to the transport, and
 * a job this component started is followed through the transport's job.progress / job.finished events
 * (filtered by its id). Events that overtake the call's response are kept briefly and matched once the
 * id is known. Install log lines (`trainer.setupLog`) of the job are collected too.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { DeployedModel, ExportFormatInfo, JobFinished, JobKind, JobProgress } from '../../../../electron/shared/contract';
import { errorMessage } from '../../lib/paths';
import { useTransport } from '../../state/react';

export interface LocalJob<T> {
  jobId: string | null;
  kind: JobKind;
  status: 'starting' | 'running' | 'done' | 'failed' | 'cancelled';
  stage: string;
  done: number;
  total: number;
  result: T | null;
  error: string | null;
  log: string[];
}

const LOG_MAX = 400;

/** Start one job at a time and follow it; `start` returns its id (the call that starts it). */
export function useLocalJob<T>(kind: JobKind) {
  const transport = useTransport();
  const [job, setJob] = useState<LocalJob<T> | null>(null);
  const idRef = useRef<string | null>(null);
  const early = useRef<{ progress: Map<string, JobProgress>; finished: Map<string, JobFinished>; log: Map<string, string[]> }>({
    progress: new Map(),
    finished: new Map(),
    log: new Map(),
  });

  useEffect(() => {
    const apply = (f: JobFinished) =>
      setJob((j) =>
        j && j.jobId === f.jobId
          ? { ...j, status: f.status, result: f.status === 'done' ? ((f.result ?? null) as T | null) : null, error: f.error ?? (f.status === 'cancelled' ? 'cancelled' : null) }
          : j,
      );
    const offs = [
      transport.on('job.progress', (p) => {
        if (p.kind !== kind) return;
        if (p.jobId === idRef.current) setJob((j) => (j ? { ...j, status: 'running', stage: p.stage, done: p.done, total: p.total } : j));
        else if (idRef.current === null) early.current.progress.set(p.jobId, p);
      }),
      transport.on('job.finished', (f) => {
        if (f.kind !== kind) return;
        if (f.jobId === idRef.current) apply(f);
        else if (idRef.current === null) early.current.finished.set(f.jobId, f);
      }),
      transport.on('trainer.setupLog', ({ jobId, line }) => {
        if (jobId === idRef.current) setJob((j) => (j ? { ...j, log: [...j.log, line].slice(-LOG_MAX) } : j));
        else if (idRef.current === null) early.current.log.set(jobId, [...(early.current.log.get(jobId) ?? []), line].slice(-LOG_MAX));
      }),
    ];
    return () => {
      for (const off of offs) off();
    };
  }, [transport, kind]);

  const start = useCallback(async (call: () => Promise<{ jobId: string }>) => {
    idRef.current = null;
    early.current = { progress: new Map(), finished: new Map(), log: new Map() };
    setJob({ jobId: null, kind, status: 'starting', stage: 'starting', done: 0, total: 0, result: null, error: null, log: [] });
    try {
      const { jobId } = await call();
      idRef.current = jobId;
      const p = early.current.progress.get(jobId);
      const f = early.current.finished.get(jobId);
      const log = early.current.log.get(jobId) ?? [];
      setJob({
        jobId,
        kind,
        status: f ? f.status : 'running',
        stage: p?.stage ?? 'started',
        done: p?.done ?? 0,
        total: p?.total ?? 0,
        result: f?.status === 'done' ? ((f.result ?? null) as T | null) : null,
        error: f?.error ?? null,
        log,
      });
    } catch (err) {
      setJob((j) => (j ? { ...j, status: 'failed', error: errorMessage(err) } : j));
    }
  }, [kind]);

  const cancel = useCallback(async () => {
    if (idRef.current) await transport.call('jobs.cancel', { jobId: idRef.current }).catch(() => {});
  }, [transport]);

  const reset = useCallback(() => {
    idRef.current = null;
    setJob(null);
  }, []);

  return { job, start, cancel, reset };
}

/** models.formats, reloadable (after an install). */
export function useExportFormats() {
  const transport = useTransport();
  const [formats, setFormats] = useState<ExportFormatInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const reload = useCallback(async () => {
    setLoading(true);
    setError(null);
    try {
      setFormats(await transport.call('models.formats', {}));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setLoading(false);
    }
  }, [transport]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { formats, setFormats, error, loading, reload };
}

/** models.list, reloadable (after a deploy). */
export function useDeployedModels(refreshKey = 0) {
  const transport = useTransport();
  const [models, setModels] = useState<DeployedModel[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    try {
      setModels(await transport.call('models.list', {}));
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
    }
  }, [transport]);
  useEffect(() => {
    void reload();
  }, [reload, refreshKey]);
  return { models, error, reload };
}
