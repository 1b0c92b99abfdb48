/**
 * Quality metrics, each comparing an output with a reference the model did not choose. Images are RGBA
 * (sharp raw, 4 channels); masks are one byte per pixel, ≥ 128 = inside.
 */
import type { Box } from '../src/core/types.ts';
import type { Mask, RawImage } from '../src/vision/ops/raw-image.ts';

import { intersectionOverUnion } from '../src/vision/ops/nms.ts';

export const boxIoU = intersectionOverUnion;

/** Intersection over union of two masks of the same size (1 when both are empty: they agree). */
export function maskIoU(a: Mask, b: Mask): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`mask sizes differ: ${a.width}×${a.height} and ${b.width}×${b.height}`);
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.data.length; i++) {
    const p = a.data[i]! >= 128;
    const q = b.data[i]! >= 128;
    if (p && q) inter++;
    if (p || q) union++;
  }
  return union === 0 ? 1 : inter / union;
}

function sameSize(a: RawImage, b: RawImage): void {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) {
    throw new Error(`image sizes differ: ${a.width}×${a.height}×${a.channels} and ${b.width}×${b.height}×${b.channels}`);
  }
}

/** Whether pixel i counts: everywhere without a region, else where the region mask is on. */
const inRegion = (region: Mask | undefined, i: number) => region === undefined || region.data[i]! >= 128;

/** PSNR in dB over the RGB channels (alpha ignored), inside `region` when given; Infinity for identical pixels. */
export function psnr(a: RawImage, b: RawImage, region?: Mask): number {
  sameSize(a, b);
  let sum = 0;
  let count = 0;
  const pixels = a.width * a.height;
  for (let i = 0; i < pixels; i++) {
    if (!inRegion(region, i)) continue;
    for (let c = 0; c < 3; c++) {
      const d = a.data[i * a.channels + c]! - b.data[i * b.channels + c]!;
      sum += d * d;
    }
    count += 3;
  }
  if (count === 0) throw new Error('psnr over an empty region');
  const mse = sum / count;
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse);
}

function luma(image: RawImage): Float64Array {
  const out = new Float64Array(image.width * image.height);
  for (let i = 0; i < out.length; i++) {
    const o = i * image.channels;
    out[i] = 0.299 * image.data[o]! + 0.587 * image.data[o + 1]! + 0.114 * image.data[o + 2]!;
  }
  return out;
}

/** SSIM's window: 7×7 (Wang et al. 2004 constants, uniform window as in scikit-image's default). */
const WINDOW = 7;
const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;

/**
 * Mean SSIM of the luma, over windows centred on pixels of `region` (every pixel when absent) that fit in
 * the image. 1 for identical images; lower as structure, contrast or brightness differ.
 */
export function ssim(a: RawImage, b: RawImage, region?: Mask): number {
  sameSize(a, b);
  const x = luma(a);
  const y = luma(b);
  const { width, height } = a;
  const half = WINDOW >> 1;
  const n = WINDOW * WINDOW;
  let total = 0;
  let windows = 0;
  for (let cy = half; cy < height - half; cy++) {
    for (let cx = half; cx < width - half; cx++) {
      if (!inRegion(region, cy * width + cx)) continue;
      let sx = 0;
      let sy = 0;
      let sxx = 0;
      let syy = 0;
      let sxy = 0;
      for (let dy = -half; dy <= half; dy++) {
        for (let dx = -half; dx <= half; dx++) {
          const i = (cy + dy) * width + cx + dx;
          const p = x[i]!;
          const q = y[i]!;
          sx += p;
          sy += q;
          sxx += p * p;
          syy += q * q;
          sxy += p * q;
        }
      }
      const mx = sx / n;
      const my = sy / n;
      // Sample (co)variances, as scikit-image computes them.
      const vx = (sxx - n * mx * mx) / (n - 1);
      const vy = (syy - n * my * my) / (n - 1);
      const cxy = (sxy - n * mx * my) / (n - 1);
      total += ((2 * mx * my + C1) * (2 * cxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
      windows++;
    }
  }
  if (windows === 0) throw new Error(`ssim needs a region at least ${WINDOW}×${WINDOW} inside the image`);
  return total / windows;
}

/**
 * Mean squared Laplacian of the luma inside a box: the fine detail (edges, texture) left there. A blur
 * lowers it; comparing it with the original's says how much detail a privacy blur removed, without asking
 * the detector that chose where to blur.
 */
export function highFrequencyEnergy(image: RawImage, box: Box): number {
  const y = luma(image);
  const { width, height } = image;
  const x1 = Math.max(1, Math.round(box.x1));
  const y1 = Math.max(1, Math.round(box.y1));
  const x2 = Math.min(width - 1, Math.round(box.x2));
  const y2 = Math.min(height - 1, Math.round(box.y2));
  let sum = 0;
  let count = 0;
  for (let r = y1; r < y2; r++) {
    for (let c = x1; c < x2; c++) {
      const i = r * width + c;
      const lap = 4 * y[i]! - y[i - 1]! - y[i + 1]! - y[i - width]! - y[i + width]!;
      sum += lap * lap;
      count++;
    }
  }
  return count === 0 ? 0 : sum / count;
}

/** Levenshtein distance between two strings (by UTF-16 unit; the eval's text is ASCII). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** 1 − edit distance / length of the truth, floored at 0: the share of the truth's characters read right. */
export function characterAccuracy(read: string, truth: string): number {
  if (truth.length === 0) return read.length === 0 ? 1 : 0;
  return Math.max(0, 1 - editDistance(read, truth) / truth.length);
}

/** Share of the true boxes matched by a found box of IoU ≥ `threshold` (each found box matches one truth). */
export function recall(found: readonly Box[], truth: readonly Box[], threshold = 0.5): number {
  if (truth.length === 0) return 1;
  const used = new Set<number>();
  let hits = 0;
  for (const t of truth) {
    let best = -1;
    let bestIoU = threshold;
    found.forEach((f, i) => {
      const v = intersectionOverUnion(f, t);
      if (!used.has(i) && v >= bestIoU) {
        best = i;
        bestIoU = v;
      }
    });
    if (best >= 0) {
      used.add(best);
      hits++;
    }
  }
  return hits / truth.length;
}
