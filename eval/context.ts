/**
 * The eval's plumbing, shared by its sections: the benchmark's settings and specialist context (bench/context.ts),
 * pictures as raw pixels and as specialist input, masks read back from results, and whether installed weights
 * are the real ones.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { catalogEntry } from '../models/catalog.ts';
import { locateModel } from '../src/vision/models/model-files.ts';
import type { Mask, RawImage } from '../src/vision/ops/raw-image.ts';
import type { LoadedMedia, SpecialistContext, SpecialistResult } from '../src/vision/specialist.ts';
import { imageInput } from '../bench/context.ts';

export { benchContext as evalContext, benchSettings as evalSettings, TESTDATA } from '../bench/context.ts';

export async function rawOf(png: Buffer | string): Promise<RawImage> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 4 };
}

export function pngOf(image: RawImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .png()
    .toBuffer();
}

let mediaCount = 0;

/** A picture as a specialist receives it (written to the context's scratch folder). */
export async function mediaOf(png: Buffer, context: SpecialistContext): Promise<LoadedMedia> {
  const meta = await sharp(png).metadata();
  const file = path.join(context.tmpDir, `eval-${++mediaCount}.png`);
  await fs.writeFile(file, png);
  const media = imageInput(png, meta.width!, meta.height!, file);
  // A fresh id and hash per picture: caches keyed by them must not serve one picture's answer for another.
  return { ...media, info: { ...media.info, id: `eval-${mediaCount}`, sha256: `eval-${mediaCount}` } };
}

/** A grey or RGBA picture as a mask (≥ 128 inside), by one channel. */
export async function maskOf(png: Buffer, channel: 'grey' | 'alpha' = 'grey'): Promise<Mask> {
  const pipeline = channel === 'alpha' ? sharp(png).ensureAlpha().extractChannel(3) : sharp(png).greyscale();
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, info.width * info.height), width: info.width, height: info.height };
}

/** The mask a cut-out or segment result carries; an empty mask when it carries none (nothing was found). */
export async function resultMask(result: SpecialistResult, width: number, height: number): Promise<Mask> {
  const mask = result.media.find((m) => m.role === 'mask');
  if (mask === undefined) return { data: new Uint8Array(width * height), width, height };
  return maskOf(await sharp(mask.bytes).resize(width, height, { fit: 'fill' }).png().toBuffer());
}

/** Installed files under a tenth of the catalog's size are not the real weights (random-weight fixtures). */
const REAL_SIZE_FRACTION = 0.1;

export async function isFixture(model: string | undefined, modelsDir: string): Promise<boolean> {
  if (model === undefined) return false;
  const entry = catalogEntry(model);
  const location = entry === undefined ? undefined : locateModel(entry, modelsDir);
  if (entry === undefined || location === undefined) return false;
  let total = 0;
  for (const file of location.files) total += (await file.read()).length;
  return total < entry.approxBytes * REAL_SIZE_FRACTION;
}
