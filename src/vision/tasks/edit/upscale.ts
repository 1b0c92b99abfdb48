import { LimitReachedError, UnsupportedMediaForTaskError } from '../../../errors.ts';
import { composeSideBySide } from '../../../media/image.ts';
import { formatPixels, formatSize } from '../../../media/limits.ts';
import { decodeImage, encodePng } from '../../ops/raw-image.ts';
import type { Specialist, SpecialistContext, SpecialistInput, SpecialistResult } from '../../specialist.ts';
import { mapVideoFrames } from '../../ops/frame-map.ts';
import { checkArgs, numberArg } from '../../ops/args.ts';
import { chooseUpscaler, upscalerTitle } from '../../models/upscaler-choice.ts';

const DEFAULT_FACTOR = 2;

/**
 * A video is upscaled frame by frame, each frame tile by tile: ESRGAN-slim on 2 CPU cores does about
 * 50 000 input pixels a second at ×2, so this many input pixels over all frames is ~10 minutes of work.
 */
export const VIDEO_UPSCALE_MAX_INPUT_PIXELS = 30_000_000;

function factorOf(input: SpecialistInput): number {
  checkArgs('upscale', input.args);
  return numberArg('upscale', input.args, 'factor') ?? DEFAULT_FACTOR;
}

function refuseOverImageLimit(width: number, height: number, factor: number, context: SpecialistContext): void {
  const outWidth = width * factor;
  const outHeight = height * factor;
  const limit = context.limits.maxImagePixels;
  if (outWidth * outHeight <= limit) return;
  const fits = [2, 3, 4].filter((f) => f < factor && width * f * height * f <= limit);
  throw new LimitReachedError(
    `Upscaling ${formatSize(width, height)} by ${factor}× would make ${formatSize(outWidth, outHeight)} (${formatPixels(outWidth * outHeight)}), ` +
      `over this bot's image limit of ${formatPixels(limit)} (MAX_IMAGE_PIXELS). ` +
      (fits.length > 0 ? `Try ${fits.at(-1)}×, or crop the image first.` : 'Crop the image first.'),
    { limit, width: outWidth, height: outHeight },
  );
}

async function upscaleImage(input: SpecialistInput, context: SpecialistContext, factor: number): Promise<SpecialistResult> {
  const media = input.media[0]!;
  refuseOverImageLimit(media.info.width, media.info.height, factor, context);
  const upscaler = chooseUpscaler(context.models, factor);
  const image = await decodeImage(media.bytes, context.limits);
  refuseOverImageLimit(image.width, image.height, factor, context);
  const result = await upscaler.upscale(image, factor, { ...context, progress: (f, note) => context.progress(0.05 + 0.85 * f, note) });
  context.progress(0.92, 'encoding');
  const png = await encodePng(result);
  const comparison = await composeSideBySide(media.bytes, png, {
    limits: { maxImagePixels: Math.max(context.limits.maxImagePixels, result.width * result.height) },
  });
  return {
    text: `Upscaled ${formatSize(image.width, image.height)} → ${formatSize(result.width, result.height)} (${factor}×) with ${upscalerTitle(upscaler)}.`,
    media: [
      { bytes: png, kind: 'image', mime: 'image/png', role: 'result', label: `upscaled ${factor}×` },
      { bytes: comparison, kind: 'image', mime: 'image/png', role: 'comparison', label: 'before / after' },
    ],
  };
}

async function upscaleVideo(input: SpecialistInput, context: SpecialistContext, factor: number): Promise<SpecialistResult> {
  const video = input.media[0]!;
  const { width, height } = video.info;
  const frames = video.info.frameCount ?? Math.ceil((video.info.durationSec ?? 0) * (video.info.fps ?? 0));
  const outLong = Math.max(width, height) * factor;
  const outShort = Math.min(width, height) * factor;
  const maxLong = Math.max(context.limits.maxVideoWidth, context.limits.maxVideoHeight);
  const maxShort = Math.min(context.limits.maxVideoWidth, context.limits.maxVideoHeight);
  if (outLong > maxLong || outShort > maxShort) {
    throw new LimitReachedError(
      `Upscaling this ${formatSize(width, height)} video by ${factor}× would make ${formatSize(width * factor, height * factor)} frames, ` +
        `over this bot's video size limit of ${formatSize(context.limits.maxVideoWidth, context.limits.maxVideoHeight)} (MAX_VIDEO_WIDTH × MAX_VIDEO_HEIGHT).`,
      { width: width * factor, height: height * factor },
    );
  }
  if (frames * width * height > VIDEO_UPSCALE_MAX_INPUT_PIXELS) {
    const maxFrames = Math.max(1, Math.floor(VIDEO_UPSCALE_MAX_INPUT_PIXELS / (width * height)));
    throw new LimitReachedError(
      `Upscaling ${frames} frames of ${formatSize(width, height)} is too much work for this machine: at most ${formatPixels(VIDEO_UPSCALE_MAX_INPUT_PIXELS)} ` +
        `of input over all frames (here ${maxFrames} frames at this size). Trim the video first, e.g. "first ${Math.max(1, Math.floor(maxFrames / Math.max(1, video.info.fps ?? 25)))} seconds only".`,
      { frames, limitPixels: VIDEO_UPSCALE_MAX_INPUT_PIXELS },
    );
  }
  const upscaler = chooseUpscaler(context.models, factor);
  // Progress is per frame (mapVideoFrames reports it); tiles within a frame would make it jump back and forth.
  const quiet: SpecialistContext = { ...context, progress: () => undefined };
  const out = await mapVideoFrames(video, (frame) => upscaler.upscale(frame, factor, quiet), context, `upscaling ${factor}×`);
  return {
    text: `Upscaled all ${out.frames} frames ${formatSize(width, height)} → ${formatSize(out.width, out.height)} (${factor}×) with ${upscalerTitle(upscaler)}.`,
    media: [{ bytes: out.bytes, kind: 'video', mime: 'video/mp4', role: 'result', label: `upscaled ${factor}×` }],
  };
}

/** Super-resolution ×2/×3/×4 (ESRGAN-slim, tiled; Swin2SR ×2 when the lead registers it and it is pulled). */
export const upscaleSpecialist: Specialist = {
  tasks: ['upscale'],
  models: ['esrgan-slim-x2', 'esrgan-slim-x3', 'esrgan-slim-x4'],
  async run(input, context) {
    const media = input.media[0];
    if (media === undefined) throw new UnsupportedMediaForTaskError(input.task, 'nothing', ['image', 'video']);
    const factor = factorOf(input);
    return media.info.kind === 'video' ? await upscaleVideo(input, context, factor) : await upscaleImage(input, context, factor);
  },
};
