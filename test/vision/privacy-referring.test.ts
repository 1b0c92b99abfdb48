import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Detection } from '../../src/vision/ops/detection.ts';
import { adjustSpecialist } from '../../src/vision/tasks/edit/adjust.ts';
import { detectFaces } from '../../src/vision/models/blazeface.ts';
import type { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { decodeImage } from '../../src/vision/ops/raw-image.ts';
import type { RawImage } from '../../src/vision/ops/raw-image.ts';
import type { LoadedMedia, SpecialistResult } from '../../src/vision/specialist.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { imageMedia, invocation, makeSpecialistContext, testRegistry, videoMedia } from '../helpers/specialist-context.ts';
import type { TestContext } from '../helpers/specialist-context.ts';
import { decodeFrames } from './fixtures.ts';
import { exec, facesOver, LIMITS, resultOf } from './privacy-checks.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

photos.describe('privacy edits on one of several (referring words)', () => {
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
