import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InvalidArgumentError, TaskNotAvailableError } from '../../src/errors.ts';
import { replaceSpecialist } from '../../src/vision/tasks/edit/replace.ts';
import type { SpecialistInput, SpecialistResult } from '../../src/vision/specialist.ts';
import { imageMedia, invocation, makeSpecialistContext } from '../helpers/specialist-context.ts';
import type { TestContext } from '../helpers/specialist-context.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

const SIZE = 256;
const BOX: [number, number, number, number] = [110, 80, 190, 160];

/** A crop of the cat photo with a saturated red square where the box is: the thing to replace. */
async function photoWithSquare(): Promise<Buffer> {
  const square = `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}"><rect x="${BOX[0] + 6}" y="${BOX[1] + 6}" width="${BOX[2] - BOX[0] - 12}" height="${BOX[3] - BOX[1] - 12}" fill="#ff0000"/></svg>`;
  return sharp(testdata('chelsea.png'))
    .extract({ left: 120, top: 20, width: SIZE, height: SIZE })
    .composite([{ input: Buffer.from(square) }])
    .png()
    .toBuffer();
}

/** A blue disc on a transparent or a white canvas, larger than the box (it has to be scaled down). */
function blueDisc(background: string | undefined): Promise<Buffer> {
  const bg = background === undefined ? '' : `<rect width="100%" height="100%" fill="${background}"/>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200">${bg}<circle cx="150" cy="100" r="80" fill="#1040e0"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

async function rgbaAt(png: Buffer): Promise<(x: number, y: number) => number[]> {
  const data = await sharp(png).ensureAlpha().raw().toBuffer();
  return (x, y) => [...data.subarray((y * SIZE + x) * 4, (y * SIZE + x) * 4 + 4)];
}

const byRole = (r: SpecialistResult, role: string) => r.media.find((m) => m.role === role)!.bytes;

photos.describe('replace (remove + paste the second image into the hole)', () => {
  let context: TestContext;
  let photo: Buffer;
  beforeAll(async () => {
    context = await makeSpecialistContext();
    photo = await photoWithSquare();
  });
  afterAll(async () => {
    await context.models.dispose();
    await context.cleanup();
  });

  async function replaceWith(replacement: Buffer): Promise<SpecialistResult> {
    const input: SpecialistInput = { ...invocation('replace', await imageMedia(context, photo), { phrase: 'the red square' }), region: { box: BOX } };
    input.media.push(await imageMedia(context, replacement, 'replacement.png'));
    return replaceSpecialist.run(input, context);
  }

  function countInBox(at: (x: number, y: number) => number[], test: (p: number[]) => boolean): number {
    let n = 0;
    for (let y = BOX[1]; y < BOX[3]; y++) for (let x = BOX[0]; x < BOX[2]; x++) if (test(at(x, y))) n++;
    return n;
  }
  const isRed = ([r, g, b]: number[]) => r! - g! > 80 && r! - b! > 80;
  const isBlue = ([r, g, b]: number[]) => b! - r! > 80 && b! - g! > 60;

  it('puts a transparent-background subject where the red square was, fitted to the box', { timeout: 180_000 }, async () => {
    const r = await replaceWith(await blueDisc(undefined));
    const at = await rgbaAt(byRole(r, 'result'));
    expect(countInBox(at, isRed)).toBe(0);
    // The disc is scaled to the box's height (80 px): a disc of radius ~40, centred, on the bottom edge.
    expect(isBlue(at(150, 120))).toBe(true);
    expect(countInBox(at, isBlue)).toBeGreaterThan(0.6 * Math.PI * 40 * 40);
    expect(isBlue(at(BOX[0] - 10, 120))).toBe(false);
    expect(r.media.map((m) => m.role)).toEqual(['result', 'comparison', 'mask']);
    expect(r.text).toMatch(/^Replaced the boxed area with your picture: the hole was filled with OpenCV \(Telea\)/);
  });

  it('cuts a subject out of its white background (ISNet) before pasting it', { timeout: 180_000 }, async () => {
    const r = await replaceWith(await blueDisc('#ffffff'));
    const at = await rgbaAt(byRole(r, 'result'));
    expect(isBlue(at(150, 120))).toBe(true);
    const white = countInBox(at, ([r_, g, b]) => r_! > 235 && g! > 235 && b! > 235);
    expect(white).toBeLessThan(40);
  });

  it('with only words ("replace the cat with a tiger") and no image generator set up, names the engine to set or the model to pull', async () => {
    const error = await replaceSpecialist
      .run(invocation('replace', await imageMedia(context, photo), { phrase: 'the cat', prompt: 'a tiger' }), context)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskNotAvailableError);
    expect((error as Error).message).toBe("This server can't generate pictures yet — ask its admin to enable image generation.");
    expect((error as TaskNotAvailableError).operatorHint).toMatch(/COMFYUI_URL.*IMAGES_API_URL.*npm run models -- pull sd-turbo/);
  });

  it('with neither a picture nor words, asks what to replace it with', async () => {
    const error = await replaceSpecialist.run(invocation('replace', await imageMedia(context, photo), { phrase: 'the cat' }), context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(/Replace it with what\?/);
  });
});
