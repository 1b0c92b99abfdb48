import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TaskNotAvailableError } from '../../src/errors.ts';
import { probe, readFrames } from '../../src/media/ffmpeg.ts';
import { closeComfyUiClients } from '../../src/vision/engines/comfyui-engine.ts';
import type { EngineFactories } from '../../src/vision/engines/engine-choice.ts';
import type { GenerationEngine, GenerationRequest } from '../../src/vision/engines/engine.ts';
import { DEFAULT_ENGINE_FACTORIES } from '../../src/vision/engines/engines.ts';
import type { Detection } from '../../src/vision/ops/detection.ts';
import type { RawImage } from '../../src/vision/ops/raw-image.ts';
import { editMediaSpecialist } from '../../src/vision/registry.ts';
import { editFrameByFrame } from '../../src/vision/tasks/video/edit-video.ts';
import { FrameChangeMeter, meanAbsoluteChange } from '../../src/vision/tasks/video/frame-change.ts';
import { generateVideoSpecialist, imageToVideoEngine } from '../../src/vision/tasks/video/generate-video.ts';
import { FakeComfyUi } from '../fakes/comfyui/server.ts';
import { makeClip } from '../helpers/media-fixtures.ts';
import { type TestContext, imageMedia, invocation, makeSpecialistContext, videoMedia } from '../helpers/specialist-context.ts';

/**
 * The video specialists on engines: text → video and image → video against the fake ComfyUI, and edits of
 * a video by words, frame by frame on a recording image engine (one seed on every frame, the tracked box
 * followed, the flicker figure) or as a whole clip through ComfyUI's video_to_video.json.
 */

type Paint = (frame: Buffer, call: number) => Promise<Buffer>;

/** An image engine that records every request and paints each frame with `paint`; it says it is SD-Turbo. */
function recordingImageEngine(paint: Paint): { factories: EngineFactories; requests: GenerationRequest[] } {
  const requests: GenerationRequest[] = [];
  const engine: GenerationEngine = {
    name: 'sd-turbo',
    supports: (operation) => operation === 'image-to-image',
    async generate(request) {
      requests.push(request);
      return {
        images: [{ png: await paint(request.image!, requests.length), seed: request.seed }],
        engine: 'sd-turbo',
        model: 'sd-turbo',
        steps: 2,
        width: request.width,
        height: request.height,
      };
    },
  };
  return { factories: { ...DEFAULT_ENGINE_FACTORIES, 'sd-turbo': () => engine }, requests };
}

/** A steady edit: every pixel 40 levels redder, the same on each frame. */
const redder: Paint = (frame) => sharp(frame).linear([1, 1, 1], [40, 0, 0]).png().toBuffer();
/** A flickering edit: each call shifts the whole frame by a different amount, as independent noise would. */
const flickering: Paint = (frame, call) => {
  const shift = call % 2 === 0 ? 45 : -45;
  return sharp(frame).linear([1, 1, 1], [shift, shift, shift]).png().toBuffer();
};
/** Paints the whole frame pure red, so where the paste went is plain to see. */
const allRed: Paint = async (frame) => {
  const { width, height } = await sharp(frame).metadata();
  return sharp({ create: { width: width!, height: height!, channels: 3, background: { r: 255, g: 0, b: 0 } } })
    .png()
    .toBuffer();
};

let context: TestContext;
let fake: FakeComfyUi;
let source: string;

async function withSdTurbo(ctx: TestContext, factories: EngineFactories): Promise<void> {
  ctx.engines = factories;
  const installed = ctx.models.isInstalled.bind(ctx.models);
  ctx.models.isInstalled = (name: string) => name === 'sd-turbo' || installed(name);
}

async function frames(file: string, ctx: TestContext): Promise<RawImage[]> {
  const facts = await probe(ctx.ffmpeg, file);
  const out: RawImage[] = [];
  for await (const data of readFrames(ctx.ffmpeg, file, { width: facts.width, height: facts.height }))
    out.push({ data, width: facts.width, height: facts.height, channels: 4 });
  return out;
}

