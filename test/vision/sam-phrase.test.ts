/**
 * A phrase's box outlined by SlimSAM (find/box-mask.ts): OWL-ViT's fixture finds a red rectangle, SlimSAM's
 * box fixture (test/fixtures/sam-box-fixture.ts) answers exactly the box it was given as corners labelled 2
 * and 3, so what reached SAM is visible both in the decoder's feeds and in the mask that comes back.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Box } from '../../src/core/types.ts';
import { boxMaskModel } from '../../src/vision/find/box-mask.ts';
import type { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { removeSpecialist } from '../../src/vision/tasks/edit/remove.ts';
import { cutoutSpecialist, VIDEO_CUTOUT_BACKGROUND } from '../../src/vision/tasks/segment/cutout.ts';
import { segmentSpecialist } from '../../src/vision/tasks/segment/segment.ts';
import type { SpecialistResult } from '../../src/vision/specialist.ts';
import { installOwlvitFixture } from '../fixtures/owlvit-fixture.ts';
import { installSamBoxFixture } from '../fixtures/sam-box-fixture.ts';
import { recordingRegistry } from '../helpers/recording-registry.ts';
import { imageMedia, invocation, makeSpecialistContext, testSettings, videoMedia } from '../helpers/specialist-context.ts';
import type { TestContext } from '../helpers/specialist-context.ts';
import { decodeFrames, iou } from './fixtures.ts';

const exec = promisify(execFile);
const HEAVY = { timeout: 240_000 };

/** What one session run received, classified by the graph's inputs. */
type Graph = 'sam-encoder' | 'sam-decoder' | 'isnet' | 'other';
interface Run {
  graph: Graph;
  points?: number[];
  labels?: number[];
}

function graphOf(session: ort.InferenceSession): Graph {
  if (session.inputNames.includes('input_labels')) return 'sam-decoder';
  if (session.inputNames.includes('pixel_values') && session.outputNames.includes('image_embeddings')) return 'sam-encoder';
  if (session.inputNames.length === 1 && session.inputNames[0] === 'input') return 'isnet';
  return 'other';
}

/** A registry over `modelsDir` that appends every run to `runs`, with the SAM decoder's points and labels. */
function recorded(modelsDir: string, runs: Run[]): ModelRegistry {
  return recordingRegistry(testSettings({ MODELS_DIR: modelsDir }), ({ session, feeds }) => {
    const graph = graphOf(session);
    if (graph !== 'sam-decoder') {
      runs.push({ graph });
      return;
    }
    runs.push({
      graph,
      points: Array.from(feeds['input_points']!.data as Float32Array),
      labels: Array.from(feeds['input_labels']!.data as BigInt64Array, Number),
    });
  });
}

const count = (runs: readonly Run[], graph: Graph) => runs.filter((r) => r.graph === graph).length;
const decoderRuns = (runs: readonly Run[]) => runs.filter((r) => r.graph === 'sam-decoder');

const WIDTH = 640;
const HEIGHT = 480;
/** 640×480 → SAM's 1024 frame (1024×768): both axes ×1.6. */
const SAM_SCALE = 1024 / WIDTH;

interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
  colour: string;
}

/** Edges on OWL-ViT's patch edges once stretched to 768² (every 26⅔ px across, 20 px down), so its box is exact. */
const RED: Rect = { left: 160, top: 100, width: 240, height: 200, colour: '#ff0000' };
const BRIGHT_RED_LEFT: Rect = { left: 80, top: 100, width: 160, height: 200, colour: '#ff0000' };
const DARK_RED_RIGHT: Rect = { left: 400, top: 200, width: 160, height: 200, colour: '#600000' };
const boxOf = (r: Rect): Box => ({ x1: r.left, y1: r.top, x2: r.left + r.width, y2: r.top + r.height });

/** Coloured rectangles on a blue picture (the fixture detector's "sky"). */
async function picture(rects: readonly Rect[]): Promise<Buffer> {
  return sharp({ create: { width: WIDTH, height: HEIGHT, channels: 3, background: '#0000ff' } })
    .composite(
      rects.map((r) => ({ input: { create: { width: r.width, height: r.height, channels: 3 as const, background: r.colour } }, left: r.left, top: r.top })),
    )
    .png()
    .toBuffer();
}

/** A red disc (centre 280,200, radius 100) on blue: its box's corners are blue. */
const DISC = { cx: 280, cy: 200, r: 100 };
const insideDisc = (x: number, y: number) => (x + 0.5 - DISC.cx) ** 2 + (y + 0.5 - DISC.cy) ** 2 <= DISC.r ** 2;

