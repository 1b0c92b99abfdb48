import type { Selector } from '../../core/referring.ts';
import { parseReferring } from '../../core/referring.ts';
import { extractFrame } from '../../media/ffmpeg.ts';
import { formatDuration } from '../../media/limits.ts';
import type { Detection } from '../ops/detection.ts';
import { leftToRight, whichOne } from './referring.ts';
import { drawBoxes } from '../ops/draw-boxes.ts';
import { decodeImage } from '../ops/raw-image.ts';
import type { RawImage } from '../ops/raw-image.ts';
import type { LoadedMedia, SpecialistContext, SpecialistResult } from '../specialist.ts';

/**
 * "Remove the dog" on a video with two dogs: the same "which one?" as on a still image, asked before the
 * video is processed (seconds of work, not to be spent on a guess). The question shows the first frame
 * where the phrase matches, numbered left to right; the answer ("2") comes back as `pick` and becomes an
 * ordinal, which TrackSelection applies on the first frame with that many matches and then follows by
 * track id. A singular phrase that matches one thing follows that one, even when a second one walks in.
 */

export type VideoChoice =
  /** Several match and nobody said which: the reply with the question and the numbered frame. */
  | { kind: 'ask'; result: SpecialistResult }
  /** What the tracks should be chosen by. */
  | { kind: 'follow'; selector: Selector };

/** Seconds into the clip where the question's frame is looked for: the first of these with a match. */
const LOOK_AT_SECONDS = [0, 0.5, 1, 2] as const;

/** Where the question's frame may come from: the start, or a little later for things that enter late. */
export function lookAtTimes(durationSec: number | undefined): number[] {
  return LOOK_AT_SECONDS.filter((t) => t === 0 || (durationSec !== undefined && t < durationSec));
}

export async function chooseOnVideo(
  video: LoadedMedia,
  phrase: string,
  pick: number | undefined,
  context: SpecialistContext,
  detectFrame: (frame: RawImage) => Promise<Detection[]>,
): Promise<VideoChoice> {
  const { selector } = parseReferring(phrase);
  if (pick !== undefined) return { kind: 'follow', selector: { kind: 'ordinal', n: pick } };
  if (selector.kind !== 'any') return { kind: 'follow', selector };
  for (const at of lookAtTimes(video.info.durationSec)) {
    const png = await extractFrame(context.ffmpeg, video.path, at, { tmpDir: context.tmpDir, signal: context.signal });
    const frame = await decodeImage(png, context.limits);
    const found = leftToRight(await detectFrame(frame));
    if (found.length === 0) continue;
    // One match: that one, followed; not every look-alike that comes into view later.
    if (found.length === 1) return { kind: 'follow', selector: { kind: 'ordinal', n: 1 } };
    const choice = whichOne(found);
    const numbered = found.map((d, i) => ({ ...d, label: `${i + 1} ${d.label}` }));
    return {
      kind: 'ask',
      result: {
        text: `${choice.question} They are numbered left to right on ${at === 0 ? 'the first frame' : `the frame at ${formatDuration(at)}`}; the one you pick is followed through the video.`,
        choice,
        media: [{ bytes: await drawBoxes(frame, numbered), kind: 'image', mime: 'image/png', role: 'overlay', label: 'numbered on the first frame' }],
      },
    };
  }
  // Nothing seen in the first seconds: whatever the phrase matches later, all of it.
  return { kind: 'follow', selector };
}
