import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.ts';
import { InternalError, InvalidArgumentError, ModelNotInstalledError } from '../../src/errors.ts';
import { returnFloats } from '../../src/vision/models/float-pool.ts';
import { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { toRaw } from '../../src/vision/ops/raw-image.ts';
import type { RawImage } from '../../src/vision/ops/raw-image.ts';
import {
  CLIPSEG_DEFAULTS,
  clipsegLogits,
  clipsegMask,
  clipsegPreprocessing,
  clipsegTokenizer,
  logitsToPhraseMask,
  singleMapSize,
  tokenizePhrase,
} from '../../src/vision/models/clipseg.ts';
import { stretchedPixels } from '../../src/vision/models/stretched-preprocessing.ts';
import { CLIPSEG_PREPROCESSOR, fixtureTokenizer, installClipsegFixture } from '../fixtures/clipseg-fixture.ts';
import { testSettings } from '../helpers/specialist-context.ts';
import { recordingRegistry } from '../helpers/recording-registry.ts';
import { inclusiveBounds, iou } from './fixtures.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

const MAP = 352;

/** Logits of −10 everywhere but +10 in map cells [x0, x1) × [y0, y1). */
function blob(x0: number, y0: number, x1: number, y1: number): Float32Array {
  const logits = new Float32Array(MAP * MAP).fill(-10);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) logits[y * MAP + x] = 10;
  return logits;
}

const RECT = { left: 100, top: 50, width: 200, height: 150 };
const inRect = (x: number, y: number): boolean => x >= RECT.left && x < RECT.left + RECT.width && y >= RECT.top && y < RECT.top + RECT.height;

/** 640×480 blue with a red rectangle: the fixture's "red" segments red, its "sky" segments blue. */
async function redOnBlue(): Promise<RawImage> {
  return toRaw(
    sharp({ create: { width: 640, height: 480, channels: 3, background: '#0000ff' } }).composite([
      { input: { create: { width: RECT.width, height: RECT.height, channels: 3, background: '#ff0000' } }, left: RECT.left, top: RECT.top },
    ]),
  );
}

async function photo(name: string): Promise<RawImage> {
  return toRaw(sharp(testdata(name)));
}

describe('CLIPSeg post-processing on hand-made logits', () => {
  it('puts a blob of the 352² map at the same place of a 640×480 picture, undoing the stretch', async () => {
    // Map cells x 88..176, y 44..132 are x 160..320, y 60..180 of a 640×480 picture (×640/352, ×480/352).
    const result = await logitsToPhraseMask(blob(88, 44, 176, 132), { width: MAP, height: MAP }, 640, 480);
    expect([result.mask.width, result.mask.height]).toEqual([640, 480]);
    expect(result.probability.length).toBe(640 * 480);
    const [x0, y0, x1, y1] = inclusiveBounds(result.mask);
    expect(Math.abs(x0 - 160)).toBeLessThanOrEqual(2);
    expect(Math.abs(x1 - 319)).toBeLessThanOrEqual(2);
    expect(Math.abs(y0 - 60)).toBeLessThanOrEqual(2);
    expect(Math.abs(y1 - 179)).toBeLessThanOrEqual(2);
    expect(result.coverage).toBeCloseTo((160 * 120) / (640 * 480), 2);
    // The soft map: sure inside, sure outside.
    expect(result.probability[120 * 640 + 240]).toBe(255);
    expect(result.probability[400 * 640 + 500]).toBe(0);
  });

  it('cuts the probability at the threshold, which the caller can move', async () => {
    const even = new Float32Array(MAP * MAP).fill(0); // sigmoid(0) = 0.5 everywhere
    const low = await logitsToPhraseMask(even, { width: MAP, height: MAP }, 100, 80, 0.4);
    const high = await logitsToPhraseMask(even, { width: MAP, height: MAP }, 100, 80, 0.6);
    expect(low.coverage).toBe(1);
    expect(high.coverage).toBe(0);
    expect(low.probability[0]).toBe(128);
  });

  it('reads one map from [1,H,W], [H,W] and [1,1,H,W] logits and refuses a batch of several', () => {
    expect(singleMapSize([1, 352, 352])).toEqual({ width: 352, height: 352 });
    expect(singleMapSize([352, 352])).toEqual({ width: 352, height: 352 });
    expect(singleMapSize([1, 1, 88, 120])).toEqual({ width: 120, height: 88 });
    expect(() => singleMapSize([2, 352, 352])).toThrow(InternalError);
  });
});