async function discPicture(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}"><rect width="${WIDTH}" height="${HEIGHT}" fill="#0000ff"/><circle cx="${DISC.cx}" cy="${DISC.cy}" r="${DISC.r}" fill="#ff0000"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

interface Gray {
  data: Buffer;
  width: number;
  height: number;
}

async function channelOf(png: Buffer, channel: 0 | 3): Promise<Gray> {
  const { data, info } = await sharp(png).ensureAlpha().extractChannel(channel).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

async function maskOf(result: SpecialistResult): Promise<Gray> {
  const item = result.media.find((m) => m.role === 'mask');
  if (item === undefined) throw new Error(`no mask in the result: ${result.text}`);
  return channelOf(item.bytes, 0);
}

const insideBox = (b: Box) => (x: number, y: number) => x + 0.5 > b.x1 && x + 0.5 < b.x2 && y + 0.5 > b.y1 && y + 0.5 < b.y2;

/** The decoder's prompt read back as a box in image pixels: the point labelled 2 and the point labelled 3. */
function promptBox(run: Run, scale: number): Box {
  expect(run.labels).toEqual([2, 3]);
  const [x1, y1, x2, y2] = run.points!.map((v) => v / scale);
  return { x1: x1!, y1: y1!, x2: x2!, y2: y2! };
}

function expectBoxNear(actual: Box, expected: Box, tolerance: number): void {
  for (const k of ['x1', 'y1', 'x2', 'y2'] as const)
    expect(Math.abs(actual[k] - expected[k]), `${k}: ${actual[k]} vs ${expected[k]}`).toBeLessThanOrEqual(tolerance);
}

describe('phrases outlined by SlimSAM when it is pulled (OWL-ViT and SlimSAM box fixtures)', () => {
  let modelsDir: string;
  let models: ModelRegistry;
  let context: TestContext;
  const runs: Run[] = [];

  beforeAll(async () => {
    modelsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-sam-phrase-'));
    await installOwlvitFixture(modelsDir);
    await installSamBoxFixture(modelsDir);
    models = recorded(modelsDir, runs);
    context = await makeSpecialistContext({ models, env: { MODELS_DIR: modelsDir } });
  });

  afterAll(async () => {
    await models.dispose();
    await context.cleanup();
    await fs.rm(modelsDir, { recursive: true, force: true });
  });

  it('chooses SlimSAM to outline boxes when it is installed', () => {
    expect(boxMaskModel(models)).toBe('slimsam-77');
  });

  it('segment "the red logo": the detector box reaches SAM as corners labelled 2 and 3 in the 1024 frame, and SAM\'s mask is the answer', HEAVY, async () => {
    const media = await imageMedia(context, await picture([RED]), 'red.png');
    runs.length = 0;
    const result = await segmentSpecialist.run(invocation('segment', media, { phrase: 'the red logo' }), context);
    expect(result.text).toMatch(/^Segmented the red logo \(\d+ % of the picture\)\.$/);
    expect(result.boxes).toHaveLength(1);
    const detected = result.boxes![0]!;
    expectBoxNear(detected, boxOf(RED), 1);
    expect(count(runs, 'sam-encoder')).toBe(1);
    expect(count(runs, 'isnet')).toBe(0);
    const [decoded] = decoderRuns(runs);
    expect(decoderRuns(runs)).toHaveLength(1);
    // The corners in the 1024 frame are the detector's box ×1.6 (resultBoxes rounds to 0.1 px).
    const expected = [detected.x1, detected.y1, detected.x2, detected.y2].map((v) => v * SAM_SCALE);
    for (const [i, v] of decoded!.points!.entries()) expect(Math.abs(v - expected[i]!)).toBeLessThan(0.1 * SAM_SCALE + 1e-3);
    expect(decoded!.labels).toEqual([2, 3]);
    const mask = await maskOf(result);
    expect([mask.width, mask.height]).toEqual([WIDTH, HEIGHT]);
    expect(iou(mask.data, WIDTH, HEIGHT, insideBox(detected))).toBeGreaterThan(0.97);
  });

  it('cutout "the red logo" on the same upload reuses its embedding, and is opaque exactly in SAM\'s box', HEAVY, async () => {
    const media = await imageMedia(context, await picture([RED]), 'red.png');
    runs.length = 0;
    const result = await cutoutSpecialist.run(invocation('cutout', media, { phrase: 'the red logo' }), context);
    expect(result.text).toMatch(/^Cut out the red logo/);
    expect(count(runs, 'sam-encoder')).toBe(0);
    expect(decoderRuns(runs)).toHaveLength(1);
    expectBoxNear(promptBox(decoderRuns(runs)[0]!, SAM_SCALE), boxOf(RED), 1);
    const alpha = await channelOf(result.media.find((m) => m.role === 'result')!.bytes, 3);
    expect(iou(alpha.data, WIDTH, HEIGHT, insideBox(boxOf(RED)))).toBeGreaterThan(0.97);
  });

  it('"all the red logos": one encoder run for the picture, one decoder run per box, the mask is both boxes', HEAVY, async () => {
    const media = await imageMedia(context, await picture([BRIGHT_RED_LEFT, DARK_RED_RIGHT]), 'two-red.png');
    runs.length = 0;
    const result = await segmentSpecialist.run(invocation('segment', media, { phrase: 'all the red logos' }), context);
    expect(result.text).toMatch(/^Segmented the 2 red logos/);
    expect(count(runs, 'sam-encoder')).toBe(1);
    const prompts = decoderRuns(runs).map((r) => promptBox(r, SAM_SCALE));
    expect(prompts).toHaveLength(2);
    expectBoxNear(prompts[0]!, boxOf(BRIGHT_RED_LEFT), 1);
    expectBoxNear(prompts[1]!, boxOf(DARK_RED_RIGHT), 1);
    const mask = await maskOf(result);
    const either = (x: number, y: number) => insideBox(boxOf(BRIGHT_RED_LEFT))(x, y) || insideBox(boxOf(DARK_RED_RIGHT))(x, y);
    expect(iou(mask.data, WIDTH, HEIGHT, either)).toBeGreaterThan(0.95);
  });

  it('remove "the red logo": SAM\'s box is the hole, and the red is gone', HEAVY, async () => {
    const media = await imageMedia(context, await picture([RED]), 'red-remove.png');
    runs.length = 0;
    const result = await removeSpecialist.run(invocation('remove', media, { phrase: 'the red logo' }), context);
    expect(result.text).toMatch(/^Removed the red logo/);
    expect(decoderRuns(runs)).toHaveLength(1);
    expectBoxNear(promptBox(decoderRuns(runs)[0]!, SAM_SCALE), boxOf(RED), 1);
    // The filled area is the box grown by the hole's padding (a few pixels), never the whole picture.
    const hole = await maskOf(result);
    const grown = { x1: RED.left - 12, y1: RED.top - 12, x2: RED.left + RED.width + 12, y2: RED.top + RED.height + 12 };
    for (let y = 0; y < HEIGHT; y++) {
      for (let x = 0; x < WIDTH; x++) {
        if (insideBox(boxOf(RED))(x, y)) expect(hole.data[y * WIDTH + x]).toBeGreaterThanOrEqual(128);
        else if (!insideBox(grown)(x, y)) expect(hole.data[y * WIDTH + x]).toBeLessThan(128);
      }
    }
    const after = await sharp(result.media.find((m) => m.role === 'result')!.bytes)
      .raw()
      .toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => (y * after.info.width + x) * after.info.channels;
    const centre = at(RED.left + RED.width / 2, RED.top + RED.height / 2);
    expect(after.data[centre]!).toBeLessThan(100); // was 255 red
    expect(after.data[centre + 2]!).toBeGreaterThan(150); // filled with the blue around it
  });
});

/**
 * The clip: a red 128×120 rectangle moving 32 px right a frame over blue, 10 frames at 10 fps, 768×480. Its
 * edges fall on OWL-ViT's patch edges (32 px across, 20 px down once stretched to 768²).
 */
const CLIP = { width: 768, height: 480, frames: 10, fps: 10 };
/** 768×480 → SAM's 1024 frame (1024×640): both axes ×4/3. */
const CLIP_SAM_SCALE = 1024 / CLIP.width;

async function movingRedClip(dir: string): Promise<string> {
  const file = path.join(dir, 'moving-red.mp4');
  const seconds = String(CLIP.frames / CLIP.fps);
  const size = `${CLIP.width}x${CLIP.height}`;
  await exec('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', `color=c=blue:s=${size}:r=${CLIP.fps}:d=${seconds}`],
    ...['-f', 'lavfi', '-i', `color=c=red:s=128x120:r=${CLIP.fps}:d=${seconds}`],
    ...['-filter_complex', `[0:v][1:v]overlay=x='32+n*32':y=100,format=yuv420p[v]`, '-map', '[v]'],
    ...['-frames:v', String(CLIP.frames), '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '12', file],
  ]);
  return file;
}

