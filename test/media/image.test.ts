import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { CorruptMediaError, InvalidArgumentError, MediaLimitError } from '../../src/errors.ts';
import { composeSideBySide, fromRgba, openImage, overlayMask, overlayPreview, parseColor, toPng, toRgba } from '../../src/media/image.ts';
import { decompressionBombPng, noiseImage, rotatedJpeg, solidImage } from '../helpers/media-fixtures.ts';

const LIMITS = { maxImagePixels: 40_000_000 };

function pixel(image: { data: Buffer; width: number }, x: number, y: number): number[] {
  const o = (y * image.width + x) * 4;
  return [...image.data.subarray(o, o + 4)];
}

describe('image helpers', () => {
  it('opens images upright, as the EXIF orientation says', async () => {
    const { info } = await openImage(await rotatedJpeg(40, 20), LIMITS)
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([20, 40]);
  });

  it('decodes to RGBA and encodes back to PNG', async () => {
    const rgba = await toRgba(await solidImage(10, 6, '#ff8000', 'jpeg'), LIMITS);
    expect([rgba.width, rgba.height, rgba.data.length]).toEqual([10, 6, 10 * 6 * 4]);
    expect(pixel(rgba, 5, 3)[3]).toBe(255);
    const png = await fromRgba(rgba);
    expect((await sharp(png).metadata()).format).toBe('png');
    expect((await sharp(await toPng(await solidImage(4, 4, '#000', 'webp'), LIMITS)).metadata()).format).toBe('png');
  });

  it('turns a bomb into MediaLimitError and truncated data into CorruptMediaError', async () => {
    await expect(toPng(decompressionBombPng(20000, 20000), LIMITS)).rejects.toBeInstanceOf(MediaLimitError);
    const png = await noiseImage(100, 100);
    await expect(toRgba(png.subarray(0, png.length / 2), LIMITS)).rejects.toBeInstanceOf(CorruptMediaError);
  });

  it('parses hex, CSS names and functions, and triples, and refuses nonsense naming the argument', async () => {
    expect(await parseColor('#f80')).toEqual({ r: 255, g: 136, b: 0 });
    expect(await parseColor('00ff7f')).toEqual({ r: 0, g: 255, b: 127 });
    expect(await parseColor([1, 2, 3])).toEqual({ r: 1, g: 2, b: 3 });
    expect(await parseColor(' RebeccaPurple ')).toEqual({ r: 102, g: 51, b: 153 });
    expect(await parseColor('rgb(10, 20, 30)')).toEqual({ r: 10, g: 20, b: 30 });
    await expect(parseColor('red; drop table')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(parseColor([1, 2, 300])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(parseColor('', 'background')).rejects.toMatchObject({ message: expect.stringMatching(/for background but received ""/) });
  });

  it('composes a before/after comparison at one height, with labels', async () => {
    const before = await solidImage(100, 50, '#ff0000');
    const after = await solidImage(200, 100, '#0000ff');
    const out = await toRgba(await composeSideBySide(before, after, { labels: ['before', 'after <2×>'] }), LIMITS);
    expect(out.height).toBe(100);
    const gap = 4;
    expect(out.width).toBe(200 + gap + 200);
    expect(pixel(out, 100, 90)).toEqual([255, 0, 0, 255]);
    expect(pixel(out, 300, 90)).toEqual([0, 0, 255, 255]);
    // The label sits on the top-left corner of each side: darker than the plain colour there.
    const corner = pixel(out, 8, 8);
    expect(corner[0]! < 255 || corner[1]! > 0).toBe(true);
  });

  it('tints the masked area, outlines it, and leaves the rest alone', async () => {
    const image = await solidImage(64, 64, '#808080');
    const mask = { width: 64, height: 64, data: new Uint8Array(64 * 64) };
    for (let y = 16; y < 48; y += 1) for (let x = 16; x < 48; x += 1) mask.data[y * 64 + x] = 255;
    const out = await toRgba(await overlayMask(image, mask, '#00ff00'), LIMITS);
    expect(pixel(out, 2, 2)).toEqual([128, 128, 128, 255]);
    expect(pixel(out, 16, 32)).toEqual([0, 255, 0, 255]);
    const inside = pixel(out, 32, 32);
    expect(inside[1]! > 128 && inside[0]! < 128).toBe(true);
  });

  it('takes pixels already decoded, and keeps transparency when the image has some', async () => {
    const rgba = await toRgba(await solidImage(32, 32, '#808080'), LIMITS);
    rgba.data[3] = 0;
    const mask = { width: 32, height: 32, data: new Uint8Array(32 * 32) };
    for (let y = 8; y < 24; y += 1) for (let x = 8; x < 24; x += 1) mask.data[y * 32 + x] = 255;
    const out = await toRgba(await overlayMask(rgba, mask, 'blue'), LIMITS);
    expect(pixel(out, 0, 0)[3]).toBe(0);
    expect(pixel(out, 8, 16)).toEqual([0, 0, 255, 255]);
    expect(pixel(out, 16, 16)[2]).toBeGreaterThan(128);
  });

  it('previews an opaque overlay as JPEG and a transparent one as PNG', async () => {
    const mask = { width: 32, height: 32, data: new Uint8Array(32 * 32).fill(255) };
    const opaque = await toRgba(await solidImage(32, 32, '#808080'), LIMITS);
    const jpeg = await overlayPreview(opaque, mask);
    expect(jpeg.mime).toBe('image/jpeg');
    expect((await sharp(jpeg.bytes).metadata()).format).toBe('jpeg');
    opaque.data[3] = 10;
    const png = await overlayPreview(opaque, mask);
    expect(png.mime).toBe('image/png');
    expect((await sharp(png.bytes).metadata()).format).toBe('png');
  });

  it('accepts an encoded mask of another size and stretches it over the image', async () => {
    const image = await solidImage(80, 40, '#808080');
    const maskPng = await sharp({ create: { width: 8, height: 4, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const out = await toRgba(await overlayMask(image, maskPng, [255, 0, 0], { opacity: 0.5 }), LIMITS);
    expect([out.width, out.height]).toEqual([80, 40]);
    const center = pixel(out, 40, 20);
    expect(center[0]).toBeGreaterThan(center[1]!);
  });
});
