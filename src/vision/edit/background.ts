import { InvalidArgumentError, ModelNotInstalledError, UnsupportedMediaForTaskError } from '../../errors.ts';
import { howToGet, catalogEntry } from '../../../models/catalog.ts';
import { composeSideBySide, parseColor } from '../../media/image.ts';
import type { Rgb } from '../../media/image.ts';
import { decodeImage, encodePng, sharpOf, toRaw } from '../raw-image.ts';
import type { RawImage } from '../raw-image.ts';
import { compositeOnColor, compositeOver } from '../segment/composite.ts';
import { ISNET_MODEL, salientMask } from '../segment/isnet.ts';
import type { Specialist, SpecialistContext, SpecialistInput, SpecialistResult } from '../specialist.ts';
import { mapVideoFrames } from '../video/frame-map.ts';
import { optionalNumber, rejectUnknown } from './args.ts';

type BackgroundSpec = { kind: 'color'; color: Rgb; label: string } | { kind: 'blur'; sigma: number };

const DEFAULT_BLUR = 12;

async function parseBackground(input: SpecialistInput, context: SpecialistContext): Promise<BackgroundSpec> {
  const { args } = input;
  rejectUnknown(args, ['color', 'blur'], 'background');
  const blurArg = args.blur;
  if (blurArg !== undefined && blurArg !== false && blurArg !== 'false') {
    if (args.color !== undefined) throw new InvalidArgumentError('Give either color or blur for background, not both.', { arg: 'blur' });
    const sigma = blurArg === true || blurArg === 'true' ? DEFAULT_BLUR : optionalNumber(args, 'blur', 0.3, 100)!;
    return { kind: 'blur', sigma };
  }
  if (args.color !== undefined) {
    const label = String(args.color).trim();
    return { kind: 'color', color: await parseColor(args.color, 'color'), label };
  }
  if (typeof args.prompt === 'string' && args.prompt.trim() !== '') {
    // A described background ("a beach at sunset") must be generated: never fake it with a colour.
    const entry = catalogEntry('sd-turbo')!;
    throw new ModelNotInstalledError('background', entry.name, howToGet(entry, context.settings.MODELS_DIR));
  }
  return { kind: 'color', color: { r: 255, g: 255, b: 255 }, label: 'white' };
}

async function replaceBackground(frame: RawImage, spec: BackgroundSpec, context: SpecialistContext, task: string, channels: 3 | 4): Promise<RawImage> {
  const mask = await salientMask(context.models, frame, task);
  if (spec.kind === 'color') return compositeOnColor(frame, mask, spec.color, channels);
  const blurred = await toRaw(sharpOf(frame).removeAlpha().blur(spec.sigma));
  return compositeOver(frame, mask, blurred, channels);
}

function describe(spec: BackgroundSpec): string {
  return spec.kind === 'color' ? `on ${spec.label}` : `on a blurred copy of the original (blur ${spec.sigma})`;
}

async function backgroundImage(input: SpecialistInput, context: SpecialistContext, spec: BackgroundSpec): Promise<SpecialistResult> {
  const image = await decodeImage(input.media[0]!.bytes, context.limits);
  context.progress(0.1, 'finding the subject');
  const result = await replaceBackground(image, spec, context, input.task, 3);
  context.progress(0.85, 'composing');
  const png = await encodePng(result);
  const comparison = await composeSideBySide(input.media[0]!.bytes, png, { limits: context.limits });
  return {
    text: `Put the main subject ${describe(spec)}.`,
    media: [
      { bytes: png, kind: 'image', mime: 'image/png', role: 'result', label: 'new background' },
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

/** Replace the background behind the salient subject with a colour or a blur (ISNet mask). */
export const backgroundSpecialist: Specialist = {
  tasks: ['background'],
  accepts: ['image', 'video'],
  models: [ISNET_MODEL],
  async run(input, context) {
    const media = input.media[0];
    if (media === undefined) throw new UnsupportedMediaForTaskError(input.task, 'nothing', ['image', 'video']);
    const spec = await parseBackground(input, context);
    return media.info.kind === 'video' ? await backgroundVideo(input, context, spec) : await backgroundImage(input, context, spec);
  },
};
