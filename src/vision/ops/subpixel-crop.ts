import type { CropRect } from './camera-path.ts';
import type { RawImage } from './raw-image.ts';

/**
 * Bilinear sampling of a fractional rectangle of a picture into a frame: the rectangle may start at
 * x = 10.37, so a move of a third of a pixel per frame shows as a third of a pixel, not as a whole-pixel
 * step every third frame. Pixel centres are aligned (output pixel i samples the source at
 * left + (i + ½)·width/outWidth − ½), as sharp and OpenCV resize do, so a rectangle covering the whole
 * picture at the frame's size gives the picture back. Bilinear does not low-pass: callers shrink the
 * picture with sharp first so a rectangle is never more than a little larger than the frame.
 * The rectangle is axis-aligned, so the taps of a column and of a row are computed once per frame.
 */

/** Per output index along one axis: the two source offsets (already × stride) and their weights. */
interface AxisTaps {
  lo: Int32Array;
  hi: Int32Array;
  wLo: Float32Array;
  wHi: Float32Array;
}

/**
 * `transparent`: a tap outside the picture weighs nothing (a layer that slides off the edge shows what is
 * beneath); `clamp`: it takes the edge pixel.
 */
type Edge = 'clamp' | 'transparent';

function axisTaps(start: number, length: number, out: number, size: number, stride: number, edge: Edge): AxisTaps {
  const taps: AxisTaps = { lo: new Int32Array(out), hi: new Int32Array(out), wLo: new Float32Array(out), wHi: new Float32Array(out) };
  const step = length / out;
  for (let i = 0; i < out; i++) {
    let s = start + (i + 0.5) * step - 0.5;
    if (edge === 'clamp') s = Math.min(size - 1, Math.max(0, s));
    const f = Math.floor(s);
    const w = s - f;
    const inLo = f >= 0 && f < size;
    const inHi = f + 1 >= 0 && f + 1 < size;
    taps.lo[i] = Math.min(size - 1, Math.max(0, f)) * stride;
    taps.hi[i] = Math.min(size - 1, Math.max(0, f + 1)) * stride;
    taps.wLo[i] = inLo ? 1 - w : 0;
    taps.wHi[i] = inHi ? w : 0;
  }
  return taps;
}

/**
 * Fills `out` (outWidth × outHeight RGBA, alpha 255) with `rect` of `source` (RGB or RGBA; alpha ignored),
 * edges clamped.
 */
export function renderCrop(source: RawImage, rect: CropRect, out: Uint8Array, outWidth: number, outHeight: number): void {
  const ch = source.channels;
  if (ch < 3) throw new Error(`renderCrop needs an RGB or RGBA picture, not ${ch} channel(s)`);
  const xs = axisTaps(rect.left, rect.width, outWidth, source.width, ch, 'clamp');
  const ys = axisTaps(rect.top, rect.height, outHeight, source.height, source.width * ch, 'clamp');
  const d = source.data;
  let o = 0;
  for (let y = 0; y < outHeight; y++) {
    const r0 = ys.lo[y]!;
    const r1 = ys.hi[y]!;
    const a = ys.wLo[y]!;
    const b = ys.wHi[y]!;
    for (let x = 0; x < outWidth; x++, o += 4) {
      const c0 = xs.lo[x]!;
      const c1 = xs.hi[x]!;
      const p = xs.wLo[x]!;
      const q = xs.wHi[x]!;
      const i00 = r0 + c0;
      const i01 = r0 + c1;
      const i10 = r1 + c0;
      const i11 = r1 + c1;
      // The weights sum to 1, so the +0.5 rounds and the result never exceeds 255.5 (stored truncated).
      out[o] = a * (p * d[i00]! + q * d[i01]!) + b * (p * d[i10]! + q * d[i11]!) + 0.5;
      out[o + 1] = a * (p * d[i00 + 1]! + q * d[i01 + 1]!) + b * (p * d[i10 + 1]! + q * d[i11 + 1]!) + 0.5;
      out[o + 2] = a * (p * d[i00 + 2]! + q * d[i01 + 2]!) + b * (p * d[i10 + 2]! + q * d[i11 + 2]!) + 0.5;
      out[o + 3] = 255;
    }
  }
}

/**
 * Composites `rect` of a layer over `out` (RGBA, straight alpha 255 below): `layer` is RGBA with
 * premultiplied colour, and outside it is transparent, so a layer that moves further than the camera
 * uncovers what lies beneath instead of smearing its edge.
 */
export function compositeCrop(layer: RawImage, rect: CropRect, out: Uint8Array, outWidth: number, outHeight: number): void {
  if (layer.channels !== 4) throw new Error(`compositeCrop needs a premultiplied RGBA layer, not ${layer.channels} channel(s)`);
  const xs = axisTaps(rect.left, rect.width, outWidth, layer.width, 4, 'transparent');
  const ys = axisTaps(rect.top, rect.height, outHeight, layer.height, layer.width * 4, 'transparent');
  const d = layer.data;
  let o = 0;
  for (let y = 0; y < outHeight; y++) {
    const r0 = ys.lo[y]!;
    const r1 = ys.hi[y]!;
    const a = ys.wLo[y]!;
    const b = ys.wHi[y]!;
    for (let x = 0; x < outWidth; x++, o += 4) {
      const c0 = xs.lo[x]!;
      const c1 = xs.hi[x]!;
      const p = xs.wLo[x]!;
      const q = xs.wHi[x]!;
      const w00 = a * p;
      const w01 = a * q;
      const w10 = b * p;
      const w11 = b * q;
      const i00 = r0 + c0;
      const i01 = r0 + c1;
      const i10 = r1 + c0;
      const i11 = r1 + c1;
      const alpha = w00 * d[i00 + 3]! + w01 * d[i01 + 3]! + w10 * d[i10 + 3]! + w11 * d[i11 + 3]!;
      if (alpha <= 0) continue;
      const keep = 1 - alpha / 255;
      out[o] = w00 * d[i00]! + w01 * d[i01]! + w10 * d[i10]! + w11 * d[i11]! + out[o]! * keep + 0.5;
      out[o + 1] = w00 * d[i00 + 1]! + w01 * d[i01 + 1]! + w10 * d[i10 + 1]! + w11 * d[i11 + 1]! + out[o + 1]! * keep + 0.5;
      out[o + 2] = w00 * d[i00 + 2]! + w01 * d[i01 + 2]! + w10 * d[i10 + 2]! + w11 * d[i11 + 2]! + out[o + 2]! * keep + 0.5;
    }
  }
}
