import { promises as fs } from 'node:fs';
import os from 'node:os';
import { installFixtureModel } from '../fixtures/onnx-models.ts';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import { chooseInpainter, openCvInpainter } from '../../src/vision/models/inpainter-choice.ts';
import type { Inpainter } from '../../src/vision/models/inpainter.ts';
import { removeSpecialist } from '../../src/vision/tasks/edit/remove.ts';
import type { SpecialistResult } from '../../src/vision/specialist.ts';
import { movingDiscClip } from './fixtures.ts';
import { imageMedia, invocation, makeSpecialistContext, testSettings, videoMedia } from '../helpers/specialist-context.ts';
import type { TestContext } from '../helpers/specialist-context.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

const SIZE = 256;
const DISC = { cx: 150, cy: 120, r: 30 };

/** A 256² crop of the cat photo (fur, whiskers: real texture) with a saturated red disc painted on it. */
async function photoWithDisc(): Promise<{ png: Buffer; background: Buffer }> {
  const crop = sharp(testdata('chelsea.png')).extract({ left: 120, top: 20, width: SIZE, height: SIZE });
  const background = await crop.clone().ensureAlpha().raw().toBuffer();
  const disc = `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}"><circle cx="${DISC.cx}" cy="${DISC.cy}" r="${DISC.r}" fill="#ff0000"/></svg>`;
  const png = await crop
    .composite([{ input: Buffer.from(disc) }])
    .png()
    .toBuffer();
  return { png, background };
}

/** White disc a little larger than the red one (r + 2), black elsewhere: what a user would paint. */
function maskImage(r = DISC.r + 2, fill = '#ffffff', background = '#000000'): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}"><rect width="100%" height="100%" fill="${background}"/><circle cx="${DISC.cx}" cy="${DISC.cy}" r="${r}" fill="${fill}"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

async function rgba(png: Buffer): Promise<Buffer> {
  return sharp(png).ensureAlpha().raw().toBuffer();
}

async function grey(png: Buffer): Promise<Buffer> {
  return sharp(png).toColourspace('b-w').raw().toBuffer();
}

const byRole = (result: SpecialistResult, role: string) => result.media.find((m) => m.role === role)!.bytes;

/** Pixels where red clearly dominates both other channels: the disc's colour. */
function redDominant(pixels: Buffer, i: number): boolean {
  const r = pixels[i * 4]!;
  return r - pixels[i * 4 + 1]! > 80 && r - pixels[i * 4 + 2]! > 80;
}

