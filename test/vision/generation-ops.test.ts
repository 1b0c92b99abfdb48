import fs from 'node:fs/promises';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import { sizeForAspect, workingSize } from '../../src/vision/engines/generation.ts';
import { gridOf } from '../../src/vision/ops/grid.ts';
import { keepLuminance } from '../../src/vision/ops/luminance.ts';
import { padding } from '../../src/vision/tasks/generate/outpaint.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { psnr } from '../fixtures/sd-turbo-fixture.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

const limits = { maxImagePixels: 50_000_000 };

describe('colourising keeps the photo and takes only the colour', () => {
  photos.it('a grey photo with the true colours as the "generated" ones comes back as the colour photo (PSNR printed, ≥ 35 dB)', async () => {
    const photo = await sharp(await fs.readFile(testdata('chelsea.png')))
      .removeAlpha()
      .png()
      .toBuffer();
    const grey = await sharp(photo).greyscale().png().toBuffer();
    // The generator's picture is smaller than the photo, as every engine's is: only its colour may count.
    const meta = await sharp(photo).metadata();
    const colours = await sharp(photo)
      .resize(Math.round(meta.width! / 2), Math.round(meta.height! / 2))
      .png()
      .toBuffer();
    const result = await keepLuminance(grey, colours, limits);
    const a = await sharp(result).raw().toBuffer();
    const b = await sharp(photo).raw().toBuffer();
    const db = psnr(a, b);
    console.log(`colorize recombination vs the true colour photo: ${db.toFixed(1)} dB`);
    expect(db).toBeGreaterThan(35);
    // Against doing nothing (the grey photo), so the number means something.
    const greyRgb = await sharp(grey).toColourspace('srgb').removeAlpha().raw().toBuffer();
    expect(psnr(greyRgb.subarray(0, b.length), b)).toBeLessThan(db - 5);
  });

  it('keeps every luminance value of the original, whatever colours it is given', async () => {
    const grey = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#777777' } })
      .png()
      .toBuffer();
    const red = await sharp({ create: { width: 20, height: 15, channels: 3, background: '#cc2222' } })
      .png()
      .toBuffer();
    const { data } = await sharp(await keepLuminance(grey, red, limits))
      .raw()
      .toBuffer({ resolveWithObject: true });
    const y = 0.299 * data[0]! + 0.587 * data[1]! + 0.114 * data[2]!;
    expect(Math.abs(y - 0x77)).toBeLessThan(1.5);
    expect(data[0]!).toBeGreaterThan(data[1]! + 40);
  });
});

describe('sizes and canvases', () => {
  it('sizes an aspect ratio at about 512² in multiples of 64, and refuses extreme ones', () => {
    expect(sizeForAspect(undefined)).toEqual({ width: 512, height: 512 });
    expect(sizeForAspect('16:9')).toEqual({ width: 704, height: 384 });
    expect(sizeForAspect('9:16')).toEqual({ width: 384, height: 704 });
    expect(() => sizeForAspect('10:1')).toThrow(InvalidArgumentError);
  });

  it('scales a big picture down to the engine working size, keeping its shape in multiples of 8', () => {
    expect(workingSize(4000, 3000)).toEqual({ width: 768, height: 576 });
    expect(workingSize(300, 200)).toEqual({ width: 304, height: 200 });
  });

  it('pads the side asked for, or every side for "zoom out"', () => {
    expect(padding(200, 100, 'left', 0.5)).toEqual({ left: 100, right: 0, top: 0, bottom: 0 });
    expect(padding(200, 100, 'up', 1)).toEqual({ left: 0, right: 0, top: 100, bottom: 0 });
    expect(padding(200, 100, 'all', 0.5)).toEqual({ left: 50, right: 50, top: 25, bottom: 25 });
  });

  it('lays 4 pictures out two by two and 2 side by side, each in its own tile', async () => {
    const tile = (colour: string) =>
      sharp({ create: { width: 64, height: 48, channels: 3, background: colour } })
        .png()
        .toBuffer();
    const four = await gridOf(await Promise.all(['#ff0000', '#00ff00', '#0000ff', '#ffff00'].map(tile)));
    expect(await sharp(four).metadata()).toMatchObject({ width: 64 * 2 + 8, height: 48 * 2 + 8 });
    const { data, info } = await sharp(four).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
    // Bottom-right of each tile (away from its number): picture 4 is the yellow one, bottom right.
    expect(at(60, 44)).toEqual([255, 0, 0]);
    expect(at(64 + 8 + 60, 48 + 8 + 44)).toEqual([255, 255, 0]);
    const two = await gridOf(await Promise.all(['#ff0000', '#00ff00'].map(tile)));
    expect(await sharp(two).metadata()).toMatchObject({ width: 64 * 2 + 8, height: 48 });
  });
});
