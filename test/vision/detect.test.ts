import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import { decodeRows, detectObjects, letterbox } from '../../src/vision/models/centernet.ts';
import { COCO_LABELS } from '../../src/vision/models/coco-labels.ts';
import { detectSpecialist, groundSpecialist } from '../../src/vision/tasks/understand/detect.ts';
import type { Detection } from '../../src/vision/ops/detection.ts';
import { detect } from '../../src/vision/find/detector.ts';
import { intersectionOverUnion } from '../../src/vision/ops/nms.ts';
import type { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { decodeImage } from '../../src/vision/ops/raw-image.ts';
import type { RawImage } from '../../src/vision/ops/raw-image.ts';
import { tfjs } from '../../src/vision/models/tfjs-runtime.ts';
import { imageMedia, invocation, makeSpecialistContext, testRegistry, videoMedia } from '../helpers/specialist-context.ts';
import type { TestContext } from '../helpers/specialist-context.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { decodeFrames } from './fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

const HEAVY = { timeout: 180_000 };

/**
 * Boxes measured by eye on the photos (outermost pixels of the subject), independent of any detector:
 * astronaut.png — hair top to the bottom edge, left shoulder to the right elbow; chelsea.png — the cat
 * fills the frame up to its right ear at x ≈ 395; horse.png — tail tip to muzzle, ear tips to hooves.
 */
const ASTRONAUT_PERSON = { x1: 18, y1: 14, x2: 365, y2: 512 };
const CHELSEA_CAT = { x1: 0, y1: 0, x2: 395, y2: 300 };
const HORSE_HORSE = { x1: 17, y1: 9, x2: 389, y2: 312 };
/** The astronaut's face, chin to hairline, by eye. */
const ASTRONAUT_FACE = { x1: 180, y1: 70, x2: 275, y2: 190 };

const row = (x1: number, y1: number, x2: number, y2: number, score: number, label: string) => [x1, y1, x2, y2, score, COCO_LABELS.indexOf(label as never)];

describe('CenterNet decoding (no model)', () => {
  it('maps letterboxed boxes back to image pixels and clips them to the image', () => {
    // A 1024×512 image letterboxed to 512: scale 0.5, padding below y = 256.
    const rows = Float32Array.from([...row(10, 20, 300, 250, 0.9, 'dog'), ...row(400, 200, 530, 300, 0.8, 'car'), ...row(0, 300, 100, 500, 0.9, 'cat')]);
    const found = decodeRows(rows, { width: 1024, height: 512 }, 0.5);
    expect(found).toEqual([
      { x1: 20, y1: 40, x2: 600, y2: 500, label: 'dog', score: expect.closeTo(0.9, 5) },
      { x1: 800, y1: 400, x2: 1024, y2: 512, label: 'car', score: expect.closeTo(0.8, 5) },
    ]);
  });

  it('gives one object one label: a weaker box of another class on the same spot is dropped', () => {
    const rows = Float32Array.from([...row(0, 0, 400, 300, 0.47, 'cat'), ...row(0, 0, 405, 298, 0.2, 'dog'), ...row(0, 0, 200, 150, 0.35, 'dog')]);
    const asked = decodeRows(rows, { width: 512, height: 512 }, 1, { labels: ['dog'], minScore: 0.2 });
    // The 0.2 "dog" is the cat's box; the small dog elsewhere is a dog of its own.
    expect(asked.map((d) => [d.label, d.x2])).toEqual([['dog', 200]]);
  });

  it('keeps two overlapping objects of different classes (a rider on a horse)', () => {
    const rows = Float32Array.from([
      ...row(100, 50, 200, 300, 0.6, 'person'),
      ...row(50, 150, 400, 400, 0.7, 'horse'),
      ...row(105, 55, 205, 305, 0.4, 'person'),
    ]);
    expect(decodeRows(rows, { width: 512, height: 512 }, 1).map((d) => d.label)).toEqual(['horse', 'person']);
  });

  it('letterboxes: longest side to 512, aspect kept, black padding right and bottom', async () => {
    const image: RawImage = { data: Buffer.alloc(400 * 200 * 3, 200), width: 400, height: 200, channels: 3 };
    const { pixels, scale } = await letterbox(image);
    expect(scale).toBeCloseTo(1.28, 5);
    const at = (x: number, y: number) => pixels[(y * 512 + x) * 3]!;
    expect(at(10, 10)).toBe(200);
    expect(at(511, 200)).toBe(200);
    expect(at(10, 300)).toBe(0);
  });
});

describe('detect and ground (real CenterNet weights)', () => {
  let models: ModelRegistry;
  let context: TestContext;
  const photo = async (name: string) => decodeImage(await fs.readFile(testdata(name)), { maxImagePixels: 10_000_000 });

  beforeAll(async () => {
    models = testRegistry().models;
    context = await makeSpecialistContext({ models });
    await models.graphModel('centernet-coco');
  }, 180_000);
  afterAll(async () => {
    await models.dispose();
    await context.cleanup();
  });

  photos.it(`finds the one person in astronaut.png`, HEAVY, async () => {
    const found = await detectObjects(models, await photo('astronaut.png'));
    const people = found.filter((d) => d.label === 'person');
    expect(people).toHaveLength(1);
    expect(intersectionOverUnion(people[0]!, ASTRONAUT_PERSON)).toBeGreaterThanOrEqual(0.7);
  });

  photos.it(`finds the cat in chelsea.png, and no dog when asked for dogs`, HEAVY, async () => {
    const image = await photo('chelsea.png');
    const cats = await detect(models, image, 'the cat');
    expect(cats.label).toBe('cat');
    expect(cats.detections).toHaveLength(1);
    expect(intersectionOverUnion(cats.detections[0]!, CHELSEA_CAT)).toBeGreaterThanOrEqual(0.7);
    expect((await detect(models, image, 'dogs')).detections).toEqual([]);
  });

  photos.it(`finds the horse in horse.png`, HEAVY, async () => {
    const { detections } = await detect(models, await photo('horse.png'));
    expect(detections.map((d) => d.label)).toEqual(['horse']);
    expect(intersectionOverUnion(detections[0]!, HORSE_HORSE)).toBeGreaterThanOrEqual(0.7);
  });

  photos.it(`sends face words to the face detector`, HEAVY, async () => {
    const { detections, label } = await detect(models, await photo('astronaut.png'), 'faces');
    expect(label).toBe('face');
    expect(detections).toHaveLength(1);
    expect(detections[0]!.label).toBe('face');
    expect(intersectionOverUnion(detections[0]!, ASTRONAUT_FACE)).toBeGreaterThanOrEqual(0.5);
  });

  it('refuses a phrase it cannot detect, naming what it can and how to get more', async () => {
    const image: RawImage = { data: Buffer.alloc(64 * 64 * 3), width: 64, height: 64, channels: 3 };
    const error = await detect(models, image, 'the unicorn').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(/people, animals, vehicles.*"unicorn" is not one of them.*its admin can enable it\.$/);
    expect((error as Error).message).not.toMatch(/npm run models/);
    expect((error as InvalidArgumentError).details.operatorHint).toMatch(/open-vocabulary detector.*clipseg-rd64/);
    // For outlining tasks the operator's hint is the exact command that makes any phrase work.
    const outline = await detect(models, image, 'the unicorn', 'segment').catch((e: unknown) => e);
    expect((outline as Error).message).toMatch(/"unicorn" is not one of them/);
    expect((outline as InvalidArgumentError).details.operatorHint).toMatch(/npm run models -- pull clipseg-rd64/);
  });

  it('leaves no tensors behind, however often it runs', HEAVY, async () => {
    const { tf } = await tfjs();
    const image: RawImage = { data: Buffer.alloc(200 * 120 * 3, 128), width: 200, height: 120, channels: 3 };
    await detectObjects(models, image);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) await detectObjects(models, image);
    expect(tf.memory().numTensors).toBe(before);
  });

  photos.it(`answers "how many people?" with the number first and the boxes drawn`, HEAVY, async () => {
    const media = await imageMedia(context, await fs.readFile(testdata('astronaut.png')), 'astronaut.png');
    const result = await detectSpecialist.run(invocation('detect', media, { phrase: 'people', count: true }), context);
    expect(result.text).toBe('1 person.');
    expect(result.boxes).toHaveLength(1);
    expect(result.boxes![0]).toMatchObject({ label: 'person' });
    const overlay = result.media.find((m) => m.role === 'overlay')!;
    const meta = await sharp(overlay.bytes).metadata();
    expect([meta.width, meta.height]).toEqual([512, 512]);
  });

  photos.it(`says so when none of the asked class is there`, HEAVY, async () => {
    const media = await imageMedia(context, await fs.readFile(testdata('horse.png')), 'horse.png');
    const result = await detectSpecialist.run(invocation('detect', media, { phrase: 'cats' }), context);
    expect(result.text).toBe('No cats found.');
    expect(result.boxes).toEqual([]);
  });

  photos.it(`locates "the horse" in words and pixels`, HEAVY, async () => {
    // The horse on the right half of a wider canvas: "on the right".
    const horse = await fs.readFile(testdata('horse.png'));
    const wide = await sharp({ create: { width: 1200, height: 328, channels: 3, background: '#ffffff' } })
      .composite([{ input: horse, left: 800, top: 0 }])
      .png()
      .toBuffer();
    const media = await imageMedia(context, wide, 'wide-horse.png');
    const result = await groundSpecialist.run(invocation('ground', media, { phrase: 'the horse' }), context);
    expect(result.choice).toBeUndefined();
    expect(result.boxes).toHaveLength(1);
    const box = result.boxes![0] as Detection;
    expect(intersectionOverUnion(box, { x1: 800 + HORSE_HORSE.x1, y1: HORSE_HORSE.y1, x2: 800 + HORSE_HORSE.x2, y2: HORSE_HORSE.y2 })).toBeGreaterThanOrEqual(
      0.7,
    );
    expect(result.text).toMatch(/^The horse is on the right \(x \d+–\d+, y \d+–\d+ px, score 0\.\d\d\)\.$/);
  });

  photos.it(`asks "which one?" about two people and answers a pick by the same numbering`, HEAVY, async () => {
    const astronaut = await fs.readFile(testdata('astronaut.png'));
    const pair = await sharp({ create: { width: 1024, height: 512, channels: 3, background: '#000000' } })
      .composite([
        { input: astronaut, left: 0, top: 0 },
        { input: await sharp(astronaut).flop().png().toBuffer(), left: 512, top: 0 },
      ])
      .png()
      .toBuffer();
    const media = await imageMedia(context, pair, 'pair.png');
    const asked = await groundSpecialist.run(invocation('ground', media, { phrase: 'the person' }), context);
    expect(asked.choice).toEqual({ question: 'I found 2 people — which one?', options: ['person, left', 'person, right'] });
    expect(asked.boxes).toHaveLength(2);
    const picked = await groundSpecialist.run(invocation('ground', media, { phrase: 'the person', pick: 1 }), context);
    expect(picked.choice).toBeUndefined();
    expect(picked.boxes).toHaveLength(1);
    expect(picked.boxes![0]!.x2).toBeLessThanOrEqual(512);
    expect(picked.text).toMatch(/^The person is on the left/);
    const right = await groundSpecialist.run(invocation('ground', media, { phrase: 'the person on the right' }), context);
    expect(right.boxes![0]!.x1).toBeGreaterThanOrEqual(500);
  });

  photos.it(`tracks a horse walking across a clip: one horse, boxed on every frame`, HEAVY, async () => {
    const horse = await sharp(await fs.readFile(testdata('horse.png')))
      .resize({ height: 240 })
      .png()
      .toBuffer();
    const frameDir = await fs.mkdtemp(path.join(context.tmpDir, 'horse-frames-'));
    const frames = 6;
    for (let i = 0; i < frames; i++) {
      await sharp({ create: { width: 640, height: 320, channels: 3, background: '#ffffff' } })
        .composite([{ input: horse, left: 10 + i * 60, top: 40 }])
        .png()
        .toFile(path.join(frameDir, `f${i}.png`));
    }
    const clip = path.join(context.tmpDir, 'horse.mp4');
    await promisify(execFile)('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-framerate',
      '5',
      '-i',
      path.join(frameDir, 'f%d.png'),
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-crf',
      '12',
      '-pix_fmt',
      'yuv420p',
      clip,
    ]);
    const media = await videoMedia(context, clip);
    const result = await detectSpecialist.run(invocation('detect', media, { phrase: 'horses', count: true }), context);
    expect(result.text).toBe('1 horse across 6 frames, each boxed and numbered on every frame.');
    const video = result.media[0]!;
    expect([video.kind, video.mime]).toEqual(['video', 'video/mp4']);
    const out = path.join(context.tmpDir, 'tracked.mp4');
    await fs.writeFile(out, video.bytes);
    const decoded = await decodeFrames(out, 640, 320);
    expect(decoded).toHaveLength(frames);
    // The box outline (#00c2ff) is drawn around the horse on every frame, following it as it walks right:
    // its leftmost and rightmost columns against the silhouette's own (dark pixels of horse.png), moved 60 px a frame.
    const silhouette = await sharp(horse).flatten({ background: '#ffffff' }).greyscale().raw().toBuffer({ resolveWithObject: true });
    let horseLeft = silhouette.info.width;
    let horseRight = 0;
    for (let p = 0; p < silhouette.data.length; p++) {
      if (silhouette.data[p]! < 128) {
        horseLeft = Math.min(horseLeft, p % silhouette.info.width);
        horseRight = Math.max(horseRight, p % silhouette.info.width);
      }
    }
    for (const [i, frame] of decoded.entries()) {
      let outline = 0;
      let left = 640;
      let right = 0;
      for (let p = 0; p < frame.length; p += 4) {
        if (frame[p]! < 80 && frame[p + 1]! > 150 && frame[p + 2]! > 200) {
          outline++;
          left = Math.min(left, (p / 4) % 640);
          right = Math.max(right, (p / 4) % 640);
        }
      }
      expect(outline, `frame ${i}: outline pixels`).toBeGreaterThan(200);
      // Measured: within 4 px of the silhouette's edges on every frame.
      expect(Math.abs(left - (10 + i * 60 + horseLeft)), `frame ${i}: the outline's left edge against the horse's`).toBeLessThan(12);
      expect(Math.abs(right - (10 + i * 60 + horseRight)), `frame ${i}: the outline's right edge against the horse's`).toBeLessThan(12);
    }
  });
});
