import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe, readFrames, writeVideo } from '../../src/media/ffmpeg.ts';
import { planTurn } from '../../src/planner/baseline-planner.ts';
import { contextFor } from '../../src/planner/context.ts';
import { type CropRect, cameraPath } from '../../src/vision/ops/camera-path.ts';
import type { RawImage } from '../../src/vision/ops/raw-image.ts';
import { renderCrop } from '../../src/vision/ops/subpixel-crop.ts';
import { specialistFor } from '../../src/vision/registry.ts';
import { animateSpecialist } from '../../src/vision/tasks/video/animate.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { imageMedia, invocation, makeSpecialistContext, type TestContext } from '../helpers/specialist-context.ts';
import { requires } from '../helpers/prerequisites.ts';

/**
 * Camera moves measured from the decoded MP4: frame count and length by ffprobe, the first frame against
 * sharp's own crop of the source, the zoom from the growing distance between painted markers, and the
 * smoothness of a slow pan from the markers' sub-pixel centroids — against the same pan with the
 * rectangle rounded to whole pixels (what ffmpeg's zoompan does), which the same check must reject.
 */

const photos = await requires('testdata');

let context: TestContext;

beforeAll(async () => {
  context = await makeSpecialistContext();
});

afterAll(async () => {
  await context.models.dispose();
  await context.cleanup();
});

/** The rule-based plan of one clause said about an uploaded picture, when it is one invocation. */
function planTurnText(text: string): { task: string; args: Record<string, unknown> } | undefined {
  const invocations = planTurn(text, contextFor('image')).invocations;
  return invocations.length === 1 ? { task: invocations[0]!.task, args: invocations[0]!.args } : undefined;
}

const BACKGROUND = 230;
const SIGMA = 3;

/** Light grey with dark Gaussian dots at `dots` (pixel-edge coordinates, so (10, 10) is a pixel corner). */
function markerImage(width: number, height: number, dots: readonly { x: number; y: number }[]): RawImage {
  const data = Buffer.alloc(width * height * 3, BACKGROUND);
  for (const dot of dots) {
    for (let y = Math.floor(dot.y - 5 * SIGMA); y <= dot.y + 5 * SIGMA; y++) {
      for (let x = Math.floor(dot.x - 5 * SIGMA); x <= dot.x + 5 * SIGMA; x++) {
        if (x < 0 || y < 0 || x >= width || y >= height) continue;
        const r2 = (x + 0.5 - dot.x) ** 2 + (y + 0.5 - dot.y) ** 2;
        const dark = 200 * Math.exp(-r2 / (2 * SIGMA * SIGMA));
        const o = (y * width + x) * 3;
        const v = Math.round(BACKGROUND - dark);
        data[o] = Math.min(data[o]!, v);
        data[o + 1] = Math.min(data[o + 1]!, v);
        data[o + 2] = Math.min(data[o + 2]!, v);
      }
    }
  }
  return { data, width, height, channels: 3 };
}

async function pngOf(image: RawImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .png()
    .toBuffer();
}

/** Every frame of an MP4 as RGBA. */
async function decode(bytes: Buffer, name: string): Promise<{ frames: Buffer[]; width: number; height: number }> {
  const file = path.join(context.tmpDir, name);
  await fs.writeFile(file, bytes);
  const { width, height } = await probe(context.ffmpeg, file);
  const frames: Buffer[] = [];
  for await (const frame of readFrames(context.ffmpeg, file, { width, height })) frames.push(Buffer.from(frame));
  return { frames, width, height };
}

/** Darkness-weighted centroid of the dot nearest `guess` (a 12-pixel window), in pixel-edge coordinates. */
function centroid(frame: Buffer, width: number, height: number, guess: { x: number; y: number }): { x: number; y: number } {
  let sum = 0;
  let sx = 0;
  let sy = 0;
  const r = 12;
  for (let y = Math.max(0, Math.round(guess.y) - r); y < Math.min(height, Math.round(guess.y) + r); y++) {
    for (let x = Math.max(0, Math.round(guess.x) - r); x < Math.min(width, Math.round(guess.x) + r); x++) {
      // Weights well above the codec's noise on the flat background.
      const w = Math.max(0, BACKGROUND - frame[(y * width + x) * 4]! - 12);
      sum += w;
      sx += w * (x + 0.5);
      sy += w * (y + 0.5);
    }
  }
  if (sum === 0) throw new Error(`no dot near ${guess.x.toFixed(1)}, ${guess.y.toFixed(1)}`);
  return { x: sx / sum, y: sy / sum };
}

/** Where a source point lands in a frame showing `rect` at `width` × `height`. */
function projected(point: { x: number; y: number }, rect: CropRect, width: number, height: number): { x: number; y: number } {
  return { x: ((point.x - rect.left) * width) / rect.width, y: ((point.y - rect.top) * height) / rect.height };
}

/**
 * How far the measured mean dot position strays from the sub-pixel path the camera should follow, frame by
 * frame (output pixels). A glide follows it to a small fraction of a pixel; a move that steps whole source
 * pixels is off by up to half a step.
 */
