import type { RawImage } from './raw-image.ts';

/**
 * Bilinear resampling of an image region straight into a model's planar float input, with the
 * per-channel normalisation fused in, instead of a sharp round trip plus a normalisation loop: for OCR's
 * 960×448 detector input sharp took ~20 ms on raw pixels, this ~2 ms. Bilinear with pixel
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
  // Separable: each output row first blends its two source rows over the region's columns (normalised, one
  // float row per plane), then samples those rows across. When the width is kept (OCR's detector input is
  // only stretched to a multiple of 32 in height) the rows are copied out as they are.
  const columns = region.width;
  const xs = taps(0, columns, outWidth);
  const ys = taps(region.top, region.height, outHeight);
  const row0 = new Float32Array(columns);
  const row1 = new Float32Array(columns);
  const row2 = new Float32Array(columns);
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
  const out = target.data;
  const stride = target.planeStride;
  const { lo, hi, w: wx } = xs;
  const sameWidth = outWidth === columns;
  for (let y = 0; y < outHeight; y++) {
    const wy = ys.w[y]!;
    for (let x = 0, a = (ys.lo[y]! * srcWidth + region.left) * c, b = (ys.hi[y]! * srcWidth + region.left) * c; x < columns; x++, a += c, b += c) {
      let v = src[a + c0]!;
      row0[x] = (v + (src[b + c0]! - v) * wy) * s0 + b0;
      v = src[a + c1]!;
      row1[x] = (v + (src[b + c1]! - v) * wy) * s1 + b1;
      v = src[a + c2]!;
      row2[x] = (v + (src[b + c2]! - v) * wy) * s2 + b2;
    }
    const o = target.offset + y * target.rowStride;
    if (sameWidth) {
      out.set(row0, o);
      out.set(row1, o + stride);
      out.set(row2, o + 2 * stride);
      continue;
    }
    for (let x = 0, p = o; x < outWidth; x++, p++) {
      const l = lo[x]!,
        h = hi[x]!,
        f = wx[x]!;
      let v = row0[l]!;
      out[p] = v + (row0[h]! - v) * f;
      v = row1[l]!;
      out[p + stride] = v + (row1[h]! - v) * f;
      v = row2[l]!;
      out[p + 2 * stride] = v + (row2[h]! - v) * f;
    }
  }
}
