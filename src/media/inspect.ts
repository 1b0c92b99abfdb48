import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Metadata } from 'sharp';
import type { MediaInfo } from '../core/types.ts';
import { CorruptMediaError, EmptyMediaError, MediaLimitError, MediaTooLargeError, ToolFailedError } from '../errors.ts';
import { requireMediaType } from './detect-type.ts';
import type { DetectedMedia } from './detect-type.ts';
import type { FfmpegTools } from './ffmpeg/locate.ts';
import { startTool } from './ffmpeg/process.ts';
import { probe } from './ffmpeg/probe.ts';
import type { VideoProbe } from './ffmpeg/probe.ts';
import { inputArgs, lastErrorLine } from './ffmpeg/run.ts';
import { formatBytes, formatDuration, formatPixels, formatSize } from './limits.ts';
import type { MediaLimits } from './limits.ts';

/** Everything the media layer knows about an upload before it is stored (the store adds id and hash). */
export type InspectedMedia = Omit<MediaInfo, 'id' | 'sha256'>;

export interface InspectDeps {
  limits: MediaLimits;
  ffmpeg: FfmpegTools;
  /** A scratch directory: videos are written here for ffprobe and removed before returning. */
  tmpDir: string;
  signal?: AbortSignal;
}

/**
 * The gate every upload passes. Cheap checks run first and refuse before any decoding: size, then type
 * by content, then the header's dimensions and duration. Only media within every limit is decoded in
 * full, to find truncated or damaged files before a job trips over them.
 */
