import sharp from 'sharp';
import { InternalError, InvalidArgumentError, JobCancelledError } from '../../errors.ts';
import { sharpOf, toRaw } from '../ops/raw-image.ts';
import type { RawImage } from '../ops/raw-image.ts';
import { tfjs } from './tfjs-runtime.ts';
import type { LayersModel } from './tfjs-runtime.ts';
import { overlappingTiles } from '../ops/tiles.ts';
import type { Tile } from '../ops/tiles.ts';
import type { Upscaler } from './upscaler.ts';

/**
 * ESRGAN-slim (@upscalerjs/esrgan-slim, an RDN generator) on tfjs' WASM backend.
 * Contract: input `LR` float [1,h,w,3] RGB 0..255 → [1,f·h,f·w,3] 0..255, any h and w (fully
 * convolutional). Trained on 128² patches (129² for ×3); we feed tiles of a bounded size with an overlap
 * and keep only each tile's core: the network's receptive field never reaches past the overlap far
 * enough to show a seam, and memory stays flat however large the image.
 */

/**
 * Input pixels per tile side, overlap included. 256 rather than the 128 of the training patches: the
 * overlap is recomputed per tile, and at 128 it made a 512² ×2 take 17 s against 6.8 s at 256 here;
 * a 256² tile's activations are still only ~70 MB each.
 */
export const ESRGAN_TILE = 256;
/** Context each tile sees beyond the core it contributes. */
export const ESRGAN_OVERLAP = 16;

export interface TileOptions {
  tile?: number;
  overlap?: number;
  /** Called after each tile with (tiles done, tiles in all). */
  onTile?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** One tile's region as the network's NHWC float input (0..255). */
function tileInput(image: RawImage, region: Tile['region']): Float32Array {
  const data = new Float32Array(region.width * region.height * 3);
  const stride = image.channels;
  for (let y = 0, o = 0; y < region.height; y++) {
    let p = ((region.top + y) * image.width + region.left) * stride;
    for (let x = 0; x < region.width; x++, p += stride, o += 3) {
      data[o] = image.data[p]!;
      data[o + 1] = image.data[p + 1]!;
      data[o + 2] = image.data[p + 2]!;
    }
  }
  return data;
}

/** Copies a tile's core out of the network's NHWC output (factor × the region) into the RGB result. */
function placeCore(out: Buffer, outWidth: number, output: Float32Array, tile: Tile, factor: number): void {
  const regionWidth = tile.region.width * factor;
  const dx = (tile.core.left - tile.region.left) * factor;
  const dy = (tile.core.top - tile.region.top) * factor;
  const rowLength = tile.core.width * factor * 3;
  for (let y = 0; y < tile.core.height * factor; y++) {
    let s = ((dy + y) * regionWidth + dx) * 3;
    let o = ((tile.core.top * factor + y) * outWidth + tile.core.left * factor) * 3;
    for (const end = o + rowLength; o < end; o++, s++) {
      const v = output[s]!;
      out[o] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
  }
}

/** The RGB channels of `image` upscaled by the model's factor, tile by tile. */
export async function esrganRgb(model: LayersModel, image: RawImage, factor: number, options: TileOptions = {}): Promise<RawImage> {
  const { tf } = await tfjs();
  const source = image.channels >= 3 ? image : await toRaw(sharpOf(image).toColourspace('srgb'));
  const outWidth = source.width * factor;
  const outHeight = source.height * factor;
  const out = Buffer.allocUnsafe(outWidth * outHeight * 3);
  const tiles = overlappingTiles(source.width, source.height, options.tile ?? ESRGAN_TILE, options.overlap ?? ESRGAN_OVERLAP);
  for (const [index, tile] of tiles.entries()) {
    if (options.signal?.aborted) throw new JobCancelledError();
    const { width, height } = tile.region;
    const input = tf.tensor4d(tileInput(source, tile.region), [1, height, width, 3]);
    let output: import('@tensorflow/tfjs-core').Tensor | undefined;
    try {
      output = model.predict(input) as import('@tensorflow/tfjs-core').Tensor;
      const [, h, w, c] = output.shape;
      if (h !== height * factor || w !== width * factor || c !== 3) {
        throw new InternalError(
          `ESRGAN returned [${output.shape.join(',')}] for a [1,${height},${width},3] tile, expected [1,${height * factor},${width * factor},3].`,
        );
      }
      placeCore(out, outWidth, (await output.data()) as Float32Array, tile, factor);
    } finally {
      input.dispose();
      output?.dispose();
    }
    options.onTile?.(index + 1, tiles.length);
  }
  return { data: out, width: outWidth, height: outHeight, channels: 3 };
}

/**
 * Re-attaches the source's alpha, resized with Lanczos: transparency edges are shapes, not texture, and
 * a super-resolution network trained on photos has nothing to add to them.
 */
export async function withUpscaledAlpha(source: RawImage, rgb: RawImage): Promise<RawImage> {
  if (source.channels !== 4 && source.channels !== 2) return rgb;
  const { width, height } = rgb;
  const alpha = await sharpOf(source)
    .extractChannel(source.channels === 4 ? 3 : 1)
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .toColourspace('b-w')
    .raw()
    .toBuffer();
  const data = await sharp(rgb.data, { raw: { width, height, channels: 3 } })
    .joinChannel(alpha, { raw: { width, height, channels: 1 } })
    .raw()
    .toBuffer();
  return { data, width, height, channels: 4 };
}

/** Whether every pixel is opaque (an RGBA decode of a JPEG): then alpha is dropped, not upscaled. */
export function isOpaque(image: RawImage): boolean {
  if (image.channels !== 4 && image.channels !== 2) return true;
  const step = image.channels;
  for (let i = step - 1; i < image.data.length; i += step) if (image.data[i] !== 255) return false;
  return true;
}

/** ESRGAN-slim ships one model per factor, so it is one upscaler per factor. */
function esrganUpscaler(factor: 2 | 3 | 4): Upscaler {
  const model = `esrgan-slim-x${factor}`;
  return {
    name: 'esrgan-slim',
    model,
    factors: [factor],
    async upscale(image, requested, context) {
      if (requested !== factor) throw new InvalidArgumentError(`${model} upscales by ${factor} only, not by ${requested}.`, { arg: 'factor' });
      const network = await context.models.layersModel(model, 'upscale');
      const rgb = await esrganRgb(network, image, factor, {
        signal: context.signal,
        onTile: (done, total) => context.progress(done / total, `upscaling (tile ${done} of ${total})`),
      });
      return isOpaque(image) ? rgb : withUpscaledAlpha(image, rgb);
    },
  };
}

export const ESRGAN_UPSCALERS: readonly Upscaler[] = [esrganUpscaler(2), esrganUpscaler(3), esrganUpscaler(4)];
