import sharp from 'sharp';
import { borrowFloats, runPooled } from './float-pool.ts';
import type { ModelRegistry } from './model-registry.ts';
import { sharpOf, toRaw } from '../ops/raw-image.ts';
import type { Mask, RawImage } from '../ops/raw-image.ts';
import { needsPrefilter, resampleToPlanes } from '../ops/resample.ts';
import type { PlaneMaps } from '../ops/resample.ts';

/**
 * ISNet (DIS) salient-object segmentation with our own pre/post-processing.
 * Contract: `input` [1,3,1024,1024] RGB (v−128)/256 → `output` [1,1,1024,1024] alpha in 0..1.
 */

export const ISNET_SIZE = 1024;
const PLANE = ISNET_SIZE * ISNET_SIZE;

/** (v − 128) / 256 for every byte value: one table lookup per sample instead of arithmetic. */
const NORMALISE = Float32Array.from({ length: 256 }, (_, v) => (v - 128) / 256);
const planeOf = (channel: number) => ({ channel, scale: 1 / 256, bias: -0.5 });
const PLANES: PlaneMaps = [planeOf(0), planeOf(1), planeOf(2)];

/**
 * The network was trained on images stretched to 1024², so we stretch too (no letterbox), bilinearly as
 * the weights' own package does. CHW floats in an array borrowed from the float pool (runPooled gives
 * it back).
 */
export async function isnetInput(image: RawImage): Promise<Float32Array> {
  const chw = borrowFloats(3 * PLANE);
  if (image.width === ISNET_SIZE && image.height === ISNET_SIZE && image.channels >= 3) {
    // Already 1024²: a table lookup per sample, faster than the general resampler.
    const rgb = image.data;
    const stride = image.channels;
    for (let i = 0, p = 0; i < PLANE; i++, p += stride) {
      chw[i] = NORMALISE[rgb[p]!]!;
      chw[PLANE + i] = NORMALISE[rgb[p + 1]!]!;
      chw[2 * PLANE + i] = NORMALISE[rgb[p + 2]!]!;
    }
  } else {
    const source =
      image.channels < 3 || needsPrefilter(image, ISNET_SIZE, ISNET_SIZE)
        ? await toRaw(sharpOf(image).removeAlpha().resize(ISNET_SIZE, ISNET_SIZE, { fit: 'fill' }))
        : image;
    resampleToPlanes(
      source,
      { left: 0, top: 0, width: source.width, height: source.height },
      ISNET_SIZE,
      ISNET_SIZE,
      { data: chw, offset: 0, rowStride: ISNET_SIZE, planeStride: PLANE },
      PLANES,
    );
  }
  return chw;
}

/** Alpha 0..1 at 1024² → an 8-bit mask at the image's own size. */
export async function isnetMask(alpha: Float32Array, width: number, height: number): Promise<Mask> {
  const bytes = new Uint8Array(PLANE);
  for (let i = 0; i < PLANE; i++) {
    const v = alpha[i]!;
    bytes[i] = v <= 0 ? 0 : v >= 1 ? 255 : (v * 255 + 0.5) | 0;
  }
  if (width === ISNET_SIZE && height === ISNET_SIZE) return { data: bytes, width, height };
  const resized = await sharp(bytes, { raw: { width: ISNET_SIZE, height: ISNET_SIZE, channels: 1 } })
    .resize(width, height, { fit: 'fill' })
    // sharp turns one-channel raw input into sRGB on output unless told to stay grey.
    .toColourspace('b-w')
    .raw()
    .toBuffer();
  return { data: new Uint8Array(resized.buffer, resized.byteOffset, resized.length), width, height };
}

export const ISNET_MODEL = 'isnet';

/** The salient subject's soft mask (0..255) at the image's size. */
export async function salientMask(models: ModelRegistry, image: RawImage, task = 'cutout', model = ISNET_MODEL): Promise<Mask> {
  const session = await models.session(model, { task });
  const chw = await isnetInput(image);
  // Fetch only `output`: the six side outputs would be copied out of the graph for nothing.
  const result = await runPooled(session, 'input', chw, [1, 3, ISNET_SIZE, ISNET_SIZE], ['output']);
  const output = result['output'];
  if (output === undefined) throw new Error('ISNet returned no "output" tensor');
  const mask = await isnetMask(output.data as Float32Array, image.width, image.height);
  output.dispose();
  return mask;
}
