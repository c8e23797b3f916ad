/**
 * One model, one onnxruntime session, one image at a time: decode + letterbox (preprocess.ts), run,
 * decode the outputs (decode.ts), detections in original pixels. Used inside each worker of the pool
 * (pool.ts) and in-process where no built worker exists (Vitest runs the TypeScript sources).
 *
 * Sessions run on the CPU; the CUDA execution provider is tried first when onnxruntime-node has its
 * CUDA provider library installed beside the binding (the npm package ships CPU only).
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { InferenceSession as OrtSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { Detection, ImagePrediction } from '../../shared/review.js';
import { boxMask, decodeEnd2End, decodeYolo, maskOutline, scaleBox, scalePolygon, type RawDet } from './decode.js';
import { readModelMeta, type ModelMeta } from './onnx-meta.js';
import { decodeRgb, letterboxTensor, type Letterbox } from './preprocess.js';

export interface PredictOptions {
  /** confidence threshold (kept: score > conf) */
  conf: number;
  /** NMS IoU */
  iou: number;
  /** at most this many detections per image (Ultralytics' max_det, 300) */
  maxDet?: number;
  /** segmentation models: outline polygons (default true) */
  polygons?: boolean;
}

export interface EngineOptions {
  /** onnxruntime intra-op threads (default: onnxruntime's choice) */
  threads?: number;
  /** try the CUDA execution provider where it is installed (default true) */
  cuda?: boolean;
}

/** Seconds spent per stage on one image. */
export interface StageTimes {
  pre: number;
  infer: number;
  post: number;
}

type Ort = typeof import('onnxruntime-node');
let ortPromise: Promise<Ort> | null = null;
/** onnxruntime-node is loaded on first use: listing models or reading metadata never needs it. */
export function ort(): Promise<Ort> {
  ortPromise ??= import('onnxruntime-node').then((m) => ((m as unknown as { default?: Ort }).default ?? m) as Ort);
  return ortPromise;
}

/** Whether onnxruntime-node's folder holds the CUDA provider library. */
export function cudaInstalled(): boolean {
  try {
    const require = createRequire(import.meta.url ?? path.join(process.cwd(), 'x.js'));
    const base = path.join(path.dirname(require.resolve('onnxruntime-node/package.json')), 'bin');
    const stack = [base];
    while (stack.length) {
      const d = stack.pop()!;
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) stack.push(path.join(d, e.name));
        else if (/onnxruntime_providers_cuda/.test(e.name)) return true;
      }
    }
  } catch {
    /* no CUDA */
  }
  return false;
}

export async function createSession(file: string, o: EngineOptions = {}): Promise<{ session: OrtSession; provider: 'cuda' | 'cpu' }> {
  const { InferenceSession } = await ort();
  const base: OrtSession.SessionOptions = { graphOptimizationLevel: 'all', ...(o.threads ? { intraOpNumThreads: o.threads, interOpNumThreads: 1 } : {}) };
  if (o.cuda !== false && cudaInstalled()) {
    try {
      return { session: await InferenceSession.create(file, { ...base, executionProviders: ['cuda', 'cpu'] }), provider: 'cuda' };
    } catch {
      /* fall back to the CPU */
    }
  }
  try {
    return { session: await InferenceSession.create(file, { ...base, executionProviders: ['cpu'] }), provider: 'cpu' };
  } catch (err) {
    throw new Error(`${file}: onnxruntime cannot load the model (${(err as Error).message.split('\n')[0]})`);
  }
}

export class Engine {
  private constructor(
    readonly meta: ModelMeta,
    private readonly session: OrtSession,
    private readonly TensorCtor: Ort['Tensor'],
    readonly provider: 'cuda' | 'cpu',
  ) {}

  static async open(model: string, o: EngineOptions = {}): Promise<Engine> {
    const meta = await readModelMeta(model);
    if (!existsSync(meta.path)) throw new Error(`${meta.path}: no such model file`);
    const { session, provider } = await createSession(meta.path, o);
    return new Engine(meta, session, (await ort()).Tensor, provider);
  }

  /** Letterboxed input of one image file. Throws `<file>: …` for an unreadable image. */
  async preprocess(file: string): Promise<{ tensor: Float32Array; lb: Letterbox }> {
    let img;
    try {
      img = await decodeRgb(file);
    } catch (err) {
      throw new Error(`${file}: not a readable image (${(err as Error).message.split('\n')[0]})`);
    }
    return letterboxTensor(img, this.meta.imgsz[0], this.meta.imgsz[1]);
  }

  /** Raw outputs for a prepared input. */
  async infer(tensor: Float32Array): Promise<OrtTensor[]> {
    const [h, w] = this.meta.imgsz;
    const feeds = { [this.session.inputNames[0]!]: new this.TensorCtor('float32', tensor, [1, 3, h, w]) };
    const out = await this.session.run(feeds);
    return this.session.outputNames.map((n) => out[n]!);
  }

  /** Outputs → detections in original pixels. */
  decode(outputs: OrtTensor[], lb: Letterbox, o: PredictOptions): Detection[] {
    const m = this.meta;
    const out0 = outputs[0]!;
    const data = out0.data as Float32Array;
    if (!(data instanceof Float32Array)) throw new Error(`${m.path}: output ${this.session.outputNames[0]} is ${out0.type}, expected float32`);
    const dims = out0.dims;
    const dec = { conf: o.conf, iou: o.iou, maxDet: o.maxDet ?? 300 };
    const nc = m.names.length;
    let raw: RawDet[] =
      m.layout === 'end2end' ? decodeEnd2End(data, Number(dims[1]), Number(dims[2]), m.nm, dec) : decodeYolo(data, Number(dims[1]), Number(dims[2]), nc, m.nm, dec);
    let polys: Array<number[] | undefined> = raw.map(() => undefined);
    if (m.nm && outputs[1]) {
      const p = outputs[1];
      const pd = p.dims.map(Number);
      const protos = p.data as Float32Array;
      const masks = raw.map((d) => boxMask(d, protos, pd[1]!, pd[2]!, pd[3]!, m.imgsz[0], m.imgsz[1]));
      // Ultralytics keeps only predictions with a non-empty mask
      const keep = masks.map((k) => k.any);
      polys = o.polygons === false ? masks.map(() => undefined) : masks.map((k) => scalePolygon(maskOutline(k), lb));
      raw = raw.filter((_, i) => keep[i]);
      polys = polys.filter((_, i) => keep[i]);
    }
    return raw.map((d, i) => {
      const det: Detection = { classId: d.cls, class: m.names[d.cls] ?? `class${d.cls}`, score: d.score, box: scaleBox(d, lb) };
      const poly = polys[i];
      if (poly) det.polygon = poly;
      return det;
    });
  }

  /** The whole pipeline on one image file. */
  async predictFile(file: string, o: PredictOptions, times?: StageTimes): Promise<ImagePrediction> {
    const t0 = performance.now();
    const { tensor, lb } = await this.preprocess(file);
    const t1 = performance.now();
    const outputs = await this.infer(tensor);
    const t2 = performance.now();
    const detections = this.decode(outputs, lb, o);
    const t3 = performance.now();
    if (times) {
      times.pre += (t1 - t0) / 1000;
      times.infer += (t2 - t1) / 1000;
      times.post += (t3 - t2) / 1000;
    }
    return { file, width: lb.width, height: lb.height, detections };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
