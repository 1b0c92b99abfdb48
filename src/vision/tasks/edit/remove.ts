import sharp from 'sharp';
import type { Task } from '../../../core/tasks.ts';
import { InvalidArgumentError, UnsupportedMediaForTaskError } from '../../../errors.ts';
import { composeSideBySide, encodePreview, overlayPixels } from '../../../media/image.ts';
import type { Detection } from '../../ops/detection.ts';
import { detect, detectEveryFor } from '../../find/detector.ts';
import { decodeImage, encodePng, maskBounds, maskCoverage, maskToPng } from '../../ops/raw-image.ts';
import type { Mask, RawImage } from '../../ops/raw-image.ts';
import { grownRect, unionOf } from '../../find/phrase-mask.ts';
import { boxMasker } from '../../find/box-mask.ts';
import type { BoxMasker } from '../../find/box-mask.ts';
import { mediaKey } from '../../models/sam.ts';
import { choiceReply, maskedWhat, noneFoundText, segmentByPhrase } from '../../find/phrase-segmentation.ts';
import type { ProducedMedia, Specialist, SpecialistContext, SpecialistInput, SpecialistResult } from '../../specialist.ts';
import { mapVideoWithTracking, TrackSelection } from '../../find/tracked-frames.ts';
import { chooseOnVideo } from '../../find/which-one.ts';
import { checkArgs, numberArg } from '../../ops/args.ts';
import { chooseInpainter, fillCaveat, inpainterTitle, smearsHole, SMOOTH_FILL_CAVEAT } from '../../models/inpainter-choice.ts';
import type { Inpainter } from '../../models/inpainter.ts';
import { paintHole } from './generative-fill.ts';
import { factsOf, madeWith, requireEngine } from '../../engines/generation.ts';
import { holeMargin, maskFromAlpha, maskFromBox, maskFromImage, padHole } from '../../ops/masks.ts';

/** The area to fill, and how the text names it ("the dog", "the boxed area"). */
export interface Hole {
  mask: Mask;
  what: string;
  /** Phrase holes are objects ("Removed the dog"); boxes and masks are areas ("Filled the masked area"). */
  object: boolean;
}

export type HoleOutcome = { kind: 'hole'; hole: Hole } | { kind: 'reply'; result: SpecialistResult };

const HOW_TO_MASK =
  'Send the photo together with a mask image (white where to fill, black elsewhere) and say "inpaint with this mask", or name the object: "remove the dog".';

/**
 * Where the hole is, in order of precedence: a mask image sent with the photo (`maskIndex`), a box from
 * the planner (`region.box`), a phrase (detector → referring words → SlimSAM or ISNet inside the box), and for
 * inpaint alone the image's own transparent pixels. Several matches and no way to tell → "which one?".
 */
