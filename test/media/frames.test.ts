import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, JobCancelledError } from '../../src/errors.ts';
import { probe, readFrames, writeVideo } from '../../src/media/ffmpeg.ts';
import { SYSTEM_FFMPEG, frameDifference, makeClip, makeTempDir } from '../helpers/media-fixtures.ts';

async function collect(frames: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const frame of frames) out.push(frame);
  return out;
}

/** A frame of one colour, with a bright square whose position encodes the frame index. */
function syntheticFrame(width: number, height: number, index: number): Buffer {
  const frame = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i += 1) frame.set([20, 40, 80, 255], i * 4);
  const x0 = (index * 8) % (width - 16);
  for (let y = 8; y < 24; y += 1) for (let x = x0; x < x0 + 16; x += 1) frame.set([250, 250, 250, 255], (y * width + x) * 4);
  return frame;
}

describe('raw frames through pipes', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await makeTempDir()));
  afterEach(() => cleanup());

  it('reads every frame as exactly width × height × 4 bytes, across pipe chunk boundaries', async () => {
    // 157 × 93 × 4 = 58,404 bytes: never a divisor of ffmpeg's 64 KiB pipe chunks.
    const clip = await makeClip(dir, 'clip', { width: 160, height: 120, fps: 10, seconds: 2 });
    const frames = await collect(readFrames(SYSTEM_FFMPEG, clip, { width: 157, height: 93 }));
    expect(frames).toHaveLength(20);
    for (const frame of frames) expect(frame.length).toBe(157 * 93 * 4);
    expect(frameDifference(frames[0]!, frames[19]!)).toBeGreaterThan(1);
  });

  it('resamples to a requested frame rate', async () => {
    const clip = await makeClip(dir, 'clip', { fps: 10, seconds: 2 });
    expect(await collect(readFrames(SYSTEM_FFMPEG, clip, { width: 32, height: 24, fps: 5 }))).toHaveLength(10);
  });

  it('stops ffmpeg when the consumer stops early', async () => {
    const clip = await makeClip(dir, 'clip', { fps: 10, seconds: 2 });
    let seen = 0;
    for await (const frame of readFrames(SYSTEM_FFMPEG, clip, { width: 160, height: 120 })) {
      expect(frame.length).toBe(160 * 120 * 4);
      seen += 1;
      if (seen === 2) break;
    }
    expect(seen).toBe(2);
  });

  it('rejects with JobCancelledError when the signal aborts mid-stream, yielding nothing after the abort', async () => {
    const controller = new AbortController();
    const clip = await makeClip(dir, 'clip', { fps: 10, seconds: 2 });
    let seen = 0;
    const consume = async (): Promise<void> => {
      // Small frames: several arrive in one pipe chunk, so the check must sit before every yield.
      for await (const _frame of readFrames(SYSTEM_FFMPEG, clip, { width: 16, height: 12, signal: controller.signal })) {
        seen += 1;
        if (seen === 3) controller.abort();
      }
    };
    await expect(consume()).rejects.toBeInstanceOf(JobCancelledError);
    expect(seen).toBe(3);
  });

  it('fails with the reason when the input cannot be opened', async () => {
    const read = collect(readFrames(SYSTEM_FFMPEG, path.join(dir, 'missing.mp4'), { width: 8, height: 8 }));
    await expect(read).rejects.toThrow(/No such file or directory/);
  });

  it('round-trips frames into an MP4 with the right size, rate and frame count', async () => {
    const [width, height, count] = [96, 64, 15];
    const frames = Array.from({ length: count }, (_, i) => syntheticFrame(width, height, i));
    const mp4 = await writeVideo(SYSTEM_FFMPEG, frames, { width, height, fps: 15, tmpDir: dir });
    const file = path.join(dir, 'out.mp4');
    await fs.writeFile(file, mp4);
    expect(await probe(SYSTEM_FFMPEG, file)).toMatchObject({ width, height, fps: 15, frameCount: count, codec: 'h264', hasAudio: false });
    const back = await collect(readFrames(SYSTEM_FFMPEG, file, { width, height }));
    expect(back).toHaveLength(count);
    // Lossy, but each frame must still look like the one that went in and not like its neighbours.
    expect(frameDifference(back[7]!, frames[7]!)).toBeLessThan(4);
    expect(frameDifference(back[7]!, frames[3]!)).toBeGreaterThan(frameDifference(back[7]!, frames[7]!));
    expect(await fs.readdir(dir)).toEqual(['out.mp4']);
  });

  it('lets a producer draw every frame into the same buffer: each frame is in the pipe before the next is asked for', async () => {
    // 640 × 360 RGBA is 900 KiB, far more than a pipe holds: a write that returned before the pipe took the
    // whole frame would send pixels of the next one.
    const [width, height, count] = [640, 360, 12];
    const frames = Array.from({ length: count }, (_, i) => syntheticFrame(width, height, i * 9));
    const shared = Buffer.alloc(width * height * 4);
    async function* reused(): AsyncGenerator<Buffer> {
      for (const frame of frames) {
        frame.copy(shared);
        yield shared;
        // Scribbled over as soon as the encoder asks for the next frame.
        shared.fill(0);
      }
    }
    const mp4 = await writeVideo(SYSTEM_FFMPEG, reused(), { width, height, fps: 12, tmpDir: dir });
    const file = path.join(dir, 'reused.mp4');
    await fs.writeFile(file, mp4);
    const back = await collect(readFrames(SYSTEM_FFMPEG, file, { width, height }));
    expect(back).toHaveLength(count);
    for (const [i, frame] of back.entries()) {
      expect(frameDifference(frame, frames[i]!), `frame ${i}`).toBeLessThan(4);
      if (i > 0) expect(frameDifference(frame, frames[i - 1]!)).toBeGreaterThan(frameDifference(frame, frames[i]!));
    }
  });

  it('encodes yuv420p frames as given (planes of 1.5 bytes a pixel) and refuses one of the RGBA size', async () => {
    const [width, height, count] = [64, 48, 6];
    const frameBytes = width * height * 1.5;
    // Mid-grey luma rising frame by frame, neutral chroma.
    const frames = Array.from({ length: count }, (_, i) => {
      const frame = Buffer.alloc(frameBytes, 128);
      frame.fill(60 + i * 20, 0, width * height);
      return frame;
    });
    const mp4 = await writeVideo(SYSTEM_FFMPEG, frames, { width, height, fps: 6, pixelFormat: 'yuv420p', tmpDir: dir });
    const file = path.join(dir, 'yuv.mp4');
    await fs.writeFile(file, mp4);
    const back = await collect(readFrames(SYSTEM_FFMPEG, file, { width, height }));
    expect(back).toHaveLength(count);
    // Limited-range luma 60 + 20i decodes to grey (Y − 16) · 255/219 in RGB.
    for (const [i, frame] of back.entries()) expect(frame[0]!).toBeCloseTo(((60 + i * 20 - 16) * 255) / 219, -1);
    await expect(writeVideo(SYSTEM_FFMPEG, [Buffer.alloc(width * height * 4)], { width, height, fps: 6, pixelFormat: 'yuv420p', tmpDir: dir })).rejects.toThrow(
      /a 64 × 48 yuv420p frame has 4608/,
    );
  });

  it('keeps the audio of the source when asked to', async () => {
    const source = await makeClip(dir, 'source', { width: 64, height: 48, fps: 10, seconds: 2, audio: true });
    const mp4 = await writeVideo(SYSTEM_FFMPEG, readFrames(SYSTEM_FFMPEG, source, { width: 64, height: 48 }), {
      width: 64,
      height: 48,
      fps: 10,
      audioFrom: source,
      tmpDir: dir,
    });
    const file = path.join(dir, 'out.mp4');
    await fs.writeFile(file, mp4);
    const info = await probe(SYSTEM_FFMPEG, file);
    expect(info).toMatchObject({ width: 64, height: 48, frameCount: 20, hasAudio: true, audioCodec: 'aac' });
    expect(info.durationSec).toBeCloseTo(2, 0);
  });

  it('makes odd sizes even, as H.264 in yuv420p requires', async () => {
    const mp4 = await writeVideo(SYSTEM_FFMPEG, [syntheticFrame(33, 31, 0), syntheticFrame(33, 31, 1)], { width: 33, height: 31, fps: 2, tmpDir: dir });
    const file = path.join(dir, 'odd.mp4');
    await fs.writeFile(file, mp4);
    expect(await probe(SYSTEM_FFMPEG, file)).toMatchObject({ width: 32, height: 30, frameCount: 2 });
  });

  it('refuses a frame of the wrong size', async () => {
    await expect(writeVideo(SYSTEM_FFMPEG, [Buffer.alloc(10)], { width: 8, height: 8, fps: 1, tmpDir: dir })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('kills the encoder and rejects with JobCancelledError when the signal aborts', async () => {
    const controller = new AbortController();
    async function* endless(): AsyncGenerator<Buffer> {
      for (let i = 0; ; i += 1) {
        if (i === 5) controller.abort();
        yield syntheticFrame(64, 48, i);
      }
    }
    await expect(writeVideo(SYSTEM_FFMPEG, endless(), { width: 64, height: 48, fps: 10, tmpDir: dir, signal: controller.signal })).rejects.toBeInstanceOf(
      JobCancelledError,
    );
    expect(await fs.readdir(dir)).toEqual([]);
  });
});
