import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import { detectSpecialist, groundSpecialist } from '../../src/vision/tasks/understand/detect.ts';
import { OPEN_VOCABULARY_DETECT_EVERY } from '../../src/vision/find/detector.ts';
import { adjustSpecialist } from '../../src/vision/tasks/edit/adjust.ts';
import { createTaskReadiness, hasWorkingSpecialist, readiness } from '../../src/vision/readiness.ts';
import { segmentSpecialist } from '../../src/vision/tasks/segment/segment.ts';
import { captionSpecialist } from '../../src/vision/tasks/understand/caption-answer.ts';
import { ocrSpecialist } from '../../src/vision/tasks/understand/ocr.ts';
import { FLORENCE_VIDEO_FRAMES, sentence } from '../../src/vision/tasks/understand/florence-caption.ts';
import { clipTokenizer } from '../../src/vision/models/clip-tokenizer.ts';
import { FLORENCE_MODEL, florencePrompt } from '../../src/vision/models/florence.ts';
import { installFlorenceFixture } from '../fixtures/florence-fixture.ts';
import type { FlorenceFixtureOptions } from '../fixtures/florence-fixture.ts';
import { startFakeVisionServer, type FakeVisionServer } from '../fakes/openai-vision/server.ts';
import { imageMedia, invocation, makeSpecialistContext, testSettings, videoMedia, type TestContext } from '../helpers/specialist-context.ts';
import { recordingRegistry } from '../helpers/recording-registry.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { movingDiscClip, textImage } from './fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';

/**
 * Florence-2 behind the tasks: caption without an endpoint, and boxes for phrases CenterNet does not
 * know. The fixture decoder writes a script whatever the picture, so these tests pin down the routing,
 * the prompts sent, and how its answers are turned into chat results.
 */

const photos = await requires('testdata');
const HEAVY = { timeout: 180_000 };

/** "a cat" spelled in the fixture tokenizer's byte-level symbols (Ġ is the space). */
const CAPTION_SCRIPT = ['<s>', 'a', 'Ġ', 'cat', '</s>'];

const dirs: string[] = [];
const contexts: TestContext[] = [];

/** A context whose MODELS_DIR holds the Florence-2 fixture; `prompts` records each prompt's token ids. */
async function florenceContext(
  options: FlorenceFixtureOptions = {},
  env: NodeJS.ProcessEnv = {},
): Promise<{ c: TestContext; prompts: number[][]; images: number[] }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-florence-tasks-'));
  dirs.push(dir);
  await installFlorenceFixture(dir, options);
  const prompts: number[][] = [];
  const images: number[] = [];
  const settings = testSettings({ MODELS_DIR: dir, ...env });
  const models = recordingRegistry(settings, ({ file, feeds }) => {
    // The first embed_tokens call of a run is the prompt; later ones are single decoder tokens.
    const ids = file === 'embed_tokens.onnx' ? Array.from(feeds['input_ids']!.data as BigInt64Array, Number) : undefined;
    if (ids !== undefined && ids.length > 1) prompts.push(ids);
    if (file === 'vision_encoder.onnx') images.push(feeds['pixel_values']!.dims[0]!);
  });
  const c = await makeSpecialistContext({ env: { MODELS_DIR: dir, ...env }, models });
  contexts.push(c);
  return { c, prompts, images };
}

async function promptIds(c: TestContext, prompt: string): Promise<number[]> {
  const tokenizer = await clipTokenizer(c.models, FLORENCE_MODEL);
  return (tokenizer(prompt, { return_tensor: false }) as { input_ids: number[] }).input_ids;
}

async function photo(c: TestContext, name: string) {
  return imageMedia(c, await fs.readFile(testdata(name)), name);
}

afterEach(async () => {
  await Promise.all(
    contexts.splice(0).map(async (c) => {
      await c.models.dispose();
      await c.cleanup();
    }),
  );
});
afterAll(async () => {
  await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
});