describe('CLIPSeg pre-processing from preprocessor_config.json', () => {
  it('takes size, mean, std, rescale and resample from the config, and CLIPSeg defaults for what it leaves out', () => {
    expect(clipsegPreprocessing(CLIPSEG_PREPROCESSOR)).toEqual(CLIPSEG_DEFAULTS);
    expect(clipsegPreprocessing({})).toEqual(CLIPSEG_DEFAULTS);
    const clipMean = [0.48145466, 0.4578275, 0.40821073];
    expect(clipsegPreprocessing({ size: { height: 224, width: 256 }, image_mean: clipMean, image_std: 0.5, resample: 3 })).toMatchObject({
      width: 256,
      height: 224,
      mean: clipMean,
      std: [0.5, 0.5, 0.5],
      kernel: 'cubic',
    });
    expect(clipsegPreprocessing({ do_normalize: false, do_rescale: false })).toMatchObject({ mean: [0, 0, 0], std: [1, 1, 1], rescale: 1 });
  });

  it('refuses a config it cannot honour, naming the key', () => {
    expect(() => clipsegPreprocessing({ size: { shortest_edge: 352 } })).toThrow(/size/);
    expect(() => clipsegPreprocessing({ image_mean: [0.5, 0.5] })).toThrow(/image_mean/);
    expect(() => clipsegPreprocessing({ size: { height: 0, width: 352 } })).toThrow(InternalError);
  });

  it('stretches the picture to the model size and normalises each channel with its own mean and std', async () => {
    // Left half red, right half white, 40×10: stretched to 352² the halves stay halves.
    const image = await toRaw(
      sharp({ create: { width: 40, height: 10, channels: 4, background: '#ffffff' } }).composite([
        { input: { create: { width: 20, height: 10, channels: 4, background: '#ff0000' } }, left: 0, top: 0 },
      ]),
    );
    const chw = await stretchedPixels(image, CLIPSEG_DEFAULTS);
    try {
      const plane = MAP * MAP;
      expect(chw.length).toBe(3 * plane);
      const at = (c: number, x: number, y: number) => chw[c * plane + y * MAP + x]!;
      expect(at(0, 10, 300)).toBeCloseTo((1 - 0.485) / 0.229, 4);
      expect(at(1, 10, 300)).toBeCloseTo((0 - 0.456) / 0.224, 4);
      expect(at(2, 340, 5)).toBeCloseTo((1 - 0.406) / 0.225, 4);
      expect(at(1, 340, 5)).toBeCloseTo((1 - 0.456) / 0.224, 4);
    } finally {
      returnFloats(chw);
    }
  });

  it('gives a grey picture the same value in all three channels, each normalised with its own mean and std', async () => {
    const grey: RawImage = { data: Buffer.alloc(30 * 20, 51), width: 30, height: 20, channels: 1 };
    const chw = await stretchedPixels(grey, CLIPSEG_DEFAULTS);
    try {
      const plane = MAP * MAP;
      expect(chw[100]).toBeCloseTo((0.2 - 0.485) / 0.229, 4);
      expect(chw[plane + 100]).toBeCloseTo((0.2 - 0.456) / 0.224, 4);
      expect(chw[2 * plane + 100]).toBeCloseTo((0.2 - 0.406) / 0.225, 4);
    } finally {
      returnFloats(chw);
    }
  });
});

