import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EngineRejectedError, JobCancelledError } from '../../src/errors.ts';
import { closeComfyUiClients, createComfyUiEngine } from '../../src/vision/engines/comfyui-engine.ts';
import { BUILT_IN_WORKFLOWS_DIR, WorkflowLibrary, fillWorkflow } from '../../src/vision/engines/comfyui-workflows.ts';
import type { VideoRequest } from '../../src/vision/engines/engine.ts';
import { recordingCallbacks } from '../fakes/comfyui/callbacks.ts';
import { type Prompt, validatePrompt } from '../fakes/comfyui/nodes.ts';
import { FakeComfyUi, FAKE_MODELS } from '../fakes/comfyui/server.ts';
import { makeClip } from '../helpers/media-fixtures.ts';

const run = promisify(execFile);
let fake: FakeComfyUi;
let dir: string;
const settings = (workflows?: string) => ({ COMFYUI_URL: fake.url, COMFYUI_WORKFLOWS_DIR: workflows, COMFYUI_TIMEOUT_MS: 30_000 });
const clip = (over: Partial<VideoRequest> = {}): VideoRequest => ({
  operation: 'text-to-video',
  task: 'generate_video',
  prompt: 'fireworks over a harbour',
  seed: 77,
  width: 160,
  height: 96,
  frames: 9,
  fps: 8,
  steps: 3,
  ...over,
});
const photo = () =>
  sharp({ create: { width: 96, height: 64, channels: 3, background: { r: 10, g: 120, b: 200 } } })
    .png()
    .toBuffer();

/** Frames (decoded and counted), rate and size of a clip, as ffprobe reads it. */
async function probeClip(bytes: Buffer, ext: string): Promise<{ frames: number; fps: number; width: number; height: number; codec: string }> {
  const file = path.join(dir, `probe-${Math.random().toString(36).slice(2)}.${ext}`);
  await writeFile(file, bytes);
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-count_frames',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=codec_name,width,height,nb_read_frames,r_frame_rate',
    '-of',
    'json',
    file,
  ]);
  const s = JSON.parse(stdout).streams[0];
  const [n, d] = String(s.r_frame_rate).split('/').map(Number);
  return { frames: Number(s.nb_read_frames), fps: n! / d!, width: s.width, height: s.height, codec: s.codec_name };
}

beforeAll(async () => {
  fake = await FakeComfyUi.start();
  dir = await mkdtemp(path.join(os.tmpdir(), 'vitron-video-engine-'));
});
afterEach(() => {
  fake.failAt = undefined;
  fake.stepDelayMs = 1;
});
afterAll(async () => {
  closeComfyUiClients();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ComfyUI video workflows (Wan 2.2 TI2V 5B, SVD alternative)', () => {
  const library = new WorkflowLibrary(undefined);
  const files = { models: new Set(FAKE_MODELS), inputs: new Set(['in.png', 'in.mp4']) };
  const values = { prompt: 'waves', seed: 3, steps: 4, width: 320, height: 192, frames: 17, fps: 16, strength: 0.4, image: 'in.png', video: 'in.mp4' };

  it.each([
    ['text-to-video', 'generate_video', 'text_to_video.json'],
    ['image-to-video', 'animate', 'image_to_video.json'],
    ['video-to-video', 'edit', 'video_to_video.json'],
    ['video-to-video', 'style', 'video_to_video.json'],
  ] as const)('%s for %s uses %s, fills every placeholder and passes ComfyUI validation', (operation, task, file) => {
    const template = library.find(operation, task)!;
    expect(template.name).toBe(file);
    expect(template.output).toBe('video');
    const prompt = fillWorkflow(template, values);
    expect(JSON.stringify(Object.values(prompt).map((n) => n.inputs))).not.toContain('{{');
    expect(validatePrompt(prompt as Prompt, files)).toEqual({ ok: true, outputs: ['58'] });
    expect(Object.values(prompt).find((n) => n.class_type === 'KSampler')!.inputs).toMatchObject({ seed: 3, steps: 4 });
  });

  it('picture work never gets a clip workflow, and clip work never a picture one (edit on a clip is video_to_video, not edit.json)', () => {
    expect(library.find('instruct', 'edit')!.name).toBe('edit.json');
    expect(library.find('video-to-video', 'edit')!.name).toBe('video_to_video.json');
    expect(library.find('text-to-image', 'generate_image')!.output).toBe('image');
    expect(library.find('image-to-video', 'vary')!.name).toBe('image_to_video.json');
  });

  it('the SVD alternative passes validation and needs no words', () => {
    const svd = new WorkflowLibrary(path.join(BUILT_IN_WORKFLOWS_DIR, 'alternatives'));
    expect(svd.find('image-to-video', 'svd_image_to_video')?.name).toBe('svd_image_to_video.json');
    const prompt = fillWorkflow(svd.find('image-to-video', 'svd_image_to_video')!, values);
    expect(validatePrompt(prompt as Prompt, files)).toEqual({ ok: true, outputs: ['7'] });
  });
});