describe('caption with Florence-2, when no vision endpoint is set', () => {
  it('is ready with Florence-2 pulled and no LLM_URL; answer still is not', async () => {
    const { c } = await florenceContext();
    expect(hasWorkingSpecialist('caption', c.settings)).toBe(true);
    const tasks = readiness(c.models, c.settings).tasks;
    expect(tasks.find((t) => t.task === 'caption')).toMatchObject({ ready: true });
    expect(tasks.find((t) => t.task === 'answer')).toMatchObject({ ready: false, reason: 'set LLM_URL' });
    expect(() => createTaskReadiness(c.settings).check('caption', ['image', 'video'])).not.toThrow();
  });

  photos.it('captions a photo in one sentence, asking Florence-2 its caption question', HEAVY, async () => {
    const { c, prompts } = await florenceContext({ script: CAPTION_SCRIPT });
    const result = await captionSpecialist.run(invocation('caption', await photo(c, 'chelsea.png')), c);
    expect(result).toEqual({ media: [], text: 'A cat.' });
    expect(prompts).toEqual([await promptIds(c, florencePrompt('<CAPTION>'))]);
    expect(c.reports.at(-1)).toMatchObject({ fraction: 1 });
  });

  photos.it('asks for the paragraph when a detailed caption is wanted', HEAVY, async () => {
    const { c, prompts } = await florenceContext({ script: CAPTION_SCRIPT });
    await captionSpecialist.run(invocation('caption', await photo(c, 'horse.png'), { detail: 'detailed' }), c);
    expect(prompts).toEqual([await promptIds(c, florencePrompt('<MORE_DETAILED_CAPTION>'))]);
  });

  photos.it('numbers the captions of several pictures', HEAVY, async () => {
    const { c } = await florenceContext({ script: CAPTION_SCRIPT });
    const result = await captionSpecialist.run(
      { ...invocation('caption', await photo(c, 'chelsea.png')), media: [await photo(c, 'chelsea.png'), await photo(c, 'horse.png')] },
      c,
    );
    expect(result.text).toBe('1. A cat.\n2. A cat.');
  });

  it('looks at a few frames of a video and says a caption that holds throughout once, without times', HEAVY, async () => {
    const { c, images } = await florenceContext({ script: CAPTION_SCRIPT });
    const clip = await movingDiscClip(c.tmpDir, 10, 160, 96, 5);
    const result = await captionSpecialist.run(invocation('caption', await videoMedia(c, clip)), c);
    expect(images).toHaveLength(FLORENCE_VIDEO_FRAMES);
    expect(result.text).toBe('A cat.');
  });

  photos.it('describes one region with its <REGION_TO_DESCRIPTION> task, the box as <loc_> bins', HEAVY, async () => {
    const { c, prompts } = await florenceContext({ script: CAPTION_SCRIPT });
    const result = await captionSpecialist.run(invocation('caption', await photo(c, 'chelsea.png'), { box: [45.1, 60, 135.3, 120] }), c);
    // chelsea.png is 451×300: a bin is 0.451 px wide and 0.3 px high.
    expect(prompts).toEqual([await promptIds(c, florencePrompt('<REGION_TO_DESCRIPTION>', '<loc_100><loc_200><loc_300><loc_400>'))]);
    expect(result.text).toBe('In the box 45,60,135,120: A cat.');
    expect(result.media[0]).toMatchObject({ role: 'overlay', label: 'the region' });
  });

  photos.it('marks a caption cut at the token limit', HEAVY, async () => {
    // A script without </s> never stops by itself.
    const { c } = await florenceContext({ script: ['<s>', 'a', 'Ġ', 'cat', 'Ġ', 'dog'] });
    const result = await captionSpecialist.run(invocation('caption', await photo(c, 'chelsea.png')), c);
    expect(result.text).toMatch(/^A cat (dog)+ …$/);
  });

  photos.it('prefers the vision endpoint when both are there: the operator set it, and it sees a video whole', HEAVY, async () => {
    let server: FakeVisionServer | undefined;
    try {
      server = await startFakeVisionServer({ models: ['qwen2.5vl:3b'] });
      server.answer = () => 'A tabby cat on a rug.';
      const { c, prompts } = await florenceContext({ script: CAPTION_SCRIPT }, { LLM_URL: server.url, LLM_MODEL: 'qwen2.5vl:3b' });
      const result = await captionSpecialist.run(invocation('caption', await photo(c, 'chelsea.png')), c);
      expect(result.text).toBe('A tabby cat on a rug.');
      expect(prompts).toEqual([]);
    } finally {
      await server?.close();
    }
  });
});

