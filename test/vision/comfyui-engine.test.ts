import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EngineRejectedError, EngineUnavailableError } from '../../src/errors.ts';
import { closeComfyUiClients, createComfyUiEngine } from '../../src/vision/engines/comfyui-engine.ts';
import { BUILT_IN_WORKFLOWS_DIR } from '../../src/vision/engines/comfyui-workflows.ts';
import type { GenerationRequest } from '../../src/vision/engines/engine.ts';
import { recordingCallbacks } from '../fakes/comfyui/callbacks.ts';
import { FakeComfyUi } from '../fakes/comfyui/server.ts';
import { freePort } from '../helpers/free-port.ts';

let fake: FakeComfyUi;
const settings = () => ({ COMFYUI_URL: fake.url, COMFYUI_WORKFLOWS_DIR: undefined, COMFYUI_TIMEOUT_MS: 20_000 });
const draw = (over: Partial<GenerationRequest> = {}): GenerationRequest => ({
  operation: 'text-to-image',
  task: 'generate_image',
  prompt: 'a red fox in the snow',
  seed: 1234,
  width: 320,
  height: 192,
  count: 1,
  ...over,
});
const photo = () =>
  sharp({ create: { width: 96, height: 64, channels: 3, background: { r: 10, g: 120, b: 200 } } })
    .jpeg()
    .toBuffer();