/** Where the red rectangle is in each frame of the clip, as decoded: the bounds of its red pixels. */
async function redBoundsPerFrame(file: string): Promise<Box[]> {
  return (await decodeFrames(file, CLIP.width, CLIP.height)).map((frame) => {
    const box = { x1: Infinity, y1: Infinity, x2: -1, y2: -1 };
    for (let y = 0; y < CLIP.height; y++) {
      for (let x = 0; x < CLIP.width; x++) {
        const p = (y * CLIP.width + x) * 4;
        if (frame[p]! < 150 || frame[p + 2]! > 100) continue;
        box.x1 = Math.min(box.x1, x);
        box.y1 = Math.min(box.y1, y);
        box.x2 = Math.max(box.x2, x + 1);
        box.y2 = Math.max(box.y2, y + 1);
      }
    }
    return box;
  });
}

/** The chroma-key green cutout puts behind the object (#00b140), after H.264. */
function isKeyGreen(frame: Buffer, x: number, y: number): boolean {
  const p = (y * CLIP.width + x) * 4;
  return frame[p]! < 60 && frame[p + 1]! > 130 && frame[p + 2]! < 110;
}

describe('tracked boxes on video frames reach SlimSAM (OWL-ViT and SlimSAM box fixtures)', () => {
  let modelsDir: string;
  let models: ModelRegistry;
  let context: TestContext;
  let clip: string;
  /** Where the rectangle really is in each frame. */
  let truth: Box[];
  const runs: Run[] = [];

  beforeAll(async () => {
    modelsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-sam-video-'));
    await installOwlvitFixture(modelsDir);
    await installSamBoxFixture(modelsDir);
    const scratch = await makeSpecialistContext();
    clip = path.join(modelsDir, 'moving-red.mp4');
    await fs.copyFile(await movingRedClip(scratch.tmpDir), clip);
    await scratch.cleanup();
    await scratch.models.dispose();
    truth = await redBoundsPerFrame(clip);
  });

  // A registry per test: SAM's embedding cache lives in its session, and each test counts its own encoder runs.
  beforeEach(async () => {
    runs.length = 0;
    models = recorded(modelsDir, runs);
    context = await makeSpecialistContext({ models, env: { MODELS_DIR: modelsDir } });
  });

  afterEach(async () => {
    await models.dispose();
    await context.cleanup();
  });

  afterAll(async () => {
    await fs.rm(modelsDir, { recursive: true, force: true });
  });

  it('the clip moves a 128×120 rectangle 32 px a frame, starting on a patch edge', () => {
    expect(truth).toHaveLength(CLIP.frames);
    expect(truth[0]!.x1 % 32).toBe(0);
    for (const [i, box] of truth.entries()) expectBoxNear(box, { x1: truth[0]!.x1 + 32 * i, y1: 100, x2: truth[0]!.x1 + 128 + 32 * i, y2: 220 }, 2);
  });

  it('cutout "the red logo" on a video: every frame\'s tracked box is SAM\'s prompt on that frame, and the frame keeps exactly that box', HEAVY, async () => {
    const media = await videoMedia(context, clip);
    const result = await cutoutSpecialist.run(invocation('cutout', media, { phrase: 'the red logo' }), context);
    expect(result.text).toMatch(/^Cut out the red logo in 10 of 10 frames/);
    // One picture per frame: one encoder run and one box prompt each.
    expect(count(runs, 'sam-encoder')).toBe(CLIP.frames);
    expect(count(runs, 'isnet')).toBe(0);
    const prompts = decoderRuns(runs).map((r) => promptBox(r, CLIP_SAM_SCALE));
    expect(prompts).toHaveLength(CLIP.frames);
    // OWL-ViT runs on frames 0 and 5; the tracker learns the speed at frame 5, so from there on the prompt
    // follows the rectangle frame by frame. Frames 1–4 carry frame 0's box (no speed known yet).
    for (let i = 0; i < 5; i++) expectBoxNear(prompts[i]!, truth[0]!, 2);
    for (let i = 5; i < CLIP.frames; i++) expectBoxNear(prompts[i]!, truth[i]!, 2);
    expect(VIDEO_CUTOUT_BACKGROUND).toBe('#00b140');
    const out = path.join(context.tmpDir, 'cutout-out.mp4');
    await fs.writeFile(out, result.media[0]!.bytes);
    const frames = await decodeFrames(out, CLIP.width, CLIP.height);
    expect(frames).toHaveLength(CLIP.frames);
    frames.forEach((frame, i) => {
      const box = prompts[i]!;
      const y = Math.round((box.y1 + box.y2) / 2);
      expect(isKeyGreen(frame, Math.round(box.x1) + 8, y), `frame ${i} inside its box`).toBe(false);
      expect(isKeyGreen(frame, Math.round(box.x2) - 8, y), `frame ${i} inside its box`).toBe(false);
      expect(isKeyGreen(frame, Math.round(box.x2) + 24, y), `frame ${i} right of its box`).toBe(true);
      if (box.x1 > 24) expect(isKeyGreen(frame, Math.round(box.x1) - 24, y), `frame ${i} left of its box`).toBe(true);
    });
  });

  it('remove "the red logo" on a video: SAM outlines the tracked box on the frames it segments afresh, and the red is gone there', HEAVY, async () => {
    const media = await videoMedia(context, clip);
    const result = await removeSpecialist.run(invocation('remove', media, { phrase: 'the red logo' }), context);
    expect(result.text).toMatch(/^Removed the red logo in 10 of 10 frames/);
    // remove outlines a track afresh every 3rd frame (0, 3, 6, 9) and moves the outline in between.
    expect(count(runs, 'sam-encoder')).toBe(4);
    const prompts = decoderRuns(runs).map((r) => promptBox(r, CLIP_SAM_SCALE));
    expect(prompts).toHaveLength(4);
    // Frame 3 carries frame 0's box (the speed is learnt on frame 5, OWL-ViT's next frame).
    expectBoxNear(prompts[0]!, truth[0]!, 2);
    expectBoxNear(prompts[1]!, truth[0]!, 2);
    expectBoxNear(prompts[2]!, truth[6]!, 2);
    expectBoxNear(prompts[3]!, truth[9]!, 2);
    const out = path.join(context.tmpDir, 'remove-out.mp4');
    await fs.writeFile(out, result.media[0]!.bytes);
    const frames = await decodeFrames(out, CLIP.width, CLIP.height);
    for (const i of [0, 6, 9]) {
      const r = truth[i]!;
      const p = (Math.round((r.y1 + r.y2) / 2) * CLIP.width + Math.round((r.x1 + r.x2) / 2)) * 4;
      expect(frames[i]![p]!, `red left in frame ${i}`).toBeLessThan(100);
      expect(frames[i]![p + 2]!, `blue fill in frame ${i}`).toBeGreaterThan(150);
    }
  });
});

