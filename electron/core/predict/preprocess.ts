/**
 * Preprocessing exactly as Ultralytics does it for an ONNX model (engine/predictor.py pre_transform +
 * data/augment.py LetterBox + predictor.preprocess): decode (EXIF orientation applied, as OpenCV's
 * imread does), resize with OpenCV's INTER_LINEAR, pad centred with 114, RGB, /255, CHW float32.
 *
 * The resize is written here rather than done by sharp: libvips' linear kernel widens when shrinking
 * (antialiasing) and sharp shrinks JPEGs on load, so its pixels differ from cv2.resize and the model's
 * outputs with them. This is cv2's fixed-point bilinear resize for 8-bit images (11-bit coefficients,
 * the vertical pass as its SIMD path computes it), bit-exact with cv2.resize on the images we test.
 */
import sharp from 'sharp';

/** How an image was letterboxed into the network input (Ultralytics' ratio_pad). */
export interface Letterbox {
  /** original size */
  width: number;
  height: number;
  /** resized content size (before padding) */
  newW: number;
  newH: number;
  /** padding on the left and top (pixels of the network input) */
  padX: number;
  padY: number;
  /** network input size */
  inW: number;
  inH: number;
}

/** Python's round(): half to even. */
export function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** LetterBox.get_params (auto=False: exported models have a fixed input; centre, scaleup). */
export function letterboxParams(width: number, height: number, inH: number, inW: number): Letterbox {
  const r = Math.min(inH / height, inW / width);
  const newW = Math.max(pyRound(width * r), 1);
  const newH = Math.max(pyRound(height * r), 1);
  const dw = (inW - newW) / 2;
  const dh = (inH - newH) / 2;
  return { width, height, newW, newH, padX: pyRound(dw - 0.1), padY: pyRound(dh - 0.1), inW, inH };
}

const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS;
const f32 = Math.fround;

/** cvRound for the coefficient cast (saturate_cast<short>(float)): round half to even. */
function cvRound(x: number): number {
  return pyRound(x);
}

interface Taps {
  ofs: Int32Array;
  a0: Int16Array;
  a1: Int16Array;
}

