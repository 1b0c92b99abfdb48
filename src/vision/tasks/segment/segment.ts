import sharp from 'sharp';
import { InvalidArgumentError, UnsupportedMediaForTaskError } from '../../../errors.ts';
import { overlayPixels, parseColor, withSvg } from '../../../media/image.ts';
import type { EncodedImage } from '../../../media/image.ts';
import { choiceReply, maskedWhat, noneFoundText, segmentByPhrase } from '../../find/phrase-segmentation.ts';
import { CENTERNET_MODEL } from '../../models/centernet.ts';
import { ISNET_MODEL } from '../../models/isnet.ts';
import { checkArgs, numberArg } from '../../ops/args.ts';
import { resultBoxes } from '../../ops/detection.ts';
import { escapeXml } from '../../ops/draw-boxes.ts';
import { decodeImage, maskCoverage, maskToPng } from '../../ops/raw-image.ts';
import type { Mask, RawImage } from '../../ops/raw-image.ts';
import { mediaKey } from '../../models/sam.ts';
import type { Specialist, SpecialistResult } from '../../specialist.ts';

/** The phrase argument, required: segment with nothing named is segment_all's job. */
export function requiredPhrase(args: Record<string, unknown>, task: string): string {
  const phrase = args.phrase;
  if (typeof phrase !== 'string' || phrase.trim() === '') {
    throw new InvalidArgumentError(
      `Tell me what to ${task === 'cutout' ? 'cut out' : 'segment'}, for example "${task === 'cutout' ? 'cut out' : 'segment'} the dog".`,
      { arg: 'phrase' },
    );
  }
  return phrase.trim();
}

const OVERLAY_COLOR = '#ff2d55';

/** The tinted mask with a legend in the top-left corner: a swatch of the tint and what it is. */
export async function overlayWithLegend(image: RawImage, mask: Mask, legend: string): Promise<EncodedImage> {
  const rgba =
    image.channels === 4
      ? image
      : {
          ...image,
          data: await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
            .ensureAlpha()
            .raw()
            .toBuffer(),
          channels: 4 as const,
        };
  const pixels = overlayPixels(rgba, mask, await parseColor(OVERLAY_COLOR));
  const font = Math.max(12, Math.round(Math.min(image.width, image.height) / 22));
  const pad = Math.round(font / 2);
  const textWidth = Math.round(legend.length * font * 0.6);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${image.width}" height="${image.height}">` +
    `<rect x="${pad}" y="${pad}" width="${Math.min(image.width - 2 * pad, textWidth + font * 2 + pad)}" height="${font + pad * 2}" rx="${pad / 2}" fill="#000" fill-opacity="0.6"/>` +
    `<rect x="${pad * 2}" y="${pad * 2}" width="${font}" height="${font}" fill="${OVERLAY_COLOR}"/>` +
    `<text x="${pad * 3 + font}" y="${pad * 2 + font * 0.85}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="#fff">${escapeXml(legend)}</text></svg>`;
  return withSvg(pixels, svg);
}

/**
 * "Segment the left dog": a mask of the thing a phrase names (its box outlined by SlimSAM when pulled, else by
 * ISNet), with an overlay that says what it is.
 */
export const segmentSpecialist: Specialist = {
  tasks: ['segment'],
  models: [CENTERNET_MODEL, ISNET_MODEL],
  async run(input, context): Promise<SpecialistResult> {
    checkArgs('segment', input.args);
    const phrase = requiredPhrase(input.args, 'segment');
    const pick = numberArg('segment', input.args, 'pick');
    const media = input.media[0];
    if (media === undefined || media.info.kind !== 'image') throw new UnsupportedMediaForTaskError(input.task, media?.info.kind ?? 'nothing', ['image']);
    const image = await decodeImage(media.bytes, context.limits);
    context.progress(0.05, `looking for ${phrase}`);
    const result = await segmentByPhrase(context.models, image, phrase, {
      pick,
      task: input.task,
      progress: context.progress,
      embeddings: input.embeddings,
      pictureKey: mediaKey(media.info.sha256, media.bytes),
    });
    if (result.kind === 'many') return choiceReply(image, result);
    if (result.kind === 'none') return { text: noneFoundText(result, phrase), boxes: [], media: [] };
    context.progress(0.85, 'drawing the overlay');
    const what = maskedWhat(result);
    const [maskPng, overlay] = await Promise.all([maskToPng(result.mask), overlayWithLegend(image, result.mask, what)]);
    return {
      text: `Segmented the ${what} (${Math.round(maskCoverage(result.mask) * 100)} % of the picture).`,
      boxes: resultBoxes(result.detections),
      media: [
        { bytes: maskPng, kind: 'image', mime: 'image/png', role: 'mask', label: `mask: ${what}` },
        { bytes: overlay.bytes, kind: 'image', mime: overlay.mime, role: 'overlay', label: `overlay: ${what}` },
      ],
    };
  },
};