photos.describe('remove / inpaint (OpenCV Telea)', () => {
  let context: TestContext;
  let photo: { png: Buffer; background: Buffer };
  beforeAll(async () => {
    context = await makeSpecialistContext();
    photo = await photoWithDisc();
  });
  afterAll(async () => {
    await context.models.dispose();
    await context.cleanup();
  });

  async function expectDiscGone(result: SpecialistResult): Promise<void> {
    const before = await rgba(photo.png);
    const after = await rgba(byRole(result, 'result'));
    const hole = await grey(byRole(result, 'mask'));
    let inside = 0;
    let redLeft = 0;
    let changedOutside = 0;
    let redBefore = 0;
    for (let i = 0; i < SIZE * SIZE; i++) {
      if (redDominant(before, i)) redBefore++;
      if (hole[i]! >= 128) {
        inside++;
        if (redDominant(after, i)) redLeft++;
      } else if (before.compare(after, i * 4, i * 4 + 4, i * 4, i * 4 + 4) !== 0) changedOutside++;
    }
    expect(redBefore).toBeGreaterThan(2500);
    // The hole (dilated) holds the whole disc, has no red left, and nothing outside it changed by a byte.
    expect(inside).toBeGreaterThan(Math.PI * DISC.r * DISC.r);
    expect(redLeft).toBe(0);
    expect(changedOutside).toBe(0);
  }

  it('removes a red disc painted on a photo given a mask image sent with it, leaving the rest byte for byte', async () => {
    const input = invocation('inpaint', await imageMedia(context, photo.png), {});
    input.media.push(await imageMedia(context, await maskImage(), 'mask.png'));
    const result = await removeSpecialist.run(input, context);
    await expectDiscGone(result);
    expect(result.text).toMatch(/^Filled the masked area \(\d+(\.\d)? % of the image\) with OpenCV \(Telea\)\./);
    expect(result.text).toMatch(/filled by smoothing.*no inpainting model/);
    expect(result.text).not.toMatch(/npm run models/);
    const comparison = await sharp(byRole(result, 'comparison')).metadata();
    expect(comparison.width).toBeGreaterThan(2 * SIZE);
  });

  it('removes the disc from a box given by the planner', async () => {
    const input = {
      ...invocation('remove', await imageMedia(context, photo.png), {}),
      region: { box: [DISC.cx - DISC.r - 2, DISC.cy - DISC.r - 2, DISC.cx + DISC.r + 2, DISC.cy + DISC.r + 2] as [number, number, number, number] },
    };
    const result = await removeSpecialist.run(input, context);
    await expectDiscGone(result);
    expect(result.text).toMatch(/^Filled the boxed area/);
  });

  it('stretches a mask image of another size to the photo', async () => {
    const small = await sharp(await maskImage())
      .resize(128, 128)
      .png()
      .toBuffer();
    const input = invocation('inpaint', await imageMedia(context, photo.png), {});
    input.media.push(await imageMedia(context, small, 'small-mask.png'));
    await expectDiscGone(await removeSpecialist.run(input, context));
  });

  it('refuses an all-black or all-white mask, and an inpaint with no mask at all, saying what to send', async () => {
    for (const [fill, background, message] of [
      ['#000000', '#000000', /all black/],
      ['#ffffff', '#ffffff', /all white/],
    ] as const) {
      const input = invocation('inpaint', await imageMedia(context, photo.png), {});
      input.media.push(await imageMedia(context, await maskImage(DISC.r, fill, background), `bad-${background.slice(1)}.png`));
      const error = await removeSpecialist.run(input, context).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(message);
    }
    const bare = await removeSpecialist.run(invocation('inpaint', await imageMedia(context, photo.png), {}), context).catch((e: unknown) => e);
    expect(bare).toBeInstanceOf(InvalidArgumentError);
    expect((bare as Error).message).toMatch(/mask image \(white where to fill/);
  });

  it('fills the transparent pixels of an image when inpaint gets no mask', async () => {
    const { data, info } = await sharp(photo.png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const holed = Buffer.from(data);
    for (let y = 100; y < 110; y++) for (let x = 100; x < 110; x++) holed[(y * SIZE + x) * 4 + 3] = 0;
    const png = await sharp(holed, { raw: { width: info.width, height: info.height, channels: 4 } })
      .png()
      .toBuffer();
    const result = await removeSpecialist.run(invocation('inpaint', await imageMedia(context, png), {}), context);
    expect(result.text).toMatch(/^Filled the transparent area/);
    expect(result.text).not.toMatch(/smoothing/);
  });

  it('says when nothing of the named kind is in the picture, and removes nothing', { timeout: 180_000 }, async () => {
    const result = await removeSpecialist.run(invocation('remove', await imageMedia(context, photo.png), { phrase: 'the bus' }), context);
    expect(result.media).toEqual([]);
    expect(result.text).toMatch(/could not find any buses.*Nothing was removed/);
  });

  it('in a video, says the named thing is in no frame when it is in none, and refuses a box (images only)', { timeout: 180_000 }, async () => {
    const clip = await movingDiscClip(context.tmpDir, 3, 96, 64);
    const result = await removeSpecialist.run(invocation('remove', await videoMedia(context, clip), { phrase: 'the dog' }), context);
    expect(result.text).toBe('I could not find "the dog" in any frame of the video, so nothing was removed.');
    expect(result.media).toEqual([]);
    const boxed = { ...invocation('remove', await videoMedia(context, clip), {}), region: { box: [1, 1, 20, 20] as [number, number, number, number] } };
    await expect(removeSpecialist.run(boxed, context)).rejects.toThrow(/boxes and mask images work on images only/);
  });

  it('removes the cat named by a phrase (CenterNet box → ISNet mask → Telea)', { timeout: 180_000 }, async () => {
    const png = await sharp(testdata('chelsea.png')).png().toBuffer();
    const result = await removeSpecialist.run(invocation('remove', await imageMedia(context, png), { phrase: 'the cat' }), context);
    expect(result.text).toMatch(/^Removed the cat \(\d+ % of the image\) and filled the hole with OpenCV \(Telea\)\./);
    const hole = await grey(byRole(result, 'mask'));
    let on = 0;
    for (const v of hole) if (v >= 128) on++;
    expect(on / hole.length).toBeGreaterThan(0.1);
  });
});

describe('chooseInpainter', () => {
  const fake = (name: string): Inpainter => ({ name, model: name, inpaint: async (image) => image });
  const settings = testSettings();
  const installed = (...names: string[]) => ({ settings, isInstalled: (name: string) => names.includes(name) });
  const evidence = (scores: Record<string, number>, prefer: string[] = []) => ({ scores: new Map(Object.entries(scores)), prefer });

  it('takes the best measured inpainter; an unmeasured pulled one only when PREFER_MODELS names it; weights without code do not count', () => {
    const candidates = [openCvInpainter, fake('lama'), fake('migan')];
    expect(chooseInpainter(installed('migan', 'lama'), candidates, evidence({})).name).toBe('opencv-telea');
    expect(chooseInpainter(installed('migan', 'lama'), candidates, evidence({}, ['lama', 'migan'])).name).toBe('lama');
    expect(chooseInpainter(installed('migan', 'lama'), candidates, evidence({ 'opencv-telea': 0.5, migan: 0.7, lama: 0.6 })).name).toBe('migan');
    expect(chooseInpainter(installed('lama'), candidates, evidence({ 'opencv-telea': 0.5, migan: 0.7, lama: 0.4 })).name).toBe('opencv-telea');
    expect(chooseInpainter(installed(), candidates, evidence({ migan: 0.9 })).name).toBe('opencv-telea');
    expect(chooseInpainter(installed('migan'), [openCvInpainter], evidence({}, ['migan'])).name).toBe('opencv-telea');
  });
});

describe('remove with pulled inpainting weights (fixture models)', () => {
  photos.it('fills with MI-GAN once it is in MODELS_DIR and PREFER_MODELS names it, and says so; without it, OpenCV', { timeout: 120_000 }, async () => {
    const modelsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-remove-migan-'));
    // Not measured here: MI-GAN is used because the operator names it (PREFER_MODELS).
    const context = await makeSpecialistContext({ env: { MODELS_DIR: modelsDir, PREFER_MODELS: 'migan' } });
    try {
      const { png } = await photoWithDisc();
      const media = await imageMedia(context, png);
      const box: [number, number, number, number] = [DISC.cx - DISC.r - 2, DISC.cy - DISC.r - 2, DISC.cx + DISC.r + 2, DISC.cy + DISC.r + 2];
      const before = await removeSpecialist.run({ ...invocation('remove', media), region: { box } }, context);
      expect(before.text).toMatch(/OpenCV \(Telea\)/);
      await installFixtureModel(modelsDir, 'migan');
      const after = await removeSpecialist.run({ ...invocation('remove', media), region: { box } }, context);
      expect(after.text).toMatch(/MI-GAN/);
      expect(after.text).not.toMatch(/no inpainting model/);
    } finally {
      await context.models.dispose();
      await context.cleanup();
      await fs.rm(modelsDir, { recursive: true, force: true });
    }
  });
});
