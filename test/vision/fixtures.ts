/**
 * Synthetic images and clips with a known truth: shaded discs on plain backgrounds (their true mask is the
 * disc), rendered text, and a short clip of a moving disc. Generated per run, nothing checked in.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { maskBounds } from '../../src/vision/ops/raw-image.ts';
import type { Mask } from '../../src/vision/ops/raw-image.ts';

const exec = promisify(execFile);

export interface Disc {
  cx: number;
  cy: number;
  r: number;
}

export function discSvg(width: number, height: number, disc: Disc, background = '#e8e8e0'): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    '<defs><radialGradient id="g" cx="0.4" cy="0.35" r="0.7"><stop offset="0" stop-color="#ff6060"/><stop offset="1" stop-color="#a00000"/></radialGradient></defs>' +
    `<rect width="100%" height="100%" fill="${background}"/><circle cx="${disc.cx}" cy="${disc.cy}" r="${disc.r}" fill="url(#g)"/></svg>`
  );
}

/** A red, shaded disc on a plain light background, as PNG. */
export function discImage(width: number, height: number, disc: Disc): Promise<Buffer> {
  return sharp(Buffer.from(discSvg(width, height, disc)))
    .png()
    .toBuffer();
}

export function insideDisc(x: number, y: number, d: Disc): boolean {
  return (x + 0.5 - d.cx) ** 2 + (y + 0.5 - d.cy) ** 2 <= d.r * d.r;
}

/** Intersection over union of a mask (≥ 128 = inside) with a predicate truth. */
export function iou(mask: Uint8Array, width: number, height: number, truth: (x: number, y: number) => boolean): number {
  let inter = 0;
  let union = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = truth(x, y);
      const p = mask[y * width + x]! >= 128;
      if (t && p) inter++;
      if (t || p) union++;
    }
  }
  return union === 0 ? 0 : inter / union;
}

export function textImage(lines: readonly string[], width = 640, lineHeight = 100, fontSize = 56): Promise<Buffer> {
  const height = lineHeight * lines.length + 60;
  const body = lines
    .map((line, i) => `<text x="40" y="${90 + i * lineHeight}" font-family="DejaVu Sans, sans-serif" font-size="${fontSize}" fill="#111">${line}</text>`)
    .join('');
  return sharp(
    Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="white"/>${body}</svg>`),
  )
    .png()
    .toBuffer();
}

/** The disc's position in frame i of the moving-disc clip. */
export function movingDiscAt(i: number, width: number, height: number): Disc {
  return { cx: Math.round(width * 0.3 + i * (width * 0.1)), cy: Math.round(height / 2), r: Math.round(height * 0.25) };
}

/** A short MP4 of a disc moving left to right (frames drawn with sharp, encoded near-lossless). */
export async function movingDiscClip(dir: string, frames: number, width: number, height: number, fps = 5): Promise<string> {
  const frameDir = await fs.mkdtemp(path.join(dir, 'frames-'));
  for (let i = 0; i < frames; i++) {
    await sharp(Buffer.from(discSvg(width, height, movingDiscAt(i, width, height))))
      .png()
      .toFile(path.join(frameDir, `f${String(i).padStart(3, '0')}.png`));
  }
  const file = path.join(dir, 'moving-disc.mp4');
  await exec('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-framerate',
    String(fps),
    '-i',
    path.join(frameDir, 'f%03d.png'),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-crf',
    '10',
    '-pix_fmt',
    'yuv420p',
    file,
  ]);
  await fs.rm(frameDir, { recursive: true, force: true });
  return file;
}

/** Decoded RGBA frames of a video, with ffmpeg (independent of the code under test). */
export async function decodeFrames(file: string, width: number, height: number): Promise<Buffer[]> {
  const { stdout } = await exec(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgba', '-s', `${width}x${height}`, 'pipe:1'],
    {
      encoding: 'buffer',
      maxBuffer: 512 * 1024 * 1024,
    },
  );
  const size = width * height * 4;
  const frames: Buffer[] = [];
  for (let o = 0; o + size <= stdout.length; o += size) frames.push(stdout.subarray(o, o + size));
  return frames;
}

/** The mask's pixels ≥ 128 as inclusive [x0, y0, x1, y1] (the product's maskBounds, read as tests state boxes). */
export function inclusiveBounds(mask: Mask): [number, number, number, number] {
  const b = maskBounds(mask);
  if (b === undefined) throw new Error('the mask is empty');
  return [b.left, b.top, b.right - 1, b.bottom - 1];
}
