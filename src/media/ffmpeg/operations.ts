import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../../errors.ts';
import { formatDuration } from '../limits.ts';
import { AAC_ARGS, EVEN_DIMENSIONS, h264Args } from './encode-args.ts';
import type { FfmpegTools } from './locate.ts';
import { probe } from './probe.ts';
import type { VideoProbe } from './probe.ts';
import { fileUrl, inputArgs, runFfmpeg } from './run.ts';

/**
 * Ready-made video operations for the video specialists. Each reads a local file, writes its result into
 * `tmpDir` (MP4 needs a seekable output for +faststart), and returns the bytes. Arguments are checked
 * against the probed video so that a user gets "the video is 5 s long" rather than an ffmpeg error.
 */
export interface OperationOptions {
  tmpDir: string;
  signal?: AbortSignal;
  /** Fraction 0..1 of this operation, from ffmpeg's progress stream. */
  onProgress?: (fraction: number) => void;
}

export const MIN_SPEED = 0.1;
export const MAX_SPEED = 10;

/** Seconds as ffmpeg reads them: fixed-point, never exponent notation. */
function sec(value: number): string {
  return value.toFixed(6);
}

async function runToFile(tools: FfmpegTools, args: readonly string[], ext: string, options: OperationOptions, expectedSeconds?: number): Promise<Buffer> {
  const output = path.join(options.tmpDir, `${ext}-${randomUUID()}.${ext}`);
  const { onProgress } = options;
  try {
    await runFfmpeg(tools, [...args, fileUrl(output)], {
      signal: options.signal,
      onProgress: onProgress && expectedSeconds ? (s) => onProgress(Math.min(1, s / expectedSeconds)) : undefined,
    });
    options.onProgress?.(1);
    return await fs.readFile(output);
  } finally {
    await fs.rm(output, { force: true });
  }
}

function audioArgs(info: VideoProbe, filter?: string): string[] {
  if (!info.hasAudio) return ['-an'];
  return ['-map', '0:a:0', ...(filter ? ['-af', filter] : []), ...AAC_ARGS];
}

/** Cuts [start, end) seconds out of a video, frame-accurately (it re-encodes). `end` past the end is clamped. */
export async function trim(tools: FfmpegTools, file: string, start: number, end: number, options: OperationOptions): Promise<Buffer> {
  if (!Number.isFinite(start) || !Number.isFinite(end) || start < 0 || end <= start) {
    throw new InvalidArgumentError(`A trim needs a start and a later end, in seconds from 0; received ${start} to ${end}.`);
  }
  const info = await probe(tools, file, options);
  const duration = info.durationSec;
  if (duration !== undefined && start >= duration) {
    throw new InvalidArgumentError(`The video is ${formatDuration(duration)} long, so it cannot be trimmed from ${formatDuration(start)}.`);
  }
  const length = (duration !== undefined ? Math.min(end, duration) : end) - start;
  const args = ['-ss', sec(start), '-t', sec(length), ...inputArgs(file), '-map', '0:v:0', '-vf', EVEN_DIMENSIONS, ...audioArgs(info), ...h264Args()];
  return runToFile(tools, args, 'mp4', options, length);
}

/**
 * The video's picture at exactly width × height and exactly `frames` frames at its own rate, without audio:
 * cut when it has more, its last frame repeated when it has fewer. For models that take fixed shapes (Wan's
 * 4k + 1 frames and sides in multiples of 32) and for cutting their answer back to the source's length.
 */
export async function conformClip(
  tools: FfmpegTools,
  file: string,
  shape: { width: number; height: number; frames: number },
  options: OperationOptions,
): Promise<Buffer> {
  const { width, height, frames } = shape;
  if (![width, height, frames].every((v) => Number.isInteger(v) && v > 0)) {
    throw new InvalidArgumentError(`A clip's shape must be whole positive numbers; received ${width} × ${height}, ${frames} frames.`);
  }
  const filters = [`scale=${width}:${height}:flags=bicubic`, `tpad=stop_mode=clone:stop=${frames}`, 'setsar=1'];
  const args = [...inputArgs(file), '-map', '0:v:0', '-vf', filters.join(','), '-frames:v', String(frames), '-an', ...h264Args(18)];
  return runToFile(tools, args, 'mp4', options);
}

/** atempo takes 0.5..2 per instance (older builds); larger changes are a chain whose product is the factor. */
export function atempoChain(factor: number): number[] {
  const chain: number[] = [];
  let rest = factor;
  while (rest > 2) {
    chain.push(2);
    rest /= 2;
  }
  while (rest < 0.5) {
    chain.push(0.5);
    rest /= 0.5;
  }
  chain.push(Number(rest.toFixed(6)));
  return chain;
}

