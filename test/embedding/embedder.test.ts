/**
 * The planner-side text encoder (BotDeps.embed): what it encodes for which installed model, that each (encoder,
 * words) is encoded once, that a fresh install encodes nothing, that a turn does not wait on a slow encoder, and —
 * through the real text encoder thread — that a specialist reads what it sent.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEmbeddingKey } from '../../src/core/embeddings.ts';
import type { Invocation } from '../../src/core/types.ts';
import { createEmbedder, createTextEmbedder, type EncodeFn } from '../../src/embedding/embedder.ts';
import { encodeNeed, textNeeds, type TextNeed } from '../../src/vision/find/text-needs.ts';
import { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { segmentSpecialist } from '../../src/vision/tasks/segment/segment.ts';
import { installClipsegFixture } from '../fixtures/clipseg-fixture.ts';
import { installOwlvitFixture } from '../fixtures/owlvit-fixture.ts';
import { installSdTurboFixture } from '../fixtures/sd-turbo-fixture.ts';
import { imageMedia, makeSpecialistContext, testSettings } from '../helpers/specialist-context.ts';

const HEAVY = { timeout: 180_000 };
const dirs: string[] = [];
const registries: ModelRegistry[] = [];
afterAll(async () => {
  await Promise.all(registries.map((r) => r.dispose()));
  await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
});

async function modelsDir(...installs: ((dir: string) => Promise<unknown>)[]): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-embedder-'));
  dirs.push(dir);
  for (const install of installs) await install(dir);
  return dir;
}

function registry(dir: string): ModelRegistry {
  const models = new ModelRegistry({ settings: testSettings({ MODELS_DIR: dir }), log: { warn: () => {} } });
  registries.push(models);
  return models;
}

/** An encoder on this thread that counts what it is asked, per model. */
function countingEncoder(models: ModelRegistry): { encode: EncodeFn; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    encode: (need: TextNeed) => {
      asked.push(`${need.model}: ${need.text}`);
      return encodeNeed(models, need);
    },
  };
}

const turn = (task: Invocation['task'], args: Record<string, unknown>, extra: Partial<Invocation> = {}): Invocation => ({
  task,
  targets: ['current'],
  args,
  ...extra,
});
const modelsOf = (invocation: Invocation) =>
  Object.keys(invocation.embeddings ?? {})
    .map((k) => parseEmbeddingKey(k)!.encoder.split(':')[0])
    .sort();

describe('which encoders an invocation needs', () => {
  it('none on a fresh install, whatever the words', async () => {
    const models = registry(await modelsDir());
    const settings = testSettings();
    expect(textNeeds(models, settings, turn('segment', { phrase: 'the sky' }))).toEqual([]);
    expect(textNeeds(models, settings, turn('generate_image', { prompt: 'a red cat' }))).toEqual([]);
  });

  it('follows the specialists: an outline phrase to CLIPSeg and OWL-ViT, a box phrase to OWL-ViT, a COCO phrase to none, a prompt to SD-Turbo', async () => {
    const dir = await modelsDir(installClipsegFixture, installOwlvitFixture, installSdTurboFixture);
    const models = registry(dir);
    const settings = testSettings({ MODELS_DIR: dir });
    const needs = (invocation: Invocation) => textNeeds(models, settings, invocation).map((n) => `${n.arg} → ${n.model}: ${n.text}`);
    expect(needs(turn('segment', { phrase: 'the sky' }))).toEqual(['phrase → clipseg-rd64: the sky', 'phrase → owlvit-base: a photo of a sky']);
    expect(needs(turn('ground', { phrase: 'the red logo on the left' }))).toEqual(['phrase → owlvit-base: a photo of a red logo']);
    expect(needs(turn('segment', { phrase: 'the dog' }))).toEqual([]);
    expect(needs(turn('generate_image', { prompt: '  a red cat ' }))).toEqual(['prompt → sd-turbo: a red cat']);
    // Another engine first in line paints with its own text encoder: nothing to send.
    const comfy = testSettings({ MODELS_DIR: dir, COMFYUI_URL: 'http://127.0.0.1:1' });
    expect(textNeeds(models, comfy, turn('generate_image', { prompt: 'a red cat' }))).toEqual([]);
  });
});

