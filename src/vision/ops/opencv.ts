import { createRequire } from 'node:module';
import { InternalError } from '../../errors.ts';
import { maskBounds } from './raw-image.ts';
import type { Mask, RawImage } from './raw-image.ts';

/**
 * OpenCV.js (WASM, @techstark/opencv-js 4.12) for classical image operations: inpainting and morphology.
 * Loaded once per process on first use (~0.3–1.5 s). Every Mat lives in the WASM heap and is freed only
 * by `.delete()`, so all Mats here are created through `withMats`, which deletes them in a finally.
 */

export type Cv = typeof import('@techstark/opencv-js');
type Mat = InstanceType<Cv['Mat']>;

interface EmscriptenModule {
  Mat?: unknown;
  then?: unknown;
  onRuntimeInitialized?: () => void;
}

let loading: Promise<Cv> | undefined;

async function load(): Promise<Cv> {
  // require, not import(): the module object has a `then` method, and a loader that copies it onto the
  // namespace object (vitest does) makes `await import()` adopt the namespace as a thenable and spin forever.
  const candidate = createRequire(import.meta.url)('@techstark/opencv-js') as EmscriptenModule | Promise<EmscriptenModule>;
  // Some builds export a promise of the module; this one exports the module itself, initialising in the background.
  const module = candidate instanceof Promise ? await candidate : candidate;
  if (typeof module.Mat !== 'function') {
    await new Promise<void>((resolve) => {
      module.onRuntimeInitialized = resolve;
    });
  }
  // The Emscripten module has a `then` method: any promise resolved with it (an async function returning it)
  // adopts it as a thenable and spins forever. It is only a readiness hook, and we are ready.
  delete module.then;
  const cv = module as unknown as Cv;
  if (typeof cv.inpaint !== 'function') throw new InternalError('This OpenCV.js build has no cv.inpaint (photo module).');
  return cv;
}

/** The process's OpenCV.js, ready to use; concurrent first calls share one load, a failed load is retried. */
export function opencv(): Promise<Cv> {
  loading ??= load();
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

/** Runs `work` with a `keep` function that registers Mats for deletion when `work` ends, however it ends. */
export async function withMats<T>(work: (cv: Cv, keep: <M extends Mat>(mat: M) => M) => T): Promise<T> {
  const cv = await opencv();
  const mats: Mat[] = [];
  try {
    return work(cv, (mat) => {
      mats.push(mat);
      return mat;
    });
  } finally {
    for (const mat of mats) mat.delete();
  }
}

/** Radius of the neighbourhood Telea fills each hole pixel from: a few pixels, more for wide holes. */
export function teleaRadius(holeWidth: number, holeHeight: number): number {
  return Math.max(3, Math.min(12, Math.round(Math.min(holeWidth, holeHeight) / 16)));
}

/**
 * Telea inpainting of the RGB channels of `image` (3 or 4 channels) where `mask` ≥ 128. Only a crop around
 * the hole goes through OpenCV (Telea reads `radius` pixels around it, nothing further), so a small hole
 * in a big photo costs a small copy. Pixels outside the hole come back unchanged byte for byte; alpha is kept.
 */
export async function inpaintTelea(image: RawImage, mask: Mask, radius: number): Promise<RawImage> {
  const { width, channels } = image;
  if (channels < 3) throw new InternalError(`inpaintTelea needs an RGB or RGBA image, not ${channels} channel(s).`);
  const bounds = maskBounds(mask);
  if (bounds === undefined) return image;
  const margin = Math.ceil(radius) + 2;
  const left = Math.max(0, bounds.left - margin);
  const top = Math.max(0, bounds.top - margin);
  const cw = Math.min(width, bounds.right + margin) - left;
  const ch = Math.min(image.height, bounds.bottom + margin) - top;
  const rgb = new Uint8Array(cw * ch * 3);
  const hole = new Uint8Array(cw * ch);
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      const i = (top + y) * width + left + x;
      const c = y * cw + x;
      const s = i * channels;
      rgb[c * 3] = image.data[s]!;
      rgb[c * 3 + 1] = image.data[s + 1]!;
      rgb[c * 3 + 2] = image.data[s + 2]!;
      hole[c] = mask.data[i]! >= 128 ? 255 : 0;
    }
  }
  const filled = await withMats((cv, keep) => {
    const src = keep(new cv.Mat(ch, cw, cv.CV_8UC3));
    src.data.set(rgb);
    const holeMat = keep(new cv.Mat(ch, cw, cv.CV_8UC1));
    holeMat.data.set(hole);
    const dst = keep(new cv.Mat());
    cv.inpaint(src, holeMat, dst, radius, cv.INPAINT_TELEA);
    // dst.data is a view into the WASM heap, gone once dst is deleted: copy it out.
    return Uint8Array.from(dst.data);
  });
  const out = Buffer.from(image.data);
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      const c = y * cw + x;
      if (hole[c] === 0) continue;
      const o = ((top + y) * width + left + x) * channels;
      out[o] = filled[c * 3]!;
      out[o + 1] = filled[c * 3 + 1]!;
      out[o + 2] = filled[c * 3 + 2]!;
    }
  }
  return { data: out, width, height: image.height, channels };
}

/** The mask grown by `radius` pixels (elliptical structuring element), values kept 0/255. */
export async function dilateMask(mask: Mask, radius: number): Promise<Mask> {
  const { width, height } = mask;
  if (radius <= 0) return mask;
  const data = await withMats((cv, keep) => {
    const src = keep(new cv.Mat(height, width, cv.CV_8UC1));
    src.data.set(mask.data);
    const dst = keep(new cv.Mat());
    const size = 2 * Math.round(radius) + 1;
    const kernel = keep(cv.getStructuringElement(cv.MORPH_ELLIPSE, new cv.Size(size, size)));
    cv.dilate(src, dst, kernel);
    return Uint8Array.from(dst.data);
  });
  return { data, width, height };
}
