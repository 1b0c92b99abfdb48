import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe, readFrames } from '../../src/media/ffmpeg.ts';
import { depthMap } from '../../src/vision/models/depth-anything.ts';
import { depthLayers, type ParallaxPlates, parallaxPlates, renderParallaxFrame } from '../../src/vision/ops/camera-parallax.ts';
import { moveEnds } from '../../src/vision/ops/camera-path.ts';
import type { RawImage } from '../../src/vision/ops/raw-image.ts';
import { animateSpecialist } from '../../src/vision/tasks/video/animate.ts';
import { openCvInpainter } from '../../src/vision/models/inpainter-choice.ts';
import { installFixtureModel } from '../fixtures/onnx-models.ts';
import { imageMedia, invocation, makeSpecialistContext, type TestContext } from '../helpers/specialist-context.ts';

/**
 * Depth parallax on the Depth Anything fixture graph (real input/output contract; its "depth" is brightness,
 * so a bright square is near and the dark ground far): measured on the decoded MP4, the square travels
 * further than the ground, and what it uncovers is filled like the ground — never the square's own pixels
 * left behind, never an empty colour.
 */

let modelsDir: string;
let context: TestContext;

beforeAll(async () => {
  modelsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-animate-depth-'));
  await installFixtureModel(modelsDir, 'depth-anything-v2-small');
  context = await makeSpecialistContext({ env: { MODELS_DIR: modelsDir } });
});

afterAll(async () => {
  await context.models.dispose();
  await context.cleanup();
  await fs.rm(modelsDir, { recursive: true, force: true });
});

const W = 320;
const H = 240;
const SQUARE = { left: 110, top: 70, size: 100 };

/** Smooth blotches (seeded) in a band of grey levels: texture the block matcher can lock onto. */
async function blotches(width: number, height: number, low: number, high: number, seed: number): Promise<Buffer> {
  let s = seed;
  const random = () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  const noise = Buffer.alloc(width * height);
  for (let i = 0; i < noise.length; i++) noise[i] = Math.round(random() * 255);
  const blurred = await sharp(noise, { raw: { width, height, channels: 1 } })
    .blur(2)
    .normalise()
    .raw()
    .toBuffer();
  return Buffer.from(blurred.map((v) => Math.round(low + ((high - low) * v) / 255)));
}

/** A dark textured ground (40..90) with a bright textured square (180..250) in front. */
async function scene(): Promise<RawImage> {
  const ground = await blotches(W, H, 40, 90, 7);
  const square = await blotches(SQUARE.size, SQUARE.size, 180, 250, 11);
  const data = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const inside = x >= SQUARE.left && x < SQUARE.left + SQUARE.size && y >= SQUARE.top && y < SQUARE.top + SQUARE.size;
      const v = inside ? square[(y - SQUARE.top) * SQUARE.size + x - SQUARE.left]! : ground[y * W + x]!;
      data.fill(v, (y * W + x) * 3, (y * W + x) * 3 + 3);
    }
  }
  return { data, width: W, height: H, channels: 3 };
}

const grey = (frame: Buffer, x: number, y: number) => frame[(y * W + x) * 4]!;

/** Horizontal shift (whole pixels, then a parabola through the best three) that best maps a patch of `a` onto `b`. */
function shiftOf(a: Buffer, b: Buffer, patch: { left: number; top: number; size: number }, range: number): number {
  const cost = (dx: number) => {
    let sad = 0;
    for (let y = patch.top; y < patch.top + patch.size; y++) {
      for (let x = patch.left; x < patch.left + patch.size; x++) {
        const bx = x + dx;
        sad += bx < 0 || bx >= W ? 255 : Math.abs(grey(a, x, y) - grey(b, bx, y));
      }
    }
    return sad;
  };
  let best = 0;
  let bestCost = Infinity;
  for (let dx = -range; dx <= range; dx++) {
    const c = cost(dx);
    if (c < bestCost) [best, bestCost] = [dx, c];
  }
  const [l, r] = [cost(best - 1), cost(best + 1)];
  const curvature = l - 2 * bestCost + r;
  return curvature > 0 ? best + (0.5 * (l - r)) / curvature : best;
}

