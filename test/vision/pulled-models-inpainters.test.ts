import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InternalError } from '../../src/errors.ts';
import { bestInstalledModel } from '../../src/vision/models/model-choice.ts';
import { lamaInpainter, lamaOutputToRgb } from '../../src/vision/models/lama.ts';
import { miganFeeds, miganInpainter } from '../../src/vision/models/migan.ts';
import { contextRegion, holeBounds, inpaintInCrop } from '../../src/vision/ops/hole-crop.ts';
import { installFixtureModel, lamaFixture } from '../fixtures/onnx-models.ts';
import { makeSpecialistContext } from '../helpers/specialist-context.ts';
import type { TestContext } from '../helpers/specialist-context.ts';
import { closeFixtureModels, compareAroundHole, discMask, gradientImage, openFixtureModels, texturedImage } from './pulled-models-fixtures.ts';

describe('pulled models on fixture graphs (MI-GAN, LaMa, Swin2SR, Depth Anything)', () => {
  let modelsDir: string;
  let context: TestContext;

  beforeAll(async () => {
    ({ modelsDir, context } = await openFixtureModels());
  });

  afterAll(() => closeFixtureModels(modelsDir, context));

  describe('inpainters', () => {
    const W = 300;
    const H = 200;
    const mask = discMask(W, H, 180, 90, 30);

    it.each([
      ['MI-GAN', miganInpainter],
      ['LaMa', lamaInpainter],
    ] as const)(
      '%s fills the hole and leaves every byte outside it as it was',
      async (_name, inpainter) => {
        const image = gradientImage(W, H);
        const out = await inpainter.inpaint(image, mask, context);
        expect([out.width, out.height, out.channels]).toEqual([W, H, 4]);
        const diff = compareAroundHole(image, out, mask);
        expect(diff.changedOutside).toBe(0);
        expect(diff.alphaChanged).toBe(0);
        // The fixtures paint the hole from a random conv; a hole handed back as "known" would come back
        // as the gradient, within a level of resampling.
        expect(diff.meanChangeInside).toBeGreaterThan(10);
      },
      180_000,
    );

    it('tells MI-GAN 0 for the hole and 255 for the pixels to keep (its pipeline composes known pixels back)', () => {
      const hole = Uint8Array.from([255, 0, 255, 0]);
      const feeds = miganFeeds(Buffer.alloc(12, 7), hole, 2);
      expect(Array.from(feeds.mask.data as Uint8Array)).toEqual([0, 255, 0, 255]);
      expect(feeds.image.dims).toEqual([1, 3, 2, 2]);
      expect(feeds.mask.type).toBe('uint8');
    });

    it('reads LaMa output in 0..1 and in 0..255 alike, clamping what overshoots', () => {
      const size = 2;
      const unit = Float32Array.from([0, 0.5, 1, 1.2, 0.25, 0.25, 0.25, 0.25, -0.1, 0.1, 0.2, 0.3]);
      const bytes = Float32Array.from(unit, (v) => v * 255);
      const a = lamaOutputToRgb(unit, size);
      expect(Array.from(a)).toEqual(Array.from(lamaOutputToRgb(bytes, size)));
      // Pixel 0 is (R 0, G 0.25, B −0.1 → 0); pixel 3 is (R 1.2 → 255, G 0.25, B 0.3).
      expect(Array.from(a.subarray(0, 3))).toEqual([0, 64, 0]);
      expect(Array.from(a.subarray(9, 12))).toEqual([255, 64, 77]);
    });

    it('gives the same fill whether the LaMa export answers in 0..255 or in 0..1', async () => {
      const unitDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-lama01-'));
      const unitContext = await makeSpecialistContext({ env: { MODELS_DIR: unitDir } });
      try {
        await installFixtureModel(unitDir, 'lama', lamaFixture(1));
        const image = await texturedImage(W, H);
        const [a, b] = [await lamaInpainter.inpaint(image, mask, context), await lamaInpainter.inpaint(image, mask, unitContext)];
        let maxDiff = 0;
        for (let i = 0; i < a.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.data[i]! - b.data[i]!));
        expect(maxDiff).toBeLessThanOrEqual(1);
      } finally {
        await unitContext.models.dispose();
        await unitContext.cleanup();
        await fs.rm(unitDir, { recursive: true, force: true });
      }
    }, 180_000);

    it('crops around the hole with context, at least the model size, inside the image', () => {
      const hole = holeBounds(discMask(1000, 800, 900, 100, 40))!;
      expect(hole).toEqual({ left: 860, top: 60, width: 80, height: 80 });
      expect(contextRegion(hole, 1000, 800, 512)).toEqual({ left: 488, top: 0, width: 512, height: 512 });
      expect(contextRegion({ left: 100, top: 100, width: 400, height: 100 }, 1000, 800, 512)).toEqual({ left: 0, top: 0, width: 800, height: 800 });
      expect(contextRegion(hole, 300, 200, 512)).toEqual({ left: 0, top: 0, width: 300, height: 200 });
      expect(holeBounds({ data: new Uint8Array(4), width: 2, height: 2 })).toBeUndefined();
    });

    it.each([
      [900, 700, 'a 512² crop inside a larger image'],
      [300, 200, 'the whole image, stretched to 512²'],
    ] as const)('puts the fill back where it was taken from (%i×%i: %s)', async (width: number, height: number, _crop: string) => {
      // A fill that hands the model's input back: what comes out in the hole must be the image again,
      // up to resampling to 512² and back, or the crop and the paste do not line up.
      const image = gradientImage(width, height);
      const hole = discMask(width, height, width * 0.6, height * 0.45, 25);
      const out = await inpaintInCrop(image, hole, 512, async (rgb) => rgb);
      let maxDiff = 0;
      for (let i = 0; i < hole.data.length; i++) {
        if (hole.data[i] === 0) continue;
        for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(out.data[i * 4 + c]! - image.data[i * 4 + c]!));
      }
      expect(maxDiff).toBeLessThanOrEqual(2);
    });

    it('returns the image untouched for an empty mask', async () => {
      const image = await texturedImage(40, 30);
      const out = await miganInpainter.inpaint(image, { data: new Uint8Array(40 * 30), width: 40, height: 30 }, context);
      expect(out.data.equals(image.data)).toBe(true);
    });

    it('readiness names MI-GAN before LaMa for remove and inpaint when both are pulled (the catalog order; npm run eval decides the fill), and LaMa alone', async () => {
      const installed = (names: string[]) => (e: { name: string }) => names.includes(e.name);
      expect(bestInstalledModel('remove', installed(['lama', 'migan']))?.name).toBe('migan');
      expect(bestInstalledModel('inpaint', installed(['lama', 'migan']))?.name).toBe('migan');
      expect(bestInstalledModel('remove', installed(['lama']))?.name).toBe('lama');
      // And the registry sees both fixtures as installed, as after `npm run models -- pull`.
      expect(context.models.isInstalled('migan') && context.models.isInstalled('lama')).toBe(true);
      expect(bestInstalledModel('remove', (e) => context.models.isInstalled(e.name))?.name).toBe('migan');
    });

    it('answers a broken ONNX file with an error naming the model and what to do, and keeps answering', async () => {
      const brokenDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-broken-'));
      const brokenContext = await makeSpecialistContext({ env: { MODELS_DIR: brokenDir } });
      try {
        await installFixtureModel(brokenDir, 'migan', new TextEncoder().encode('<html>404 Not Found</html>'));
        const image = await texturedImage(64, 64);
        const hole = discMask(64, 64, 32, 32, 8);
        for (let attempt = 0; attempt < 2; attempt++) {
          const error = await miganInpainter.inpaint(image, hole, brokenContext).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(InternalError);
          const message = (error as Error).message;
          expect(message).toContain('"migan" could not be loaded');
          expect(message).toContain(path.join(brokenDir, 'migan', 'migan_pipeline_v2.onnx'));
          expect(message).toContain('npm run models -- check');
        }
      } finally {
        await brokenContext.models.dispose();
        await brokenContext.cleanup();
        await fs.rm(brokenDir, { recursive: true, force: true });
      }
    });
  });
});
