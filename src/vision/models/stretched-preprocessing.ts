import type { KernelEnum } from 'sharp';
import { InternalError } from '../../errors.ts';
import { sharpOf, toRaw } from '../ops/raw-image.ts';
import type { RawImage } from '../ops/raw-image.ts';
import { borrowFloats } from './float-pool.ts';

/**
 * The image preprocessing of the CLIP-family models (CLIPSeg, OWL-ViT) and Florence-2, as Hugging Face's
 * ViTImageProcessor does it: the picture stretched to a fixed size (no letterbox), rescaled, normalised by a
 * mean and std, as CHW floats. Each model reads its values from its own `preprocessor_config.json`.
 */

export const PREPROCESSOR_CONFIG = 'preprocessor_config.json';

/** What `preprocessor_config.json` says about the picture the model reads. */
export interface StretchedPreprocessing {
  width: number;
  height: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  rescale: number;
  kernel: keyof KernelEnum;
}

/** PIL's resample codes, which Hugging Face processor configs use. */
const PIL_KERNELS: Record<number, keyof KernelEnum> = { 0: 'nearest', 1: 'lanczos3', 2: 'linear', 3: 'cubic' };

function triple(value: unknown, fallback: readonly [number, number, number], key: string, model: string): readonly [number, number, number] {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return [value, value, value];
  if (Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) return value as [number, number, number];
  throw new InternalError(`${PREPROCESSOR_CONFIG} of ${model}: ${key} should be three numbers, found ${JSON.stringify(value)}.`);
}

function positive(value: unknown, key: string, model: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  throw new InternalError(`${PREPROCESSOR_CONFIG} of ${model}: ${key} should be a positive whole number, found ${JSON.stringify(value)}.`);
}

/** The preprocessing a `preprocessor_config.json` asks for; keys it leaves out keep the model's `defaults`. */
export function readPreprocessing(config: Record<string, unknown>, defaults: StretchedPreprocessing, model: string): StretchedPreprocessing {
  let { width, height } = defaults;
  const size = config['size'];
  if (typeof size === 'number') width = height = positive(size, 'size', model);
  else if (size !== undefined && size !== null && typeof size === 'object') {
    const s = size as Record<string, unknown>;
    if ('height' in s || 'width' in s) {
      height = positive(s['height'], 'size.height', model);
      width = positive(s['width'], 'size.width', model);
    } else {
      // CLIPSeg was trained on square inputs; any other size form is not one this runner knows how to honour.
      throw new InternalError(`${PREPROCESSOR_CONFIG} of ${model}: expected size {height, width}, found ${JSON.stringify(size)}.`);
    }
  }
  const normalise = config['do_normalize'] !== false;
  const rescale = config['do_rescale'] === false ? 1 : typeof config['rescale_factor'] === 'number' ? config['rescale_factor'] : defaults.rescale;
  const resample = config['resample'];
  return {
    width,
    height,
    mean: normalise ? triple(config['image_mean'], defaults.mean, 'image_mean', model) : [0, 0, 0],
    std: normalise ? triple(config['image_std'], defaults.std, 'image_std', model) : [1, 1, 1],
    rescale,
    kernel: typeof resample === 'number' ? (PIL_KERNELS[resample] ?? defaults.kernel) : defaults.kernel,
  };
}

/** `pixel_values` in CHW floats, borrowed from the float pool: the caller gives it back after the run. */
export async function stretchedPixels(image: RawImage, pre: StretchedPreprocessing): Promise<Float32Array> {
  // Stretched, not letterboxed: ViTImageProcessor resizes to exactly {height, width}, and the map comes back the same way.
  const resized = await toRaw(sharpOf(image).removeAlpha().resize(pre.width, pre.height, { fit: 'fill', kernel: pre.kernel }));
  const plane = pre.width * pre.height;
  const chw = borrowFloats(3 * plane);
  const { data, channels } = resized;
  const tables = [0, 1, 2].map((c) => Float32Array.from({ length: 256 }, (_, v) => (v * pre.rescale - pre.mean[c]!) / pre.std[c]!));
  for (let i = 0, p = 0; i < plane; i++, p += channels) {
    for (let c = 0; c < 3; c++) chw[c * plane + i] = tables[c]![data[p + (channels >= 3 ? c : 0)]!]!;
  }
  return chw;
}