describe('Florence-2 sentences', () => {
  it('starts with a capital and ends with a full stop, whatever the model wrote', () => {
    expect(sentence(' a cat   laying on a blanket ')).toBe('A cat laying on a blanket.');
    expect(sentence('Two dogs play.')).toBe('Two dogs play.');
    expect(sentence('')).toBe('');
  });
});

describe('boxes for phrases CenterNet does not know, through Florence-2', () => {
  // The fixture answers "cat" with bins 100,200,300,400: on chelsea.png (451×300) x 45–136, y 60–120.
  photos.it('grounds "the red lamp" with the box Florence-2 wrote, labelled with the phrase and shown without a score', HEAVY, async () => {
    const { c, prompts } = await florenceContext();
    const result = await groundSpecialist.run(invocation('ground', await photo(c, 'chelsea.png'), { phrase: 'the red lamp' }), c);
    expect(prompts).toEqual([await promptIds(c, florencePrompt('<OPEN_VOCABULARY_DETECTION>', 'red lamp'))]);
    expect(result.boxes).toHaveLength(1);
    const [box] = result.boxes!;
    expect(box).toMatchObject({ label: 'red lamp' });
    expect(box!.score).toBeUndefined();
    expect(box!.x1).toBeCloseTo(100.5 * 0.451, 0);
    expect(box!.y2).toBeCloseTo(400.5 * 0.3, 0);
    expect(result.text).toMatch(/^The red lamp is /);
    expect(result.text).not.toMatch(/score/);
    expect(result.media[0]).toMatchObject({ role: 'overlay' });
  });

  photos.it('counts with it too, and writes one box once even when the model repeats it', HEAVY, async () => {
    const twice = ['<s>', 'cat', '<loc_100>', '<loc_200>', '<loc_300>', '<loc_400>', 'cat', '<loc_100>', '<loc_200>', '<loc_300>', '<loc_400>', '</s>'];
    const { c } = await florenceContext({ script: twice });
    const result = await detectSpecialist.run(invocation('detect', await photo(c, 'chelsea.png'), { phrase: 'lamps', count: true }), c);
    expect(result.text).toBe('1 lamp.');
  });

  photos.it('takes the bounds of a polygon answer as the box', HEAVY, async () => {
    const polygon = [
      '<s>',
      'cat',
      '<poly>',
      '<loc_100>',
      '<loc_200>',
      '<loc_300>',
      '<loc_200>',
      '<loc_300>',
      '<loc_400>',
      '<loc_100>',
      '<loc_400>',
      '</poly>',
      '</s>',
    ];
    const { c } = await florenceContext({ script: polygon });
    const result = await groundSpecialist.run(invocation('ground', await photo(c, 'chelsea.png'), { phrase: 'flag' }), c);
    expect(result.boxes).toHaveLength(1);
    expect(result.boxes![0]!.x1).toBeCloseTo(100.5 * 0.451, 0);
    expect(result.boxes![0]!.x2).toBeCloseTo(300.5 * 0.451, 0);
    expect(result.boxes![0]!.y1).toBeCloseTo(200.5 * 0.3, 0);
    expect(result.boxes![0]!.y2).toBeCloseTo(400.5 * 0.3, 0);
  });

  photos.it('leaves COCO phrases with CenterNet (no Florence-2 call)', HEAVY, async () => {
    const { c, prompts } = await florenceContext();
    const result = await groundSpecialist.run(invocation('ground', await photo(c, 'chelsea.png'), { phrase: 'the cat' }), c);
    expect(prompts).toEqual([]);
    expect(result.boxes![0]!.score).toBeGreaterThan(0);
  });

  photos.it('outlines such a phrase with ISNet inside the Florence-2 box when CLIPSeg is not pulled', HEAVY, async () => {
    const { c, prompts } = await florenceContext();
    const result = await segmentSpecialist.run(invocation('segment', await photo(c, 'chelsea.png'), { phrase: 'the cushion' }), c);
    expect(prompts).toHaveLength(1);
    expect(result.media.some((m) => m.role === 'mask')).toBe(true);
  });

  photos.it('pixelates such a thing on an image: only inside the box Florence-2 wrote', HEAVY, async () => {
    const { c } = await florenceContext();
    const media = await photo(c, 'chelsea.png');
    const result = await adjustSpecialist.run(invocation('adjust', media, { phrase: 'the lamp', pixelate: true }), c);
    expect(result.text).toMatch(/lamp/);
    const before = await sharp(media.bytes).removeAlpha().raw().toBuffer();
    const after = await sharp(result.media[0]!.bytes).removeAlpha().raw().toBuffer();
    // The box covers x 45–136, y 60–120 of 451×300; well outside it nothing changes, inside it does.
    const changed = (x0: number, y0: number, x1: number, y1: number) => {
      let n = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (before[(y * 451 + x) * 3] !== after[(y * 451 + x) * 3]) n++;
      return n;
    };
    expect(changed(200, 150, 451, 300)).toBe(0);
    expect(changed(60, 70, 120, 110)).toBeGreaterThan(500);
  });

  it('finds it on a video too, asking Florence-2 on every 5th frame and tracking between', HEAVY, async () => {
    const { c, prompts } = await florenceContext();
    const clip = await movingDiscClip(c.tmpDir, 10, 160, 96, 5);
    const result = await detectSpecialist.run(invocation('detect', await videoMedia(c, clip), { phrase: 'lamps' }), c);
    expect(prompts).toHaveLength(Math.ceil(10 / OPEN_VOCABULARY_DETECT_EVERY));
    expect(result.text).toMatch(/^1 lamp across 10 frames/);
  });

  photos.it('without Florence-2 or OWL-ViT, names both to the operator as the way to such phrases (the chat hears "its admin")', HEAVY, async () => {
    const c = await makeSpecialistContext();
    contexts.push(c);
    const error = await groundSpecialist.run(invocation('ground', await photo(c, 'chelsea.png'), { phrase: 'the lamp' }), c).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(/its admin can enable it/);
    expect((error as Error).message).not.toMatch(/npm run models/);
    expect((error as InvalidArgumentError).details.operatorHint).toMatch(/pull owlvit-base/);
    expect((error as InvalidArgumentError).details.operatorHint).toMatch(/pull florence-2-base/);
    const video = await videoMedia(c, await movingDiscClip(c.tmpDir, 4, 64, 48, 5));
    const onVideo = await detectSpecialist.run(invocation('detect', video, { phrase: 'the lamp' }), c).catch((e: unknown) => e);
    expect(onVideo).toBeInstanceOf(InvalidArgumentError);
    expect((onVideo as InvalidArgumentError).details.operatorHint).toMatch(/pull florence-2-base/);
  });
});

