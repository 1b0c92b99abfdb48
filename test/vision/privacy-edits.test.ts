import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import { probe } from '../../src/media/ffmpeg.ts';
import type { Detection } from '../../src/vision/ops/detection.ts';
import { intersectionOverUnion } from '../../src/vision/ops/nms.ts';
import { adjustSpecialist } from '../../src/vision/tasks/edit/adjust.ts';
import { REGION_GROWTH, grownBox } from '../../src/vision/ops/region-effects.ts';
import { detectFaces } from '../../src/vision/models/blazeface.ts';
import type { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { decodeImage } from '../../src/vision/ops/raw-image.ts';
import type { RawImage } from '../../src/vision/ops/raw-image.ts';
import type { LoadedMedia } from '../../src/vision/specialist.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { imageMedia, invocation, makeSpecialistContext, testRegistry, videoMedia } from '../helpers/specialist-context.ts';
import type { TestContext } from '../helpers/specialist-context.ts';
import { decodeFrames } from './fixtures.ts';
import { exec, facesOver, LIMITS, resultOf } from './privacy-checks.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

photos.describe('privacy edits with real models', () => {
  let models: ModelRegistry;
  let context: TestContext;
  let astronautBytes: Buffer;
  let astronaut: LoadedMedia;
  let face: Detection | undefined;

  beforeAll(async () => {
    models = testRegistry().models;
    context = await makeSpecialistContext({ models });
    astronautBytes = await fs.readFile(testdata('astronaut.png'));
    astronaut = await imageMedia(context, astronautBytes);
    face = (await detectFaces(models, await decodeImage(astronautBytes, LIMITS)))[0];
  }, 180_000);
  afterAll(async () => {
    await models.dispose();
    await context.cleanup();
  });

  it('blurs the face: BlazeFace no longer finds it, and nothing outside the grown face box changes', { timeout: 180_000 }, async () => {
    expect(face).toBeDefined();
    const result = await adjustSpecialist.run(invocation('adjust', astronaut, { phrase: 'faces', blur: 8 }), context);
    expect(result.text).toBe('Blurred 1 face.');
    expect(result.media.map((m) => m.role)).toEqual(['result', 'comparison']);
    const before = await decodeImage(astronautBytes, LIMITS);
    const after = await decodeImage(resultOf(result)!.bytes, LIMITS);
    expect(facesOver(await detectFaces(models, after), [face!])).toEqual([]);

    const g = grownBox(result.boxes![0]!, before.width, before.height, REGION_GROWTH.ellipse);
    let outsideChanged = 0;
    let insideDiff = 0;
    for (let y = 0; y < before.height; y++) {
      for (let x = 0; x < before.width; x++) {
        const o = (y * before.width + x) * 4;
        const inside = x >= g.x1 && x < g.x2 && y >= g.y1 && y < g.y2;
        const diff =
          Math.abs(before.data[o]! - after.data[o]!) + Math.abs(before.data[o + 1]! - after.data[o + 1]!) + Math.abs(before.data[o + 2]! - after.data[o + 2]!);
        if (!inside && diff > 0) outsideChanged++;
        if (inside) insideDiff += diff;
      }
    }
    expect(outsideChanged).toBe(0);
    expect(insideDiff / ((g.x2 - g.x1) * (g.y2 - g.y1))).toBeGreaterThan(10);
    const comparison = await sharp(result.media[1]!.bytes).metadata();
    expect(comparison.width).toBeGreaterThan(comparison.height!);
  });

  it('pixelates the face: BlazeFace no longer finds it', { timeout: 180_000 }, async () => {
    const result = await adjustSpecialist.run(invocation('adjust', astronaut, { phrase: 'the faces', pixelate: 12 }), context);
    expect(result.text).toBe('Pixelated 1 face.');
    const after = await decodeImage(resultOf(result)!.bytes, LIMITS);
    expect(facesOver(await detectFaces(models, after), [face!])).toEqual([]);
  });

  it('answers without a new picture when there is no face', { timeout: 180_000 }, async () => {
    const horse = await imageMedia(context, await fs.readFile(testdata('horse.png')), 'horse.png');
    const result = await adjustSpecialist.run(invocation('adjust', horse, { phrase: 'faces', blur: 8 }), context);
    expect(result.text).toBe('No faces found — nothing changed.');
    expect(result.media).toEqual([]);
  });

  it('blurs people as rectangles through the shared detector', { timeout: 180_000 }, async () => {
    const result = await adjustSpecialist.run(invocation('adjust', astronaut, { phrase: 'the people', blur: 8 }), context);
    expect(result.text).toBe('Blurred 1 person.');
    const after = await decodeImage(resultOf(result)!.bytes, LIMITS);
    expect(await detectFaces(models, after)).toEqual([]);
  });

  it('refuses what it cannot do on part of a picture, saying what to do instead', async () => {
    await expect(adjustSpecialist.run(invocation('adjust', astronaut, { phrase: 'faces', blur: 8, pixelate: 8 }), context)).rejects.toThrow(/blur or pixelate/);
    await expect(adjustSpecialist.run(invocation('adjust', astronaut, { phrase: 'faces', grayscale: true }), context)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(adjustSpecialist.run(invocation('adjust', astronaut, { phrase: 'the unicorn', blur: 8 }), context)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it('still pixelates a whole picture without a phrase', { timeout: 180_000 }, async () => {
    const result = await adjustSpecialist.run(invocation('adjust', astronaut, { pixelate: 16 }), context);
    expect(result.text).toMatch(/pixelated in 16 px blocks/);
    const after = await decodeImage(resultOf(result)!.bytes, LIMITS);
    const at = (x: number, y: number) => after.data.readUInt32LE((y * after.width + x) * 4);
    expect(at(16, 16)).toBe(at(31, 31));
    expect(await detectFaces(models, after)).toEqual([]);
  });

  it('blurs the face in every frame of a moving, zooming clip, keeping frames, duration and sound', { timeout: 300_000 }, async () => {
    const file = path.join(context.tmpDir, 'astronaut-zoom.mp4');
    // 2 s at 10 fps, 256²: the camera pans right and down and zooms in, so the face moves and grows.
    await exec('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-loop',
      '1',
      '-framerate',
      '10',
      '-t',
      '2',
      '-i',
      testdata('astronaut.png'),
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=44100:duration=2',
      '-filter_complex',
      "[0:v]zoompan=z='1+0.02*on':x='on*6':y='on*3':d=1:s=256x256:fps=10,format=yuv420p[v]",
      '-map',
      '[v]',
      '-map',
      '1:a',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-crf',
      '18',
      '-c:a',
      'aac',
      '-shortest',
      file,
    ]);
    const clip = await videoMedia(context, file);
    const result = await adjustSpecialist.run(invocation('adjust', clip, { phrase: 'faces', blur: 8 }), context);
    expect(result.text).toMatch(/^Blurred 1 face across \d+ frames\.$/);
    const out = path.join(context.tmpDir, 'blurred.mp4');
    await fs.writeFile(out, resultOf(result)!.bytes);
    const facts = await probe(context.ffmpeg, out);
    expect(Math.abs(facts.frameCount! - clip.info.frameCount!)).toBeLessThanOrEqual(1);
    expect(Math.abs(facts.durationSec! - clip.info.durationSec!)).toBeLessThanOrEqual(1 / clip.info.fps! + 0.05);
    expect(facts.hasAudio).toBe(true);

    const inputFrames = await decodeFrames(file, 256, 256);
    const outputFrames = await decodeFrames(out, 256, 256);
    for (let i = 0; i < inputFrames.length; i++) {
      const frame = (data: Buffer): RawImage => ({ data, width: 256, height: 256, channels: 4 });
      const faces = await detectFaces(models, frame(inputFrames[i]!));
      expect(faces, `input frame ${i} shows a face`).toHaveLength(1);
      expect(facesOver(await detectFaces(models, frame(outputFrames[i]!)), faces), `output frame ${i}`).toEqual([]);
    }
  });

  it('keeps a small face in a 720p clip covered between tiled passes, by looking around where it was', { timeout: 300_000 }, async () => {
    const file = path.join(context.tmpDir, 'small-face-720p.mp4');
    // 1 s at 10 fps: the astronaut at 120 px (face ~23 px, 1/55 of the width) slides right 30 px a frame.
    await exec('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'color=c=0x889988:s=1280x720:r=10:d=1',
      '-i',
      testdata('astronaut.png'),
      '-filter_complex',
      "[1:v]scale=120:120[a];[0:v][a]overlay=x='200+t*300':y=300,format=yuv420p[v]",
      '-map',
      '[v]',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-crf',
      '16',
      file,
    ]);
    const clip = await videoMedia(context, file);
    const result = await adjustSpecialist.run(invocation('adjust', clip, { phrase: 'faces', blur: 8 }), context);
    expect(result.text).toBe('Blurred 1 face across 10 frames.');
    const out = path.join(context.tmpDir, 'small-face-blurred.mp4');
    await fs.writeFile(out, resultOf(result)!.bytes);
    const inputFrames = await decodeFrames(file, 1280, 720);
    const outputFrames = await decodeFrames(out, 1280, 720);
    const frame = (data: Buffer): RawImage => ({ data, width: 1280, height: 720, channels: 4 });
    for (const i of [1, 4, 7, 9]) {
      const faces = await detectFaces(models, frame(inputFrames[i]!));
      expect(faces, `input frame ${i} shows a face`).toHaveLength(1);
      // Frames 1–9 get no tiled pass, and the whole-frame pass alone does not place this face.
      const whole = await detectFaces(models, frame(inputFrames[i]!), { tiles: false });
      expect(
        whole.filter((w) => intersectionOverUnion(w, faces[0]!) >= 0.5),
        `frame ${i} whole-frame pass`,
      ).toEqual([]);
      expect(facesOver(await detectFaces(models, frame(outputFrames[i]!)), faces), `output frame ${i}`).toEqual([]);
    }
  });
});