/** The source index and the two fixed-point weights for each destination position (cv2 resize.cpp). */
function taps(src: number, dst: number, clampFraction: boolean): Taps {
  const scale = 1 / (dst / src);
  const ofs = new Int32Array(dst);
  const a0 = new Int16Array(dst);
  const a1 = new Int16Array(dst);
  for (let d = 0; d < dst; d++) {
    let f = f32((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = f32(f - s);
    if (clampFraction) {
      // columns: outside the image the weight goes to the edge pixel alone
      if (s < 0) {
        f = 0;
        s = 0;
      }
      if (s >= src - 1) {
        f = 0;
        s = src - 1;
      }
    }
    // rows keep their fraction; the row indices are clamped when read (resizeGeneric_Invoker)
    ofs[d] = s;
    a0[d] = cvRound(f32(1 - f) * COEF_SCALE);
    a1[d] = cvRound(f * COEF_SCALE);
  }
  return { ofs, a0, a1 };
}

/** int32 → int16 with saturation (v_pack). */
const sat16 = (v: number) => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);

/**
 * cv2.resize(src, (dw, dh), interpolation=INTER_LINEAR) for interleaved 8-bit images with `cn` channels.
 */
export function resizeLinear(src: Uint8Array, sw: number, sh: number, cn: number, dw: number, dh: number): Uint8Array {
  const out = new Uint8Array(dw * dh * cn);
  if (sw === dw && sh === dh) {
    out.set(src.subarray(0, out.length));
    return out;
  }
  const tx = taps(sw, dw, true);
  const ty = taps(sh, dh, false);
  const rowLen = dw * cn;
  // horizontal pass results for the source rows in use (cached: consecutive output rows share them)
  const rows = [new Int32Array(rowLen), new Int32Array(rowLen)];
  const rowOf = [-1, -1];
  const hresize = (sy: number, buf: Int32Array) => {
    const base = sy * sw * cn;
    for (let dx = 0; dx < dw; dx++) {
      const s = base + tx.ofs[dx]! * cn;
      const a0 = tx.a0[dx]!;
      const a1 = tx.a1[dx]!;
      const o = dx * cn;
      if (a1 === 0) for (let k = 0; k < cn; k++) buf[o + k] = src[s + k]! * a0;
      else for (let k = 0; k < cn; k++) buf[o + k] = src[s + k]! * a0 + src[s + cn + k]! * a1;
    }
  };
  const getRow = (sy: number): Int32Array => {
    for (let i = 0; i < 2; i++) if (rowOf[i] === sy) return rows[i]!;
    // replace the row not needed next (the lower source index)
    const slot = rowOf[0]! < rowOf[1]! ? 0 : 1;
    rowOf[slot] = sy;
    hresize(sy, rows[slot]!);
    return rows[slot]!;
  };
  for (let dy = 0; dy < dh; dy++) {
    const sy = ty.ofs[dy]!;
    const b0 = ty.a0[dy]!;
    const b1 = ty.a1[dy]!;
    const y0 = Math.min(Math.max(sy, 0), sh - 1);
    const y1 = Math.min(Math.max(sy + 1, 0), sh - 1);
    const r0 = getRow(y0);
    const r1 = y1 === y0 ? r0 : getRow(y1);
    const o = dy * rowLen;
    // VResizeLinearVec_32s8u: ((b0 * (S0 >> 4)) >> 16) + ((b1 * (S1 >> 4)) >> 16), then (x + 2) >> 2, saturated
    for (let x = 0; x < rowLen; x++) {
      const v = ((b0 * sat16(r0[x]! >> 4)) >> 16) + ((b1 * sat16(r1[x]! >> 4)) >> 16);
      const u = (v + 2) >> 2;
      out[o + x] = u < 0 ? 0 : u > 255 ? 255 : u;
    }
  }
  return out;
}

/** Decoded RGB pixels, EXIF orientation applied. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Decode an image file (or buffer) to 8-bit RGB, as cv2.imread(IMREAD_COLOR) gives it (orientation applied, alpha dropped). */
export async function decodeRgb(input: string | Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(input, { failOn: 'error', limitInputPixels: 2 ** 28 })
    .rotate()
    .toColourspace('srgb')
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  let rgb: Uint8Array = data;
  if (info.channels !== 3) {
    // greyscale stays one channel in libvips: replicate as OpenCV does
    rgb = new Uint8Array(info.width * info.height * 3);
    const c = info.channels;
    for (let i = 0, j = 0; i < data.length; i += c, j += 3) rgb[j] = rgb[j + 1] = rgb[j + 2] = data[i]!;
  }
  return { data: rgb, width: info.width, height: info.height };
}

/** Letterbox an RGB image into a CHW float32 tensor (values /255, padding 114). */
export function letterboxTensor(img: RgbImage, inH: number, inW: number, out?: Float32Array): { tensor: Float32Array; lb: Letterbox } {
  const lb = letterboxParams(img.width, img.height, inH, inW);
  const resized = resizeLinear(img.data, img.width, img.height, 3, lb.newW, lb.newH);
  const plane = inH * inW;
  const t = out ?? new Float32Array(3 * plane);
  t.fill(114 / 255);
  const lut = LUT;
  for (let y = 0; y < lb.newH; y++) {
    const row = (y + lb.padY) * inW + lb.padX;
    let s = y * lb.newW * 3;
    for (let x = 0; x < lb.newW; x++, s += 3) {
      const p = row + x;
      t[p] = lut[resized[s]!]!;
      t[plane + p] = lut[resized[s + 1]!]!;
      t[2 * plane + p] = lut[resized[s + 2]!]!;
    }
  }
  return { tensor: t, lb };
}

/** uint8 → float32 /255 as torch computes it (float32 division). */
const LUT = (() => {
  const l = new Float32Array(256);
  for (let i = 0; i < 256; i++) l[i] = Math.fround(i / 255);
  return l;
})();

/** Decode and letterbox one image file. */
export async function preprocessFile(file: string, inH: number, inW: number): Promise<{ tensor: Float32Array; lb: Letterbox }> {
  return letterboxTensor(await decodeRgb(file), inH, inW);
}
