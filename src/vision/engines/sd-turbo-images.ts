import sharp from 'sharp';
import { PNG_PREVIEW } from '../../media/image.ts';
import { encodePng } from '../ops/raw-image.ts';
import { LATENT_CHANNELS, VAE_FACTOR } from './sd-turbo-pipeline.ts';

/** Pictures in and out of SD-Turbo's spaces: [1,3,H,W] in [-1,1] for the VAE, RGB bytes and PNG for people. */

export interface InputPicture {
  /** [1,3,H,W] in [-1,1], for the VAE encoder. */
  pixels: Float32Array;
  /** The same picture as interleaved RGB bytes, to paste back where inpainting keeps it. */
  rgb: Buffer;
}

/** The picture stretched to exactly width×height (the caller asked for that size; the engine only rounded it to 8). */
export async function readPicture(bytes: Buffer, width: number, height: number): Promise<InputPicture> {
  const rgb = await sharp(bytes)
    .rotate()
    .flatten({ background: '#ffffff' })
    .resize(width, height, { fit: 'fill' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer();
  const plane = width * height;
  const pixels = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) pixels[c * plane + i] = rgb[i * 3 + c]! / 127.5 - 1;
  return { pixels, rgb };
}

/** 1 where the mask is white (≥ 128: repaint), 0 elsewhere, at width×height. */
export async function readMask(bytes: Buffer, width: number, height: number): Promise<Uint8Array> {
  const grey = await sharp(bytes).removeAlpha().greyscale().resize(width, height, { fit: 'fill', kernel: 'nearest' }).raw().toBuffer();
  const mask = new Uint8Array(width * height);
  for (let i = 0; i < mask.length; i++) mask[i] = grey[i]! >= 128 ? 1 : 0;
  return mask;
}

/**
 * One value per latent cell: 1 when any of its 8×8 pixels is to be repainted. Dilating to whole cells lets the
 * model repaint every masked pixel; the kept pixels are pasted back exactly afterwards (pasteKept).
 */
export function latentMask(mask: Uint8Array, width: number, height: number): Float32Array {
  const lw = width / VAE_FACTOR;
  const lh = height / VAE_FACTOR;
  const cells = new Float32Array(lw * lh);
  for (let y = 0; y < height; y++) {
    const row = ((y / VAE_FACTOR) | 0) * lw;
    for (let x = 0; x < width; x++) if (mask[y * width + x]) cells[row + ((x / VAE_FACTOR) | 0)] = 1;
  }
  return cells;
}

/** [-1,1] → 0..255, clamped (a Buffer would wrap out-of-range values instead). */
function toByte(v: number): number {
  return Math.min(255, Math.max(0, Math.round((v + 1) * 127.5)));
}

/** Decoder pixels [1,3,H,W] in [-1,1] → interleaved RGB bytes. */
export function pixelsToRgb(pixels: Float32Array, width: number, height: number): Buffer {
  const plane = width * height;
  const rgb = Buffer.allocUnsafe(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      rgb[i * 3 + c] = toByte(pixels[c * plane + i]!);
    }
  }
  return rgb;
}

/** Inpainting keeps the unmasked pixels byte for byte: the VAE round trip would blur them otherwise. */
export function pasteKept(generated: Buffer, original: Buffer, mask: Uint8Array): void {
  for (let i = 0; i < mask.length; i++) {
    if (mask[i]) continue;
    generated[i * 3] = original[i * 3]!;
    generated[i * 3 + 1] = original[i * 3 + 1]!;
    generated[i * 3 + 2] = original[i * 3 + 2]!;
  }
}

export function rgbPng(rgb: Buffer, width: number, height: number): Promise<Buffer> {
  return encodePng({ data: rgb, width, height, channels: 3 });
}

/**
 * SD 1.x/2.x latent → RGB as a linear map (the factors ComfyUI's latent previewer uses for SD 1.5/2.x latents),
 * applied to the current clean-latent estimate: a blurry 1/8-size colour sketch for the cost of a few
 * multiply-adds per cell instead of a VAE decode (≈1 s at 512² on CPU). Upscaled 2× so chat clients show it.
 */
const LATENT_RGB: readonly (readonly [number, number, number])[] = [
  [0.3512, 0.2297, 0.3227],
  [0.325, 0.4974, 0.235],
  [-0.2829, 0.1762, 0.2721],
  [-0.212, -0.2616, -0.7177],
];

export async function previewPng(x0: Float32Array, latentWidth: number, latentHeight: number): Promise<Buffer> {
  const cells = latentWidth * latentHeight;
  const rgb = Buffer.allocUnsafe(cells * 3);
  for (let i = 0; i < cells; i++) {
    for (let c = 0; c < 3; c++) {
      let v = 0;
      for (let k = 0; k < LATENT_CHANNELS; k++) v += x0[k * cells + i]! * LATENT_RGB[k]![c]!;
      rgb[i * 3 + c] = toByte(v);
    }
  }
  return sharp(rgb, { raw: { width: latentWidth, height: latentHeight, channels: 3 } })
    .resize(latentWidth * 2, latentHeight * 2, { kernel: 'nearest' })
    .png(PNG_PREVIEW)
    .toBuffer();
}
