import * as ort from 'onnxruntime-node';
import type { ModelRegistry } from '../model-registry.ts';
import { sharpOf, toRaw } from '../raw-image.ts';
import type { RawImage } from '../raw-image.ts';
import { connectedComponents } from './components.ts';

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

// ImageNet statistics in the order PaddleOCR applies them to B, G, R planes.
const MEAN = [0.485, 0.456, 0.406] as const;
const STD = [0.229, 0.224, 0.225] as const;
const LUTS = MEAN.map((m, c) => Float32Array.from({ length: 256 }, (_, v) => (v / 255 - m) / STD[c]!));

function detSize(width: number, height: number, maxSide: number): { w: number; h: number } {
  const ratio = Math.max(width, height) > maxSide ? maxSide / Math.max(width, height) : 1;
  return { w: Math.max(32, Math.round((width * ratio) / 32) * 32), h: Math.max(32, Math.round((height * ratio) / 32) * 32) };
}

export async function detectText(models: ModelRegistry, image: RawImage, options: DetectOptions = {}): Promise<TextBox[]> {
  const { maxSide = 960, threshold = 0.3, boxThreshold = 0.6, unclipRatio = 1.5 } = options;
  const session = await models.session(OCR_DET_MODEL, { task: 'ocr' });
  const { w, h } = detSize(image.width, image.height, maxSide);
  const rgb = await toRaw(sharpOf(image).removeAlpha().resize(w, h, { fit: 'fill' }));
  const plane = w * h;
  const chw = new Float32Array(3 * plane);
  const [lb, lg, lr] = LUTS as [Float32Array, Float32Array, Float32Array];
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    chw[i] = lb[rgb.data[p + 2]!]!;
    chw[plane + i] = lg[rgb.data[p + 1]!]!;
    chw[2 * plane + i] = lr[rgb.data[p]!]!;
  }
  const input = new ort.Tensor('float32', chw, [1, 3, h, w]);
  const result = await session.run({ x: input });
  const output = result[session.outputNames[0]!]!;
  const prob = output.data as Float32Array;
  const bitmap = new Uint8Array(plane);
  for (let i = 0; i < plane; i++) bitmap[i] = prob[i]! > threshold ? 1 : 0;
  const components = connectedComponents(bitmap, prob, w, h);
  input.dispose();
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
