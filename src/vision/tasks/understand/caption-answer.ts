import { InvalidArgumentError, UnsupportedMediaForTaskError } from '../../../errors.ts';
import { extractFrame } from '../../../media/ffmpeg.ts';
import { formatDuration } from '../../../media/limits.ts';
import { checkArgs, choiceArg } from '../../ops/args.ts';
import { missingModelError } from '../../models/missing-model.ts';
import type { LoadedMedia, ServingOption, Specialist, SpecialistContext, SpecialistInput } from '../../specialist.ts';
import { CAPTION_WAYS, captionWithFlorence } from './florence-caption.ts';
import type { CaptionDetail } from './florence-caption.ts';
import { FLORENCE_MODEL } from '../../models/florence.ts';
import { captionRegion, captionRegionOf } from './region-caption.ts';
import { DETECTOR_CAPTION_WAY, captionWithDetectors } from './detector-caption.ts';
import { sampleTimes } from '../../ops/video-frames.ts';
import { encodeForLlm } from '../../../llm/picture.ts';
import { askVisionLlm } from '../../models/vision-llm.ts';

/**
 * caption ("what is in this picture?") and answer ("what colour is the car?") through the vision chat
 * endpoint of LLM_URL; caption also through Florence-2 (florence-caption.ts) when there is none, and
 * of one region (region-caption.ts). A video is sent as a few frames spread evenly over it, in order, with
 * a prompt that says so: every common vision chat model takes several images, few take video.
 */

export const MIN_VIDEO_FRAMES = 4;
export const MAX_VIDEO_FRAMES = 8;
/** Several targets ("compare these two") are fine; past this the answer gets vague and the request heavy. */
const MAX_TARGETS = 4;
/** Roughly one frame per this many seconds, within MIN..MAX_VIDEO_FRAMES. */
const SECONDS_PER_FRAME = 2;

// A detailed caption must still fit one Discord message (2000 characters, about 4 per token).
const MAX_TOKENS = { short: 120, detailed: 400, answer: 300 } as const;

/** How many frames a video of this length gets: more for longer clips, never more than it has. */
export function videoFrameCount(durationSec: number, frameCount?: number): number {
  const wanted = Math.min(MAX_VIDEO_FRAMES, Math.max(MIN_VIDEO_FRAMES, Math.round(durationSec / SECONDS_PER_FRAME)));
  return frameCount !== undefined && frameCount > 0 ? Math.min(wanted, frameCount) : wanted;
}

/** One target as pictures for the endpoint, and how the prompt should speak of them. */
interface Pictures {
  jpegs: Buffer[];
  kind: 'image' | 'video';
  /** For videos: when each frame was taken. */
  times: number[];
}

async function imagePictures(media: LoadedMedia, context: SpecialistContext): Promise<Pictures> {
  const jpeg = await encodeForLlm(media.bytes, context.limits, context.settings.LLM_MAX_IMAGE_SIDE);
  return { jpegs: [jpeg], kind: 'image', times: [] };
}

async function videoPictures(media: LoadedMedia, context: SpecialistContext, report: (fraction: number) => void): Promise<Pictures> {
  const times = await sampleTimes(media, context, videoFrameCount);
  const jpegs: Buffer[] = [];
  for (const [i, at] of times.entries()) {
    const png = await extractFrame(context.ffmpeg, media.path, at, { tmpDir: context.tmpDir, signal: context.signal });
    jpegs.push(await encodeForLlm(png, context.limits, context.settings.LLM_MAX_IMAGE_SIDE));
    report((i + 1) / times.length);
  }
  return { jpegs, kind: 'video', times };
}

/** What the pictures are, when there is more than one; a single image needs no introduction. */
function introduce(targets: readonly Pictures[]): string {
  if (targets.length === 1 && targets[0]!.kind === 'image') return '';
  const at = (times: number[]) => times.map((t) => formatDuration(t)).join(', ');
  if (targets.length === 1) {
    const { jpegs, times } = targets[0]!;
    return jpegs.length === 1
      ? 'The picture is a frame from a video.\n'
      : `The ${jpegs.length} pictures are frames from one video, in time order, taken at ${at(times)}. Treat them as one video, not as separate photos.\n`;
  }
  let next = 1;
  const parts = targets.map((t, i) => {
    const first = next;
    next += t.jpegs.length;
    const range = t.jpegs.length === 1 ? `picture ${first}` : `pictures ${first}–${next - 1}`;
    return t.kind === 'image'
      ? `item ${i + 1} is an image (${range})`
      : `item ${i + 1} is a video, shown as frames in time order taken at ${at(t.times)} (${range})`;
  });
  return `There are ${targets.length} items: ${parts.join('; ')}.\n`;
}

