import { CorruptMediaError, ToolFailedError, UnsupportedMediaError } from '../../errors.ts';
import type { FfmpegTools } from './locate.ts';
import { inputArgs, lastErrorLine, runFfprobe } from './run.ts';

/** What ffprobe says about a video, read from the container headers only (nothing is decoded). */
export interface VideoProbe {
  /** ffprobe's format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "gif". */
  container: string;
  codec: string;
  /** Display size: with a 90°/270° rotation tag these are the coded size swapped, as decoded frames come out. */
  width: number;
  height: number;
  /** Clockwise degrees the player rotates the coded picture: 0, 90, 180 or 270. */
  rotation: number;
  durationSec?: number;
  fps?: number;
  frameCount?: number;
  /** False when frameCount is duration × fps because the container does not record it. */
  frameCountExact: boolean;
  hasAudio: boolean;
  audioCodec?: string;
}

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  tags?: Record<string, string>;
  side_data_list?: { rotation?: number }[];
  disposition?: { attached_pic?: number };
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { format_name?: string; duration?: string };
}

function positive(value: string | number | undefined): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return n !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}

function rate(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const [num, den] = value.split('/').map(Number);
  if (num === undefined || den === undefined || !den) return positive(num);
  return positive(num / den);
}

function rotationOf(stream: FfprobeStream): number {
  // The display matrix angle is counter-clockwise; the legacy `rotate` tag is clockwise.
  const matrix = stream.side_data_list?.find((s) => typeof s.rotation === 'number')?.rotation;
  const degrees = matrix !== undefined ? -matrix : Number(stream.tags?.rotate ?? 0);
  const normalised = (((Math.round(degrees / 90) * 90) % 360) + 360) % 360;
  return Number.isFinite(normalised) ? normalised : 0;
}

/** Turns ffprobe's JSON into a VideoProbe; exported for tests of the arithmetic. */
export function parseProbe(output: FfprobeOutput): VideoProbe {
  const streams = output.streams ?? [];
  // Cover art in an audio file shows up as a one-frame "video" stream; it is not a video.
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!video?.width || !video.height) {
    throw new UnsupportedMediaError('The file has no video picture in it (is it audio only?).');
  }
  const audio = streams.find((s) => s.codec_type === 'audio');
  const rotation = rotationOf(video);
  const swap = rotation === 90 || rotation === 270;
  const durationSec = positive(video.duration) ?? positive(output.format?.duration);
  const fps = rate(video.avg_frame_rate) ?? rate(video.r_frame_rate);
  const exact = positive(video.nb_frames);
  const estimate = durationSec !== undefined && fps !== undefined ? Math.max(1, Math.round(durationSec * fps)) : undefined;
  return {
    container: output.format?.format_name ?? 'unknown',
    codec: video.codec_name ?? 'unknown',
    width: swap ? video.height : video.width,
    height: swap ? video.width : video.height,
    rotation,
    durationSec,
    fps,
    frameCount: exact ?? estimate,
    frameCountExact: exact !== undefined,
    hasAudio: audio !== undefined,
    audioCodec: audio?.codec_name,
  };
}

/** Reads a video's headers. Unreadable containers become CorruptMediaError with ffprobe's words attached. */
export async function probe(tools: FfmpegTools, file: string, options: { signal?: AbortSignal } = {}): Promise<VideoProbe> {
  let stdout: Buffer;
  try {
    stdout = await runFfprobe(tools, ['-print_format', 'json', '-show_format', '-show_streams', ...inputArgs(file)], options);
  } catch (error) {
    if (error instanceof ToolFailedError) {
      const stderr = String(error.details.stderr ?? '');
      const reason = lastErrorLine(stderr);
      throw new CorruptMediaError(`The video could not be read; it looks damaged or incomplete${reason ? ` (${reason})` : ''}.`, { stderr });
    }
    throw error;
  }
  return parseProbe(JSON.parse(stdout.toString('utf8')) as FfprobeOutput);
}
