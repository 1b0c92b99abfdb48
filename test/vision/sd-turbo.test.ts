import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobCancelledError, JobTimeoutError, ModelNotInstalledError } from '../../src/errors.ts';
import type { GenerationCallbacks, GenerationRequest } from '../../src/vision/engines/engine.ts';
import { createSdTurboEngine } from '../../src/vision/engines/sd-turbo.ts';
import type { SdTurboEngineOptions } from '../../src/vision/engines/sd-turbo.ts';
import { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { INPUT_COLOURS, TARGET_SIZE, installSdTurboFixture, pictureRgb, psnr, targetRgb } from '../fixtures/sd-turbo-fixture.ts';
import type { SdTurboFixtureOptions } from '../fixtures/sd-turbo-fixture.ts';
import { recordingRegistry } from '../helpers/recording-registry.ts';
import { testSettings } from '../helpers/specialist-context.ts';

const roots: string[] = [];
afterAll(() => Promise.all(roots.map((r) => fs.rm(r, { recursive: true, force: true }))));

interface Setup {
  models: ModelRegistry;
  /** The timestep fed to each UNet run, in order. */
  timesteps: number[];
  encoderRuns: () => number;
}

/** A fresh MODELS_DIR with the fixture, and a registry that records what reached the UNet and the VAE encoder. */
async function setup(options: SdTurboFixtureOptions = {}): Promise<Setup> {
  const modelsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sd-turbo-'));
  roots.push(modelsDir);
  await installSdTurboFixture(modelsDir, options);
  const timesteps: number[] = [];
  let encoderRuns = 0;
  const models = recordingRegistry(testSettings({ MODELS_DIR: modelsDir }), ({ session, feeds }) => {
    if (session.inputNames.includes('timestep')) timesteps.push(Number((feeds.timestep as ort.Tensor).data[0]));
    else if (session.outputNames.some((n) => n.startsWith('latent_'))) encoderRuns++;
  });
  return { models, timesteps, encoderRuns: () => encoderRuns };
}

const rgbPng = (rgb: Buffer, width = TARGET_SIZE, height = TARGET_SIZE) =>
  sharp(rgb, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
const decode = async (png: Buffer) => sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });

function callbacks(overrides: Partial<GenerationCallbacks> = {}): GenerationCallbacks & { steps: [number, number, string][]; previews: Buffer[] } {
  const steps: [number, number, string][] = [];
  const previews: Buffer[] = [];
  return {
    steps,
    previews,
    progress: (step, total, note) => steps.push([step, total, note]),
    preview: (png) => previews.push(png),
    signal: new AbortController().signal,
    ...overrides,
  };
}

function request(overrides: Partial<GenerationRequest> = {}): GenerationRequest {
  return { operation: 'text-to-image', task: 'generate_image', prompt: 'a cat', seed: 7, width: TARGET_SIZE, height: TARGET_SIZE, count: 1, ...overrides };
}

async function generate(models: ModelRegistry, req: GenerationRequest, engineOptions: SdTurboEngineOptions = {}) {
  const result = await createSdTurboEngine(models, engineOptions).generate(req, callbacks());
  return { result, pixels: await Promise.all(result.images.map(async (i) => (await decode(i.png)).data)) };
}

