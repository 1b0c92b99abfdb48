import sharp from 'sharp';
import { InvalidArgumentError, UnsupportedMediaForTaskError } from '../../../errors.ts';
import { decodeImage, sharpOf } from '../../ops/raw-image.ts';
import type { Mask, RawImage } from '../../ops/raw-image.ts';
import { salientMask } from '../../models/isnet.ts';
import type { Specialist, SpecialistContext, SpecialistInput, SpecialistResult } from '../../specialist.ts';
import { checkArgs } from '../../ops/args.ts';
import { isOpaque } from '../../models/esrgan.ts';
import { inpainterTitle } from '../../models/inpainter-choice.ts';
import { holeBox } from '../../ops/masks.ts';
import { editOutputs, fillHole, findHole } from './remove.ts';
import { paintHole } from './generative-fill.ts';
import { factsOf, madeWith, requireEngine } from '../../engines/generation.ts';

/**
 * replace = remove + paste: the thing found is erased and filled (as remove does), then the user's
 * second image is fitted into the hole's box (aspect kept, standing on the box's bottom edge), cut out
 * with ISNet when it has a background, and alpha-blended over the fill with a softened edge.
 */

/** The pasted subject's alpha edge is softened by this many pixels so it does not look cut with scissors. */
const EDGE_FEATHER = 1.2;

/** The replacement's own alpha (0..255): its transparency if it has any, else ISNet's salient subject. */
async function subjectAlpha(replacement: RawImage, context: SpecialistContext): Promise<Mask> {
  if (!isOpaque(replacement)) {
    const n = replacement.width * replacement.height;
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = replacement.data[i * 4 + 3]!;
    return { data, width: replacement.width, height: replacement.height };
  }
  return salientMask(context.models, replacement, 'replace');
}

/** The subject's bounding box in its own image (pixels with alpha ≥ 128), so the fit is of the subject, not its canvas. */
function subjectBounds(alpha: Mask): { left: number; top: number; width: number; height: number } {
  const box = holeBox(alpha);
  if (box === undefined)
    throw new InvalidArgumentError(
      'I could not find a subject in the replacement image to paste in: send a picture of one thing, ideally on a plain or transparent background.',
      { arg: 'replacement' },
    );
  return { left: box[0], top: box[1], width: box[2] - box[0], height: box[3] - box[1] };
}

/** `base` with `replacement`'s subject pasted into `box` [x1, y1, x2, y2]: contained, centred, bottom-aligned. */
export async function pasteInto(base: RawImage, replacement: RawImage, alpha: Mask, box: readonly [number, number, number, number]): Promise<RawImage> {
  const crop = subjectBounds(alpha);
  const boxWidth = box[2] - box[0];
  const boxHeight = box[3] - box[1];
  const scale = Math.min(boxWidth / crop.width, boxHeight / crop.height);
  const width = Math.max(1, Math.round(crop.width * scale));
  const height = Math.max(1, Math.round(crop.height * scale));
  const left = box[0] + Math.round((boxWidth - width) / 2);
  const top = box[3] - height;
  const rgb = await sharpOf(replacement).removeAlpha().extract(crop).resize(width, height, { fit: 'fill' }).raw().toBuffer();
  const a = await sharp(alpha.data, { raw: { width: alpha.width, height: alpha.height, channels: 1 } })
    .extract(crop)
    .resize(width, height, { fit: 'fill' })
    .blur(EDGE_FEATHER)
    .toColourspace('b-w')
    .raw()
    .toBuffer();
  const out = Buffer.from(base.data);
  const c = base.channels;
  for (let y = 0; y < height; y++) {
    const by = top + y;
    if (by < 0 || by >= base.height) continue;
    for (let x = 0; x < width; x++) {
      const bx = left + x;
      if (bx < 0 || bx >= base.width) continue;
      const k = a[y * width + x]!;
      if (k === 0) continue;
      const o = (by * base.width + bx) * c;
      const s = (y * width + x) * 3;
      for (let ch = 0; ch < 3; ch++) out[o + ch] = (rgb[s + ch]! * k + out[o + ch]! * (255 - k) + 127) / 255;
      if (c === 4) out[o + 3] = Math.max(out[o + 3]!, k);
    }
  }
  return { data: out, width: base.width, height: base.height, channels: base.channels };
}

async function replaceInImage(input: SpecialistInput, context: SpecialistContext): Promise<SpecialistResult> {
  const replacementMedia = input.media[1];
  if (replacementMedia === undefined) {
    const prompt = typeof input.args.prompt === 'string' ? input.args.prompt.trim() : '';
    if (prompt === '') {
      throw new InvalidArgumentError(
        'Replace it with what? Send the picture to put in its place with your message ("replace the cat with this"), or describe it.',
        { arg: 'prompt' },
      );
    }
    return replaceByWords(input, prompt, context);
  }
  if (replacementMedia.info.kind !== 'image') throw new InvalidArgumentError('The replacement has to be an image, not a video.', { arg: 'replacement' });
  const image = await decodeImage(input.media[0]!.bytes, context.limits);
  // media[1] is the replacement here, so only a third image can be a mask.
  const found = await findHole(input, image, context, input.media.length > 2 ? 2 : undefined);
  if (found.kind === 'reply') return found.result;
  const { hole } = found;
  context.progress(0.6, 'filling the hole');
  const filled = await fillHole(image, hole.mask, context);
  context.progress(0.75, 'cutting out the replacement');
  const replacement = await decodeImage(replacementMedia.bytes, context.limits);
  const alpha = await subjectAlpha(replacement, context);
  const box = holeBox(hole.mask)!;
  const pasted = await pasteInto(filled.image, replacement, alpha, box);
  context.progress(0.9, 'composing');
  const media = await editOutputs(image, pasted, filled.mask, 'replaced');
  return {
    text: `Replaced ${hole.what} with your picture: the hole was filled with ${inpainterTitle(filled.inpainter)} and the new subject fitted into its box.`,
    media,
  };
}

/** "replace the dog with a cat": the dog's outline is found as remove finds it, and the generator paints the words into it. */
async function replaceByWords(input: SpecialistInput, prompt: string, context: SpecialistContext): Promise<SpecialistResult> {
  requireEngine('replace', context);
  const image = await decodeImage(input.media[0]!.bytes, context.limits);
  const found = await findHole(input, image, context, input.media.length > 1 ? 1 : undefined);
  if (found.kind === 'reply') return found.result;
  const { hole } = found;
  context.progress(0.6, `painting ${prompt}`);
  const painted = await paintHole('replace', image, hole.mask, prompt, input, context);
  context.progress(0.92, 'composing');
  const media = await editOutputs(image, painted.image, painted.mask, `${prompt} instead`);
  media[0] = { ...media[0]!, generation: factsOf(painted.generated, 0) };
  return { text: `Replaced ${hole.what} with ${prompt}, painted ${madeWith(painted.generated)}.`, media };
}

/** "replace the cat with this" (a second image): remove, then paste the new subject into the hole. */
export const replaceSpecialist: Specialist = {
  tasks: ['replace'],
  // None required up front: a box or a mask image needs no weights (OpenCV). The phrase path's detector
  // and ISNet answer with ModelNotInstalledError when they are used and missing.
  models: [],
  async run(input, context) {
    checkArgs('replace', input.args);
    const media = input.media[0];
    if (media === undefined || media.info.kind !== 'image') throw new UnsupportedMediaForTaskError(input.task, media?.info.kind ?? 'nothing', ['image']);
    return replaceInImage(input, context);
  },
};
