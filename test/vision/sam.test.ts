import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.ts';
import { InvalidArgumentError, ModelNotInstalledError } from '../../src/errors.ts';
import { returnFloats } from '../../src/vision/models/float-pool.ts';
import { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { readiness } from '../../src/vision/readiness.ts';
import { specialistFor } from '../../src/vision/registry.ts';
import { bestCandidate, decoderFeeds, logitsToMask, SAM_MASK_SIZE, samEncoderInput, samFrame, toSamFrame } from '../../src/vision/models/sam.ts';
import type { ImageEmbedding } from '../../src/vision/models/sam.ts';
import { gridSegment, keepDistinct, segmentAllSpecialist, segmentAtSpecialist } from '../../src/vision/tasks/segment/segment-at.ts';
import type { GridSegment } from '../../src/vision/tasks/segment/segment-at.ts';
import { installSamFixture, SAM_FIXTURE_RADII } from '../fixtures/sam-fixture.ts';
import { imageMedia, invocation, makeSpecialistContext, testSettings } from '../helpers/specialist-context.ts';
import { recordingRegistry } from '../helpers/recording-registry.ts';
import type { TestContext } from '../helpers/specialist-context.ts';
import { inclusiveBounds, iou } from './fixtures.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

const PLANE = SAM_MASK_SIZE * SAM_MASK_SIZE;

async function grey(png: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Logits of −10 everywhere but +10 in grid cells [x0, x1) × [y0, y1). */
function blob(x0: number, y0: number, x1: number, y1: number, into: Float32Array = new Float32Array(PLANE).fill(-10)): Float32Array {
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) into[y * SAM_MASK_SIZE + x] = 10;
  return into;
}

describe('SlimSAM post-processing on hand-made decoder outputs', () => {
  it('places the image at the top left of the 1024 frame with its longest side 1024', () => {
    expect(samFrame(451, 300)).toEqual({ width: 451, height: 300, resizedWidth: 1024, resizedHeight: 681 });
    expect(samFrame(300, 600)).toMatchObject({ resizedWidth: 512, resizedHeight: 1024 });
    expect(toSamFrame(samFrame(400, 200), 100, 50)).toEqual([256, 128]);
  });

  it('maps a logit blob in the 256² grid back onto the original image, with the padding cropped away', () => {
    // 400×200 → 1024×512 in the frame: one grid cell is 4 frame pixels = 1.5625 image pixels, and the
    // image covers grid rows 0..127; rows 128..255 are padding.
    const frame = samFrame(400, 200);
    const logits = blob(64, 32, 128, 64);
    blob(10, 200, 60, 250, logits); // in the padding: must not reach the image
    const mask = logitsToMask(logits, frame);
    expect([mask.width, mask.height]).toEqual([400, 200]);
    const [x0, y0, x1, y1] = inclusiveBounds(mask);
    // Grid x 64..128 → image x 100..200; grid y 32..64 → image y 50..100 (±1 px for the bilinear edge).
    expect(Math.abs(x0 - 100)).toBeLessThanOrEqual(1);
    expect(Math.abs(x1 - 199)).toBeLessThanOrEqual(1);
    expect(Math.abs(y0 - 50)).toBeLessThanOrEqual(1);
    expect(Math.abs(y1 - 99)).toBeLessThanOrEqual(1);
    let inside = 0;
    for (const v of mask.data) if (v === 255) inside++;
    expect(Math.abs(inside - 100 * 50)).toBeLessThan(300);
  });

  it('takes the candidate with the best predicted IoU of the three', () => {
    const logits = new Float32Array(3 * PLANE);
    logits.set(blob(0, 0, 10, 10), 0);
    logits.set(blob(100, 100, 110, 110), PLANE);
    logits.set(blob(200, 0, 210, 10), 2 * PLANE);
    const best = bestCandidate({ logits, scores: Float32Array.from([0.7, 0.95, 0.8]) });
    expect(best.index).toBe(1);
    expect(best.score).toBeCloseTo(0.95);
    expect(best.logits[105 * SAM_MASK_SIZE + 105]).toBe(10);
    expect(best.logits[5 * SAM_MASK_SIZE + 5]).toBe(-10);
  });

  it('normalises with ImageNet mean/std into the top-left and leaves the padding at zero', async () => {
    const white = { data: Buffer.alloc(8 * 4 * 4, 255), width: 8, height: 4, channels: 4 as const };
    const chw = await samEncoderInput(white, samFrame(8, 4));
    try {
      expect(chw[0]).toBeCloseTo((1 - 0.485) / 0.229, 4);
      expect(chw[2 * 1024 * 1024 + 100]).toBeCloseTo((1 - 0.406) / 0.225, 4);
      expect(chw[600 * 1024 + 10]).toBe(0); // row 600 is below the 512 rows of the resized image
    } finally {
      returnFloats(chw);
    }
  });

  const embedding: ImageEmbedding = {
    embeddings: new ort.Tensor('float32', new Float32Array(4), [1, 1, 2, 2]),
    positional: new ort.Tensor('float32', new Float32Array(4), [1, 1, 2, 2]),
    frame: samFrame(400, 200),
  };

  it('sends a box as its two corners labelled 2 and 3 when the decoder has no input_boxes', () => {
    const feeds = decoderFeeds(['image_embeddings', 'image_positional_embeddings', 'input_points', 'input_labels'], embedding, { box: [10, 20, 110, 120] });
    expect(Array.from(feeds['input_points']!.data as Float32Array)).toEqual([25.6, 51.2, 281.6, 307.2].map((v) => Math.fround(v)));
    expect(feeds['input_points']!.dims).toEqual([1, 1, 2, 2]);
    expect(Array.from(feeds['input_labels']!.data as BigInt64Array)).toEqual([2n, 3n]);
    expect(feeds['input_boxes']).toBeUndefined();
  });

  it('uses input_boxes when the decoder takes them, with the box centre as the required point', () => {
    const feeds = decoderFeeds(['image_embeddings', 'image_positional_embeddings', 'input_points', 'input_labels', 'input_boxes'], embedding, {
      box: [10, 20, 110, 120],
    });
    expect(feeds['input_boxes']!.dims).toEqual([1, 1, 4]);
    expect(Array.from(feeds['input_labels']!.data as BigInt64Array)).toEqual([1n]);
    expect(Array.from(feeds['input_points']!.data as Float32Array)).toEqual([153.6, 179.2].map((v) => Math.fround(v)));
  });

  it('merges duplicate masks: a near copy is dropped, a better scored one replaces what it overlaps', () => {
    const extent = { width: 64, height: 64 };
    const seg = (x0: number, score: number): GridSegment => gridSegment(blob(x0, 0, x0 + 20, 20), extent, score, 0.97)!;
    const kept: GridSegment[] = [];
    keepDistinct(kept, seg(0, 0.9), extent.width);
    keepDistinct(kept, seg(1, 0.89), extent.width); // IoU 19/21 with the first, worse: dropped
    keepDistinct(kept, seg(40, 0.9), extent.width); // elsewhere: kept
    expect(kept.map((k) => k.bounds[0])).toEqual([0, 40]);
    keepDistinct(kept, seg(41, 0.95), extent.width); // overlaps the second and is better: replaces it
    expect(kept.map((k) => [k.bounds[0], k.score])).toEqual([
      [0, 0.9],
      [41, 0.95],
    ]);
  });
});

describe('segment_at and segment_all on the SlimSAM fixture', () => {
  let modelsDir: string;
  let context: TestContext;
  const runs = { encoder: 0, decoder: 0 };

  beforeAll(async () => {
    modelsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-sam-'));
    await installSamFixture(modelsDir);
    // Sessions whose run() is counted, to see how often the encoder really runs.
    const models = recordingRegistry(testSettings({ MODELS_DIR: modelsDir }), ({ session }) => {
      runs[session.inputNames.includes('pixel_values') ? 'encoder' : 'decoder']++;
    });
    context = await makeSpecialistContext({ models, env: { MODELS_DIR: modelsDir } });
  });

  afterAll(async () => {
    await context.models.dispose();
    await context.cleanup();
    await fs.rm(modelsDir, { recursive: true, force: true });
  });

  photos.it(
    'answers a click with a mask of the image size around the point and an overlay; a second click reuses the embedding',
    async () => {
      const png = await fs.readFile(testdata('chelsea.png'));
      const media = await imageMedia(context, png);
      const before = { ...runs };
      const first = await segmentAtSpecialist.run(invocation('segment_at', media, { points: [[120, 80]] }), context);
      expect(first.media.map((m) => m.role)).toEqual(['mask', 'overlay']);
      const mask = await grey(first.media[0]!.bytes);
      expect([mask.width, mask.height]).toEqual([451, 300]);
      // The fixture's best mask is a disc of 24 grid cells = 96 frame pixels = 96 · 451/1024 image pixels.
      const r = (SAM_FIXTURE_RADII[1] * 4 * 451) / 1024;
      expect(iou(mask.data, 451, 300, (x, y) => (x + 0.5 - 120) ** 2 + (y + 0.5 - 80) ** 2 <= r * r)).toBeGreaterThan(0.85);
      const overlay = await sharp(first.media[1]!.bytes).metadata();
      expect([overlay.width, overlay.height]).toEqual([451, 300]);
      expect(first.text).toMatch(/^Segmented the object at \(120, 80\): it covers \d+ % of the picture/);

      const second = await segmentAtSpecialist.run(invocation('segment_at', media, { points: [[300, 200]] }), context);
      expect(runs.encoder - before.encoder).toBe(1);
      expect(runs.decoder - before.decoder).toBe(2);
      const moved = await grey(second.media[0]!.bytes);
      expect(moved.data[200 * 451 + 300]).toBe(255);
      expect(moved.data[80 * 451 + 120]).toBe(0);
    },
    180_000,
  );

  photos.it(
    'encodes another picture once more',
    async () => {
      const before = runs.encoder;
      const media = await imageMedia(context, await fs.readFile(testdata('horse.png')), 'horse.png');
      await segmentAtSpecialist.run(invocation('segment_at', media, { points: [[200, 160]] }), context);
      await segmentAtSpecialist.run(invocation('segment_at', media, { points: [[100, 100]] }), context);
      expect(runs.encoder - before).toBe(1);
    },
    180_000,
  );

  photos.it(
    'takes a box (the fixture centres its mask on the box) and a region from the invocation',
    async () => {
      const media = await imageMedia(context, await fs.readFile(testdata('astronaut.png')), 'astronaut.png');
      const boxed = await segmentAtSpecialist.run(invocation('segment_at', media, { box: [300, 100, 460, 260] }), context);
      const mask = await grey(boxed.media[0]!.bytes);
      expect([mask.width, mask.height]).toEqual([512, 512]);
      expect(mask.data[180 * 512 + 380]).toBe(255);
      expect(mask.data[400 * 512 + 100]).toBe(0);
      expect(boxed.text).toContain('in the box 300,100,460,260');

      const region = await segmentAtSpecialist.run({ task: 'segment_at', media: [media], args: {}, region: { points: [[100, 400]] } }, context);
      const fromRegion = await grey(region.media[0]!.bytes);
      expect(fromRegion.data[400 * 512 + 100]).toBe(255);
    },
    180_000,
  );

  photos.it('refuses points outside the picture and a request with no point, saying what to send', async () => {
    const media = await imageMedia(context, await fs.readFile(testdata('chelsea.png')));
    const outside = await segmentAtSpecialist.run(invocation('segment_at', media, { points: [[600, 80]] }), context).catch((e: unknown) => e);
    expect(outside).toBeInstanceOf(InvalidArgumentError);
    expect((outside as Error).message).toContain('451×300');
    const nothing = await segmentAtSpecialist.run(invocation('segment_at', media, {}), context).catch((e: unknown) => e);
    expect(nothing).toBeInstanceOf(InvalidArgumentError);
    expect((nothing as Error).message).toContain('segment at 120,80');
  });

  photos.it(
    'segments everything into distinct, coloured segments',
    async () => {
      const media = await imageMedia(context, await fs.readFile(testdata('chelsea.png')));
      const result = await segmentAllSpecialist.run(invocation('segment_all', media), context);
      const count = Number(/Found (\d+) segments?/.exec(result.text ?? '')?.[1]);
      expect(count).toBeGreaterThanOrEqual(1);
      expect(result.media.map((m) => m.role)).toEqual(['overlay', 'mask']);
      const map = await grey(result.media[1]!.bytes);
      expect([map.width, map.height]).toEqual([451, 300]);
      // One grey level per segment that is still visible on top.
      const levels = new Set(map.data.filter((v) => v !== 0));
      expect(levels.size).toBeGreaterThan(1);
      expect(levels.size).toBeLessThanOrEqual(count);
    },
    300_000,
  );

  it('serves segment_at and segment_all, ready with the model in MODELS_DIR and not on a fresh clone', () => {
    expect(specialistFor('segment_at')).toBe(segmentAtSpecialist);
    expect(specialistFor('segment_all')).toBe(segmentAllSpecialist);
    for (const task of ['segment_at', 'segment_all']) {
      expect(readiness(context.models).tasks.find((t) => t.task === task)).toMatchObject({ ready: true, missing: [] });
      const fresh = new ModelRegistry({ settings: testSettings() });
      expect(readiness(fresh).tasks.find((t) => t.task === task)).toMatchObject({ ready: false, missing: ['slimsam-77'] });
    }
  });

  it.each([
    ['segment_at', segmentAtSpecialist, { points: [[5, 5]] }],
    ['segment_all', segmentAllSpecialist, {}],
  ] as const)('%s without the model answers with the exact pull command', async (task, specialist, args) => {
    const bare = await makeSpecialistContext();
    try {
      const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#888' } })
        .png()
        .toBuffer();
      const error = await specialist.run(invocation(task, await imageMedia(bare, png), { ...args }), bare).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelNotInstalledError);
      // The chat hears that the server cannot do it; the operator's hint has the command.
      expect((error as Error).message).toMatch(/^This server can't .+ yet — ask its admin to enable .+\.$/);
      expect((error as ModelNotInstalledError).operatorHint).toContain('npm run models -- pull slimsam-77');
    } finally {
      await bare.models.dispose();
      await bare.cleanup();
    }
  });
});

/** The real SlimSAM, when an operator has pulled it into MODELS_DIR; skipped with the reason otherwise. */
describe('SlimSAM with real weights (MODELS_DIR)', () => {
  const settings = loadSettings();
  const real = new ModelRegistry({ settings });
  const has = real.isInstalled('slimsam-77');
  const why = has ? '' : ` (skipped: slimsam-77 is not in ${settings.MODELS_DIR}; npm run models -- pull slimsam-77)`;

  afterAll(() => real.dispose());

  photos.it.skipIf(!has)(
    `selects the astronaut's face from a click on it${why}`,
    async () => {
      const context = await makeSpecialistContext({ models: real, env: { MODELS_DIR: settings.MODELS_DIR } });
      try {
        const media = await imageMedia(context, await fs.readFile(testdata('astronaut.png')));
        const result = await segmentAtSpecialist.run(invocation('segment_at', media, { points: [[250, 130]] }), context);
        const mask = await grey(result.media[0]!.bytes);
        expect(mask.data[130 * 512 + 250]).toBe(255);
        const coverage = mask.data.filter((v) => v >= 128).length / mask.data.length;
        expect(coverage).toBeGreaterThan(0.01);
        expect(coverage).toBeLessThan(0.6);
      } finally {
        await context.cleanup();
      }
    },
    300_000,
  );
});
