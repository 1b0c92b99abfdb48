import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import { InternalError } from '../../errors.ts';
import { borrowFloats, returnFloats } from './float-pool.ts';
import type { ModelRegistry } from './model-registry.ts';
import { sharpOf, toRaw } from '../ops/raw-image.ts';
import type { Mask, RawImage } from '../ops/raw-image.ts';

/**
 * SlimSAM (Segment Anything, pruned) on onnxruntime, as exported for Transformers.js (`Xenova/slimsam-77-uniform`):
 *
 * - `onnx/vision_encoder.onnx`: `pixel_values` [1,3,1024,1024] → `image_embeddings` [1,256,64,64] and
 *   `image_positional_embeddings` [1,256,64,64]. Input as `SamImageProcessor`: longest side resized to 1024
 *   (bilinear), rescale 1/255, ImageNet mean/std, zero-padded bottom/right to 1024².
 * - `onnx/prompt_encoder_mask_decoder.onnx`: both embeddings, `input_points` float [1,1,N,2] (x, y in the
 *   resized 1024 frame) and `input_labels` int64 [1,1,N] (1 foreground, 0 background) → `iou_scores` [1,1,3]
 *   and `pred_masks` [1,1,3,256,256], logits over the padded 1024² frame.
 *
 * The encoder is the expensive half (seconds on CPU); each prompt costs one decoder run (milliseconds), so the
 * embedding of an image is cached per encoder session and reused by every prompt on the same picture.
 */

export const SAM_MODEL = 'slimsam-77';
export const SAM_ENCODER_FILE = 'onnx/vision_encoder.onnx';
export const SAM_DECODER_FILE = 'onnx/prompt_encoder_mask_decoder.onnx';
export const SAM_INPUT_SIZE = 1024;
export const SAM_MASK_SIZE = 256;
/** Original SAM's label codes for a box's corners when a box goes in as two points. */
export const BOX_TOP_LEFT_LABEL = 2;
export const BOX_BOTTOM_RIGHT_LABEL = 3;

const MEAN = [0.485, 0.456, 0.406] as const;
const STD = [0.229, 0.224, 0.225] as const;
const PLANE = SAM_INPUT_SIZE * SAM_INPUT_SIZE;
const MASK_PLANE = SAM_MASK_SIZE * SAM_MASK_SIZE;
/** Embeddings of this many images stay in memory (8 MB each): enough for a few users clicking around. */
const EMBEDDING_CACHE_SIZE = 4;

/** Where an image sits in the model's 1024² frame: resized so its longest side is 1024, at the top left. */
export interface SamFrame {
  width: number;
  height: number;
  resizedWidth: number;
  resizedHeight: number;
}

export function samFrame(width: number, height: number): SamFrame {
  const scale = SAM_INPUT_SIZE / Math.max(width, height);
  return {
    width,
    height,
    resizedWidth: Math.min(SAM_INPUT_SIZE, Math.max(1, Math.round(width * scale))),
    resizedHeight: Math.min(SAM_INPUT_SIZE, Math.max(1, Math.round(height * scale))),
  };
}

/** A point in image pixels → the model's 1024 frame (as SamProcessor.reshape_input_points). */
export function toSamFrame(frame: SamFrame, x: number, y: number): [number, number] {
  return [(x * frame.resizedWidth) / frame.width, (y * frame.resizedHeight) / frame.height];
}

/** `pixel_values` in CHW floats, borrowed from the float pool: the caller gives it back after the run. */
export async function samEncoderInput(image: RawImage, frame: SamFrame): Promise<Float32Array> {
  const resized = await toRaw(sharpOf(image).removeAlpha().resize(frame.resizedWidth, frame.resizedHeight, { fit: 'fill', kernel: 'linear' }));
  const chw = borrowFloats(3 * PLANE);
  // Padding is zero after normalisation, as the processor pads the normalised tensor.
  chw.fill(0);
  const { data, channels } = resized;
  const tables = [0, 1, 2].map((c) => Float32Array.from({ length: 256 }, (_, v) => (v / 255 - MEAN[c]!) / STD[c]!));
  for (let y = 0; y < frame.resizedHeight; y++) {
    for (let x = 0; x < frame.resizedWidth; x++) {
      const p = (y * frame.resizedWidth + x) * channels;
      const o = y * SAM_INPUT_SIZE + x;
      for (let c = 0; c < 3; c++) chw[c * PLANE + o] = tables[c]![data[p + c]!]!;
    }
  }
  return chw;
}

export interface ImageEmbedding {
  embeddings: ort.Tensor;
  positional: ort.Tensor;
  frame: SamFrame;
}

