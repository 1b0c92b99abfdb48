import { UnsupportedMediaForTaskError } from '../../../errors.ts';
import { writeVideo } from '../../../media/ffmpeg.ts';
import { formatDuration } from '../../../media/limits.ts';
import { DEPTH_MODEL, depthMap } from '../../models/depth-anything.ts';
import { ISNET_MODEL, salientMask } from '../../models/isnet.ts';
import { depthLayers, parallaxPlates, renderParallaxFrame } from '../../ops/camera-parallax.ts';
import { blendRect, easedProgress, moveEnds, type CameraMove, type Point } from '../../ops/camera-path.ts';
import { checkArgs, choiceArg, numberArg } from '../../ops/args.ts';
import { decodeImage, sharpOf, toRaw } from '../../ops/raw-image.ts';
import type { Mask, RawImage } from '../../ops/raw-image.ts';
import { cropWithSharp, padForCrop } from '../../ops/subpixel-crop.ts';
import type { Specialist, SpecialistContext, SpecialistInput } from '../../specialist.ts';
import { chooseInpainter, inpainterTitle } from '../../models/inpainter-choice.ts';
import { imageToVideoEngine } from './generate-video.ts';
import { animateSize, clipTiming, MAX_ANIMATE_SECONDS, WORKING_OVERSAMPLE } from './animate-limits.ts';

/**
 * `animate` without a video model: a camera move over the still — Ken Burns toward the subject (ISNet's
 * mask), a zoom or a pan — sampled at fractional positions so it glides, and with Depth Anything pulled, a
 * 2.5D parallax whose near layers move more than far ones. Frames go straight into ffmpeg's pipe as they
 * are made. With an image → video engine configured (generate-video.ts) and no camera move asked for, the
 * engine animates the picture instead.
 */

/** Frames drawn ahead of the encoder: enough to keep libuv's threads busy, few enough to keep memory small (3.7 MB each at 720p). */
const FRAMES_IN_FLIGHT = 3;

const MOVE_WORDS: Record<CameraMove, string> = {
  ken_burns: 'Ken Burns move',
  zoom_in: 'slow zoom in',
  zoom_out: 'slow zoom out',
  pan_left: 'pan to the left',
  pan_right: 'pan to the right',
  pan_up: 'pan upward',
  pan_down: 'pan downward',
};

/** Said when the words asked for motion inside the picture ("make the clouds move"), which a camera cannot give. */
const NO_VIDEO_MODEL = ' This server has no video model, so nothing in the picture itself moves: only the camera does.';

/** The weighted centre of a mask, or undefined when it is (almost) empty. */
export function maskCentroid(mask: Mask): Point | undefined {
  let sum = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0, i = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++, i++) {
      const v = mask.data[i]!;
      if (v === 0) continue;
      sum += v;
      sx += v * (x + 0.5);
      sy += v * (y + 0.5);
    }
  }
  // Under half a percent of the picture is noise, not a subject.
  return sum < 0.005 * 255 * mask.width * mask.height ? undefined : { x: sx / sum, y: sy / sum };
}

/** Where Ken Burns ends: the salient subject's centre when ISNet is there and finds one. */
async function subjectFocus(input: SpecialistInput, context: SpecialistContext, image: RawImage): Promise<Point | undefined> {
  if (!context.models.isInstalled(ISNET_MODEL)) return undefined;
  context.progress(0.05, 'finding the subject');
  return maskCentroid(await salientMask(context.models, image, input.task));
}

/** The picture at the working size: at most WORKING_OVERSAMPLE × the frame, so bilinear sampling never shrinks by much. */
async function workingImage(image: RawImage, frameWidth: number): Promise<RawImage> {
  const scale = Math.min(1, (frameWidth * WORKING_OVERSAMPLE) / image.width);
  if (scale === 1) return image;
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  return toRaw(sharpOf(image).resize(width, height, { fit: 'fill', kernel: 'lanczos3' }));
}

function moveText(move: CameraMove, focused: boolean): string {
  if (move !== 'ken_burns') return MOVE_WORDS[move];
  return focused ? 'Ken Burns move (a slow zoom toward the subject)' : 'Ken Burns move (a slow zoom toward the centre: no clear subject found)';
}

