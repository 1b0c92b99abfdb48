import type { Box } from '../../../core/types.ts';
import { InvalidArgumentError, UnsupportedMediaForTaskError } from '../../../errors.ts';
import { drawBoxes } from '../../ops/draw-boxes.ts';
import { checkArgs, flagArg, numberArg } from '../../ops/args.ts';
import { decodeImage } from '../../ops/raw-image.ts';
import type { RawImage } from '../../ops/raw-image.ts';
import type { ProducedMedia, Specialist, SpecialistContext, SpecialistInput, SpecialistResult } from '../../specialist.ts';
import { CENTERNET_MODEL } from '../../models/centernet.ts';
import { pluralOf } from '../../models/coco-labels.ts';
import { resultBoxes, type Detection } from '../../ops/detection.ts';
import { detect, phraseLabel } from '../../find/detector.ts';
import { detectInVideo, tallyCounts } from '../../find/detect-video.ts';
import { positionWords, boxInPixels } from '../../find/position-words.ts';
import { parseReferring } from '../../../core/referring.ts';
import { leftToRight, select } from '../../find/referring.ts';

/** "3 people, 1 dog" — most frequent first, then alphabetical. */
export function tally(detections: readonly Detection[]): string {
  const counts = new Map<string, number>();
  for (const d of detections) counts.set(d.label, (counts.get(d.label) ?? 0) + 1);
  return tallyCounts(counts);
}

// A detector without confidences (Florence-2) gets its label alone, not a made-up number.
const scoreLabel = (d: Detection) => (d.unscored ? d.label : `${d.label} ${d.score.toFixed(2)}`);
const scoreClause = (d: Detection) => (d.unscored ? '' : `, score ${d.score.toFixed(2)}`);

async function overlay(image: RawImage, boxes: readonly Box[], label: string): Promise<ProducedMedia> {
  return { bytes: await drawBoxes(image, boxes), kind: 'image', mime: 'image/png', role: 'overlay', label };
}

function phraseOf(input: SpecialistInput): string | undefined {
  const phrase = input.args.phrase;
  if (phrase === undefined || phrase === null) return undefined;
  if (typeof phrase !== 'string') throw new InvalidArgumentError(`Expected text for phrase but received ${JSON.stringify(phrase)}.`, { arg: 'phrase' });
  return phrase.trim() === '' ? undefined : phrase.trim();
}

async function stillImage(input: SpecialistInput, context: SpecialistContext): Promise<RawImage> {
  return decodeImage(input.media[0]!.bytes, context.limits);
}

function isVideo(input: SpecialistInput): boolean {
  const media = input.media[0];
  if (media === undefined) throw new UnsupportedMediaForTaskError(input.task, 'nothing', ['image', 'video']);
  return media.info.kind === 'video';
}

/** Every frame with its tracked boxes; the text counts distinct things, not boxes per frame. */
async function trackedVideoResult(input: SpecialistInput, context: SpecialistContext, phrase: string | undefined): Promise<SpecialistResult> {
  const label = phrase === undefined ? undefined : phraseLabel(context.models, phrase, input.task);
  const tracked = await detectInVideo(input.media[0]!, phrase, context, input.task, input.embeddings);
  const found = tallyCounts(tracked.counts);
  const over = `across ${tracked.frames} frames`;
  const text =
    found === ''
      ? `No ${label === undefined ? 'objects I can name' : pluralOf(label)} found ${over}.`
      : `${found.charAt(0).toUpperCase()}${found.slice(1)} ${over}, each boxed and numbered on every frame.`;
  return { text, media: [{ bytes: tracked.bytes, kind: 'video', mime: 'video/mp4', role: 'overlay', label: 'tracked boxes' }] };
}

