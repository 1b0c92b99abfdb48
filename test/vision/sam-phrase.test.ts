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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

interface Gray {
  data: Buffer;
  width: number;
  height: number;
}

async function channelOf(png: Buffer, channel: number): Promise<Gray> {
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
    decoded!.points!.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(0.1 * SAM_SCALE + 1e-3));
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