export const animateSpecialist: Specialist = {
  tasks: ['animate'],
  models: [],
  async run(input, context) {
    const media = input.media[0];
    if (media === undefined || media.info.kind !== 'image') throw new UnsupportedMediaForTaskError(input.task, media?.info.kind ?? 'nothing', ['image']);
    checkArgs('animate', input.args);
    const asked = choiceArg('animate', input.args, 'motion');
    // A video model makes things in the picture move; a camera move said in words ("pan left") stays one.
    const engine = asked === undefined ? imageToVideoEngine(context) : undefined;
    if (engine !== undefined) return engine.run(input, context);
    const move: CameraMove = asked ?? 'ken_burns';
    const words = typeof input.args.prompt === 'string' && input.args.prompt.trim() !== '' ? input.args.prompt.trim() : undefined;
    const timing = clipTiming(numberArg('animate', input.args, 'seconds'), numberArg('animate', input.args, 'fps'), context.limits);
    const decoded = await decodeImage(media.bytes, context.limits);
    const size = animateSize(decoded.width, decoded.height, context.limits);
    const image = await workingImage(decoded, size.width);
    const focus = move === 'ken_burns' ? await subjectFocus(input, context, image) : undefined;
    const [start, end] = moveEnds(image.width, image.height, size.width / size.height, move, focus);

    let notes = '';
    const padded = await padForCrop(image);
    let draw = (e: number): Promise<Uint8Array> => cropWithSharp(padded, blendRect(start, end, e), size.width, size.height);
    if (context.models.isInstalled(DEPTH_MODEL)) {
      context.progress(0.1, 'estimating depth');
      const layers = depthLayers(await depthMap(context.models, image, input.task), image.width);
      const inpainter = chooseInpainter(context.models);
      context.progress(0.2, 'filling behind near things');
      const plates = await parallaxPlates(image, layers, (picture, mask) => inpainter.inpaint(picture, mask, context));
      draw = async (e) => {
        const out = Buffer.allocUnsafe(size.width * size.height * 4);
        renderParallaxFrame(plates, start, end, e, out, size.width, size.height);
        return out;
      };
      notes = ` With depth parallax: ${plates.overlays.length + 1} depth layers (Depth Anything), near ones moving more; what they uncover was filled by ${inpainterTitle(inpainter)}.`;
    }

    const progress = easedProgress(timing.frames);
    // A few frames in flight on libuv's threads while this thread feeds ffmpeg's pipe. (A frame-drawing
    // worker thread was tried and took about 1.35× as long on this 2-core machine: its start-up and the core
    // it takes from ffmpeg cost more than the overlap gained.)
    async function* frames(): AsyncGenerator<Uint8Array> {
      const pending: Promise<Uint8Array>[] = [];
      let next = 0;
      const fill = () => {
        while (pending.length < FRAMES_IN_FLIGHT && next < progress.length) {
          const frame = draw(progress[next++]!);
          // Awaited below in order; this only keeps a frame that fails after the encoder stopped from going unhandled.
          frame.catch(() => {});
          pending.push(frame);
        }
      };
      for (let i = 0; i < progress.length; i++) {
        fill();
        const frame = await pending.shift()!;
        if (i % 8 === 0) context.progress(0.25 + (0.75 * i) / progress.length, 'drawing frames');
        yield frame;
      }
    }
    const bytes = await writeVideo(context.ffmpeg, frames(), {
      width: size.width,
      height: size.height,
      fps: timing.fps,
      tmpDir: context.tmpDir,
      signal: context.signal,
    });

    const capped = timing.capped ? ` (${formatDuration(MAX_ANIMATE_SECONDS)} is the longest a camera move goes)` : '';
    const what = moveText(move, focus !== undefined);
    return {
      text: `Animated it with a ${what}: ${formatDuration(timing.seconds)}${capped} at ${timing.fps} fps, ${size.width}×${size.height}.${notes}${words === undefined ? '' : NO_VIDEO_MODEL}`,
      media: [{ bytes, kind: 'video', mime: 'video/mp4', role: 'result', label: MOVE_WORDS[move] }],
    };
  },
};