/** "How many people?", "find the cats", "detect everything": every box drawn with its label and score. */
export const detectSpecialist: Specialist = {
  tasks: ['detect'],
  models: [CENTERNET_MODEL],
  async run(input, context): Promise<SpecialistResult> {
    checkArgs('detect', input.args);
    const phrase = phraseOf(input);
    const counting = flagArg('detect', input.args, 'count');
    if (isVideo(input)) return trackedVideoResult(input, context, phrase);
    const image = await stillImage(input, context);
    context.progress(0.1, 'looking for objects');
    const { detections, label } = await detect(context.models, image, phrase, input.task, input.embeddings);
    context.progress(0.8, 'drawing boxes');
    const ordered = leftToRight(detections);
    const boxes = resultBoxes(ordered);
    if (ordered.length === 0) {
      if (label === undefined) return { text: 'I found nothing I can name here (people, animals, vehicles and other everyday things).', boxes, media: [] };
      return { text: counting ? `0 ${pluralOf(label)}.` : `No ${pluralOf(label)} found.`, boxes, media: [] };
    }
    const list = tally(ordered);
    // "How many things?" over several kinds leads with the total; otherwise the list itself starts with a number.
    const mixed = new Set(ordered.map((d) => d.label)).size > 1;
    const text = label === undefined && counting && mixed ? `${ordered.length} things: ${list}.` : `${list.charAt(0).toUpperCase()}${list.slice(1)}.`;
    return {
      text,
      boxes,
      media: [
        await overlay(
          image,
          ordered.map((d) => ({ ...d, label: scoreLabel(d) })),
          'detections',
        ),
      ],
    };
  },
};

/** "Where is the dog?": the one box it means, with where it is in words; several → "which one?". */
export const groundSpecialist: Specialist = {
  tasks: ['ground'],
  models: [CENTERNET_MODEL],
  async run(input, context): Promise<SpecialistResult> {
    checkArgs('ground', input.args);
    const phrase = phraseOf(input);
    if (phrase === undefined) throw new InvalidArgumentError('Tell me what to look for, for example "where is the dog?".', { arg: 'phrase' });
    const pick = numberArg('ground', input.args, 'pick');
    // On a video every match is tracked and drawn: which one is meant is plain to see on the frames.
    if (isVideo(input)) return trackedVideoResult(input, context, phrase);
    const image = await stillImage(input, context);
    context.progress(0.1, `looking for ${phrase}`);
    const { detections, label } = await detect(context.models, image, phrase, input.task, input.embeddings);
    context.progress(0.8, 'drawing boxes');
    const selection = select(detections, parseReferring(phrase).selector, pick);
    const what = label ?? 'thing';
    switch (selection.kind) {
      case 'one': {
        const d = selection.detection;
        const text = `The ${d.label} is ${positionWords(d, image.width, image.height)} (${boxInPixels(d)}${scoreClause(d)}).`;
        return { text, boxes: resultBoxes([d]), media: [await overlay(image, [{ ...d, label: scoreLabel(d) }], what)] };
      }
      case 'many': {
        const numbered = selection.detections.map((d, i) => ({ ...d, label: `${i + 1} ${d.label}` }));
        return {
          text: `${selection.choice.question} They are numbered left to right in the picture.`,
          choice: selection.choice,
          boxes: resultBoxes(selection.detections),
          media: [await overlay(image, numbered, `numbered ${pluralOf(what)}`)],
        };
      }
      case 'all': {
        if (selection.detections.length === 0)
          return { text: `I could not find ${label === undefined ? 'anything I can name' : `any ${pluralOf(label)}`} in this picture.`, boxes: [], media: [] };
        const places = selection.detections.map((d) => `${d.label} ${positionWords(d, image.width, image.height)}`);
        return {
          text: `${tally(selection.detections).replace(/^./, (c) => c.toUpperCase())}: ${places.join('; ')}.`,
          boxes: resultBoxes(selection.detections),
          media: [
            await overlay(
              image,
              selection.detections.map((d) => ({ ...d, label: scoreLabel(d) })),
              pluralOf(what),
            ),
          ],
        };
      }
    }
  },
};
