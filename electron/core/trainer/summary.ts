/**
 * summary.md: the written record of one run, readable without the app — what it trained on, with
 * which settings, what came out (final, last and best epoch; per class), how long, in which
 * environment, and the user's note on why the run exists.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { RunMetrics } from '../../shared/contract.js';
import { writeFileAtomic } from '../fsutil.js';
import { bestRow, parseResultsCsv, pickMetrics, rowRecord } from './results.js';
import type { RunRecord } from './runs.js';
import type { DoneEvent } from './sidecar.js';

export const f3 = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(3));

export function formatDuration(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '–';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** Markdown table cell: no pipes or newlines breaking the row. */
export const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function metricsRow(title: string, m: RunMetrics | null): string {
  return `| ${title} | ${f3(m?.precision)} | ${f3(m?.recall)} | ${f3(m?.mAP50)} | ${f3(m?.mAP50_95)} |`;
}

export async function summaryMarkdown(dir: string, rec: RunRecord, done: DoneEvent | null): Promise<string> {
  const t = parseResultsCsv(await fs.readFile(path.join(dir, 'results.csv'), 'utf8').catch(() => ''));
  const epochCol = t.columns.indexOf('epoch');
  const epochOf = (i: number) => (epochCol >= 0 ? t.rows[i]?.[epochCol] : i + 1);
  const lastI = t.rows.length - 1;
  const bestI = bestRow(t);
  const ds = rec.dataset;
  const L: string[] = [];
  L.push(`# Run ${rec.name}`, '');
  L.push(`- label: ${rec.label}`);
  L.push(`- status: **${rec.status}** (${rec.epochs_completed} of ${String(rec.settings.epochs ?? '?')} epochs)${rec.resumes ? `, resumed ${rec.resumes}×` : ''}`);
  L.push(`- created: ${rec.created_at}; ended: ${rec.ended_at ?? '–'}; training time: ${formatDuration(rec.duration_seconds)}`);
  L.push(`- model: \`${rec.model}\`${rec.finetuned_from ? ` (fine-tuned from the run ${rec.finetuned_from})` : ''}`);
  L.push(`- note: ${rec.note.trim() ? rec.note.trim() : '(none)'}`);
  if (rec.error) L.push(`- error (${rec.error.code}): ${rec.error.message}${rec.error.hint ? ` — ${rec.error.hint}` : ''}`);
  L.push('', '## Data', '');
  L.push(`- data.yaml: \`${ds.data_yaml}\``);
  L.push(`- content hash: \`${ds.hash ?? '–'}\` (data.yaml without path:, split.json, every label file)`);
  L.push(`- split seed: ${ds.split_seed ?? 'not recorded (not a dataset Spotter wrote)'}`);
  L.push(`- training images: ${ds.train_images ?? '–'}`);
  L.push(`- classes (${ds.classes.length}): ${ds.classes.join(', ')}`);
  L.push(`- test split evaluated: ${rec.test_evaluated ? 'yes' : 'no'}`);
  L.push('', '## Settings', '', '| argument | value |', '|---|---|');
  for (const [k, v] of Object.entries(rec.settings)) L.push(`| ${cell(k)} | ${cell(String(v))} |`);
  L.push('', 'The equivalent command is in `command.sh`; every argument Ultralytics used is in `args.yaml`.');
  L.push('', '## Metrics', '', '| | precision | recall | mAP50 | mAP50-95 |', '|---|---|---|---|---|');
  // the final validation survives rewrites without the done event (after an evaluation, a failed resume)
  const final = done ? pickMetrics(done.metrics) : rec.final_metrics;
  if (final) L.push(metricsRow('final (best.pt on val)', final));
  if (lastI >= 0) L.push(metricsRow(`last epoch (${epochOf(lastI)})`, pickMetrics(rowRecord(t, lastI))));
  if (bestI >= 0) L.push(metricsRow(`best epoch (${epochOf(bestI)})`, pickMetrics(rowRecord(t, bestI))));
  if (!final && lastI < 0) L.push(metricsRow('(no validation yet)', null));
  if (rec.evaluations.length) {
    L.push('', '## Evaluations', '', 'Evaluations of best.pt: named evaluation sets of the dataset (never trained on; every run is validated on each), and explicit ones (`spotter val`); the test split is for the final check only.', '');
    L.push('| on | when | precision | recall | mAP50 | mAP50-95 | details |', '|---|---|---|---|---|---|---|');
    for (const ev of rec.evaluations) {
      const m = ev.metrics;
      const on = ev.split === 'set' ? `evaluation set ${ev.set ?? '?'}` : `${ev.split} split`;
      L.push(`| ${cell(on)} | ${cell(ev.at)} | ${f3(m?.precision)} | ${f3(m?.recall)} | ${f3(m?.mAP50)} | ${f3(m?.mAP50_95)} | \`${cell(ev.file)}\` |`);
    }
  }
  const perClass = done?.per_class.length ? done.per_class : rec.per_class;
  if (perClass.length) {
    L.push('', '## Per class (best.pt on val)', '', '| class | images | instances | P | R | AP50 | AP50-95 |', '|---|---|---|---|---|---|---|');
    for (const c of perClass) L.push(`| ${cell(c.name)} | ${c.images} | ${c.instances} | ${f3(c.p)} | ${f3(c.r)} | ${f3(c.ap50)} | ${f3(c.ap50_95)} |`);
  }
  const e = rec.env;
  L.push('', '## Environment', '');
  if (e) {
    L.push(`- python: \`${e.python}\` on ${e.platform}`);
    L.push(`- torch ${e.torch ?? '–'}, torchvision ${e.torchvision ?? '–'}, CUDA ${e.cuda ?? 'none'}${e.gpus.length ? ` (${e.gpus.join(', ')})` : ''}`);
    L.push(`- ultralytics ${e.ultralytics ?? '–'}, numpy ${e.numpy ?? '–'}`);
  }
  L.push(`- Spotter ${rec.spotter_version}`, '');
  return L.join('\n');
}

export async function writeSummaryMd(dir: string, rec: RunRecord, done: DoneEvent | null): Promise<void> {
  await writeFileAtomic(path.join(dir, 'summary.md'), await summaryMarkdown(dir, rec, done));
}
