import { CorruptMediaError, InvalidArgumentError } from '../../errors.ts';
import { openImage } from '../../media/image.ts';
import type { ImageLimits } from '../../media/image.ts';
import { maskBounds } from './raw-image.ts';
import type { Mask } from './raw-image.ts';
import { dilateMask } from './opencv.ts';

/**
 * Where the hole of remove / inpaint / replace comes from: a box, a mask image the user uploaded, or a
 * phrase (see `segmentByPhrase` in segment/segment-phrase.ts). Masks are 0/255, 255 = the hole.
 */

/** A box [x1, y1, x2, y2] in image pixels as a mask; the box is clipped to the image, an empty one refused. */
export function maskFromBox(width: number, height: number, box: readonly [number, number, number, number]): Mask {
  if (box.some((v) => !Number.isFinite(v)))
    throw new InvalidArgumentError(`The box must be four numbers [x1, y1, x2, y2] in pixels, not ${JSON.stringify(box)}.`, { arg: 'box' });
  const x1 = Math.max(0, Math.floor(Math.min(box[0], box[2])));
  const y1 = Math.max(0, Math.floor(Math.min(box[1], box[3])));
  const x2 = Math.min(width, Math.ceil(Math.max(box[0], box[2])));
  const y2 = Math.min(height, Math.ceil(Math.max(box[1], box[3])));
  if (x2 <= x1 || y2 <= y1) {
    throw new InvalidArgumentError(`The box [${box.join(', ')}] does not cover any of the ${width} × ${height} image: give [x1, y1, x2, y2] in its pixels.`, {
      arg: 'box',
    });
  }
  if (x1 === 0 && y1 === 0 && x2 === width && y2 === height) {
    throw new InvalidArgumentError('The box covers the whole image, so nothing would be left to fill it from: draw a box around just the thing to remove.', {
      arg: 'box',
    });
  }
  const data = new Uint8Array(width * height);
  for (let y = y1; y < y2; y++) data.fill(255, y * width + x1, y * width + x2);
  return { data, width, height };
}

/**
 * A mask image the user uploaded (white = the area to fill), stretched to the photo's size and
 * thresholded at half. Transparent pixels count as black: a PNG with the hole painted on transparency
 * works too. All black (nothing to fill) and all white (nothing to fill from) are refused.
 */
export async function maskFromImage(bytes: Uint8Array, width: number, height: number, limits: ImageLimits): Promise<Mask> {
  let grey: Buffer;
  try {
    grey = await openImage(bytes, limits).flatten({ background: '#000000' }).resize(width, height, { fit: 'fill' }).toColourspace('b-w').raw().toBuffer();
  } catch (error) {
    throw new CorruptMediaError(`The mask image could not be read (${error instanceof Error ? error.message.split('\n')[0] : String(error)}).`);
  }
  const data = new Uint8Array(width * height);
  let on = 0;
  for (let i = 0; i < data.length; i++) {
    if (grey[i]! >= 128) {
      data[i] = 255;
      on++;
    }
  }
  if (on === 0) {
    throw new InvalidArgumentError(
      'The mask image is all black, so there is nothing to fill: paint the area to remove in white on black and send it with the photo.',
      { arg: 'mask' },
    );
  }
  if (on === data.length) {
    throw new InvalidArgumentError(
      'The mask image is all white, so nothing of the photo would be left to fill from: paint only the area to remove in white, the rest black.',
      { arg: 'mask' },
    );
  }
  return { data, width, height };
}

/** The hole from an image's own transparency: "fill the transparent areas" of a cut-out. */
export function maskFromAlpha(rgba: { data: Buffer; width: number; height: number; channels: number }): Mask | undefined {
  if (rgba.channels !== 4) return undefined;
  const n = rgba.width * rgba.height;
  const data = new Uint8Array(n);
  let on = 0;
  for (let i = 0; i < n; i++) {
    if (rgba.data[i * 4 + 3]! < 128) {
      data[i] = 255;
      on++;
    }
  }
  return on === 0 || on === n ? undefined : { data, width: rgba.width, height: rgba.height };
}

/**
 * How far to grow a hole beyond the object: detector masks stop short of soft edges, hair and the
 * contact shadow, and a fill seeded from those leftovers brings them back as a ghost. ~1 % of the
 * image's shorter side, at least 3 pixels.
 */
export function holeMargin(width: number, height: number): number {
  return Math.max(3, Math.round(Math.min(width, height) / 100));
}

/** The hole grown by `holeMargin` (binary: anything ≥ 128 counts as hole first). */
export async function padHole(mask: Mask, margin = holeMargin(mask.width, mask.height)): Promise<Mask> {
  const binary = new Uint8Array(mask.data.length);
  for (let i = 0; i < binary.length; i++) binary[i] = mask.data[i]! >= 128 ? 255 : 0;
  return dilateMask({ data: binary, width: mask.width, height: mask.height }, margin);
}

/** The hole's box [x1, y1, x2, y2] (exclusive right/bottom), for fitting a replacement into it. */
export function holeBox(mask: Mask): [number, number, number, number] | undefined {
  const b = maskBounds(mask);
  return b === undefined ? undefined : [b.left, b.top, b.right, b.bottom];
}
