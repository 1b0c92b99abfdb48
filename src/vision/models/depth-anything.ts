import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { InternalError } from '../../errors.ts';
import type { ModelRegistry } from './model-registry.ts';
import { sharpOf, toRaw } from '../ops/raw-image.ts';
import type { RawImage } from '../ops/raw-image.ts';

/**
 * Depth Anything V2 small (onnx-community/depth-anything-v2-small, Transformers.js export).
 * Contract: `pixel_values` float [1,3,H,W], ImageNet mean/std, H and W multiples of the ViT patch (14),
 * resized as Transformers.js' DPTImageProcessor does (keep_aspect_ratio: scale as little as possible so
 * that one side reaches 518, round both to 14) → `predicted_depth` [1,H,W]: relative inverse depth
 * (disparity), larger = nearer. We normalise it min–max over the image and show it through the turbo
 * colour map: red is near, dark blue far.
 */

export const DEPTH_MODEL = 'depth-anything-v2-small';

export interface DepthPreprocessing {
  height: number;
  width: number;
  multipleOf: number;
  keepAspectRatio: boolean;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** The values of the model's own preprocessor_config.json; used for any field it does not state. */
export const DEPTH_DEFAULTS: DepthPreprocessing = {
  height: 518,
  width: 518,
  multipleOf: 14,
  keepAspectRatio: true,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

/** No side longer than this many model pixels: DPT's aspect rule makes panoramas' long side unbounded. */
const MAX_SIDE = 4 * 518;

const triple = (v: unknown): [number, number, number] | undefined =>
  Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number') ? (v as [number, number, number]) : undefined;

/** Reads the DPT fields we use from a parsed preprocessor_config.json. */
export function depthPreprocessing(c: Record<string, unknown>): DepthPreprocessing {
  const size = (c.size ?? {}) as Record<string, unknown>;
  const num = (v: unknown, fallback: number) => (typeof v === 'number' && v > 0 ? v : fallback);
  return {
    height: num(size.height, DEPTH_DEFAULTS.height),
    width: num(size.width, DEPTH_DEFAULTS.width),
    multipleOf: num(c.ensure_multiple_of, DEPTH_DEFAULTS.multipleOf),
    keepAspectRatio: typeof c.keep_aspect_ratio === 'boolean' ? c.keep_aspect_ratio : DEPTH_DEFAULTS.keepAspectRatio,
    mean: triple(c.image_mean) ?? DEPTH_DEFAULTS.mean,
    std: triple(c.image_std) ?? DEPTH_DEFAULTS.std,
  };
}

/** DPTImageProcessor's resize: the scale closest to 1 of the two, each side rounded to the multiple. */
export function depthInputSize(width: number, height: number, p: DepthPreprocessing = DEPTH_DEFAULTS): { width: number; height: number } {
  let scaleW = p.width / width;
  let scaleH = p.height / height;
  if (p.keepAspectRatio) {
    if (Math.abs(1 - scaleW) < Math.abs(1 - scaleH)) scaleH = scaleW;
    else scaleW = scaleH;
  }
  const toMultiple = (v: number) => {
    const rounded = Math.round(v / p.multipleOf) * p.multipleOf;
    const capped = Math.min(rounded, Math.floor(MAX_SIDE / p.multipleOf) * p.multipleOf);
    return Math.max(p.multipleOf, capped);
  };
  return { width: toMultiple(width * scaleW), height: toMultiple(height * scaleH) };
}

async function preprocessing(models: ModelRegistry, task: string): Promise<DepthPreprocessing> {
  const config = await models.json(DEPTH_MODEL, 'preprocessor_config.json', task);
  return config === undefined ? DEPTH_DEFAULTS : depthPreprocessing(config);
}

/** The model's depth at its own resolution (values as the model gives them). */
export async function estimateDepth(models: ModelRegistry, image: RawImage, task = 'depth'): Promise<{ depth: Float32Array; width: number; height: number }> {
  const session = await models.session(DEPTH_MODEL, { task });
  const p = await preprocessing(models, task);
  const size = depthInputSize(image.width, image.height, p);
  // Bicubic, as the processor's resample=3; alpha dropped first, or sharp would weight colours by it.
  const opaque = await toRaw(sharpOf(image).removeAlpha().toColourspace('srgb'));
  const rgb = await sharpOf(opaque).resize(size.width, size.height, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer();
  const plane = size.width * size.height;
  const chw = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const scale = 1 / (255 * p.std[c]!);
    const bias = -p.mean[c]! / p.std[c]!;
    for (let i = 0, o = c * plane; i < plane; i++) chw[o + i] = rgb[i * 3 + c]! * scale + bias;
  }
  const feed = new ort.Tensor('float32', chw, [1, 3, size.height, size.width]);
  try {
    const outputs = await session.run({ pixel_values: feed });
    const predicted = outputs['predicted_depth'] ?? outputs[session.outputNames[0]!];
    if (predicted === undefined || predicted.data.length !== plane) {
      throw new InternalError(`Depth Anything returned [${predicted?.dims.join(',') ?? ''}], expected [1,${size.height},${size.width}] "predicted_depth"`);
    }
    const depth = Float32Array.from(predicted.data as Float32Array);
    for (const t of Object.values(outputs)) t.dispose();
    return { depth, ...size };
  } finally {
    feed.dispose();
  }
}

/** Min–max to 0..255 (255 = nearest); a flat map (no depth cue at all) comes out as 0 everywhere. */
export function normaliseDepth(depth: Float32Array): Uint8Array {
  let min = Infinity;
  let max = -Infinity;
  for (const v of depth) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const out = new Uint8Array(depth.length);
  const range = max - min;
  if (!(range > 0)) return out;
  for (let i = 0; i < depth.length; i++) out[i] = Math.round(((depth[i]! - min) / range) * 255);
  return out;
}

/** Relative depth at the image's size, 0..255, 255 = nearest. */
export async function depthMap(models: ModelRegistry, image: RawImage, task = 'depth'): Promise<Uint8Array> {
  const { depth, width, height } = await estimateDepth(models, image, task);
  const grey = normaliseDepth(depth);
  if (width === image.width && height === image.height) return grey;
  const resized = await sharp(grey, { raw: { width, height, channels: 1 } })
    .resize(image.width, image.height, { fit: 'fill', kernel: 'linear' })
    .toColourspace('b-w')
    .raw()
    .toBuffer();
  return new Uint8Array(resized.buffer, resized.byteOffset, resized.length);
}