export async function findHole(input: SpecialistInput, image: RawImage, context: SpecialistContext, maskIndex: number | undefined): Promise<HoleOutcome> {
  const maskMedia = maskIndex === undefined ? undefined : input.media[maskIndex];
  if (maskMedia !== undefined) {
    if (maskMedia.info.kind !== 'image')
      throw new InvalidArgumentError('The mask has to be an image (white where to fill, black elsewhere), not a video.', { arg: 'mask' });
    return {
      kind: 'hole',
      hole: { mask: await maskFromImage(maskMedia.bytes, image.width, image.height, context.limits), what: 'the masked area', object: false },
    };
  }
  const box = input.region?.box;
  if (box !== undefined) return { kind: 'hole', hole: { mask: maskFromBox(image.width, image.height, box), what: 'the boxed area', object: false } };
  const phrase = typeof input.args.phrase === 'string' ? input.args.phrase.trim() : '';
  if (phrase !== '') {
    const pick = numberArg('remove', input.args, 'pick');
    context.progress(0.05, `looking for ${phrase}`);
    const found = await segmentByPhrase(context.models, image, phrase, {
      pick,
      task: input.task,
      progress: (f, note) => context.progress(f * 0.6, note),
      embeddings: input.embeddings,
      pictureKey: mediaKey(input.media[0]!.info.sha256, input.media[0]!.bytes),
    });
    if (found.kind === 'many') return { kind: 'reply', result: await choiceReply(image, found) };
    if (found.kind === 'none') return { kind: 'reply', result: { text: `${noneFoundText(found, phrase)} Nothing was removed.`, media: [] } };
    // The outline can come back empty (ISNet on a crop with no clear subject): the detector's boxes are then the hole.
    const mask =
      maskBounds(found.mask) === undefined
        ? unionOf(
            found.detections.map((d) => maskFromBox(image.width, image.height, [d.x1, d.y1, d.x2, d.y2])),
            image.width,
            image.height,
          )
        : found.mask;
    return { kind: 'hole', hole: { mask, what: found.detections.length === 1 ? `the ${found.label}` : maskedWhat(found), object: true } };
  }
  if (input.task === 'inpaint') {
    const transparent = maskFromAlpha(image);
    if (transparent !== undefined) return { kind: 'hole', hole: { mask: transparent, what: 'the transparent area', object: false } };
  }
  throw new InvalidArgumentError(`${input.task === 'inpaint' ? 'Inpainting' : 'Removing'} needs to know where: ${HOW_TO_MASK}`, { arg: 'mask' });
}

export interface Filled {
  image: RawImage;
  /** The hole as filled: the found mask grown by a few pixels. */
  mask: Mask;
  inpainter: Inpainter;
}

/** Grows the hole past the object's edge and shadow, then fills it with the best inpainter installed. */
export async function fillHole(image: RawImage, hole: Mask, context: SpecialistContext): Promise<Filled> {
  const mask = await padHole(hole);
  const inpainter = chooseInpainter(context.models);
  return { image: await inpainter.inpaint(image, mask, context), mask, inpainter };
}

/** "before" with the hole outlined (no tint: the outline is enough and the photo stays readable) | "after". */
async function comparison(before: RawImage, mask: Mask, afterPng: Buffer): Promise<Buffer> {
  const outlined = overlayPixels(before, mask, { r: 255, g: 45, b: 85 }, 0);
  const beforePreview = await encodePreview(outlined);
  return composeSideBySide(beforePreview.bytes, afterPng);
}

/** The result, the before/after comparison and the mask, in the order the chat shows them. */
export async function editOutputs(before: RawImage, filled: RawImage, mask: Mask, resultLabel: string): Promise<ProducedMedia[]> {
  const [resultPng, maskPng] = await Promise.all([encodePng(filled), maskToPng(mask)]);
  const side = await comparison(before, mask, resultPng);
  return [
    { bytes: resultPng, kind: 'image', mime: 'image/png', role: 'result', label: resultLabel },
    { bytes: side, kind: 'image', mime: 'image/png', role: 'comparison', label: 'before / after' },
    { bytes: maskPng, kind: 'image', mime: 'image/png', role: 'mask', label: 'filled area' },
  ];
}

function percentOf(mask: Mask): string {
  const p = maskCoverage(mask) * 100;
  return p < 1 ? `${p < 0.1 ? '< 0.1' : p.toFixed(1)} %` : `${Math.round(p)} %`;
}

async function removeFromImage(input: SpecialistInput, context: SpecialistContext): Promise<SpecialistResult> {
  if (input.task === 'inpaint' && typeof input.args.prompt === 'string' && input.args.prompt.trim() !== '') requireEngine('inpaint', context);
  const image = await decodeImage(input.media[0]!.bytes, context.limits);
  const found = await findHole(input, image, context, input.media.length > 1 ? 1 : undefined);
  if (found.kind === 'reply') return found.result;
  const { hole } = found;
  const prompt = typeof input.args.prompt === 'string' ? input.args.prompt.trim() : '';
  if (input.task === 'inpaint' && prompt !== '') return paintByWords(image, hole, prompt, input, context);
  context.progress(0.65, 'filling the hole');
  const filled = await fillHole(image, hole.mask, context);
  context.progress(0.9, 'composing');
  const media = await editOutputs(image, filled.image, filled.mask, hole.object ? `without ${hole.what}` : 'filled');
  const how = `with ${inpainterTitle(filled.inpainter)}`;
  const done = hole.object
    ? `Removed ${hole.what} (${percentOf(filled.mask)} of the image) and filled the hole ${how}.`
    : `Filled ${hole.what} (${percentOf(filled.mask)} of the image) ${how}.`;
  const caveat = fillCaveat(filled.inpainter, filled.mask);
  return { text: done + (caveat ? ` ${caveat}` : ''), media };
}

