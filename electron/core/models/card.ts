/**
 * Model cards: `<stem>.card.json` beside a model file (the operating point — per-class thresholds —
 * ships with the weights), with a Markdown twin `<stem>.card.md` for people.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ModelCard } from '../../shared/review.js';
import { writeFileAtomic } from '../fsutil.js';

/** `model.onnx` → `model.card.json` (a folder export such as `best_openvino_model/` → `best_openvino_model.card.json`). */
export function cardPath(modelPath: string): string {
  const abs = path.resolve(modelPath).replace(/[\\/]+$/, '');
  const ext = path.extname(abs);
  return path.join(path.dirname(abs), `${path.basename(abs, ext)}.card.json`);
}

/** The card beside a model; null when there is none. A card that cannot be read is an error naming it. */
export async function readModelCard(modelPath: string): Promise<ModelCard | null> {
  const file = cardPath(modelPath);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let card: ModelCard;
  try {
    card = JSON.parse(text) as ModelCard;
  } catch (err) {
    throw new Error(`${file}: not a readable model card (${(err as Error).message})`);
  }
  if (card?.schema !== 1 || !card.thresholds || !Array.isArray(card.names)) throw new Error(`${file}: not a Spotter model card (schema 1)`);
  return card;
}

const pct = (x: number | undefined) => (typeof x === 'number' ? x.toFixed(3) : '—');

export function cardMarkdown(card: ModelCard): string {
  const lines = [
    `# ${card.name}${card.version ? ` (v${card.version})` : ''}`,
    '',
    `- file: \`${card.file}\` (${card.format}, ${card.task}, input ${card.imgsz[0]}×${card.imgsz[1]})`,
    `- classes (${card.names.length}): ${card.names.join(', ')}`,
    `- confidence threshold: ${card.thresholds.default} (NMS IoU ${card.thresholds.iou})`,
  ];
  const per = Object.entries(card.thresholds.perClass);
  if (per.length) lines.push(`- per-class thresholds: ${per.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (card.run) lines.push(`- trained in run \`${card.run.name}\` (${card.run.label}) on \`${card.run.dataset}\`${card.run.datasetHash ? ` (content hash ${card.run.datasetHash.slice(0, 12)})` : ''}`);
  if (card.metrics) {
    lines.push('', '| P | R | mAP50 | mAP50-95 |', '|---|---|---|---|', `| ${pct(card.metrics.precision)} | ${pct(card.metrics.recall)} | ${pct(card.metrics.mAP50)} | ${pct(card.metrics.mAP50_95)} |`);
  }
  if (card.perClass.length) {
    lines.push('', '| class | threshold | AP50 | AP50-95 |', '|---|---|---|---|');
    for (const c of card.perClass) lines.push(`| ${c.name} | ${card.thresholds.perClass[c.name] ?? card.thresholds.default} | ${pct(c.ap50)} | ${pct(c.ap50_95)} |`);
  }
  lines.push('', `Created ${card.createdAt}, updated ${card.updatedAt} by Spotter.`, '');
  return lines.join('\n');
}

/** Write the card (and its Markdown twin) beside the model, atomically. */
export async function writeModelCard(modelPath: string, card: ModelCard): Promise<string> {
  const file = cardPath(modelPath);
  await writeFileAtomic(file, JSON.stringify(card, null, 2) + '\n');
  await writeFileAtomic(file.replace(/\.json$/, '.md'), cardMarkdown(card));
  return file;
}
