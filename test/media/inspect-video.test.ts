import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptMediaError, MediaLimitError } from '../../src/errors.ts';
import { inspectMedia } from '../../src/media/inspect.ts';
import type { InspectDeps } from '../../src/media/inspect.ts';
import type { MediaLimits } from '../../src/media/limits.ts';
import { SYSTEM_FFMPEG, animatedImage, damagedCopy, makeClip, makeTempDir, truncatedCopy } from '../helpers/media-fixtures.ts';

const LIMITS: MediaLimits = {
  maxBytes: 50 * 1024 * 1024,
  maxImagePixels: 40_000_000,
  maxVideoSeconds: 120,
  maxVideoWidth: 3840,
  maxVideoHeight: 2160,
  maxVideoFrames: 7200,
};

describe('inspectMedia on videos', () => {
  let dir: string;
  let deps: InspectDeps;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir());
    deps = { limits: LIMITS, ffmpeg: SYSTEM_FFMPEG, tmpDir: dir };
  });
  afterEach(() => cleanup());

  const read = (file: string): Promise<Buffer> => fs.readFile(file);

  it('describes a normal clip and leaves no temp file behind', async () => {
    const bytes = await read(await makeClip(dir, 'normal', { width: 160, height: 120, fps: 10, seconds: 2 }));
    await fs.mkdir(path.join(dir, 'scratch'));
    const info = await inspectMedia(bytes, { ...deps, tmpDir: path.join(dir, 'scratch') });
    expect(info).toEqual({
      kind: 'video',
      mime: 'video/mp4',
      bytes: bytes.length,
      width: 160,
      height: 120,
      durationSec: 2,
      frameCount: 20,
      fps: 10,
      hasAudio: false,
    });
    expect(await fs.readdir(path.join(dir, 'scratch'))).toEqual([]);
  });

  it('notices audio', async () => {
    const info = await inspectMedia(await read(await makeClip(dir, 'sound', { audio: true })), deps);
    expect(info.hasAudio).toBe(true);
  });

  it('describes a WebM clip', async () => {
    const info = await inspectMedia(await read(await makeClip(dir, 'web', { ext: 'webm', seconds: 1 })), deps);
    expect(info).toMatchObject({ kind: 'video', mime: 'video/webm', width: 160, height: 120, frameCount: 10 });
  });

  it('measures a WebM whose header has no duration (as browsers record them) by decoding it', async () => {
    const bytes = await read(await makeClip(dir, 'recorded', { ext: 'webm', seconds: 3, streamed: true }));
    expect(await inspectMedia(bytes, deps)).toMatchObject({ kind: 'video', durationSec: 3, frameCount: 30 });
    const error = await inspectMedia(bytes, { ...deps, limits: { ...LIMITS, maxVideoSeconds: 2 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaLimitError);
    expect((error as Error).message).toBe('The video length is over the limit: more than 2 s, the limit is 2 s.');
  });

  it('treats an animated GIF as a short video', async () => {
    const info = await inspectMedia(await animatedImage('gif'), deps);
    expect(info).toMatchObject({ kind: 'video', mime: 'image/gif', width: 48, height: 32, frameCount: 3 });
  });

  it('refuses a clip over the duration limit, in minutes and seconds', async () => {
    const bytes = await read(await makeClip(dir, 'long', { seconds: 3 }));
    const error = await inspectMedia(bytes, { ...deps, limits: { ...LIMITS, maxVideoSeconds: 2 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaLimitError);
    expect((error as Error).message).toBe('The video length is over the limit: 3 s, the limit is 2 s.');
  });

  it('refuses a clip over the resolution limit, naming both sizes', async () => {
    const bytes = await read(await makeClip(dir, 'big', { width: 320, height: 240, seconds: 0.5 }));
    const error = await inspectMedia(bytes, { ...deps, limits: { ...LIMITS, maxVideoWidth: 256, maxVideoHeight: 144 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaLimitError);
    expect((error as Error).message).toBe('The video resolution is over the limit: 320 × 240 pixels, the limit is 256 × 144 pixels.');
  });

  it('accepts a portrait clip within the landscape limit turned on its side', async () => {
    const bytes = await read(await makeClip(dir, 'portrait', { width: 120, height: 160, seconds: 0.5 }));
    const info = await inspectMedia(bytes, { ...deps, limits: { ...LIMITS, maxVideoWidth: 160, maxVideoHeight: 120 } });
    expect(info).toMatchObject({ width: 120, height: 160 });
  });

  it('refuses a clip over the frame limit', async () => {
    const bytes = await read(await makeClip(dir, 'frames', { fps: 25, seconds: 1 }));
    const error = await inspectMedia(bytes, { ...deps, limits: { ...LIMITS, maxVideoFrames: 20 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaLimitError);
    expect((error as Error).message).toBe('The number of video frames is over the limit: 25, the limit is 20.');
  });

  it('refuses an MP4 cut short whose index is at the end (the header is gone)', async () => {
    const clip = await makeClip(dir, 'whole', { seconds: 2, audio: true, faststart: false });
    const bytes = await read(await truncatedCopy(clip, path.join(dir, 'cut.mp4')));
    const error = await inspectMedia(bytes, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptMediaError);
    expect((error as Error).message).toMatch(/could not be read/);
  });

  it('refuses an MP4 cut short whose index is at the front (the header is fine, the frames are not)', async () => {
    const clip = await makeClip(dir, 'whole', { seconds: 2, faststart: true });
    const bytes = await read(await truncatedCopy(clip, path.join(dir, 'cut.mp4')));
    const error = await inspectMedia(bytes, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptMediaError);
    expect((error as Error).message).not.toMatch(/file:|inspect-/);
  });

  it('refuses an MP4 with garbage in the middle', async () => {
    const clip = await makeClip(dir, 'whole', { seconds: 2, audio: true });
    const bytes = await read(await damagedCopy(clip, path.join(dir, 'damaged.mp4')));
    const error = await inspectMedia(bytes, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptMediaError);
    expect((error as Error).message).toMatch(/damaged/);
  });
});
