import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Settings } from '../../../config/settings.ts';
import { factsOf } from '../../../core/tasks.ts';
import { cannotYet } from '../../../core/unavailable.ts';
import { conformClip } from '../../../media/ffmpeg.ts';
import { parseColor } from '../../../media/image.ts';
import { formatDuration } from '../../../media/limits.ts';
import { InternalError, TaskNotAvailableError, UnsupportedMediaForTaskError } from '../../../errors.ts';
import { chooseEngine } from '../../engines/engine-choice.ts';
import type { EngineName, GenerationEngine, GenerationOperation } from '../../engines/engine.ts';
import { promptOf, sharedSettings, workingSize } from '../../engines/generation.ts';
import { detect, detectEveryFor } from '../../find/detector.ts';
import { grownRect } from '../../find/phrase-mask.ts';
import { type FrameDetector, mapVideoWithTracking } from '../../find/tracked-frames.ts';
import { checkArgs, numberArg } from '../../ops/args.ts';
import type { Detection } from '../../ops/detection.ts';
import { mapVideoFrames } from '../../ops/frame-map.ts';
import { type RawImage, sharpOf, toRaw } from '../../ops/raw-image.ts';
import type { LoadedMedia, SpecialistContext, SpecialistInput, SpecialistResult } from '../../specialist.ts';
import { consistencySentence, type FrameChange, FrameChangeMeter } from './frame-change.ts';
import { clipMadeWith, clipMedia, runVideoEngine, VIDEO_MAX_FRAMES, videoEngineFor, videoModelShape } from './video-engine.ts';

/**
 * "make it look like it's snowing", "make it look like a cartoon", "turn the car red" on a video. With a
 * ComfyUI video-to-video workflow the clip is edited as a whole (one pass of a video model, which keeps
 * frames together). Otherwise every frame goes through the image engine's image-to-image at low strength
 * with the same seed, so the same starting noise; when the words name an object (`phrase`), only inside its
 * tracked box, the rest of each frame untouched. How consistent the result is gets measured and said.
 */

export type VideoEditTask = 'edit' | 'style';

/** Low on purpose: the further each frame moves from its source, the more the frames drift apart (a style a little further). */
export function frameStrength(task: VideoEditTask): number {
  return task === 'style' ? 0.4 : 0.35;
}
/** The whole clip through a video model can move further and stay together. */
export const CLIP_STRENGTH = 0.5;
/** Frames are edited at this long side at most (SD-Turbo's native 512), then scaled back. */
const FRAME_LONG_SIDE = 512;
/** How much the tracked box grows on each side, so an edge of the object is not cut. */
const BOX_MARGIN = 0.1;

function promptFor(task: VideoEditTask, input: SpecialistInput): string {
  const words = promptOf(input);
  return task === 'style' ? `in the style of ${words}, same scene and composition` : words;
}

/** "turn the car red", "paint the door blue": a recolour of one named object. */
const RECOLOUR = /^(?:turn|make|paint|colou?r|change)\s+(the\s+[a-z]+(?:\s+[a-z]+)?)\s+(?:to\s+|into\s+)?([a-z]+)$/i;

/**
 * The object a video edit is about: the planner's `phrase`, or the object of a recolour ("turn the car red"),
 * whose colour word is checked as a colour, so "make the sky stormy" stays an edit of the whole frame.
 */
export async function editedObject(input: SpecialistInput): Promise<string | undefined> {
  if (typeof input.args.phrase === 'string' && input.args.phrase.trim() !== '') return input.args.phrase.trim();
  const m = RECOLOUR.exec(typeof input.args.prompt === 'string' ? input.args.prompt.trim() : '');
  if (m === null || /^the\s+(?:video|clip|picture|image|scene|whole)\b/i.test(m[1]!)) return undefined;
  const isColour = await parseColor(m[2]!).then(
    () => true,
    () => false,
  );
  return isColour ? m[1]!.toLowerCase() : undefined;
}

/** Engines whose image-to-image takes a seed (the Images API does not: every frame would get new noise). */
function seededSettings(settings: Settings): Settings {
  return { ...settings, GENERATION_ENGINES: settings.GENERATION_ENGINES.filter((name: EngineName) => name !== 'images-api') };
}

