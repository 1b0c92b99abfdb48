import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, JobCancelledError, UnsupportedMediaForTaskError } from '../../src/errors.ts';
import { probe } from '../../src/media/ffmpeg.ts';
import { adjustSpecialist } from '../../src/vision/tasks/edit/adjust.ts';
import { transformSpecialist } from '../../src/vision/tasks/edit/transform.ts';
import type { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { cutoutSpecialist } from '../../src/vision/tasks/segment/cutout.ts';
import type { LoadedMedia, SpecialistResult } from '../../src/vision/specialist.ts';
import { extractFrameSpecialist, reverseSpecialist, speedSpecialist, toGifSpecialist, trimSpecialist } from '../../src/vision/tasks/video/operations.ts';
import { frameDifference, makeClip } from '../helpers/media-fixtures.ts';
import { imageMedia, invocation, makeSpecialistContext, testRegistry, videoMedia } from '../helpers/specialist-context.ts';
import type { TestContext } from '../helpers/specialist-context.ts';
import { decodeFrames, insideDisc, iou, movingDiscAt, movingDiscClip } from './fixtures.ts';

describe('video specialists', () => {
  let models: ModelRegistry;
  let context: TestContext;
  let clip: LoadedMedia;

  beforeAll(async () => {
    models = testRegistry().models;
    context = await makeSpecialistContext({ models });
    // 2 s, 10 fps, 160 × 120, with a 440 Hz tone.
    clip = await videoMedia(context, await makeClip(context.tmpDir, 'testsrc', { seconds: 2, fps: 10, audio: true }));
  });
  afterAll(async () => {
    await models.dispose();
    await context.cleanup();
  });

  async function probeResult(result: SpecialistResult, ext = 'mp4') {
    const item = result.media.find((m) => m.role === 'result')!;
    const file = path.join(context.tmpDir, `out-${Math.random().toString(36).slice(2)}.${ext}`);
    await fs.writeFile(file, item.bytes);
    return { item, file, facts: await probe(context.ffmpeg, file) };
  }

  it('trims to a time range, keeping the sound', async () => {
    const { facts, item } = await probeResult(await trimSpecialist.run(invocation('trim', clip, { start: 0.5, end: '0:01.5' }), context));
    expect(item.mime).toBe('video/mp4');
    expect(facts.durationSec).toBeCloseTo(1, 0);
    expect(facts.hasAudio).toBe(true);
    await expect(trimSpecialist.run(invocation('trim', clip, {}), context)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('counts negative times back from the end, as the planner writes "cut the last 0.5 seconds" and "last 0.5 seconds only"', async () => {
    const cutLast = await probeResult(await trimSpecialist.run(invocation('trim', clip, { start: 0, end: -0.5 }), context));
    expect(cutLast.facts.durationSec).toBeCloseTo(1.5, 1);
    expect(cutLast.item.label).toBe('trimmed');
    const lastOnly = await trimSpecialist.run(invocation('trim', clip, { start: -0.5 }), context);
    expect(lastOnly.text).toBe('Trimmed to 1.5 s – 2 s.');
    expect((await probeResult(lastOnly)).facts.durationSec).toBeCloseTo(0.5, 1);
  });

  it('changes speed', async () => {
    const { facts } = await probeResult(await speedSpecialist.run(invocation('speed', clip, { factor: 2 }), context));
    expect(facts.durationSec).toBeCloseTo(1, 0);
    await expect(speedSpecialist.run(invocation('speed', clip, { factor: 50 }), context)).rejects.toThrow(/factor/);
  });

  it('reverses: the last frame comes first', async () => {
    const { file, facts } = await probeResult(await reverseSpecialist.run(invocation('reverse', clip), context));
    expect(facts.durationSec).toBeCloseTo(2, 0);
    const [reversedFirst] = await decodeFrames(file, 160, 120);
    const original = await decodeFrames(clip.path, 160, 120);
    const diff = (a: Buffer, b: Buffer) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;
    expect(diff(reversedFirst!, original.at(-1)!)).toBeLessThan(diff(reversedFirst!, original[0]!));
  });

  it('makes a GIF and extracts frames', async () => {
    const gif = await toGifSpecialist.run(invocation('to_gif', clip), context);
    const { facts } = await probeResult(gif, 'gif');
    expect(gif.media[0]!.mime).toBe('image/gif');
    expect(facts.container).toBe('gif');
    const frame = await extractFrameSpecialist.run(invocation('extract_frame', clip, { which: 'last' }), context);
    const meta = await sharp(frame.media[0]!.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 160, 120]);
    await expect(extractFrameSpecialist.run(invocation('extract_frame', clip, { at: 60 }), context)).rejects.toThrow(/long/);
  });

  it('refuses images for video-only tasks', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    await expect(reverseSpecialist.run(invocation('reverse', await imageMedia(context, png)), context)).rejects.toBeInstanceOf(UnsupportedMediaForTaskError);
  });

  it('adjusts every frame (grayscale), keeping frame count and audio, reporting progress per frame', async () => {
    context.reports.length = 0;
    const result = await adjustSpecialist.run(invocation('adjust', clip, { grayscale: true }), context);
    const { file, facts } = await probeResult(result);
    expect(facts.hasAudio).toBe(true);
    expect(facts.frameCount).toBe(clip.info.frameCount);
    const frames = await decodeFrames(file, 160, 120);
    expect(frames).toHaveLength(clip.info.frameCount!);
    for (const [index, frame] of frames.entries()) {
      let worst = 0;
      for (let i = 0; i < frame.length; i += 4) worst = Math.max(worst, Math.abs(frame[i]! - frame[i + 1]!), Math.abs(frame[i + 1]! - frame[i + 2]!));
      // H.264 4:2:0 leaves a little chroma noise around edges; a colour frame differs by ~200.
      expect(worst, `frame ${index}`).toBeLessThan(12);
    }
    expect(context.reports.filter((r) => r.note.startsWith('adjusting'))).toHaveLength(clip.info.frameCount!);
    expect(context.reports.at(-1)!.fraction).toBe(1);
  });

  it('rotates every frame 90° clockwise: the frame size swaps and each frame is its input frame turned', async () => {
    const { file, facts } = await probeResult(await transformSpecialist.run(invocation('transform', clip, { rotate: 90 }), context));
    expect([facts.width, facts.height]).toEqual([120, 160]);
    const inputs = await decodeFrames(clip.path, 160, 120);
    const outputs = await decodeFrames(file, 120, 160);
    expect(outputs).toHaveLength(inputs.length);
    const turned = (frame: Buffer, angle: number) =>
      sharp(frame, { raw: { width: 160, height: 120, channels: 4 } })
        .rotate(angle)
        .raw()
        .toBuffer();
    for (const [i, output] of outputs.entries()) {
      const right = frameDifference(output, await turned(inputs[i]!, 90));
      // Up to a second H.264 pass; turned the other way the moving pattern lands elsewhere.
      expect(right, `frame ${i} against its input turned clockwise`).toBeLessThan(6);
      expect(frameDifference(output, await turned(inputs[i]!, 270)), `frame ${i} against its input turned anticlockwise`).toBeGreaterThan(right + 10);
    }
  });

  it('stops between frames when cancelled', async () => {
    const cancelled = await makeSpecialistContext({ models });
    try {
      cancelled.abort();
      await expect(adjustSpecialist.run(invocation('adjust', clip, { invert: true }), cancelled)).rejects.toBeInstanceOf(JobCancelledError);
    } finally {
      await cancelled.cleanup();
    }
  });

  it('cuts out a moving disc frame by frame onto a green screen: the mask follows it (real ISNet)', { timeout: 180_000 }, async () => {
    const W = 192;
    const H = 128;
    const file = await movingDiscClip(context.tmpDir, 3, W, H);
    const disc = await videoMedia(context, file);
    const result = await cutoutSpecialist.run(invocation('cutout', disc), context);
    expect(result.text).toMatch(/green screen.*no transparency/);
    const { file: out, facts } = await probeResult(result);
    expect(facts.frameCount).toBe(3);
    const frames = await decodeFrames(out, W, H);
    frames.forEach((frame, i) => {
      // Subject = pixels far from the chroma green (#00b140).
      const mask = new Uint8Array(W * H);
      for (let p = 0; p < W * H; p++) {
        const d = Math.abs(frame[p * 4]! - 0x00) + Math.abs(frame[p * 4 + 1]! - 0xb1) + Math.abs(frame[p * 4 + 2]! - 0x40);
        mask[p] = d > 90 ? 255 : 0;
      }
      const truth = movingDiscAt(i, W, H);
      expect(iou(mask, W, H, (x, y) => insideDisc(x, y, truth))).toBeGreaterThan(0.8);
    });
  });
});