export async function inspectMedia(bytes: Uint8Array, deps: InspectDeps): Promise<InspectedMedia> {
  const { limits } = deps;
  if (bytes.byteLength === 0) throw new EmptyMediaError();
  if (bytes.byteLength > limits.maxBytes) {
    throw new MediaTooLargeError('The file', formatBytes(limits.maxBytes), formatBytes(bytes.byteLength));
  }
  const type = await requireMediaType(bytes);
  return type.kind === 'image' ? inspectImage(bytes, type, limits) : inspectVideo(bytes, type, deps);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

async function inspectImage(bytes: Uint8Array, type: DetectedMedia, limits: MediaLimits): Promise<InspectedMedia> {
  let meta: Metadata;
  try {
    // Header only: safe without a pixel limit, and it lets the refusal name the actual size.
    meta = await sharp(bytes, { limitInputPixels: false, failOn: 'none' }).metadata();
  } catch (error) {
    throw new CorruptMediaError(`The image could not be read; it looks damaged (${firstLine(error)}).`, { reason: firstLine(error) });
  }
  const { width = 0, height = 0 } = meta;
  if (width < 1 || height < 1) throw new CorruptMediaError('The image has no pixels (its header says 0 × 0).');
  const pixels = width * height;
  if (pixels > limits.maxImagePixels) {
    throw new MediaLimitError('The image', formatPixels(limits.maxImagePixels), `${formatSize(width, height)} pixels (${formatPixels(pixels)})`);
  }
  try {
    // The header of a truncated file reads fine; only decoding every pixel finds the missing end.
    await sharp(bytes, { limitInputPixels: limits.maxImagePixels, failOn: 'truncated' }).stats();
  } catch (error) {
    throw new CorruptMediaError(`The image is damaged or incomplete (${firstLine(error)}).`, { reason: firstLine(error) });
  }
  const oriented = meta.autoOrient ?? { width, height };
  return { kind: 'image', mime: type.mime, bytes: bytes.byteLength, width: oriented.width, height: oriented.height };
}

/** The limits that a header already decides; run before anything is decoded. */
function checkVideoLimits(info: VideoProbe, limits: MediaLimits): void {
  if (info.durationSec !== undefined && info.durationSec > limits.maxVideoSeconds) {
    throw new MediaLimitError('The video length', formatDuration(limits.maxVideoSeconds), formatDuration(info.durationSec));
  }
  // Compared long side to long side: a portrait phone video is as heavy as the same video in landscape.
  const [long, short] = [Math.max(info.width, info.height), Math.min(info.width, info.height)];
  const [maxLong, maxShort] = [Math.max(limits.maxVideoWidth, limits.maxVideoHeight), Math.min(limits.maxVideoWidth, limits.maxVideoHeight)];
  if (long > maxLong || short > maxShort) {
    throw new MediaLimitError(
      'The video resolution',
      `${formatSize(limits.maxVideoWidth, limits.maxVideoHeight)} pixels`,
      `${formatSize(info.width, info.height)} pixels`,
    );
  }
  if (info.frameCount !== undefined && info.frameCount > limits.maxVideoFrames) {
    throw new MediaLimitError('The number of video frames', `${limits.maxVideoFrames}`, `${info.frameCount}`);
  }
}

interface DecodeResult {
  frames: number;
  seconds: number;
  errors: string;
}

/**
 * Decodes the whole video (at most just past the duration limit) without writing anything. ffprobe only
 * reads headers, and a file cut short or damaged in the middle has perfectly good headers.
 */
async function decodeAll(tools: FfmpegTools, file: string, limits: MediaLimits, signal?: AbortSignal): Promise<DecodeResult> {
  const result: DecodeResult = { frames: 0, seconds: 0, errors: '' };
  const proc = startTool(
    tools.ffmpeg,
    [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-xerror',
      ...inputArgs(file),
      '-map',
      '0:v:0',
      '-map',
      '0:a?',
      '-t',
      String(limits.maxVideoSeconds + 1),
      '-f',
      'null',
      '-progress',
      'pipe:3',
      '-nostats',
      '-',
    ],
    {
      signal,
      onExtraLine: (line) => {
        const [key, value] = line.split('=');
        if (key === 'frame') result.frames = Number(value) || result.frames;
        if (key === 'out_time_us') result.seconds = Number(value) / 1e6 || result.seconds;
      },
    },
  );
  proc.stdout.resume();
  try {
    await proc.done;
  } catch (error) {
    if (error instanceof ToolFailedError) {
      const reason = lastErrorLine(proc.stderr());
      throw new CorruptMediaError(`The video is damaged and cannot be decoded${reason ? ` (${reason})` : ''}.`, { stderr: proc.stderr() });
    }
    throw error;
  }
  result.errors = proc.stderr().trim();
  return result;
}

async function inspectVideo(bytes: Uint8Array, type: DetectedMedia, deps: InspectDeps): Promise<InspectedMedia> {
  const { limits, ffmpeg, signal } = deps;
  const file = path.join(deps.tmpDir, `inspect-${randomUUID()}.${type.ext}`);
  await fs.writeFile(file, bytes);
  try {
    const info = await probe(ffmpeg, file, { signal });
    checkVideoLimits(info, limits);
    const decoded = await decodeAll(ffmpeg, file, limits, signal);
    if (info.durationSec === undefined && decoded.seconds > limits.maxVideoSeconds) {
      // No duration in the header (browser recordings): the decode stopped just past the limit.
      throw new MediaLimitError('The video length', formatDuration(limits.maxVideoSeconds), `more than ${formatDuration(limits.maxVideoSeconds)}`);
    }
    // ffmpeg conceals small glitches and goes on; a file that also lost a good part of its frames is cut short.
    if (decoded.errors && info.frameCountExact && info.frameCount && decoded.frames < info.frameCount * 0.95) {
      throw new CorruptMediaError(`The video is incomplete: its header promises ${info.frameCount} frames, but only ${decoded.frames} could be decoded.`, {
        stderr: decoded.errors,
      });
    }
    const frameCount = info.frameCount ?? (decoded.frames || undefined);
    if (frameCount !== undefined && frameCount > limits.maxVideoFrames) {
      throw new MediaLimitError('The number of video frames', `${limits.maxVideoFrames}`, `${frameCount}`);
    }
    return {
      kind: 'video',
      mime: type.mime,
      bytes: bytes.byteLength,
      width: info.width,
      height: info.height,
      durationSec: info.durationSec ?? (decoded.seconds || undefined),
      frameCount,
      fps: info.fps,
      hasAudio: info.hasAudio,
    };
  } finally {
    await fs.rm(file, { force: true });
  }
}