describe('CLIPSeg on the fixture model', () => {
  let modelsDir: string;
  let models: ModelRegistry;
  // The graph runs in two halves: the text half gets the words, the rest the picture (and the text half's output).
  const fed: { inputIds?: bigint[]; attentionMask?: bigint[]; pixelDims?: readonly number[] }[] = [];
  const textRuns = () => fed.filter((f) => f.inputIds !== undefined);
  const pictureRuns = () => fed.filter((f) => f.pixelDims !== undefined);
  const vocab = fixtureTokenizer();
  const id = (token: string): bigint => BigInt(vocab.vocab[token]!);

  beforeAll(async () => {
    modelsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-clipseg-'));
    await installClipsegFixture(modelsDir);
    // A session whose run() records what reaches the graph.
    models = recordingRegistry(testSettings({ MODELS_DIR: modelsDir }), ({ feeds }) => {
      fed.push({
        ...(feeds['input_ids'] ? { inputIds: Array.from(feeds['input_ids'].data as BigInt64Array) } : {}),
        ...(feeds['attention_mask'] ? { attentionMask: Array.from(feeds['attention_mask'].data as BigInt64Array) } : {}),
        ...(feeds['pixel_values'] ? { pixelDims: feeds['pixel_values'].dims } : {}),
      });
    });
  });

  afterAll(async () => {
    await models.dispose();
    await fs.rm(modelsDir, { recursive: true, force: true });
  });

  it('loads the CLIP tokenizer from the model folder: lower-cased words, wrapped in start and end tokens', async () => {
    const tokenizer = await clipsegTokenizer(models);
    expect(tokenizer.constructor.name).toBe('CLIPTokenizer');
    const tokens = tokenizePhrase(tokenizer, '  The RED   umbrella ');
    expect(Array.from(tokens.inputIds)).toEqual([BigInt(vocab.startId), id('the</w>'), id('red</w>'), id('umbrella</w>'), BigInt(vocab.endId)]);
    expect(Array.from(tokens.attentionMask)).toEqual([1n, 1n, 1n, 1n, 1n]);
    // A word outside the tiny vocabulary falls apart into byte-level pieces instead of failing.
    expect(tokenizePhrase(tokenizer, 'zebra').inputIds.length).toBeGreaterThan(3);
  });

  it('refuses an empty phrase and one longer than CLIP reads, saying what to send', async () => {
    const tokenizer = await clipsegTokenizer(models);
    expect(() => tokenizePhrase(tokenizer, '   ')).toThrow(InvalidArgumentError);
    expect(() => tokenizePhrase(tokenizer, '   ')).toThrow(/segment the sky/);
    const rambling = Array.from({ length: 80 }, () => 'the').join(' ');
    expect(() => tokenizePhrase(tokenizer, rambling)).toThrow(InvalidArgumentError);
    expect(() => tokenizePhrase(tokenizer, rambling)).toThrow(/82 tokens, at most 77/);
    // 75 words + start + end fit exactly.
    expect(tokenizePhrase(tokenizer, Array.from({ length: 75 }, () => 'the').join(' ')).inputIds.length).toBe(77);
  });

  photos.it(
    "sends the phrase's token ids, a full attention mask and a 352² picture to the model",
    async () => {
      const image = await photo('chelsea.png');
      fed.length = 0;
      const result = await clipsegMask(models, image, 'the cat');
      expect(textRuns()).toHaveLength(1);
      expect(pictureRuns()).toHaveLength(1);
      expect(textRuns()[0]!.inputIds).toEqual([BigInt(vocab.startId), id('the</w>'), id('cat</w>'), BigInt(vocab.endId)]);
      expect(textRuns()[0]!.attentionMask).toEqual([1n, 1n, 1n, 1n]);
      expect(pictureRuns()[0]!.pixelDims).toEqual([1, 3, 352, 352]);
      expect([result.mask.width, result.mask.height]).toEqual([451, 300]);
      expect(result.probability.length).toBe(451 * 300);
    },
    180_000,
  );

  photos.it(
    'gives the same mask for the same phrase twice',
    async () => {
      const image = await photo('horse.png');
      const first = await clipsegMask(models, image, 'the sky');
      const second = await clipsegMask(models, image, 'the sky');
      expect(Buffer.from(second.mask.data).equals(Buffer.from(first.mask.data))).toBe(true);
      expect(Buffer.from(second.probability).equals(Buffer.from(first.probability))).toBe(true);
    },
    180_000,
  );

  photos.it(
    'gives different logits for different phrases, because their token ids differ',
    async () => {
      const image = await photo('horse.png');
      fed.length = 0;
      const dog = await clipsegLogits(models, image, 'a dog');
      const logo = await clipsegLogits(models, image, 'the logo');
      expect(textRuns()[0]!.inputIds).not.toEqual(textRuns()[1]!.inputIds);
      expect(dog.map).toEqual({ width: 352, height: 352 });
      let differing = 0;
      for (let i = 0; i < dog.logits.length; i++) if (dog.logits[i] !== logo.logits[i]) differing++;
      expect(differing / dog.logits.length).toBeGreaterThan(0.9);
    },
    180_000,
  );

  it('segments what the phrase names: the red thing, or everything blue, at the right pixels of the picture', async () => {
    const image = await redOnBlue();
    const red = await clipsegMask(models, image, 'the red umbrella');
    expect(iou(red.mask.data, 640, 480, inRect)).toBeGreaterThan(0.95);
    expect(red.coverage).toBeCloseTo((RECT.width * RECT.height) / (640 * 480), 2);
    const sky = await clipsegMask(models, image, 'The Sky');
    expect(iou(sky.mask.data, 640, 480, (x, y) => !inRect(x, y))).toBeGreaterThan(0.95);
  }, 180_000);
});

