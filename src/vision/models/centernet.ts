import type { ModelRegistry } from './model-registry.ts';
import { sharpOf } from '../ops/raw-image.ts';
import type { RawImage } from '../ops/raw-image.ts';
import { tfjs } from './tfjs-runtime.ts';
import { COCO_LABELS } from './coco-labels.ts';
import type { Detection } from '../ops/detection.ts';
import { suppressOverlaps } from '../ops/nms.ts';

/**
 * CenterNet (MobileNetV3 backbone, COCO-80) as converted to tfjs by @vladmandic/human.
 * Contract: `tower_0/images` [1,512,512,3] float RGB 0..255 (the /255 is inside the graph) →
 * `tower_0/detections` [1,100,6] rows of x1, y1, x2, y2 (input pixels), score, class (COCO-80 index),
 * best first. Decoding and top-100 are in the graph; letterboxing, NMS and mapping back are ours.
 */

export const CENTERNET_MODEL = 'centernet-coco';
export const CENTERNET_SIZE = 512;
const INPUT = 'tower_0/images';
const OUTPUT = 'tower_0/detections';
const ROW = 6;

/** Below this a box is more often wrong than right on our photos (the astronaut's duplicate scores 0.26). */
export const DEFAULT_MIN_SCORE = 0.3;

export interface CenternetOptions {
  minScore?: number;
  /** Keep only these labels (before NMS, so that other classes cannot crowd them out). */
  labels?: readonly string[];
  task?: string;
}

export interface Letterbox {
  /** RGB 0..255, NHWC, the image scaled into the top-left corner, black elsewhere. */
  pixels: Float32Array;
  /** input pixels per image pixel */
  scale: number;
}

/**
 * The longest side scaled to 512 with the aspect kept, padded right and bottom. Stretching instead
 * (as for ISNet) squashes a 451×300 cat until the network calls it a dog.
 */
export async function letterbox(image: RawImage, size = CENTERNET_SIZE): Promise<Letterbox> {
  const scale = size / Math.max(image.width, image.height);
  const width = Math.max(1, Math.min(size, Math.round(image.width * scale)));
  const height = Math.max(1, Math.min(size, Math.round(image.height * scale)));
  const resized = await sharpOf(image).removeAlpha().resize(width, height, { fit: 'fill' }).raw().toBuffer();
  const pixels = new Float32Array(size * size * 3);
  const rowBytes = width * 3;
  for (let y = 0; y < height; y++) {
    const src = y * rowBytes;
    const dst = y * size * 3;
    for (let i = 0; i < rowBytes; i++) pixels[dst + i] = resized[src + i]!;
  }
  return { pixels, scale };
}

/** Boxes this unlikely are noise even as evidence that an object is of another class. */
const SUPPRESSION_FLOOR = 0.05;

/**
 * Rows of the output tensor → detections in image pixels, clipped to the image. Suppression runs on
 * every plausible row before the label and score filters, so that a low "dog" box on the cat is
 * recognised as the cat's, not reported when the user asks for dogs with a lower threshold.
 */
export function decodeRows(
  rows: Float32Array | Int32Array | Uint8Array,
  image: { width: number; height: number },
  scale: number,
  options: CenternetOptions = {},
): Detection[] {
  const minScore = options.minScore ?? DEFAULT_MIN_SCORE;
  const wanted = options.labels === undefined ? undefined : new Set(options.labels);
  const clip = (v: number, max: number) => Math.min(max, Math.max(0, v / scale));
  const candidates: Detection[] = [];
  for (let o = 0; o + ROW <= rows.length; o += ROW) {
    const score = rows[o + 4]!;
    if (!(score >= Math.min(minScore, SUPPRESSION_FLOOR))) continue;
    const label = COCO_LABELS[Math.round(rows[o + 5]!)];
    if (label === undefined) continue;
    const box = {
      x1: clip(rows[o]!, image.width),
      y1: clip(rows[o + 1]!, image.height),
      x2: clip(rows[o + 2]!, image.width),
      y2: clip(rows[o + 3]!, image.height),
    };
    // Boxes wholly in the padding clip to nothing.
    if (box.x2 - box.x1 < 1 || box.y2 - box.y1 < 1) continue;
    candidates.push({ ...box, label, score });
  }
  return suppressOverlaps(candidates).filter((d) => d.score >= minScore && (wanted === undefined || wanted.has(d.label)));
}

/** COCO objects in an image, best first, boxes in the image's pixels. */
export async function detectObjects(models: ModelRegistry, image: RawImage, options: CenternetOptions = {}): Promise<Detection[]> {
  const model = await models.graphModel(CENTERNET_MODEL, options.task ?? 'detect');
  const { tf } = await tfjs();
  const { pixels, scale } = await letterbox(image);
  // tidy releases the input and every intermediate; dataSync copies the 600 floats out before it does.
  const rows = tf.tidy(() => {
    const input = tf.tensor4d(pixels, [1, CENTERNET_SIZE, CENTERNET_SIZE, 3], 'float32');
    const output = model.execute({ [INPUT]: input }, OUTPUT);
    if (Array.isArray(output)) throw new Error(`CenterNet returned ${output.length} tensors instead of ${OUTPUT}`);
    return output.dataSync() as Float32Array;
  });
  return decodeRows(rows, image, scale, options);
}
