import { InvalidArgumentError } from '../../../errors.ts';
import { drawBoxes } from '../../ops/draw-boxes.ts';
import { boxInPicture, optionalBox } from '../../ops/args.ts';
import type { BoxArg } from '../../ops/args.ts';
import { missingModelError } from '../../models/missing-model.ts';
import { decodeImage, encodePng, sharpOf, toRaw } from '../../ops/raw-image.ts';
import type { SpecialistContext, SpecialistInput, SpecialistResult } from '../../specialist.ts';
import type { CaptionDetail } from './florence-caption.ts';
import { CAPTION_WAYS, sentence } from './florence-caption.ts';
import { locTokens } from '../../models/florence-parse.ts';
import { FLORENCE_MODEL, runFlorence } from '../../models/florence.ts';
import { encodeForLlm } from '../../../llm/picture.ts';
import { askVisionLlm } from '../../models/vision-llm.ts';
import { DETECTOR_CAPTION_WAY, findOnImage } from './detector-caption.ts';
import { findingsCaption } from './findings-words.ts';

/**
 * "What is in the box 10,20,200,180?": a caption of one region of a picture, as Vitron's region-level
 * understanding. The endpoint sees the whole picture with the box drawn on it and the region enlarged (a
 * crop alone loses what the region is part of); Florence-2 has a task for it, `<REGION_TO_DESCRIPTION>`,
 * which reads the box as `<loc_>` tokens; without either, the detectors say what they find in the crop.
 */

const EXAMPLE = 'describe the box 10,10,200,200';
const REGION_COLOR = '#ff2d55';
/** A region is usually one thing: a phrase or a sentence, a few more for "in detail". */
const MAX_TOKENS: Record<CaptionDetail, number> = { short: 80, detailed: 250 };

/** The box the caption is about: `args.box`, else the planner's region; undefined for a whole-picture caption. */
export function captionRegion(input: SpecialistInput): BoxArg | undefined {
  return optionalBox(input.args.box, EXAMPLE) ?? (input.region?.box ? optionalBox(input.region.box, EXAMPLE) : undefined);
}

function regionPrompt(detail: CaptionDetail): string {
  const ask = detail === 'short' ? 'in one or two sentences' : 'in detail: what it is, what it is doing, its colours and any readable text';
  return (
    `Picture 1 is a whole image with a red box drawn on it; picture 2 is the part inside the box, enlarged. ` +
    `Describe what is inside the box ${ask}. Use picture 1 only to understand what the boxed part belongs to. ` +
    'Say only what you can see; do not guess names of people.'
  );
}

/** Caption of the boxed region of the one image in `input`, with the box drawn as the picture to look at. */
export async function captionRegionOf(input: SpecialistInput, box: BoxArg, detail: CaptionDetail, context: SpecialistContext): Promise<SpecialistResult> {
  if (input.media.length !== 1)
    throw new InvalidArgumentError(`A region is described on one picture at a time; ${input.media.length} were given.`, { arg: 'box' });
  const media = input.media[0]!;
  if (media.info.kind !== 'image') {
    // Captions work on videos; a box does not: it would have to hold still through the clip.
    throw new InvalidArgumentError('A box is described on a still picture. Take a frame first ("grab the frame at 3 seconds"), then ask what is in the box.', {
      arg: 'box',
    });
  }
  const useEndpoint = context.settings.LLM_URL !== undefined;
  const useFlorence = !useEndpoint && context.models.isInstalled(FLORENCE_MODEL);
  if (!useEndpoint && !useFlorence && !context.models.isInstalled(DETECTOR_CAPTION_WAY.model))
    throw missingModelError('caption', CAPTION_WAYS, context.models, context.settings.MODELS_DIR);
  const image = await decodeImage(media.bytes, context.limits);
  const [x1, y1, x2, y2] = boxInPicture(box, image.width, image.height);
  const boxed = await drawBoxes(image, [{ x1, y1, x2, y2, label: 'region' }], REGION_COLOR);
  context.progress(0.2, 'looking at the region');
  const left = Math.floor(x1);
  const top = Math.floor(y1);
  const extract = { left, top, width: Math.min(image.width, Math.ceil(x2)) - left, height: Math.min(image.height, Math.ceil(y2)) - top };
  let text: string;
  if (!useEndpoint && !useFlorence) {
    // The detectors look at the region alone: what they find there is what is in the box.
    const findings = await findOnImage(context.models, await toRaw(sharpOf(image).extract(extract)), (f, note) => context.progress(0.2 + 0.7 * f, note));
    text = findingsCaption([{ findings }], detail === 'detailed');
  } else if (useEndpoint) {
    const crop = await encodePng(await toRaw(sharpOf(image).extract(extract)));
    const maxSide = context.settings.LLM_MAX_IMAGE_SIDE;
    const images = [await encodeForLlm(boxed, context.limits, maxSide), await encodeForLlm(crop, context.limits, maxSide)];
    const answer = await askVisionLlm(context.settings, { prompt: regionPrompt(detail), images, maxTokens: MAX_TOKENS[detail], signal: context.signal });
    text = answer.truncated ? `${answer.text} …` : answer.text;
  } else {
    const region = locTokens({ x1, y1, x2, y2 }, image);
    const result = await runFlorence(context.models, image, '<REGION_TO_DESCRIPTION>', region, context.signal, {
      task: 'caption',
      maxNewTokens: MAX_TOKENS[detail],
    });
    const said = sentence(result.parsed.kind === 'text' ? result.parsed.text : result.text);
    text = result.truncated ? `${said.replace(/\.$/, '')} …` : said;
  }
  context.progress(1, 'described');
  const where = [x1, y1, x2, y2].map((v) => Math.round(v)).join(',');
  return {
    text: `In the box ${where}: ${text}`,
    boxes: [{ x1, y1, x2, y2, label: 'region' }],
    media: [{ bytes: boxed, kind: 'image', mime: 'image/png', role: 'overlay', label: 'the region' }],
  };
}
