import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import { probe } from '../../src/media/ffmpeg.ts';
import type { Detection } from '../../src/vision/ops/detection.ts';
import { intersectionOverUnion } from '../../src/vision/ops/nms.ts';
import { parseReferring } from '../../src/core/referring.ts';
import { adjustSpecialist } from '../../src/vision/tasks/edit/adjust.ts';
import { REGION_GROWTH, coverRegions, grownBox } from '../../src/vision/ops/region-effects.ts';
import { detectFaces } from '../../src/vision/models/blazeface.ts';
import type { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { decodeImage } from '../../src/vision/ops/raw-image.ts';
import type { RawImage } from '../../src/vision/ops/raw-image.ts';
import type { LoadedMedia, SpecialistResult } from '../../src/vision/specialist.ts';
import { mapVideoWithTracking, TrackSelection } from '../../src/vision/find/tracked-frames.ts';
import { HAS_TESTDATA, testdata } from '../helpers/media-fixtures.ts';
import { imageMedia, invocation, makeSpecialistContext, testRegistry, videoMedia } from '../helpers/specialist-context.ts';
import type { TestContext } from '../helpers/specialist-context.ts';
import { decodeFrames, movingDiscAt, movingDiscClip } from './fixtures.ts';

const exec = promisify(execFile);
const LIMITS = { maxImagePixels: 50_000_000 };

/** A face still found where a face was: the edit did not hide it. */
function facesOver(found: readonly Detection[], where: readonly Detection[]): Detection[] {
  return found.filter((f) => where.some((w) => intersectionOverUnion(f, w) > 0.2));
}

function resultOf(result: SpecialistResult) {
  return result.media.find((m) => m.role === 'result');
}

describe('region effects', () => {
  const gradient = (): RawImage => {
    const width = 64;
    const height = 48;
    const data = Buffer.alloc(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) data.set([x * 4, y * 5, (x * y) % 256, 255], (y * width + x) * 4);
    }
    return { data, width, height, channels: 4 };
  };

  it('changes pixels inside the grown box only, fading in over a soft edge (ellipse)', async () => {
    const image = gradient();
    const box = { x1: 20, y1: 14, x2: 40, y2: 34 };
    const out = await coverRegions(image, [box], { kind: 'blur', sigma: 6 }, 'ellipse');
    const g = grownBox(box, image.width, image.height, REGION_GROWTH.ellipse);
    let changedInside = 0;
    for (let y = 0; y < image.height; y++) {
      for (let x = 0; x < image.width; x++) {
        const o = (y * image.width + x) * 4;
        const same = image.data.subarray(o, o + 4).equals(out.data.subarray(o, o + 4));
        const inside = x >= g.x1 && x < g.x2 && y >= g.y1 && y < g.y2;
        if (!inside) expect(same, `pixel ${x},${y}`).toBe(true);
        else if (!same) changedInside++;
      }
    }
    expect(changedInside).toBeGreaterThan(0.5 * (g.x2 - g.x1) * (g.y2 - g.y1));
    // The centre is covered at full strength (the blue channel is not linear, so blurring changes it).
    const centre = (24 * image.width + 30) * 4;
    expect(out.data.readUInt32LE(centre)).not.toBe(image.data.readUInt32LE(centre));
  });

  it('pixelates into uniform blocks at least an eighth of the region wide', async () => {
    const image = gradient();
    const out = await coverRegions(image, [{ x1: 0, y1: 0, x2: 64, y2: 48 }], { kind: 'pixelate', block: 4 }, 'rectangle');
    // A 48 px short side → blocks of 6 px; inside the soft edge, each block is one colour.
    const at = (x: number, y: number) => out.data.readUInt32LE((y * 64 + x) * 4);
    expect(at(12, 12)).toBe(at(17, 17));
    expect(at(12, 12)).not.toBe(at(18, 12));
  });
});

