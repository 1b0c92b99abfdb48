/**
 * The continuous half of the hybrid message, specialist side: a phrase or prompt that arrives encoded by the
 * very text encoder the specialist would run is used as it is (that encoder is not even loaded), anything else —
 * another export on the bot's machine, damaged numbers, other words — is encoded here, and a video's phrase is
 * encoded once per job, not once per detector frame. Runs on the fixture models (the real graphs' names).
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { encoderId, parseEmbeddingKey } from '../../src/core/embeddings.ts';
import type { GenerationRequest } from '../../src/vision/engines/engine.ts';
import { createSdTurboEngine } from '../../src/vision/engines/sd-turbo.ts';
import { sdTurboPromptEmbedding } from '../../src/vision/engines/sd-turbo-prompt.ts';
import { clipsegTextEmbedding } from '../../src/vision/models/clipseg.ts';
import { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { owlvitTextEmbedding } from '../../src/vision/models/owlvit.ts';
import type { SpecialistInput, SpecialistResult } from '../../src/vision/specialist.ts';
import { detectSpecialist } from '../../src/vision/tasks/understand/detect.ts';
import { segmentSpecialist } from '../../src/vision/tasks/segment/segment.ts';
import { clipsegFixture, installClipsegFixture } from '../fixtures/clipseg-fixture.ts';
import { installOwlvitFixture } from '../fixtures/owlvit-fixture.ts';
import { installSdTurboFixture, TARGET_SIZE } from '../fixtures/sd-turbo-fixture.ts';
import { imageMedia, makeSpecialistContext, testSettings, videoMedia } from '../helpers/specialist-context.ts';

const HEAVY = { timeout: 180_000 };
const exec = promisify(execFile);

const dirs: string[] = [];
const registries: ModelRegistry[] = [];
afterAll(async () => {
  await Promise.all(registries.map((r) => r.dispose()));
  await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
});

async function modelsDir(install: (dir: string) => Promise<unknown>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-embeddings-'));
  dirs.push(dir);
  await install(dir);
  return dir;
}

function registry(dir: string): ModelRegistry {
  const models = new ModelRegistry({ settings: testSettings({ MODELS_DIR: dir }), log: { warn: () => {} } });
  registries.push(models);
  return models;
}

/** A worker's registry that counts, from outside, which graphs are loaded and which runs read words. */
function watched(dir: string) {
  const loaded: string[] = [];
  const runs: { text: boolean; picture: boolean }[] = [];
  const models = new ModelRegistry({
    settings: testSettings({ MODELS_DIR: dir }),
    log: { warn: () => {} },
    createSession: async (source, options) => {
      const session = typeof source === 'string' ? await ort.InferenceSession.create(source, options) : await ort.InferenceSession.create(source, options);
      loaded.push(typeof source === 'string' ? path.relative(dir, source) : `made: ${session.inputNames.join(',')}`);
      // A text encoder reads token ids and no picture (CLIPSeg's and OWL-ViT's text halves, SD-Turbo's text_encoder).
      const text = session.inputNames.includes('input_ids') && !session.inputNames.includes('pixel_values');
      const picture = session.inputNames.includes('pixel_values');
      const run = session.run.bind(session);
      session.run = ((...args: unknown[]) => {
        runs.push({ text, picture });
        return (run as (...a: unknown[]) => ReturnType<typeof run>)(...args);
      }) as typeof session.run;
      return session;
    },
  });
  registries.push(models);
  return {
    models,
    loaded,
    textRuns: () => runs.filter((r) => r.text).length,
    pictureRuns: () => runs.filter((r) => r.picture).length,
  };
}

/** 640×480 blue with a red rectangle: the fixtures' "sky" is the blue, their "red" the rectangle. */
function redOnBlue(): Promise<Buffer> {
  return sharp({ create: { width: 640, height: 480, channels: 3, background: '#0000ff' } })
    .composite([{ input: { create: { width: 200, height: 150, channels: 3, background: '#ff0000' } }, left: 100, top: 50 }])
    .png()
    .toBuffer();
}

/** The same embedding under the key another export of the model would write (another graph fingerprint). */
function underAnotherEncoder(key: string, values: number[]): Record<string, number[]> {
  const parts = parseEmbeddingKey(key)!;
  const model = parts.encoder.slice(0, parts.encoder.indexOf(':text:'));
  return { [key.replace(parts.encoder, encoderId(model, '00000000'))]: values };
}

