import sharp from 'sharp';
import { InvalidArgumentError } from '../../../errors.ts';
import { VIDEO_SERVING } from '../../engines/engine-choice.ts';
import { promptOf, sharedSettings, textArg } from '../../engines/generation.ts';
import { checkArgs, numberArg } from '../../ops/args.ts';
import type { Specialist, SpecialistContext, SpecialistInput, SpecialistResult } from '../../specialist.ts';
import { DEFAULT_SECONDS, VIDEO_FPS, clipMadeWith, clipMedia, framesFor, runVideoEngine, videoEngineFor, videoSizeFor } from './video-engine.ts';

/**
 * "make a 5 second video of fireworks" (text → video), and image → video for `animate` when an engine
 * with a video model is configured: both are one workflow run on ComfyUI (Wan 2.2 TI2V 5B by default).
 */

function secondsOf(task: 'generate_video' | 'animate', input: SpecialistInput): number {
  const seconds = numberArg(task, input.args, 'seconds') ?? DEFAULT_SECONDS;
  if (!(seconds > 0)) throw new InvalidArgumentError('A video needs a length of more than 0 seconds.', { arg: 'seconds' });
  return seconds;
}

function lengthNote(asked: number, frames: number, fps: number): string {
  const made = frames / fps;
  return Math.abs(made - asked) > 0.5 ? ` (${asked} s asked; the video model makes at most ${Math.round(made * 10) / 10} s)` : '';
}

export const generateVideoSpecialist: Specialist = {
  tasks: ['generate_video'],
  models: [],
  servedBy: VIDEO_SERVING,
  async run(input, context) {
    checkArgs('generate_video', input.args);
    const prompt = promptOf(input);
    const seconds = secondsOf('generate_video', input);
    const frames = framesFor(seconds);
    const { embeddings: _unused, ...settings } = sharedSettings('generate_video', input);
    const clip = await runVideoEngine('generate_video', 'text-to-video', { prompt, ...settings, width: 1280, height: 704, frames, fps: VIDEO_FPS }, context);
    return {
      text: `Here is "${prompt}", made ${clipMadeWith(clip)}${lengthNote(seconds, clip.frames, clip.fps)}.`,
      media: [clipMedia(clip, 'generated video')],
    };
  },
};

/** How an animate specialist runs image → video on an engine: the picture is the first frame, the words say how it moves. */
export interface ImageToVideoEngine {
  /** The engine's name, for the reply and logs ("comfyui"). */
  readonly name: string;
  run(input: SpecialistInput, context: SpecialistContext): Promise<SpecialistResult>;
}

/**
 * The image → video engine for `animate`, or undefined when none is configured (then animate moves a camera
 * over the picture instead). `input.media[0]` is the picture; `prompt` (how it should move) and `seconds`
 * are animate's arguments; a `seed` is used when the invocation has one.
 */
export function imageToVideoEngine(deps: Pick<SpecialistContext, 'settings' | 'models' | 'engines'>): ImageToVideoEngine | undefined {
  const engine = videoEngineFor('animate', 'image-to-video', deps);
  if (engine === undefined) return undefined;
  return {
    name: engine.name,
    async run(input, context) {
      const picture = input.media[0];
      if (picture === undefined || picture.info.kind !== 'image') throw new InvalidArgumentError('Animating needs a picture to start from.');
      const seconds = secondsOf('animate', input);
      const frames = framesFor(seconds);
      // The picture's own prompt keeps the subject when the words only say how it moves.
      const motion = textArg(input, 'prompt');
      const what = picture.info.generation?.prompt;
      const prompt = [what, motion ?? 'gentle natural motion, the camera steady'].filter(Boolean).join(', ');
      const { embeddings: _unused, ...settings } = sharedSettings('generate_video', input);
      const image = await sharp(picture.bytes).png().toBuffer();
      const clip = await runVideoEngine(
        'animate',
        'image-to-video',
        { prompt, ...settings, ...videoSizeFor(picture.info.width, picture.info.height), frames, fps: VIDEO_FPS, image },
        context,
      );
      return {
        text: `Animated${motion ? ` ("${motion}")` : ''}, ${clipMadeWith(clip)}${lengthNote(seconds, clip.frames, clip.fps)}.`,
        media: [clipMedia(clip, 'animated')],
      };
    },
  };
}