describe('the embedder', () => {
  it('does nothing on a fresh install but drop what a planner put in embeddings itself', async () => {
    const models = registry(await modelsDir());
    let asked = 0;
    const embedder = createEmbedder({
      models,
      settings: testSettings(),
      encode: async () => {
        asked++;
        return undefined;
      },
    });
    const [out] = await embedder.embed([
      turn('segment', { phrase: 'the sky' }, { embeddings: { 'phrase@clipseg-rd64:text:00000000#000000000000': [1, 1, 1] } }),
    ]);
    expect(out).toEqual(turn('segment', { phrase: 'the sky' }));
    expect(asked).toBe(0);
  });

  it('encodes each (encoder, words) once: across the steps of a turn and across turns', HEAVY, async () => {
    const dir = await modelsDir(installClipsegFixture, installOwlvitFixture, installSdTurboFixture);
    const models = registry(dir);
    const encoder = countingEncoder(registry(dir));
    const embedder = createEmbedder({ models, settings: testSettings({ MODELS_DIR: dir }), encode: encoder.encode, waitMs: 60_000 });
    const plan = [
      turn('segment', { phrase: 'the sky' }),
      turn('detect', { phrase: 'the sky' }),
      turn('generate_image', { prompt: 'a red cat' }),
      turn('segment', { phrase: 'the dog' }),
    ];
    const first = await embedder.embed(plan);
    expect(first.map(modelsOf)).toEqual([['clipseg-rd64', 'owlvit-base'], ['owlvit-base'], ['sd-turbo'], []]);
    expect(first[3]).not.toHaveProperty('embeddings');
    expect(encoder.asked.sort()).toEqual(['clipseg-rd64: the sky', 'owlvit-base: a photo of a sky', 'sd-turbo: a red cat']);
    const again = await embedder.embed(plan);
    expect(encoder.asked).toHaveLength(3);
    expect(again).toEqual(first);
    expect(embedder.stats).toMatchObject({ encoded: 3 });
  });

  it('does not hold a turn for a slow encoder: it queues without, and the late result serves the next turn', async () => {
    const dir = await modelsDir(installOwlvitFixture);
    const models = registry(dir);
    let finish: (value: { key: string; values: number[] }) => void = () => {};
    let asked = 0;
    const embedder = createEmbedder({
      models,
      settings: testSettings({ MODELS_DIR: dir }),
      waitMs: 50,
      encode: (need) => {
        asked++;
        return new Promise((resolve) => {
          // The encoder answers with the key the worker will look up.
          finish = (value) => resolve({ ...value, key: value.key || need.text });
        });
      },
    });
    const started = Date.now();
    const [late] = await embedder.embed([turn('detect', { phrase: 'the red logo' })]);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(late).not.toHaveProperty('embeddings');
    expect(embedder.stats.late).toBe(1);
    const { keyOfNeed } = await import('../../src/vision/find/text-needs.ts');
    const key = await keyOfNeed(models, textNeeds(models, testSettings({ MODELS_DIR: dir }), turn('detect', { phrase: 'the red logo' }))[0]!);
    finish({ key, values: [1, 1, 1, 0.5] });
    await new Promise((r) => setTimeout(r, 10));
    const [next] = await embedder.embed([turn('detect', { phrase: 'the red logo' })]);
    expect(next!.embeddings).toEqual({ [key]: [1, 1, 1, 0.5] });
    expect(asked).toBe(1);
  });

  it('stops asking an encoder that cannot give embeddings here (a graph the cut refuses)', async () => {
    const dir = await modelsDir(installOwlvitFixture);
    let asked = 0;
    const embedder = createEmbedder({
      models: registry(dir),
      settings: testSettings({ MODELS_DIR: dir }),
      encode: async () => {
        asked++;
        return undefined;
      },
    });
    await embedder.embed([turn('detect', { phrase: 'the red logo' })]);
    const [out] = await embedder.embed([turn('detect', { phrase: 'the blue logo' })]);
    expect(out).not.toHaveProperty('embeddings');
    expect(asked).toBe(1);
  });

  it('never fails a turn: an encoder that throws leaves the words to the worker', async () => {
    const dir = await modelsDir(installOwlvitFixture);
    const warnings: string[] = [];
    const embedder = createEmbedder({
      models: registry(dir),
      settings: testSettings({ MODELS_DIR: dir }),
      encode: () => Promise.reject(new Error('the graph is damaged')),
      logger: { warn: (_obj: unknown, message?: string) => warnings.push(message ?? ''), debug: () => {} } as never,
    });
    const [out] = await embedder.embed([turn('detect', { phrase: 'the red logo' })]);
    expect(out).not.toHaveProperty('embeddings');
    expect(warnings).toEqual(['text encoding failed; the worker encodes the words itself']);
  });

  it('runs the encoders in its own thread, started on first need, and the specialist reads what it sent', HEAVY, async () => {
    const dir = await modelsDir(installClipsegFixture);
    const settings = testSettings({ MODELS_DIR: dir });
    const fresh = createTextEmbedder(testSettings(), pino({ level: 'silent' }));
    const embedder = createTextEmbedder(settings, pino({ level: 'silent' }), { waitMs: 120_000 });
    try {
      await fresh.embed([turn('segment', { phrase: 'the sky' })]);
      expect(fresh.thread.started).toBe(0);
      expect(embedder.thread.running).toBe(false);
      const [planned] = await embedder.embed([turn('segment', { phrase: 'the sky' })]);
      expect(embedder.thread.started).toBe(1);
      expect(modelsOf(planned!)).toEqual(['clipseg-rd64']);

      const worker = registry(dir);
      const context = await makeSpecialistContext({ models: worker });
      try {
        const picture = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#0000ff' } })
          .png()
          .toBuffer();
        const media = await imageMedia(context, picture);
        const result = await segmentSpecialist.run({ task: 'segment', media: [media], args: planned!.args, embeddings: planned!.embeddings! }, context);
        expect(result.text).toBe('Segmented the sky (100 % of the picture).');
        expect(worker.loadedSessions()).toEqual(['clipseg-rd64/onnx/model.onnx#rest']);
      } finally {
        await context.cleanup();
      }
    } finally {
      await embedder.close();
      await fresh.close();
    }
    expect(embedder.thread.running).toBe(false);
  });
});
