/**
 * Test media made on the fly: images with sharp, clips with ffmpeg's lavfi sources, and hand-built bad
 * input (a decompression bomb, truncated and damaged files). Nothing here is downloaded or checked in.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import sharp from 'sharp';
import type { FfmpegTools } from '../../src/media/ffmpeg.ts';

const exec = promisify(execFile);

/**
 * The real photos described in ../shared/testdata/README.md (from the project root); VITRON_TESTDATA_DIR
 * points elsewhere. Tests needing them gate on `requires('testdata')` (prerequisites.ts): CI fails without them.
 */
export const TESTDATA_DIR = process.env.VITRON_TESTDATA_DIR
  ? path.resolve(process.env.VITRON_TESTDATA_DIR)
  : path.resolve(import.meta.dirname, '../../../shared/testdata');
export const TESTDATA_FILES = ['astronaut.png', 'chelsea.png', 'horse.png', 'truncated.jpg'] as const;

export function testdata(name: string): string {
  return path.join(TESTDATA_DIR, name);
}

/** A fresh directory per test; call the returned cleanup in afterEach. */
export async function makeTempDir(prefix = 'vitron-media-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

export const SYSTEM_FFMPEG: FfmpegTools = { ffmpeg: '/usr/bin/ffmpeg', ffprobe: '/usr/bin/ffprobe' };

export async function solidImage(
  width: number,
  height: number,
  color = '#3366cc',
  format: 'png' | 'jpeg' | 'webp' | 'gif' | 'tiff' | 'avif' = 'png',
): Promise<Buffer> {
  const image = sharp({ create: { width, height, channels: 3, background: color } });
  return (format === 'jpeg' ? image.jpeg() : format === 'png' ? image.png() : image.toFormat(format)).toBuffer();
}

/** Noise compresses badly, so a cut-off file really is missing pixel data (not just trailing zeros). */
export async function noiseImage(width: number, height: number, format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
  const image = sharp({ create: { width, height, channels: 3, background: '#000000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } });
  return (format === 'jpeg' ? image.jpeg() : image.png()).toBuffer();
}

/** A JPEG stored landscape with an EXIF tag saying "rotate 90° to display" (as phones write them). */
export async function rotatedJpeg(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#888888' } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

export async function animatedImage(format: 'gif' | 'webp', colors: readonly string[] = ['#ff0000', '#00ff00', '#0000ff']): Promise<Buffer> {
  const frames = await Promise.all(colors.map((c) => solidImage(48, 32, c)));
  return sharp(frames, { join: { animated: true } })
    .toFormat(format, { loop: 0, delay: 100 })
    .toBuffer();
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

/**
 * A valid one-colour 1-bit PNG of width × height (30000² = 900 megapixels) that is about 110 KB on disk:
 * decoding it would need gigabytes. Built by hand because encoding it with sharp would decode it first.
 */
export function decompressionBombPng(width = 30000, height = 30000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const rowBytes = 1 + Math.ceil(width / 8); // filter byte + packed pixels, all zero
  const idat = zlib.deflateSync(Buffer.alloc(rowBytes * height), { level: 9 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Deterministic noise (a seeded LCG), starting with a byte no signature starts with. */
export function randomBytes(length: number, seed = 42): Buffer {
  const out = Buffer.alloc(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i += 1) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state >>> 24;
  }
  out[0] = 0xc3;
  return out;
}

export const PDF_BYTES = Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n', 'latin1');

export const SVG_BYTES = Buffer.from(
  '<?xml version="1.0" encoding="UTF-8"?>\n<!-- a drawing -->\n<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">' +
    '<script>alert(1)</script><rect width="100" height="100" fill="red"/></svg>\n',
);

export interface ClipOptions {
  width?: number;
  height?: number;
  fps?: number;
  seconds?: number;
  audio?: boolean;
  /** Container by extension: mp4 (H.264 + AAC, +faststart), webm (VP9 + Opus), gif, mkv, avi, ts. */
  ext?: 'mp4' | 'webm' | 'gif' | 'mkv' | 'avi' | 'ts' | 'mov';
  /** Write the index at the end (ffmpeg's default): cutting the file then loses the index. */
  faststart?: boolean;
  /** Write to a pipe, as a browser's MediaRecorder does: a WebM then has no duration in its header. */
  streamed?: boolean;
}

/** A `testsrc` clip (moving pattern with a frame counter), with a 440 Hz tone when audio is asked for. */
export async function makeClip(dir: string, name: string, options: ClipOptions = {}): Promise<string> {
  const { width = 160, height = 120, fps = 10, seconds = 2, audio = false, ext = 'mp4', faststart = true, streamed = false } = options;
  const file = path.join(dir, `${name}.${ext}`);
  const args = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${width}x${height}:rate=${fps}:duration=${seconds}`];
  if (audio) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${seconds}`);
  if (ext === 'mp4' || ext === 'mov' || ext === 'mkv' || ext === 'ts') {
    args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', String(fps));
    if (audio) args.push('-c:a', 'aac');
    if (faststart && ext !== 'mkv' && ext !== 'ts') args.push('-movflags', '+faststart');
  } else if (ext === 'webm') {
    args.push('-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k');
    if (audio) args.push('-c:a', 'libopus');
  } else if (ext === 'avi') {
    args.push('-c:v', 'mpeg4');
    if (audio) args.push('-c:a', 'mp3');
  }
  if (streamed) {
    const { stdout } = await exec(SYSTEM_FFMPEG.ffmpeg, [...args, '-f', ext === 'mkv' ? 'matroska' : ext, 'pipe:1'], {
      encoding: 'buffer',
      maxBuffer: 256 * 1024 * 1024,
    });
    await fs.writeFile(file, stdout);
    return file;
  }
  args.push(file);
  await exec(SYSTEM_FFMPEG.ffmpeg, args);
  return file;
}

/** The file cut to `fraction` of its length (an interrupted upload). */
export async function truncatedCopy(source: string, target: string, fraction = 0.5): Promise<string> {
  const data = await fs.readFile(source);
  await fs.writeFile(target, data.subarray(0, Math.floor(data.length * fraction)));
  return target;
}

/** The file with `length` bytes of noise written over its middle (a damaged disk or transfer). */
export async function damagedCopy(source: string, target: string, length = 4000): Promise<string> {
  const data = Buffer.from(await fs.readFile(source));
  const start = Math.floor(data.length / 3);
  randomBytes(Math.min(length, data.length - start), 7).copy(data, start);
  await fs.writeFile(target, data);
  return target;
}

/** Mean absolute difference per channel byte of two equally sized RGBA frames (0 = identical). */
export function frameDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`frames differ in size: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}
