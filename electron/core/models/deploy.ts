/**
 * Deploying: a run's export copied into the workspace's models/ as the next version of a name —
 * `<name>_v<N>.onnx` (a folder export keeps Ultralytics' suffix: `<name>_v<N>_openvino_model/`) — never
 * overwriting an earlier version, with its model card (`<name>_v<N>.card.json` and the Markdown twin).
 *
 * The version is taken with an exclusive link (files) or rename (folders) of a finished copy, so two deploys
 * at once get two versions and a failed copy leaves only its temporary sibling, which is removed.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DeployedModel, ModelCard } from '../../shared/review.js';
import type { CoreContext } from '../context.js';
import { exists, isInside } from '../fsutil.js';
import type { JobContext } from '../jobs/jobs.js';
import { loadAnyRun, sanitizeLabel } from '../trainer/runs.js';
import { cardPath, readModelCard, writeModelCard } from './card.js';
import { cardFromRun, exportModel, formatOfPath } from './export.js';

export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$/;

export function modelsDir(workspace: string): string {
  return path.join(workspace, 'models');
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `<name>_v<N>` followed by an extension, a folder-export suffix, or nothing: N; else null. */
export function versionOf(name: string, entry: string): number | null {
  const m = new RegExp(`^${escapeRe(name)}_v(\\d+)(\\.[^_]*|_[a-z]+_model(\\.card\\.(json|md))?)?$`).exec(entry);
  return m ? Number(m[1]) : null;
}

/** The deployed name of version N: the source's extension or folder suffix carried over. */
export function deployedName(name: string, version: number, source: string): string {
  const base = path.basename(source.replace(/[\\/]+$/, ''));
  const suffix = /(_[a-z]+_model)$/.exec(base)?.[1] ?? path.extname(base);
  return `${name}_v${version}${suffix}`;
}

export interface DeployOptions {
  /** a run folder */
  dir: string;
  /** the export to deploy (relative to the run's weights/ or the run, or absolute inside the run); default weights/best.onnx */
  file?: string;
  /** default: the run's label */
  name?: string;
}

async function copyInto(src: string, dst: string): Promise<void> {
  const st = await fs.stat(src);
  if (st.isDirectory()) await fs.cp(src, dst, { recursive: true, errorOnExist: true, force: false });
  else await fs.copyFile(src, dst, fs.constants.COPYFILE_EXCL);
}

/** Put the finished temporary copy at `final` unless something is there already (false then). */
async function claim(tmp: string, final: string, isDir: boolean): Promise<boolean> {
  try {
    if (isDir) {
      if (await exists(final)) return false;
      await fs.rename(tmp, final); // an empty folder at `final` would be replaced; a non-empty one refuses
    } else {
      await fs.link(tmp, final); // fails with EEXIST: never replaces a file
      await fs.rm(tmp, { force: true });
    }
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTEMPTY') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV') {
      // file systems without hard links: exclusive copy instead
      try {
        await fs.copyFile(tmp, final, fs.constants.COPYFILE_EXCL);
        await fs.rm(tmp, { force: true });
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw e;
      }
    }
    throw err;
  }
}

/** Resolve the export to deploy: inside the run folder only. */
async function sourceOf(ctx: CoreContext, runDir: string, file: string | undefined, job?: JobContext): Promise<string> {
  if (!file) {
    const onnx = path.join(runDir, 'weights', 'best.onnx');
    if (await exists(onnx)) return onnx;
    return (await exportModel(ctx, runDir, { format: 'onnx' }, job)).path;
  }
  const candidates = path.isAbsolute(file) ? [path.resolve(file)] : [path.resolve(runDir, 'weights', file), path.resolve(runDir, file)];
  for (const c of candidates) {
    if (!isInside(runDir, c)) throw new Error(`${c}: not inside the run ${runDir} (deploy one of the run's exports)`);
    if (await exists(c)) return c;
  }
  throw new Error(`${candidates[0]}: no such export in the run (export it first)`);
}

