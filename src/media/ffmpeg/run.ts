import path from 'node:path';
import type { FfmpegTools } from './locate.ts';
import { runTool } from './process.ts';

export interface RunOptions {
  signal?: AbortSignal;
  /** Seconds of output written so far, from ffmpeg's machine-readable progress stream. */
  onProgress?: (seconds: number) => void;
}

/**
 * Runs ffmpeg with the given arguments (inputs, filters, outputs) and returns its stdout. Quiet except for
 * errors, so that the stderr tail carried by a failure is the actual reason; never reads the terminal.
 */
export async function runFfmpeg(tools: FfmpegTools, args: readonly string[], options: RunOptions = {}): Promise<Buffer> {
  const { onProgress } = options;
  const base = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'];
  if (onProgress) base.push('-progress', 'pipe:3', '-nostats');
  return runTool(tools.ffmpeg, [...base, ...args], {
    signal: options.signal,
    onExtraLine: onProgress
      ? (line) => {
          // out_time_us is microseconds; older builds only print out_time_ms, which is also microseconds.
          const match = /^out_time_(?:us|ms)=(\d+)$/.exec(line);
          if (match) onProgress(Number(match[1]) / 1e6);
        }
      : undefined,
  });
}

export async function runFfprobe(tools: FfmpegTools, args: readonly string[], options: { signal?: AbortSignal } = {}): Promise<Buffer> {
  return runTool(tools.ffprobe, ['-hide_banner', '-loglevel', 'error', ...args], { signal: options.signal });
}

/**
 * How every file is named to ffmpeg: the `file:` protocol so that no path is read as another protocol
 * ("concat:", "http:"), and a whitelist so that no demuxer (HLS playlists, QuickTime references) opens
 * anything but local files while reading uploaded media.
 */
export function inputArgs(file: string): string[] {
  return ['-protocol_whitelist', 'file,pipe', '-i', fileUrl(file)];
}

export function fileUrl(file: string): string {
  return `file:${path.resolve(file)}`;
}

/** The last line of ffmpeg's stderr without its "[demuxer @ 0x…]" and "file:/tmp/…:" prefixes: the reason, in its words. */
export function lastErrorLine(stderr: string): string {
  const line = stderr.trim().split('\n').pop() ?? '';
  return line
    .replace(/^\[[^\]]*\]\s*/, '')
    .replace(/^file:.*?: /, '')
    .trim();
}