/** Per encoder session (a new registry starts empty), sha256 of the picture → its embedding, oldest first. */
const embeddingCaches = new WeakMap<ort.InferenceSession, Map<string, Promise<ImageEmbedding>>>();

/** The cache key for a picture: the media's sha256 when known, else one computed from its bytes. */
export function mediaKey(sha256: string | undefined, bytes: Uint8Array): string {
  return sha256 !== undefined && sha256 !== '' ? sha256 : createHash('sha256').update(bytes).digest('hex');
}

async function encode(encoder: ort.InferenceSession, image: RawImage): Promise<ImageEmbedding> {
  const frame = samFrame(image.width, image.height);
  const chw = await samEncoderInput(image, frame);
  const input = new ort.Tensor('float32', chw, [1, 3, SAM_INPUT_SIZE, SAM_INPUT_SIZE]);
  try {
    const out = await encoder.run({ pixel_values: input }, ['image_embeddings', 'image_positional_embeddings']);
    const embeddings = out['image_embeddings'];
    const positional = out['image_positional_embeddings'];
    if (embeddings === undefined || positional === undefined)
      throw new InternalError('The SlimSAM encoder returned no image_embeddings / image_positional_embeddings.');
    return { embeddings, positional, frame };
  } finally {
    input.dispose();
    returnFloats(chw);
  }
}

/**
 * The image's embedding, from the cache when this picture (same sha256) was encoded before on this session.
 * Concurrent requests for one picture share one encoder run; a failed run is not remembered.
 */
