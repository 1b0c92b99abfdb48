import { InvalidArgumentError, UnsupportedMediaForTaskError } from '../../../errors.ts';
import { composeSideBySide, parseColor } from '../../../media/image.ts';
import type { Rgb } from '../../../media/image.ts';
import { decodeImage, encodePng, sharpOf, toRaw } from '../../ops/raw-image.ts';
import type { RawImage } from '../../ops/raw-image.ts';
import { compositeOnColor, compositeOver } from '../../ops/composite.ts';
import { ISNET_MODEL, salientMask } from '../../models/isnet.ts';
import type { Specialist, SpecialistContext, SpecialistInput, SpecialistResult } from '../../specialist.ts';
import { DEPTH_MODEL, depthMap } from '../../models/depth-anything.ts';
import { mapVideoFrames } from '../../ops/frame-map.ts';
import { depthAwareBlur } from '../../ops/depth-blur.ts';
import { checkArgs, numberArg } from '../../ops/args.ts';
import sharp from 'sharp';
import { factsOf as generationFacts, generate, type Generated, madeWith, sharedSettings, workingSize } from '../../engines/generation.ts';

type BackgroundSpec =
  | { kind: 'color'; color: Rgb; label: string }
  | { kind: 'blur'; sigma: number }
  /** A described scene, generated once at the picture's size (a video's frames all stand in front of it). */
  | { kind: 'scene'; prompt: string; picture: RawImage; generated: Generated };

const DEFAULT_BLUR = 12;

async function parseBackground(input: SpecialistInput, context: SpecialistContext): Promise<BackgroundSpec> {
  const { args } = input;
  checkArgs('background', args);
  const blurArg = args.blur;
  if (blurArg !== undefined && blurArg !== false && blurArg !== 'false') {
    if (args.color !== undefined) throw new InvalidArgumentError('Give either color or blur for background, not both.', { arg: 'blur' });
    const sigma = blurArg === true || blurArg === 'true' ? DEFAULT_BLUR : numberArg('background', args, 'blur')!;
    return { kind: 'blur', sigma };
  }
  if (args.color !== undefined) {
    const label = String(args.color).trim();
    return { kind: 'color', color: await parseColor(args.color, 'color'), label };
  }
  if (typeof args.prompt === 'string' && args.prompt.trim() !== '') return generatedScene(input, args.prompt.trim(), context);
  return { kind: 'color', color: { r: 255, g: 255, b: 255 }, label: 'white' };
}

/** "put it on a beach": the scene painted by the generator at the picture's shape, before any subject is cut out. */
async function generatedScene(input: SpecialistInput, prompt: string, context: SpecialistContext): Promise<BackgroundSpec> {
  const { width, height } = input.media[0]!.info;
  const generated = await generate(
    'background',
    ['text-to-image'],
    {
      prompt,
      ...sharedSettings('background', input),
      ...workingSize(width, height),
      count: 1,
    },
    context,
    { from: 0.02, to: 0.5 },
  );
  const picture = await toRaw(sharp(generated.result.images[0]!.png).removeAlpha().resize(width, height, { fit: 'cover' }));
  return { kind: 'scene', prompt, picture, generated };
}

/**
 * The frame with its background replaced. `byDepth`: the blur grows with distance from the subject (Depth
 * Anything); images only — per video frame it would cost a depth pass each and flicker with the estimate.
 */
async function replaceBackground(
  frame: RawImage,
  spec: BackgroundSpec,
  context: SpecialistContext,
  task: string,
  channels: 3 | 4,
  byDepth = false,
): Promise<RawImage> {
  const mask = await salientMask(context.models, frame, task);
  if (spec.kind === 'color') return compositeOnColor(frame, mask, spec.color, channels);
  if (spec.kind === 'scene') return compositeOver(frame, mask, spec.picture, channels);
  const blurred = byDepth
    ? await depthAwareBlur(frame, await depthMap(context.models, frame, task), mask, spec.sigma)
    : await toRaw(sharpOf(frame).removeAlpha().blur(spec.sigma));
  return compositeOver(frame, mask, blurred, channels);
}

function describe(spec: BackgroundSpec, byDepth = false): string {
  if (spec.kind === 'color') return `on ${spec.label}`;
  if (spec.kind === 'scene') return `in front of ${spec.prompt}, painted ${madeWith(spec.generated)}`;
  return byDepth
    ? `in focus, with the background blurred more the farther it is from the subject (depth from Depth Anything V2, up to blur ${spec.sigma})`
    : `on a blurred copy of the original (blur ${spec.sigma})`;
}

async function backgroundImage(input: SpecialistInput, context: SpecialistContext, spec: BackgroundSpec): Promise<SpecialistResult> {
  const image = await decodeImage(input.media[0]!.bytes, context.limits);
  // A blur follows the scene's depth when Depth Anything is pulled; without it, one blur for all of the background.
  const byDepth = spec.kind === 'blur' && context.models.isInstalled(DEPTH_MODEL);
  context.progress(0.1, byDepth ? 'finding the subject and the depth' : 'finding the subject');
  const result = await replaceBackground(image, spec, context, input.task, 3, byDepth);
  context.progress(0.85, 'composing');
  const png = await encodePng(result);
  const comparison = await composeSideBySide(input.media[0]!.bytes, png, { limits: context.limits });
  return {
    text: `Put the main subject ${describe(spec, byDepth)}.`,
    media: [
      {
        bytes: png,
        kind: 'image',
        mime: 'image/png',
        role: 'result',
        label: 'new background',
        ...(spec.kind === 'scene' ? { generation: generationFacts(spec.generated, 0) } : {}),
      },
      { bytes: comparison, kind: 'image', mime: 'image/png', role: 'comparison', label: 'before / after' },
    ],
  };
}

async function backgroundVideo(input: SpecialistInput, context: SpecialistContext, spec: BackgroundSpec): Promise<SpecialistResult> {
  const out = await mapVideoFrames(input.media[0]!, (frame) => replaceBackground(frame, spec, context, input.task, 4), context, 'replacing the background');
  return {
    text: `Put the main subject ${describe(spec)} in all ${out.frames} frames.`,
    media: [{ bytes: out.bytes, kind: 'video', mime: 'video/mp4', role: 'result', label: 'new background' }],
  };
}

/** Replace the background behind the salient subject with a colour or a blur (ISNet mask; depth-aware blur with Depth Anything). */
export const backgroundSpecialist: Specialist = {
  tasks: ['background'],
  models: [ISNET_MODEL],
  async run(input, context) {
    const media = input.media[0];
    if (media === undefined) throw new UnsupportedMediaForTaskError(input.task, 'nothing', ['image', 'video']);
    const spec = await parseBackground(input, context);
    return media.info.kind === 'video' ? await backgroundVideo(input, context, spec) : await backgroundImage(input, context, spec);
  },
};