async function segmentWith(models: ModelRegistry, phrase: string, embeddings?: Record<string, number[]>): Promise<SpecialistResult> {
  const context = await makeSpecialistContext({ models });
  try {
    const media = await imageMedia(context, await redOnBlue());
    const input: SpecialistInput = { task: 'segment', media: [media], args: { phrase }, ...(embeddings ? { embeddings } : {}) };
    return await segmentSpecialist.run(input, context);
  } finally {
    await context.cleanup();
  }
}

const maskOf = (result: SpecialistResult) => result.media.find((m) => m.role === 'mask')!.bytes;

describe('CLIPSeg reads the phrase the planner encoded', () => {
  it("uses the planner's embedding and never loads its own text half; the mask is the one it would have made", HEAVY, async () => {
    const dir = await modelsDir(installClipsegFixture);
    const sent = (await clipsegTextEmbedding(registry(dir), 'the sky'))!;
    expect(sent.key).toMatch(/^phrase@clipseg-rd64:text:[0-9a-f]{8}#[0-9a-f]{12}$/);

    const worker = watched(dir);
    const used = await segmentWith(worker.models, 'the sky', { [sent.key]: sent.values });
    expect(worker.textRuns()).toBe(0);
    expect(worker.loaded).toEqual(['made: pixel_values,text_bc11']);
    expect(worker.models.loadedSessions()).toEqual(['clipseg-rd64/onnx/model.onnx#rest']);

    const alone = watched(dir);
    const encodedHere = await segmentWith(alone.models, 'the sky');
    expect(alone.textRuns()).toBe(1);
    expect(Buffer.compare(maskOf(used), maskOf(encodedHere))).toBe(0);
    expect(used.text).toBe(encodedHere.text);
  });

  it('encodes the phrase itself when the embedding was made by another export of the model (the bot has other files)', HEAVY, async () => {
    const dir = await modelsDir(installClipsegFixture);
    // The bot's machine has another export: the same model name, other bytes, so another encoder id.
    const botDir = await modelsDir((d) => installClipsegFixture(d, { override: { 'onnx/model.onnx': clipsegFixture({ squeezeBatch: true }) } }));
    const sent = (await clipsegTextEmbedding(registry(botDir), 'the sky'))!;
    const worker = watched(dir);
    const result = await segmentWith(worker.models, 'the sky', { [sent.key]: sent.values });
    expect(worker.textRuns()).toBe(1);
    expect(Buffer.compare(maskOf(result), maskOf(await segmentWith(watched(dir).models, 'the sky')))).toBe(0);

    const again = watched(dir);
    await segmentWith(again.models, 'the sky', underAnotherEncoder(sent.key, sent.values));
    expect(again.textRuns()).toBe(1);
  });

  it('encodes the phrase itself when the numbers under the right key are damaged, or were made for other words', HEAVY, async () => {
    const dir = await modelsDir(installClipsegFixture);
    const sent = (await clipsegTextEmbedding(registry(dir), 'the sky'))!;
    const damaged = watched(dir);
    await segmentWith(damaged.models, 'the sky', { [sent.key]: sent.values.slice(0, -1) });
    expect(damaged.textRuns()).toBe(1);

    // An invocation whose phrase changed after it was encoded ("the sky" → "the red logo") carries stale numbers.
    const stale = watched(dir);
    const red = await segmentWith(stale.models, 'the red logo', { [sent.key]: sent.values });
    expect(stale.textRuns()).toBe(1);
    expect(red.text).toBe('Segmented the red logo (10 % of the picture).');
  });

  it('encodes a phrase once per thread: asked again, it comes from what this registry remembers', HEAVY, async () => {
    const dir = await modelsDir(installClipsegFixture);
    const worker = watched(dir);
    await segmentWith(worker.models, 'the sky');
    await segmentWith(worker.models, 'the sky');
    expect(worker.textRuns()).toBe(1);
    expect(worker.pictureRuns()).toBe(2);
  });
});

/** 2 s at 10 fps: a red rectangle on blue, 20 frames; an open-vocabulary phrase is detected on every 5th. */
async function redRectangleClip(dir: string): Promise<string> {
  const file = path.join(dir, 'red-rectangle.mp4');
  await exec('/usr/bin/ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=blue:s=192x144:r=10:d=2'],
    ...['-vf', 'drawbox=x=48:y=36:w=96:h=72:color=red:t=fill', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv444p', file],
  ]);
  return file;
}

