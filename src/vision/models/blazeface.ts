import type { Tensor } from '@tensorflow/tfjs-core';
import type { Box } from '../../core/types.ts';
import type { Detection } from '../ops/detection.ts';
import type { ModelRegistry } from './model-registry.ts';
import { sharpOf } from '../ops/raw-image.ts';
import type { RawImage } from '../ops/raw-image.ts';
import { tfjs } from './tfjs-runtime.ts';
import { BLAZEFACE_BACK_ANCHORS, ssdAnchorCentres } from './blazeface-anchors.ts';
import { cutByEdge, faceViews, viewsAround } from './blazeface-views.ts';
import type { View } from './blazeface-views.ts';
import { weightedSuppression } from '../ops/weighted-nms.ts';

/**
 * MediaPipe BlazeFace, "back camera" 256×256 model, as converted to tfjs by @vladmandic/human.
 * Contract: `input` [1,256,256,3] RGB v/127.5 − 1 → per anchor (512 at stride 16, then 384 at stride 32)
 * a score logit (`Identity`, `Identity_1`) and 16 regressors (`Identity_2`, `Identity_3`): box centre
 * offset, width and height, then six keypoints, all in input pixels relative to the anchor centre.
 * Anchors, letterboxing, tiling, weighted NMS and mapping back to the image are ours.
 */

export const BLAZEFACE_MODEL = 'blazeface';
const SIZE = BLAZEFACE_BACK_ANCHORS.inputSize;
const INPUT = 'input';
/** Score and regressor heads, stride-16 anchors first: the order `ssdAnchorCentres` lists anchors in. */
const SCORES = ['Identity:0', 'Identity_1:0'] as const;
const REGRESSORS = ['Identity_2:0', 'Identity_3:0'] as const;
const REGRESSOR_WIDTH = 16;

/**
 * Measured on our pictures: the astronaut's face 0.88 (and 0.91 at 50 px in a 2048 px canvas), the
 * cat's face in chelsea.png 0.64, the horse's head 0.43, a shaded red disc 0.53 at 400×300 (but above
 * 0.6 at 320×240: round shaded blobs are this model's typical false positive). 0.6 keeps real faces,
 * and the cat's, which is a face after all.
 */
export const DEFAULT_FACE_MIN_SCORE = 0.6;
/**
 * Below this many input pixels (1/16 of the input) a whole-image box is at the model's limit: a 120 px
 * astronaut in a 1280 px frame (face ~23 px) came out at 0.58–0.71 with boxes two to three times the
 * face and shifted onto the chin; the tile that held her face whole found it at 0.9 with the right box.
 */
const TINY_IN_INPUT = 16;
/** MediaPipe's overlap for merging one face's neighbouring anchors. */
const MERGE_IOU = 0.3;
/** MediaPipe clips logits to ±100 before the sigmoid (its score_clipping_thresh); kept for parity. */
const LOGIT_CLIP = 100;

export interface FaceDetectionOptions {
  minScore?: number;
  /**
   * Also look at overlapping tiles of large images, for faces smaller than ~1/16 of the long side
   * (default true). Video callers may turn it off to spend one model call per frame.
   */
  tiles?: boolean;
  /**
   * Also look closely around these boxes: where faces were in the previous video frame. Keeps small
   * faces found by an occasional tiled pass in sight on the frames in between, at one model call each.
   */
  around?: readonly Box[];
}

let anchors: Float32Array | undefined;

interface ViewInput {
  pixels: Float32Array;
  /** input pixels per image pixel */
  scale: number;
}

/** The view scaled to fit 256 with its aspect kept, in the top-left corner; padding is black (−1). */
async function viewInput(image: RawImage, view: View): Promise<ViewInput> {
  const scale = SIZE / Math.max(view.width, view.height);
  const width = Math.max(1, Math.min(SIZE, Math.round(view.width * scale)));
  const height = Math.max(1, Math.min(SIZE, Math.round(view.height * scale)));
  // Three channels whatever came in (grey frames included): the model reads RGB triplets.
  let pipeline = sharpOf(image).removeAlpha().toColourspace('srgb');
  if (view.tile) pipeline = pipeline.extract({ left: view.left, top: view.top, width: view.width, height: view.height });
  const resized = await pipeline.resize(width, height, { fit: 'fill' }).raw().toBuffer();
  const pixels = new Float32Array(SIZE * SIZE * 3).fill(-1);
  for (let y = 0; y < height; y++) {
    const src = y * width * 3;
    const dst = y * SIZE * 3;
    for (let i = 0; i < width * 3; i++) pixels[dst + i] = resized[src + i]! / 127.5 - 1;
  }
  return { pixels, scale };
}