describe('SD-Turbo engine on the oracle fixture: text-to-image', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(() => s.models.dispose());

  it.each([1, 2, 4])('lands on the target picture in %i step(s), with the trailing timesteps', async (steps) => {
    s.timesteps.length = 0;
    const { result, pixels } = await generate(s.models, request({ steps }));
    expect(psnr(pixels[0]!, targetRgb(0))).toBeGreaterThanOrEqual(40);
    expect(s.timesteps).toEqual({ 1: [999], 2: [999, 499], 4: [999, 749, 499, 249] }[steps]);
    expect(result).toMatchObject({ engine: 'sd-turbo', model: 'sd-turbo', steps, width: 64, height: 64 });
  });

  it('defaults to 1 step, and the prompt reaches the UNet through the text encoder ("red" and "blue" move the target)', async () => {
    s.timesteps.length = 0;
    const red = await generate(s.models, request({ prompt: 'a red cat' }));
    expect(red.result.steps).toBe(1);
    expect(s.timesteps).toEqual([999]);
    expect(psnr(red.pixels[0]!, targetRgb(1))).toBeGreaterThanOrEqual(40);
    const blue = await generate(s.models, request({ prompt: 'a blue blue cat' }));
    expect(psnr(blue.pixels[0]!, targetRgb(-2))).toBeGreaterThanOrEqual(40);
    expect(psnr(red.pixels[0]!, targetRgb(0))).toBeLessThan(30);
  });

  it('rounds the size to multiples of 8 and reports it', async () => {
    const { result, pixels } = await generate(s.models, request({ width: 70, height: 60 }));
    expect([result.width, result.height]).toEqual([72, 64]);
    const meta = await sharp(result.images[0]!.png).metadata();
    expect([meta.width, meta.height]).toEqual([72, 64]);
    expect(pixels[0]!.length).toBe(72 * 64 * 3);
  });

  it('reports progress per step and a preview PNG after each step', async () => {
    const cb = callbacks();
    await createSdTurboEngine(s.models).generate(request({ steps: 2, count: 2 }), cb);
    expect(cb.steps).toEqual([
      [1, 4, 'image 1/2, step 1/2'],
      [2, 4, 'image 1/2, step 2/2'],
      [3, 4, 'image 2/2, step 1/2'],
      [4, 4, 'image 2/2, step 2/2'],
    ]);
    expect(cb.previews).toHaveLength(4);
    const meta = await sharp(cb.previews[0]!).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 16, 16]);
  });

  it('previews the clean-latent estimate x0, not the noisy latent: with the oracle every step previews the same picture', async () => {
    const cb = callbacks();
    await createSdTurboEngine(s.models).generate(request({ steps: 4 }), cb);
    const pixels = await Promise.all(cb.previews.map(async (p) => (await decode(p)).data));
    for (const p of pixels.slice(1)) expect(psnr(p, pixels[0]!)).toBeGreaterThanOrEqual(40);
    // …and it is a picture of the target, not a flat field: the target's bright square shows.
    const grey = (i: number) => pixels[0]![i * 3]! + pixels[0]![i * 3 + 1]! + pixels[0]![i * 3 + 2]!;
    expect(new Set(Array.from({ length: 256 }, (_, i) => grey(i))).size).toBeGreaterThan(8);
  });

  it('stops between steps when the signal aborts, with JobCancelledError', async () => {
    s.timesteps.length = 0;
    const controller = new AbortController();
    const cb = callbacks({ signal: controller.signal, progress: (step) => step === 1 && controller.abort() });
    await expect(createSdTurboEngine(s.models).generate(request({ steps: 4 }), cb)).rejects.toBeInstanceOf(JobCancelledError);
    expect(s.timesteps).toEqual([999]);
    // A reason the runner gives (a timeout…) is passed on as it is.
    const timeout = new AbortController();
    const timedOut = new JobTimeoutError(60);
    const cb2 = callbacks({ signal: timeout.signal, progress: () => timeout.abort(timedOut) });
    await expect(createSdTurboEngine(s.models).generate(request({ steps: 2 }), cb2)).rejects.toBe(timedOut);
  });

  it('says it cannot follow instructions, and does the rest', () => {
    const engine = createSdTurboEngine(s.models);
    expect(engine.supports('instruct', 'edit')).toBe(false);
    for (const op of ['text-to-image', 'image-to-image', 'inpaint'] as const) expect(engine.supports(op, 'generate_image')).toBe(true);
  });
});

describe('SD-Turbo engine: seeds (a half-strength oracle, so the noise shows in the picture)', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup({ gain: 0.5 });
  });
  afterAll(() => s.models.dispose());

  it('gives identical bytes for the same seed and different bytes for another; image i of a batch is seed + i', async () => {
    const a = await generate(s.models, request({ seed: 123 }));
    const again = await generate(s.models, request({ seed: 123 }));
    const other = await generate(s.models, request({ seed: 124 }));
    expect(a.result.images[0]!.png.equals(again.result.images[0]!.png)).toBe(true);
    expect(a.result.images[0]!.png.equals(other.result.images[0]!.png)).toBe(false);
    const batch = await generate(s.models, request({ seed: 123, count: 3 }));
    expect(batch.result.images.map((i) => i.seed)).toEqual([123, 124, 125]);
    expect(batch.result.images[0]!.png.equals(a.result.images[0]!.png)).toBe(true);
    expect(batch.result.images[1]!.png.equals(other.result.images[0]!.png)).toBe(true);
  });
});

describe('SD-Turbo engine: graph variants', () => {
  it.each([
    ['timestep float32', { timestep: 'float32' }],
    ['timestep float16', { timestep: 'float16' }],
    ['fp16 VAE decoder', { fp16Decoder: true }],
  ] as const)('lands on the target with a %s export (4 steps)', async (_label, options) => {
    const s = await setup(options);
    const { pixels } = await generate(s.models, request({ steps: 4 }));
    expect(psnr(pixels[0]!, targetRgb(0))).toBeGreaterThanOrEqual(40);
    await s.models.dispose();
  });

  it('runs an fp16 UNet (sample, hidden states and output in half precision)', async () => {
    const s = await setup({ fp16: true, timestep: 'float16' });
    const { pixels } = await generate(s.models, request({ steps: 4 }));
    // fp16 rounds the UNet's input and answer: the last step's error is a couple of grey levels.
    expect(psnr(pixels[0]!, targetRgb(0))).toBeGreaterThanOrEqual(35);
    await s.models.dispose();
  });

  it('names `npm run models -- pull sd-turbo` when no export is installed', async () => {
    const models = new ModelRegistry({ settings: testSettings({ MODELS_DIR: path.join(os.tmpdir(), 'sd-turbo-none') }) });
    const error = await createSdTurboEngine(models)
      .generate(request(), callbacks())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelNotInstalledError);
    expect((error as ModelNotInstalledError).modelName).toBe('sd-turbo');
    expect((error as Error).message).not.toContain('npm run models');
    expect((error as ModelNotInstalledError).operatorHint).toContain('npm run models -- pull sd-turbo');
  });

  it('uses sd-turbo-cpu when that export is the one installed', async () => {
    const s = await setup({ model: 'sd-turbo-cpu' });
    const { result, pixels } = await generate(s.models, request());
    expect(result.model).toBe('sd-turbo-cpu');
    expect(psnr(pixels[0]!, targetRgb(0))).toBeGreaterThanOrEqual(40);
    await s.models.dispose();
  });
});

