import sharp from 'sharp';
import type { PngOptions, Sharp, SharpOptions } from 'sharp';
import { PNG_KEEP, PNG_PREVIEW, toRgba } from '../../media/image.ts';
import type { ImageLimits } from '../../media/image.ts';

/** Decoded pixels, row-major, interleaved channels: how every per-pixel step in vision/ sees an image. */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** An 8-bit single-channel mask (0 = background, 255 = subject) at an image's size. */
export interface Mask {
  data: Uint8Array;
  width: number;
  height: number;
}

export function rawInput(image: RawImage): SharpOptions {
  return { raw: { width: image.width, height: image.height, channels: image.channels } };
}

export function sharpOf(image: RawImage): Sharp {
  return sharp(image.data, rawInput(image));
}

export async function toRaw(pipeline: Sharp): Promise<RawImage> {
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels as RawImage['channels'] };
}

/** `png` defaults to the settings for a result the user keeps; previews pass PNG_PREVIEW. */
export function encodePng(image: RawImage, png: PngOptions = PNG_KEEP): Promise<Buffer> {
  return sharpOf(image).png(png).toBuffer();
}

export function maskToPng(mask: Mask): Promise<Buffer> {
  return sharp(mask.data, { raw: { width: mask.width, height: mask.height, channels: 1 } })
    .toColourspace('b-w')
    .png(PNG_PREVIEW)
    .toBuffer();
}

/** Fraction of pixels above half, for texts like "the subject covers 23 % of the image". */
export function maskCoverage(mask: Mask): number {
  let on = 0;
  const d = mask.data;
  for (let i = 0; i < d.length; i++) if (d[i]! >= 128) on++;
  return d.length === 0 ? 0 : on / d.length;
}

/**
 * The smallest box holding every mask pixel ≥ `threshold` (right/bottom exclusive), or undefined for an
 * empty mask. Binary masks use the default; a soft-edged hole counts from its faintest pixel (threshold 1).
 */
export function maskBounds(mask: Mask, threshold = 128): { left: number; top: number; right: number; bottom: number } | undefined {
  const { width, height, data } = mask;
  let left = width;
  let top = height;
  let right = -1;
  let bottom = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (data[row + x]! < threshold) continue;
      if (x < left) left = x;
      if (x > right) right = x;
      if (y < top) top = y;
      bottom = y;
    }
  }
  return right < 0 ? undefined : { left, top, right: right + 1, bottom: bottom + 1 };
}

/** Upright RGBA pixels of an image within the media limits (the media layer explains bad files), resized to `size` if given. */
export async function decodeImage(bytes: Uint8Array, limits: ImageLimits, size?: { width: number; height: number }): Promise<RawImage> {
  const rgba = await toRgba(bytes, limits, size);
  return { ...rgba, channels: 4 };
}