describe('phrases outlined by ISNet in the box when SlimSAM is not pulled (OWL-ViT fixture, real ISNet)', () => {
  let modelsDir: string;
  let models: ModelRegistry;
  let context: TestContext;
  const runs: Run[] = [];

  beforeAll(async () => {
    modelsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-isnet-phrase-'));
    await installOwlvitFixture(modelsDir);
    models = recorded(modelsDir, runs);
    context = await makeSpecialistContext({ models, env: { MODELS_DIR: modelsDir } });
  });

  afterAll(async () => {
    await models.dispose();
    await context.cleanup();
    await fs.rm(modelsDir, { recursive: true, force: true });
  });

  it('segment "the red logo" runs ISNet on the box and no SlimSAM session: the mask is the disc, not its box', HEAVY, async () => {
    expect(boxMaskModel(models)).toBe('isnet');
    const media = await imageMedia(context, await discPicture(), 'red-disc.png');
    runs.length = 0;
    const result = await segmentSpecialist.run(invocation('segment', media, { phrase: 'the red logo' }), context);
    expect(result.text).toMatch(/^Segmented the red logo/);
    expect(result.boxes).toHaveLength(1);
    expect(count(runs, 'isnet')).toBe(1);
    expect(count(runs, 'sam-encoder') + count(runs, 'sam-decoder')).toBe(0);
    const mask = await maskOf(result);
    expect(iou(mask.data, WIDTH, HEIGHT, insideDisc)).toBeGreaterThan(0.9);
    // The box's corners are outside the disc: ISNet leaves them out (SAM's box fixture would fill them).
    const box = result.boxes![0]!;
    expect(mask.data[Math.round(box.y1 + 4) * WIDTH + Math.round(box.x1 + 4)]).toBe(0);
  });
});