/** Copy a run's export into <workspace>/models as the next version of `name`, with its card. */
export async function deployModel(ctx: CoreContext, workspace: string, o: DeployOptions, job?: JobContext): Promise<DeployedModel> {
  const runDir = path.resolve(o.dir);
  const rec = await loadAnyRun(runDir);
  if (rec.status === 'running') throw new Error(`${runDir}: the run is still training; deploy it once it has ended`);
  const name = o.name ?? sanitizeLabel(rec.label || rec.name);
  if (!NAME_RE.test(name)) throw new Error(`model name "${name}": use letters, digits, _ . - (up to 60, starting with a letter or digit)`);
  const src = await sourceOf(ctx, runDir, o.file, job);
  const format = formatOfPath(src);
  const isDir = (await fs.stat(src)).isDirectory();
  const dir = modelsDir(workspace);
  await fs.mkdir(dir, { recursive: true });

  const tmp = path.join(dir, `.deploy-${randomUUID().slice(0, 8)}${isDir ? '' : path.extname(src)}`);
  let final = '';
  let version = 0;
  try {
    await copyInto(src, tmp);
    job?.throwIfCancelled();
    const taken = (await fs.readdir(dir)).map((e) => versionOf(name, e)).filter((v): v is number => v !== null);
    version = taken.length ? Math.max(...taken) + 1 : 1;
    for (;; version++) {
      final = path.join(dir, deployedName(name, version, src));
      // a card of this version without its model (a model deleted by hand) still holds the number
      if (!(await exists(cardPath(final))) && (await claim(tmp, final, isDir))) break;
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => {});
  }

  // best.torchscript and best.onnx share best.card.json: a card describes its own file only, but the operating
  // point (thresholds, tuned on the ONNX in the review) belongs to the weights and travels to every format
  const found = await readModelCard(src).catch(() => null);
  const srcCard = found && found.file === path.basename(src) ? found : null;
  const now = new Date().toISOString();
  const card: ModelCard = srcCard
    ? { ...srcCard, name: `${name}_v${version}`, version, file: path.basename(final), format, updatedAt: now, createdAt: now }
    : cardFromRun(rec, runDir, { name: `${name}_v${version}`, version, file: path.basename(final), format, imgsz: Number(rec.settings.imgsz) || 640, thresholds: found?.thresholds });
  // the run's record is the truth for metrics (a card written before an evaluation may be older)
  if (srcCard) {
    const fresh = cardFromRun(rec, runDir, { name: card.name, version, file: card.file, format, imgsz: srcCard.imgsz });
    card.metrics = fresh.metrics;
    card.perClass = fresh.perClass;
    card.run = fresh.run;
  }
  try {
    await writeModelCard(final, card);
  } catch (err) {
    await fs.rm(final, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
  return { path: final, name, version, format, card };
}

/** Deployed models (those with a versioned card), grouped by name, newest version first within each name. */
export async function listDeployed(workspace: string): Promise<DeployedModel[]> {
  const dir = modelsDir(workspace);
  const entries = await fs.readdir(dir).catch(() => [] as string[]);
  const out: DeployedModel[] = [];
  for (const e of entries) {
    if (!e.endsWith('.card.json') || e.startsWith('.')) continue;
    let card: ModelCard | null;
    try {
      card = JSON.parse(await fs.readFile(path.join(dir, e), 'utf8')) as ModelCard;
    } catch {
      continue; // a damaged card: not listed (review.models reports it)
    }
    if (card?.schema !== 1 || typeof card.version !== 'number' || !card.file) continue;
    const file = path.join(dir, card.file);
    if (!(await exists(file))) continue;
    const m = /^(.*)_v\d+$/.exec(card.name);
    out.push({ path: file, name: m ? m[1]! : card.name, version: card.version, format: card.format, card });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name) || b.version - a.version);
}
