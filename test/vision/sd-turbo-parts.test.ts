import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { gaussianNoise } from '../../src/vision/engines/sd-turbo-noise.ts';
import { blendKnown, startLatent } from '../../src/vision/engines/sd-turbo-pipeline.ts';
import { roundedSize } from '../../src/vision/engines/sd-turbo-request.ts';
import { SIGMAS, eulerStep, modelInputScale, trailingSchedule } from '../../src/vision/engines/sd-turbo-scheduler.ts';
import { fromHalf, toHalf } from '../../src/vision/engines/sd-turbo-tensors.ts';
import { sdTurboTokenizer } from '../../src/vision/engines/sd-turbo-tokenizer.ts';
import { fixtureTokenizer } from '../fixtures/clipseg-fixture.ts';
import { installSdTurboFixture } from '../fixtures/sd-turbo-fixture.ts';
import { testSettings } from '../helpers/specialist-context.ts';

describe('SD-Turbo scheduler (diffusers EulerDiscreteScheduler, scaled-linear betas, trailing spacing)', () => {
  it('has σ(999) ≈ 14.6146 and σ growing with t', () => {
    expect(SIGMAS[999]).toBeCloseTo(14.6146, 3);
    expect(SIGMAS[0]).toBeCloseTo(Math.sqrt(0.00085 / (1 - 0.00085)), 6);
    for (let t = 1; t < 1000; t++) expect(SIGMAS[t]!).toBeGreaterThan(SIGMAS[t - 1]!);
  });

  it('spaces 1, 2 and 4 steps as diffusers "trailing" does, ending at σ 0', () => {
    expect(trailingSchedule(1).timesteps).toEqual([999]);
    expect(trailingSchedule(2).timesteps).toEqual([999, 499]);
    expect(trailingSchedule(4).timesteps).toEqual([999, 749, 499, 249]);
    const s = trailingSchedule(4);
    expect(s.sigmas).toHaveLength(5);
    expect(s.sigmas[4]).toBe(0);
    expect(s.sigmas[2]).toBe(SIGMAS[499]);
  });

  it('starts image-to-image part-way down: strength 0.5 → t 499 (diffusers: 2 steps at 0.5 keep [499])', () => {
    expect(trailingSchedule(1, 0.5).timesteps).toEqual([499]);
    expect(trailingSchedule(2, 0.5).timesteps).toEqual([499, 249]);
    expect(trailingSchedule(1, 0.25).timesteps).toEqual([249]);
    expect(() => trailingSchedule(1, 0)).toThrow(RangeError);
  });

  it('takes an Euler step to x0 + σ_next·ε, and to x0 itself at σ 0', () => {
    const x = Float32Array.from([3, -1]);
    const eps = [0.5, 0.25];
    const x0 = new Float32Array(2);
    eulerStep(x, eps, 2, 1, x0);
    expect([...x0]).toEqual([2, -1.5]);
    expect([...x]).toEqual([2.5, -1.25]);
    eulerStep(x, eps, 1, 0, x0);
    expect([...x]).toEqual([...x0]);
    expect(modelInputScale(SIGMAS[999]!)).toBeCloseTo(1 / Math.sqrt(14.6146 ** 2 + 1), 5);
  });
});

describe('SD-Turbo noise, latents and sizes', () => {
  it('draws the same standard normals for a seed, different ones for another', () => {
    const a = gaussianNoise(42, 20_000);
    expect(Buffer.from(a.buffer)).toEqual(Buffer.from(gaussianNoise(42, 20_000).buffer));
    expect(Buffer.from(a.buffer)).not.toEqual(Buffer.from(gaussianNoise(43, 20_000).buffer));
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(variance).toBeGreaterThan(0.95);
    expect(variance).toBeLessThan(1.05);
  });

  it('starts from σ·noise, or from the picture latent plus σ·noise', () => {
    const noise = Float32Array.from([1, -2]);
    expect([...startLatent(noise, 3)]).toEqual([3, -6]);
    expect([...startLatent(noise, 3, Float32Array.from([0.5, 0.5]))]).toEqual([3.5, -5.5]);
    expect([...startLatent(noise, 3, Float32Array.from([0.5, 0.5]), false)]).toEqual([3, -6]);
  });

  it('keeps the picture (re-noised to the next σ) outside the mask and the model inside, per channel', () => {
    // 2 channels × 2 cells; cell 0 repainted, cell 1 kept.
    const x = Float32Array.from([9, 9, 9, 9]);
    blendKnown(x, Float32Array.from([1, 2, 3, 4]), Float32Array.from([1, 1, 1, 1]), 0.5, Float32Array.from([1, 0]));
    expect([...x]).toEqual([9, 2.5, 9, 4.5]);
  });

  it('rounds sizes to multiples of 8 and shrinks beyond 1024² keeping the aspect', () => {
    expect(roundedSize(512, 512)).toEqual({ width: 512, height: 512 });
    expect(roundedSize(70, 60)).toEqual({ width: 72, height: 64 });
    expect(roundedSize(2048, 1024)).toEqual({ width: 1024, height: 512 });
    const big = roundedSize(1200, 1200);
    expect(big.width * big.height).toBeLessThanOrEqual(1024 * 1024);
    expect(big.width % 8).toBe(0);
  });

  it('converts fp16 both ways, rounding to nearest', () => {
    // Half precision keeps 11 significant bits: the round trip is within half a unit in the last place.
    for (const v of [0, 1, -2.5, 0.1, 14.6146, 65504, 1e-5, -3.3e-6])
      expect(Math.abs(fromHalf(toHalf(v)) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -25);
    expect(fromHalf(toHalf(14.6146))).toBe(14.6171875);
    expect(toHalf(1)).toBe(0x3c00);
    expect(toHalf(-2)).toBe(0xc000);
    expect(fromHalf(toHalf(1e6))).toBe(Infinity);
  });
});

describe('SD-Turbo tokenizer (from vocab.json + merges.txt through Transformers.js)', () => {
  let modelsDir: string;
  beforeAll(async () => {
    modelsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sd-turbo-tok-'));
    await installSdTurboFixture(modelsDir);
  });
  afterAll(() => fs.rm(modelsDir, { recursive: true, force: true }));

  it('gives 77 ids: start, the words, end, then the pad token of tokenizer_config.json ("!", as SD 2.x)', async () => {
    const models = new ModelRegistry({ settings: testSettings({ MODELS_DIR: modelsDir }) });
    const tokenizer = await sdTurboTokenizer(models, 'sd-turbo');
    const { vocab, startId, endId } = fixtureTokenizer();
    const ids = tokenizer.encode('A  red   Cat');
    expect(ids).toHaveLength(77);
    expect(ids.slice(0, 5)).toEqual([startId, vocab['a</w>'], vocab['red</w>'], vocab['cat</w>'], endId]);
    expect(new Set(ids.slice(5))).toEqual(new Set([vocab['!']]));
    const long = tokenizer.encode(Array.from({ length: 100 }, () => 'cat').join(' '));
    expect(long).toHaveLength(77);
    expect(long[76]).toBe(endId);
    await models.dispose();
  });
});
