import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleWat, repoPath, WASM_SOURCES } from '../../scripts/build-wasm.ts';
import { runFfmpeg } from '../../src/media/ffmpeg.ts';
import type { CropRect } from '../../src/vision/ops/camera-path.ts';
import { moveEnds } from '../../src/vision/ops/camera-path.ts';
import type { RawImage } from '../../src/vision/ops/raw-image.ts';
import { yuvCropper, yuvFrameBytes } from '../../src/vision/ops/yuv-crop.ts';
import { makeSpecialistContext, type TestContext } from '../helpers/specialist-context.ts';

/**
 * The camera move's frame drawing (WebAssembly SIMD, 8-bit weights) against plain floating-point bilinear
 * sampling of the same planes, and its colour conversion against ffmpeg's own RGB → yuv420p.
 */

let context: TestContext;

beforeAll(async () => {
  context = await makeSpecialistContext();
});

afterAll(async () => {
  await context.cleanup();
});

/** A smooth but busy RGB picture: every kind of tap weight and no flat areas that would hide an offset. */
function pattern(width: number, height: number): RawImage {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data.set([128 + 100 * Math.sin(x / 6) * Math.cos(y / 4), (x * 5 + y * 3) % 256, 128 + 120 * Math.sin((x + y) / 9)], (y * width + x) * 3);
    }
  }
  return { data, width, height, channels: 3 };
}

/** ffmpeg's yuv420p planes of an RGB picture (its default matrix and range, as when it encodes RGB frames). */
async function ffmpegPlanes(image: RawImage): Promise<Buffer> {
  const file = `${context.tmpDir}/rgb-${image.width}x${image.height}.raw`;
  await fs.writeFile(file, image.data);
  return runFfmpeg(context.ffmpeg, [
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-s',
    `${image.width}x${image.height}`,
    '-i',
    `file:${file}`,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'yuv420p',
    'pipe:1',
  ]);
}