function subject(targets: readonly Pictures[]): string {
  if (targets.length > 1) return 'these items';
  return targets[0]!.kind === 'video' ? 'this video' : 'this image';
}

function captionPrompt(targets: readonly Pictures[], detail: CaptionDetail): string {
  const what = subject(targets);
  const ask =
    detail === 'short'
      ? `Describe ${what} in one or two sentences: the main subject and what is happening.`
      : `Describe ${what} in detail: the main subjects, what they are doing${targets.some((t) => t.kind === 'video') ? ' and how that changes over time' : ''}, the setting, notable colours and any readable text.`;
  return `${introduce(targets)}${ask} Say only what you can see; do not guess names of people.`;
}

function answerPrompt(targets: readonly Pictures[], question: string): string {
  return `${introduce(targets)}Answer the question about ${subject(targets)} briefly and directly, from what you can see. If it cannot be told from ${subject(targets)}, say so.\nQuestion: ${question}`;
}

function questionOf(input: SpecialistInput): string {
  const question = typeof input.args.question === 'string' ? input.args.question.trim() : '';
  if (question === '') throw new InvalidArgumentError('answer needs a question about the picture, for example "what colour is the car?".', { arg: 'question' });
  return question;
}

/** Checks what both tasks share: something to look at, not too much of it, only the arguments the task takes. */
function checkTargets(input: SpecialistInput, task: 'caption' | 'answer'): void {
  if (input.media.length === 0) throw new UnsupportedMediaForTaskError(task, 'nothing', ['image', 'video']);
  if (input.media.length > MAX_TARGETS)
    throw new InvalidArgumentError(`${task} looks at up to ${MAX_TARGETS} images or videos at once; ${input.media.length} were given.`);
  checkArgs(task, input.args);
}

/** Asks the endpoint about the targets: pictures take the first half of the progress (frame extraction is the slow part). */
async function askAbout(
  input: SpecialistInput,
  context: SpecialistContext,
  prompt: (targets: readonly Pictures[]) => string,
  maxTokens: number,
): Promise<string> {
  const targets: Pictures[] = [];
  for (const [i, media] of input.media.entries()) {
    const report = (f: number) => context.progress((0.5 * (i + f)) / input.media.length, media.info.kind === 'video' ? 'taking frames' : 'preparing the image');
    targets.push(media.info.kind === 'video' ? await videoPictures(media, context, report) : await imagePictures(media, context));
    report(1);
  }
  context.progress(0.5, 'asking the vision model');
  const answer = await askVisionLlm(context.settings, { prompt: prompt(targets), images: targets.flatMap((t) => t.jpegs), maxTokens, signal: context.signal });
  context.progress(1, 'answered');
  return answer.truncated ? `${answer.text} …` : answer.text;
}

/**
 * caption: the vision chat endpoint when LLM_URL is set (the operator chose it, and it sees a video's
 * frames together), otherwise Florence-2 on this machine when it is pulled, otherwise what the detectors
 * that ship with npm found (detector-caption.ts), said as such.
 */
export const captionSpecialist: Specialist = {
  tasks: ['caption'],
  models: [],
  servedBy: CAPTION_WAYS,
  async run(input, context) {
    checkTargets(input, 'caption');
    const detail = choiceArg('caption', input.args, 'detail') ?? 'short';
    const region = captionRegion(input);
    if (region !== undefined) return captionRegionOf(input, region, detail, context);
    if (context.settings.LLM_URL !== undefined) {
      return { media: [], text: await askAbout(input, context, (targets) => captionPrompt(targets, detail), MAX_TOKENS[detail]) };
    }
    if (context.models.isInstalled(FLORENCE_MODEL)) {
      const text = await captionWithFlorence(input.media, detail, context);
      context.progress(1, 'described');
      return { media: [], text };
    }
    if (context.models.isInstalled(DETECTOR_CAPTION_WAY.model)) return captionWithDetectors(input.media, detail === 'detailed', context);
    throw missingModelError('caption', CAPTION_WAYS, context.models, context.settings.MODELS_DIR);
  },
};

/** answer: free-form questions need a chat model; only the endpoint has one in this build. */
const ANSWER_WAYS: readonly ServingOption[] = [{ settings: ['LLM_URL'] }];

export const answerSpecialist: Specialist = {
  tasks: ['answer'],
  models: [],
  servedBy: ANSWER_WAYS,
  async run(input, context) {
    checkTargets(input, 'answer');
    if (context.settings.LLM_URL === undefined) throw missingModelError('answer', ANSWER_WAYS, context.models, context.settings.MODELS_DIR);
    const question = questionOf(input);
    return { media: [], text: await askAbout(input, context, (targets) => answerPrompt(targets, question), MAX_TOKENS.answer) };
  },
};
