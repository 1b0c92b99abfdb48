import type { MediaLimits } from '../../../media/limits.ts';

/**
 * How long, how fast and how large a camera move is. A camera move over a still gets dull quickly and
 * every frame is drawn on the CPU, so it is short (≤ 10 s), at most 30 fps and at most 720p — less when
 * the chat's video limits or the picture itself are smaller.
 */

export const DEFAULT_ANIMATE_SECONDS = 5;
export const MAX_ANIMATE_SECONDS = 10;
export const DEFAULT_ANIMATE_FPS = 24;
export const MAX_ANIMATE_FPS = 30;
/** 720p, landscape-normalised: the long side ≤ 1280, the short side ≤ 720. */
const LONG_SIDE = 1280;
const SHORT_SIDE = 720;
/** The working picture keeps this many pixels per frame pixel at most, enough for the closest zoom. */
export const WORKING_OVERSAMPLE = 1.3;

export interface ClipTiming {
  seconds: number;
  fps: number;
  frames: number;
  /** The asked-for length was longer than a camera move goes. */
  capped: boolean;
  /** The asked-for frame rate was higher than a camera move draws. */
  fpsCapped: boolean;
}

export function clipTiming(seconds: number | undefined, fps: number | undefined, limits: Pick<MediaLimits, 'maxVideoSeconds' | 'maxVideoFrames'>): ClipTiming {
  const rate = Math.min(MAX_ANIMATE_FPS, Math.max(1, Math.round(fps ?? DEFAULT_ANIMATE_FPS)));
  const longest = Math.min(MAX_ANIMATE_SECONDS, limits.maxVideoSeconds, limits.maxVideoFrames / rate);
  const asked = seconds ?? DEFAULT_ANIMATE_SECONDS;
  const frames = Math.max(2, Math.round(Math.min(asked, longest) * rate));
  return { seconds: frames / rate, fps: rate, frames, capped: asked > longest, fpsCapped: fps !== undefined && Math.round(fps) > MAX_ANIMATE_FPS };
}

const even = (v: number): number => Math.max(2, Math.floor(v / 2) * 2);

/** The frame size: the picture's shape, no larger than it, 720p or the chat's video limit, even sides. */
export function animateSize(width: number, height: number, limits: Pick<MediaLimits, 'maxVideoWidth' | 'maxVideoHeight'>): { width: number; height: number } {
  const landscape = width >= height;
  const [long, short] = landscape ? [width, height] : [height, width];
  const maxLong = Math.min(LONG_SIDE, Math.max(limits.maxVideoWidth, limits.maxVideoHeight));
  const maxShort = Math.min(SHORT_SIDE, Math.min(limits.maxVideoWidth, limits.maxVideoHeight));
  const scale = Math.min(1, maxLong / long, maxShort / short);
  const w = even(width * scale);
  const h = even(height * scale);
  return { width: w, height: h };
}