const mask = () =>
  sharp({ create: { width: 96, height: 64, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .png()
    .toBuffer();

beforeAll(async () => {
  fake = await FakeComfyUi.start();
});
afterEach(() => {
  fake.failAt = undefined;
  fake.stepDelayMs = 1;
});
afterAll(async () => {
  closeComfyUiClients();
  await fake.close();
});

describe('ComfyUI engine against the fake ComfyUI', () => {
  it('text to image: queues the filled workflow with our client_id, reports steps and previews, returns the saved PNG', async () => {
    const engine = createComfyUiEngine(settings());
    const callbacks = recordingCallbacks();
    const result = await engine.generate(draw({ steps: 3 }), callbacks);
    expect(result).toMatchObject({ engine: 'comfyui', model: 'comfyui:generate_image.json', steps: 3, width: 320, height: 192 });
    expect(result.images).toHaveLength(1);
    expect(result.images[0]!.seed).toBe(1234);
    expect(await sharp(result.images[0]!.png).metadata()).toMatchObject({ format: 'png', width: 320, height: 192 });
    expect(callbacks.steps.filter((s) => s.note.startsWith('step'))).toEqual([
      { step: 1, total: 3, note: 'step 1/3' },
      { step: 2, total: 3, note: 'step 2/3' },
      { step: 3, total: 3, note: 'step 3/3' },
    ]);
    expect(callbacks.previews).toHaveLength(3);
    expect((await sharp(callbacks.previews[0]!).metadata()).format).toBe('png');
    const [queued] = [...fake.accepted.values()].slice(-1);
    expect(queued!.clientId).toMatch(/^vitron-/);
    expect(queued!.prompt['6']!.inputs!.text).toBe('a red fox in the snow');
  });

  it('the same seed reproduces the same bytes; another seed or prompt does not', async () => {
    const engine = createComfyUiEngine(settings());
    const a = await engine.generate(draw(), recordingCallbacks());
    const b = await engine.generate(draw(), recordingCallbacks());
    const c = await engine.generate(draw({ seed: 1235 }), recordingCallbacks());
    const d = await engine.generate(draw({ prompt: 'a blue fox' }), recordingCallbacks());
    expect(b.images[0]!.png.equals(a.images[0]!.png)).toBe(true);
    expect(c.images[0]!.png.equals(a.images[0]!.png)).toBe(false);
    expect(d.images[0]!.png.equals(a.images[0]!.png)).toBe(false);
  });

  it('count 2 queues one prompt per image with seed and seed + 1, so each can be reproduced alone', async () => {
    const engine = createComfyUiEngine(settings());
    const callbacks = recordingCallbacks();
    const grid = await engine.generate(draw({ count: 2, steps: 2 }), callbacks);
    expect(grid.images.map((i) => i.seed)).toEqual([1234, 1235]);
    const alone = await engine.generate(draw({ seed: 1235, steps: 2 }), recordingCallbacks());
    expect(alone.images[0]!.png.equals(grid.images[1]!.png)).toBe(true);
    expect(callbacks.steps.at(-1)).toEqual({ step: 4, total: 4, note: 'image 2/2, step 2/2' });
  });

  it('image to image uploads the picture as PNG and points LoadImage at it; the output has its size', async () => {
    const engine = createComfyUiEngine(settings());
    const before = fake.uploads.size;
    const result = await engine.generate(draw({ operation: 'image-to-image', task: 'vary', image: await photo(), strength: 0.4 }), recordingCallbacks());
    expect(result.model).toBe('comfyui:image_to_image.json');
    expect([result.width, result.height]).toEqual([96, 64]);
    expect(fake.uploads.size).toBe(before + 1);
    const prompt = [...fake.accepted.values()].at(-1)!.prompt;
    const uploaded = fake.uploads.get(String(prompt['10']!.inputs!.image))!;
    expect((await sharp(uploaded.bytes).metadata()).format).toBe('png');
    expect(prompt['3']!.inputs!.denoise).toBe(0.4);
  });

  it('inpaint uploads the picture and a black-and-white mask and fills LoadImage and LoadImageMask', async () => {
    const engine = createComfyUiEngine(settings());
    await engine.generate(draw({ operation: 'inpaint', task: 'replace', image: await photo(), mask: await mask() }), recordingCallbacks());
    const prompt = [...fake.accepted.values()].at(-1)!.prompt;
    expect(prompt['12']!.inputs).toMatchObject({ channel: 'red' });
    const image = String(prompt['10']!.inputs!.image);
    const maskName = String(prompt['12']!.inputs!.image);
    expect(image).not.toBe(maskName);
    const stats = await sharp(fake.uploads.get(maskName)!.bytes).stats();
    expect(stats.channels[0]!.min).toBe(255);
  });

  it('an operator workflow file replaces ours for its task', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'comfy-operator-'));
    try {
      const ours = JSON.parse(await readFile(path.join(BUILT_IN_WORKFLOWS_DIR, 'generate_image.json'), 'utf8'));
      ours['9'].inputs.filename_prefix = 'operator/mine';
      ours['6'].inputs.text = 'operator style, {{prompt}}';
      await writeFile(path.join(dir, 'generate_image.json'), JSON.stringify(ours));
      const engine = createComfyUiEngine({ ...settings(), COMFYUI_WORKFLOWS_DIR: dir });
      const result = await engine.generate(draw(), recordingCallbacks());
      expect(result.model).toBe('comfyui:generate_image.json');
      const prompt = [...fake.accepted.values()].at(-1)!.prompt;
      expect(prompt['6']!.inputs!.text).toBe('operator style, a red fox in the snow');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a node error while running is an EngineRejectedError naming the node and the workflow file', async () => {
    fake.failAt = { classType: 'VAEDecode', message: 'CUDA out of memory' };
    const engine = createComfyUiEngine(settings());
    const error = await engine.generate(draw(), recordingCallbacks()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineRejectedError);
    expect((error as Error).message).toMatch(/generate_image\.json at VAEDecode #8: CUDA out of memory/);
  });

  it('a workflow ComfyUI refuses (missing model) is an EngineRejectedError naming the node and the file', async () => {
    fake.models.delete('flux1-dev-kontext_fp8_scaled.safetensors');
    try {
      const engine = createComfyUiEngine(settings());
      const error = await engine.generate(draw({ operation: 'instruct', task: 'edit', image: await photo() }), recordingCallbacks()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EngineRejectedError);
      expect((error as Error).message).toMatch(/refused the workflow .*edit\.json: node #37 \(UNETLoader\): Value not in list: unet_name/);
      expect((error as EngineRejectedError).details.nodes).toEqual(['UNETLoader #37']);
    } finally {
      fake.models.add('flux1-dev-kontext_fp8_scaled.safetensors');
    }
  });

  it('supports() follows the workflow files and the URL', () => {
    const engine = createComfyUiEngine(settings());
    expect(engine.supports('instruct', 'edit')).toBe(true);
    expect(engine.supports('inpaint', 'outpaint')).toBe(true);
    expect(createComfyUiEngine({ ...settings(), COMFYUI_URL: undefined }).supports('text-to-image', 'generate_image')).toBe(false);
  });

  it('an unreachable URL is an EngineUnavailableError (which the queue retries)', async () => {
    const engine = createComfyUiEngine({ ...settings(), COMFYUI_URL: `http://127.0.0.1:${await freePort()}` });
    const error = await engine.generate(draw(), recordingCallbacks()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect((error as EngineUnavailableError).retryable).toBe(true);
    expect((error as Error).message).toMatch(/COMFYUI_URL/);
  });
});