describe('animate with Depth Anything: 2.5D parallax', () => {
  it('moves the near square further than the far ground, and says it used depth layers and which inpainter', async () => {
    const image = await scene();
    const png = await sharp(image.data, { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toBuffer();
    const result = await animateSpecialist.run(invocation('animate', await imageMedia(context, png), { motion: 'pan_right', seconds: 2, fps: 12 }), context);
    expect(result.text).toMatch(/depth parallax: [23] depth layers \(Depth Anything\), near ones moving more; .* filled by OpenCV \(Telea\)/);
    const file = path.join(context.tmpDir, 'parallax.mp4');
    await fs.writeFile(file, result.media[0]!.bytes);
    expect(await probe(context.ffmpeg, file)).toMatchObject({ width: W, height: H, frameCount: 24 });
    const frames: Buffer[] = [];
    for await (const frame of readFrames(context.ffmpeg, file, { width: W, height: H })) frames.push(Buffer.from(frame));
    const [first, last] = [frames[0]!, frames.at(-1)!];

    // The camera pans right over 1/6 of the picture, shown at 1.2×: the ground moves left by 64 px.
    const far = shiftOf(first, last, { left: 260, top: 5, size: 40 }, 110);
    const near = shiftOf(first, last, { left: 170, top: 100, size: 40 }, 110);
    expect(far).toBeCloseTo(-64, 0);
    expect(near).toBeLessThan(far - 20);
  }, 120_000);

  it('leaves no hole: where the near square moved away every pixel is filled ground, in every frame; without the fill the square’s copy would show', async () => {
    const image = await scene();
    const layers = depthLayers(await depthMap(context.models, image, 'animate'), W);
    expect(layers.nearness.at(-1)).toBeGreaterThan(layers.nearness[0]! + 0.5);
    const plates = await parallaxPlates(image, layers, (picture, mask) => openCvInpainter.inpaint(picture, mask, context));
    expect(plates.overlays.length).toBeGreaterThanOrEqual(1);
    for (const e of [0.25, 0.5, 0.75, 1]) {
      const { empty, uncovered, ghost } = uncoveredGround(plates, e);
      expect(empty).toBe(0);
      if (e >= 0.5) expect(uncovered).toBeGreaterThan(200);
      // Filled from the dark ground around it, not the bright square left behind.
      expect(ghost).toBe(0);
    }
    // The same layers with nothing filled: the far plate still holds the square, and the check sees it.
    const unfilled = await parallaxPlates(image, layers, async (picture) => picture);
    expect(uncoveredGround(unfilled, 1).ghost).toBeGreaterThan(1000);
  }, 120_000);
});

/** Renders one frame over an empty magenta and counts uncovered pixels, the ground the square uncovered, and bright ones in it. */
function uncoveredGround(plates: ParallaxPlates, e: number): { empty: number; uncovered: number; ghost: number } {
  const [start, end] = moveEnds(W, H, W / H, 'pan_right');
  const out = Buffer.alloc(W * H * 4);
  for (let i = 0; i < out.length; i += 4) out.set([255, 0, 255, 0], i);
  renderParallaxFrame(plates, start, end, e, out, W, H);
  let empty = 0;
  for (let i = 0; i < W * H; i++) {
    const o = i * 4;
    if (out[o + 3] !== 255 || (out[o] === 255 && out[o + 1] === 0 && out[o + 2] === 255)) empty++;
  }
  const left = start.left + (end.left - start.left) * e;
  const scale = W / start.width;
  // Where the square would be had it moved only as fast as the ground, and where its right edge really is.
  const x1 = Math.floor((SQUARE.left + SQUARE.size - left) * scale) - 2;
  const y0 = Math.ceil((SQUARE.top - start.top) * scale) + 2;
  const y1 = Math.floor((SQUARE.top + SQUARE.size - start.top) * scale) - 2;
  const nearLeft = start.left + (end.left - start.left) * e * plates.overlays.at(-1)!.speed;
  const nearRight = Math.floor((SQUARE.left + SQUARE.size - nearLeft) * scale);
  let uncovered = 0;
  let ghost = 0;
  for (let y = Math.max(0, y0); y < Math.min(H, y1); y++) {
    for (let x = Math.max(0, nearRight + 3); x < Math.min(W, x1); x++) {
      uncovered++;
      if (out[(y * W + x) * 4]! > 130) ghost++;
    }
  }
  return { empty, uncovered, ghost };
}
