import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.ts';
import { InternalError, InvalidArgumentError, MediaLimitError, ModelNotInstalledError } from '../../src/errors.ts';
import { bestInstalledModel } from '../../src/vision/models/model-choice.ts';
import { lamaInpainter, lamaOutputToRgb } from '../../src/vision/models/lama.ts';
import { miganFeeds, miganInpainter } from '../../src/vision/models/migan.ts';
import { contextRegion, holeBounds, inpaintInCrop } from '../../src/vision/ops/hole-crop.ts';
import { swin2srUpscaler, tileGrid, tileInput, SWIN2SR_TILE } from '../../src/vision/models/swin2sr.ts';
import { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import type { Mask, RawImage } from '../../src/vision/ops/raw-image.ts';
import { readiness } from '../../src/vision/readiness.ts';
import { specialistFor } from '../../src/vision/registry.ts';
import { depthInputSize, normaliseDepth } from '../../src/vision/models/depth-anything.ts';
import { colourMap, TURBO } from '../../src/vision/ops/colour-map.ts';
import { depthSpecialist } from '../../src/vision/tasks/edit/depth.ts';
import { installFixtureModel, lamaFixture } from '../fixtures/onnx-models.ts';
import type { FixtureModel } from '../fixtures/onnx-models.ts';
import { noiseImage } from '../helpers/media-fixtures.ts';
import { imageMedia, invocation, makeSpecialistContext } from '../helpers/specialist-context.ts';
import type { TestContext } from '../helpers/specialist-context.ts';

const FIXTURES: readonly FixtureModel[] = ['migan', 'lama', 'swin2sr-x2', 'depth-anything-v2-small'];

async function rgbaOf(png: Buffer): Promise<RawImage> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 4 };
}

/** A textured RGBA image with a varying alpha, so "alpha untouched" can fail. */
async function texturedImage(width: number, height: number): Promise<RawImage> {
  const image = await rgbaOf(await noiseImage(width, height));
  for (let i = 0; i < width * height; i++) image.data[i * 4 + 3] = 128 + (i % 128);
  return image;
}

/**
 * A smooth RGBA gradient: resampling it to the model's size and back changes it by a level at most, so a
 * hole that comes back "as it was" (e.g. the mask's meaning inverted) cannot pass for a fill.
 */
function gradientImage(width: number, height: number): RawImage {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0; x < width; x++, o += 4) {
      data[o] = Math.round((x * 255) / (width - 1));
      data[o + 1] = Math.round((y * 255) / (height - 1));
      data[o + 2] = 96;
      data[o + 3] = 128 + ((x + y) % 128);
    }
  }
  return { data, width, height, channels: 4 };
}

function discMask(width: number, height: number, cx: number, cy: number, r: number): Mask {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r) data[y * width + x] = 255;
  return { data, width, height };
}

/** Pixels outside the hole that changed in any byte (alpha included), and the mean RGB change inside it. */
function compareAroundHole(before: RawImage, after: RawImage, mask: Mask): { changedOutside: number; meanChangeInside: number; alphaChanged: number } {
  let changedOutside = 0;
  let inside = 0;
  let changeInside = 0;
  let alphaChanged = 0;
  for (let i = 0; i < mask.data.length; i++) {
    const o = i * 4;
    const change =
      Math.abs(before.data[o]! - after.data[o]!) + Math.abs(before.data[o + 1]! - after.data[o + 1]!) + Math.abs(before.data[o + 2]! - after.data[o + 2]!);
    if (before.data[o + 3] !== after.data[o + 3]) alphaChanged++;
    if (mask.data[i] === 0) {
      if (change > 0 || before.data[o + 3] !== after.data[o + 3]) changedOutside++;
    } else {
      inside++;
      changeInside += change / 3;
    }
  }
  return { changedOutside, meanChangeInside: changeInside / inside, alphaChanged };
}

describe('pulled models on fixture graphs (MI-GAN, LaMa, Swin2SR, Depth Anything)', () => {
  let modelsDir: string;
  let context: TestContext;

  beforeAll(async () => {
    modelsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-pulled-'));
    for (const name of FIXTURES) await installFixtureModel(modelsDir, name);
    context = await makeSpecialistContext({ env: { MODELS_DIR: modelsDir } });
  });

  afterAll(async () => {
    await context.models.dispose();
    await context.cleanup();
    await fs.rm(modelsDir, { recursive: true, force: true });
  });

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

    it('prefers MI-GAN over LaMa for remove and inpaint when both are pulled, and uses LaMa alone', async () => {
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
        expect((error as Error).message).toContain('npm run models -- pull depth-anything-v2-small');
      } finally {
        await bare.models.dispose();
        await bare.cleanup();
      }
    });
  });
});

/**
 * Real pulled weights, when an operator has them in MODELS_DIR (the default DATA_DIR/models, or the
 * environment's): each skips with the reason when its model is absent, which is always the case in CI.
 */
describe('pulled models with real weights (MODELS_DIR)', () => {
  const settings = loadSettings();
  const real = new ModelRegistry({ settings });
  const has = (name: string) => real.isInstalled(name);
  const why = (name: string) => (has(name) ? '' : ` (skipped: ${name} is not in ${settings.MODELS_DIR}; npm run models -- pull ${name})`);

  afterAll(() => real.dispose());

  for (const name of ['migan', 'lama'] as const) {
    it.skipIf(!has(name))(
      `${name} fills a hole and leaves the rest as it was${why(name)}`,
      async () => {
        const context = await makeSpecialistContext({ models: real, env: { MODELS_DIR: settings.MODELS_DIR } });
        try {
          const image = await texturedImage(320, 240);
          const mask = discMask(320, 240, 160, 120, 40);
          const out = await (name === 'migan' ? miganInpainter : lamaInpainter).inpaint(image, mask, context);
          const diff = compareAroundHole(image, out, mask);
          expect(diff.changedOutside).toBe(0);
          expect(diff.meanChangeInside).toBeGreaterThan(2);
        } finally {
          await context.cleanup();
        }
      },
      180_000,
    );
  }

  it.skipIf(!has('swin2sr-x2'))(
    `swin2sr-x2 doubles an image${why('swin2sr-x2')}`,
    async () => {
      const context = await makeSpecialistContext({ models: real, env: { MODELS_DIR: settings.MODELS_DIR } });
      try {
        const out = await swin2srUpscaler.upscale(await texturedImage(64, 48), 2, context);
        expect([out.width, out.height]).toEqual([128, 96]);
      } finally {
        await context.cleanup();
      }
    },
    180_000,
  );

  it.skipIf(!has('depth-anything-v2-small'))(
    `depth-anything-v2-small answers a colour map of the image size${why('depth-anything-v2-small')}`,
    async () => {
      const context = await makeSpecialistContext({ models: real, env: { MODELS_DIR: settings.MODELS_DIR } });
      try {
        const png = await noiseImage(120, 90);
        const result = await depthSpecialist.run(invocation('depth', await imageMedia(context, png)), context);
        const meta = await sharp(result.media[0]!.bytes).metadata();
        expect([meta.width, meta.height]).toEqual([120, 90]);
      } finally {
        await context.cleanup();
      }
    },
    180_000,
  );
});
