import { describe, expect, it } from 'vitest';
import { framesFor, VIDEO_MAX_FRAMES, videoModelShape, videoSizeFor } from '../../src/vision/tasks/video/video-engine.ts';

/** What Wan 2.2 TI2V 5B takes: frames as 4k + 1 (its VAE packs 4 frames after the first), sides in multiples of 32. */
describe('clip shapes for the video model', () => {
  it('asks for 4k + 1 frames, at least 5 and at most 121', () => {
    expect(framesFor(3)).toBe(73);
    expect(framesFor(0.1)).toBe(5);
    expect(framesFor(60)).toBe(VIDEO_MAX_FRAMES);
    for (const seconds of [0.5, 1, 2.3, 4.9]) expect((framesFor(seconds) - 1) % 4).toBe(0);
  });

  it('sizes a picture’s shape with a 1280 long side in multiples of 32', () => {
    expect(videoSizeFor(300, 200)).toEqual({ width: 1280, height: 864 });
    expect(videoSizeFor(1080, 1920)).toEqual({ width: 736, height: 1280 });
  });

  it('shapes an uploaded clip near its own size: sides rounded to 32, frames padded up to 4k + 1, long clips cut at 121', () => {
    expect(videoModelShape(160, 120, 10)).toEqual({ width: 160, height: 128, frames: 13 });
    expect(videoModelShape(160, 120, 13)).toEqual({ width: 160, height: 128, frames: 13 });
    expect(videoModelShape(1920, 1080, 240)).toEqual({ width: 1280, height: 736, frames: VIDEO_MAX_FRAMES });
    expect(videoModelShape(100, 100, 1)).toEqual({ width: 96, height: 96, frames: 5 });
  });
});
