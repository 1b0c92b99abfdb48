import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, MediaLimitError } from '../../src/errors.ts';
import { swin2srUpscaler, tileGrid, tileInput, SWIN2SR_TILE } from '../../src/vision/models/swin2sr.ts';
import type { RawImage } from '../../src/vision/ops/raw-image.ts';
import type { TestContext } from '../helpers/specialist-context.ts';
import { closeFixtureModels, openFixtureModels, texturedImage } from './pulled-models-fixtures.ts';

describe('pulled models on fixture graphs (MI-GAN, LaMa, Swin2SR, Depth Anything)', () => {
  let modelsDir: string;
  let context: TestContext;

  beforeAll(async () => {
    ({ modelsDir, context } = await openFixtureModels());
  });

  afterAll(() => closeFixtureModels(modelsDir, context));

  describe('Swin2SR', () => {
    /** The fixture run once on the whole image, padded to the window: the untiled reference. */
    async function untiled(image: RawImage): Promise<Buffer> {
      const session = await context.models.session('swin2sr-x2');
      const input = tileInput(image, { left: 0, top: 0, width: image.width, height: image.height });
      const out = await session.run({ pixel_values: new ort.Tensor('float32', input.data, [1, 3, input.height, input.width]) });
      const recon = out['reconstruction']!.data as Float32Array;
      const [w, h] = [input.width * 2, input.height * 2];
      const rgb = Buffer.alloc(image.width * 2 * image.height * 2 * 3);
      for (let y = 0; y < image.height * 2; y++) {
        for (let x = 0; x < image.width * 2; x++) {
          for (let c = 0; c < 3; c++) rgb[(y * image.width * 2 + x) * 3 + c] = Math.min(255, Math.max(0, Math.round(recon[c * w * h + y * w + x]! * 255)));
        }
      }
      return rgb;
    }

    it('doubles a size that is no multiple of the window, crops the padding and keeps alpha', async () => {
      const image = await texturedImage(101, 59);
      const out = await swin2srUpscaler.upscale(image, 2, context);
      expect([out.width, out.height, out.channels]).toEqual([202, 118, 4]);
      const reference = await untiled(image);
      let maxDiff = 0;
      for (let i = 0; i < 202 * 118; i++) for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(out.data[i * 4 + c]! - reference[i * 3 + c]!));
      expect(maxDiff).toBe(0);
      // Alpha went through a plain resize: the top-left source alpha (128) is still there.
      expect(Math.abs(out.data[3]! - image.data[3]!)).toBeLessThanOrEqual(8);
    }, 180_000);

    it('tiles a large image without seams: the tiled result matches the untiled one in the interior', async () => {
      const image = await texturedImage(SWIN2SR_TILE + 150, SWIN2SR_TILE + 40);
      const tiles = tileGrid(image.width, image.height);
      expect(tiles.length).toBeGreaterThan(1);
      const reportsBefore = context.reports.length;
      const out = await swin2srUpscaler.upscale(image, 2, context);
      expect(context.reports.length - reportsBefore).toBe(tiles.length);
      const reference = await untiled(image);
      const W = image.width * 2;
      let maxDiff = 0;
      // Only the image border differs in kind (each tile pads where it meets the image edge); ±2 px margin.
      for (let y = 2; y < image.height * 2 - 2; y++) {
        for (let x = 2; x < W - 2; x++)
          for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(out.data[(y * W + x) * 4 + c]! - reference[(y * W + x) * 3 + c]!));
      }
      expect(maxDiff).toBeLessThanOrEqual(1);
    }, 180_000);

    it('covers every pixel exactly once with tile cores', () => {
      const [w, h] = [700, 300];
      const hits = new Uint8Array(w * h);
      for (const t of tileGrid(w, h)) {
        expect(t.region.width).toBeLessThanOrEqual(SWIN2SR_TILE);
        for (let y = t.core.top; y < t.core.top + t.core.height; y++) for (let x = t.core.left; x < t.core.left + t.core.width; x++) hits[y * w + x]!++;
      }
      expect(hits.every((v) => v === 1)).toBe(true);
    });

    it('refuses factors other than 2 and outputs over the pixel limit, saying the limit', async () => {
      const image = await texturedImage(40, 30);
      await expect(swin2srUpscaler.upscale(image, 4, context)).rejects.toBeInstanceOf(InvalidArgumentError);
      const small = { ...context, limits: { ...context.limits, maxImagePixels: 2000 } };
      const error = await swin2srUpscaler.upscale(image, 2, small).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MediaLimitError);
      expect((error as Error).message).toContain('2000 pixels');
    });
  });
});
