import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.ts';
import { ModelNotInstalledError } from '../../src/errors.ts';
import { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { readiness } from '../../src/vision/readiness.ts';
import { specialistFor } from '../../src/vision/registry.ts';
import { depthInputSize, normaliseDepth } from '../../src/vision/models/depth-anything.ts';
import { colourMap, TURBO } from '../../src/vision/ops/colour-map.ts';
import { depthSpecialist } from '../../src/vision/tasks/edit/depth.ts';
import { imageMedia, invocation, makeSpecialistContext } from '../helpers/specialist-context.ts';
import type { TestContext } from '../helpers/specialist-context.ts';
import { closeFixtureModels, openFixtureModels } from './pulled-models-fixtures.ts';

describe('pulled models on fixture graphs (MI-GAN, LaMa, Swin2SR, Depth Anything)', () => {
  let modelsDir: string;
  let context: TestContext;

  beforeAll(async () => {
    ({ modelsDir, context } = await openFixtureModels());
  });

  afterAll(() => closeFixtureModels(modelsDir, context));

  describe('depth', () => {
    it('sizes the model input as DPT does: one side at 518, aspect kept, multiples of 14', () => {
      expect(depthInputSize(518, 518)).toEqual({ width: 518, height: 518 });
      expect(depthInputSize(640, 480)).toEqual({ width: 686, height: 518 });
      expect(depthInputSize(3000, 4000)).toEqual({ width: 518, height: 686 });
      expect(depthInputSize(200, 100)).toEqual({ width: 518, height: 266 });
    });

    it('maps a depth ramp onto turbo: far end dark blue, near end red, flat maps to one colour', () => {
      const grey = normaliseDepth(Float32Array.from({ length: 256 }, (_, i) => 3 + i * 0.01));
      expect(grey[0]).toBe(0);
      expect(grey[255]).toBe(255);
      const colour = colourMap(grey, 256, 1);
      const [far, near, middle] = [colour.data.subarray(0, 3), colour.data.subarray(255 * 3, 256 * 3), colour.data.subarray(128 * 3, 129 * 3)];
      expect(Array.from(far)).toEqual(Array.from(TURBO.subarray(0, 3)));
      expect(far[0]! + far[1]! + far[2]!).toBeLessThan(100);
      expect(near[0]).toBeGreaterThan(3 * near[1]!);
      expect(near[0]).toBeGreaterThan(3 * near[2]!);
      expect(middle[1]).toBeGreaterThan(Math.max(middle[0]!, middle[2]!));
      expect(normaliseDepth(new Float32Array(10).fill(2)).every((v) => v === 0)).toBe(true);
    });

    it('answers depth with a colour map of the image size, a comparison and the grey map', async () => {
      // Left half dark, right half bright: the fixture's "depth" is brightness, so the right half is near.
      const png = await sharp({ create: { width: 200, height: 120, channels: 3, background: '#101010' } })
        .composite([{ input: { create: { width: 100, height: 120, channels: 3, background: '#f0f0f0' } }, left: 100, top: 0 }])
        .png()
        .toBuffer();
      const result = await depthSpecialist.run(invocation('depth', await imageMedia(context, png)), context);
      expect(result.media.map((m) => m.role)).toEqual(['result', 'comparison', 'mask']);
      const { data, info } = await sharp(result.media[0]!.bytes).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height]).toEqual([200, 120]);
      const at = (x: number, y: number) => Array.from(data.subarray((y * 200 + x) * info.channels, (y * 200 + x) * info.channels + 3));
      // Bicubic resizing rings at the edge, so the extremes sit there: the halves are near, not at, the ends.
      const grey = await sharp(result.media[2]!.bytes).extractChannel(0).raw().toBuffer();
      expect(grey[60 * 200 + 180]).toBeGreaterThan(200);
      expect(grey[60 * 200 + 20]).toBeLessThan(40);
      expect(at(180, 60)).toEqual(Array.from(TURBO.subarray(grey[60 * 200 + 180]! * 3, grey[60 * 200 + 180]! * 3 + 3)));
      const [r, g, b] = at(180, 60);
      expect(r).toBeGreaterThan(2 * Math.max(g!, b!));
      const far = grey[60 * 200 + 20]! * 3;
      expect(at(20, 60)).toEqual(Array.from(TURBO.subarray(far, far + 3)));
      expect(result.text).toMatch(/red is near/);
    }, 180_000);

    it("is the depth task's specialist, ready with the model in MODELS_DIR and not on a fresh clone", () => {
      expect(specialistFor('depth')).toBe(depthSpecialist);
      expect(readiness(context.models).tasks.find((t) => t.task === 'depth')).toMatchObject({ ready: true, missing: [] });
      const fresh = new ModelRegistry({ settings: loadSettings({ MODELS_DIR: path.join(os.tmpdir(), 'vitron-test-no-models') }) });
      expect(readiness(fresh).tasks.find((t) => t.task === 'depth')).toMatchObject({ ready: false, missing: ['depth-anything-v2-small'] });
    });

    /**
     * A yellow disc (the subject) on a texture whose left half is bright and right half dark: the fixture's
     * depth is brightness, so the left background stands near the subject's depth and the right far from it.
     */
    async function depthScene(): Promise<Buffer> {
      const width = 240;
      const height = 160;
      const data = Buffer.alloc(width * height * 3);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const base = x < width / 2 ? 170 : 45;
          const v = base + (((x * 7 + y * 13) % 9) - 4) * 8;
          data.fill(v, (y * width + x) * 3, (y * width + x) * 3 + 3);
        }
      }
      const disc = Buffer.from(`<svg width="${width}" height="${height}"><circle cx="120" cy="80" r="34" fill="#fadc28"/></svg>`);
      return sharp(data, { raw: { width, height, channels: 3 } })
        .composite([{ input: disc }])
        .png()
        .toBuffer();
    }

    /** Mean step between horizontal neighbours in a band of the background, after / before: how much texture survived. */
    async function detailKept(before: Buffer, after: Buffer, x0: number, x1: number): Promise<number> {
      const grey = async (png: Buffer) => sharp(png).greyscale().raw().toBuffer();
      const [a, b] = await Promise.all([grey(before), grey(after)]);
      const step = (img: Buffer) => {
        let sum = 0;
        let n = 0;
        for (let y = 10; y < 150; y++)
          for (let x = x0; x < x1 - 1; x++) {
            sum += Math.abs(img[y * 240 + x]! - img[y * 240 + x + 1]!);
            n++;
          }
        return sum / n;
      };
      return step(b) / step(a);
    }

    it("blurs the background by depth when Depth Anything is there: near the subject's depth stays sharper than far from it", async () => {
      const png = await depthScene();
      const result = await specialistFor('background')!.run(invocation('background', await imageMedia(context, png), { blur: 6 }), context);
      expect(result.text).toMatch(/blurred more the farther it is from the subject/);
      const near = await detailKept(png, result.media[0]!.bytes, 4, 60);
      const far = await detailKept(png, result.media[0]!.bytes, 180, 236);
      expect(far).toBeLessThan(0.2);
      expect(near).toBeGreaterThan(2 * far);
    }, 180_000);

    it('without Depth Anything, blurs all of the background alike', async () => {
      const bare = await makeSpecialistContext();
      try {
        const png = await depthScene();
        const result = await specialistFor('background')!.run(invocation('background', await imageMedia(bare, png), { blur: 6 }), bare);
        expect(result.text).toMatch(/on a blurred copy of the original/);
        const near = await detailKept(png, result.media[0]!.bytes, 4, 60);
        const far = await detailKept(png, result.media[0]!.bytes, 180, 236);
        expect(near).toBeLessThan(0.2);
        expect(far).toBeLessThan(0.2);
      } finally {
        await bare.models.dispose();
        await bare.cleanup();
      }
    }, 180_000);

    it('without the model, answers with the exact pull command', async () => {
      const bare = await makeSpecialistContext();
      try {
        const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#888' } })
          .png()
          .toBuffer();
        const error = await depthSpecialist.run(invocation('depth', await imageMedia(bare, png)), bare).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ModelNotInstalledError);
        expect((error as Error).message).toBe("This server can't make depth maps yet — ask its admin to enable depth maps.");
        expect((error as ModelNotInstalledError).operatorHint).toContain('npm run models -- pull depth-anything-v2-small');
      } finally {
        await bare.models.dispose();
        await bare.cleanup();
      }
    });
  });
});
