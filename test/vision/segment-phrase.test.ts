import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import { intersectionOverUnion } from '../../src/vision/ops/nms.ts';
import type { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { cutoutSpecialist } from '../../src/vision/tasks/segment/cutout.ts';
import { phraseMask } from '../../src/vision/find/phrase-mask.ts';
import { segmentSpecialist } from '../../src/vision/tasks/segment/segment.ts';
import type { SpecialistResult } from '../../src/vision/specialist.ts';
import { imageMedia, invocation, makeSpecialistContext, testRegistry, videoMedia } from '../helpers/specialist-context.ts';
import type { TestContext } from '../helpers/specialist-context.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { decodeFrames } from './fixtures.ts';
import { installClipsegFixture } from '../fixtures/clipseg-fixture.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

const HEAVY = { timeout: 180_000 };
/** Measured by eye on chelsea.png (see detect.test.ts). */
const CHELSEA_CAT = { x1: 0, y1: 0, x2: 395, y2: 300 };

interface Gray {
  data: Buffer;
  width: number;
  height: number;
}

async function maskOf(result: SpecialistResult): Promise<Gray> {
  const item = result.media.find((m) => m.role === 'mask');
  if (!item) throw new Error('no mask output');
  const { data, info } = await sharp(item.bytes).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Bounding box and coverage of the mask's "on" pixels (≥ 128). */
function extent(mask: Gray): { box: { x1: number; y1: number; x2: number; y2: number }; coverage: number } {
  let x1 = Infinity,
    y1 = Infinity,
    x2 = -1,
    y2 = -1,
    on = 0;
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      if (mask.data[y * mask.width + x]! < 128) continue;
      on++;
      x1 = Math.min(x1, x);
      y1 = Math.min(y1, y);
      x2 = Math.max(x2, x + 1);
      y2 = Math.max(y2, y + 1);
    }
  }
  return { box: { x1, y1, x2, y2 }, coverage: on / mask.data.length };
}

function onIn(mask: Gray, x0: number, x1: number): number {
  let on = 0;
  for (let y = 0; y < mask.height; y++) for (let x = x0; x < x1; x++) if (mask.data[y * mask.width + x]! >= 128) on++;
  return on;
}