/** Mean of one channel (0 = red) over a rectangle of an RGBA frame. */
function channelMean(frame: RawImage, channel: number, left: number, top: number, width: number, height: number): number {
  let sum = 0;
  for (let y = top; y < top + height; y++) for (let x = left; x < left + width; x++) sum += frame.data[(y * frame.width + x) * 4 + channel]!;
  return sum / (width * height);
}

beforeAll(async () => {
  fake = await FakeComfyUi.start();
});
afterAll(async () => {
  closeComfyUiClients();
  await fake.close();
});
afterEach(async () => {
  await context?.cleanup();
});

describe('frame-to-frame change (the flicker figure)', () => {
  const flat = (v: number): RawImage => ({ data: Buffer.alloc(4 * 4 * 4, v), width: 4, height: 4, channels: 4 });

  it('is the mean absolute RGB change between consecutive frames, for the input and the output', () => {
    expect(meanAbsoluteChange(flat(10), flat(25))).toBe(15);
    const meter = new FrameChangeMeter();
    meter.add(flat(0), flat(0));
    meter.add(flat(10), flat(30));
    meter.add(flat(10), flat(0));
    expect(meter.result()).toEqual({ input: 5, output: 30, ratio: 6, pairs: 2, flickerLikely: true });
  });

  it('an edit that changes as much as its source is not flicker; nor is a tiny change on a still source', () => {
    const steady = new FrameChangeMeter();
    for (const v of [0, 10, 20, 30]) steady.add(flat(v), flat(v + 40));
    expect(steady.result()).toMatchObject({ input: 10, output: 10, ratio: 1, flickerLikely: false });
    const still = new FrameChangeMeter();
    for (const [i, o] of [
      [100, 100],
      [100, 102],
      [100, 100],
    ] as const)
      still.add(flat(i), flat(o));
    expect(still.result()).toMatchObject({ input: 0, output: 2, flickerLikely: false });
  });
});

