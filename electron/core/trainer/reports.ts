/**
 * Across runs: REPORT.md (one table of every run), comparison with the baseline (per metric and per
 * class, with a verdict), and the duration estimate shown before Start.
 */
import path from 'node:path';
import type { MetricDelta, RunComparison, RunEstimate, RunMetrics, RunSummary } from '../../shared/contract.js';
import type { EnvReport } from '../../shared/trainer.js';
import { writeFileAtomic } from '../fsutil.js';
import type { TimingSource } from './bench.js';
import { datasetInfo } from './dataset.js';
import { getBaseline, listRuns, loadAnyRun, resolveDevice, runsDir, toSummary, type RunRecord, type TrainRequestParsed } from './runs.js';
import { cell, f3, formatDuration } from './summary.js';

const METRIC_KEYS: Array<keyof RunMetrics> = ['precision', 'recall', 'mAP50', 'mAP50_95'];
const EPS = 1e-9;

// ------------------------------------------------------------------ REPORT.md

export async function reportMarkdown(workspace: string): Promise<string> {
  const runs = (await listRuns(workspace)).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
  const base = runs.find((r) => r.isBaseline) ?? null;
  const L: string[] = ['# Runs', ''];
  L.push(`Workspace \`${workspace}\`, ${runs.length} run(s), written ${new Date().toISOString()}.`);
  L.push(base ? `Baseline (★): ${base.name}; Δ is mAP50-95 against it.` : 'No baseline chosen yet (promote a run to baseline to see Δ).');
  L.push('', 'Metrics are the final validation of best.pt (best epoch so far for unfinished runs), on the val split.', '');
  // a column per named evaluation set any run was validated on (datasets' sets kept out of training)
  const sets = [...new Set(runs.flatMap((r) => Object.keys(r.evalSets)))].sort();
  if (sets.length) L.push(`Evaluation sets (mAP50-95 of best.pt on images never trained on): ${sets.join(', ')}.`, '');
  L.push(`| date (UTC) | label | status | model | imgsz | epochs | dataset | mAP50 | mAP50-95 | Δ | P | R |${sets.map((s) => ` ${cell(s)} mAP50-95 |`).join('')} duration | note |`);
  L.push(`|---|---|---|---|---|---|---|---|---|---|---|---|${sets.map(() => '---|').join('')}---|---|`);
  for (const r of runs) {
    const m = r.metrics;
    const delta = base && m && base.metrics && !r.isBaseline ? signed(m.mAP50_95 - base.metrics.mAP50_95) : '';
    const ds = `${path.basename(path.dirname(r.dataset))}${r.datasetHash ? ` \`${r.datasetHash.replace(/^sha256:/, '').slice(0, 8)}\`` : ''}`;
    L.push(
      `| ${r.createdAt.slice(0, 16).replace('T', ' ')} | ${r.isBaseline ? '★ ' : ''}${cell(r.label)} | ${r.status} | ${cell(path.basename(r.model))} | ${r.imgsz} | ${r.epochsCompleted}/${r.epochs} | ${cell(ds)} | ${f3(m?.mAP50)} | ${f3(m?.mAP50_95)} | ${delta} | ${f3(m?.precision)} | ${f3(m?.recall)} |${sets.map((s) => ` ${s in r.evalSets ? f3(r.evalSets[s]?.mAP50_95) : ''} |`).join('')} ${formatDuration(r.durationSeconds)} | ${cell(r.note)} |`,
    );
  }
  L.push('');
  return L.join('\n');
}

/** Writes `<workspace>/runs/REPORT.md`; returns its path. */
export async function writeReport(workspace: string): Promise<string> {
  const file = path.join(runsDir(workspace), 'REPORT.md');
  await writeFileAtomic(file, await reportMarkdown(workspace));
  return file;
}

function signed(v: number): string {
  return `${v > EPS ? '+' : v < -EPS ? '' : '±'}${v.toFixed(3)}`;
}

// ------------------------------------------------------------------ compare

function delta(base: number, run: number): MetricDelta {
  return { base, run, delta: run - base };
}

export function verdictOf(d: number, threshold: number): 'better' | 'same' | 'degraded' {
  if (d < -threshold - EPS) return 'degraded';
  if (d > threshold + EPS) return 'better';
  return 'same';
}

export function compareRecords(
  baseline: { summary: RunSummary; rec: RunRecord },
  runs: Array<{ summary: RunSummary; rec: RunRecord }>,
  threshold: number,
): RunComparison {
  const bm = baseline.rec.metrics;
  if (!bm) throw new Error(`${baseline.summary.dir}: the baseline has no metrics (it ended before its first validation)`);
  return {
    baseline: baseline.summary,
    threshold,
    runs: runs.map(({ summary, rec }) => {
      const m = rec.metrics;
      if (!m) throw new Error(`${summary.dir}: the run has no metrics (it ended before its first validation)`);
      const metrics = Object.fromEntries(METRIC_KEYS.map((k) => [k, delta(bm[k], m[k])])) as Record<keyof RunMetrics, MetricDelta>;
      const names = [...baseline.rec.per_class.map((c) => c.name)];
      for (const c of rec.per_class) if (!names.includes(c.name)) names.push(c.name);
      const perClass = names.map((name) => {
        const b = baseline.rec.per_class.find((c) => c.name === name);
        const r = rec.per_class.find((c) => c.name === name);
        return { name, ap50: b && r ? delta(b.ap50, r.ap50) : null, ap50_95: b && r ? delta(b.ap50_95, r.ap50_95) : null };
      });
      return { run: summary, metrics, perClass, verdict: verdictOf(metrics.mAP50_95.delta, threshold) };
    }),
  };
}

/**
 * Compare runs with the baseline (the one given, else the workspace's). With no runs named, every
 * other run that has metrics is compared.
 */
export async function compareRuns(workspace: string, opts: { baseline?: string; runs?: string[]; threshold?: number }): Promise<RunComparison> {
  const threshold = opts.threshold ?? 0.01;
  const baseDir = opts.baseline ? path.resolve(opts.baseline) : await getBaseline(workspace);
  if (!baseDir) throw new Error('no baseline: promote a run to baseline first, or name one');
  const wsBaseline = await getBaseline(workspace);
  const load = async (dir: string) => {
    const rec = await loadAnyRun(dir);
    return { rec, summary: toSummary(dir, rec, wsBaseline) };
  };
  const baseline = await load(baseDir);
  let dirs = (opts.runs ?? []).map((d) => path.resolve(d));
  if (!dirs.length) dirs = (await listRuns(workspace)).filter((r) => r.metrics && path.resolve(r.dir) !== baseDir).map((r) => r.dir);
  return compareRecords(baseline, await Promise.all(dirs.map(load)), threshold);
}

export function comparisonText(c: RunComparison): string {
  const mark = (d: number) => (d > EPS ? '↑' : d < -EPS ? '↓' : '=');
  const L = [`baseline: ${c.baseline.name} (${c.baseline.label}) mAP50-95 ${f3(c.baseline.metrics?.mAP50_95)}; degraded when mAP50-95 drops by more than ${c.threshold}`];
  for (const r of c.runs) {
    L.push('', `${r.run.name} (${r.run.label}): ${r.verdict.toUpperCase()}`);
    for (const k of METRIC_KEYS) {
      const d = r.metrics[k];
      L.push(`  ${k.padEnd(10)} ${f3(d.base)} → ${f3(d.run)}  ${mark(d.delta)} ${signed(d.delta)}`);
    }
    for (const p of r.perClass) {
      const a = p.ap50_95;
      L.push(`  class ${p.name}: AP50-95 ${a ? `${f3(a.base)} → ${f3(a.run)} ${mark(a.delta)} ${signed(a.delta)}` : 'only in one of the runs'}`);
    }
  }
  return L.join('\n') + '\n';
}

// ------------------------------------------------------------------ estimate

/** Seconds per training image per epoch for a yolov8n-size model at imgsz 640 (rules of thumb). */
const RULE_S_PER_IMAGE: Record<'cuda' | 'mps' | 'cpu', number> = { cuda: 0.004, mps: 0.03, cpu: 0.2 };
const SIZE_FACTOR: Record<string, number> = { n: 1, s: 2.5, m: 6, l: 10, x: 15 };
/** process start, dataset scan and the final validation */
const OVERHEAD_S = 30;
/** validating an image costs about this share of training on it (forward only, plus NMS and matching) */
const VAL_SHARE = 0.5;

function modelKey(model: string): string {
  return path.basename(model).replace(/\.(ya?ml|pt)$/i, '').toLowerCase();
}

function sizeFactor(model: string): number {
  const m = /^yolo(?:v\d+|\d+)([nsmlx])/.exec(modelKey(model));
  return SIZE_FACTOR[m?.[1] ?? 'n'] ?? 1;
}

function deviceClass(device: string): 'cuda' | 'mps' | 'cpu' {
  return device === 'cpu' ? 'cpu' : device === 'mps' ? 'mps' : 'cuda';
}

/**
 * How long a run will take, in order of preference: earlier runs of the same model on this kind of
 * device at the same imgsz; a short timing on this machine (`timing`, cached per model, imgsz, batch,
 * device and environment); earlier runs at another imgsz, scaled; a rule of thumb.
 */
export async function estimateRun(workspace: string, req: TrainRequestParsed, env: EnvReport | null, opts: { timing?: TimingSource } = {}): Promise<RunEstimate> {
  const ds = await datasetInfo(req.dataset, { hash: false });
  const images = ds.trainImages ?? 0;
  const resolved = env ? resolveDevice(req.device, req.batch, env) : { device: req.device === 'auto' ? 'cpu' : req.device, batch: req.batch < 1 ? 8 : req.batch };
  const device = resolved.device;
  const cls = deviceClass(device);
  const key = modelKey(req.model);

  // earlier runs on this machine: seconds per image-epoch, same model and device kind
  const earlier: Array<{ rate: number; imgsz: number }> = [];
  for (const r of await listRuns(workspace)) {
    if (!['done', 'stopped'].includes(r.status) || !r.durationSeconds || r.epochsCompleted < 1 || modelKey(r.model) !== key) continue;
    const rec = await loadAnyRun(r.dir).catch(() => null);
    const n = rec?.dataset.train_images;
    if (!rec || !n || deviceClass(String(rec.settings.device ?? '')) !== cls) continue;
    earlier.push({ rate: Math.max(0, r.durationSeconds - OVERHEAD_S) / (n * r.epochsCompleted), imgsz: r.imgsz });
  }
  const same = earlier.filter((e) => e.imgsz === req.imgsz);
  const pool = same.length ? same : earlier;
  let rate = 0;
  let basis = '';
  let overhead = OVERHEAD_S;
  let timingNote: string | null = null;
  if (!same.length && opts.timing) {
    const t = await opts.timing({ dataYaml: ds.dataYaml, model: req.model, imgsz: req.imgsz, device, batch: resolved.batch, workers: req.workers });
    if (t.timing) {
      const tm = t.timing;
      // training images plus the validation after every epoch (and the final one), at the timed rate
      const valPerEpoch = tm.valImages * tm.secondsPerImage * VAL_SHARE;
      rate = tm.secondsPerImage + (images > 0 ? valPerEpoch / images : 0);
      overhead = tm.setupSeconds + valPerEpoch;
      basis = `${t.cached ? 'timed earlier' : 'timed'} ${tm.batches} batches of ${tm.batch} on this machine (${cls}, imgsz ${req.imgsz}): ${tm.secondsPerImage.toFixed(3)} s/img, plus validation of ${tm.valImages} image(s) per epoch`;
    } else timingNote = t.note;
  }
  if (basis) {
    /* timed */
  } else if (pool.length) {
    const rates = pool.map((e) => e.rate * (req.imgsz / e.imgsz) ** 2).sort((a, b) => a - b);
    rate = rates[Math.floor(rates.length / 2)]!;
    basis = `from ${pool.length} earlier ${key} run(s) on this machine (${cls}${same.length ? `, imgsz ${req.imgsz}` : ', scaled by image size'}): ${(rate * 1000).toFixed(1)} ms per image-epoch`;
  } else {
    rate = RULE_S_PER_IMAGE[cls] * sizeFactor(req.model) * (req.imgsz / 640) ** 2;
    basis = `rule of thumb for ${key} on ${cls === 'cuda' ? 'an NVIDIA GPU' : cls === 'mps' ? 'Apple MPS' : 'the CPU'} at imgsz ${req.imgsz} (no earlier run to measure from)`;
  }
  if (timingNote) basis += ` (${timingNote})`;
  const seconds = Math.round(overhead + rate * images * req.epochs);
  basis += `; ${images} training images × ${req.epochs} epoch(s)`;
  const notes: string[] = [];
  if (cls === 'cpu') notes.push(`This run trains on the CPU only, which is many times slower than a GPU: about ${formatDuration(seconds)}.`);
  else if (seconds > 3600) notes.push(`This run will take about ${formatDuration(seconds)}.`);
  if (cls === 'cpu' && seconds > 3600) notes.push('Consider fewer epochs or a smaller imgsz for a first try.');
  return { seconds, basis, confirm: notes.length ? `${notes.join(' ')} Start anyway?` : null };
}