function noFrameEngine(task: VideoEditTask): TaskNotAvailableError {
  const doing = factsOf(task).doing ?? task;
  return new TaskNotAvailableError(
    task,
    `${doing} a video needs ComfyUI (COMFYUI_URL, with video_to_video.json or an image-to-image workflow) or SD-Turbo (\`npm run models -- pull sd-turbo\`): the Images API takes no seed, so its frames would not hold together. See docs/generation.md.`,
    'video editing',
    cannotYet({ can: 'edit videos', enable: 'video editing' }),
  );
}

/** The engine that edits single frames, and how. */
function frameEngine(task: VideoEditTask, context: SpecialistContext): { engine: GenerationEngine; operation: GenerationOperation } {
  if (context.engines === undefined) throw new InternalError('The job runner gave this specialist no generation engines.');
  const settings = seededSettings(context.settings);
  if (settings.GENERATION_ENGINES.length === 0) throw noFrameEngine(task);
  try {
    return chooseEngine(task, ['image-to-image'], settings, context.models, context.engines);
  } catch (error) {
    if (error instanceof TaskNotAvailableError) throw noFrameEngine(task);
    throw error;
  }
}

/** Pastes `edited` over `frame` inside the boxes (grown a little); outside, the frame's own pixels. */
function pasteInside(frame: RawImage, edited: RawImage, boxes: readonly Detection[]): RawImage {
  const out = Buffer.from(frame.data);
  const c = frame.channels;
  for (const box of boxes) {
    const r = grownRect(box, BOX_MARGIN, frame.width, frame.height);
    for (let y = r.top; y < r.top + r.height; y++) {
      const start = (y * frame.width + r.left) * c;
      edited.data.copy(out, start, start, start + r.width * c);
    }
  }
  return { ...frame, data: out };
}

export interface FrameEditOptions {
  /** Finds the phrase in a frame; tests inject one, the bot uses the detector (src/vision/find/detector.ts). */
  detector?: FrameDetector;
}

/** Every frame through image-to-image with one seed and strength; inside the tracked phrase only, when there is one. */
export async function editFrameByFrame(
  task: VideoEditTask,
  input: SpecialistInput,
  context: SpecialistContext,
  options: FrameEditOptions = {},
): Promise<SpecialistResult & { frameChange: FrameChange }> {
  const video = input.media[0]!;
  const { engine, operation } = frameEngine(task, context);
  const prompt = promptFor(task, input);
  const { embeddings: _unused, ...shared } = sharedSettings(task, input);
  const seed = shared.seed;
  const strength = numberArg(task, input.args, 'strength') ?? frameStrength(task);
  const size = workingSize(video.info.width, video.info.height, FRAME_LONG_SIDE);
  const meter = new FrameChangeMeter();
  let model = '';
  let steps: number | undefined;

  const editOne = async (frame: RawImage): Promise<RawImage> => {
    const png = await sharpOf(frame).resize(size.width, size.height, { fit: 'fill' }).png().toBuffer();
    const result = await engine.generate(
      { ...shared, seed, operation, task, prompt, ...size, count: 1, image: png, strength },
      { progress: () => undefined, signal: context.signal },
    );
    model = result.model;
    steps = result.steps;
    const made = result.images[0];
    if (made === undefined) throw new InternalError(`${engine.name} returned no picture for a frame.`);
    const back = await toRaw(sharp(made.png).resize(frame.width, frame.height, { fit: 'fill' }).ensureAlpha());
    return back;
  };

  const phrase = await editedObject(input);
  let editedFrames = 0;
  const mapped =
    phrase === undefined
      ? await mapVideoFrames(
          video,
          async (frame) => {
            const out = await editOne(frame);
            meter.add(frame, out);
            editedFrames += 1;
            return out;
          },
          context,
          `editing with ${engine.name}`,
        )
      : await mapVideoWithTracking(
          video,
          options.detector ?? (async (frame) => (await detect(context.models, frame, phrase, task, input.embeddings)).detections),
          async (frame, tracks) => {
            const out = tracks.length === 0 ? frame : pasteInside(frame, await editOne(frame), tracks);
            if (tracks.length > 0) editedFrames += 1;
            meter.add(frame, out);
            return out;
          },
          context,
          `editing ${phrase} with ${engine.name}`,
          { detectEvery: detectEveryFor(phrase) },
        );
  const change = meter.result();
  const where = phrase === undefined ? '' : ` inside ${phrase} (followed in ${editedFrames} of ${mapped.frames} frames)`;
  const stepText = steps === undefined ? '' : `, ${steps} step${steps === 1 ? '' : 's'}`;
  return {
    text: `${task === 'style' ? 'Restyled' : 'Edited'} every frame${where}: "${promptOf(input)}", with ${model} on ${engine.name} (seed ${seed} on every frame${stepText}, strength ${strength}). ${consistencySentence(change)}`,
    media: [
      {
        bytes: mapped.bytes,
        kind: 'video',
        mime: 'video/mp4',
        role: 'result',
        label: task === 'style' ? 'restyled video' : 'edited video',
        generation: {
          prompt,
          seed,
          ...(steps !== undefined ? { steps } : {}),
          strength,
          width: mapped.width,
          height: mapped.height,
          engine: engine.name,
          model,
        },
      },
    ],
    frameChange: change,
  };
}

