import { borrowFloats, runPooled } from './float-pool.ts';
import type { ModelRegistry } from './model-registry.ts';
import { sharpOf, toRaw } from '../ops/raw-image.ts';
import type { RawImage } from '../ops/raw-image.ts';
import { needsPrefilter, resampleToPlanes } from '../ops/resample.ts';
import type { PlaneMaps } from '../ops/resample.ts';
import { connectedComponents } from '../ops/components.ts';

/**
 * PP-OCRv4 text detection (DB): `x` [1,3,H,W] (H, W multiples of 32, ImageNet mean/std, BGR as PaddleOCR
 * trains on OpenCV images) → `sigmoid_0.tmp_0` [1,1,H,W] text probability; boxes from the thresholded map.
 */

export const OCR_DET_MODEL = 'ppocr-v4-det';

export interface TextBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
}

export interface DetectOptions {
  /** Longest side fed to the network; PaddleOCR's default (larger images are shrunk, smaller kept). */
  maxSide?: number;
  /** Pixel threshold on the probability map. */
  threshold?: number;
  /** Minimum mean probability inside a box. */
  boxThreshold?: number;
  /** DB's unclip ratio: the map marks shrunk text kernels, so boxes are grown back by area·ratio/perimeter. */
  unclipRatio?: number;
}

// ImageNet statistics in the order PaddleOCR applies them to B, G, R planes: (v/255 − mean)/std.
const MEAN = [0.485, 0.456, 0.406] as const;
const STD = [0.229, 0.224, 0.225] as const;
const planeOf = (channel: number, k: number) => ({ channel, scale: 1 / (255 * STD[k]!), bias: -MEAN[k]! / STD[k]! });
const PLANES: PlaneMaps = [planeOf(2, 0), planeOf(1, 1), planeOf(0, 2)];

function detSize(width: number, height: number, maxSide: number): { w: number; h: number } {
  const ratio = Math.max(width, height) > maxSide ? maxSide / Math.max(width, height) : 1;
  return { w: Math.max(32, Math.round((width * ratio) / 32) * 32), h: Math.max(32, Math.round((height * ratio) / 32) * 32) };
}

export async function detectText(models: ModelRegistry, image: RawImage, options: DetectOptions = {}): Promise<TextBox[]> {
  const { maxSide = 960, threshold = 0.3, boxThreshold = 0.6, unclipRatio = 1.5 } = options;
  const session = await models.session(OCR_DET_MODEL, { task: 'ocr' });
  const { w, h } = detSize(image.width, image.height, maxSide);
  const source = needsPrefilter(image, w, h) ? await toRaw(sharpOf(image).removeAlpha().resize(w, h, { fit: 'fill' })) : image;
  const plane = w * h;
  const chw = borrowFloats(3 * plane);
  resampleToPlanes(
    source,
    { left: 0, top: 0, width: source.width, height: source.height },
    w,
    h,
    { data: chw, offset: 0, rowStride: w, planeStride: plane },
    PLANES,
  );
  const result = await runPooled(session, 'x', chw, [1, 3, h, w]);
  const output = result[session.outputNames[0]!]!;
  const prob = output.data as Float32Array;
  const components = connectedComponents(prob, threshold, w, h);
  output.dispose();

  const sx = image.width / w;
  const sy = image.height / h;
  const boxes: TextBox[] = [];
  for (const c of components) {
    const bw = c.x2 - c.x1 + 1;
    const bh = c.y2 - c.y1 + 1;
    if (Math.min(bw, bh) < 3) continue;
    const score = c.scoreSum / c.area;
    if (score < boxThreshold) continue;
    const d = (bw * bh * unclipRatio) / (2 * (bw + bh));
    if (Math.min(bw, bh) + 2 * d < 5) continue;
    boxes.push({
      x1: Math.max(0, Math.round((c.x1 - d) * sx)),
      y1: Math.max(0, Math.round((c.y1 - d) * sy)),
      x2: Math.min(image.width, Math.round((c.x2 + 1 + d) * sx)),
      y2: Math.min(image.height, Math.round((c.y2 + 1 + d) * sy)),
      score,
    });
  }
  return boxes;
}
