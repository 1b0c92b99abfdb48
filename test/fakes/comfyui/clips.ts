import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Prompt } from './nodes.ts';
import type { RenderPlan } from './render.ts';

/**
 * The fake's video "model": a real clip made by ffmpeg (H.264 MP4 or animated WebP), the solid colour
 * of the render plan with a small white square moving along the top, with the frame count and rate the workflow asks for (or its input clip's), so tests
 * can probe what came back. Uploaded clips are probed with ffprobe, as LoadVideo would open them.
 */

const run = promisify(execFile);
const FFMPEG = process.env.FFMPEG_PATH ?? 'ffmpeg';
const FFPROBE = process.env.FFPROBE_PATH ?? 'ffprobe';

export interface ClipFacts {
  width: number;
  height: number;
  frames: number;
  fps: number;
}

export interface ClipPlan extends ClipFacts {
  /** The save node's container: SaveVideo writes MP4, SaveAnimatedWEBP animated WebP, VHS_VideoCombine its `format`. */
  container: 'mp4' | 'webp';
}

const VIDEO_SAVERS = new Set(['SaveVideo', 'SaveAnimatedWEBP', 'VHS_VideoCombine']);

export function isClipSaver(classType: string): boolean {
  return VIDEO_SAVERS.has(classType);
}

function inputsOf(prompt: Prompt, classType: string): Record<string, unknown> | undefined {
  return Object.values(prompt).find((n) => n.class_type === classType)?.inputs;
}

/** A number input, or the number a linked node gives (GetVideoComponents' fps is the input clip's). */
function numberOf(prompt: Prompt, value: unknown, clips: ReadonlyMap<string, ClipFacts>): number | undefined {
  if (typeof value === 'number') return value;
  if (Array.isArray(value)) {
    const source = prompt[String(value[0])];
    if (source?.class_type === 'GetVideoComponents') return loadedClip(prompt, clips)?.fps;
  }
  return undefined;
}

function loadedClip(prompt: Prompt, clips: ReadonlyMap<string, ClipFacts>): ClipFacts | undefined {
  const file = inputsOf(prompt, 'LoadVideo')?.file;
  return file === undefined ? undefined : clips.get(String(file));
}

/** What the workflow's video nodes ask for; undefined when it saves no clip. */
export function planClip(prompt: Prompt, render: RenderPlan, clips: ReadonlyMap<string, ClipFacts>): ClipPlan | undefined {
  const saver = Object.values(prompt).find((n) => isClipSaver(String(n.class_type)));
  if (saver === undefined) return undefined;
  const wan = inputsOf(prompt, 'Wan22ImageToVideoLatent');
  const svd = inputsOf(prompt, 'SVD_img2vid_Conditioning');
  const source = loadedClip(prompt, clips);
  const create = inputsOf(prompt, 'CreateVideo');
  const saverInputs = saver.inputs ?? {};
  const fps =
    numberOf(prompt, create?.fps, clips) ?? numberOf(prompt, saverInputs.fps, clips) ?? numberOf(prompt, saverInputs.frame_rate, clips) ?? source?.fps ?? 24;
  const frames = Number(wan?.length ?? svd?.video_frames ?? source?.frames ?? 1);
  const width = Number(wan?.width ?? svd?.width ?? source?.width ?? render.width);
  const height = Number(wan?.height ?? svd?.height ?? source?.height ?? render.height);
  const container = saver.class_type === 'SaveAnimatedWEBP' || saverInputs.format === 'image/webp' ? 'webp' : 'mp4';
  return { width, height, frames, fps, container };
}

/** Encodes the clip with ffmpeg: `frames` frames of one colour at `fps`. */
export async function renderClip(plan: ClipPlan, rgb: RenderPlan['rgb']): Promise<Buffer> {
  const hex = [rgb.r, rgb.g, rgb.b].map((v) => v.toString(16).padStart(2, '0')).join('');
  const file = path.join(os.tmpdir(), `fake-comfyui-${randomUUID()}.${plan.container}`);
  const codec =
    plan.container === 'mp4' ? ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast'] : ['-c:v', 'libwebp_anim', '-loop', '0', '-lossless', '0'];
  try {
    await run(FFMPEG, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `color=c=0x${hex}:s=${plan.width}x${plan.height}:r=${plan.fps}`,
      '-f',
      'lavfi',
      '-i',
      `color=c=white:s=8x8:r=${plan.fps}`,
      // A small square moving along the top edge: no two frames alike, so an animated WebP keeps every frame.
      '-filter_complex',
      "[0:v][1:v]overlay=x='mod(n*8,W-8)':y=0:eval=frame:shortest=1",
      '-frames:v',
      String(plan.frames),
      ...codec,
      file,
    ]);
    return await fs.readFile(file);
  } finally {
    await fs.rm(file, { force: true });
  }
}

/** Size, frame count and rate of an uploaded clip, as LoadVideo would find them. */
export async function probeClip(bytes: Buffer): Promise<ClipFacts | undefined> {
  const file = path.join(os.tmpdir(), `fake-comfyui-upload-${randomUUID()}`);
  await fs.writeFile(file, bytes);
  try {
    const { stdout } = await run(FFPROBE, [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=width,height,nb_read_frames,r_frame_rate',
      '-of',
      'json',
      file,
    ]);
    const stream = (JSON.parse(stdout) as { streams?: { width: number; height: number; nb_read_frames: string; r_frame_rate: string }[] }).streams?.[0];
    if (stream === undefined) return undefined;
    const [n, d] = stream.r_frame_rate.split('/').map(Number);
    return { width: stream.width, height: stream.height, frames: Number(stream.nb_read_frames), fps: (n ?? 0) / (d || 1) };
  } catch {
    return undefined;
  } finally {
    await fs.rm(file, { force: true });
  }
}