describe('editing a video frame by frame on the in-process image engine', () => {
  beforeAll(async () => {
    const ctx = await makeSpecialistContext();
    source = await makeClip(path.join(ctx.tmpDir, '..'), `edit-source-${process.pid}`, { width: 160, height: 120, fps: 10, seconds: 1 });
    await ctx.cleanup();
  });

  it('sends every frame with the same seed, strength and prompt, and reports the frames as consistent', async () => {
    context = await makeSpecialistContext();
    const { factories, requests } = recordingImageEngine(redder);
    await withSdTurbo(context, factories);
    const video = await videoMedia(context, source);
    const result = await editFrameByFrame('edit', invocation('edit', video, { prompt: "make it look like it's snowing", seed: 4242 }), context);
    expect(requests).toHaveLength(video.info.frameCount!);
    expect(new Set(requests.map((r) => r.seed))).toEqual(new Set([4242]));
    expect(new Set(requests.map((r) => r.strength))).toEqual(new Set([0.35]));
    expect(new Set(requests.map((r) => `${r.operation} ${r.prompt} ${r.width}x${r.height}`))).toEqual(
      new Set(["image-to-image make it look like it's snowing 160x120"]),
    );
    // Each frame's own pixels went in: the testsrc counter makes every frame different.
    expect(new Set(requests.map((r) => createHash('sha256').update(r.image!).digest('hex'))).size).toBe(requests.length);
    expect(result.frameChange.flickerLikely).toBe(false);
    expect(result.frameChange.pairs).toBe(requests.length - 1);
    expect(result.text).toMatch(/seed 4242 on every frame/);
    expect(result.text).toMatch(/The frames stay consistent: frame-to-frame change [\d.]+ levels against the original's [\d.]+/);
    expect(result.media[0]).toMatchObject({
      kind: 'video',
      mime: 'video/mp4',
      generation: { seed: 4242, engine: 'sd-turbo', model: 'sd-turbo', strength: 0.35 },
    });
    const out = path.join(context.tmpDir, 'out.mp4');
    await writeFile(out, result.media[0]!.bytes);
    expect((await probe(context.ffmpeg, out)).frameCount).toBe(video.info.frameCount);
  });

  it('says flicker is likely when the edited frames jump about more than the source', async () => {
    context = await makeSpecialistContext();
    await withSdTurbo(context, recordingImageEngine(flickering).factories);
    const result = await editFrameByFrame('style', invocation('style', await videoMedia(context, source), { prompt: 'cartoon', seed: 1 }), context);
    expect(result.frameChange.flickerLikely).toBe(true);
    expect(result.frameChange.output).toBeGreaterThan(result.frameChange.input * 1.5);
    expect(result.text).toMatch(/^Restyled every frame: "cartoon".*Flicker is likely/);
  });

  it('with a phrase, paints only inside the tracked box, which follows the object from frame to frame', async () => {
    context = await makeSpecialistContext();
    await withSdTurbo(context, recordingImageEngine(allRed).factories);
    const boxAt = (i: number): Detection => ({ x1: 10 + 8 * i, y1: 30, x2: 50 + 8 * i, y2: 80, label: 'car', score: 0.9 });
    const seen: number[] = [];
    const result = await editFrameByFrame(
      'edit',
      invocation('edit', await videoMedia(context, source), { prompt: 'turn the car red', phrase: 'the car', seed: 3 }),
      context,
      {
        detector: async (_frame, index) => {
          seen.push(index);
          return [boxAt(index)];
        },
      },
    );
    const out = path.join(context.tmpDir, 'tracked.mp4');
    await writeFile(out, result.media[0]!.bytes);
    const edited = await frames(out, context);
    const original = await frames(source, context);
    expect(edited).toHaveLength(original.length);
    for (const [i, frame] of edited.entries()) {
      const box = boxAt(i);
      // The middle of the box is red; a strip well right of it is the source's own pixels.
      expect(channelMean(frame, 0, box.x1 + 10, 45, 20, 20)).toBeGreaterThan(220);
      expect(channelMean(frame, 1, box.x1 + 10, 45, 20, 20)).toBeLessThan(40);
      const right = Math.min(150, box.x2 + 20);
      const strip = (f: RawImage) => [0, 1, 2].map((c) => channelMean(f, c, right, 35, 8, 40));
      const [a, b] = [strip(frame), strip(original[i]!)];
      for (let c = 0; c < 3; c++) expect(Math.abs(a[c]! - b[c]!)).toBeLessThan(8);
    }
    expect(result.text).toMatch(/inside the car \(followed in 10 of 10 frames\)/);
  });

  it('without a seeded engine (only the Images API), refuses with an operator hint naming ComfyUI and SD-Turbo', async () => {
    context = await makeSpecialistContext({ env: { IMAGES_API_URL: 'http://127.0.0.1:9', GENERATION_ENGINES: 'images-api' } });
    context.engines = DEFAULT_ENGINE_FACTORIES;
    const error = await editMediaSpecialist
      .run(invocation('edit', await videoMedia(context, source), { prompt: 'make it winter' }), context)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskNotAvailableError);
    expect((error as TaskNotAvailableError).operatorHint).toMatch(/COMFYUI_URL.*sd-turbo.*the Images API takes no seed/);
    expect((error as Error).message).toBe("This server can't edit videos yet — ask its admin to enable video editing.");
  });
});