describe('ComfyUI engine video against the fake ComfyUI (real clips made by ffmpeg)', () => {
  it('text to video: one prompt, progress per step, an H.264 MP4 with the frames, rate and size asked for', async () => {
    const engine = createComfyUiEngine(settings());
    expect(engine.supportsVideo('text-to-video', 'generate_video')).toBe(true);
    const callbacks = recordingCallbacks();
    const result = await engine.generateVideo(clip(), callbacks);
    expect(result).toMatchObject({ engine: 'comfyui', model: 'comfyui:text_to_video.json', steps: 3 });
    expect(result.video).toMatchObject({ mime: 'video/mp4', seed: 77, frames: 9, fps: 8 });
    expect(await probeClip(result.video.bytes, 'mp4')).toEqual({ frames: 9, fps: 8, width: 160, height: 96, codec: 'h264' });
    expect(callbacks.steps.filter((s) => s.note.startsWith('step')).map((s) => [s.step, s.total])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    const sent = [...fake.accepted.values()].at(-1)!.prompt;
    expect(sent['55']!.inputs).toMatchObject({ width: 160, height: 96, length: 9 });
    expect(sent['57']!.inputs).toMatchObject({ fps: 8 });
    expect(sent['6']!.inputs).toMatchObject({ text: 'fireworks over a harbour' });
  });

  it('the same seed gives the same clip bytes; another seed another clip', async () => {
    const engine = createComfyUiEngine(settings());
    const a = await engine.generateVideo(clip({ frames: 5 }), recordingCallbacks());
    const b = await engine.generateVideo(clip({ frames: 5 }), recordingCallbacks());
    const c = await engine.generateVideo(clip({ frames: 5, seed: 78 }), recordingCallbacks());
    expect(b.video.bytes.equals(a.video.bytes)).toBe(true);
    expect(c.video.bytes.equals(a.video.bytes)).toBe(false);
  });

  it('image to video: uploads the picture and wires it as the start image', async () => {
    const engine = createComfyUiEngine(settings());
    const result = await engine.generateVideo(
      clip({ operation: 'image-to-video', task: 'animate', image: await photo(), prompt: 'the clouds drift' }),
      recordingCallbacks(),
    );
    expect(result.model).toBe('comfyui:image_to_video.json');
    const sent = [...fake.accepted.values()].at(-1)!.prompt;
    const uploaded = String(sent['56']!.inputs!.image);
    expect(uploaded).toMatch(/^vitron-image-[0-9a-f]{24}\.png$/);
    expect(fake.uploads.has(uploaded)).toBe(true);
    expect(sent['55']!.inputs!.start_image).toEqual(['56', 0]);
    expect((await probeClip(result.video.bytes, 'mp4')).frames).toBe(9);
  });

  it('video to video: uploads the clip for LoadVideo, keeps its frames and rate, denoise = strength', async () => {
    const source = await readFile(await makeClip(dir, 'source', { width: 128, height: 96, fps: 10, seconds: 1.3 }));
    const engine = createComfyUiEngine(settings());
    const result = await engine.generateVideo(
      clip({ operation: 'video-to-video', task: 'edit', video: source, strength: 0.35, prompt: 'make it snow' }),
      recordingCallbacks(),
    );
    expect(result.model).toBe('comfyui:video_to_video.json');
    const sent = [...fake.accepted.values()].at(-1)!.prompt;
    const uploaded = String(sent['60']!.inputs!.file);
    expect(uploaded).toMatch(/^vitron-video-[0-9a-f]{24}\.mp4$/);
    expect(fake.uploads.get(uploaded)!.bytes.equals(source)).toBe(true);
    expect(sent['3']!.inputs).toMatchObject({ denoise: 0.35 });
    expect(await probeClip(result.video.bytes, 'mp4')).toMatchObject({ frames: 13, fps: 10, width: 128, height: 96 });
  });

  it('reads an animated WebP saved by SaveAnimatedWEBP (under `images` with animated: [true])', async () => {
    const operator = await mkdtemp(path.join(dir, 'svd-'));
    await copyFile(path.join(BUILT_IN_WORKFLOWS_DIR, 'alternatives', 'svd_image_to_video.json'), path.join(operator, 'image_to_video.json'));
    const engine = createComfyUiEngine(settings(operator));
    const result = await engine.generateVideo(
      clip({ operation: 'image-to-video', task: 'animate', image: await photo(), frames: 6, fps: 6 }),
      recordingCallbacks(),
    );
    expect(result.video.mime).toBe('image/webp');
    const meta = await sharp(result.video.bytes, { pages: -1 }).metadata();
    expect(meta).toMatchObject({ format: 'webp', pages: 6, width: 160 });
    const history = [...fake.history.values()].at(-1) as { outputs: Record<string, unknown> };
    expect(history.outputs['7']).toMatchObject({ images: [{ type: 'output' }], animated: [true] });
  });

  it('reads a VHS_VideoCombine clip (under `gifs`, with its frame rate)', async () => {
    const operator = await mkdtemp(path.join(dir, 'vhs-'));
    const wan = JSON.parse(await readFile(path.join(BUILT_IN_WORKFLOWS_DIR, 'text_to_video.json'), 'utf8'));
    delete wan['57'];
    delete wan['58'];
    wan['90'] = {
      class_type: 'VHS_VideoCombine',
      inputs: {
        images: ['8', 0],
        frame_rate: '{{fps|24}}',
        loop_count: 0,
        filename_prefix: 'vhs/clip',
        format: 'video/h264-mp4',
        pingpong: false,
        save_output: true,
      },
    };
    await writeFile(path.join(operator, 'generate_video.json'), JSON.stringify(wan));
    const engine = createComfyUiEngine(settings(operator));
    const result = await engine.generateVideo(clip({ fps: 12 }), recordingCallbacks());
    expect(result.model).toBe('comfyui:generate_video.json');
    expect(result.video).toMatchObject({ mime: 'video/mp4', fps: 12 });
    expect(await probeClip(result.video.bytes, 'mp4')).toMatchObject({ frames: 9, fps: 12 });
  });

  it('a workflow that saves only pictures cannot serve a clip: it is never chosen for video work', async () => {
    const operator = await mkdtemp(path.join(dir, 'pictures-'));
    await copyFile(path.join(BUILT_IN_WORKFLOWS_DIR, 'generate_image.json'), path.join(operator, 'generate_video.json'));
    const engine = createComfyUiEngine(settings(operator));
    const result = await engine.generateVideo(clip({ frames: 5 }), recordingCallbacks());
    expect(result.model).toBe('comfyui:text_to_video.json');
  });

  it('cancel while running: our prompt is interrupted by id and the job ends in JobCancelledError', async () => {
    fake.stepDelayMs = 40;
    const engine = createComfyUiEngine(settings());
    const callbacks = recordingCallbacks();
    const job = engine.generateVideo(clip({ steps: 50 }), callbacks);
    while (!callbacks.steps.some((s) => s.note === 'step 2/50')) await new Promise((r) => setTimeout(r, 10));
    callbacks.controller.abort();
    await expect(job).rejects.toBeInstanceOf(JobCancelledError);
    const last = fake.interrupts.at(-1)!;
    expect(last.interrupted).toBeDefined();
    expect(last.body).toEqual({ prompt_id: last.interrupted });
  });

  it('a node failing while running is EngineRejectedError naming the node, its class and the workflow file', async () => {
    fake.failAt = { classType: 'Wan22ImageToVideoLatent', message: 'CUDA out of memory' };
    const engine = createComfyUiEngine(settings());
    const error = await engine.generateVideo(clip(), recordingCallbacks()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineRejectedError);
    expect((error as Error).message).toMatch(/text_to_video\.json at Wan22ImageToVideoLatent #55: CUDA out of memory/);
  });

  it('a missing model file is refused at /prompt with the loader node named', async () => {
    fake.models.delete('wan2.2_vae.safetensors');
    try {
      const error = await createComfyUiEngine(settings())
        .generateVideo(clip(), recordingCallbacks())
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineRejectedError);
      expect((error as Error).message).toMatch(/node #39 \(VAELoader\): Value not in list: vae_name: 'wan2\.2_vae\.safetensors'/);
    } finally {
      fake.models.add('wan2.2_vae.safetensors');
    }
  });
});