async function detectInClip(models: ModelRegistry, embeddings?: Record<string, number[]>): Promise<SpecialistResult> {
  const context = await makeSpecialistContext({ models });
  try {
    const media = await videoMedia(context, await redRectangleClip(context.tmpDir));
    const input: SpecialistInput = { task: 'detect', media: [media], args: { phrase: 'the red logo' }, ...(embeddings ? { embeddings } : {}) };
    return await detectSpecialist.run(input, context);
  } finally {
    await context.cleanup();
  }
}

describe('OWL-ViT on a video: the phrase is encoded once per job, not once per frame', () => {
  it('encodes it on the first detector frame and reuses it on the other three', HEAVY, async () => {
    const dir = await modelsDir(installOwlvitFixture);
    const worker = watched(dir);
    const result = await detectInClip(worker.models);
    expect(worker.pictureRuns()).toBe(4);
    expect(worker.textRuns()).toBe(1);
    expect(result.text).toMatch(/1 red logo/);
  });

  it("encodes it not at all with the planner's embedding, and finds the same", HEAVY, async () => {
    const dir = await modelsDir(installOwlvitFixture);
    const sent = (await owlvitTextEmbedding(registry(dir), 'the red logo'))!;
    // OWL-ViT reads its query template: the key is made from "a photo of a red logo".
    expect(sent.key).toMatch(/^phrase@owlvit-base:text:/);
    const worker = watched(dir);
    const result = await detectInClip(worker.models, { [sent.key]: sent.values });
    expect(worker.pictureRuns()).toBe(4);
    expect(worker.textRuns()).toBe(0);
    expect(worker.models.loadedSessions()).toEqual(['owlvit-base/onnx/model.onnx#rest']);
    expect(result.text).toBe((await detectInClip(watched(dir).models)).text);
  });
});

describe('SD-Turbo reads the prompt the planner encoded', () => {
  const request = (embeddings?: Record<string, number[]>): GenerationRequest => ({
    operation: 'text-to-image',
    task: 'generate_image',
    prompt: 'a red cat',
    seed: 7,
    width: TARGET_SIZE,
    height: TARGET_SIZE,
    count: 1,
    ...(embeddings ? { embeddings } : {}),
  });
  const make = (models: ModelRegistry, embeddings?: Record<string, number[]>) =>
    createSdTurboEngine(models).generate(request(embeddings), { progress: () => {}, signal: new AbortController().signal });

  it('skips its text encoder (never loaded) for the planner’s hidden states, and paints the same picture', HEAVY, async () => {
    const dir = await modelsDir(installSdTurboFixture);
    const sent = (await sdTurboPromptEmbedding(registry(dir), 'sd-turbo', 'a red cat'))!;
    expect(sent.key).toMatch(/^prompt@sd-turbo:text:[0-9a-f]{8}#/);
    const worker = watched(dir);
    const used = await make(worker.models, { [sent.key]: sent.values });
    expect(worker.loaded).not.toContain(path.join('sd-turbo', 'text_encoder', 'model.onnx'));
    expect(worker.textRuns()).toBe(0);

    const alone = watched(dir);
    const encodedHere = await make(alone.models);
    expect(alone.loaded).toContain(path.join('sd-turbo', 'text_encoder', 'model.onnx'));
    expect(alone.textRuns()).toBe(1);
    expect(Buffer.compare(used.images[0]!.png, encodedHere.images[0]!.png)).toBe(0);
  });

  it('encodes the prompt itself for hidden states of another encoder, or of a shape the UNet does not read', HEAVY, async () => {
    const dir = await modelsDir(installSdTurboFixture);
    const sent = (await sdTurboPromptEmbedding(registry(dir), 'sd-turbo', 'a red cat'))!;
    const foreign = watched(dir);
    await make(foreign.models, underAnotherEncoder(sent.key, sent.values));
    expect(foreign.textRuns()).toBe(1);
    const misshapen = watched(dir);
    // One tensor of [1,2,N]: the right key, but not 77 positions.
    const n = sent.values.length - 5;
    await make(misshapen.models, { [sent.key]: [1, 3, 1, 2, n / 2, ...sent.values.slice(5)] });
    expect(misshapen.textRuns()).toBe(1);
  });
});
