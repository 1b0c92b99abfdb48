import sharp from 'sharp';
import { maskBounds, sharpOf, toRaw } from './raw-image.ts';
import type { Mask, RawImage } from './raw-image.ts';

/**
 * The shared frame of the learned inpainters (MI-GAN, LaMa): they work on a fixed square (512²), so we
 * give them a crop around the hole with enough context, resized to their size, and paste their fill back
 * only where the mask says, blended over a thin feather on its inner edge. Pixels outside the mask are
 * never written, so they stay byte-identical whatever the model does to them.
 */

export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The box around every mask pixel above 0 (255 = hole), or undefined when there is no hole. */
export function holeBounds(mask: Mask): CropBox | undefined {
  const b = maskBounds(mask, 1);
  return b === undefined ? undefined : { left: b.left, top: b.top, width: b.right - b.left, height: b.bottom - b.top };
}

/**
 * The region the model sees: centred on the hole, twice its longer side (the fill comes from what
 * surrounds it) and at least `minSide` (the model's own size, so small holes are not blown up), square
 * where the image allows, inside the image.
 */
export function contextRegion(hole: CropBox, width: number, height: number, minSide: number): CropBox {
  const side = Math.max(minSide, 2 * Math.max(hole.width, hole.height));
  const w = Math.min(width, side);
  const h = Math.min(height, side);
  const cx = hole.left + hole.width / 2;
  const cy = hole.top + hole.height / 2;
  const left = Math.min(Math.max(0, Math.round(cx - w / 2)), width - w);
  const top = Math.min(Math.max(0, Math.round(cy - h / 2)), height - h);
  return { left, top, width: w, height: h };
}

/** RGB at size² (HWC) and the hole at size² (255 = hole, any coverage counts) for one region. */
export async function modelInputs(image: RawImage, mask: Mask, region: CropBox, size: number): Promise<{ rgb: Buffer; hole: Uint8Array }> {
  // Alpha goes before the resize: sharp would weight colours by alpha, and the model sees colour only.
  const crop = await toRaw(sharpOf(image).extract(region).removeAlpha().toColourspace('srgb'));
  const rgb = await sharpOf(crop).resize(size, size, { fit: 'fill' }).raw().toBuffer();
  const holeGrey = await sharp(mask.data, { raw: { width: mask.width, height: mask.height, channels: 1 } })
    .extract(region)
    .resize(size, size, { fit: 'fill', kernel: 'linear' })
    .toColourspace('b-w')
    .raw()
    .toBuffer();
  // A model pixel only partly over the hole still shows part of the object: it is hole too.
  const hole = new Uint8Array(size * size);
  for (let i = 0; i < hole.length; i++) hole[i] = holeGrey[i]! > 0 ? 255 : 0;
  return { rgb, hole };
}

/** Sigma of the inner feather, in image pixels: wide enough to hide the seam, narrow enough to keep the fill. */
const FEATHER_SIGMA = 1.5;

/**
 * Pastes a size² RGB fill back into a copy of the image: weight min(mask, blurred mask), so the fill
 * fades in over ~2 px inside the hole and nothing outside the hole changes. Alpha stays as it was.
 */
export async function pasteFill(image: RawImage, mask: Mask, region: CropBox, fill: Buffer, size: number): Promise<RawImage> {
  const back = await sharp(fill, { raw: { width: size, height: size, channels: 3 } })
    .resize(region.width, region.height, { fit: 'fill' })
    .raw()
    .toBuffer();
  const maskCrop = sharp(mask.data, { raw: { width: mask.width, height: mask.height, channels: 1 } }).extract(region);
  const blurred = await maskCrop.blur(FEATHER_SIGMA).toColourspace('b-w').raw().toBuffer();
  const out = Buffer.from(image.data);
  const stride = image.channels;
  for (let y = 0; y < region.height; y++) {
    for (let x = 0; x < region.width; x++) {
      const m = mask.data[(region.top + y) * mask.width + region.left + x]!;
      if (m === 0) continue;
      const weight = Math.min(m, blurred[y * region.width + x]!) / 255;
      const o = ((region.top + y) * image.width + region.left + x) * stride;
      const f = (y * region.width + x) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = Math.round(out[o + c]! * (1 - weight) + back[f + c]! * weight);
    }
  }
  return { ...image, data: out };
}

/**
 * Crop around the hole, let `fill` paint it at the model's size (RGB HWC in, RGB HWC out; hole 255 =
 * fill here), paste back. An empty mask returns the image unchanged; grey images become RGB first.
 */
export async function inpaintInCrop(image: RawImage, mask: Mask, size: number, fill: (rgb: Buffer, hole: Uint8Array) => Promise<Buffer>): Promise<RawImage> {
  if (mask.width !== image.width || mask.height !== image.height) {
    throw new RangeError(`mask ${mask.width}×${mask.height} does not match image ${image.width}×${image.height}`);
  }
  const hole = holeBounds(mask);
  if (hole === undefined) return { ...image, data: Buffer.from(image.data) };
  const rgbImage = image.channels >= 3 ? image : await toRaw(sharpOf(image).toColourspace('srgb'));
  const region = contextRegion(hole, image.width, image.height, size);
  const inputs = await modelInputs(rgbImage, mask, region, size);
  const painted = await fill(inputs.rgb, inputs.hole);
  return pasteFill(rgbImage, mask, region, painted, size);
}