/** "fill the box with flowers": the generator paints the words into the hole instead of continuing its surroundings. */
async function paintByWords(image: RawImage, hole: Hole, prompt: string, input: SpecialistInput, context: SpecialistContext): Promise<SpecialistResult> {
  context.progress(0.6, `painting ${prompt}`);
  const painted = await paintHole('inpaint', image, hole.mask, prompt, input, context);
  context.progress(0.92, 'composing');
  const media = await editOutputs(image, painted.image, painted.mask, prompt);
  media[0] = { ...media[0]!, generation: factsOf(painted.generated, 0) };
  return { text: `Filled ${hole.what} (${percentOf(painted.mask)} of the image) with ${prompt}, painted ${madeWith(painted.generated)}.`, media };
}

/**
 * ISNet takes 5–6 s a call on this machine's CPU (SlimSAM's encoder seconds a frame), so segmenting every
 * tracked object on every frame made a one-second clip a minute's work. A track's outline is segmented afresh
 * every this many frames and in between moved and scaled with its tracked box (grown a little more, for legs
 * and tails that moved).
 */
const SEGMENT_EVERY = 3;
/** Margin of the box an outline is kept in (phrase-mask keeps 4 %); a moved outline is grown by this too. */
const OUTLINE_BOX_MARGIN = 0.04;
const MOVED_OUTLINE_GROWTH = 2;

interface Outline {
  /** The mask inside `rect`, row by row. */
  data: Uint8Array;
  rect: { left: number; top: number; width: number; height: number };
  age: number;
}

/** Outlines of tracked objects across frames: box-mask.ts on a fresh track and every SEGMENT_EVERY frames, moved in between. */
class TrackOutlines {
  private readonly outlines = new Map<number, Outline>();

  /** `masker` outlines boxes on this frame (one per frame, so the frame's tracks share SlimSAM's encoder run). */
  async maskOf(masker: BoxMasker, frame: RawImage, track: Detection): Promise<Mask> {
    const id = track.trackId ?? -1;
    const stored = this.outlines.get(id);
    if (stored !== undefined && stored.age < SEGMENT_EVERY - 1) {
      stored.age += 1;
      return this.moved(stored, frame, track);
    }
    let mask = await masker.maskOf(track);
    // The outline can be empty (ISNet sees no subject in a crop): then the box is the hole, as on still images.
    if (maskBounds(mask) === undefined) mask = maskFromBox(frame.width, frame.height, [track.x1, track.y1, track.x2, track.y2]);
    const rect = grownRect(track, OUTLINE_BOX_MARGIN, frame.width, frame.height);
    const data = new Uint8Array(rect.width * rect.height);
    for (let y = 0; y < rect.height; y++)
      data.set(mask.data.subarray((rect.top + y) * frame.width + rect.left, (rect.top + y) * frame.width + rect.left + rect.width), y * rect.width);
    this.outlines.set(id, { data, rect, age: 0 });
    return mask;
  }

  /** The stored outline stretched onto the track's box in this frame, then grown a little. */
  private async moved(outline: Outline, frame: RawImage, track: Detection): Promise<Mask> {
    const rect = grownRect(track, OUTLINE_BOX_MARGIN, frame.width, frame.height);
    const resized = await sharp(Buffer.from(outline.data), { raw: { width: outline.rect.width, height: outline.rect.height, channels: 1 } })
      .resize(rect.width, rect.height, { fit: 'fill', kernel: 'nearest' })
      .raw()
      .toBuffer();
    const data = new Uint8Array(frame.width * frame.height);
    for (let y = 0; y < rect.height; y++) data.set(resized.subarray(y * rect.width, (y + 1) * rect.width), (rect.top + y) * frame.width + rect.left);
    const mask = { data, width: frame.width, height: frame.height };
    return padHole(mask, MOVED_OUTLINE_GROWTH * holeMargin(frame.width, frame.height));
  }
}

