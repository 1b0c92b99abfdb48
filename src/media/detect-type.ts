import sharp from 'sharp';
import type { MediaKind } from '../core/types.ts';
import { UnsupportedMediaError } from '../errors.ts';

/**
 * What a file is, decided from its bytes only: names and declared MIME types come from the user and lie.
 *
 * Decisions:
 * - An animated GIF (more than one frame) is a **video**: users say "reverse it" or "slow it down" about
 *   one, and ffmpeg decodes GIF. Its mime stays image/gif.
 * - An animated WebP stays an **image** (its first frame): the ffmpeg here (5.1) cannot decode animated
 *   WebP (support arrived in 7.1), so treating it as a video would fail at the first operation.
 * - APNG and AVIF image sequences are images too (sharp reads their first frame).
 * - HEIC is accepted only when this sharp build can decode it (the prebuilt one cannot: no HEVC).
 * - SVG is refused: it is a document that can carry scripts and external references, not pixels.
 */
export interface DetectedMedia {
  kind: MediaKind;
  mime: string;
  ext: string;
}

/** What the bytes look like, accepted or not; `accepted` is undefined for formats we refuse. */
export interface Sniffed {
  label: string;
  accepted?: DetectedMedia;
}

export const ACCEPTED_FORMATS = 'a PNG, JPEG, WebP, GIF, AVIF or TIFF image, or an MP4, MOV, WebM, MKV, AVI or MPEG-TS video';

const image = (label: string, mime: string, ext: string): Sniffed => ({ label, accepted: { kind: 'image', mime, ext } });
const video = (label: string, mime: string, ext: string): Sniffed => ({ label, accepted: { kind: 'video', mime, ext } });
const refused = (label: string): Sniffed => ({ label });

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((b, i) => bytes[offset + i] === b);
}

const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);
const AUDIO_BRANDS = new Set(['M4A ', 'M4B ', 'M4P ', 'F4A ', 'F4B ']);

function heicDecodable(): boolean {
  const suffixes = (sharp.format.heif?.input as { fileSuffix?: string[] } | undefined)?.fileSuffix ?? [];
  return suffixes.includes('.heic');
}

/** ISO base media (MP4, MOV, 3GP, AVIF, HEIC): the `ftyp` box names a major brand and compatible brands. */
function sniffIsoBmff(bytes: Uint8Array): Sniffed | undefined {
  if (ascii(bytes, 4, 4) !== 'ftyp') return undefined;
  const boxSize = Math.min(bytes.length, Math.max(16, (bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!));
  const major = ascii(bytes, 8, 4);
  const brands = [major];
  for (let at = 16; at + 4 <= boxSize; at += 4) brands.push(ascii(bytes, at, 4));
  if (major === 'avif' || major === 'avis') return image('an AVIF image', 'image/avif', 'avif');
  if (HEIC_BRANDS.has(major) || ((major === 'mif1' || major === 'msf1') && brands.some((b) => HEIC_BRANDS.has(b)))) {
    return heicDecodable() ? image('a HEIC photo', 'image/heic', 'heic') : refused('a HEIC photo (the iPhone format), which this server cannot decode');
  }
  if (major === 'mif1' && brands.includes('avif')) return image('an AVIF image', 'image/avif', 'avif');
  if (AUDIO_BRANDS.has(major)) return refused('an audio file (M4A)');
  if (major === 'qt  ') return video('a QuickTime movie', 'video/quicktime', 'mov');
  if (major.startsWith('3g')) return video('a 3GP video', 'video/3gpp', '3gp');
  return video('an MP4 video', 'video/mp4', 'mp4');
}

/** EBML (Matroska/WebM): the DocType string sits in the first few dozen bytes of the header. */
function sniffEbml(bytes: Uint8Array): Sniffed | undefined {
  if (!startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3])) return undefined;
  const head = ascii(bytes, 0, 64);
  if (head.includes('webm')) return video('a WebM video', 'video/webm', 'webm');
  return video('a Matroska video', 'video/x-matroska', 'mkv');
}

function sniffRiff(bytes: Uint8Array): Sniffed | undefined {
  if (ascii(bytes, 0, 4) !== 'RIFF') return undefined;
  const form = ascii(bytes, 8, 4);
  if (form === 'WEBP') return image('a WebP image', 'image/webp', 'webp');
  if (form === 'AVI ') return video('an AVI video', 'video/x-msvideo', 'avi');
  if (form === 'WAVE') return refused('an audio file (WAV)');
  return refused(`a RIFF file of type "${form.trim()}"`);
}

/** MPEG transport streams: 188-byte packets (192 in M2TS) each starting with the sync byte 0x47. */
function sniffTransportStream(bytes: Uint8Array): Sniffed | undefined {
  for (const [first, stride] of [
    [0, 188],
    [4, 192],
  ] as const) {
    if (bytes.length >= first + stride * 2 + 1 && [0, 1, 2].every((i) => bytes[first + i * stride] === 0x47)) {
      return video('an MPEG transport stream', 'video/mp2t', 'ts');
    }
  }
  return undefined;
}

