import { createHash } from 'node:crypto';
import type { Box } from '../../core/types.ts';
import type { Task } from '../../core/tasks.ts';
import { ISNET_MODEL } from '../models/isnet.ts';
import type { ModelRegistry } from '../models/model-registry.ts';
import { bestCandidate, decodePrompt, imageEmbedding, logitsToMask, SAM_MODEL } from '../models/sam.ts';
import type { Mask, RawImage } from '../ops/raw-image.ts';
import { grownRect, KEEP_MARGIN, phraseMask } from './phrase-mask.ts';

/**
 * The one place that decides how a detector's box (CenterNet, BlazeFace, OWL-ViT, Florence-2, or a tracked
 * box on a video frame) becomes the mask of the object in it, for segment and cutout by phrase, remove of a
 * named object and their video paths:
 * - SlimSAM, when pulled: the box is its prompt (sam.ts sends it as SAM's box encoding). Its image embedding
 *   is cached per picture, so several boxes on one picture cost one encoder run and a decoder run each.
 * - ISNet otherwise: the salient thing of a crop around the box (phrase-mask.ts).
 * Either way the mask is kept inside the box grown by KEEP_MARGIN, so a neighbour never comes along.
 */

export type BoxMaskModel = typeof SAM_MODEL | typeof ISNET_MODEL;

/** Outlines objects by their boxes on one picture. */
export interface BoxMasker {
  /** The model that outlines ('slimsam-77' or 'isnet'). */
  readonly model: BoxMaskModel;
  /** A full-size 0/255 mask of the object in `box` (image pixels); 0 outside the slightly grown box. */
  maskOf(box: Box): Promise<Mask>;
}

/** Which model outlines a box on this machine: SlimSAM when it is pulled, else the npm-shipped ISNet. */
export function boxMaskModel(models: Pick<ModelRegistry, 'isInstalled'>): BoxMaskModel {
  return models.isInstalled(SAM_MODEL) ? SAM_MODEL : ISNET_MODEL;
}

/** An embedding-cache key for decoded pixels (a video frame has no media sha256 of its own). */
export function pixelKey(image: RawImage): string {
  return createHash('sha256').update(`${image.width}x${image.height}x${image.channels}:`).update(image.data).digest('hex');
}

/** The mask with everything outside `rect` cleared, in place. */
function keepInside(mask: Mask, rect: { left: number; top: number; width: number; height: number }): Mask {
  const { width, height, data } = mask;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    if (y < rect.top || y >= rect.top + rect.height) {
      data.fill(0, row, row + width);
      continue;
    }
    data.fill(0, row, row + rect.left);
    data.fill(0, row + rect.left + rect.width, row + width);
  }
  return mask;
}

/**
 * A masker for one picture. `key` names the picture for SlimSAM's embedding cache (the media's sha256, so a
 * click with segment_at on the same upload shares the encoder run); without one it is a hash of the pixels.
 */
export function boxMasker(models: ModelRegistry, image: RawImage, options: { task?: Task; key?: string } = {}): BoxMasker {
  const task = options.task ?? 'segment';
  if (boxMaskModel(models) === ISNET_MODEL) return { model: ISNET_MODEL, maskOf: (box) => phraseMask(models, image, box, task) };
  let key = options.key;
  return {
    model: SAM_MODEL,
    async maskOf(box) {
      key ??= pixelKey(image);
      const embedding = await imageEmbedding(models, image, key, task);
      const candidates = await decodePrompt(models, embedding, { box: [box.x1, box.y1, box.x2, box.y2] }, task);
      const mask = logitsToMask(bestCandidate(candidates).logits, embedding.frame);
      return keepInside(mask, grownRect(box, KEEP_MARGIN, image.width, image.height));
    },
  };
}