function pathError(
  frames: Buffer[],
  width: number,
  height: number,
  dots: readonly { x: number; y: number }[],
  rects: readonly CropRect[],
): { max: number; increments: number[] } {
  let max = 0;
  const positions: number[] = [];
  frames.forEach((frame, i) => {
    let measured = 0;
    let expected = 0;
    for (const dot of dots) {
      const want = projected(dot, rects[i]!, width, height);
      measured += centroid(frame, width, height, want).x;
      expected += want.x;
    }
    max = Math.max(max, Math.abs(measured - expected) / dots.length);
    positions.push(measured / dots.length);
  });
  return { max, increments: positions.slice(1).map((p, i) => p - positions[i]!) };
}

describe('animate: camera moves over a still, on CPU', () => {
  it('is the animate task’s specialist and needs no model', () => {
    expect(specialistFor('animate')).toBe(animateSpecialist);
    expect(animateSpecialist.models).toEqual([]);
  });

  it('plans camera moves from words: "slowly zoom in", "pan to the left", "animate it" (Ken Burns by default), with seconds and fps', () => {
    expect(planTurnText('slowly zoom in')).toEqual({ task: 'animate', args: { motion: 'zoom_in' } });
    expect(planTurnText('pan to the left')).toEqual({ task: 'animate', args: { motion: 'pan_left' } });
    expect(planTurnText('zoom out slowly for 8 seconds at 30 fps')).toEqual({ task: 'animate', args: { motion: 'zoom_out', seconds: 8, fps: 30 } });
    expect(planTurnText('animate it')).toEqual({ task: 'animate', args: {} });
    expect(planTurnText('animate it with a slow zoom in')).toEqual({ task: 'animate', args: { motion: 'zoom_in' } });
    // A bare "zoom out" is still outpainting: a bigger picture, not a video.
    expect(planTurnText('zoom out')?.task).toBe('outpaint');
  });

  it('makes an MP4 with seconds × fps frames lasting the asked length, and says which move and how long', async () => {
    const png = await pngOf(markerImage(320, 180, [{ x: 160, y: 90 }]));
    const result = await animateSpecialist.run(invocation('animate', await imageMedia(context, png), { motion: 'pan_right', seconds: 2, fps: 12 }), context);
    expect(result.media).toHaveLength(1);
    expect(result.media[0]).toMatchObject({ kind: 'video', mime: 'video/mp4', role: 'result' });
    expect(result.text).toMatch(/pan to the right: 2 s at 12 fps, 320×180/);
    const file = path.join(context.tmpDir, 'count.mp4');
    await fs.writeFile(file, result.media[0]!.bytes);
    const facts = await probe(context.ffmpeg, file);
    expect(facts.frameCount).toBe(24);
    expect(facts.durationSec).toBeCloseTo(2, 1);
    expect([facts.width, facts.height]).toEqual([320, 180]);
  }, 60_000);

  it('"animate it at 60 fps" plans 60 fps and gets a 30 fps clip whose reply says why', async () => {
    expect(planTurnText('animate it at 60 fps')).toEqual({ task: 'animate', args: { fps: 60 } });
    const png = await pngOf(markerImage(320, 180, [{ x: 160, y: 90 }]));
    const result = await animateSpecialist.run(invocation('animate', await imageMedia(context, png), { motion: 'zoom_in', seconds: 1, fps: 60 }), context);
    expect(result.text).toMatch(/1 s at 30 fps \(30 fps is the most a camera move draws\), 320×180/);
    const file = path.join(context.tmpDir, 'sixty.mp4');
    await fs.writeFile(file, result.media[0]!.bytes);
    expect(await probe(context.ffmpeg, file)).toMatchObject({ frameCount: 30, fps: 30 });
  }, 60_000);

  it('caps a camera move at 10 s and 720p, and says so', async () => {
    const png = await sharp({ create: { width: 1920, height: 1080, channels: 3, background: '#557799' } })
      .png()
      .toBuffer();
    const result = await animateSpecialist.run(invocation('animate', await imageMedia(context, png), { motion: 'zoom_in', seconds: 60, fps: 2 }), context);
    expect(result.text).toMatch(/10 s \(10 s is the longest a camera move goes\) at 2 fps, 1280×720/);
    const file = path.join(context.tmpDir, 'capped.mp4');
    await fs.writeFile(file, result.media[0]!.bytes);
    expect(await probe(context.ffmpeg, file)).toMatchObject({ width: 1280, height: 720, frameCount: 20 });
  }, 60_000);

  photos.it(
    'starts a zoom out on the requested crop: the first frame matches sharp’s crop and resize of the photo',
    async () => {
      // The astronaut photo at 1000×600: the zoom out starts on the centred 800×480 window.
      const source = await sharp(testdata('astronaut.png')).resize(1000, 600, { fit: 'fill' }).png().toBuffer();
      const result = await animateSpecialist.run(invocation('animate', await imageMedia(context, source), { motion: 'zoom_out', seconds: 1, fps: 6 }), context);
      const { frames, width, height } = await decode(result.media[0]!.bytes, 'first.mp4');
      expect([width, height]).toEqual([1000, 600]);
      const reference = await sharp(source)
        .extract({ left: 100, top: 60, width: 800, height: 480 })
        .resize(1000, 600, { fit: 'fill', kernel: 'linear' })
        .raw()
        .toBuffer();
      let error = 0;
      let wrongCrop = 0;
      const uncropped = await sharp(source).raw().toBuffer();
      for (let i = 0, j = 0; i < width * height * 4; i += 4, j += 3) {
        for (let c = 0; c < 3; c++) {
          error += Math.abs(frames[0]![i + c]! - reference[j + c]!);
          wrongCrop += Math.abs(frames[0]![i + c]! - uncropped[j + c]!);
        }
      }
      const meanError = error / (width * height * 3);
      // H.264 at CRF 20 and bilinear vs sharp's linear kernel: a few levels; the uncropped photo is far off.
      expect(meanError).toBeLessThan(4);
      expect(wrongCrop / (width * height * 3)).toBeGreaterThan(4 * meanError);
    },
    60_000,
  );

  it('zooms in steadily: the distance between two markers grows from frame to frame', async () => {
    const left = { x: 200.3, y: 180.6 };
    const right = { x: 440.7, y: 180.6 };
    const png = await pngOf(markerImage(640, 360, [left, right]));
    const result = await animateSpecialist.run(invocation('animate', await imageMedia(context, png), { motion: 'zoom_in', seconds: 2, fps: 15 }), context);
    const { frames, width, height } = await decode(result.media[0]!.bytes, 'zoom.mp4');
    expect(frames).toHaveLength(30);
    const rects = cameraPath(640, 360, width / height, 'zoom_in', frames.length);
    const spacing = frames.map((frame, i) => {
      const a = centroid(frame, width, height, projected(left, rects[i]!, width, height));
      const b = centroid(frame, width, height, projected(right, rects[i]!, width, height));
      return b.x - a.x;
    });
    expect(spacing[0]).toBeCloseTo(240.4, 0);
    // The zoom ends at 1.25×: 240.4 × 1.25.
    expect(spacing.at(-1)).toBeCloseTo(300.5, 0);
    for (let i = 1; i < spacing.length; i++) expect(spacing[i]!).toBeGreaterThan(spacing[i - 1]! - 0.05);
    // Eased: the middle frames grow faster than the first and last.
    expect(spacing[15]! - spacing[14]!).toBeGreaterThan(3 * (spacing[1]! - spacing[0]!));
  }, 60_000);

  it('pans smoothly: the markers follow the eased sub-pixel path within 0.15 px, where the same pan in whole-pixel steps is off by more than 0.3', async () => {
    const dots = [160, 260, 360, 460].flatMap((x) => [120, 240].map((y) => ({ x: x + 0.37, y: y + 0.21 })));
    const source = markerImage(640, 360, dots);
    const png = await pngOf(source);
    // 8 s at 24 fps over 107 source pixels: about two thirds of a pixel per frame, far less at both ends.
    const result = await animateSpecialist.run(invocation('animate', await imageMedia(context, png), { motion: 'pan_right', seconds: 8, fps: 24 }), context);
    const smooth = await decode(result.media[0]!.bytes, 'pan.mp4');
    const rects = cameraPath(640, 360, smooth.width / smooth.height, 'pan_right', smooth.frames.length);
    expect(smooth.frames).toHaveLength(192);

    // The same frames with each rectangle snapped to whole source pixels, encoded the same way.
    const stepped = rects.map((r) => ({ ...r, left: Math.round(r.left), top: Math.round(r.top) }));
    const naiveBytes = await writeVideo(
      context.ffmpeg,
      stepped.map((rect) => {
        const out = Buffer.alloc(smooth.width * smooth.height * 4);
        renderCrop(source, rect, out, smooth.width, smooth.height);
        return out;
      }),
      { width: smooth.width, height: smooth.height, fps: 24, tmpDir: context.tmpDir },
    );
    const naive = await decode(naiveBytes, 'naive.mp4');

    const glide = pathError(smooth.frames, smooth.width, smooth.height, dots, rects);
    const steps = pathError(naive.frames, naive.width, naive.height, dots, rects);
    expect(glide.max).toBeLessThan(0.15);
    expect(steps.max).toBeGreaterThan(0.3);
    // Whole-pixel steps show in the increments too: most frames move 0 or one whole step (1.2 output px).
    const onStep = (d: number) => Math.min(Math.abs(d), Math.abs(Math.abs(d) - 1.2)) < 0.1;
    expect(steps.increments.filter(onStep).length / steps.increments.length).toBeGreaterThan(0.6);
    expect(glide.increments.filter(onStep).length / glide.increments.length).toBeLessThan(0.3);
  }, 120_000);
});
