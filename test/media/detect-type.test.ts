import { promises as fs } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnsupportedMediaError } from '../../src/errors.ts';
import { detectMediaType, requireMediaType } from '../../src/media/detect-type.ts';
import { PDF_BYTES, SVG_BYTES, animatedImage, makeClip, makeTempDir, randomBytes, solidImage } from '../helpers/media-fixtures.ts';

describe('detectMediaType', () => {
  it.each([
    ['png', 'image/png', 'png'],
    ['jpeg', 'image/jpeg', 'jpg'],
    ['webp', 'image/webp', 'webp'],
    ['gif', 'image/gif', 'gif'],
    ['tiff', 'image/tiff', 'tiff'],
    ['avif', 'image/avif', 'avif'],
  ] as const)('recognises a %s image by its bytes', async (format, mime, ext) => {
    expect(await detectMediaType(await solidImage(24, 16, '#abcdef', format))).toEqual({ kind: 'image', mime, ext });
  });

  it('treats an animated GIF as a video, and an animated WebP as an image', async () => {
    expect(await detectMediaType(await animatedImage('gif'))).toEqual({ kind: 'video', mime: 'image/gif', ext: 'gif' });
    expect(await detectMediaType(await animatedImage('webp'))).toEqual({ kind: 'image', mime: 'image/webp', ext: 'webp' });
  });

  describe('videos', () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    beforeEach(async () => ({ dir, cleanup } = await makeTempDir()));
    afterEach(() => cleanup());

    it.each([
      ['mp4', 'video/mp4'],
      ['mov', 'video/quicktime'],
      ['webm', 'video/webm'],
      ['mkv', 'video/x-matroska'],
      ['avi', 'video/x-msvideo'],
      ['ts', 'video/mp2t'],
    ] as const)('recognises %s', async (ext, mime) => {
      const file = await makeClip(dir, 'clip', { ext, seconds: 0.5 });
      expect(await detectMediaType(await fs.readFile(file))).toMatchObject({ kind: 'video', mime });
    });
  });

  it('decides by content, never by name: a PNG renamed .mp4 is still a PNG', async () => {
    // The API takes bytes only, so a name cannot sway it; this pins that a PNG inside any wrapper name stays a PNG.
    const png = await solidImage(8, 8);
    expect((await detectMediaType(png))?.mime).toBe('image/png');
    expect(await detectMediaType(Buffer.from('just text, named photo.jpg'))).toBeUndefined();
  });

  it.each([
    ['a PDF', PDF_BYTES, /PDF document/],
    ['an SVG', SVG_BYTES, /SVG drawing/],
    ['a ZIP archive', Buffer.from('PK\x03\x04 rest of zip', 'latin1'), /ZIP archive/],
    ['plain text', Buffer.from('hello, this is not a picture\n'), /plain text/],
    ['random bytes', randomBytes(4096), /unrecognised binary data/],
    ['an HTML page', Buffer.from('<!DOCTYPE html><html><body>hi</body></html>'), /HTML page/],
    ['a WAV file', Buffer.concat([Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1'), Buffer.alloc(32)]), /audio file \(WAV\)/],
  ])('refuses %s, saying what it looks like and what is accepted', async (_label, bytes, looksLike) => {
    expect(await detectMediaType(bytes)).toBeUndefined();
    const error = await requireMediaType(bytes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedMediaError);
    expect((error as Error).message).toMatch(looksLike);
    expect((error as Error).message).toMatch(/PNG, JPEG, WebP, GIF, AVIF or TIFF image, or an MP4/);
  });

  it('refuses an SVG even when it starts with whitespace and a byte-order mark', async () => {
    const svg = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('\n  <svg xmlns="http://www.w3.org/2000/svg"/>')]);
    await expect(requireMediaType(svg)).rejects.toThrow(/SVG/);
  });
});