async function removeFromVideo(input: SpecialistInput, context: SpecialistContext): Promise<SpecialistResult> {
  const phrase = typeof input.args.phrase === 'string' ? input.args.phrase.trim() : '';
  if (phrase === '' || input.region?.box !== undefined || input.media.length > 1) {
    throw new InvalidArgumentError(
      'In a video I can remove a named object ("remove the dog"), tracked from frame to frame; boxes and mask images work on images only.',
      { arg: 'phrase' },
    );
  }
  const task: Task = input.task;
  const detectFrame = async (frame: RawImage) => (await detect(context.models, frame, phrase, task, input.embeddings)).detections;
  // "The dog" with two in view asks which one first; "the dog on the left" is chosen once and followed by its track id.
  const decision = await chooseOnVideo(input.media[0]!, phrase, numberArg('remove', input.args, 'pick'), context, detectFrame);
  if (decision.kind === 'ask') return decision.result;
  const selection = new TrackSelection(decision.selector);
  const inpainter = chooseInpainter(context.models);
  const outlines = new TrackOutlines();
  let erasedFrames = 0;
  let largeHole = false;
  const out = await mapVideoWithTracking(
    input.media[0]!,
    detectFrame,
    async (frame, tracks) => {
      const chosen = selection.pick(tracks);
      if (chosen.length === 0) return frame;
      const masker = boxMasker(context.models, frame, { task });
      const masks: Mask[] = [];
      for (const d of chosen) masks.push(await outlines.maskOf(masker, frame, d));
      const mask = await padHole(masks.length === 1 ? masks[0]! : unionOf(masks, frame.width, frame.height));
      erasedFrames += 1;
      largeHole ||= smearsHole(inpainter, mask);
      return inpainter.inpaint(frame, mask, context);
    },
    context,
    `removing ${phrase}`,
    { detectEvery: detectEveryFor(phrase) },
  );
  // The objects actually erased: a picked one is one track (or its successors), not every look-alike tracked.
  const removedCount = selection.picksOne ? selection.followed.size : out.trackCount;
  if (erasedFrames === 0) {
    return { text: `I could not find "${phrase}" in any frame of the video, so nothing was removed.`, media: [] };
  }
  const caveat = largeHole ? ` ${SMOOTH_FILL_CAVEAT}` : '';
  return {
    text:
      `Removed ${phrase} in ${erasedFrames} of ${out.frames} frames (${removedCount} tracked ${removedCount === 1 ? 'object' : 'objects'}) ` +
      `and filled the holes with ${inpainterTitle(inpainter)}.${caveat}`,
    media: [{ bytes: out.bytes, kind: 'video', mime: 'video/mp4', role: 'result', label: `without ${phrase}` }],
  };
}

/**
 * remove ("remove the dog", a box, or a mask image sent with the photo) and inpaint (a mask, or the
 * image's transparent pixels): one machinery, which finds the hole, grows it a little and fills it.
 */
export const removeSpecialist: Specialist = {
  tasks: ['remove', 'inpaint'],
  // None required up front: a box or a mask image needs no weights (OpenCV). The phrase path's detector
  // and outliner (SlimSAM when pulled, else ISNet) answer with ModelNotInstalledError when used and missing.
  models: [],
  async run(input, context) {
    checkArgs(input.task, input.args);
    const media = input.media[0];
    if (media === undefined) throw new UnsupportedMediaForTaskError(input.task, 'nothing', ['image', 'video']);
    return media.info.kind === 'video' ? await removeFromVideo(input, context) : await removeFromImage(input, context);
  },
};
