import { extractFrame } from '../../../media/ffmpeg.ts';
import { formatDuration } from '../../../media/limits.ts';
import { decodeImage } from '../../ops/raw-image.ts';
import type { LoadedMedia, ServingOption, SpecialistContext } from '../../specialist.ts';
import { FLORENCE_MODEL, runFlorence } from '../../models/florence.ts';
import type { FlorenceTask } from '../../models/florence-parse.ts';
import { sampleTimes } from '../../ops/video-frames.ts';
import { DETECTOR_CAPTION_WAY } from './detector-caption.ts';

/**
 * The ways caption works, in the order it prefers them: the vision chat endpoint when LLM_URL is set
 * (the operator chose it, and it sees a video's frames together), otherwise Florence-2 on this machine,
 * otherwise — a stopgap, but an honest answer on a fresh install — what the npm-shipped detectors found.
 */
export const CAPTION_WAYS: readonly ServingOption[] = [{ settings: ['LLM_URL'] }, { model: FLORENCE_MODEL }, DETECTOR_CAPTION_WAY];

/**
 * caption on this machine, with Florence-2 instead of a vision chat endpoint. Florence-2 sees one still
 * image at a time: a video is captioned on a few frames spread over it, said with their times, and a
 * caption the next frame repeats is said once.
 */

export type CaptionDetail = 'short' | 'detailed';

/** Florence-2's own task per detail: its "detailed" is still one sentence; the paragraph is MORE_DETAILED. */
const TASK: Record<CaptionDetail, FlorenceTask> = { short: '<CAPTION>', detailed: '<MORE_DETAILED_CAPTION>' };
/** A short caption is a dozen tokens; the paragraph ~100. The caps only stop a model that runs on. */
const MAX_NEW_TOKENS: Record<CaptionDetail, number> = { short: 48, detailed: 200 };
/** Frames of a video: each costs a full encoder pass (seconds on CPU), and three tell the story of a clip. */
export const FLORENCE_VIDEO_FRAMES = 3;

/** "a cat laying on a blanket" → "A cat laying on a blanket." (Florence-2 writes either way.) */
export function sentence(text: string): string {
  const trimmed = text.trim().replace(/\s+/g, ' ');
  if (trimmed === '') return trimmed;
  const capital = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}

async function captionImage(bytes: Buffer, detail: CaptionDetail, context: SpecialistContext): Promise<string> {
  const image = await decodeImage(bytes, context.limits);
  const result = await runFlorence(context.models, image, TASK[detail], undefined, context.signal, { task: 'caption', maxNewTokens: MAX_NEW_TOKENS[detail] });
  const text = result.parsed.kind === 'text' ? result.parsed.text : result.text;
  return result.truncated ? `${sentence(text).replace(/\.$/, '')} …` : sentence(text);
}

async function captionVideo(media: LoadedMedia, detail: CaptionDetail, context: SpecialistContext, report: (fraction: number) => void): Promise<string> {
  const times = await sampleTimes(media, context, (_, frameCount) => Math.max(1, Math.min(FLORENCE_VIDEO_FRAMES, frameCount ?? FLORENCE_VIDEO_FRAMES)));
  const said: { at: number; caption: string }[] = [];
  for (const [i, at] of times.entries()) {
    const png = await extractFrame(context.ffmpeg, media.path, at, { tmpDir: context.tmpDir, signal: context.signal });
    const caption = await captionImage(png, detail, context);
    report((i + 1) / times.length);
    if (caption !== said.at(-1)?.caption) said.push({ at, caption });
  }
  // One scene throughout needs no times; otherwise each new caption says from when it holds.
  return said.length === 1 ? said[0]!.caption : said.map(({ at, caption }) => `At ${formatDuration(at)}: ${caption}`).join('\n');
}

/**
 * The caption of each target (one line each, numbered when there are several), with progress per target.
 * Florence-2 cannot be told "do not guess names", so nothing here adds more than it wrote.
 */
export async function captionWithFlorence(media: readonly LoadedMedia[], detail: CaptionDetail, context: SpecialistContext): Promise<string> {
  const parts: string[] = [];
  for (const [i, target] of media.entries()) {
    const report = (f: number) => context.progress((i + f) / media.length, target.info.kind === 'video' ? 'describing frames' : 'describing the image');
    report(0);
    const text = target.info.kind === 'video' ? await captionVideo(target, detail, context, report) : await captionImage(target.bytes, detail, context);
    report(1);
    parts.push(media.length === 1 ? text : `${i + 1}. ${text}`);
  }
  return parts.join('\n');
}