describe('text PP-OCR cannot find, read again by Florence-2', () => {
  const OCR_SCRIPT = ['<s>', 'cat', '<loc_100>', '<loc_200>', '<loc_300>', '<loc_200>', '<loc_300>', '<loc_400>', '<loc_100>', '<loc_400>', '</s>'];

  it("answers with Florence-2's lines and their boxes when PP-OCR reads nothing", HEAVY, async () => {
    const { c, prompts } = await florenceContext({ script: OCR_SCRIPT });
    const blank = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#d8d8d8' } })
      .png()
      .toBuffer();
    const result = await ocrSpecialist.run(invocation('ocr', await imageMedia(c, blank)), c);
    expect(prompts).toEqual([await promptIds(c, florencePrompt('<OCR_WITH_REGION>'))]);
    expect(result.text).toBe('cat');
    // The quad's bounds: bins 100–300 across 200 px, 200–400 down 100 px.
    expect(result.boxes).toHaveLength(1);
    expect(result.boxes![0]).toMatchObject({ text: 'cat' });
    expect(result.boxes![0]!.x1).toBeCloseTo(100.5 * 0.2, 3);
    expect(result.boxes![0]!.x2).toBeCloseTo(300.5 * 0.2, 3);
    expect(result.boxes![0]!.y1).toBeCloseTo(200.5 * 0.1, 3);
    expect(result.boxes![0]!.y2).toBeCloseTo(400.5 * 0.1, 3);
  });

  it('leaves text PP-OCR reads to PP-OCR', HEAVY, async () => {
    const { c, prompts } = await florenceContext({ script: OCR_SCRIPT });
    const result = await ocrSpecialist.run(invocation('ocr', await imageMedia(c, await textImage(['HELLO']))), c);
    expect(prompts).toEqual([]);
    expect(result.text).toMatch(/HELLO/);
  });
});