describe.each(['latent_sample', 'latent_parameters'] as const)('SD-Turbo engine with a VAE encoder returning %s', (encoder) => {
  let s: Setup;
  let input: Buffer;
  beforeAll(async () => {
    s = await setup({ encoder });
    input = await rgbPng(pictureRgb(INPUT_COLOURS));
  });
  afterAll(() => s.models.dispose());

  it.each([
    [0.3, 1, [299]],
    [0.5, 1, [499]],
    [0.5, 2, [499, 249]],
    [0.8, 4, [799, 599, 399, 199]],
    [1, 2, [999, 499]],
  ])('image-to-image at strength %f in %i step(s) starts at the right timestep and lands on the target', async (strength, steps, expected) => {
    s.timesteps.length = 0;
    const runs = s.encoderRuns();
    const { pixels } = await generate(s.models, request({ operation: 'image-to-image', task: 'style', image: input, strength, steps }));
    expect(s.timesteps).toEqual(expected);
    expect(s.encoderRuns()).toBe(runs + 1);
    expect(psnr(pixels[0]!, targetRgb(0))).toBeGreaterThanOrEqual(40);
  });

  it('inpaints: the masked left half becomes the target, the right half keeps the input byte for byte', async () => {
    const maskBytes = Buffer.alloc(64 * 64);
    for (let i = 0; i < maskBytes.length; i++) maskBytes[i] = i % 64 < 32 ? 255 : 0;
    const mask = await sharp(maskBytes, { raw: { width: 64, height: 64, channels: 1 } })
      .png()
      .toBuffer();
    const original = pictureRgb(INPUT_COLOURS);
    const target = targetRgb(0);
    const halves = (rgb: Uint8Array) => {
      const left: number[] = [];
      const right: number[] = [];
      for (let i = 0; i < 64 * 64; i++) (i % 64 < 32 ? left : right).push(rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!);
      return { left: Uint8Array.from(left), right: Uint8Array.from(right) };
    };
    const req = request({ operation: 'inpaint', task: 'replace', image: input, mask, steps: 2 });
    const pasted = halves((await generate(s.models, req)).pixels[0]!);
    expect(psnr(pasted.left, halves(target).left)).toBeGreaterThanOrEqual(40);
    expect(pasted.right).toEqual(halves(original).right);
    // Without pasting back, the right half is what the latent blend kept: the encoder's latent of the input,
    // decoded again — exact up to float rounding (at most 1 grey level) if the blend and the encoder's
    // output (the mean, never the log-variance) and the 0.18215 scaling are right.
    const blended = halves((await generate(s.models, req, { pasteKept: false })).pixels[0]!);
    expect(psnr(blended.left, halves(target).left)).toBeGreaterThanOrEqual(40);
    const worst = blended.right.reduce((m, v, i) => Math.max(m, Math.abs(v - halves(original).right[i]!)), 0);
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('inpaints below full strength from the noised picture (t 599 for 0.6), still landing on the target in the mask', async () => {
    const maskBytes = Buffer.alloc(64 * 64);
    for (let i = 0; i < maskBytes.length; i++) maskBytes[i] = Math.floor(i / 64) >= 40 ? 255 : 0;
    const mask = await sharp(maskBytes, { raw: { width: 64, height: 64, channels: 1 } })
      .png()
      .toBuffer();
    s.timesteps.length = 0;
    const { pixels } = await generate(s.models, request({ operation: 'inpaint', task: 'outpaint', image: input, mask, strength: 0.6, steps: 2 }));
    expect(s.timesteps).toEqual([599, 299]);
    const rows = (rgb: Uint8Array, from: number, to: number) => rgb.subarray(from * 64 * 3, to * 64 * 3);
    // Rows 40..63 are masked and latent rows 5..7 cover them exactly (40 = 5·8).
    expect(psnr(rows(pixels[0]!, 40, 64), rows(targetRgb(0), 40, 64))).toBeGreaterThanOrEqual(40);
    expect(Buffer.from(rows(pixels[0]!, 0, 40)).equals(Buffer.from(rows(pictureRgb(INPUT_COLOURS), 0, 40)))).toBe(true);
  });
});