/**
 * The whole clip through the engine's video-to-video workflow, shaped as the model takes it (videoModelShape:
 * sides in multiples of 32, frames padded to 4k + 1 by repeating the last one), and the answer cut back to the
 * clip's own length.
 */
async function editClip(task: VideoEditTask, input: SpecialistInput, context: SpecialistContext): Promise<SpecialistResult> {
  const video = input.media[0]!;
  const { embeddings: _unused, ...shared } = sharedSettings(task, input);
  const options = { tmpDir: context.tmpDir, signal: context.signal };
  // The upload's probe already says how big, how fast and how long the clip is.
  const { width, height } = video.info;
  const fps = video.info.fps ?? 24;
  const sourceFrames = video.info.frameCount ?? Math.max(1, Math.round((video.info.durationSec ?? 1) * fps));
  const shape = videoModelShape(width, height, sourceFrames);
  const conformed = await conformClip(context.ffmpeg, video.path, shape, options);
  const made = await runVideoEngine(
    task,
    'video-to-video',
    {
      prompt: promptFor(task, input),
      ...shared,
      ...shape,
      fps,
      video: conformed,
      strength: numberArg(task, input.args, 'strength') ?? CLIP_STRENGTH,
    },
    context,
  );
  const keep = Math.min(sourceFrames, VIDEO_MAX_FRAMES);
  let clip = made;
  if (made.frames > keep) {
    const file = path.join(context.tmpDir, `video-to-video-${randomUUID()}.mp4`);
    await fs.writeFile(file, made.bytes);
    const bytes = await conformClip(context.ffmpeg, file, { width: made.width, height: made.height, frames: keep }, options);
    clip = { ...made, bytes, frames: keep };
  }
  const cut =
    sourceFrames > VIDEO_MAX_FRAMES
      ? ` Only the first ${formatDuration(VIDEO_MAX_FRAMES / fps)} was edited: the video model takes at most ${VIDEO_MAX_FRAMES} frames.`
      : '';
  return {
    text: `${task === 'style' ? 'Restyled' : 'Edited'} the video as a whole: "${promptOf(input)}", ${clipMadeWith(clip)}.${cut}`,
    media: [clipMedia(clip, task === 'style' ? 'restyled video' : 'edited video')],
  };
}

/**
 * A video edited by words: the ComfyUI video workflow when there is one and the words name no object (the
 * workflow takes no mask), frame by frame otherwise.
 */
export async function editVideoByWords(task: VideoEditTask, input: SpecialistInput, context: SpecialistContext): Promise<SpecialistResult> {
  checkArgs(task, input.args);
  const video: LoadedMedia | undefined = input.media[0];
  if (video === undefined || video.info.kind !== 'video') throw new UnsupportedMediaForTaskError(task, video?.info.kind ?? 'nothing', ['video']);
  const phrase = await editedObject(input);
  if (phrase === undefined && videoEngineFor(task, 'video-to-video', context) !== undefined) return editClip(task, input, context);
  return editFrameByFrame(task, input, context);
}