/** Plays the video `factor` times as fast (2 = twice as fast, 0.5 = half speed), audio pitch preserved. */
export async function changeSpeed(tools: FfmpegTools, file: string, factor: number, options: OperationOptions): Promise<Buffer> {
  if (!Number.isFinite(factor) || factor < MIN_SPEED || factor > MAX_SPEED) {
    throw new InvalidArgumentError(`The speed factor must be between ${MIN_SPEED} and ${MAX_SPEED}; received ${factor}.`);
  }
  const info = await probe(tools, file, options);
  // Speeding up keeps the source frame rate (dropping frames) instead of producing 300 fps files;
  // slowing down keeps every frame at a lower rate, since no frames are invented.
  const video = [`setpts=(PTS-STARTPTS)/${factor}`, ...(factor > 1 && info.fps ? [`fps=${info.fps}`] : []), EVEN_DIMENSIONS];
  const audio = atempoChain(factor)
    .map((f) => `atempo=${f}`)
    .join(',');
  // vfr: without it the muxer keeps the source rate and repeats each slowed-down frame to fill it.
  const args = [...inputArgs(file), '-map', '0:v:0', '-vf', video.join(','), '-vsync', 'vfr', ...audioArgs(info, audio), ...h264Args()];
  return runToFile(tools, args, 'mp4', options, info.durationSec ? info.durationSec / factor : undefined);
}

export interface ReverseOptions extends OperationOptions {
  /**
   * ffmpeg's reverse filter holds every decoded frame in memory; longer videos are reversed in segments
   * that each fit this budget (bytes of decoded yuv420p), then joined. Default 256 MiB.
   */
  memoryBudgetBytes?: number;
}

/** Plays the video backwards, audio included. */
export async function reverse(tools: FfmpegTools, file: string, options: ReverseOptions): Promise<Buffer> {
  const info = await probe(tools, file, options);
  const frameBytes = info.width * info.height * 1.5;
  const perSegment = Math.max(1, Math.floor((options.memoryBudgetBytes ?? 256 * 1024 * 1024) / frameBytes));
  const frames = info.frameCount ?? 0;
  if (!info.fps || !info.durationSec || frames <= perSegment) {
    const args = [...inputArgs(file), '-map', '0:v:0', '-vf', `reverse,${EVEN_DIMENSIONS}`, ...audioArgs(info, 'areverse'), ...h264Args()];
    return runToFile(tools, args, 'mp4', options, info.durationSec);
  }
  return reverseInSegments(tools, file, info, perSegment, options);
}

