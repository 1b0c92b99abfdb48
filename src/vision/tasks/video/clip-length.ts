import { argSpec, factsOf, type Task } from '../../../core/tasks.ts';
import type { GenerationFacts, Invocation } from '../../../core/types.ts';
import type { MediaLimits } from '../../../media/limits.ts';
import { clipTiming } from './animate-limits.ts';
import { VIDEO_FPS, VIDEO_MAX_FRAMES } from './video-engine.ts';

/**
 * The "Longer" button: the request that made a clip, run again with twice its length — no longer than what
 * made it goes (a camera move ≤ 10 s, the engine's video model ≤ VIDEO_MAX_FRAMES) and the chat's video
 * limits. A clip already that long gets no button.
 */

type Clip = { kind: string; role: string; durationSec?: number | null; generation?: GenerationFacts; invocation: Invocation | null };

/** A task whose result is a clip made to a length asked for (`seconds`): animate, generate_video. */
export function madeToLength(task: Task): boolean {
  return factsOf(task).output === 'video' && argSpec(task, 'seconds') !== undefined;
}
/** A longer clip must be at least this much longer to be worth a button. */
const WORTH_IT_SEC = 0.5;

/** The longest clip the request that made `clip` can make under `limits`. */
export function longestClipSeconds(clip: Clip, limits: Pick<MediaLimits, 'maxVideoSeconds' | 'maxVideoFrames'>): number {
  // An engine's clip records its seed and engine; a camera move records neither.
  if (clip.generation !== undefined) return Math.min(VIDEO_MAX_FRAMES / VIDEO_FPS, limits.maxVideoSeconds, limits.maxVideoFrames / VIDEO_FPS);
  const fps = clip.invocation?.args.fps;
  return clipTiming(Number.POSITIVE_INFINITY, typeof fps === 'number' ? fps : undefined, limits).seconds;
}

/** The seconds to ask for a longer take of `clip`, or undefined when it is not a made clip or cannot be longer. */
export function longerClipSeconds(clip: Clip, limits: Pick<MediaLimits, 'maxVideoSeconds' | 'maxVideoFrames'>): number | undefined {
  if (clip.kind !== 'video' || clip.role !== 'result' || !clip.invocation || !madeToLength(clip.invocation.task)) return undefined;
  const asked = clip.invocation.args.seconds;
  const now = clip.durationSec ?? (typeof asked === 'number' ? asked : undefined);
  if (now === undefined || !(now > 0)) return undefined;
  const longer = Math.min(longestClipSeconds(clip, limits), now * 2);
  return longer - now >= WORTH_IT_SEC ? Math.round(longer * 10) / 10 : undefined;
}
