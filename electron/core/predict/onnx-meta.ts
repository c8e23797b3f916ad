/**
 * What Spotter needs to know about an ONNX model before running it: Ultralytics' metadata (`imgsz`,
 * `stride`, `names`, `task`, `end2end`, export `args`) and the graph's input and output shapes.
 *
 * onnxruntime-node does not expose a model's custom metadata_props, so the ONNX protobuf is read here
 * with a minimal reader (no dependency): ModelProto.graph (7) and ModelProto.metadata_props (14, each
 * a StringStringEntryProto key=1 value=2); inside the graph only input (11) and output (12) are
 * decoded (ValueInfoProto name=1, type=2 → tensor_type=1 → shape=2 → dim=1 → dim_value=1 /
 * dim_param=2). Everything else (nodes, initializers: the bulk of the file) is skipped by length
 * with positional reads, so a 200 MB model costs a few small reads.
 *
 * Ultralytics writes `names` as a Python dict literal ("{0: 'person', 1: \"o'clock\"}") and `imgsz`
 * as a list ("[640, 640]"): a small Python-literal parser reads them.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ModelInfo, ModelTask } from '../../shared/review.js';
import { readModelCard } from '../models/card.js';

// ---------------------------------------------------------------- protobuf

class FileReader {
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  constructor(
    private readonly fh: fs.FileHandle,
    readonly size: number,
  ) {}

  /** bytes [pos, pos+n) (n small), reading ahead in 64 KiB blocks */
  async bytes(pos: number, n: number): Promise<Buffer> {
    if (pos < this.bufStart || pos + n > this.bufStart + this.buf.length) {
      const len = Math.min(Math.max(n, 65536), this.size - pos);
      const b = Buffer.alloc(Math.max(0, len));
      const { bytesRead } = await this.fh.read(b, 0, b.length, pos);
      this.buf = b.subarray(0, bytesRead);
      this.bufStart = pos;
    }
    const off = pos - this.bufStart;
    if (off + n > this.buf.length) throw new Error('truncated');
    return this.buf.subarray(off, off + n);
  }

  async varint(pos: number): Promise<[number, number]> {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = (await this.bytes(pos + i, 1))[0]!;
      result += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) return [result, pos + i + 1];
    }
    throw new Error('bad varint');
  }
}

interface Field {
  no: number;
  wire: number;
  /** varint value, or the length of a length-delimited field */
  value: number;
  /** where a length-delimited payload starts */
  start: number;
  /** the position after the field */
  end: number;
}

