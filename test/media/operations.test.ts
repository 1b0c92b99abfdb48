import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, JobCancelledError } from '../../src/errors.ts';
import { atempoChain, changeSpeed, encodeMp4, extractFrame, probe, readFrames, reverse, toAnimated, trim } from '../../src/media/ffmpeg.ts';
import { SYSTEM_FFMPEG, animatedImage, frameDifference, makeClip, makeTempDir } from '../helpers/media-fixtures.ts';

const tools = SYSTEM_FFMPEG;

async function frames(file: string, width = 64, height = 48): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const frame of readFrames(tools, file, { width, height })) out.push(frame);
  return out;
}

describe('video operations', () => {
  // One read-only source clip for the file; every test writes into its own directory.
  let clip: string;
  let removeSource: () => Promise<void>;
  let dir: string;
  let cleanup: () => Promise<void>;
  const save = async (name: string, bytes: Buffer): Promise<string> => {
    const file = path.join(dir, name);
    await fs.writeFile(file, bytes);
    return file;
  };

  beforeAll(async () => {
    const source = await makeTempDir('vitron-media-source-');
    removeSource = source.cleanup;
    clip = await makeClip(source.dir, 'source', { width: 64, height: 48, fps: 10, seconds: 4, audio: true });
  });
  afterAll(() => removeSource());
  beforeEach(async () => ({ dir, cleanup } = await makeTempDir()));
  afterEach(() => cleanup());

  it('trims to the requested span, with audio', async () => {
    const out = await probe(tools, await save('trim.mp4', await trim(tools, clip, 1, 2.5, { tmpDir: dir })));
    expect(out).toMatchObject({ width: 64, height: 48, frameCount: 15, hasAudio: true });
    expect(out.durationSec).toBeCloseTo(1.5, 1);
  });

  it('starts a trim on the right frame', async () => {
    const trimmed = await frames(await save('trim.mp4', await trim(tools, clip, 2, 3, { tmpDir: dir })));
    const source = await frames(clip);
    expect(frameDifference(trimmed[0]!, source[20]!)).toBeLessThan(frameDifference(trimmed[0]!, source[19]!));
  });

  it('clamps a trim end past the end, and refuses a start past the end in plain words', async () => {
    const out = await probe(tools, await save('tail.mp4', await trim(tools, clip, 3, 99, { tmpDir: dir })));
    expect(out.frameCount).toBe(10);
    await expect(trim(tools, clip, 5, 6, { tmpDir: dir })).rejects.toThrow('The video is 4 s long, so it cannot be trimmed from 5 s.');
    await expect(trim(tools, clip, 2, 1, { tmpDir: dir })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('chains atempo for factors outside 0.5–2', () => {
    expect(atempoChain(1.5)).toEqual([1.5]);
    expect(atempoChain(4)).toEqual([2, 2]);
    expect(atempoChain(5)).toEqual([2, 2, 1.25]);
    expect(atempoChain(0.25)).toEqual([0.5, 0.5]);
    expect(atempoChain(0.2)).toEqual([0.5, 0.5, 0.8]);
  });

  it('speeds up 2× (half the length, same frame rate) and slows down 0.5× (twice the length)', async () => {
    const fast = await probe(tools, await save('fast.mp4', await changeSpeed(tools, clip, 2, { tmpDir: dir })));
    expect(fast).toMatchObject({ fps: 10, frameCount: 20, hasAudio: true });
    expect(fast.durationSec).toBeCloseTo(2, 0);
    const slow = await probe(tools, await save('slow.mp4', await changeSpeed(tools, clip, 0.5, { tmpDir: dir })));
    expect(slow).toMatchObject({ frameCount: 40, hasAudio: true });
    expect(slow.durationSec).toBeCloseTo(8, 0);
  });

  it('speeds up 4× with a chained audio filter', async () => {
    const out = await probe(tools, await save('x4.mp4', await changeSpeed(tools, clip, 4, { tmpDir: dir })));
    expect(out.durationSec).toBeCloseTo(1, 0);
    expect(out.hasAudio).toBe(true);
  });

  it('refuses an absurd speed factor', async () => {
    await expect(changeSpeed(tools, clip, 50, { tmpDir: dir })).rejects.toThrow('The speed factor must be between 0.1 and 10; received 50.');
  });

  it('reverses: the first frame of the result is the last frame of the source', async () => {
    const reversed = await save('rev.mp4', await reverse(tools, clip, { tmpDir: dir }));
    expect(await probe(tools, reversed)).toMatchObject({ frameCount: 40, hasAudio: true });
    const [source, backwards] = [await frames(clip), await frames(reversed)];
    expect(frameDifference(backwards[0]!, source[39]!)).toBeLessThan(3);
    expect(frameDifference(backwards[39]!, source[0]!)).toBeLessThan(3);
    expect(frameDifference(backwards[0]!, source[0]!)).toBeGreaterThan(frameDifference(backwards[0]!, source[39]!));
  });

  it('reverses a video too long for memory in segments, with the same frames in the same backward order', async () => {
    // A budget of 12 frames forces four segments (12 + 12 + 12 + 4).
    const reversed = await save('rev.mp4', await reverse(tools, clip, { tmpDir: dir, memoryBudgetBytes: 64 * 48 * 1.5 * 12 }));
    const [source, backwards] = [await frames(clip), await frames(reversed)];
    expect(backwards).toHaveLength(40);
    for (const i of [0, 11, 12, 27, 28, 39]) {
      const same = frameDifference(backwards[i]!, source[39 - i]!);
      expect(same, `frame ${i}`).toBeLessThan(3);
    }
    expect(await fs.readdir(dir)).toEqual(expect.not.arrayContaining([expect.stringMatching(/^reverse-/)]));
  });

  it('makes a looping GIF at the requested width and frame rate', async () => {
    const gif = await save('anim.gif', await toAnimated(tools, clip, 'gif', { tmpDir: dir, maxWidth: 32, fps: 5 }));
    expect(await probe(tools, gif)).toMatchObject({ codec: 'gif', width: 32, height: 24, frameCount: 20 });
  });

  it('makes an animated WebP', async () => {
    const webp = await toAnimated(tools, clip, 'webp', { tmpDir: dir, maxWidth: 480, fps: 5 });
    const meta = await sharp(webp).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 64, height: 48, pages: 20 });
  });

  it('extracts the frame at a time as PNG', async () => {
    const png = await extractFrame(tools, clip, 1.0, { tmpDir: dir });
    const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ width: 64, height: 48 });
    const source = await frames(clip);
    expect(frameDifference(data, source[10]!)).toBeLessThan(frameDifference(data, source[12]!));
    const last = await extractFrame(tools, clip, 4, { tmpDir: dir });
    expect((await sharp(last).metadata()).format).toBe('png');
    await expect(extractFrame(tools, clip, 5, { tmpDir: dir })).rejects.toThrow('The video is 4 s long; there is no frame at 5 s.');
  });

  it('re-encodes an animated GIF into a chat-friendly MP4, fitting a box', async () => {
    const gif = await save('in.gif', await animatedImage('gif'));
    const out = await probe(tools, await save('out.mp4', await encodeMp4(tools, gif, { tmpDir: dir })));
    expect(out).toMatchObject({ codec: 'h264', width: 48, height: 32, frameCount: 3, hasAudio: false });
    const boxed = await probe(tools, await save('boxed.mp4', await encodeMp4(tools, clip, { tmpDir: dir, maxWidth: 32, maxHeight: 32 })));
    expect(boxed).toMatchObject({ width: 32, height: 24, hasAudio: true });
  });

  it('reports progress up to 1', async () => {
    const seen: number[] = [];
    await encodeMp4(tools, clip, { tmpDir: dir, onProgress: (f) => seen.push(f) });
    expect(seen.at(-1)).toBe(1);
    expect(seen.every((f) => f >= 0 && f <= 1)).toBe(true);
  });

  it('cancels an operation through its signal', async () => {
    const controller = new AbortController();
    const run = encodeMp4(tools, clip, { tmpDir: dir, signal: controller.signal, onProgress: () => controller.abort() });
    controller.abort();
    await expect(run).rejects.toBeInstanceOf(JobCancelledError);
  });
});
