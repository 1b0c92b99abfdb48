import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { InternalError, InvalidArgumentError, JobCancelledError, MediaLimitError } from '../../errors.ts';
import { sharpOf, toRaw } from '../ops/raw-image.ts';
import type { RawImage } from '../ops/raw-image.ts';
import type { SpecialistContext } from '../specialist.ts';
import { overlappingTiles } from '../ops/tiles.ts';
import type { Tile } from '../ops/tiles.ts';
import type { Upscaler } from './upscaler.ts';

/**
 * Swin2SR classical ×2 (Xenova/swin2SR-classical-sr-x2-64, Transformers.js export `onnx/model.onnx`).
 * Contract: `pixel_values` float [1,3,H,W] RGB in 0..1 (rescale only, no mean/std), H and W multiples of
 * the attention window (8; Transformers.js' Swin2SRImageProcessor pads symmetrically at the right and
 * bottom) → `reconstruction` [1,3,2H,2W] in ~0..1. We tile (window attention's memory grows with the
 * tile), pad each tile to the window, and keep only each tile's core, so padding and tile borders
 * never reach the result.
 */

export const SWIN2SR_MODEL = 'swin2sr-x2';
export const SWIN2SR_WINDOW = 8;
const SCALE = 2;
/** Input pixels per tile side, overlap included: ~0.5 s and ~300 MB per tile on CPU at this size. */
export const SWIN2SR_TILE = 256;
/** Context each tile sees beyond the part it contributes, so no seam shows where tiles meet. */
export const SWIN2SR_OVERLAP = 16;

/** Swin2SR's tiles: the shared grid at this model's tile size and overlap. */
export function tileGrid(width: number, height: number, tile = SWIN2SR_TILE, overlap = SWIN2SR_OVERLAP): Tile[] {
  return overlappingTiles(width, height, tile, overlap);
}

/** The next multiple of the window (unchanged when already one, as Transformers.js does). */
export const padToWindow = (n: number): number => Math.ceil(n / SWIN2SR_WINDOW) * SWIN2SR_WINDOW;

/** Symmetric padding: index n maps to n−1, n+1 to n−2… (clamped for regions narrower than the pad). */
function mirror(i: number, n: number): number {
  return i < n ? i : Math.max(0, 2 * n - 1 - i);
}

/** One tile of an RGB(A) image as the model's CHW float input, padded to the window. */
export function tileInput(image: RawImage, region: Tile['region']): { data: Float32Array; width: number; height: number } {
  const width = padToWindow(region.width);
  const height = padToWindow(region.height);
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  const stride = image.channels;
  for (let y = 0; y < height; y++) {
    const sy = region.top + mirror(y, region.height);
    for (let x = 0; x < width; x++) {
      const p = (sy * image.width + region.left + mirror(x, region.width)) * stride;
      const i = y * width + x;
      data[i] = image.data[p]! / 255;
      data[plane + i] = image.data[p + 1]! / 255;
      data[2 * plane + i] = image.data[p + 2]! / 255;
    }
  }
  return { data, width, height };
}

/** Copies a tile's core from the model output (CHW, 2× the padded tile) into the RGB output. */
export function placeCore(out: Buffer, outWidth: number, reconstruction: Float32Array, reconWidth: number, reconHeight: number, tile: Tile): void {
  const plane = reconWidth * reconHeight;
  const dx = (tile.core.left - tile.region.left) * SCALE;
  const dy = (tile.core.top - tile.region.top) * SCALE;
  for (let y = 0; y < tile.core.height * SCALE; y++) {
    const row = (dy + y) * reconWidth + dx;
    let o = ((tile.core.top * SCALE + y) * outWidth + tile.core.left * SCALE) * 3;
    for (let x = 0; x < tile.core.width * SCALE; x++, o += 3) {
      for (let c = 0; c < 3; c++) {
        const v = reconstruction[c * plane + row + x]! * 255;
        out[o + c] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
      }
    }
  }
}

async function upscaleRgb(session: ort.InferenceSession, image: RawImage, context: SpecialistContext): Promise<Buffer> {
  const outWidth = image.width * SCALE;
  const out = Buffer.allocUnsafe(outWidth * image.height * SCALE * 3);
  const tiles = tileGrid(image.width, image.height);
  for (const [index, tile] of tiles.entries()) {
    if (context.signal.aborted) throw new JobCancelledError();
    const input = tileInput(image, tile.region);
    const feed = new ort.Tensor('float32', input.data, [1, 3, input.height, input.width]);
    try {
      const outputs = await session.run({ pixel_values: feed });
      const reconstruction = outputs['reconstruction'] ?? outputs[session.outputNames[0]!];
      const [, channels, h, w] = reconstruction?.dims ?? [];
      if (reconstruction === undefined || channels !== 3 || h !== input.height * SCALE || w !== input.width * SCALE) {
        throw new InternalError(
          `Swin2SR returned [${reconstruction?.dims.join(',') ?? ''}] for a [1,3,${input.height},${input.width}] input, expected [1,3,${input.height * SCALE},${input.width * SCALE}]`,
        );
      }
      placeCore(out, outWidth, reconstruction.data as Float32Array, w, h, tile);
      for (const t of Object.values(outputs)) t.dispose();
    } finally {
      feed.dispose();
    }
    context.progress((index + 1) / tiles.length, `upscaling (tile ${index + 1} of ${tiles.length})`);
  }
  return out;
}

export const swin2srUpscaler: Upscaler = {
  name: 'swin2sr',
  model: SWIN2SR_MODEL,
  factors: [SCALE],
  async upscale(image, factor, context) {
    if (factor !== SCALE) throw new InvalidArgumentError(`Swin2SR upscales by ${SCALE} only, not by ${factor}.`, { arg: 'factor' });
    const width = image.width * SCALE;
    const height = image.height * SCALE;
    if (width * height > context.limits.maxImagePixels) {
      throw new MediaLimitError('The upscaled image', `${context.limits.maxImagePixels} pixels`, `${width}×${height} = ${width * height} pixels`);
    }
    const session = await context.models.session(SWIN2SR_MODEL, { task: 'upscale' });
    const rgbSource = image.channels >= 3 ? image : await toRaw(sharpOf(image).toColourspace('srgb'));
    const rgb = await upscaleRgb(session, rgbSource, context);
    if (image.channels !== 4 && image.channels !== 2) return { data: rgb, width, height, channels: 3 };
    // Alpha is not the model's business: a plain Lanczos resize keeps edges where they were.
    const alpha = await sharpOf(image)
      .extractChannel(image.channels === 4 ? 3 : 1)
      .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
      .toColourspace('b-w')
      .raw()
      .toBuffer();
    return {
      data: await sharp(rgb, { raw: { width, height, channels: 3 } })
        .joinChannel(alpha, { raw: { width, height, channels: 1 } })
        .raw()
        .toBuffer(),
      width,
      height,
      channels: 4,
    };
  },
};
