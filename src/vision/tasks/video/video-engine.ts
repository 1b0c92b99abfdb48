import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Task } from '../../../core/tasks.ts';
import type { GenerationFacts } from '../../../core/types.ts';
import { InternalError, InvalidArgumentError } from '../../../errors.ts';
import { encodeMp4, probe, writeVideo } from '../../../media/ffmpeg.ts';
import { chooseVideoEngine, noVideoEngineError } from '../../engines/engine-choice.ts';
import type { GeneratedVideo, VideoEngine, VideoOperation, VideoRequest, VideoResult } from '../../engines/engine.ts';
import { madeWithParts } from './video-words.ts';
import type { ProducedMedia, SpecialistContext } from '../../specialist.ts';

/**
 * Clips from an engine's video model (ComfyUI workflows): which engine, the request's frame count and size
 * in what the model takes, progress, and the saved clip turned into the chat-friendly MP4 every other video
 * of the bot is, recorded with its seed, engine and workflow.
 */

/** Wan 2.2 TI2V 5B's native clip: 1280 × 704 at 24 fps, at most 121 frames (5 s). */
export const VIDEO_FPS = 24;
export const VIDEO_MAX_FRAMES = 121;
export const VIDEO_LONG_SIDE = 1280;
export const DEFAULT_SECONDS = 3;

/** Frames for `seconds` at `fps`, as 4k + 1 (what Wan's VAE takes), at least 5 and at most VIDEO_MAX_FRAMES. */
export function framesFor(seconds: number, fps = VIDEO_FPS): number {
  const k = Math.round((seconds * fps - 1) / 4);
  return Math.max(5, Math.min(VIDEO_MAX_FRAMES, 4 * k + 1));
}

/** A frame size of the picture's shape with the long side VIDEO_LONG_SIDE, both sides multiples of 32 (Wan 2.2's step). */
export function videoSizeFor(width: number, height: number, longSide = VIDEO_LONG_SIDE): { width: number; height: number } {
  const scale = longSide / Math.max(width, height);
  const round = (v: number) => Math.max(32, Math.round((v * scale) / 32) * 32);
  return { width: round(width), height: round(height) };
}

/**
 * The shape a clip is given before the video model sees it: its own size with sides rounded to multiples of
 * 32 (the long side at most VIDEO_LONG_SIDE), and its frames padded up to the next 4k + 1, at most
 * VIDEO_MAX_FRAMES.
 */
export function videoModelShape(width: number, height: number, frames: number): { width: number; height: number; frames: number } {
  const size = videoSizeFor(width, height, Math.min(VIDEO_LONG_SIDE, Math.max(width, height)));
  const padded = Math.max(5, Math.min(VIDEO_MAX_FRAMES, 4 * Math.ceil((frames - 1) / 4) + 1));
  return { ...size, frames: padded };
}

/** The engine for video work, or undefined when none is configured for it (animate then moves a camera instead). */
export function videoEngineFor(
  task: Task,
  operation: VideoOperation,
  context: Pick<SpecialistContext, 'settings' | 'models' | 'engines'>,
): VideoEngine | undefined {
  if (context.engines === undefined) return undefined;
  return chooseVideoEngine(task, operation, context.settings, context.models, context.engines);
}

export interface EngineClip {
  /** H.264 MP4. */
  bytes: Buffer;
  frames: number;
  fps: number;
  width: number;
  height: number;
  result: VideoResult;
  generation: GenerationFacts;
}

/** An animated WebP/GIF/PNG's frames as raw RGBA, and its rate from the first frame's delay. */
async function animatedFrames(bytes: Buffer, fallbackFps: number): Promise<{ frames: Buffer[]; width: number; height: number; fps: number }> {
  const image = sharp(bytes, { pages: -1, animated: true });
  const meta = await image.metadata();
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  const pages = meta.pages ?? 1;
  const raw = await image.ensureAlpha().raw().toBuffer();
  const size = width * height * 4;
  const frames = Array.from({ length: pages }, (_, i) => raw.subarray(i * size, (i + 1) * size));
  const delay = meta.delay?.[0];
  return { frames, width, height, fps: delay && delay > 0 ? 1000 / delay : fallbackFps };
}

