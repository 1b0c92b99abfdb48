import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.ts';
import { InternalError, InvalidArgumentError, ModelNotInstalledError } from '../../src/errors.ts';
import { detectSpecialist, groundSpecialist } from '../../src/vision/tasks/understand/detect.ts';
import { detect } from '../../src/vision/find/detector.ts';
import { intersectionOverUnion } from '../../src/vision/ops/nms.ts';
import { detectByPhrase, OWLVIT_MAX_CANDIDATES, OWLVIT_MAX_TOKENS, phraseDetections, queryOf } from '../../src/vision/models/owlvit.ts';
import { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { toRaw } from '../../src/vision/ops/raw-image.ts';
import type { RawImage } from '../../src/vision/ops/raw-image.ts';
import { fixtureTokenizer } from '../fixtures/clipseg-fixture.ts';
import { installOwlvitFixture, OWLVIT_PAD_TOKEN } from '../fixtures/owlvit-fixture.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { imageMedia, invocation, makeSpecialistContext, testRegistry, testSettings } from '../helpers/specialist-context.ts';
import { recordingRegistry } from '../helpers/recording-registry.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

const HEAVY = { timeout: 180_000 };
const WIDTH = 640;
const HEIGHT = 480;

interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
  colour: string;
}

/**
 * Rectangles on a blue 640×480 picture. Their edges fall on the edges of OWL-ViT's 32-pixel patches once
 * the picture is stretched to 768² (every 26⅔ px across, 20 px down), so the fixture's boxes are exact.
 */
async function picture(rects: readonly Rect[]): Promise<Buffer> {
  return sharp({ create: { width: WIDTH, height: HEIGHT, channels: 3, background: '#0000ff' } })
    .composite(
      rects.map((r) => ({ input: { create: { width: r.width, height: r.height, channels: 3 as const, background: r.colour } }, left: r.left, top: r.top })),
    )
    .png()
    .toBuffer();
}

const RED: Rect = { left: 160, top: 100, width: 240, height: 200, colour: '#ff0000' };
const GREEN: Rect = { left: 480, top: 340, width: 80, height: 80, colour: '#00ff00' };
/** Two red things far enough apart in colour to be two objects to the fixture: bright on the left, dark on the right. */
const BRIGHT_RED_LEFT: Rect = { left: 80, top: 100, width: 160, height: 200, colour: '#ff0000' };
const DARK_RED_RIGHT: Rect = { left: 400, top: 200, width: 160, height: 200, colour: '#600000' };

const boxOf = (r: Rect) => ({ x1: r.left, y1: r.top, x2: r.left + r.width, y2: r.top + r.height });

async function rawOf(png: Buffer): Promise<RawImage> {
  return toRaw(sharp(png));
}

function expectBoxNear(
  actual: { x1: number; y1: number; x2: number; y2: number },
  expected: { x1: number; y1: number; x2: number; y2: number },
  tolerance = 2,
): void {
  for (const key of ['x1', 'y1', 'x2', 'y2'] as const)
    expect(Math.abs(actual[key] - expected[key]), `${key}: ${actual[key]} vs ${expected[key]}`).toBeLessThanOrEqual(tolerance);
}

