import sharp from 'sharp';
import type { Task } from '../../../core/tasks.ts';
import { InvalidArgumentError, UnsupportedMediaForTaskError } from '../../../errors.ts';
import { overlayPixels, parseColor, withSvg } from '../../../media/image.ts';
import type { EncodedImage } from '../../../media/image.ts';
import { CENTERNET_MODEL } from '../../models/centernet.ts';
import { countOf, pluralOf } from '../../models/coco-labels.ts';
import type { Detection } from '../../ops/detection.ts';
import { resultBoxes } from '../understand/detect.ts';
import { detect, isOpenVocabulary } from '../../find/detector.ts';
import { parseReferring } from '../../../core/referring.ts';
import { select } from '../../find/referring.ts';
import type { Choice } from '../../specialist.ts';
import { drawBoxes, escapeXml } from '../../ops/draw-boxes.ts';
import { optionalNumber, rejectUnknown } from '../../ops/args.ts';
import type { ModelRegistry } from '../../models/model-registry.ts';
import { decodeImage, maskCoverage, maskToPng } from '../../ops/raw-image.ts';
import type { Mask, RawImage } from '../../ops/raw-image.ts';
import type { Specialist, SpecialistResult } from '../../specialist.ts';
import { CLIPSEG_MODEL, clipsegMask } from '../../models/clipseg.ts';
import { ISNET_MODEL } from '../../models/isnet.ts';
import { phraseMask, unionOf } from '../../find/phrase-mask.ts';

/** The outcome of "segment the left dog": a mask, a question back, or nothing of that kind found. */
export type PhraseSegmentation =
  /** `detections` is empty when the mask came from CLIPSeg (a phrase no detector knows: no boxes). */
  | { kind: 'mask'; mask: Mask; detections: Detection[]; label: string }
  | { kind: 'many'; detections: Detection[]; choice: Choice }
  | { kind: 'none'; label?: string };

/**
 * Phrase → detector (COCO or faces) → referring selection → one mask per chosen box (their union for
 * "all the dogs"). `pick` answers an earlier "which one?". Used by segment and by cutout with a phrase.
 */
export async function segmentByPhrase(
  models: ModelRegistry,
  image: RawImage,
  phrase: string,
  options: { pick?: number; task?: Task; progress?: (fraction: number, note: string) => void } = {},
): Promise<PhraseSegmentation> {
  const task = options.task ?? 'segment';
  // "the sky", "the logo": no detector knows it, CLIPSeg outlines any phrase when it is installed.
  if (isOpenVocabulary(phrase) && models.isInstalled(CLIPSEG_MODEL)) {
    options.progress?.(0.2, `outlining ${phrase}`);
    const found = await clipsegMask(models, image, phrase, task);
    const what = parseReferring(phrase).noun ?? phrase;
    return found.coverage === 0 ? { kind: 'none' } : { kind: 'mask', mask: found.mask, detections: [], label: what };
  }
  const { detections, label } = await detect(models, image, phrase, task);
  const selection = select(detections, parseReferring(phrase).selector, options.pick);
  if (selection.kind === 'many') return selection;
  const chosen = selection.kind === 'one' ? [selection.detection] : selection.detections;
  if (chosen.length === 0) return label === undefined ? { kind: 'none' } : { kind: 'none', label };
  const masks: Mask[] = [];
  for (const [i, d] of chosen.entries()) {
    options.progress?.(0.2 + (0.6 * i) / chosen.length, `outlining ${d.label}${chosen.length > 1 ? ` ${i + 1} of ${chosen.length}` : ''}`);
    masks.push(await phraseMask(models, image, d, task));
  }
  const mask = masks.length === 1 ? masks[0]! : unionOf(masks, image.width, image.height);
  const labels = new Set(chosen.map((d) => d.label));
  return { kind: 'mask', mask, detections: chosen, label: labels.size === 1 ? chosen[0]!.label : (label ?? 'object') };
}

/** The phrase argument, required: segment with nothing named is segment_all's job. */
export function requiredPhrase(args: Record<string, unknown>, task: string): string {
  const phrase = args.phrase;
  if (typeof phrase !== 'string' || phrase.trim() === '') {
    throw new InvalidArgumentError(`Tell me what to ${task === 'cutout' ? 'cut out' : 'segment'}, for example "${task === 'cutout' ? 'cut out' : 'segment'} the dog".`, { arg: 'phrase' });
  }
  return phrase.trim();
}

const OVERLAY_COLOR = '#ff2d55';

/** The tinted mask with a legend in the top-left corner: a swatch of the tint and what it is. */
export async function overlayWithLegend(image: RawImage, mask: Mask, legend: string): Promise<EncodedImage> {
  const rgba = image.channels === 4 ? image : { ...image, data: await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } }).ensureAlpha().raw().toBuffer(), channels: 4 as const };
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

/** "the dog", "2 dogs": the legend and the text name what the mask holds. */
export function maskedWhat(result: Extract<PhraseSegmentation, { kind: 'mask' }>): string {
  return result.detections.length <= 1 ? result.label : countOf(result.label, result.detections.length);
}

/** The "which one?" reply: the candidates numbered left to right on the picture. */
export async function choiceReply(image: RawImage, result: Extract<PhraseSegmentation, { kind: 'many' }>): Promise<SpecialistResult> {
  const numbered = result.detections.map((d, i) => ({ ...d, label: `${i + 1} ${d.label}` }));
  return {
    text: `${result.choice.question} They are numbered left to right in the picture.`,
    choice: result.choice,
    boxes: resultBoxes(result.detections),
    media: [{ bytes: await drawBoxes(image, numbered), kind: 'image', mime: 'image/png', role: 'overlay', label: 'numbered candidates' }],
  };
}

export function noneFoundText(result: Extract<PhraseSegmentation, { kind: 'none' }>, phrase: string): string {
  return result.label === undefined ? `I could not find "${phrase}" in this picture.` : `I could not find any ${pluralOf(result.label)} in this picture.`;
}

/** "Segment the left dog": a mask of the thing a phrase names, with an overlay that says what it is. */
export const segmentSpecialist: Specialist = {
  tasks: ['segment'],
  accepts: ['image'],
  models: [CENTERNET_MODEL, ISNET_MODEL],
  async run(input, context): Promise<SpecialistResult> {
    rejectUnknown(input.args, ['phrase', 'pick'], 'segment');
    const phrase = requiredPhrase(input.args, 'segment');
    const pick = optionalNumber(input.args, 'pick', 1, 100);
    const media = input.media[0];
    if (media === undefined || media.info.kind !== 'image') throw new UnsupportedMediaForTaskError(input.task, media?.info.kind ?? 'nothing', ['image']);
    const image = await decodeImage(media.bytes, context.limits);
    context.progress(0.05, `looking for ${phrase}`);
    const result = await segmentByPhrase(context.models, image, phrase, { pick, task: input.task, progress: context.progress });
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
