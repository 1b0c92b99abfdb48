import { UnsupportedMediaForTaskError } from '../../errors.ts';
import { overlayPreview, parseColor } from '../../media/image.ts';
import type { Rgb } from '../../media/image.ts';
import { decodeImage, encodePng, maskCoverage, maskToPng } from '../raw-image.ts';
import type { Specialist, SpecialistContext, SpecialistInput, SpecialistResult } from '../specialist.ts';
import { mapVideoFrames } from '../video/frame-map.ts';
import { applyMaskAsAlpha, compositeOnColor } from './composite.ts';
import { ISNET_MODEL, salientMask } from './isnet.ts';

/** Chroma-key green: MP4 has no alpha, and a green screen is what editors key out to reuse the subject. */
export const VIDEO_CUTOUT_BACKGROUND = '#00b140';
/** A pink that rarely occurs in photos, so the selection stands out. */
const OVERLAY_COLOR = '#ff2d55';

const PHRASE_NOTE = (phrase: string): string =>
  ` You asked for "${phrase}": I cut out the most salient subject, which may not be it. Cutting out a named object needs the phrase-grounding models of a later release.`;

function describeCoverage(coverage: number): string {
  if (coverage < 0.005) return 'I could not find a clear subject: the mask is almost empty.';
  return `Cut out the main subject (it covers ${Math.round(coverage * 100)} % of the image).`;
}

async function cutoutImage(input: SpecialistInput, context: SpecialistContext): Promise<SpecialistResult> {
  const media = input.media[0]!;
  const image = await decodeImage(media.bytes, context.limits);
  context.progress(0.1, 'finding the subject');
  const mask = await salientMask(context.models, image, input.task);
  context.progress(0.8, 'composing');
  // sharp encodes on libuv's thread pool: the largest PNG starts first, and the overlay's pixel pass runs
  // on this thread while the other two are being encoded.
  const [cut, maskPng, overlay] = await Promise.all([
    encodePng(applyMaskAsAlpha(image, mask)),
    maskToPng(mask),
    overlayPreview(image, mask, OVERLAY_COLOR),
  ]);
  const phrase = typeof input.args.phrase === 'string' && input.args.phrase.trim() !== '' ? input.args.phrase.trim() : undefined;
  return {
    text: describeCoverage(maskCoverage(mask)) + (phrase ? PHRASE_NOTE(phrase) : ''),
    media: [
      { bytes: cut, kind: 'image', mime: 'image/png', role: 'result', label: 'cut-out' },
      { bytes: maskPng, kind: 'image', mime: 'image/png', role: 'mask', label: 'mask' },
      { bytes: overlay.bytes, kind: 'image', mime: overlay.mime, role: 'overlay', label: 'mask overlay' },
    ],
  };
}

async function cutoutVideo(input: SpecialistInput, context: SpecialistContext): Promise<SpecialistResult> {
  const video = input.media[0]!;
  const colorArg = typeof input.args.color === 'string' ? input.args.color : undefined;
  const color: Rgb = await parseColor(colorArg ?? VIDEO_CUTOUT_BACKGROUND, 'color');
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
  const phrase = typeof input.args.phrase === 'string' && input.args.phrase.trim() !== '' ? input.args.phrase.trim() : undefined;
  const on = colorArg ? `on ${colorArg}` : 'on a green screen (#00b140)';
  return {
    text:
      `Cut out the main subject in all ${out.frames} frames, ${on}: MP4 video has no transparency. ` +
      `The subject covers ${Math.round((coverageSum / Math.max(1, out.frames)) * 100)} % of the frame on average.` +
      (phrase ? PHRASE_NOTE(phrase) : ''),
    media: [{ bytes: out.bytes, kind: 'video', mime: 'video/mp4', role: 'result', label: 'cut-out video' }],
  };
}

/** Salient-subject cut-out (ISNet): images to transparent PNG, videos frame by frame onto a colour. */
export const cutoutSpecialist: Specialist = {
  tasks: ['cutout'],
  accepts: ['image', 'video'],
  models: [ISNET_MODEL],
  async run(input, context) {
    const media = input.media[0];
    if (media === undefined) throw new UnsupportedMediaForTaskError(input.task, 'nothing', ['image', 'video']);
    return media.info.kind === 'video' ? await cutoutVideo(input, context) : await cutoutImage(input, context);
  },
};