async function reverseInSegments(tools: FfmpegTools, file: string, info: VideoProbe, perSegment: number, options: ReverseOptions): Promise<Buffer> {
  const fps = info.fps!;
  const duration = info.durationSec!;
  // Boundaries sit half a frame before a frame's timestamp, so no frame is on one and none is taken twice.
  const bounds = [0];
  for (let k = perSegment; k < (info.frameCount ?? 0); k += perSegment) bounds.push((k - 0.5) / fps);
  bounds.push(duration + 1);
  const dir = await fs.mkdtemp(path.join(options.tmpDir, 'reverse-'));
  try {
    const parts: string[] = [];
    const count = bounds.length - 1;
    for (let i = count - 1; i >= 0; i -= 1) {
      const start = bounds[i]!;
      const part = path.join(dir, `part-${parts.length}.mp4`);
      const args = [
        '-ss',
        sec(start),
        '-t',
        sec(bounds[i + 1]! - start),
        ...inputArgs(file),
        '-map',
        '0:v:0',
        // A segment starts half a frame after its cut: restart its clock at 0, or the muxer pads that gap with a repeated frame.
        '-vf',
        `reverse,setpts=PTS-STARTPTS,${EVEN_DIMENSIONS}`,
        ...audioArgs(info, 'areverse,asetpts=PTS-STARTPTS'),
        ...h264Args(),
        fileUrl(part),
      ];
      await runFfmpeg(tools, args, { signal: options.signal });
      parts.push(part);
      options.onProgress?.((parts.length / count) * 0.95);
    }
    const list = path.join(dir, 'parts.txt');
    await fs.writeFile(list, parts.map((p) => `file '${p.replaceAll("'", "'\\''")}'\n`).join(''));
    const join = [
      '-f',
      'concat',
      '-safe',
      '0',
      ...inputArgs(list),
      '-map',
      '0:v:0',
      ...(info.hasAudio ? ['-map', '0:a:0'] : []),
      '-c',
      'copy',
      '-movflags',
      '+faststart',
    ];
    return await runToFile(tools, join, 'mp4', { ...options, onProgress: undefined });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export interface AnimatedOptions extends OperationOptions {
  /** Output width in pixels at most (height follows the aspect ratio). Default 480. */
  maxWidth?: number;
  /** Output frame rate at most (never above the source's). Default 12. */
  fps?: number;
}

/** A looping GIF (with a palette made for this clip) or animated WebP, sized for chat. */
export async function toAnimated(tools: FfmpegTools, file: string, format: 'gif' | 'webp', options: AnimatedOptions): Promise<Buffer> {
  const maxWidth = Math.round(options.maxWidth ?? 480);
  const wanted = options.fps ?? 12;
  if (!(maxWidth >= 16) || !(wanted > 0)) {
    throw new InvalidArgumentError(`An animation needs a width of at least 16 pixels and a positive frame rate; received ${maxWidth} and ${wanted}.`);
  }
  const info = await probe(tools, file, options);
  const fps = info.fps ? Math.min(wanted, info.fps) : wanted;
  const scale = `scale=w='min(iw,${maxWidth})':h=-2:flags=lanczos`;
  const args =
    format === 'gif'
      ? [
          ...inputArgs(file),
          '-filter_complex',
          // One palette per clip beats the fixed web palette; diff stats favour what moves, bayer dithering keeps files small.
          `[0:v:0]fps=${fps},${scale},split[a][b];[a]palettegen=stats_mode=diff[p];[b][p]paletteuse=dither=bayer:bayer_scale=5:diff_mode=rectangle`,
          '-loop',
          '0',
          '-an',
          '-f',
          'gif',
        ]
      : [
          ...inputArgs(file),
          '-map',
          '0:v:0',
          '-vf',
          `fps=${fps},${scale}`,
          '-c:v',
          'libwebp_anim',
          '-lossless',
          '0',
          '-q:v',
          '75',
          '-loop',
          '0',
          '-an',
          '-f',
          'webp',
        ];
  return runToFile(tools, args, format, options, info.durationSec);
}

/** The frame shown at `atSeconds`, as PNG. A time in the last frame's span gives the last frame. */
export async function extractFrame(tools: FfmpegTools, file: string, atSeconds: number, options: OperationOptions): Promise<Buffer> {
  if (!Number.isFinite(atSeconds) || atSeconds < 0) {
    throw new InvalidArgumentError(`A frame time must be 0 seconds or later; received ${atSeconds}.`);
  }
  const info = await probe(tools, file, options);
  const duration = info.durationSec;
  if (duration !== undefined && atSeconds > duration) {
    throw new InvalidArgumentError(`The video is ${formatDuration(duration)} long; there is no frame at ${formatDuration(atSeconds)}.`);
  }
  // Seeking to the very end finds no frame; aim inside the last frame's span instead.
  const lastFrameStart = duration !== undefined && info.fps ? Math.max(0, duration - 1 / info.fps) : undefined;
  const at = lastFrameStart !== undefined ? Math.min(atSeconds, lastFrameStart) : atSeconds;
  const png = await runFfmpeg(tools, ['-ss', sec(at), ...inputArgs(file), '-map', '0:v:0', '-frames:v', '1', '-c:v', 'png', '-f', 'image2pipe', 'pipe:1'], {
    signal: options.signal,
  });
  if (png.length === 0) throw new InvalidArgumentError(`There is no frame at ${formatDuration(atSeconds)} in this video.`);
  return png;
}

export interface EncodeOptions extends OperationOptions {
  /** Scale down (keeping the aspect ratio) to fit within this box; never scales up. */
  maxWidth?: number;
  maxHeight?: number;
  /** x264 quality, 0 (lossless) to 51; default 20. Higher is smaller. */
  crf?: number;
}

/** Re-encodes any video (or animated GIF) to chat-friendly H.264/AAC MP4. */
export async function encodeMp4(tools: FfmpegTools, file: string, options: EncodeOptions): Promise<Buffer> {
  const info = await probe(tools, file, options);
  const box =
    options.maxWidth || options.maxHeight
      ? [
          `scale=w='min(iw,${Math.round(options.maxWidth ?? 16384)})':h='min(ih,${Math.round(options.maxHeight ?? 16384)})':force_original_aspect_ratio=decrease`,
        ]
      : [];
  const args = [...inputArgs(file), '-map', '0:v:0', '-vf', [...box, EVEN_DIMENSIONS].join(','), ...audioArgs(info), ...h264Args(options.crf)];
  return runToFile(tools, args, 'mp4', options, info.durationSec);
}
