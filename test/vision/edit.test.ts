import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, MediaLimitError } from '../../src/errors.ts';
import { adjustSpecialist } from '../../src/vision/tasks/edit/adjust.ts';
import { centredAspectBox, transformSpecialist } from '../../src/vision/tasks/edit/transform.ts';
import { imageMedia, invocation, makeSpecialistContext } from '../helpers/specialist-context.ts';
import type { TestContext } from '../helpers/specialist-context.ts';

/** 120 × 80: left half red, right half blue, one green pixel at (5, 5), a grey band at the bottom. */
async function testImage(): Promise<Buffer> {
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80">' +
    '<rect width="60" height="80" fill="#c83c3c"/><rect x="60" width="60" height="80" fill="#3c3cc8"/>' +
    '<rect y="60" width="120" height="20" fill="#808080"/><rect x="5" y="5" width="1" height="1" fill="#00ff00"/></svg>';
  return sharp(Buffer.from(svg)).png().toBuffer();
}

async function pixels(png: Buffer) {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => [...data.subarray((y * info.width + x) * 4, (y * info.width + x) * 4 + 4)] as [number, number, number, number];
  let sum = 0;
  for (let i = 0; i < data.length; i += 4) sum += data[i]! + data[i + 1]! + data[i + 2]!;
  return { info, data, at, mean: sum / ((data.length / 4) * 3) };
}

