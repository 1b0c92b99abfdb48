import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, LimitReachedError, ModelNotInstalledError } from '../../src/errors.ts';
import { esrganRgb } from '../../src/vision/models/esrgan.ts';
import { upscaleSpecialist } from '../../src/vision/tasks/edit/upscale.ts';
import { ESRGAN_UPSCALERS } from '../../src/vision/models/esrgan.ts';
import type { Upscaler } from '../../src/vision/models/upscaler.ts';
import { chooseUpscaler } from '../../src/vision/models/upscaler-choice.ts';
import type { RawImage } from '../../src/vision/ops/raw-image.ts';
import type { SpecialistResult } from '../../src/vision/specialist.ts';
import { movingDiscClip } from './fixtures.ts';
import { imageMedia, invocation, makeSpecialistContext, testSettings, videoMedia } from '../helpers/specialist-context.ts';
import type { TestContext } from '../helpers/specialist-context.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

const ASTRONAUT = testdata('astronaut.png');

function psnr(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return 10 * Math.log10((255 * 255) / (sum / a.length));
}

const result = (r: SpecialistResult) => r.media.find((m) => m.role === 'result')!.bytes;

photos.describe('upscale (ESRGAN-slim, tiled)', () => {
  let context: TestContext;
  let original: Buffer;
  let half: Buffer;
  beforeAll(async () => {
    context = await makeSpecialistContext();
    original = await sharp(ASTRONAUT).removeAlpha().raw().toBuffer();
    half = await sharp(ASTRONAUT).removeAlpha().resize(256, 256, { kernel: 'cubic' }).png().toBuffer();
  });
  afterAll(async () => {
    await context.models.dispose();
    await context.cleanup();
  });

  it('×2 of a halved photo gets closer to the original than bicubic does', { timeout: 180_000 }, async () => {
    const r = await upscaleSpecialist.run(invocation('upscale', await imageMedia(context, half), { factor: 2 }), context);
    const { data, info } = await sharp(result(r)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([512, 512]);
    const bicubic = await sharp(half).resize(512, 512, { kernel: 'cubic' }).removeAlpha().raw().toBuffer();
    // Measured: ESRGAN-slim ×2 29.9 dB, sharp bicubic 27.5 dB against astronaut.png (512 → 256 → 512).
    const model = psnr(data, original);
    const baseline = psnr(bicubic, original);
    expect(model).toBeGreaterThan(baseline + 1);
    expect(r.text).toBe('Upscaled 256 × 256 → 512 × 512 (2×) with ESRGAN-slim.');
    expect(r.media.map((m) => m.role)).toEqual(['result', 'comparison']);
    // Progress comes per tile: a 256² image is one 256-px tile.
    expect(context.reports.filter((p) => /upscaling \(tile \d+ of \d+\)/.test(p.note)).map((p) => p.note)).toEqual(['upscaling (tile 1 of 1)']);
  });

  it('×4 makes an image four times as wide and high', { timeout: 180_000 }, async () => {
    const small = await sharp(ASTRONAUT).resize(100, 60, { fit: 'fill' }).png().toBuffer();
    const r = await upscaleSpecialist.run(invocation('upscale', await imageMedia(context, small), { factor: 4 }), context);
    const meta = await sharp(result(r)).metadata();
    expect([meta.width, meta.height]).toEqual([400, 240]);
    expect(r.text).toBe('Upscaled 100 × 60 → 400 × 240 (4×) with ESRGAN-slim.');
  });

  it('tiles leave no seams: a tiled ×2 equals one pass over the whole image, away from the border', { timeout: 180_000 }, async () => {
    const { data, info } = await sharp(ASTRONAUT)
      .removeAlpha()
      .extract({ left: 100, top: 100, width: 300, height: 200 })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const image: RawImage = { data, width: info.width, height: info.height, channels: 3 };
    const model = await context.models.layersModel('esrgan-slim-x2');
    const tiled = await esrganRgb(model, image, 2, { tile: 128, overlap: 16 });
    const whole = await esrganRgb(model, image, 2, { tile: 10_000 });
    let worst = 0;
    for (let y = 8; y < tiled.height - 8; y++) {
      for (let x = 8; x < tiled.width - 8; x++) {
        for (let c = 0; c < 3; c++) {
          const i = (y * tiled.width + x) * 3 + c;
          worst = Math.max(worst, Math.abs(tiled.data[i]! - whole.data[i]!));
        }
      }
    }
    // Measured 0: the network's receptive field stays inside the 16-px overlap.
    expect(worst).toBeLessThanOrEqual(2);
  });

  it('keeps transparency: alpha is upscaled alongside and re-attached', { timeout: 180_000 }, async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><circle cx="32" cy="24" r="16" fill="#3060c0"/></svg>';
    const png = await sharp(Buffer.from(svg)).png().toBuffer();
    const r = await upscaleSpecialist.run(invocation('upscale', await imageMedia(context, png), { factor: 2 }), context);
    const { data, info } = await sharp(result(r)).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([128, 96, 4]);
    expect(data[(5 * 128 + 5) * 4 + 3]).toBe(0);
    expect(data[(48 * 128 + 64) * 4 + 3]).toBe(255);
  });

  it('upscales a video frame by frame, keeping the frame count', { timeout: 180_000 }, async () => {
    const clip = await movingDiscClip(context.tmpDir, 4, 96, 64);
    const r = await upscaleSpecialist.run(invocation('upscale', await videoMedia(context, clip), { factor: 2 }), context);
    expect(r.text).toBe('Upscaled all 4 frames 96 × 64 → 192 × 128 (2×) with ESRGAN-slim.');
    expect(r.media[0]!.kind).toBe('video');
  });

  it('refuses a video whose frames would outgrow the video size limit', async () => {
    const clip = await movingDiscClip(context.tmpDir, 2, 96, 64);
    const small = await makeSpecialistContext({ env: { MAX_VIDEO_WIDTH: '160', MAX_VIDEO_HEIGHT: '120' } });
    try {
      const error = await upscaleSpecialist.run(invocation('upscale', await videoMedia(small, clip), { factor: 2 }), small).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LimitReachedError);
      expect((error as Error).message).toMatch(/192 × 128 frames, over this bot's video size limit of 160 × 120/);
    } finally {
      await small.models.dispose();
      await small.cleanup();
    }
  });

  it('refuses when the output would pass the image pixel limit, naming the limit and what would fit', async () => {
    const tight = await makeSpecialistContext({ env: { MAX_IMAGE_PIXELS: '500000' } });
    try {
      const error = await upscaleSpecialist.run(invocation('upscale', await imageMedia(tight, half), { factor: 3 }), tight).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LimitReachedError);
      expect((error as Error).message).toBe(
        "Upscaling 256 × 256 by 3× would make 768 × 768 (589,824 pixels), over this bot's image limit of 500,000 pixels (MAX_IMAGE_PIXELS). Try 2×, or crop the image first.",
      );
    } finally {
      await tight.models.dispose();
      await tight.cleanup();
    }
  });
});

