import { promises as fs } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptMediaError, EmptyMediaError, MediaLimitError, MediaTooLargeError, UnsupportedMediaError } from '../../src/errors.ts';
import { inspectMedia } from '../../src/media/inspect.ts';
import type { InspectDeps } from '../../src/media/inspect.ts';
import type { MediaLimits } from '../../src/media/limits.ts';
import {
  PDF_BYTES,
  SVG_BYTES,
  SYSTEM_FFMPEG,
  animatedImage,
  decompressionBombPng,
  makeTempDir,
  noiseImage,
  randomBytes,
  rotatedJpeg,
  solidImage,
  testdata,
} from '../helpers/media-fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

const LIMITS: MediaLimits = {
  maxBytes: 50 * 1024 * 1024,
  maxImagePixels: 40_000_000,
  maxVideoSeconds: 120,
  maxVideoWidth: 3840,
  maxVideoHeight: 2160,
  maxVideoFrames: 7200,
};

describe('inspectMedia on images', () => {
  let deps: InspectDeps;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    const tmp = await makeTempDir();
    cleanup = tmp.cleanup;
    deps = { limits: LIMITS, ffmpeg: SYSTEM_FFMPEG, tmpDir: tmp.dir };
  });
  afterEach(() => cleanup());

  it('describes a good PNG', async () => {
    const png = await solidImage(64, 48);
    expect(await inspectMedia(png, deps)).toEqual({ kind: 'image', mime: 'image/png', bytes: png.length, width: 64, height: 48 });
  });

  it('reports the size a viewer shows for an EXIF-rotated phone photo', async () => {
    const info = await inspectMedia(await rotatedJpeg(40, 20), deps);
    expect({ width: info.width, height: info.height, mime: info.mime }).toEqual({ width: 20, height: 40, mime: 'image/jpeg' });
  });

  it('accepts an animated WebP as an image', async () => {
    expect(await inspectMedia(await animatedImage('webp'), deps)).toMatchObject({ kind: 'image', width: 48, height: 32 });
  });

  it('refuses an empty file', async () => {
    await expect(inspectMedia(new Uint8Array(), deps)).rejects.toBeInstanceOf(EmptyMediaError);
  });

  it('refuses a file over the byte limit before looking at its content, naming both sizes', async () => {
    const limits = { ...LIMITS, maxBytes: 1024 };
    const error = await inspectMedia(randomBytes(2048), { ...deps, limits }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaTooLargeError);
    expect((error as Error).message).toBe('The file is too large: 2.0 KiB, the limit is 1.0 KiB.');
  });

  it('refuses a decompression bomb from its header, naming the pixels and the limit', async () => {
    const bomb = decompressionBombPng();
    expect(bomb.length).toBeLessThan(200_000);
    const error = await inspectMedia(bomb, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaLimitError);
    expect((error as Error).message).toBe('The image is over the limit: 30000 × 30000 pixels (900.0 megapixels), the limit is 40.0 megapixels.');
  });

  it('refuses an image just over a small pixel limit', async () => {
    const error = await inspectMedia(await solidImage(65, 64), { ...deps, limits: { ...LIMITS, maxImagePixels: 64 * 64 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaLimitError);
    expect((error as Error).message).toMatch(/65 × 64 pixels \(4,160 pixels\), the limit is 4,096 pixels/);
  });

  it('refuses a PNG cut in half as corrupt', async () => {
    const png = await noiseImage(200, 200);
    const error = await inspectMedia(png.subarray(0, png.length / 2), deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptMediaError);
    expect((error as Error).message).toMatch(/damaged or incomplete/);
  });

  it('refuses a JPEG whose header is intact but whose data stops early', async () => {
    const jpeg = await noiseImage(400, 300, 'jpeg');
    await expect(inspectMedia(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), deps)).rejects.toBeInstanceOf(CorruptMediaError);
  });

  photos.it('refuses the real truncated JPEG from shared testdata', async () => {
    const bytes = await fs.readFile(testdata('truncated.jpg'));
    await expect(inspectMedia(bytes, deps)).rejects.toBeInstanceOf(CorruptMediaError);
  });

  photos.it('accepts the real photos from shared testdata', async () => {
    const info = await inspectMedia(await fs.readFile(testdata('chelsea.png')), deps);
    expect(info).toMatchObject({ kind: 'image', width: 451, height: 300 });
  });

  it.each([
    ['a PDF', PDF_BYTES],
    ['an SVG', SVG_BYTES],
    ['random bytes', randomBytes(1000)],
  ])('refuses %s as unsupported', async (_label, bytes) => {
    await expect(inspectMedia(bytes, deps)).rejects.toBeInstanceOf(UnsupportedMediaError);
  });
});
