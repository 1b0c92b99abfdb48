import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import type { Detection } from '../../src/vision/ops/detection.ts';
import { parseReferring } from '../../src/core/referring.ts';
import { mapVideoWithTracking, TrackSelection } from '../../src/vision/find/tracked-frames.ts';
import { makeSpecialistContext, videoMedia } from '../helpers/specialist-context.ts';
import type { TestContext } from '../helpers/specialist-context.ts';
import { movingDiscAt, movingDiscClip } from './fixtures.ts';

describe('mapVideoWithTracking', () => {
  let context: TestContext;
  beforeAll(async () => {
    context = await makeSpecialistContext();
  });
  afterAll(async () => {
    await context.models.dispose();
    await context.cleanup();
  });

  it('gives the op one tracked box per frame, bridging a frame the detector misses and skipping detector frames', async () => {
    const W = 192;
    const H = 128;
    const clip = await videoMedia(context, await movingDiscClip(context.tmpDir, 6, W, H));
    const detectorFrames: number[] = [];
    const seen: { index: number; tracks: readonly Detection[] }[] = [];
    const out = await mapVideoWithTracking(
      clip,
      async (_frame, index) => {
        detectorFrames.push(index);
        if (index === 2) return [];
        const d = movingDiscAt(index, W, H);
        return [{ x1: d.cx - d.r, y1: d.cy - d.r, x2: d.cx + d.r, y2: d.cy + d.r, label: 'disc', score: 1 }];
      },
      async (frame, tracks, index) => {
        seen.push({ index, tracks });
        return frame;
      },
      context,
      'tracking',
    );
    expect(out.frames).toBe(6);
    expect(out.trackCount).toBe(1);
    expect(detectorFrames).toEqual([0, 1, 2, 3, 4, 5]);
    expect(seen.map((s) => s.tracks.map((t) => t.trackId))).toEqual([[1], [1], [1], [1], [1], [1]]);

    detectorFrames.length = 0;
    const sparse = await mapVideoWithTracking(
      clip,
      async (_f, index) => {
        detectorFrames.push(index);
        return [];
      },
      async (f) => f,
      context,
      'tracking',
      { detectEvery: 3 },
    );
    expect(detectorFrames).toEqual([0, 3]);
    expect(sparse.trackCount).toBe(0);
    await expect(
      mapVideoWithTracking(
        clip,
        async () => [],
        async (f) => f,
        context,
        'tracking',
        { detectEvery: 0 },
      ),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('TrackSelection', () => {
  const face = (trackId: number, x: number, size = 20): Detection => ({ x1: x, y1: 10, x2: x + size, y2: 10 + size, label: 'face', score: 0.9, trackId });
  const ids = (tracks: readonly Detection[]) => tracks.map((t) => t.trackId);

  it('chooses "the face on the left" once and keeps following it after it moves right of the other', () => {
    const selection = new TrackSelection(parseReferring('the face on the left').selector);
    expect(ids(selection.pick([face(1, 0), face(2, 100)]))).toEqual([1]);
    expect(ids(selection.pick([face(1, 90), face(2, 100)]))).toEqual([1]);
    expect(ids(selection.pick([face(1, 200), face(2, 100)]))).toEqual([1]);
    expect([...selection.followed]).toEqual([1]);
  });

  it('waits for the frame where "the second face" exists, and chooses again only when its track has ended', () => {
    const selection = new TrackSelection(parseReferring('the second face').selector);
    expect(selection.pick([])).toEqual([]);
    expect(selection.pick([face(1, 0)])).toEqual([]);
    expect(ids(selection.pick([face(1, 0), face(3, 100)]))).toEqual([3]);
    expect(ids(selection.pick([face(1, 0), face(3, 100), face(4, 50)]))).toEqual([3]);
    expect(ids(selection.pick([face(1, 0), face(4, 50)]))).toEqual([4]);
    expect([...selection.followed]).toEqual([3, 4]);
  });

  it('takes every track for "the faces" and for a plain "the face"', () => {
    for (const phrase of ['the faces', 'the face']) {
      const selection = new TrackSelection(parseReferring(phrase).selector);
      expect(selection.picksOne).toBe(false);
      expect(ids(selection.pick([face(1, 0), face(2, 100)]))).toEqual([1, 2]);
    }
  });
});