describe.skipIf(!HAS_TESTDATA)('privacy edits with real models', () => {
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
    for (let i = 0; i < inputFrames.length; i += 4) {
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

describe.skipIf(!HAS_TESTDATA)('privacy edits on one of several (referring words)', () => {
  let models: ModelRegistry;
  let context: TestContext;
  let twoFaces: LoadedMedia;
  let twoFacesBytes: Buffer;
  /** BlazeFace on the input, left to right: the small astronaut's face, then the big one's. */
  let faces: Detection[];

  /** astronaut.png at 384 px on the left and at 512 px on the right: two faces, the right one bigger. */
  async function twoAstronauts(): Promise<Buffer> {
    const small = await sharp(testdata('astronaut.png')).resize(384).png().toBuffer();
    return sharp({ create: { width: 896, height: 512, channels: 3, background: '#808080' } })
      .composite([
        { input: small, left: 0, top: 64 },
        { input: testdata('astronaut.png'), left: 384, top: 0 },
      ])
      .png()
      .toBuffer();
  }

  beforeAll(async () => {
    models = testRegistry().models;
    context = await makeSpecialistContext({ models });
    twoFacesBytes = await twoAstronauts();
    twoFaces = await imageMedia(context, twoFacesBytes, 'two-astronauts.png');
    faces = [...(await detectFaces(models, await decodeImage(twoFacesBytes, LIMITS)))].sort((a, b) => a.x1 - b.x1);
  }, 180_000);
  afterAll(async () => {
    await models.dispose();
    await context.cleanup();
  });

  /** Which of the input's faces BlazeFace still finds on the result. */
  async function facesLeft(result: SpecialistResult): Promise<Detection[]> {
    const after = await detectFaces(models, await decodeImage(resultOf(result)!.bytes, LIMITS));
    return faces.filter((f) => facesOver(after, [f]).length > 0);
  }

  it('finds both faces in the two-astronaut picture', () => {
    expect(faces).toHaveLength(2);
    expect(faces[0]!.x2).toBeLessThan(384);
    expect(faces[1]!.x1).toBeGreaterThan(384);
  });

  it.each([
    ['the face on the left', 'blur', 0],
    ['the left face', 'blur', 0],
    ['the second face', 'blur', 1],
    ['the biggest face', 'blur', 1],
    ['the smallest face', 'pixelate', 0],
    ['the person on the right', 'pixelate', 1],
  ] as const)('"%s" (%s) covers only that one', { timeout: 180_000 }, async (phrase, effect, covered) => {
    const result = await adjustSpecialist.run(invocation('adjust', twoFaces, { phrase, [effect]: effect === 'blur' ? 8 : 12 }), context);
    const label = phrase.includes('person') ? 'people' : 'faces';
    expect(result.text).toBe(`${effect === 'blur' ? 'Blurred' : 'Pixelated'} 1 of 2 ${label} (${phrase}).`);
    expect(result.boxes).toHaveLength(1);
    expect(await facesLeft(result)).toEqual([faces[1 - covered]!]);
  });

  it('covers every face for a plain "the face" when there are two, and says so instead of asking which', { timeout: 180_000 }, async () => {
    const result = await adjustSpecialist.run(invocation('adjust', twoFaces, { phrase: 'the face', blur: 8 }), context);
    expect(result.text).toMatch(/^Blurred 2 faces\. There was more than one, so I covered all of them; say which one/);
    expect(result.choice).toBeUndefined();
    expect(await facesLeft(result)).toEqual([]);
  });

  it('says there is no third face rather than covering a wrong one', { timeout: 180_000 }, async () => {
    await expect(adjustSpecialist.run(invocation('adjust', twoFaces, { phrase: 'the third face', blur: 8 }), context)).rejects.toThrow(
      /only 2 faces, so there is no number 3/,
    );
  });

  it('on a video, chooses "the face on the left" once and follows it after it has walked past the other', { timeout: 300_000 }, async () => {
    const file = path.join(context.tmpDir, 'two-faces-crossing.mp4');
    // 8 frames at 8 fps, 384×352: astronaut A (160 px) walks along the top row from x 0 to 224 (32 px a
    // frame); B sits still in the bottom row at x 112. A starts left of B and ends right of it.
    await exec('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'color=c=0x889988:s=384x352:r=8:d=1',
      '-i',
      testdata('astronaut.png'),
      '-filter_complex',
      "[1:v]scale=160:160,split[a][b];[0:v][b]overlay=x=112:y=180[bg];[bg][a]overlay=x='n*32':y=4,format=yuv420p[v]",
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
    const result = await adjustSpecialist.run(invocation('adjust', clip, { phrase: 'the face on the left', blur: 8 }), context);
    expect(result.text).toBe('Blurred the face on the left (followed from frame to frame; 2 faces tracked in all) across 8 frames.');
    const out = path.join(context.tmpDir, 'left-face-blurred.mp4');
    await fs.writeFile(out, resultOf(result)!.bytes);
    const frame = (data: Buffer): RawImage => ({ data, width: 384, height: 352, channels: 4 });
    const inputFrames = await decodeFrames(file, 384, 352);
    const outputFrames = await decodeFrames(out, 384, 352);
    for (const i of [0, 3, 7]) {
      const found = await detectFaces(models, frame(inputFrames[i]!));
      const walker = found.find((f) => f.y2 < 176);
      const sitter = found.find((f) => f.y1 > 176);
      expect(walker, `input frame ${i}: the walking face`).toBeDefined();
      expect(sitter, `input frame ${i}: the sitting face`).toBeDefined();
      const after = await detectFaces(models, frame(outputFrames[i]!));
      expect(facesOver(after, [walker!]), `output frame ${i}: the walker is covered`).toEqual([]);
      expect(facesOver(after, [sitter!]), `output frame ${i}: the other face is left alone`).toHaveLength(1);
    }
    // By the last frame the walker is the face on the right: re-choosing per frame would have switched.
    const last = await detectFaces(models, frame(inputFrames[7]!));
    expect(last.find((f) => f.y2 < 176)!.x1).toBeGreaterThan(last.find((f) => f.y1 > 176)!.x2);
  });
});

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
