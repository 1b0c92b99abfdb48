import { describe, expect, it } from 'vitest';
import { argSpec } from '../../src/core/tasks.ts';
import { animateSize, clipTiming } from '../../src/vision/tasks/video/animate-limits.ts';

/** README's animate row: a camera move is "≤ 10 s, ≤ 30 fps, ≤ 720p". */
const roomy = { maxVideoSeconds: 3600, maxVideoFrames: 1_000_000, maxVideoWidth: 3840, maxVideoHeight: 2160 };

describe("README's animate limits (≤ 10 s, ≤ 30 fps, ≤ 720p)", () => {
  it('60 fps gives 30 fps, marked capped (the schema takes up to 60 so the words are answered, not refused); 24 fps is kept', () => {
    expect(clipTiming(2, 60, roomy)).toMatchObject({ fps: 30, frames: 60, fpsCapped: true });
    expect(clipTiming(2, 24, roomy)).toMatchObject({ fps: 24, fpsCapped: false });
    expect(argSpec('animate', 'fps')).toMatchObject({ max: 60 });
  });

  it('a 60 s request becomes 10 s and is marked capped; a 4 s one is kept', () => {
    expect(clipTiming(60, 24, roomy)).toEqual({ seconds: 10, fps: 24, frames: 240, capped: true, fpsCapped: false });
    expect(clipTiming(4, 24, roomy)).toEqual({ seconds: 4, fps: 24, frames: 96, capped: false, fpsCapped: false });
  });

  it('a 4000×3000 landscape and a 3000×4000 portrait photo fit inside 1280×720 (long × short side), shape kept', () => {
    const landscape = animateSize(4000, 3000, roomy);
    expect(landscape.width).toBeLessThanOrEqual(1280);
    expect(landscape.height).toBeLessThanOrEqual(720);
    expect(landscape.width / landscape.height).toBeCloseTo(4 / 3, 1);
    const portrait = animateSize(3000, 4000, roomy);
    expect(portrait.height).toBeLessThanOrEqual(1280);
    expect(portrait.width).toBeLessThanOrEqual(720);
    expect(portrait.height / portrait.width).toBeCloseTo(4 / 3, 1);
  });
});
