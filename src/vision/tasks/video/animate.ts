import { UnsupportedMediaForTaskError } from '../../../errors.ts';
import { writeVideo } from '../../../media/ffmpeg.ts';
import { uprightSize } from '../../../media/image.ts';
import { formatDuration } from '../../../media/limits.ts';
import { DEPTH_MODEL, depthMap } from '../../models/depth-anything.ts';
import { ISNET_MODEL, salientMask } from '../../models/isnet.ts';
import { depthLayers, parallaxPlates, renderParallaxFrame } from '../../ops/camera-parallax.ts';
import { blendRect, easedProgress, moveEnds, type CameraMove, type Point } from '../../ops/camera-path.ts';
import { checkArgs, choiceArg, numberArg } from '../../ops/args.ts';
import { decodeImage } from '../../ops/raw-image.ts';
import type { Mask, RawImage } from '../../ops/raw-image.ts';
import { yuvCropper } from '../../ops/yuv-crop.ts';
import type { Specialist, SpecialistContext, SpecialistInput } from '../../specialist.ts';
import { chooseInpainter, inpainterTitle } from '../../models/inpainter-choice.ts';
import { imageToVideoEngine } from './generate-video.ts';
import { animateSize, clipTiming, MAX_ANIMATE_FPS, MAX_ANIMATE_SECONDS, WORKING_OVERSAMPLE } from './animate-limits.ts';

/**
 * `animate` without a video model: a camera move over the still — Ken Burns toward the subject (ISNet's
 * mask), a zoom or a pan — sampled at fractional positions so it glides, and with Depth Anything pulled, a
 * 2.5D parallax whose near layers move more than far ones. Frames go straight into ffmpeg's pipe as they
 * are made. With an image → video engine configured (generate-video.ts) and no camera move asked for, the
 * engine animates the picture instead.
 */

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

/** The picture's size to work at: at most WORKING_OVERSAMPLE × the frame, so bilinear sampling never shrinks by much. */
function workingSize(picture: { width: number; height: number }, frameWidth: number): { width: number; height: number } | undefined {
  const scale = Math.min(1, (frameWidth * WORKING_OVERSAMPLE) / picture.width);
  if (scale === 1) return undefined;
  return { width: Math.max(1, Math.round(picture.width * scale)), height: Math.max(1, Math.round(picture.height * scale)) };
}

/**
 * Each frame drawn when the encoder asks for it: writeVideo has piped the previous frame in full by then,
 * so every frame may be drawn into the same buffer.
 */
function* drawnFrames(progress: readonly number[], context: SpecialistContext, draw: (e: number) => Uint8Array): Generator<Uint8Array> {
  for (let i = 0; i < progress.length; i++) {
    if (i % 8 === 0) context.progress(0.25 + (0.75 * i) / progress.length, 'drawing frames');
    yield draw(progress[i]!);
  }
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
    // The header gives the frame size, so the encoder can start now: its start-up (≈0.2 s here) overlaps
    // decoding the picture and everything else before the first frame.
    const upright = await uprightSize(media.bytes, context.limits);
    const size = animateSize(upright.width, upright.height, context.limits);
    const depth = context.models.isInstalled(DEPTH_MODEL);
    let focus: Point | undefined;
    let notes = '';
    async function* frames(): AsyncGenerator<Uint8Array> {
      const image = await decodeImage(media!.bytes, context.limits, workingSize(upright, size.width));
      focus = move === 'ken_burns' ? await subjectFocus(input, context, image) : undefined;
      const [start, end] = moveEnds(image.width, image.height, size.width / size.height, move, focus);
      const progress = easedProgress(timing.frames);
      if (!depth) {
        // Drawn in the encoder's own format (yuv-crop.ts says why), on this thread: ffmpeg has the cores.
        const cropper = yuvCropper(image, size.width, size.height);
        yield* drawnFrames(progress, context, (e) => cropper.draw(blendRect(start, end, e)));
        return;
      }
      context.progress(0.1, 'estimating depth');
      const layers = depthLayers(await depthMap(context.models, image, input.task), image.width);
      const inpainter = chooseInpainter(context.models);
      context.progress(0.2, 'filling behind near things');
      const plates = await parallaxPlates(image, layers, (picture, mask) => inpainter.inpaint(picture, mask, context));
      notes = ` With depth parallax: ${plates.overlays.length + 1} depth layers (Depth Anything), near ones moving more; what they uncover was filled by ${inpainterTitle(inpainter)}.`;
      const out = Buffer.allocUnsafe(size.width * size.height * 4);
      yield* drawnFrames(progress, context, (e) => {
        renderParallaxFrame(plates, start, end, e, out, size.width, size.height);
        return out;
      });
    }
    const bytes = await writeVideo(context.ffmpeg, frames(), {
      width: size.width,
      height: size.height,
      fps: timing.fps,
      pixelFormat: depth ? 'rgba' : 'yuv420p',
      tmpDir: context.tmpDir,
      signal: context.signal,
    });

    const capped = timing.capped ? ` (${formatDuration(MAX_ANIMATE_SECONDS)} is the longest a camera move goes)` : '';
    const fpsCapped = timing.fpsCapped ? ` (${MAX_ANIMATE_FPS} fps is the most a camera move draws)` : '';
    const what = moveText(move, focus !== undefined);
    return {
      text: `Animated it with a ${what}: ${formatDuration(timing.seconds)}${capped} at ${timing.fps} fps${fpsCapped}, ${size.width}×${size.height}.${notes}${words === undefined ? '' : NO_VIDEO_MODEL}`,
      media: [{ bytes, kind: 'video', mime: 'video/mp4', role: 'result', label: MOVE_WORDS[move] }],
    };
  },
};