/** The engine's clip as an MP4 of even size, with its real frame count, rate and size. */
export async function clipToMp4(
  video: GeneratedVideo,
  context: Pick<SpecialistContext, 'ffmpeg' | 'tmpDir' | 'signal' | 'limits'>,
): Promise<Omit<EngineClip, 'result' | 'generation'>> {
  let bytes: Buffer;
  if (video.mime.startsWith('image/')) {
    const { frames, width, height, fps } = await animatedFrames(video.bytes, video.fps);
    bytes = await writeVideo(context.ffmpeg, frames, { width, height, fps, tmpDir: context.tmpDir, signal: context.signal });
  } else {
    const file = path.join(context.tmpDir, `engine-clip.${video.mime === 'video/webm' ? 'webm' : 'mp4'}`);
    await fs.writeFile(file, video.bytes);
    const facts = await probe(context.ffmpeg, file, { signal: context.signal });
    // ComfyUI's SaveVideo writes H.264 yuv420p MP4 already; anything else is re-encoded once.
    bytes =
      video.mime === 'video/mp4' && facts.codec === 'h264'
        ? video.bytes
        : await encodeMp4(context.ffmpeg, file, {
            tmpDir: context.tmpDir,
            signal: context.signal,
            maxWidth: context.limits.maxVideoWidth,
            maxHeight: context.limits.maxVideoHeight,
          });
  }
  const out = path.join(context.tmpDir, 'engine-clip-out.mp4');
  await fs.writeFile(out, bytes);
  const facts = await probe(context.ffmpeg, out, { signal: context.signal });
  if (!facts.fps) throw new InternalError('The video engine returned a clip without a frame rate.');
  return { bytes, frames: facts.frameCount ?? Math.round((facts.durationSec ?? 0) * facts.fps), fps: facts.fps, width: facts.width, height: facts.height };
}

/**
 * Runs the request on the engine chosen for (task, operation), reporting its steps as this specialist's
 * progress between `span.from` and `span.to`; throws the operator-hinted TaskNotAvailableError when no
 * engine has a workflow for it.
 */
export async function runVideoEngine(
  task: Task,
  operation: VideoOperation,
  request: Omit<VideoRequest, 'operation' | 'task'>,
  context: SpecialistContext,
  span: { from: number; to: number } = { from: 0.05, to: 0.9 },
): Promise<EngineClip> {
  const engine = videoEngineFor(task, operation, context);
  if (engine === undefined) throw noVideoEngineError(task, operation);
  context.progress(span.from, `starting ${engine.name}`);
  const result = await engine.generateVideo(
    { ...request, operation, task },
    {
      progress: (step, total, note) => context.progress(span.from + ((span.to - span.from) * Math.min(step, total)) / Math.max(1, total), note),
      preview: (image) => context.preview?.(image),
      signal: context.signal,
    },
  );
  if (result.video.bytes.length === 0) throw new InvalidArgumentError('The video engine returned an empty clip; try another prompt.');
  context.progress(span.to, 'encoding the clip');
  const clip = await clipToMp4(result.video, context);
  const generation: GenerationFacts = {
    prompt: request.prompt,
    ...(request.negativePrompt ? { negativePrompt: request.negativePrompt } : {}),
    seed: result.video.seed,
    ...(result.steps !== undefined ? { steps: result.steps } : {}),
    ...(request.strength !== undefined && operation === 'video-to-video' ? { strength: request.strength } : {}),
    width: clip.width,
    height: clip.height,
    engine: result.engine,
    model: result.model,
  };
  return { ...clip, result, generation };
}

/** The produced MP4, recorded with what made it (so "again" and Retry can remake it). */
export function clipMedia(clip: EngineClip, label: string): ProducedMedia {
  return { bytes: clip.bytes, kind: 'video', mime: 'video/mp4', role: 'result', label, generation: clip.generation };
}

/** "with comfyui:text_to_video.json on comfyui (seed 7, 20 steps), 73 frames at 24 fps". */
export function clipMadeWith(clip: EngineClip): string {
  return (
    madeWithParts(clip.result.model, clip.result.engine, clip.generation.seed, clip.result.steps) +
    `, ${clip.frames} frames at ${Math.round(clip.fps * 100) / 100} fps`
  );
}