describe('chooseUpscaler', () => {
  const settings = testSettings();
  const installed = (...names: string[]) => ({ settings, isInstalled: (name: string) => names.includes(name) });
  const swin: Upscaler = { name: 'swin2sr', model: 'swin2sr-x2', factors: [2], upscale: async (image) => image };

  it('takes the best measured installed model for the factor, an unmeasured pulled one only when PREFER_MODELS names it, else says what to pull', () => {
    const all = [...ESRGAN_UPSCALERS, swin];
    const evidence = (scores: Record<string, number>, prefer: string[] = []) => ({ scores: new Map(Object.entries(scores)), prefer });
    expect(chooseUpscaler(installed('swin2sr-x2', 'esrgan-slim-x2'), 2, all, evidence({})).model).toBe('esrgan-slim-x2');
    expect(chooseUpscaler(installed('swin2sr-x2', 'esrgan-slim-x2'), 2, all, evidence({}, ['swin2sr-x2'])).model).toBe('swin2sr-x2');
    expect(chooseUpscaler(installed('swin2sr-x2', 'esrgan-slim-x2'), 2, all, evidence({ 'swin2sr-x2': 31, 'esrgan-slim-x2': 30 })).model).toBe('swin2sr-x2');
    expect(chooseUpscaler(installed('swin2sr-x2', 'esrgan-slim-x2'), 2, all, evidence({ 'swin2sr-x2': 29, 'esrgan-slim-x2': 30 })).model).toBe(
      'esrgan-slim-x2',
    );
    expect(chooseUpscaler(installed('esrgan-slim-x2', 'esrgan-slim-x4'), 2, all).model).toBe('esrgan-slim-x2');
    expect(chooseUpscaler(installed('swin2sr-x2', 'esrgan-slim-x4'), 4, all).model).toBe('esrgan-slim-x4');
    expect(() => chooseUpscaler(installed(), 3, all)).toThrow(ModelNotInstalledError);
    // The chat hears what the server cannot do; the operator's hint names the model and how to get it.
    expect(() => chooseUpscaler(installed(), 3, all)).toThrow("This server can't upscale pictures yet — ask its admin to enable upscaling.");
    const missing = (() => {
      try {
        chooseUpscaler(installed(), 3, all);
      } catch (error) {
        return error as ModelNotInstalledError;
      }
    })();
    expect(String(missing?.details.operatorHint)).toMatch(/esrgan-slim-x3.*npm install @upscalerjs\/esrgan-slim/s);
    expect(() => chooseUpscaler(installed('esrgan-slim-x2'), 8, all)).toThrow(InvalidArgumentError);
  });
});
