import sharp from 'sharp';
import type { Box } from '../../core/types.ts';
import type { RawImage } from './raw-image.ts';

/**
 * Blur or pixelate inside boxes only (privacy edits: "blur the faces", "pixelate the licence plates").
 * Every pixel outside the grown boxes is left exactly as it was; inside, the effect fades in over a soft
 * edge so the patch does not look pasted on. Faces get an ellipse (their shape, and it leaves the
 * background corners alone), other objects a rectangle.
 */

export type RegionEffect = { kind: 'blur'; sigma: number } | { kind: 'pixelate'; block: number };
export type RegionShape = 'ellipse' | 'rectangle';

/**
 * Each side moves out by this fraction of the box. Face boxes stop at the brows and the jaw line, and an
 * ellipse inscribed in a box leaves its corners out; a blurred face framed by sharp hair still reads as
 * a face to BlazeFace (0.56 on astronaut.png with 0.2, up to 0.63 on 256 px video frames with 0.3). At
 * 0.4 the ellipse takes in the hairline and chin and nothing scores above 0.51. Object boxes (people,
 * cars) already reach the object's edges.
 */
export const REGION_GROWTH: Readonly<Record<RegionShape, number>> = { ellipse: 0.4, rectangle: 0.1 };
/**
 * The weakest effect that still hides a region, relative to its (ungrown) short side. Blur: with a
 * quarter the face was unrecognisable to people but BlazeFace still found a head-shaped blob on 256 px
 * video frames (0.71); with a half it scores at most 0.44. Pixelate: blocks of an eighth leave a face
 * about 8 blocks wide, which BlazeFace no longer finds (0.34).
 */
const MIN_SIGMA_FRACTION = 1 / 2;
const MIN_BLOCK_FRACTION = 1 / 8;
/** Width of the soft edge, as a fraction of the shape's radius (ellipse) or of its short side (rectangle). */
const FEATHER = 0.15;

interface PixelRect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The box grown by `growth` of its size on every side, in whole pixels, clipped to the image. */
export function grownBox(box: Box, width: number, height: number, growth: number): Box {
  const gx = (box.x2 - box.x1) * growth;
  const gy = (box.y2 - box.y1) * growth;
  return {
    x1: Math.max(0, Math.floor(box.x1 - gx)),
    y1: Math.max(0, Math.floor(box.y1 - gy)),
    x2: Math.min(width, Math.ceil(box.x2 + gx)),
    y2: Math.min(height, Math.ceil(box.y2 + gy)),
  };
}

/** The requested effect, made strong enough to hide a region whose (ungrown) short side is `size`. */
export function effectFor(effect: RegionEffect, size: number): RegionEffect {
  return effect.kind === 'blur'
    ? { kind: 'blur', sigma: Math.max(effect.sigma, size * MIN_SIGMA_FRACTION, 0.3) }
    : { kind: 'pixelate', block: Math.max(1, Math.round(Math.max(effect.block, size * MIN_BLOCK_FRACTION))) };
}

/** The rectangle's pixels with the effect applied to the whole rectangle. */
async function affected(image: RawImage, rect: PixelRect, effect: RegionEffect): Promise<Buffer> {
  const raw = { raw: { width: image.width, height: image.height, channels: image.channels } } as const;
  if (effect.kind === 'pixelate') {
    const w = Math.max(1, Math.ceil(rect.width / effect.block));
    const h = Math.max(1, Math.ceil(rect.height / effect.block));
    // Down with an averaging kernel (each block its mean colour), up with nearest (hard block edges).
    const small = await sharp(image.data, raw).extract(rect).resize(w, h, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
    return sharp(small, { raw: { width: w, height: h, channels: image.channels } })
      .resize(w * effect.block, h * effect.block, { fit: 'fill', kernel: 'nearest' })
      .extract({ left: 0, top: 0, width: rect.width, height: rect.height })
      .raw()
      .toBuffer();
  }
  // Blur a margin of 3σ around the rectangle as well, so its edge pixels average real neighbours
  // instead of the edge repeated.
  const pad = Math.ceil(effect.sigma * 3);
  const outer = {
    left: Math.max(0, rect.left - pad),
    top: Math.max(0, rect.top - pad),
    width: Math.min(image.width, rect.left + rect.width + pad) - Math.max(0, rect.left - pad),
    height: Math.min(image.height, rect.top + rect.height + pad) - Math.max(0, rect.top - pad),
  };
  return sharp(image.data, raw)
    .extract(outer)
    .blur(effect.sigma)
    .extract({ left: rect.left - outer.left, top: rect.top - outer.top, width: rect.width, height: rect.height })
    .raw()
    .toBuffer();
}

/** How much of the effect a pixel of the rectangle gets: 1 well inside the shape, 0 outside it. */
function weight(shape: RegionShape, x: number, y: number, rect: PixelRect): number {
  if (shape === 'ellipse') {
    const dx = (x + 0.5 - rect.width / 2) / (rect.width / 2);
    const dy = (y + 0.5 - rect.height / 2) / (rect.height / 2);
    return Math.min(1, Math.max(0, (1 - Math.sqrt(dx * dx + dy * dy)) / FEATHER));
  }
  const edge = Math.min(x + 0.5, y + 0.5, rect.width - x - 0.5, rect.height - y - 0.5);
  return Math.min(1, Math.max(0, edge / Math.max(1, Math.min(rect.width, rect.height) * FEATHER * 0.5)));
}

/**
 * The image with the effect inside each box (grown by REGION_GROWTH, strengthened by `effectFor`).
 * Boxes are worked one after another on the same pixels, so overlapping boxes compose.
 */
export async function coverRegions(image: RawImage, boxes: readonly Box[], effect: RegionEffect, shape: RegionShape): Promise<RawImage> {
  const data = Buffer.from(image.data);
  const out: RawImage = { ...image, data };
  const channels = image.channels;
  for (const box of boxes) {
    const g = grownBox(box, image.width, image.height, REGION_GROWTH[shape]);
    const rect = { left: g.x1, top: g.y1, width: g.x2 - g.x1, height: g.y2 - g.y1 };
    if (rect.width < 1 || rect.height < 1) continue;
    const size = Math.min(box.x2 - box.x1, box.y2 - box.y1);
    const patch = await affected(out, rect, effectFor(effect, size));
    for (let y = 0; y < rect.height; y++) {
      for (let x = 0; x < rect.width; x++) {
        const w = weight(shape, x, y, rect);
        if (w === 0) continue;
        const o = ((rect.top + y) * image.width + rect.left + x) * channels;
        const p = (y * rect.width + x) * channels;
        for (let c = 0; c < channels; c++) data[o + c] = Math.round(data[o + c]! + w * (patch[p + c]! - data[o + c]!));
      }
    }
  }
  return out;
}

/** The whole image in blocks of `block` pixels ("pixelate it"). */
export async function pixelateImage(image: RawImage, block: number): Promise<RawImage> {
  const data = await affected(
    image,
    { left: 0, top: 0, width: image.width, height: image.height },
    { kind: 'pixelate', block: Math.max(1, Math.round(block)) },
  );
  return { ...image, data };
}

/** The verb for result texts: "Blurred 2 faces." */
export function effectVerb(effect: RegionEffect): string {
  return effect.kind === 'blur' ? 'Blurred' : 'Pixelated';
}
