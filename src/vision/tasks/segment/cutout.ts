import { UnsupportedMediaForTaskError } from '../../../errors.ts';
import { overlayPreview, parseColor } from '../../../media/image.ts';
import type { Rgb } from '../../../media/image.ts';
import { numberArg } from '../../ops/args.ts';
import { decodeImage, encodePng, maskCoverage, maskToPng } from '../../ops/raw-image.ts';
import type { Mask } from '../../ops/raw-image.ts';
import type { Specialist, SpecialistContext, SpecialistInput, SpecialistResult } from '../../specialist.ts';
import { mapVideoFrames } from '../../ops/frame-map.ts';
import { mapVideoWithTracking, TrackSelection } from '../../find/tracked-frames.ts';
import { pluralOf } from '../../models/coco-labels.ts';
import { detect, detectEveryFor, phraseLabel } from '../../find/detector.ts';
import { applyMaskAsAlpha, compositeOnColor } from '../../ops/composite.ts';
import { ISNET_MODEL, salientMask } from '../../models/isnet.ts';
import { choiceReply, maskedWhat, noneFoundText, segmentByPhrase } from '../../find/phrase-segmentation.ts';
import { unionOf } from '../../find/phrase-mask.ts';
import { boxMasker } from '../../find/box-mask.ts';
import { mediaKey } from '../../models/sam.ts';
import { chooseOnVideo } from '../../find/which-one.ts';
import type { Detection } from '../../ops/detection.ts';
import type { RawImage } from '../../ops/raw-image.ts';

/** Chroma-key green: MP4 has no alpha, and a green screen is what editors key out to reuse the subject. */
export const VIDEO_CUTOUT_BACKGROUND = '#00b140';
/** A pink that rarely occurs in photos, so the selection stands out. */
const OVERLAY_COLOR = '#ff2d55';

function describeCoverage(coverage: number): string {
  if (coverage < 0.005) return 'I could not find a clear subject: the mask is almost empty.';
  return `Cut out the main subject (it covers ${Math.round(coverage * 100)} % of the image).`;
}

function phraseArg(input: SpecialistInput): string | undefined {
  return typeof input.args.phrase === 'string' && input.args.phrase.trim() !== '' ? input.args.phrase.trim() : undefined;
}

async function cutoutImage(input: SpecialistInput, context: SpecialistContext): Promise<SpecialistResult> {
  const media = input.media[0]!;
  const image = await decodeImage(media.bytes, context.limits);
  const phrase = phraseArg(input);
  let mask: Mask;
  let text: string;
  if (phrase === undefined) {
    context.progress(0.1, 'finding the subject');
    mask = await salientMask(context.models, image, input.task);
    text = describeCoverage(maskCoverage(mask));
  } else {
    // A named object: detector box → SlimSAM or ISNet inside it (find/box-mask.ts), so "the dog" is the dog even when the person is more salient.
    context.progress(0.05, `looking for ${phrase}`);
    const pick = numberArg('cutout', input.args, 'pick');
    const found = await segmentByPhrase(context.models, image, phrase, {
      pick,
      task: input.task,
      progress: context.progress,
      embeddings: input.embeddings,
      pictureKey: mediaKey(media.info.sha256, media.bytes),
    });
    if (found.kind === 'many') return choiceReply(image, found);
    if (found.kind === 'none') return { text: noneFoundText(found, phrase), media: [] };
    mask = found.mask;
    text = `Cut out the ${maskedWhat(found)} (${Math.round(maskCoverage(mask) * 100)} % of the image).`;
  }
  context.progress(0.8, 'composing');
  // sharp encodes on libuv's thread pool: the largest PNG starts first, and the overlay's pixel pass runs
  // on this thread while the other two are being encoded.
  const [cut, maskPng, overlay] = await Promise.all([encodePng(applyMaskAsAlpha(image, mask)), maskToPng(mask), overlayPreview(image, mask, OVERLAY_COLOR)]);
  return {
    text,
    media: [
      { bytes: cut, kind: 'image', mime: 'image/png', role: 'result', label: 'cut-out' },
      { bytes: maskPng, kind: 'image', mime: 'image/png', role: 'mask', label: 'mask' },
      { bytes: overlay.bytes, kind: 'image', mime: overlay.mime, role: 'overlay', label: 'mask overlay' },
    ],
  };
}