photos.describe(`segment by phrase (real CenterNet + ISNet weights)`, () => {
  let models: ModelRegistry;
  let context: TestContext;
  let chelsea: Buffer;
  /** Two astronauts side by side (the right one mirrored): two people, one per half. */
  let twoPeople: Buffer;

  beforeAll(async () => {
    models = testRegistry().models;
    context = await makeSpecialistContext({ models });
    chelsea = await fs.readFile(testdata('chelsea.png'));
    const astronaut = await fs.readFile(testdata('astronaut.png'));
    const mirrored = await sharp(astronaut).flop().png().toBuffer();
    twoPeople = await sharp({ create: { width: 1024, height: 512, channels: 3, background: '#000000' } })
      .composite([
        { input: astronaut, left: 0, top: 0 },
        { input: mirrored, left: 512, top: 0 },
      ])
      .png()
      .toBuffer();
    await Promise.all([models.graphModel('centernet-coco'), models.session('isnet')]);
  }, 180_000);
  afterAll(async () => {
    await models.dispose();
    await context.cleanup();
  });

  it('segments "the cat" in chelsea.png: the mask sits on the cat and covers a plausible part of it', HEAVY, async () => {
    const media = await imageMedia(context, chelsea, 'chelsea.png');
    const result = await segmentSpecialist.run(invocation('segment', media, { phrase: 'the cat' }), context);
    const mask = await maskOf(result);
    expect([mask.width, mask.height]).toEqual([451, 300]);
    const { box, coverage } = extent(mask);
    expect(intersectionOverUnion(box, CHELSEA_CAT)).toBeGreaterThanOrEqual(0.6);
    // The cat's face fills most of the frame; the blurred room on the right is not cat.
    expect(coverage).toBeGreaterThan(0.4);
    expect(coverage).toBeLessThan(0.95);
    expect(mask.data[150 * 451 + 200]).toBeGreaterThan(200);
    expect(mask.data[150 * 451 + 445]).toBe(0);
    const overlay = result.media.find((m) => m.role === 'overlay')!;
    expect(overlay.mime).toBe('image/jpeg');
    expect(overlay.label).toMatch(/cat/);
    expect(result.text).toMatch(/^Segmented the cat \(\d+ % of the picture\)\.$/);
    expect(result.boxes).toHaveLength(1);
  });

  it('refuses "the unicorn" with what it can find instead', async () => {
    const media = await imageMedia(context, chelsea, 'chelsea.png');
    const error = await segmentSpecialist.run(invocation('segment', media, { phrase: 'the unicorn' }), context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(/"unicorn" is not one of them/);
  });

  it('asks which person when there are two, and "pick: 2" takes the right-hand one', HEAVY, async () => {
    const media = await imageMedia(context, twoPeople, 'two-people.png');
    const asked = await segmentSpecialist.run(invocation('segment', media, { phrase: 'the person' }), context);
    expect(asked.choice).toEqual({ question: 'I found 2 people — which one?', options: ['person, left', 'person, right'] });
    expect(asked.media.map((m) => m.role)).toEqual(['overlay']);
    expect(asked.text).toMatch(/numbered left to right/);

    const picked = await segmentSpecialist.run(invocation('segment', media, { phrase: 'the person', pick: 2 }), context);
    expect(picked.choice).toBeUndefined();
    const mask = await maskOf(picked);
    expect(onIn(mask, 0, 512)).toBe(0);
    expect(onIn(mask, 512, 1024) / (512 * 512)).toBeGreaterThan(0.2);
  });

  it('"all the people" gives one mask over both', HEAVY, async () => {
    const media = await imageMedia(context, twoPeople, 'two-people.png');
    const result = await segmentSpecialist.run(invocation('segment', media, { phrase: 'all the people' }), context);
    const mask = await maskOf(result);
    expect(onIn(mask, 0, 512) / (512 * 512)).toBeGreaterThan(0.2);
    expect(onIn(mask, 512, 1024) / (512 * 512)).toBeGreaterThan(0.2);
    expect(result.text).toMatch(/2 people/);
  });

  it('keeps the mask inside the detected box (the helmet beside the astronaut stays out)', HEAVY, async () => {
    const { data, info } = await sharp(await fs.readFile(testdata('astronaut.png')))
      .raw()
      .toBuffer({ resolveWithObject: true });
    const image = { data, width: info.width, height: info.height, channels: info.channels as 3 | 4 };
    const person = { x1: 8, y1: 9, x2: 369, y2: 512, label: 'person', score: 0.6 };
    const mask = await phraseMask(models, image, person);
    expect([mask.width, mask.height]).toEqual([512, 512]);
    for (let y = 0; y < 512; y++) for (let x = 400; x < 512; x++) expect(mask.data[y * 512 + x]).toBe(0);
    expect(mask.data[120 * 512 + 225]).toBeGreaterThan(200);
  });

  it('cuts out "the cat" with the phrase mask', HEAVY, async () => {
    const media = await imageMedia(context, chelsea, 'chelsea.png');
    const result = await cutoutSpecialist.run(invocation('cutout', media, { phrase: 'the cat' }), context);
    expect(result.text).toMatch(/^Cut out the cat/);
    const cut = result.media.find((m) => m.role === 'result')!;
    const { data, info } = await sharp(cut.bytes).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(4);
    expect(data[(150 * 451 + 200) * 4 + 3]).toBeGreaterThan(200);
    expect(data[(150 * 451 + 445) * 4 + 3]).toBe(0);
  });

  it('cuts "the horse" out of a clip onto a green screen, frame by frame', HEAVY, async () => {
    // A black horse walking right on white: after the cut-out the white is green and the horse stays black.
    const horse = await sharp(await fs.readFile(testdata('horse.png')))
      .resize({ height: 240 })
      .png()
      .toBuffer();
    const frameDir = await fs.mkdtemp(path.join(context.tmpDir, 'horse-frames-'));
    const frames = 3;
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
    const result = await cutoutSpecialist.run(invocation('cutout', await videoMedia(context, clip), { phrase: 'the horse' }), context);
    expect(result.text).toMatch(/^Cut out the horse in 3 of 3 frames, on a green screen/);
    const out = path.join(context.tmpDir, 'cut.mp4');
    await fs.writeFile(out, result.media[0]!.bytes);
    const decoded = await decodeFrames(out, 640, 320);
    expect(decoded).toHaveLength(frames);
    const px = (f: Buffer, x: number, y: number) => [...f.subarray((y * 640 + x) * 4, (y * 640 + x) * 4 + 3)];
    for (const [i, f] of decoded.entries()) {
      const [r, g, b] = px(f, 630, 10) as [number, number, number];
      expect(g, `frame ${i} corner`).toBeGreaterThan(140);
      expect(r + b, `frame ${i} corner`).toBeLessThan(160);
      // The horse's barrel: 55 % across and 45 % down the resized horse.
      const [hr, hg, hb] = px(f, 10 + i * 60 + Math.round(0.55 * 293), 40 + Math.round(0.45 * 240)) as [number, number, number];
      expect(hr + hg + hb, `frame ${i} horse`).toBeLessThan(120);
    }
  });
});

describe('segment a phrase no detector knows, with CLIPSeg installed (fixture model)', () => {
  it('outlines "the sky" through CLIPSeg instead of refusing it', async () => {
    const modelsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-segment-clipseg-'));
    await installClipsegFixture(modelsDir);
    const context = await makeSpecialistContext({ env: { MODELS_DIR: modelsDir } });
    try {
      // Blue with a red block: the fixture's "sky" answers to blue.
      const png = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#0000ff' } })
        .composite([{ input: { create: { width: 100, height: 80, channels: 3, background: '#ff0000' } }, left: 40, top: 30 }])
        .png()
        .toBuffer();
      const media = await imageMedia(context, png);
      const result = await segmentSpecialist.run(invocation('segment', media, { phrase: 'the sky' }), context);
      expect(result.text).toMatch(/^Segmented the sky \(\d+ % of the picture\)\.$/);
      expect(result.boxes).toEqual([]);
      const mask = await maskOf(result);
      expect([mask.width, mask.height]).toEqual([320, 240]);
      // Inside the red block: not sky; far from it: sky.
      expect(mask.data[70 * 320 + 90]!).toBeLessThan(128);
      expect(mask.data[200 * 320 + 280]!).toBeGreaterThanOrEqual(128);
      expect(result.media.some((m) => m.role === 'overlay')).toBe(true);
    } finally {
      await context.models.dispose();
      await context.cleanup();
      await fs.rm(modelsDir, { recursive: true, force: true });
    }
  });
});
