import { probe } from '../../media/ffmpeg.ts';
import type { LoadedMedia, SpecialistContext } from '../specialist.ts';

/** The middle of each of `count` equal slices: evenly spread, never the black first or last frame. */
export function frameTimes(durationSec: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => ((i + 0.5) * durationSec) / count);
}

/**
 * When to take the frames an image model looks at to understand a video: `count(duration, frameCount)`
 * of them spread over it, or only the first when its length cannot be told.
 */
export async function sampleTimes(
  media: LoadedMedia,
  context: Pick<SpecialistContext, 'ffmpeg' | 'signal'>,
  count: (durationSec: number, frameCount?: number) => number,
): Promise<number[]> {
  const facts = media.info.durationSec === undefined ? await probe(context.ffmpeg, media.path, { signal: context.signal }) : undefined;
  const duration = media.info.durationSec ?? facts?.durationSec;
  return duration === undefined || duration <= 0 ? [0] : frameTimes(duration, count(duration, media.info.frameCount ?? facts?.frameCount));
}