describe('adjust and transform (sharp)', () => {
  let context: TestContext;
  let png: Buffer;
  beforeAll(async () => {
    context = await makeSpecialistContext();
    png = await testImage();
  });
  afterAll(async () => {
    await context.models.dispose();
    await context.cleanup();
  });

  const run = async (task: 'adjust' | 'transform', args: Record<string, unknown>) => {
    const specialist = task === 'adjust' ? adjustSpecialist : transformSpecialist;
    return specialist.run(invocation(task, await imageMedia(context, png), args), context);
  };
  const result = (r: { media: { role: string; bytes: Buffer }[] }) => r.media.find((m) => m.role === 'result')!.bytes;

  it('brightness raises the mean and comes with a before/after comparison', async () => {
    const before = await pixels(png);
    const r = await run('adjust', { brightness: 1.4 });
    expect((await pixels(result(r))).mean).toBeGreaterThan(before.mean + 10);
    const comparison = await sharp(r.media.find((m) => m.role === 'comparison')!.bytes).metadata();
    expect(comparison.width).toBeGreaterThan(2 * 120 * (comparison.height! / 80) - 1);
    expect(r.text).toMatch(/brightness ×1\.4/);
  });

  it('contrast spreads values away from mid-grey', async () => {
    const out = await pixels(result(await run('adjust', { contrast: '2' })));
    const [r, , b] = out.at(10, 30);
    expect(r).toBeGreaterThan(0xc8);
    expect(b).toBeLessThan(0x3c);
  });

  it('grayscale makes the channels equal; sepia warms; invert flips', async () => {
    const gray = await pixels(result(await run('adjust', { grayscale: true })));
    for (const [x, y] of [
      [10, 10],
      [100, 10],
      [5, 5],
      [60, 70],
    ] as const) {
      const [r, g, b] = gray.at(x, y);
      expect(r).toBe(g);
      expect(g).toBe(b);
    }
    const [sr, sg, sb] = (await pixels(result(await run('adjust', { sepia: 'true' })))).at(100, 70);
    expect(sr).toBeGreaterThan(sg);
    expect(sg).toBeGreaterThan(sb);
    const inv = await pixels(result(await run('adjust', { invert: true })));
    expect(inv.at(10, 30).slice(0, 3)).toEqual([0xff - 0xc8, 0xff - 0x3c, 0xff - 0x3c]);
    expect(inv.at(10, 30)[3]).toBe(255);
  });

  it('saturation 0 removes colour and hue rotates it', async () => {
    const [r, g, b] = (await pixels(result(await run('adjust', { saturation: 0 })))).at(10, 30);
    expect(Math.max(r, g, b) - Math.min(r, g, b)).toBeLessThan(8);
    const [hr, hg] = (await pixels(result(await run('adjust', { hue: 120 })))).at(10, 30);
    expect(hg).toBeGreaterThan(hr);
  });

  it('rejects bad adjustment arguments with the argument named', async () => {
    await expect(run('adjust', {})).rejects.toThrow(/at least one of brightness/);
    await expect(run('adjust', { brightness: 'lots' })).rejects.toThrow(/brightness/);
    await expect(run('adjust', { brightness: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(run('adjust', { glow: 2 })).rejects.toThrow(/does not take glow/);
  });

  it('rotate 90 swaps the dimensions and moves the corner pixel', async () => {
    const out = await pixels(result(await run('transform', { rotate: 90 })));
    expect([out.info.width, out.info.height]).toEqual([80, 120]);
    // (5, 5) in a 120 × 80 image → (80 − 1 − 5, 5) after a quarter turn clockwise.
    expect(out.at(74, 5).slice(0, 3)).toEqual([0, 255, 0]);
  });

  it('a free rotation grows the canvas with transparent corners', async () => {
    const out = await pixels(result(await run('transform', { rotate: 30 })));
    expect(out.info.width).toBeGreaterThan(120);
    expect(out.at(0, 0)[3]).toBe(0);
  });

  it('crop to 1:1 gives a centred square; an explicit box is exact', async () => {
    const square = await pixels(result(await run('transform', { crop: { aspect: '1:1' } })));
    expect([square.info.width, square.info.height]).toEqual([80, 80]);
    expect(square.at(0, 0).slice(0, 3)).toEqual([0xc8, 0x3c, 0x3c]);
    expect(square.at(79, 0).slice(0, 3)).toEqual([0x3c, 0x3c, 0xc8]);
    const box = await pixels(result(await run('transform', { crop: { left: 5, top: 5, width: 10, height: 4 } })));
    expect([box.info.width, box.info.height]).toEqual([10, 4]);
    expect(box.at(0, 0).slice(0, 3)).toEqual([0, 255, 0]);
    expect(centredAspectBox(1920, 1080, 9, 16)).toEqual({ left: 656, top: 0, width: 608, height: 1080 });
    await expect(run('transform', { crop: { left: 100, top: 0, width: 50, height: 10 } })).rejects.toThrow(/outside the 120 × 80 image/);
    await expect(run('transform', { crop: 'square-ish' })).rejects.toThrow(/aspect ratio/);
  });

  it('flip horizontal mirrors a known pixel; vertical flips rows', async () => {
    const h = await pixels(result(await run('transform', { flip: 'horizontal' })));
    expect(h.at(114, 5).slice(0, 3)).toEqual([0, 255, 0]);
    const v = await pixels(result(await run('transform', { flip: 'vertical' })));
    expect(v.at(5, 74).slice(0, 3)).toEqual([0, 255, 0]);
  });

  it('resize keeps the aspect ratio and refuses to exceed the pixel limit', async () => {
    const half = await pixels(result(await run('transform', { resize: { scale: 0.5 } })));
    expect([half.info.width, half.info.height]).toEqual([60, 40]);
    const wide = await pixels(result(await run('transform', { resize: { width: 240 } })));
    expect([wide.info.width, wide.info.height]).toEqual([240, 160]);
    const small = await makeSpecialistContext({ env: { MAX_IMAGE_PIXELS: '20000' } });
    try {
      const media = await imageMedia(small, png);
      await expect(transformSpecialist.run(invocation('transform', media, { resize: { scale: 4 } }), small)).rejects.toBeInstanceOf(MediaLimitError);
    } finally {
      await small.cleanup();
    }
    await expect(run('transform', { resize: { scale: 2, width: 10 } })).rejects.toThrow(/resize/);
  });
});
