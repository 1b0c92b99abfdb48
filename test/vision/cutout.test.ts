import { promises as fs } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, TaskNotAvailableError } from '../../src/errors.ts';
import { backgroundSpecialist } from '../../src/vision/tasks/edit/background.ts';
import type { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { cutoutSpecialist } from '../../src/vision/tasks/segment/cutout.ts';
import type { SpecialistResult } from '../../src/vision/specialist.ts';
import { imageMedia, invocation, makeSpecialistContext, testRegistry } from '../helpers/specialist-context.ts';
import type { TestContext } from '../helpers/specialist-context.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { discImage, insideDisc, iou } from './fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

const CHELSEA = testdata('chelsea.png');

function byRole(result: SpecialistResult, role: string) {
  const item = result.media.find((m) => m.role === role);
  if (!item) throw new Error(`no ${role} output`);
  return item;
}

async function gray(png: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

describe('cutout and background (real ISNet weights)', () => {
  let models: ModelRegistry;
  let context: TestContext;
  const W = 480;
  const H = 360;
  const disc = { cx: 220, cy: 190, r: 110 };
  let discPng: Buffer;

  beforeAll(async () => {
    models = testRegistry().models;
    context = await makeSpecialistContext({ models });
    discPng = await discImage(W, H, disc);
    await models.session('isnet');
  });
  afterAll(async () => {
    await models.dispose();
    await context.cleanup();
  });

  it('cuts out a shaded disc with a mask of IoU ≥ 0.9 against the truth', async () => {
    const media = await imageMedia(context, discPng);
    const result = await cutoutSpecialist.run(invocation('cutout', media), context);

    const mask = await gray(byRole(result, 'mask').bytes);
    expect([mask.width, mask.height]).toEqual([W, H]);
    expect(iou(mask.data, W, H, (x, y) => insideDisc(x, y, disc))).toBeGreaterThanOrEqual(0.9);

    const cut = byRole(result, 'result');
    expect(cut.mime).toBe('image/png');
    const { data, info } = await sharp(cut.bytes).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(4);
    const alphaAt = (x: number, y: number) => data[(y * W + x) * 4 + 3]!;
    expect(alphaAt(disc.cx, disc.cy)).toBeGreaterThan(200);
    expect(alphaAt(10, 10)).toBeLessThan(30);

    // An opaque photo's overlay is only looked at: JPEG, a tenth of the PNG's size.
    const overlayItem = byRole(result, 'overlay');
    expect(overlayItem.mime).toBe('image/jpeg');
    const overlay = await sharp(overlayItem.bytes).metadata();
    expect([overlay.format, overlay.width, overlay.height]).toEqual(['jpeg', W, H]);
    expect(result.text).toMatch(/main subject/);
    expect(context.reports.length).toBeGreaterThan(0);
  });

  photos.it(`finds the cat in chelsea.png (sanity, not exact)`, async () => {
    const media = await imageMedia(context, await fs.readFile(CHELSEA), 'chelsea.png');
    const result = await cutoutSpecialist.run(invocation('cutout', media), context);
    const mask = await gray(byRole(result, 'mask').bytes);
    expect([mask.width, mask.height]).toEqual([451, 300]);
    let on = 0;
    for (const v of mask.data) if (v >= 128) on++;
    const coverage = on / mask.data.length;
    // The cat's face fills most of the frame; the dark right edge is background.
    expect(coverage).toBeGreaterThan(0.4);
    expect(coverage).toBeLessThan(0.95);
    expect(mask.data[150 * 451 + 200]).toBeGreaterThan(200);
  });

  it('puts the subject on a named colour, with a before/after comparison', async () => {
    const media = await imageMedia(context, discPng);
    const result = await backgroundSpecialist.run(invocation('background', media, { color: 'blue' }), context);
    const out = byRole(result, 'result');
    const { data, info } = await sharp(out.bytes).raw().toBuffer({ resolveWithObject: true });
    const px = (x: number, y: number) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)];
    expect(px(5, 5)).toEqual([0, 0, 255]);
    const [r, g, b] = px(disc.cx, disc.cy) as [number, number, number];
    expect(r).toBeGreaterThan(150);
    expect(g + b).toBeLessThan(200);
    const comparison = await sharp(byRole(result, 'comparison').bytes).metadata();
    expect(comparison.width).toBeGreaterThan(comparison.height! * 1.5);
    expect(result.text).toMatch(/on blue/);
  });

  it('rejects an unknown colour before running the model', async () => {
    const media = await imageMedia(context, discPng);
    await expect(backgroundSpecialist.run(invocation('background', media, { color: 'plaid' }), context)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('with no image generator set up, says which engine to set or model to pull for a described background instead of faking one', async () => {
    const media = await imageMedia(context, discPng);
    const error = await backgroundSpecialist.run(invocation('background', media, { prompt: 'a beach at sunset' }), context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskNotAvailableError);
    expect((error as Error).message).toBe("This server can't generate pictures yet — ask its admin to enable image generation.");
    expect((error as TaskNotAvailableError).operatorHint).toMatch(/COMFYUI_URL.*IMAGES_API_URL.*npm run models -- pull sd-turbo/);
  });
});
