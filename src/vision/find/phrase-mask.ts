import type { Box } from '../../core/types.ts';
import type { Task } from '../../core/tasks.ts';
import type { ModelRegistry } from '../models/model-registry.ts';
import { sharpOf, toRaw } from '../ops/raw-image.ts';
import type { Mask, RawImage } from '../ops/raw-image.ts';
import { salientMask } from '../models/isnet.ts';

/**
 * The mask of one detected object when SlimSAM is not pulled (box-mask.ts decides): ISNet finds "the
 * salient thing" and a detector box makes the object the salient thing of a crop. The crop has a margin so
 * ISNet sees the object's outline against its surroundings; the mask is kept only inside the box grown a
 * little, so a neighbour that also stands out in the margin is not taken along.
 */

/** Margin around the box for the crop, as a fraction of the box's size on each side. */
const CROP_MARGIN = 0.15;
/** Detector boxes are a few pixels tight on tails, ears and hands: keep the mask a little beyond them. */
export const KEEP_MARGIN = 0.04;

interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The box grown by `margin` of its size on each side, in whole pixels inside the image. */
export function grownRect(box: Box, margin: number, width: number, height: number): Rect {
  const mx = (box.x2 - box.x1) * margin;
  const my = (box.y2 - box.y1) * margin;
  const left = Math.max(0, Math.floor(box.x1 - mx));
  const top = Math.max(0, Math.floor(box.y1 - my));
  const right = Math.min(width, Math.ceil(box.x2 + mx));
  const bottom = Math.min(height, Math.ceil(box.y2 + my));
  return { left, top, width: Math.max(1, right - left), height: Math.max(1, bottom - top) };
}

/** A full-size mask of the object in the box, by ISNet on a crop around it (0 outside the slightly grown box). */
export async function phraseMask(models: ModelRegistry, image: RawImage, detection: Box, task: Task = 'segment'): Promise<Mask> {
  const crop = grownRect(detection, CROP_MARGIN, image.width, image.height);
  const pixels = await toRaw(sharpOf(image).extract(crop));
  const cropMask = await salientMask(models, pixels, task);
  const keep = grownRect(detection, KEEP_MARGIN, image.width, image.height);
  const out = new Uint8Array(image.width * image.height);
  const x0 = Math.max(crop.left, keep.left);
  const x1 = Math.min(crop.left + crop.width, keep.left + keep.width);
  const y0 = Math.max(crop.top, keep.top);
  const y1 = Math.min(crop.top + crop.height, keep.top + keep.height);
  for (let y = y0; y < y1; y++) {
    const src = (y - crop.top) * crop.width - crop.left;
    const dst = y * image.width;
    for (let x = x0; x < x1; x++) out[dst + x] = cropMask.data[src + x]!;
  }
  return { data: out, width: image.width, height: image.height };
}

/** Pixel-wise maximum of masks of the same size ("all the dogs"). */
export function unionOf(masks: readonly Mask[], width: number, height: number): Mask {
  const out = new Uint8Array(width * height);
  for (const m of masks) for (let i = 0; i < out.length; i++) if (m.data[i]! > out[i]!) out[i] = m.data[i]!;
  return { data: out, width, height };
}
