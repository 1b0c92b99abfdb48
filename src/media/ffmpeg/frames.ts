import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { InternalError, InvalidArgumentError, JobCancelledError, ToolFailedError } from '../../errors.ts';
import { AAC_ARGS, EVEN_DIMENSIONS, h264Args } from './encode-args.ts';
import type { FfmpegTools } from './locate.ts';
import { startTool } from './process.ts';
import { fileUrl, inputArgs } from './run.ts';

export interface ReadFramesOptions {
  /** Every frame is scaled to exactly this size (pass the probe's size to keep it). */
  width: number;
  height: number;
  /** Resample to this rate; omitted, every decoded frame comes out once. */
  fps?: number;
  signal?: AbortSignal;
}

function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new InvalidArgumentError(`A frame size must be whole positive pixels; received ${width} × ${height}.`);
  }
}

/**
 * Decodes a video into raw RGBA frames of exactly width × height × 4 bytes, streamed from ffmpeg's stdout.
 * Memory stays at about one frame plus the pipe: ffmpeg blocks while the consumer works on a frame.
 * Stopping the iteration early kills ffmpeg.
 */
export async function* readFrames(tools: FfmpegTools, file: string, options: ReadFramesOptions): AsyncGenerator<Buffer, void, undefined> {
  const { width, height, fps, signal } = options;
  checkSize(width, height);
  const frameBytes = width * height * 4;
  const filters = [...(fps ? [`fps=${fps}`] : []), `scale=${width}:${height}:flags=bicubic`, 'format=rgba'];
  const proc = startTool(
    tools.ffmpeg,
    [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      ...inputArgs(file),
      '-map',
      '0:v:0',
      '-vf',
      filters.join(','),
      '-vsync',
      'passthrough',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgba',
      'pipe:1',
    ],
    { signal },
  );
  let frame = Buffer.allocUnsafe(frameBytes);
  let filled = 0;
  try {
    // Pipe chunks (64 KiB) never line up with frames: copy across boundaries into whole frames.
    for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        chunk.copy(frame, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          // Frames already in the pipe when the job was cancelled must not reach the consumer.
          if (signal?.aborted) throw new JobCancelledError();
          yield frame;
          frame = Buffer.allocUnsafe(frameBytes);
          filled = 0;
        }
      }
    }
    await proc.done;
    if (filled !== 0) throw new ToolFailedError('ffmpeg', `stopped after ${filled} of ${frameBytes} bytes of a frame`, proc.stderr());
  } finally {
    proc.kill();
  }
}

/** How the frames given to `writeVideo` are laid out: interleaved RGBA, or the encoder's own planar 4:2:0. */
export type FramePixelFormat = 'rgba' | 'yuv420p';

/** Bytes of one frame in that layout (yuv420p: the luma plane, then two half-size chroma planes, rounded up). */
export function rawFrameBytes(width: number, height: number, format: FramePixelFormat): number {
  return format === 'rgba' ? width * height * 4 : width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
}

export interface WriteVideoOptions {
  width: number;
  height: number;
  fps: number;
  /** Default `rgba`. `yuv420p` (BT.601, limited range) skips ffmpeg's colour conversion and pipes 1.5 bytes a pixel. */
  pixelFormat?: FramePixelFormat;
  /** A media file whose first audio stream is muxed in (re-encoded to AAC); ignored if it has no audio. */
  audioFrom?: string;
  /** Where the MP4 is written before it is read back (+faststart rewrites the file, so it cannot be a pipe). */
  tmpDir: string;
  signal?: AbortSignal;
  crf?: number;
}

/** ffmpeg closed its stdin: a symptom, replaced by ffmpeg's own exit error before anyone sees it. */
class PipeClosed extends Error {}

/**
 * Writes one chunk and waits until the pipe has taken all of it; rejects if the stream breaks (ffmpeg
 * exited). Waiting for the write itself, not only for 'drain', is what lets a producer reuse one frame
 * buffer: when the next frame is asked for, nothing still points at the last one.
 */
function write(stream: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      stream.off('close', onClose);
      stream.off('error', onClose);
    };
    const onClose = (): void => {
      cleanup();
      reject(new PipeClosed('ffmpeg stopped reading frames'));
    };
    stream.once('close', onClose);
    stream.once('error', onClose);
    stream.write(chunk, (error) => {
      cleanup();
      if (error) reject(new PipeClosed('ffmpeg stopped reading frames'));
      else resolve();
    });
  });
}

/**
 * Encodes raw frames (RGBA, width × height × 4 bytes each, or yuv420p) into a chat-friendly H.264 MP4,
 * optionally with the audio of another file. Frames are piped to ffmpeg's stdin with backpressure; a frame
 * has been handed to the pipe in full before the next one is asked for, so a producer may draw every frame
 * into the same buffer.
 */
export async function writeVideo(tools: FfmpegTools, frames: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: WriteVideoOptions): Promise<Buffer> {
  const { width, height, fps, audioFrom, tmpDir, signal } = options;
  checkSize(width, height);
  if (!(fps > 0) || !Number.isFinite(fps)) throw new InvalidArgumentError(`A frame rate must be a positive number; received ${fps}.`);
  const pixelFormat = options.pixelFormat ?? 'rgba';
  const bytesPerFrame = rawFrameBytes(width, height, pixelFormat);
  const output = path.join(tmpDir, `video-${randomUUID()}.mp4`);
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'rawvideo',
    '-pix_fmt',
    pixelFormat,
    '-s',
    `${width}x${height}`,
    '-framerate',
    String(fps),
    '-i',
    'pipe:0',
  ];
  if (audioFrom) args.push(...inputArgs(audioFrom), '-map', '0:v:0', '-map', '1:a:0?', ...AAC_ARGS, '-shortest');
  args.push('-vf', EVEN_DIMENSIONS, ...h264Args(options.crf), fileUrl(output));

  const proc = startTool(tools.ffmpeg, args, { signal, stdin: true });
  proc.stdout.resume();
  const stdin = proc.stdin!;
  let count = 0;
  try {
    for await (const frame of frames) {
      if (signal?.aborted) throw new JobCancelledError();
      if (frame.byteLength !== bytesPerFrame) {
        throw new InvalidArgumentError(`Frame ${count} has ${frame.byteLength} bytes; a ${width} × ${height} ${pixelFormat} frame has ${bytesPerFrame}.`);
      }
      await write(stdin, Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
      count += 1;
    }
    if (count === 0) throw new InvalidArgumentError('A video needs at least one frame; none were given.');
    stdin.end();
    await proc.done;
    return await fs.readFile(output);
  } catch (error) {
    proc.kill();
    // When ffmpeg itself failed or was cancelled, its own error says why; a broken pipe is only the symptom.
    const exit = await proc.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    throw error instanceof PipeClosed ? (exit ?? new InternalError(error.message)) : error;
  } finally {
    await fs.rm(output, { force: true });
  }
}