/** Floating-point bilinear, centres aligned, edges clamped: what every output sample should be. */
function bilinear(plane: Uint8Array, width: number, height: number, rect: CropRect, outWidth: number, outHeight: number): Float64Array {
  const out = new Float64Array(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const sy = Math.min(height - 1, Math.max(0, rect.top + ((y + 0.5) * rect.height) / outHeight - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(height - 1, y0 + 1);
    const fy = sy - y0;
    for (let x = 0; x < outWidth; x++) {
      const sx = Math.min(width - 1, Math.max(0, rect.left + ((x + 0.5) * rect.width) / outWidth - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(width - 1, x0 + 1);
      const fx = sx - x0;
      const top = plane[y0 * width + x0]! * (1 - fx) + plane[y0 * width + x1]! * fx;
      const bottom = plane[y1 * width + x0]! * (1 - fx) + plane[y1 * width + x1]! * fx;
      out[y * outWidth + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** The three planes of a yuv420p frame (or picture) of width × height. */
function planesOf(frame: Uint8Array, width: number, height: number): { data: Uint8Array; width: number; height: number }[] {
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  return [
    { data: frame.subarray(0, width * height), width, height },
    { data: frame.subarray(width * height, width * height + cw * ch), width: cw, height: ch },
    { data: frame.subarray(width * height + cw * ch, width * height + 2 * cw * ch), width: cw, height: ch },
  ];
}

describe('yuvCropper: sub-pixel frames in the encoder’s format', () => {
  it('converts RGB to yuv420p as ffmpeg does (BT.601 limited range): luma within 1 level, chroma within 2 on average', async () => {
    const image = pattern(300, 186);
    // The whole picture at its own size: each output sample is the converted input sample.
    const ours = planesOf(yuvCropper(image, 300, 186).draw({ left: 0, top: 0, width: 300, height: 186 }), 300, 186);
    const theirs = planesOf(await ffmpegPlanes(image), 300, 186);
    for (const [i, plane] of ours.entries()) {
      let sum = 0;
      let worst = 0;
      for (let k = 0; k < plane.data.length; k++) {
        const d = Math.abs(plane.data[k]! - theirs[i]!.data[k]!);
        sum += d;
        worst = Math.max(worst, d);
      }
      const mean = sum / plane.data.length;
      if (i === 0) {
        expect(mean).toBeLessThan(0.6);
        expect(worst).toBeLessThanOrEqual(1);
      } else {
        // ffmpeg's chroma is filtered over more than our 2 × 2 box; on a busy picture the two differ a little.
        expect(mean).toBeLessThan(2);
      }
    }
  });

  it('samples every plane like floating-point bilinear to within 2 levels, for fractional, edge-touching, zooming windows and widths that are not a multiple of 16', async () => {
    const image = pattern(301, 187);
    // Reference planes: the cropper's own conversion, read back from a window equal to the picture at its size.
    const sources = planesOf(yuvCropper(image, 300, 186).draw({ left: 0, top: 0, width: 300, height: 186 }), 300, 186);
    const rects: CropRect[] = [
      ...moveEnds(300, 186, 250 / 142, 'pan_left'),
      ...moveEnds(300, 186, 250 / 142, 'zoom_in'),
      { left: 10.37, top: 3.21, width: 200.5, height: 113.88 },
      { left: 0.49, top: 0.51, width: 299.3, height: 170.02 },
    ];
    for (const [outWidth, outHeight] of [
      [250, 142],
      [256, 144],
      [198, 112],
    ] as const) {
      const cropper = yuvCropper({ ...image, data: cropRgb(image, 300, 186), width: 300, height: 186 }, outWidth, outHeight);
      for (const rect of rects) {
        const frame = cropper.draw(rect);
        expect(frame.byteLength).toBe(yuvFrameBytes(outWidth, outHeight));
        for (const [i, plane] of planesOf(frame, outWidth, outHeight).entries()) {
          const scale = i === 0 ? 1 : 0.5;
          const window = { left: rect.left * scale, top: rect.top * scale, width: rect.width * scale, height: rect.height * scale };
          const expected = bilinear(sources[i]!.data, sources[i]!.width, sources[i]!.height, window, plane.width, plane.height);
          let sum = 0;
          let worst = 0;
          for (let k = 0; k < expected.length; k++) {
            const d = Math.abs(plane.data[k]! - expected[k]!);
            sum += d;
            worst = Math.max(worst, d);
          }
          expect(sum / expected.length, `plane ${i}, ${outWidth}×${outHeight}, ${JSON.stringify(rect)}`).toBeLessThan(0.6);
          expect(worst, `plane ${i}, ${outWidth}×${outHeight}, ${JSON.stringify(rect)}`).toBeLessThanOrEqual(2);
        }
      }
    }
  });

  it('moves a third of a pixel when the window moves a third of a pixel (no whole-pixel steps)', () => {
    // A vertical edge: its position in the frame is the luma-weighted crossing of the midpoint.
    const width = 200;
    const height = 60;
    const data = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.fill(x < 100 ? 30 : 220, (y * width + x) * 3, (y * width + x) * 3 + 3);
    const cropper = yuvCropper({ data, width, height, channels: 3 }, 120, 40);
    const edges = [0, 1, 2, 3, 4, 5].map((step) => {
      const frame = cropper.draw({ left: 20 + step / 3, top: 10, width: 120, height: 40 });
      const row = frame.subarray(20 * 120, 21 * 120);
      // The edge's sub-pixel position: how much of the row is bright, in pixels.
      let bright = 0;
      for (const v of row) bright += (v - row[0]!) / (row[119]! - row[0]!);
      return 120 - bright;
    });
    for (let i = 1; i < edges.length; i++) expect(edges[i - 1]! - edges[i]!).toBeCloseTo(1 / 3, 1);
  });

  it('refuses a window more than twice the frame (bilinear would alias; callers shrink the picture first)', () => {
    const cropper = yuvCropper(pattern(400, 200), 100, 50);
    expect(() => cropper.draw({ left: 0, top: 0, width: 400, height: 200 })).toThrow(/more than twice/);
  });

  it('loads the committed yuv-crop.wasm that `npm run build:wasm` makes from yuv-crop.wat', async () => {
    for (const source of WASM_SOURCES) {
      const built = await assembleWat(source.text, await fs.readFile(repoPath(source.text), 'utf8'));
      expect(Buffer.from(built).equals(await fs.readFile(repoPath(source.binary))), `${source.binary} is stale: run npm run build:wasm`).toBe(true);
    }
  });
});

/** The top-left width × height of an RGB picture, tightly packed. */
function cropRgb(image: RawImage, width: number, height: number): Buffer {
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) image.data.copy(out, y * width * 3, y * image.width * 3, y * image.width * 3 + width * 3);
  return out;
}