/** Text-based formats: decide on the first kilobyte, skipping a BOM, whitespace, XML prolog and comments. */
function sniffText(bytes: Uint8Array): Sniffed | undefined {
  const head = Buffer.from(bytes.subarray(0, 1024))
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  const printable = [...head].filter((c) => c >= ' ' || c === '\n' || c === '\r' || c === '\t').length;
  if (head.length === 0 || printable / head.length < 0.95) return undefined;
  const body = head.replace(/^\s*(<\?xml[^>]*\?>\s*)?(<!--[\s\S]*?-->\s*|<!DOCTYPE svg[^>]*>\s*)*/i, '').toLowerCase();
  if (body.startsWith('<svg') || /<svg[\s>]/.test(head.toLowerCase())) {
    return refused('an SVG drawing (SVG can carry scripts, so it is not accepted; export it as PNG)');
  }
  if (body.startsWith('<!doctype html') || body.startsWith('<html')) return refused('an HTML page');
  if (body.startsWith('{') || body.startsWith('[')) return refused('JSON text');
  return refused('plain text');
}

const SIGNATURES: readonly [readonly number[], Sniffed, number?][] = [
  [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], image('a PNG image', 'image/png', 'png')],
  [[0xff, 0xd8, 0xff], image('a JPEG image', 'image/jpeg', 'jpg')],
  [[0x47, 0x49, 0x46, 0x38, 0x37, 0x61], image('a GIF image', 'image/gif', 'gif')],
  [[0x47, 0x49, 0x46, 0x38, 0x39, 0x61], image('a GIF image', 'image/gif', 'gif')],
  [[0x49, 0x49, 0x2a, 0x00], image('a TIFF image', 'image/tiff', 'tiff')],
  [[0x4d, 0x4d, 0x00, 0x2a], image('a TIFF image', 'image/tiff', 'tiff')],
  [[0x00, 0x00, 0x01, 0xba], video('an MPEG program stream', 'video/mpeg', 'mpg')],
  [[0x46, 0x4c, 0x56, 0x01], video('a Flash video', 'video/x-flv', 'flv')],
  [[0x25, 0x50, 0x44, 0x46, 0x2d], refused('a PDF document')],
  [[0x50, 0x4b, 0x03, 0x04], refused('a ZIP archive (or an Office document)')],
  [[0x52, 0x61, 0x72, 0x21], refused('a RAR archive')],
  [[0x37, 0x7a, 0xbc, 0xaf], refused('a 7-Zip archive')],
  [[0x1f, 0x8b], refused('a gzip archive')],
  [[0x7f, 0x45, 0x4c, 0x46], refused('a program (ELF)')],
  [[0x4d, 0x5a], refused('a Windows program')],
  [[0x38, 0x42, 0x50, 0x53], refused('a Photoshop document')],
  [[0x00, 0x00, 0x01, 0x00], refused('an icon file (ICO)')],
  [[0xff, 0x0a], refused('a JPEG XL image, which this server cannot decode')],
  [[0x4a, 0x58, 0x4c, 0x20], refused('a JPEG XL image, which this server cannot decode'), 4],
  [[0x6a, 0x50, 0x20, 0x20], refused('a JPEG 2000 image, which this server cannot decode'), 4],
  [[0x4f, 0x67, 0x67, 0x53], refused('an Ogg file (usually audio)')],
  [[0x66, 0x4c, 0x61, 0x43], refused('an audio file (FLAC)')],
  [[0x49, 0x44, 0x33], refused('an audio file (MP3)')],
];

/** What the bytes look like, including formats we refuse; undefined when nothing matches. */
export function sniffMedia(bytes: Uint8Array): Sniffed | undefined {
  const structured = sniffIsoBmff(bytes) ?? sniffEbml(bytes) ?? sniffRiff(bytes) ?? sniffTransportStream(bytes);
  if (structured) return structured;
  for (const [signature, sniffed, offset] of SIGNATURES) {
    if (startsWith(bytes, signature, offset ?? 0)) return sniffed;
  }
  // "BM" alone is too weak (text can start with it); a BMP also names a known DIB header size at byte 14.
  if (startsWith(bytes, [0x42, 0x4d]) && [12, 40, 52, 56, 64, 108, 124].includes(bytes[14] ?? 0) && bytes[15] === 0) {
    return refused('a BMP bitmap, which this server cannot decode; send PNG');
  }
  // QuickTime files from old cameras start with a moov/mdat/wide/free atom instead of ftyp.
  if (['moov', 'mdat', 'wide', 'free', 'skip', 'pnot'].includes(ascii(bytes, 4, 4))) {
    return video('a QuickTime movie', 'video/quicktime', 'mov');
  }
  return sniffText(bytes);
}

/** Counts GIF frames from the header-level metadata; a broken GIF counts as one frame and fails later, in decoding. */
async function gifFrameCount(bytes: Uint8Array): Promise<number> {
  try {
    const meta = await sharp(bytes, { limitInputPixels: false, failOn: 'none' }).metadata();
    return meta.pages ?? 1;
  } catch {
    return 1;
  }
}

/** The accepted media type of the bytes, or undefined when they are not media we accept. Never throws. */
export async function detectMediaType(bytes: Uint8Array): Promise<DetectedMedia | undefined> {
  const accepted = sniffMedia(bytes)?.accepted;
  if (accepted?.mime === 'image/gif' && (await gifFrameCount(bytes)) > 1) return { ...accepted, kind: 'video' };
  return accepted;
}

/** Like detectMediaType, but says what the bytes look like and what is accepted when they are refused. */
export async function requireMediaType(bytes: Uint8Array): Promise<DetectedMedia> {
  const detected = await detectMediaType(bytes);
  if (detected) return detected;
  const label = sniffMedia(bytes)?.label ?? 'unrecognised binary data';
  throw new UnsupportedMediaError(`This file looks like ${label}, not an image or video I can work with. Send ${ACCEPTED_FORMATS}.`, {
    looksLike: label,
  });
}
