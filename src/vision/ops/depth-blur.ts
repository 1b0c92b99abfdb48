import sharp from 'sharp';
import { sharpOf, toRaw } from './raw-image.ts';
import type { Mask, RawImage } from './raw-image.ts';

/**
 * A background blur that grows with distance from the subject, as a wide-open lens does: what stands at
 * the subject's depth stays nearly sharp, what is far behind (or well in front) gets the full blur. The
 * blur is interpolated between a few uniformly blurred copies (a layered lens blur): one Gaussian per
 * pixel would cost a convolution per pixel, the layers cost `DEPTH_BLUR_LEVELS` sharp blurs.
 */

/** Blurred copies besides the sharp original; the wanted blur of a pixel falls between two of them. */
export const DEPTH_BLUR_LEVELS = 3;
/** Depth steps (of 0..255, relative) from the subject at which the blur is full. */
export const FULL_BLUR_DEPTH_GAP = 96;
/** The depth map is smoothed first, so texture the depth model mistakes for relief does not become blotches of blur. */
const DEPTH_SMOOTHING_SIGMA = 3;

/** The subject's depth: the median of the depth under its mask (≥ half opaque), or the nearest when it has none. */
export function subjectDepth(depth: Uint8Array, mask: Mask): number {
  const histogram = new Uint32Array(256);
  let count = 0;
  for (let i = 0; i < depth.length; i++) {
    if (mask.data[i]! < 128) continue;
    histogram[depth[i]!]! += 1;
    count++;
  }
  if (count === 0) return 255;
  let seen = 0;
  for (let level = 0; level < 256; level++) {
    seen += histogram[level]!;
    if (seen * 2 >= count) return level;
  }
  return 255;
}

/** How much of the full blur each pixel gets, 0..1, from its distance in depth to the subject. */
export function blurAmounts(depth: Uint8Array, subject: number, gap = FULL_BLUR_DEPTH_GAP): Float32Array {
  const amounts = new Float32Array(depth.length);
  for (let i = 0; i < depth.length; i++) amounts[i] = Math.min(1, Math.abs(depth[i]! - subject) / gap);
  return amounts;
}

async function smoothed(depth: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  const out = await sharp(depth, { raw: { width, height, channels: 1 } })
    .blur(DEPTH_SMOOTHING_SIGMA)
    .toColourspace('b-w')
    .raw()
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/**
 * The image (RGB) blurred by depth: `depth` is 0..255 at the image's size (255 = nearest), `mask` the
 * subject, `sigma` the full blur. The subject itself is not pasted back here: the caller composites it.
 */
export async function depthAwareBlur(image: RawImage, depth: Uint8Array, mask: Mask, sigma: number): Promise<RawImage> {
  const { width, height } = image;
  const rgb = image.channels === 3 ? image : await toRaw(sharpOf(image).removeAlpha());
  const levels: RawImage[] = [rgb];
  for (let k = 1; k <= DEPTH_BLUR_LEVELS; k++) levels.push(await toRaw(sharpOf(rgb).blur(Math.max(0.3, (sigma * k) / DEPTH_BLUR_LEVELS))));
  const amounts = blurAmounts(await smoothed(depth, width, height), subjectDepth(depth, mask));
  const out = Buffer.allocUnsafe(width * height * 3);
  for (let i = 0, o = 0; i < amounts.length; i++, o += 3) {
    const position = amounts[i]! * DEPTH_BLUR_LEVELS;
    const lower = Math.min(DEPTH_BLUR_LEVELS - 1, Math.floor(position));
    const t = position - lower;
    const a = levels[lower]!.data;
    const b = levels[lower + 1]!.data;
    out[o] = a[o]! + (b[o]! - a[o]!) * t + 0.5;
    out[o + 1] = a[o + 1]! + (b[o + 1]! - a[o + 1]!) * t + 0.5;
    out[o + 2] = a[o + 2]! + (b[o + 2]! - a[o + 2]!) * t + 0.5;
  }
  return { data: out, width, height, channels: 3 };
}
