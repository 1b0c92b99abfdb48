/**
 * Shared by the pulled-models-*.test.ts files: which fixture graphs stand in for the pulled models, and
 * the images, masks and comparisons their tests inpaint, upscale and check.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Mask, RawImage } from '../../src/vision/ops/raw-image.ts';
import { installFixtureModel, type FixtureModel } from '../fixtures/onnx-models.ts';
import { noiseImage } from '../helpers/media-fixtures.ts';
import { makeSpecialistContext, type TestContext } from '../helpers/specialist-context.ts';

export const FIXTURES: readonly FixtureModel[] = ['migan', 'lama', 'swin2sr-x2', 'depth-anything-v2-small'];

/** A fresh MODELS_DIR with every fixture graph installed, and a specialist context that runs on it. */
export async function openFixtureModels(): Promise<{ modelsDir: string; context: TestContext }> {
  const modelsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-pulled-'));
  for (const name of FIXTURES) await installFixtureModel(modelsDir, name);
  return { modelsDir, context: await makeSpecialistContext({ env: { MODELS_DIR: modelsDir } }) };
}

export async function closeFixtureModels(modelsDir: string, context: TestContext): Promise<void> {
  await context.models.dispose();
  await context.cleanup();
  await fs.rm(modelsDir, { recursive: true, force: true });
}

async function rgbaOf(png: Buffer): Promise<RawImage> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 4 };
}

/** A textured RGBA image with a varying alpha, so "alpha untouched" can fail. */
export async function texturedImage(width: number, height: number): Promise<RawImage> {
  const image = await rgbaOf(await noiseImage(width, height));
  for (let i = 0; i < width * height; i++) image.data[i * 4 + 3] = 128 + (i % 128);
  return image;
}

/**
 * A smooth RGBA gradient: resampling it to the model's size and back changes it by a level at most, so a
 * hole that comes back "as it was" (e.g. the mask's meaning inverted) cannot pass for a fill.
 */
export function gradientImage(width: number, height: number): RawImage {
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

export function discMask(width: number, height: number, cx: number, cy: number, r: number): Mask {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r) data[y * width + x] = 255;
  return { data, width, height };
}

/** Pixels outside the hole that changed in any byte (alpha included), and the mean RGB change inside it. */
export function compareAroundHole(before: RawImage, after: RawImage, mask: Mask): { changedOutside: number; meanChangeInside: number; alphaChanged: number } {
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