export async function imageEmbedding(models: ModelRegistry, image: RawImage, key: string, task = 'segment_at'): Promise<ImageEmbedding> {
  const encoder = await models.session(SAM_MODEL, { file: SAM_ENCODER_FILE, task });
  let cache = embeddingCaches.get(encoder);
  if (cache === undefined) {
    cache = new Map();
    embeddingCaches.set(encoder, cache);
  }
  const cached = cache.get(key);
  if (cached !== undefined) {
    // Map order is insertion order: re-inserting marks it most recently used.
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  const pending = encode(encoder, image);
  cache.set(key, pending);
  pending.catch(() => cache.delete(key));
  while (cache.size > EMBEDDING_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return pending;
}

/** A prompt in image pixels: points with labels (1 foreground, 0 background) and/or a box. */
export interface SamPrompt {
  points?: readonly (readonly [number, number])[];
  labels?: readonly number[];
  box?: readonly [number, number, number, number];
}

/**
 * The decoder's feeds. The Transformers.js export takes points and labels; a graph that also declares
 * `input_boxes` gets the box there (with its centre as a foreground point, since `input_points` is required),
 * otherwise the box goes in as its two corners labelled 2 and 3, original SAM's encoding of a box.
 */
export function decoderFeeds(inputNames: readonly string[], embedding: ImageEmbedding, prompt: SamPrompt): Record<string, ort.Tensor> {
  const points: [number, number][] = [];
  const labels: number[] = [];
  for (const [i, p] of (prompt.points ?? []).entries()) {
    points.push(toSamFrame(embedding.frame, p[0], p[1]));
    labels.push(prompt.labels?.[i] ?? 1);
  }
  const feeds: Record<string, ort.Tensor> = {
    image_embeddings: embedding.embeddings,
    image_positional_embeddings: embedding.positional,
  };
  if (prompt.box !== undefined) {
    const [x1, y1, x2, y2] = prompt.box;
    const topLeft = toSamFrame(embedding.frame, x1, y1);
    const bottomRight = toSamFrame(embedding.frame, x2, y2);
    if (inputNames.includes('input_boxes')) {
      feeds['input_boxes'] = new ort.Tensor('float32', Float32Array.from([...topLeft, ...bottomRight]), [1, 1, 4]);
      if (points.length === 0) {
        points.push([(topLeft[0] + bottomRight[0]) / 2, (topLeft[1] + bottomRight[1]) / 2]);
        labels.push(1);
      }
    } else {
      points.push(topLeft, bottomRight);
      labels.push(BOX_TOP_LEFT_LABEL, BOX_BOTTOM_RIGHT_LABEL);
    }
  }
  if (points.length === 0) throw new InternalError('A SlimSAM prompt needs at least one point or a box.');
  feeds['input_points'] = new ort.Tensor('float32', Float32Array.from(points.flat()), [1, 1, points.length, 2]);
  feeds['input_labels'] = new ort.Tensor('int64', BigInt64Array.from(labels.map((l) => BigInt(l))), [1, 1, labels.length]);
  return feeds;
}

/** The decoder's three candidate masks for one prompt: logits at 256² over the padded frame, and their scores. */
export interface MaskCandidates {
  /** 3 × 256 × 256 logits, mask after mask. */
  logits: Float32Array;
  scores: Float32Array;
}

export async function decodePrompt(models: ModelRegistry, embedding: ImageEmbedding, prompt: SamPrompt, task = 'segment_at'): Promise<MaskCandidates> {
  const decoder = await models.session(SAM_MODEL, { file: SAM_DECODER_FILE, task });
  const feeds = decoderFeeds(decoder.inputNames, embedding, prompt);
  const out = await decoder.run(feeds, ['iou_scores', 'pred_masks']);
  for (const name of ['input_points', 'input_labels', 'input_boxes']) feeds[name]?.dispose();
  const scores = out['iou_scores'];
  const masks = out['pred_masks'];
  if (scores === undefined || masks === undefined) throw new InternalError('The SlimSAM decoder returned no iou_scores / pred_masks.');
  const logits = masks.data as Float32Array;
  if (logits.length < 3 * MASK_PLANE) throw new InternalError(`SlimSAM pred_masks has shape [${masks.dims.join(',')}], expected [1,1,3,256,256].`);
  return { logits, scores: scores.data as Float32Array };
}

/** The candidate the decoder itself rates best (highest predicted IoU), as SAM's single-mask answer. */
export function bestCandidate(candidates: MaskCandidates): { logits: Float32Array; score: number; index: number } {
  let index = 0;
  for (let i = 1; i < 3; i++) if (candidates.scores[i]! > candidates.scores[index]!) index = i;
  return { logits: candidates.logits.subarray(index * MASK_PLANE, (index + 1) * MASK_PLANE), score: candidates.scores[index]!, index };
}

/** The part of the 256² grid that covers the image (the rest is padding), in grid cells. */
export function gridExtent(frame: SamFrame): { width: number; height: number } {
  const cell = SAM_INPUT_SIZE / SAM_MASK_SIZE;
  return { width: Math.ceil(frame.resizedWidth / cell), height: Math.ceil(frame.resizedHeight / cell) };
}

/**
 * 256² logits → a 0/255 mask at the image's size. SamProcessor upsamples to the padded 1024² frame, crops
 * the padding and resizes to the image (bilinear both times); here each image pixel samples the logits once,
 * bilinearly, at the grid position its centre maps to, which is the same geometry in one pass. Logit > 0 is inside.
 */
export function logitsToMask(logits: Float32Array, frame: SamFrame, threshold = 0): Mask {
  const { width, height } = frame;
  const out = new Uint8Array(width * height);
  const cell = SAM_INPUT_SIZE / SAM_MASK_SIZE;
  const sx = frame.resizedWidth / width / cell;
  const sy = frame.resizedHeight / height / cell;
  const last = SAM_MASK_SIZE - 1;
  const gx0 = new Int32Array(width);
  const gx1 = new Int32Array(width);
  const fx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const g = Math.min(last, Math.max(0, (x + 0.5) * sx - 0.5));
    gx0[x] = Math.floor(g);
    gx1[x] = Math.min(last, gx0[x]! + 1);
    fx[x] = g - gx0[x]!;
  }
  for (let y = 0; y < height; y++) {
    const g = Math.min(last, Math.max(0, (y + 0.5) * sy - 0.5));
    const r0 = Math.floor(g) * SAM_MASK_SIZE;
    const r1 = Math.min(last, Math.floor(g) + 1) * SAM_MASK_SIZE;
    const fy = g - Math.floor(g);
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const a = logits[r0 + gx0[x]!]!;
      const b = logits[r0 + gx1[x]!]!;
      const c = logits[r1 + gx0[x]!]!;
      const d = logits[r1 + gx1[x]!]!;
      const top = a + (b - a) * fx[x]!;
      const bottom = c + (d - c) * fx[x]!;
      if (top + (bottom - top) * fy > threshold) out[row + x] = 255;
    }
  }
  return { data: out, width, height };
}

/**
 * SAM's stability score on the grid cells that cover the image: how much the mask keeps when the threshold
 * moves from −offset to +offset (area above +offset / area above −offset). A blurry guess scores low.
 */
export function stabilityScore(logits: Float32Array, extent: { width: number; height: number }, offset = 1): number {
  let inner = 0;
  let outer = 0;
  for (let y = 0; y < extent.height; y++) {
    const row = y * SAM_MASK_SIZE;
    for (let x = 0; x < extent.width; x++) {
      const v = logits[row + x]!;
      if (v > offset) inner++;
      if (v > -offset) outer++;
    }
  }
  return outer === 0 ? 0 : inner / outer;
}