/** One mask over the chosen tracks of a frame (each box outlined by find/box-mask.ts); undefined when none. */
async function tracksMask(context: SpecialistContext, frame: RawImage, chosen: readonly Detection[], task: SpecialistInput['task']): Promise<Mask | undefined> {
  if (chosen.length === 0) return undefined;
  const masker = boxMasker(context.models, frame, { task });
  const masks: Mask[] = [];
  for (const d of chosen) masks.push(await masker.maskOf(d));
  return masks.length === 1 ? masks[0]! : unionOf(masks, frame.width, frame.height);
}

/** A named object in a video: detector + tracker on every frame, the phrase's tracked boxes masked (find/box-mask.ts). */
async function cutoutVideoByPhrase(input: SpecialistInput, context: SpecialistContext, phrase: string, color: Rgb, on: string): Promise<SpecialistResult> {
  const label = phraseLabel(context.models, phrase, input.task);
  const detectFrame = async (frame: RawImage) => (await detect(context.models, frame, phrase, input.task, input.embeddings)).detections;
  const decision = await chooseOnVideo(input.media[0]!, phrase, numberArg('cutout', input.args, 'pick'), context, detectFrame);
  if (decision.kind === 'ask') return decision.result;
  const selection = new TrackSelection(decision.selector);
  // Every frame has the same size: one all-background mask serves each frame without the object.
  let background: Mask | undefined;
  let framesWith = 0;
  let coverageSum = 0;
  const out = await mapVideoWithTracking(
    input.media[0]!,
    detectFrame,
    async (frame, tracks) => {
      const mask = await tracksMask(context, frame, selection.pick(tracks), input.task);
      if (mask === undefined) {
        background ??= { data: new Uint8Array(frame.width * frame.height), width: frame.width, height: frame.height };
        return compositeOnColor(frame, background, color, 4);
      }
      framesWith += 1;
      coverageSum += maskCoverage(mask);
      return compositeOnColor(frame, mask, color, 4);
    },
    context,
    `cutting out ${phrase}`,
    { detectEvery: detectEveryFor(phrase) },
  );
  const what = label === undefined ? `"${phrase}"` : `the ${label}`;
  const text =
    framesWith === 0
      ? `I could not find ${label === undefined ? `"${phrase}"` : `any ${pluralOf(label)}`} in any of the ${out.frames} frames, so the video is all background.`
      : `Cut out ${what} in ${framesWith} of ${out.frames} frames, ${on}: MP4 video has no transparency. ` +
        `It covers ${Math.round((coverageSum / framesWith) * 100)} % of the frame on average where it is seen.`;
  return { text, media: [{ bytes: out.bytes, kind: 'video', mime: 'video/mp4', role: 'result', label: 'cut-out video' }] };
}

async function cutoutVideo(input: SpecialistInput, context: SpecialistContext): Promise<SpecialistResult> {
  const video = input.media[0]!;
  const colorArg = typeof input.args.color === 'string' ? input.args.color : undefined;
  const color: Rgb = await parseColor(colorArg ?? VIDEO_CUTOUT_BACKGROUND, 'color');
  const on = colorArg ? `on ${colorArg}` : 'on a green screen (#00b140)';
  const phrase = phraseArg(input);
  if (phrase !== undefined) return cutoutVideoByPhrase(input, context, phrase, color, on);
  let coverageSum = 0;
  const out = await mapVideoFrames(
    video,
    async (frame) => {
      const mask = await salientMask(context.models, frame, input.task);
      coverageSum += maskCoverage(mask);
      return compositeOnColor(frame, mask, color, 4);
    },
    context,
    'cutting out',
  );
  return {
    text:
      `Cut out the main subject in all ${out.frames} frames, ${on}: MP4 video has no transparency. ` +
      `The subject covers ${Math.round((coverageSum / Math.max(1, out.frames)) * 100)} % of the frame on average.`,
    media: [{ bytes: out.bytes, kind: 'video', mime: 'video/mp4', role: 'result', label: 'cut-out video' }],
  };
}

/**
 * Cut-out: the salient subject (ISNet), or the object a phrase names (detector box first, tracked on videos,
 * outlined by SlimSAM when pulled, else ISNet), to transparent PNG; videos frame by frame onto a colour.
 */
export const cutoutSpecialist: Specialist = {
  tasks: ['cutout'],
  models: [ISNET_MODEL],
  async run(input, context) {
    const media = input.media[0];
    if (media === undefined) throw new UnsupportedMediaForTaskError(input.task, 'nothing', ['image', 'video']);
    return media.info.kind === 'video' ? await cutoutVideo(input, context) : await cutoutImage(input, context);
  },
};
