import sharp from 'sharp';
import type { Task } from '../../../core/tasks.ts';
import { inpaintInCrop } from '../../ops/hole-crop.ts';
import { padHole } from '../../ops/masks.ts';
import type { Mask, RawImage } from '../../ops/raw-image.ts';
import type { SpecialistContext, SpecialistInput } from '../../specialist.ts';
import { generate, type Generated, sharedSettings } from '../../engines/generation.ts';

/** The square the generator paints the hole's neighbourhood at: SD-Turbo's native size. */
const FILL_SIDE = 512;

export interface Painted {
  image: RawImage;
  /** The hole as painted: the found mask grown by a few pixels, like remove's. */
  mask: Mask;
  generated: Generated;
}

/**
 * Paints `prompt` into the hole ("replace the dog with a cat", "fill the box with flowers"): a crop around
 * the hole at the generator's size, inpainted there, pasted back only inside the mask (pixels outside it
 * stay byte-identical), with the generator's result recorded as what made the picture.
 */
export async function paintHole(task: Task, image: RawImage, hole: Mask, prompt: string, input: SpecialistInput, context: SpecialistContext): Promise<Painted> {
  const mask = await padHole(hole);
  let generated: Generated | undefined;
  const painted = await inpaintInCrop(image, mask, FILL_SIDE, async (rgb, holePixels) => {
    const raw = { raw: { width: FILL_SIDE, height: FILL_SIDE, channels: 3 as const } };
    const [picture, maskPng] = await Promise.all([
      sharp(rgb, raw).png().toBuffer(),
      sharp(Buffer.from(holePixels), { raw: { width: FILL_SIDE, height: FILL_SIDE, channels: 1 } })
        .png()
        .toBuffer(),
    ]);
    generated = await generate(
      task,
      ['inpaint'],
      {
        prompt,
        ...sharedSettings(task, input),
        width: FILL_SIDE,
        height: FILL_SIDE,
        count: 1,
        image: picture,
        mask: maskPng,
        strength: 1,
      },
      context,
      { from: 0.6, to: 0.9 },
    );
    return sharp(generated.result.images[0]!.png).removeAlpha().resize(FILL_SIDE, FILL_SIDE, { fit: 'fill' }).raw().toBuffer();
  });
  if (generated === undefined) throw new RangeError('paintHole was given an empty hole');
  return { image: painted, mask, generated };
}