describe('OWL-ViT post-processing on hand-made logits and boxes', () => {
  const PATCHES = 576;

  /** Logits of −10 for every patch and query, boxes a small square in the middle; `set` changes some. */
  function output(queries: number, set: (logits: Float32Array, boxes: Float32Array) => void): { logits: Float32Array; boxes: Float32Array } {
    const logits = new Float32Array(PATCHES * queries).fill(-10);
    const boxes = new Float32Array(PATCHES * 4);
    for (let p = 0; p < PATCHES; p++) boxes.set([0.5, 0.5, 0.05, 0.05], p * 4);
    set(logits, boxes);
    return { logits, boxes };
  }

  it('turns the one patch with a high logit into its box in pixels of a non-square picture', () => {
    const { logits, boxes } = output(1, (l, b) => {
      l[100] = 5;
      b.set([0.25, 0.5, 0.2, 0.4], 100 * 4);
    });
    const found = phraseDetections(logits, boxes, ['red umbrella'], WIDTH, HEIGHT);
    // cx 0.25 ± 0.1 of 640 px, cy 0.5 ± 0.2 of 480 px: the fractions scale by each side of the picture.
    expect(found).toEqual([
      {
        x1: expect.closeTo(96, 3),
        y1: expect.closeTo(144, 3),
        x2: expect.closeTo(224, 3),
        y2: expect.closeTo(336, 3),
        label: 'red umbrella',
        score: expect.closeTo(1 / (1 + Math.exp(-5)), 6),
      },
    ]);
  });

  it('gives each query its own label: the logits are [patch, query]', () => {
    const { logits, boxes } = output(2, (l, b) => {
      l[10 * 2 + 1] = 4; // patch 10, second query
      b.set([0.2, 0.2, 0.2, 0.2], 10 * 4);
      l[300 * 2 + 0] = 3; // patch 300, first query
      b.set([0.8, 0.8, 0.2, 0.2], 300 * 4);
    });
    const found = phraseDetections(logits, boxes, ['logo', 'red umbrella'], 100, 100);
    expect(found.map((d) => [d.label, Math.round(d.x1), Math.round(d.y1)])).toEqual([
      ['red umbrella', 10, 10],
      ['logo', 70, 70],
    ]);
  });

  it('folds the near-identical boxes of neighbouring patches into the best one, and keeps a separate object', () => {
    const { logits, boxes } = output(1, (l, b) => {
      for (const [p, logit, shift] of [
        [40, 2, 0],
        [41, 3, 0.01],
        [42, 1, 0.02],
      ] as const) {
        l[p] = logit;
        b.set([0.3 + shift, 0.3, 0.2, 0.2], p * 4);
      }
      l[500] = 1.5;
      b.set([0.8, 0.8, 0.1, 0.1], 500 * 4);
    });
    const found = phraseDetections(logits, boxes, ['logo'], 200, 200);
    expect(found).toHaveLength(2);
    expect(found[0]!.score).toBeCloseTo(1 / (1 + Math.exp(-3)), 6);
    expect(found[0]!.x1).toBeCloseTo(0.21 * 200, 3);
    expect(found[1]!.x1).toBeCloseTo(0.75 * 200, 3);
  });

  it('keeps what passes the threshold, which the caller can move, and clips boxes to the picture', () => {
    const { logits, boxes } = output(1, (l, b) => {
      l[7] = -2.5; // sigmoid ≈ 0.076
      b.set([0.95, 0.05, 0.3, 0.3], 7 * 4);
    });
    expect(phraseDetections(logits, boxes, ['logo'], 100, 50)).toEqual([]);
    const low = phraseDetections(logits, boxes, ['logo'], 100, 50, 0.05);
    expect(low).toHaveLength(1);
    expect(low[0]).toMatchObject({ x1: expect.closeTo(80, 4), y1: 0, x2: 100, y2: expect.closeTo(10, 4) });
  });

  it('keeps the best OWLVIT_MAX_CANDIDATES when a vague phrase passes on every patch', () => {
    // 576 separate tiny boxes (a 24×24 grid), scores rising with the patch index.
    const { logits, boxes } = output(1, (l, b) => {
      for (let p = 0; p < PATCHES; p++) {
        l[p] = p / 100;
        b.set([((p % 24) + 0.5) / 24, (Math.floor(p / 24) + 0.5) / 24, 0.5 / 24, 0.5 / 24], p * 4);
      }
    });
    const found = phraseDetections(logits, boxes, ['thing'], 2400, 2400);
    expect(found).toHaveLength(OWLVIT_MAX_CANDIDATES);
    expect(Math.min(...found.map((d) => d.score))).toBeCloseTo(1 / (1 + Math.exp(-(PATCHES - OWLVIT_MAX_CANDIDATES) / 100)), 6);
  });

  it('refuses logits and boxes that do not belong together', () => {
    expect(() => phraseDetections(new Float32Array(576 * 2), new Float32Array(576 * 4), ['a'], 10, 10)).toThrow(InternalError);
  });

  it('asks for the noun, singular, in a photo template; the referring words are left for selection', () => {
    expect(queryOf('all the red umbrellas on the left')).toEqual({ label: 'red umbrella', text: 'a photo of a red umbrella' });
    expect(queryOf('the logo')).toEqual({ label: 'logo', text: 'a photo of a logo' });
    expect(queryOf('the berries')).toEqual({ label: 'berry', text: 'a photo of a berry' });
    expect(() => queryOf('the left one')).toThrow(InvalidArgumentError);
  });
});