describe('CLIPSeg installs that are missing or broken', () => {
  const dirs: string[] = [];
  const registries: ModelRegistry[] = [];

  async function registryWith(options?: Parameters<typeof installClipsegFixture>[1]): Promise<ModelRegistry> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-clipseg-'));
    dirs.push(dir);
    if (options !== undefined) await installClipsegFixture(dir, options);
    const models = new ModelRegistry({ settings: testSettings({ MODELS_DIR: dir }) });
    registries.push(models);
    return models;
  }

  afterAll(async () => {
    await Promise.all(registries.map((r) => r.dispose()));
    await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  const small: RawImage = { data: Buffer.alloc(16 * 16 * 3, 128), width: 16, height: 16, channels: 3 };

  it('without the model answers with the exact pull command', async () => {
    const models = await registryWith();
    const error = await clipsegMask(models, small, 'the sky').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelNotInstalledError);
    expect((error as Error).message).not.toContain('npm run models');
    expect((error as ModelNotInstalledError).operatorHint).toContain('npm run models -- pull clipseg-rd64');
    const tokenizerError = await clipsegTokenizer(models).catch((e: unknown) => e);
    expect(tokenizerError).toBeInstanceOf(ModelNotInstalledError);
  });

  it.each([
    ['cut short', '{"version": "1.0", "model": {"type": "BPE", "vocab": {'],
    ['not a tokenizer', '{"hello": "world"}'],
  ])(
    'with a tokenizer.json that is %s fails with a typed error naming the file and what to do, every time',
    async (_, broken) => {
      const models = await registryWith({ override: { 'tokenizer.json': broken } });
      for (let attempt = 0; attempt < 2; attempt++) {
        const error = await clipsegMask(models, small, 'the sky').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InternalError);
        expect((error as Error).message).toContain('tokenizer.json');
        expect((error as Error).message).toContain('npm run models -- check');
        expect((error as Error).message).toContain('npm run models -- remove clipseg-rd64');
      }
    },
    60_000,
  );

  it('with a preprocessor_config.json that is not JSON fails with a typed error naming the file', async () => {
    const models = await registryWith({ override: { 'preprocessor_config.json': '{"size": ' } });
    const error = await clipsegMask(models, small, 'the sky').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalError);
    expect((error as Error).message).toContain('preprocessor_config.json');
    expect((error as Error).message).toContain('npm run models -- check');
  }, 60_000);

  it('reads logits from an export that squeezes the batch away for one phrase', async () => {
    const squeezed = await registryWith({ squeezeBatch: true });
    const plain = await registryWith({});
    const image = await redOnBlue();
    const a = await clipsegMask(squeezed, image, 'the red umbrella');
    const b = await clipsegMask(plain, image, 'the red umbrella');
    expect(Buffer.from(a.mask.data).equals(Buffer.from(b.mask.data))).toBe(true);
  }, 180_000);
});

/** The real CLIPSeg, when an operator has pulled it into MODELS_DIR; skipped with the reason otherwise. */
describe('CLIPSeg with real weights (MODELS_DIR)', () => {
  const settings = loadSettings();
  const real = new ModelRegistry({ settings });
  const has = real.isInstalled('clipseg-rd64');
  const why = has ? '' : ` (skipped: clipseg-rd64 is not in ${settings.MODELS_DIR}; npm run models -- pull clipseg-rd64)`;

  afterAll(() => real.dispose());

  photos.it.skipIf(!has)(
    `masks the horse in horse.png, and not the whole picture${why}`,
    async () => {
      const image = await photo('horse.png');
      const horse = await clipsegMask(real, image, 'a horse');
      expect(horse.coverage).toBeGreaterThan(0.05);
      expect(horse.coverage).toBeLessThan(0.8);
      const [x0, y0, x1, y1] = inclusiveBounds(horse.mask);
      // The horse stands in the middle of the photo: the mask's box centre is in the middle half.
      expect((x0 + x1) / 2).toBeGreaterThan(100);
      expect((x0 + x1) / 2).toBeLessThan(300);
      expect((y0 + y1) / 2).toBeGreaterThan(82);
      expect((y0 + y1) / 2).toBeLessThan(246);
      const again = await clipsegMask(real, image, 'a horse');
      expect(Buffer.from(again.mask.data).equals(Buffer.from(horse.mask.data))).toBe(true);
    },
    300_000,
  );
});
