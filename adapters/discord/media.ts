import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { z } from 'zod';
import type { IncomingFile, MediaView } from '../../src/app/bot-api.ts';
import { InvalidArgumentError, MediaTooLargeError, UnsupportedMediaError } from '../../src/errors.ts';
import { encodeMp4, type FfmpegTools } from '../../src/media/ffmpeg.ts';
import { formatBytes } from '../../src/media/limits.ts';
import { downloadCapped } from '../shared/capped-download.ts';

export const DISCORD_CDN_HOSTS = ['cdn.discordapp.com', 'media.discordapp.net'] as const;
/** What Discord allows a bot to upload when the interaction does not say (no boosts). */
export const DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024;

/** The attachment fields the adapter relies on, checked before any download. */
const attachmentSchema = z.object({
  url: z.string().url(),
  name: z.string().max(1024).optional(),
  size: z.number().int().nonnegative(),
  contentType: z.string().max(255).nullish(),
});
export type AttachmentInfo = z.infer<typeof attachmentSchema>;

export interface IntakeOptions {
  maxBytes: number;
  /** Plain-http hosts allowed besides Discord's CDN: only the local fake of the tests. */
  insecureHosts: readonly string[];
}

/**
 * Fetches a user's attachment from Discord's CDN only, refusing by declared size and type before the
 * download and stopping at maxBytes during it; the core inspects the bytes afterwards.
 */
export async function fetchAttachment(raw: unknown, options: IntakeOptions): Promise<IncomingFile> {
  const parsed = attachmentSchema.safeParse(raw);
  if (!parsed.success) throw new InvalidArgumentError('Discord sent an attachment without a usable link or size; please upload it again.');
  const info = parsed.data;
  const label = info.name ? `"${info.name}"` : 'The attachment';
  if (info.size > options.maxBytes) throw new MediaTooLargeError(label, formatBytes(options.maxBytes), formatBytes(info.size));
  const type = info.contentType?.split(';')[0]?.trim().toLowerCase();
  if (type && !type.startsWith('image/') && !type.startsWith('video/')) {
    throw new UnsupportedMediaError(`${label} is of type ${type}; send an image or a video.`, { type });
  }
  const bytes = await downloadCapped(info.url, {
    allowedHosts: DISCORD_CDN_HOSTS,
    maxBytes: options.maxBytes,
    insecureHosts: options.insecureHosts,
    timeoutMs: 60_000,
  });
  return { ...(info.name ? { name: info.name } : {}), bytes };
}

export interface OutgoingFile {
  name: string;
  bytes: Buffer;
}

export interface FittedMedia {
  file?: OutgoingFile;
  /** Said instead of (or next to) the file: a link when it could not be attached. */
  note?: string;
}

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'image/avif': 'avif',
};

export function fileName(view: MediaView, suffix = ''): string {
  const base = `vitron-${view.role}${view.ordinal ? `-${view.ordinal}` : ''}${suffix}`;
  return `${base}.${EXTENSIONS[view.mime] ?? (view.kind === 'video' ? 'mp4' : 'png')}`;
}

/**
 * Makes a result fit the upload limit Discord gives: images are re-encoded as JPEG (or WebP with alpha)
 * and scaled down until they fit; a video that is too large is linked on the playground when PUBLIC_URL
 * is set (`link`: a signed link that works without the playground's cookie). The original stays in the media
 * store ("Download original").
 */
export async function fitForUpload(view: MediaView, path: string, limit: number, link: string | undefined, video?: VideoShrinker): Promise<FittedMedia> {
  const bytes = await readFile(path);
  if (bytes.length <= limit) return { file: { name: fileName(view), bytes } };
  const shrunk = view.kind === 'image' ? await shrinkImage(bytes, limit) : video ? await shrinkVideo(path, limit, video) : undefined;
  if (shrunk) {
    const name = fileName({ ...view, mime: shrunk.mime }, '-preview');
    return {
      file: { name, bytes: shrunk.bytes },
      note: `(re-encoded smaller to fit Discord's ${formatBytes(limit)} limit${link ? `; original: ${link}` : ''})`,
    };
  }
  return {
    note: link
      ? `The ${view.kind} (${formatBytes(bytes.length)}) is larger than Discord's ${formatBytes(limit)} upload limit: ${link}`
      : `The ${view.kind} (${formatBytes(bytes.length)}) is larger than Discord's ${formatBytes(limit)} upload limit; use the playground to download it.`,
  };
}

export interface VideoShrinker {
  tools: () => Promise<FfmpegTools | undefined>;
  tmpDir: string;
}

/** Smaller and smaller H.264 encodes: chat previews trade resolution and quality for fitting at all. */
const VIDEO_LADDER = [
  { maxWidth: 1280, maxHeight: 1280, crf: 28 },
  { maxWidth: 854, maxHeight: 854, crf: 32 },
  { maxWidth: 640, maxHeight: 640, crf: 36 },
  { maxWidth: 426, maxHeight: 426, crf: 40 },
];

async function shrinkVideo(path: string, limit: number, shrinker: VideoShrinker): Promise<{ bytes: Buffer; mime: string } | undefined> {
  const tools = await shrinker.tools();
  if (!tools) return undefined;
  for (const step of VIDEO_LADDER) {
    const out = await encodeMp4(tools, path, { ...step, tmpDir: shrinker.tmpDir });
    if (out.length <= limit) return { bytes: out, mime: 'video/mp4' };
  }
  return undefined;
}

async function shrinkImage(bytes: Buffer, limit: number): Promise<{ bytes: Buffer; mime: string } | undefined> {
  const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  const alpha = meta.hasAlpha === true;
  let width = meta.width ?? 4096;
  for (let attempt = 0; attempt < 8 && width >= 64; attempt++) {
    const pipeline = sharp(bytes, { limitInputPixels: false }).rotate().resize({ width, withoutEnlargement: true });
    const out = alpha ? await pipeline.webp({ quality: 85 }).toBuffer() : await pipeline.jpeg({ quality: 85, mozjpeg: true }).toBuffer();
    if (out.length <= limit) return { bytes: out, mime: alpha ? 'image/webp' : 'image/jpeg' };
    width = Math.floor(width * Math.min(0.85, Math.sqrt(limit / out.length)));
  }
  return undefined;
}