describe('OWL-ViT on the fixture model', () => {
  let modelsDir: string;
  let models: ModelRegistry;
  // The graph runs in two halves: the text half gets the query words, the rest the picture (and the text half's output).
  const fed: { inputIds?: bigint[]; attentionMask?: bigint[]; idDims?: readonly number[]; pixelDims?: readonly number[] }[] = [];
  const textRuns = () => fed.filter((f) => f.inputIds !== undefined);
  const pictureRuns = () => fed.filter((f) => f.pixelDims !== undefined);
  const vocab = fixtureTokenizer();
  const id = (token: string): bigint => BigInt(vocab.vocab[token]!);

  beforeAll(async () => {
    modelsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-owlvit-'));
    await installOwlvitFixture(modelsDir);
    // A session whose run() records what reaches the graph.
    models = recordingRegistry(testSettings({ MODELS_DIR: modelsDir }), ({ feeds }) => {
      fed.push({
        ...(feeds['input_ids'] ? { inputIds: Array.from(feeds['input_ids'].data as BigInt64Array), idDims: feeds['input_ids'].dims } : {}),
        ...(feeds['attention_mask'] ? { attentionMask: Array.from(feeds['attention_mask'].data as BigInt64Array) } : {}),
        ...(feeds['pixel_values'] ? { pixelDims: feeds['pixel_values'].dims } : {}),
      });
    });
  });

  afterAll(async () => {
    await models.dispose();
    await fs.rm(modelsDir, { recursive: true, force: true });
  });

  it('feeds the phrase as CLIP tokens padded to 16, and the picture at 768²', HEAVY, async () => {
    fed.length = 0;
    await detectByPhrase(models, await rawOf(await picture([RED])), ['the RED umbrella']);
    expect(textRuns()).toHaveLength(1);
    expect(pictureRuns()).toHaveLength(1);
    const [call] = textRuns();
    expect(call!.idDims).toEqual([1, OWLVIT_MAX_TOKENS]);
    expect(pictureRuns()[0]!.pixelDims).toEqual([1, 3, 768, 768]);
    const words = [id('a</w>'), id('p'), id('h'), id('o'), id('t'), id('o</w>'), id('of</w>'), id('a</w>'), id('red</w>'), id('umbrella</w>')];
    const real = [BigInt(vocab.startId), ...words, BigInt(vocab.endId)];
    const pad = Array<bigint>(OWLVIT_MAX_TOKENS - real.length).fill(id(OWLVIT_PAD_TOKEN));
    expect(call!.inputIds).toEqual([...real, ...pad]);
    expect(call!.attentionMask).toEqual([...real.map(() => 1n), ...pad.map(() => 0n)]);
  });

  it('finds the red rectangle for "the red umbrella", at its pixels, once', HEAVY, async () => {
    const found = await detectByPhrase(models, await rawOf(await picture([RED])), ['the red umbrella']);
    expect(found).toHaveLength(1);
    expect(found[0]!.label).toBe('red umbrella');
    expect(found[0]!.score).toBeGreaterThan(0.9);
    expectBoxNear(found[0]!, boxOf(RED));
  });

  it('lets the words decide: "the sky" is the blue background, "the umbrella" alone is nothing', HEAVY, async () => {
    const image = await rawOf(await picture([RED]));
    const sky = await detectByPhrase(models, image, ['the sky']);
    expect(sky.map((d) => d.label)).toEqual(['sky']);
    expectBoxNear(sky[0]!, { x1: 0, y1: 0, x2: WIDTH, y2: HEIGHT });
    expect(await detectByPhrase(models, image, ['the umbrella'])).toEqual([]);
  });

  it('answers several phrases in one run, each box with its own phrase', HEAVY, async () => {
    fed.length = 0;
    const found = await detectByPhrase(models, await rawOf(await picture([RED, GREEN])), ['the green logos', 'a red umbrella']);
    expect(pictureRuns()).toHaveLength(1);
    expect(textRuns()).toHaveLength(1);
    expect(textRuns()[0]!.idDims).toEqual([2, OWLVIT_MAX_TOKENS]);
    const byLabel = new Map(found.map((d) => [d.label, d]));
    expect([...byLabel.keys()].sort()).toEqual(['green logo', 'red umbrella']);
    expect(found).toHaveLength(2);
    expectBoxNear(byLabel.get('red umbrella')!, boxOf(RED));
    expectBoxNear(byLabel.get('green logo')!, boxOf(GREEN));
  });

  it('refuses a phrase longer than the text encoder reads, saying what to do', HEAVY, async () => {
    const rambling = 'the red umbrella that my grandmother bought in the little shop near the station last winter';
    const error = await detectByPhrase(models, await rawOf(await picture([RED])), [rambling]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(/at most 16.*few words/);
  });

  it('answers detect(): an unknown phrase goes to OWL-ViT, a COCO one ("umbrella" is COCO) stays with CenterNet', HEAVY, async () => {
    const image = await rawOf(await picture([RED]));
    fed.length = 0;
    const found = await detect(models, image, 'the red logo', 'ground');
    expect(found.label).toBe('red logo');
    expect(found.detections).toHaveLength(1);
    expectBoxNear(found.detections[0]!, boxOf(RED));
    expect(pictureRuns()).toHaveLength(1);
    const umbrellas = await detect(models, image, 'the red umbrella', 'ground');
    expect(umbrellas.label).toBe('umbrella');
    expect(pictureRuns()).toHaveLength(1);
  });

  it('grounds "the red logo" through the ground specialist: one box, where it is, drawn', HEAVY, async () => {
    const context = await makeSpecialistContext({ models });
    try {
      const media = await imageMedia(context, await picture([RED]));
      const result = await groundSpecialist.run(invocation('ground', media, { phrase: 'the red logo' }), context);
      expect(result.text).toMatch(/^The red logo is in the centre \(x 160–400, y 100–300 px, score 1\.00\)\.$/);
      expect(result.boxes).toHaveLength(1);
      expect(result.media).toHaveLength(1);
      expect((await sharp(result.media[0]!.bytes).metadata()).width).toBe(WIDTH);
    } finally {
      await context.cleanup();
    }
  });

  it('applies referring words to what OWL-ViT found: two red things → "which one?", "on the right" → the right one', HEAVY, async () => {
    const context = await makeSpecialistContext({ models });
    try {
      const media = await imageMedia(context, await picture([BRIGHT_RED_LEFT, DARK_RED_RIGHT]));
      const ask = await groundSpecialist.run(invocation('ground', media, { phrase: 'the red logo' }), context);
      expect(ask.choice?.question).toBe('I found 2 red logos — which one?');
      expect(ask.choice?.options).toEqual(['red logo, left', 'red logo, right']);
      const right = await groundSpecialist.run(invocation('ground', media, { phrase: 'the red logo on the right' }), context);
      expect(right.boxes).toHaveLength(1);
      expect(intersectionOverUnion(right.boxes![0]!, boxOf(DARK_RED_RIGHT))).toBeGreaterThan(0.95);
      const all = await detectSpecialist.run(invocation('detect', media, { phrase: 'red logos' }), context);
      expect(all.text).toBe('2 red logos.');
    } finally {
      await context.cleanup();
    }
  });

  it('names the model in the fix when its tokenizer is damaged', HEAVY, async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-owlvit-broken-'));
    const broken = new ModelRegistry({ settings: testSettings({ MODELS_DIR: dir }) });
    try {
      await installOwlvitFixture(dir, { override: { 'tokenizer.json': '{"hello": "world"}' } });
      const error = await detectByPhrase(broken, await rawOf(await picture([RED])), ['the red umbrella']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InternalError);
      expect((error as Error).message).toContain('npm run models -- remove owlvit-base');
    } finally {
      await broken.dispose();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('OWL-ViT not installed', () => {
  const { models } = testRegistry();
  afterAll(() => models.dispose());

  it('refuses an unknown phrase in detect() with the pull command that makes it work', async () => {
    const image = await rawOf(await picture([RED]));
    const error = await detect(models, image, 'the red logo', 'ground').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(/"red logo" is not one of them.*its admin can enable it/);
    expect((error as InvalidArgumentError).details.operatorHint).toMatch(/npm run models -- pull owlvit-base/);
  });

  it('says how to get the model when asked directly', async () => {
    const error = await detectByPhrase(models, await rawOf(await picture([RED])), ['the logo']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelNotInstalledError);
    expect((error as Error).message).not.toContain('npm run models');
    expect((error as ModelNotInstalledError).operatorHint).toContain('npm run models -- pull owlvit-base');
  });
});

/** The real OWL-ViT, when an operator has pulled it into MODELS_DIR; skipped with the reason otherwise. */
describe('OWL-ViT with real weights (MODELS_DIR)', () => {
  const settings = loadSettings();
  const real = new ModelRegistry({ settings });
  const has = real.isInstalled('owlvit-base');
  const why = has ? '' : ` (skipped: needs owlvit-base in ${settings.MODELS_DIR} — npm run models -- pull owlvit-base)`;

  afterAll(() => real.dispose());

  photos.it.skipIf(!has)(`boxes the cat in chelsea.png and the horse in horse.png${why}`, { timeout: 300_000 }, async () => {
    const cat = await detectByPhrase(real, await toRaw(sharp(testdata('chelsea.png'))), ['a cat']);
    expect(cat.length).toBeGreaterThan(0);
    // By eye: the cat fills the frame up to its right ear at x ≈ 395.
    expect(intersectionOverUnion(cat[0]!, { x1: 0, y1: 0, x2: 395, y2: 300 })).toBeGreaterThanOrEqual(0.5);
    const horse = await detectByPhrase(real, await toRaw(sharp(testdata('horse.png'))), ['a horse']);
    expect(horse.length).toBeGreaterThan(0);
    expect(intersectionOverUnion(horse[0]!, { x1: 17, y1: 9, x2: 389, y2: 312 })).toBeGreaterThanOrEqual(0.5);
  });
});