describe('video on the ComfyUI engine (fake ComfyUI, real clips)', () => {
  const comfy = () => ({ env: { COMFYUI_URL: fake.url } });

  it('generate_video: a text-to-video clip as MP4, recorded with its seed, engine and workflow', async () => {
    context = await makeSpecialistContext(comfy());
    context.engines = DEFAULT_ENGINE_FACTORIES;
    const result = await generateVideoSpecialist.run(
      { task: 'generate_video', media: [], args: { prompt: 'waves at dusk', seconds: 0.5, seed: 9, steps: 2 } },
      context,
    );
    const clip = result.media[0]!;
    expect(clip).toMatchObject({
      kind: 'video',
      mime: 'video/mp4',
      role: 'result',
      generation: { prompt: 'waves at dusk', seed: 9, steps: 2, engine: 'comfyui', model: 'comfyui:text_to_video.json' },
    });
    const file = path.join(context.tmpDir, 'generated.mp4');
    await writeFile(file, clip.bytes);
    expect(await probe(context.ffmpeg, file)).toMatchObject({ codec: 'h264', width: 1280, height: 704, fps: 24, frameCount: 13 });
    expect(result.text).toBe('Here is "waves at dusk", made with comfyui:text_to_video.json on comfyui (seed 9, 2 steps), 13 frames at 24 fps.');
    expect(context.reports.some((r) => r.note === 'step 2/2')).toBe(true);
  });

  it('generate_video with no video engine answers with what the operator must set', async () => {
    context = await makeSpecialistContext();
    context.engines = DEFAULT_ENGINE_FACTORIES;
    const error = await generateVideoSpecialist.run({ task: 'generate_video', media: [], args: { prompt: 'waves' } }, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskNotAvailableError);
    expect((error as TaskNotAvailableError).operatorHint).toMatch(/set COMFYUI_URL to a ComfyUI with Wan 2\.2 TI2V 5B \(workflow text_to_video\.json/);
    expect((error as Error).message).toBe("This server can't make videos yet — ask its admin to enable video generation.");
  });

  it('imageToVideoEngine: none without an engine; with ComfyUI, the picture becomes the first frame of an MP4', async () => {
    context = await makeSpecialistContext();
    context.engines = DEFAULT_ENGINE_FACTORIES;
    expect(imageToVideoEngine(context)).toBeUndefined();
    await context.cleanup();
    context = await makeSpecialistContext(comfy());
    context.engines = DEFAULT_ENGINE_FACTORIES;
    const engine = imageToVideoEngine(context)!;
    expect(engine.name).toBe('comfyui');
    const picture = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#3366aa' } })
      .png()
      .toBuffer();
    const result = await engine.run(
      { task: 'animate', media: [await imageMedia(context, picture)], args: { prompt: 'make the clouds move', seconds: 1, seed: 5 } },
      context,
    );
    expect(result.media[0]).toMatchObject({ mime: 'video/mp4', generation: { seed: 5, model: 'comfyui:image_to_video.json' } });
    const sent = [...fake.accepted.values()].at(-1)!.prompt;
    expect(sent['55']!.inputs).toMatchObject({ width: 1280, height: 864, length: 25, start_image: ['56', 0] });
    expect(sent['6']!.inputs!.text).toBe('make the clouds move');
    expect(result.text).toMatch(
      /^Animated \("make the clouds move"\), with comfyui:image_to_video\.json on comfyui \(seed 5, 20 steps\), 25 frames at 24 fps\.$/,
    );
  });

  it('edit on a video with ComfyUI: the clip shaped for Wan (sides in multiples of 32, 4k + 1 frames) through video_to_video.json, the answer cut back to the source frames and rate', async () => {
    context = await makeSpecialistContext(comfy());
    context.engines = DEFAULT_ENGINE_FACTORIES;
    const video = await videoMedia(context, source);
    expect(video.info).toMatchObject({ width: 160, height: 120, frameCount: 10 });
    const result = await editMediaSpecialist.run(invocation('edit', video, { prompt: "make it look like it's snowing", seed: 8 }), context);
    expect(result.media[0]).toMatchObject({ kind: 'video', generation: { seed: 8, strength: 0.5, model: 'comfyui:video_to_video.json' } });
    const sent = [...fake.accepted.values()].at(-1)!.prompt;
    const uploaded = path.join(context.tmpDir, 'uploaded.mp4');
    await writeFile(uploaded, fake.uploads.get(String(sent['60']!.inputs!.file))!.bytes);
    // 120 rounds to 128 (4 × 32); 10 frames pad to 13 (4 · 3 + 1), the last one repeated.
    expect(await probe(context.ffmpeg, uploaded)).toMatchObject({ width: 160, height: 128, frameCount: 13, fps: 10 });
    const file = path.join(context.tmpDir, 'edited.mp4');
    await writeFile(file, result.media[0]!.bytes);
    expect(await probe(context.ffmpeg, file)).toMatchObject({ frameCount: video.info.frameCount, fps: 10 });
    expect(result.text).toMatch(/^Edited the video as a whole: "make it look like it's snowing", with comfyui:video_to_video\.json/);
  });
});