async function* fields(r: FileReader, start: number, end: number): AsyncGenerator<Field> {
  let pos = start;
  while (pos < end) {
    const [key, p1] = await r.varint(pos);
    const no = Math.floor(key / 8);
    const wire = key & 7;
    if (no === 0) throw new Error('bad field number');
    if (wire === 0) {
      const [v, p2] = await r.varint(p1);
      yield { no, wire, value: v, start: p1, end: p2 };
      pos = p2;
    } else if (wire === 2) {
      const [len, p2] = await r.varint(p1);
      if (p2 + len > end) throw new Error('field runs past its message');
      yield { no, wire, value: len, start: p2, end: p2 + len };
      pos = p2 + len;
    } else if (wire === 1) {
      yield { no, wire, value: 0, start: p1, end: p1 + 8 };
      pos = p1 + 8;
    } else if (wire === 5) {
      yield { no, wire, value: 0, start: p1, end: p1 + 4 };
      pos = p1 + 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  if (pos !== end) throw new Error('message overruns its length');
}

async function str(r: FileReader, f: Field): Promise<string> {
  return (await r.bytes(f.start, f.value)).toString('utf8');
}

export interface TensorInfo {
  name: string;
  /** a number, or null for a symbolic/unknown dimension */
  dims: Array<number | null>;
}

async function valueInfo(r: FileReader, f: Field): Promise<TensorInfo> {
  const out: TensorInfo = { name: '', dims: [] };
  for await (const g of fields(r, f.start, f.end)) {
    if (g.no === 1 && g.wire === 2) out.name = await str(r, g);
    else if (g.no === 2 && g.wire === 2) {
      for await (const t of fields(r, g.start, g.end)) {
        if (t.no !== 1 || t.wire !== 2) continue; // tensor_type
        for await (const s of fields(r, t.start, t.end)) {
          if (s.no !== 2 || s.wire !== 2) continue; // shape
          for await (const d of fields(r, s.start, s.end)) {
            if (d.no !== 1 || d.wire !== 2) continue; // dim
            let v: number | null = null;
            for await (const x of fields(r, d.start, d.end)) if (x.no === 1 && x.wire === 0) v = x.value;
            out.dims.push(v);
          }
        }
      }
    }
  }
  return out;
}

export interface OnnxHeader {
  metadata: Record<string, string>;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  producer: string;
}

/** Read an ONNX file's metadata_props and graph inputs/outputs. Throws `<file>: not an ONNX model (…)`. */
export async function readOnnxHeader(file: string): Promise<OnnxHeader> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${file}: ${code === 'ENOENT' ? 'no such model file' : code === 'EISDIR' ? 'a folder, not an ONNX model file' : (err as Error).message}`);
  }
  try {
    const size = (await fh.stat()).size;
    const r = new FileReader(fh, size);
    const out: OnnxHeader = { metadata: {}, inputs: [], outputs: [], producer: '' };
    let sawIr = false;
    let sawGraph = false;
    try {
      for await (const f of fields(r, 0, size)) {
        if (f.no === 1 && f.wire === 0) sawIr = true;
        else if (f.no === 2 && f.wire === 2) out.producer = await str(r, f);
        else if (f.no === 7 && f.wire === 2) {
          sawGraph = true;
          for await (const g of fields(r, f.start, f.end)) {
            if (g.no === 11 && g.wire === 2) out.inputs.push(await valueInfo(r, g));
            else if (g.no === 12 && g.wire === 2) out.outputs.push(await valueInfo(r, g));
          }
        } else if (f.no === 14 && f.wire === 2) {
          let k = '';
          let v = '';
          for await (const e of fields(r, f.start, f.end)) {
            if (e.no === 1 && e.wire === 2) k = await str(r, e);
            else if (e.no === 2 && e.wire === 2) v = await str(r, e);
          }
          out.metadata[k] = v;
        }
      }
    } catch (err) {
      throw new Error(`${file}: not an ONNX model (${(err as Error).message})`);
    }
    if (!sawIr || !sawGraph) throw new Error(`${file}: not an ONNX model (no ${sawIr ? 'graph' : 'ir_version'})`);
    // initializers are graph inputs in old exports: the real input is the one with 4 dims
    out.inputs = out.inputs.filter((i) => i.dims.length === 4).concat(out.inputs.filter((i) => i.dims.length !== 4));
    return out;
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------- Python literals

export type PyValue = string | number | boolean | null | PyValue[] | { [k: string]: PyValue };

/** Parse a Python literal as repr() writes it: dicts, lists, tuples, str, int, float, None, True, False. */
export function parsePyLiteral(text: string): PyValue {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`${what} at ${i} in ${text.length > 60 ? text.slice(0, 60) + '…' : text}`);
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const o: Record<string, PyValue> = {};
      ws();
      while (text[i] !== '}') {
        const k = value();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        o[String(k)] = value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail("expected ',' or '}'");
        ws();
      }
      i++;
      return o;
    }
    if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')';
      i++;
      const a: PyValue[] = [];
      ws();
      while (text[i] !== close) {
        a.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`expected ',' or '${close}'`);
        ws();
      }
      i++;
      return a;
    }
    if (c === "'" || c === '"') {
      const q = c;
      i++;
      let s = '';
      while (i < text.length && text[i] !== q) {
        if (text[i] === '\\') {
          const e = text[i + 1];
          i += 2;
          if (e === 'n') s += '\n';
          else if (e === 't') s += '\t';
          else if (e === 'r') s += '\r';
          else if (e === 'x' || e === 'u' || e === 'U') {
            const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
            s += String.fromCodePoint(parseInt(text.slice(i, i + n), 16));
            i += n;
          } else s += e ?? '';
        } else s += text[i++];
      }
      if (text[i] !== q) fail('unterminated string');
      i++;
      return s;
    }
    const m = /^(None|True|False|[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|inf|nan))/.exec(text.slice(i));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    const t = m[0];
    return t === 'None' ? null : t === 'True' ? true : t === 'False' ? false : Number(t);
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}

// ---------------------------------------------------------------- model meta

export interface ModelMeta {
  path: string;
  task: ModelTask;
  imgsz: [number, number];
  stride: number;
  names: string[];
  layout: 'yolo' | 'end2end';
  inputName: string;
  /** number of mask coefficients (segmentation), 0 for detection */
  nm: number;
  outputs: TensorInfo[];
  /** the raw metadata_props */
  metadata: Record<string, string>;
}

function asPair(v: PyValue | undefined): [number, number] | null {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length >= 2 && typeof v[0] === 'number' && typeof v[1] === 'number') return [v[0], v[1]];
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'number') return [v[0], v[0]];
  return null;
}

function tryParse(text: string | undefined): PyValue | undefined {
  if (text === undefined) return undefined;
  try {
    return parsePyLiteral(text);
  } catch {
    return undefined;
  }
}

/** Everything Spotter needs to run an ONNX model, from its metadata and graph. Errors name the file. */
export async function readModelMeta(file: string): Promise<ModelMeta> {
  const abs = path.resolve(file);
  const h = await readOnnxHeader(abs);
  const md = h.metadata;
  const input = h.inputs[0];
  if (!input || input.dims.length !== 4) throw new Error(`${abs}: not an image model (no 1×3×H×W input)`);
  if (h.outputs.length === 0) throw new Error(`${abs}: the model has no outputs`);
  const inH = input.dims[2];
  const inW = input.dims[3];
  const imgsz = asPair(tryParse(md.imgsz)) ?? (inH && inW ? ([inH, inW] as [number, number]) : null);
  if (!imgsz) throw new Error(`${abs}: no input size (no Ultralytics 'imgsz' metadata and a dynamic input)`);
  if (inH && inW && (inH !== imgsz[0] || inW !== imgsz[1])) {
    // a fixed input wins over metadata that disagrees with it
    imgsz[0] = inH;
    imgsz[1] = inW;
  }
  const args = tryParse(md.args);
  const nmsExport = !!args && typeof args === 'object' && !Array.isArray(args) && args.nms === true;
  const out0 = h.outputs[0]!.dims;
  const out1 = h.outputs[1]?.dims;
  const hasProtos = !!out1 && out1.length === 4;
  const nm = hasProtos ? (out1[1] ?? 32) : 0;
  const task: ModelTask = md.task === 'segment' || (md.task === undefined && hasProtos) ? 'segment' : 'detect';
  if (md.task && md.task !== 'detect' && md.task !== 'segment') throw new Error(`${abs}: a '${md.task}' model; Spotter runs detection and segmentation models`);
  const last = out0[out0.length - 1];
  const end2end = md.end2end === 'True' || nmsExport || last === 6 || (hasProtos && last === 6 + nm && (out0[1] ?? 0) <= 1000);
  // names: metadata, else class0… from the output width
  let names: string[] = [];
  const pn = tryParse(md.names);
  if (pn && typeof pn === 'object' && !Array.isArray(pn)) {
    const entries = Object.entries(pn).map(([k, v]) => [Number(k), String(v)] as const);
    const n = entries.reduce((m, [k]) => Math.max(m, k + 1), 0);
    names = Array.from({ length: n }, (_, i) => `class${i}`);
    for (const [k, v] of entries) if (Number.isInteger(k) && k >= 0) names[k] = v;
  } else if (Array.isArray(pn)) names = pn.map(String);
  if (names.length === 0) {
    if (end2end || out0[1] == null) throw new Error(`${abs}: no class names (no Ultralytics 'names' metadata)`);
    names = Array.from({ length: out0[1] - 4 - nm }, (_, i) => `class${i}`);
  }
  if (!end2end && out0[1] != null && out0[1] !== 4 + names.length + nm) {
    throw new Error(`${abs}: output ${h.outputs[0]!.name} has ${out0[1]} channels, expected 4 + ${names.length} classes${nm ? ` + ${nm} mask coefficients` : ''}`);
  }
  const stride = Number(md.stride) || 32;
  return { path: abs, task, imgsz, stride, names, layout: end2end ? 'end2end' : 'yolo', inputName: input.name, nm, outputs: h.outputs, metadata: md };
}

/** The contract's ModelInfo: the metadata plus the card beside the file. */
export async function modelInfo(file: string): Promise<ModelInfo> {
  const m = await readModelMeta(file);
  return { path: m.path, task: m.task, imgsz: m.imgsz, stride: m.stride, names: m.names, layout: m.layout, card: await readModelCard(m.path) };
}
