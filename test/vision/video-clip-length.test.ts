import { describe, expect, it } from 'vitest';
import { actionsFor } from '../../src/app/views.ts';
import type { GenerationFacts, Invocation } from '../../src/core/types.ts';
import { limitsFromSettings } from '../../src/media/limits.ts';
import { loadSettings } from '../../src/config/settings.ts';
import type { StoredMedia } from '../../src/store/types.ts';
import { longerClipSeconds, longestClipSeconds } from '../../src/vision/tasks/video/clip-length.ts';

/** The Longer button's bound: what made the clip (a camera move ≤ 10 s, the video model ≤ 121 frames at 24 fps) and the chat's limits. */

const limits = limitsFromSettings(loadSettings({ DATA_DIR: '/tmp/unused', PGLITE_DIR: 'memory://' }));
const engine: GenerationFacts = { prompt: 'fireworks', seed: 7, width: 1280, height: 704, engine: 'comfyui', model: 'text_to_video.json' };

function clip(
  task: Invocation['task'],
  durationSec: number,
  extra: { generation?: GenerationFacts; args?: Record<string, unknown>; mime?: string } = {},
): StoredMedia {
  return {
    id: 'm1',
    sha256: 'x'.repeat(64),
    kind: 'video',
    mime: extra.mime ?? 'video/mp4',
    width: 320,
    height: 240,
    bytes: 1000,
    durationSec,
    conversationId: 'c1',
    turnId: 't1',
    role: 'result',
    label: null,
    parentId: 'p1',
    jobId: 'j1',
    invocation: { task, targets: ['current'], args: extra.args ?? {} },
    ordinal: 1,
    createdAt: new Date(0),
    ...(extra.generation ? { generation: extra.generation } : {}),
  } as StoredMedia;
}

describe('Longer', () => {
  it('doubles a camera move up to 10 s, and offers nothing for a 10 s one', () => {
    expect(longerClipSeconds(clip('animate', 3), limits)).toBe(6);
    expect(longerClipSeconds(clip('animate', 6), limits)).toBe(10);
    expect(longerClipSeconds(clip('animate', 10), limits)).toBeUndefined();
    expect(actionsFor([clip('animate', 3)], false, limits)).toEqual(['undo', 'download', 'use', 'retry', 'longer']);
    expect(actionsFor([clip('animate', 10)], false, limits)).toEqual(['undo', 'download', 'use', 'retry']);
  });

  it("stops an engine clip at the video model's 121 frames at 24 fps", () => {
    expect(longestClipSeconds(clip('generate_video', 3, { generation: engine }), limits)).toBeCloseTo(121 / 24, 5);
    expect(longerClipSeconds(clip('generate_video', 3.04, { generation: engine }), limits)).toBe(5);
    expect(longerClipSeconds(clip('generate_video', 121 / 24, { generation: engine }), limits)).toBeUndefined();
  });

  it("is bounded by the chat's video limits (MAX_VIDEO_SECONDS)", () => {
    const tight = { ...limits, maxVideoSeconds: 4 };
    expect(longerClipSeconds(clip('animate', 3), tight)).toBe(4);
    // Less than half a second more is not worth a button.
    expect(longerClipSeconds(clip('animate', 3.6), tight)).toBeUndefined();
  });

  it('is not offered for a clip not made to a length: a GIF of a clip, a trimmed video', () => {
    expect(longerClipSeconds(clip('to_gif', 2, { mime: 'image/gif' }), limits)).toBeUndefined();
    expect(longerClipSeconds(clip('trim', 2), limits)).toBeUndefined();
    expect(actionsFor([clip('to_gif', 2, { mime: 'image/gif' })], false, limits)).toEqual(['undo', 'download', 'use', 'retry']);
  });
});
