import type { RawImage } from './raw-image.ts';

/**
 * Bilinear resampling of an image region straight into a model's planar float input, with the
 * per-channel normalisation fused in. One pass instead of a sharp round trip plus a normalisation loop:
 * for OCR's 960×448 detector input sharp took ~20 ms on raw pixels, this ~4 ms. Bilinear with pixel
 * centres aligned is what OpenCV's default resize does, which PaddleOCR's models were trained on; it does
 * not low-pass, so callers shrink by more than 2× with sharp first (see `needsPrefilter`).
 */

export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Where the output goes: `planes.length` planes of `height` rows of `width` floats. */
export interface PlanarTarget {
  data: Float32Array;
  /** Index of the first plane's first float. */
  offset: number;
  /** Floats from one row to the next (≥ the output width: rows may be padded). */
  rowStride: number;
  /** Floats from one plane to the next. */
  planeStride: number;
}

/** Output plane k takes source channel `channel`, stored as value × scale + bias. */
export interface PlaneMap {
  channel: number;
  scale: number;
  bias: number;
}

/** Bilinear sampling aliases when shrinking by more than 2×; such regions get an antialiased resize first. */
export function needsPrefilter(from: { width: number; height: number }, toWidth: number, toHeight: number): boolean {
  return toWidth * 2 < from.width || toHeight * 2 < from.height;
}

interface Taps {
  /** First source index per output index (already offset by the region's start). */
  lo: Int32Array;
  hi: Int32Array;
  /** Weight of `hi`. */
  w: Float32Array;
}

function taps(start: number, length: number, out: number): Taps {
  const lo = new Int32Array(out);
  const hi = new Int32Array(out);
  const w = new Float32Array(out);
  const ratio = length / out;
  for (let i = 0; i < out; i++) {
    const s = Math.min(length - 1, Math.max(0, (i + 0.5) * ratio - 0.5));
    const f = Math.floor(s);
    lo[i] = start + f;
    hi[i] = start + Math.min(length - 1, f + 1);
    w[i] = s - f;
  }
  return { lo, hi, w };
}

/** Three output planes (a model's colour channels), each from one source channel. */
export type PlaneMaps = readonly [PlaneMap, PlaneMap, PlaneMap];

export function resampleToPlanes(image: RawImage, region: Region, outWidth: number, outHeight: number, target: PlanarTarget, planes: PlaneMaps): void {
  const { data: src, width: srcWidth, channels: c } = image;
  const xs = taps(region.left, region.width, outWidth);
  const ys = taps(region.top, region.height, outHeight);
  const out = target.data;
  // Source byte offsets per output column, so the inner loop only adds the row.
  const x0 = new Int32Array(outWidth);
  const x1 = new Int32Array(outWidth);
  for (let x = 0; x < outWidth; x++) {
    x0[x] = xs.lo[x]! * c;
    x1[x] = xs.hi[x]! * c;
  }
  const wx = xs.w;
  const [p0, p1, p2] = planes;
  const c0 = p0.channel,
    c1 = p1.channel,
    c2 = p2.channel;
  const s0 = p0.scale,
    s1 = p1.scale,
    s2 = p2.scale;
  const b0 = p0.bias,
    b1 = p1.bias,
    b2 = p2.bias;
  const stride = target.planeStride;
  for (let y = 0; y < outHeight; y++) {
    const r0 = ys.lo[y]! * srcWidth * c;
    const r1 = ys.hi[y]! * srcWidth * c;
    const wy = ys.w[y]!;
    let o = target.offset + y * target.rowStride;
    // All three channels per column: the four neighbours' offsets are computed once, not per plane.
    for (let x = 0; x < outWidth; x++, o++) {
      const fx = wx[x]!;
      const a0 = r0 + x0[x]!,
        a1 = r0 + x1[x]!,
        b0o = r1 + x0[x]!,
        b1o = r1 + x1[x]!;
      let top = src[a0 + c0]! + (src[a1 + c0]! - src[a0 + c0]!) * fx;
      let bottom = src[b0o + c0]! + (src[b1o + c0]! - src[b0o + c0]!) * fx;
      out[o] = (top + (bottom - top) * wy) * s0 + b0;
      top = src[a0 + c1]! + (src[a1 + c1]! - src[a0 + c1]!) * fx;
      bottom = src[b0o + c1]! + (src[b1o + c1]! - src[b0o + c1]!) * fx;
      out[o + stride] = (top + (bottom - top) * wy) * s1 + b1;
      top = src[a0 + c2]! + (src[a1 + c2]! - src[a0 + c2]!) * fx;
      bottom = src[b0o + c2]! + (src[b1o + c2]! - src[b0o + c2]!) * fx;
      out[o + 2 * stride] = (top + (bottom - top) * wy) * s2 + b2;
    }
  }
}
