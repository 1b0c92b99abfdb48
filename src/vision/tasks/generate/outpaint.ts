import sharp from 'sharp';
import { checkArgs, choiceArg, numberArg } from '../../ops/args.ts';
import type { Specialist } from '../../specialist.ts';
import { GENERATION_SERVING } from '../../engines/engine-choice.ts';
import { generate, generatedMedia, madeWith, sharedSettings, textArg, workingSize } from '../../engines/generation.ts';
import { decodeImage, encodePng, sharpOf } from '../../ops/raw-image.ts';
import { composeSideBySide } from '../../../media/image.ts';

const DEFAULT_AMOUNT = 0.5;
/** The new area reaches this far into the old picture, so the generator blends the seam instead of meeting it. */
const OVERLAP = 0.03;
/** The old picture is pasted back over the result with an edge this soft (pixels of the result). */
const PASTE_FEATHER = 3;

type Direction = 'all' | 'left' | 'right' | 'up' | 'down';

/** Pixels to add on each side of a width × height picture. */
export function padding(width: number, height: number, direction: Direction, amount: number): { left: number; right: number; top: number; bottom: number } {
  const w = Math.round(width * amount);
  const h = Math.round(height * amount);
  switch (direction) {
    case 'left':
      return { left: w, right: 0, top: 0, bottom: 0 };
    case 'right':
      return { left: 0, right: w, top: 0, bottom: 0 };
    case 'up':
      return { left: 0, right: 0, top: h, bottom: 0 };
    case 'down':
      return { left: 0, right: 0, top: 0, bottom: h };
    default:
      return { left: Math.round(w / 2), right: w - Math.round(w / 2), top: Math.round(h / 2), bottom: h - Math.round(h / 2) };
  }
}

/**
 * "zoom out", "extend it to the left": the canvas grows, the new area starts as a mirror of the edge and is
 * inpainted (white in the mask, reaching a little into the picture), and the original pixels are pasted
 * back over the result at the end so the old part stays exactly as it was.
 */
export const outpaintSpecialist: Specialist = {
  tasks: ['outpaint'],
  models: [],
  servedBy: GENERATION_SERVING,
  async run(input, context) {
    checkArgs('outpaint', input.args);
    const source = input.media[0]!;
    const image = await decodeImage(source.bytes, context.limits);
    const direction = choiceArg('outpaint', input.args, 'direction') ?? 'all';
    const amount = numberArg('outpaint', input.args, 'amount') ?? DEFAULT_AMOUNT;
    const pad = padding(image.width, image.height, direction, amount);
    const fullWidth = image.width + pad.left + pad.right;
    const fullHeight = image.height + pad.top + pad.bottom;
    const size = workingSize(fullWidth, fullHeight);
    const scale = size.width / fullWidth;
    const canvas = await sharpOf(image)
      .removeAlpha()
      .extend({ ...pad, extendWith: 'mirror' })
      .resize(size.width, size.height, { fit: 'fill' })
      .png()
      .toBuffer();
    // The kept rectangle in the working canvas, shrunk by the overlap band on the sides that grew.
    const band = Math.round(Math.min(size.width, size.height) * OVERLAP);
    const keep = {
      left: Math.round(pad.left * scale) + (pad.left > 0 ? band : 0),
      top: Math.round(pad.top * scale) + (pad.top > 0 ? band : 0),
      right: Math.round((pad.left + image.width) * scale) - (pad.right > 0 ? band : 0),
      bottom: Math.round((pad.top + image.height) * scale) - (pad.bottom > 0 ? band : 0),
    };
    const mask = await sharp({ create: { width: size.width, height: size.height, channels: 3, background: '#ffffff' } })
      .composite([
        {
          input: { create: { width: keep.right - keep.left, height: keep.bottom - keep.top, channels: 3, background: '#000000' } },
          left: keep.left,
          top: keep.top,
        },
      ])
      .png()
      .toBuffer();
    const prompt = textArg(input, 'prompt') ?? source.info.generation?.prompt ?? '';
    const generated = await generate(
      'outpaint',
      ['inpaint'],
      {
        prompt,
        ...sharedSettings('outpaint', input),
        ...size,
        count: 1,
        image: canvas,
        mask,
        strength: 1,
      },
      context,
      { from: 0.05, to: 0.9 },
    );
    context.progress(0.92, 'pasting the original back');
    const made = generated.result.images[0]!;
    const meta = await sharp(made.png).metadata();
    const outScale = (meta.width ?? size.width) / fullWidth;
    const original = await sharpOf(image)
      .removeAlpha()
      .resize(Math.max(1, Math.round(image.width * outScale)), Math.max(1, Math.round(image.height * outScale)))
      .png()
      .toBuffer();
    const pasted = await sharp(made.png)
      .removeAlpha()
      .composite([{ input: await featheredEdges(original, PASTE_FEATHER), left: Math.round(pad.left * outScale), top: Math.round(pad.top * outScale) }])
      .png()
      .toBuffer();
    generated.result.images[0] = { ...made, png: pasted };
    const media = await generatedMedia(generated, 'zoomed out');
    media.push({
      bytes: await composeSideBySide(source.bytes, pasted, { limits: context.limits }),
      kind: 'image',
      mime: 'image/png',
      role: 'comparison',
      label: 'before / after',
    });
    return {
      text: `Extended the picture ${direction === 'all' ? 'on every side' : `to the ${direction === 'up' ? 'top' : direction === 'down' ? 'bottom' : direction}`}, ${madeWith(generated)}.`,
      media,
    };
  },
};

/** The picture with an alpha that fades to 0 over `feather` pixels at its border, so the paste has no hard seam. */
async function featheredEdges(png: Buffer, feather: number): Promise<Buffer> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const d = Math.min(x, y, info.width - 1 - x, info.height - 1 - y);
      if (d < feather) data[(y * info.width + x) * 4 + 3] = Math.round((255 * (d + 1)) / (feather + 1));
    }
  }
  return encodePng({ data, width: info.width, height: info.height, channels: 4 });
}