interface RawOutputs {
  logits: Float32Array;
  regressors: Float32Array;
}

async function infer(models: ModelRegistry, pixels: Float32Array): Promise<RawOutputs> {
  const [model, { tf }] = await Promise.all([models.graphModel(BLAZEFACE_MODEL, 'detect'), tfjs()]);
  const input = tf.tensor4d(pixels, [1, SIZE, SIZE, 3]);
  let outputs: Tensor[] = [];
  try {
    outputs = model.execute({ [INPUT]: input }, [...SCORES, ...REGRESSORS]) as Tensor[];
    const [s16, s32, r16, r32] = (await Promise.all(outputs.map((t) => t.data()))) as Float32Array[];
    const logits = new Float32Array(s16!.length + s32!.length);
    logits.set(s16!);
    logits.set(s32!, s16!.length);
    const regressors = new Float32Array(r16!.length + r32!.length);
    regressors.set(r16!);
    regressors.set(r32!, r16!.length);
    return { logits, regressors };
  } finally {
    tf.dispose([input, ...outputs]);
  }
}

/** Anchors scoring at least `minScore`, as boxes in image pixels (clipped to the image). */
export function decodeView(raw: RawOutputs, view: View, scale: number, image: { width: number; height: number }, minScore: number): Detection[] {
  anchors ??= ssdAnchorCentres(BLAZEFACE_BACK_ANCHORS);
  const out: Detection[] = [];
  for (let i = 0; i < raw.logits.length; i++) {
    const logit = Math.max(-LOGIT_CLIP, Math.min(LOGIT_CLIP, raw.logits[i]!));
    const score = 1 / (1 + Math.exp(-logit));
    if (score < minScore) continue;
    const r = i * REGRESSOR_WIDTH;
    const cx = anchors[i * 2]! + raw.regressors[r]!;
    const cy = anchors[i * 2 + 1]! + raw.regressors[r + 1]!;
    const w = raw.regressors[r + 2]!;
    const h = raw.regressors[r + 3]!;
    if (!(w > 0 && h > 0)) continue;
    const toX = (v: number) => Math.min(image.width, Math.max(0, view.left + v / scale));
    const toY = (v: number) => Math.min(image.height, Math.max(0, view.top + v / scale));
    const box = { x1: toX(cx - w / 2), y1: toY(cy - h / 2), x2: toX(cx + w / 2), y2: toY(cy + h / 2) };
    if (box.x2 - box.x1 < 1 || box.y2 - box.y1 < 1 || cutByEdge(box, view, image.width, image.height)) continue;
    out.push({ ...box, label: 'face', score });
  }
  return out;
}

/** Faces in an image: boxes in its pixels, label 'face', score 0..1, best first. */
export async function detectFaces(models: ModelRegistry, image: RawImage, options: FaceDetectionOptions = {}): Promise<Detection[]> {
  const minScore = options.minScore ?? DEFAULT_FACE_MIN_SCORE;
  const coarse: Detection[] = [];
  const close: Detection[] = [];
  const views = [...faceViews(image.width, image.height, options.tiles ?? true), ...viewsAround(options.around ?? [], image.width, image.height)];
  for (const view of views) {
    const { pixels, scale } = await viewInput(image, view);
    for (const d of decodeView(await infer(models, pixels), view, scale, image, minScore)) {
      const tiny = !view.tile && Math.max(d.x2 - d.x1, d.y2 - d.y1) * scale < TINY_IN_INPUT;
      (tiny ? coarse : close).push(d);
    }
  }
  // A face a few input pixels wide in the whole-image pass comes out as a displaced, oversized box; when
  // a closer view saw the same spot, its box wins.
  const kept = coarse.filter((c) => !close.some((d) => d.x1 < c.x2 && c.x1 < d.x2 && d.y1 < c.y2 && c.y1 < d.y2));
  return weightedSuppression([...close, ...kept], MERGE_IOU);
}
