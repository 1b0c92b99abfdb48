import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, UnsupportedMediaForTaskError } from '../../src/errors.ts';
import type { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { ctcGreedyDecode, parseKeys } from '../../src/vision/models/ctc.ts';
import { ocrSpecialist } from '../../src/vision/tasks/understand/ocr.ts';
import { readingOrder } from '../../src/vision/ops/reading-order.ts';
import { imageMedia, invocation, makeSpecialistContext, testRegistry } from '../helpers/specialist-context.ts';
import type { TestContext } from '../helpers/specialist-context.ts';
import { textImage } from './fixtures.ts';

const normalise = (s: string) => s.replace(/\s+/g, ' ').trim();

describe('ocr (real PP-OCRv4 weights)', () => {
  let models: ModelRegistry;
  let context: TestContext;

  beforeAll(async () => {
    models = testRegistry().models;
    context = await makeSpecialistContext({ models });
    await Promise.all([models.session('ppocr-v4-det'), models.session('ppocr-v4-rec')]);
  });
  afterAll(async () => {
    await models.dispose();
    await context.cleanup();
  });

  it('reads rendered lines in order, with a box around each line', async () => {
    const png = await textImage(['HELLO WORLD', 'Vitron 2024', 'cut out the cat']);
    const media = await imageMedia(context, png);
    const result = await ocrSpecialist.run(invocation('ocr', media), context);

    expect(result.text!.split('\n').map(normalise)).toEqual(['HELLO WORLD', 'Vitron 2024', 'cut out the cat']);
    const boxes = result.boxes!;
    expect(normalise(boxes.map((b) => b.text).join(' '))).toBe('HELLO WORLD Vitron 2024 cut out the cat');
    // Line i has its baseline at 90 + 100·i with 56 px glyphs: each box must straddle that band.
    const lineOf = (b: { y1: number; y2: number }) => Math.round(((b.y1 + b.y2) / 2 - 70) / 100);
    expect([...new Set(boxes.map(lineOf))]).toEqual([0, 1, 2]);
    for (const b of boxes) {
      const line = lineOf(b);
      expect(b.y1).toBeLessThan(90 + 100 * line - 30);
      expect(b.y2).toBeGreaterThan(90 + 100 * line);
      expect(b.x1).toBeGreaterThanOrEqual(20);
      expect(b.x1).toBeLessThan(60);
      expect(b.score).toBeGreaterThan(0.8);
    }
    const overlay = result.media.find((m) => m.role === 'overlay')!;
    const meta = await sharp(overlay.bytes).metadata();
    expect([meta.width, meta.height]).toEqual([640, 360]);
  });

  it('answers a question about the text by quoting it', async () => {
    const media = await imageMedia(context, await textImage(['OPEN 9 TO 5']));
    const result = await ocrSpecialist.run(invocation('ocr', media, { question: 'when is it open?' }), context);
    expect(result.text).toMatch(/when is it open\?/);
    expect(normalise(result.text!.split('\n').at(-1)!)).toBe('OPEN 9 TO 5');
  });

  it('says so when there is no text', async () => {
    const blank = await sharp({ create: { width: 200, height: 120, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const result = await ocrSpecialist.run(invocation('ocr', await imageMedia(context, blank)), context);
    expect(result.text).toMatch(/could not find any readable text/);
    expect(result.boxes).toEqual([]);
  });

  it('rejects videos and unknown arguments', async () => {
    const media = await imageMedia(context, await textImage(['A']));
    await expect(ocrSpecialist.run(invocation('ocr', media, { language: 'fr' }), context)).rejects.toBeInstanceOf(InvalidArgumentError);
    const asVideo = { ...media, info: { ...media.info, kind: 'video' as const } };
    await expect(ocrSpecialist.run(invocation('ocr', asVideo), context)).rejects.toBeInstanceOf(UnsupportedMediaForTaskError);
  });
});

describe('ocr post-processing', () => {
  it('decodes CTC greedily: blanks separate repeats, the last class is a space', () => {
    const keys = parseKeys('a\nb\r\nc\n');
    expect(keys).toEqual(['a', 'b', 'c']);
    const classes = keys.length + 2;
    // steps: a a _ a b (space) c
    const path = [1, 1, 0, 1, 2, 4, 3];
    const probs = new Float32Array(path.length * classes);
    for (const [t, c] of path.entries()) probs[t * classes + c] = 0.9;
    expect(ctcGreedyDecode(probs, 0, path.length, classes, keys)).toEqual({ text: 'aab c', score: expect.closeTo(0.9, 5) });
  });

  it('reads the same path as a scan of every class when rows are softmax, confident or not', () => {
    const keys = Array.from({ length: 300 }, (_, i) => String.fromCodePoint(0x4e00 + i));
    const classes = keys.length + 2;
    const steps = 400;
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const probs = new Float32Array(steps * classes);
    for (let t = 0; t < steps; t++) {
      // A third of the rows confident (one class far ahead); a third with two close leaders, the later one
      // ahead, both under one half (a scan that stopped at the first strong class would pick the wrong one);
      // a third spread thin.
      const winner = 1 + Math.floor(random() * (classes - 2));
      const runnerUp = Math.floor(random() * winner);
      const lift = (c: number) => (t % 3 === 0 ? (c === winner ? 12 : 0) : t % 3 === 1 ? (c === winner ? 8.2 : c === runnerUp ? 8 : 0) : 0);
      const logits = Array.from({ length: classes }, (_, c) => random() * 2 + lift(c));
      const sum = logits.reduce((s, l) => s + Math.exp(l), 0);
      for (const [c, l] of logits.entries()) probs[t * classes + c] = Math.exp(l) / sum;
    }
    let text = '';
    let kept = 0;
    let total = 0;
    let previous = -1;
    for (let t = 0; t < steps; t++) {
      const row = probs.subarray(t * classes, (t + 1) * classes);
      const best = row.indexOf(Math.max(...row));
      if (best !== 0 && best !== previous) {
        text += best <= keys.length ? keys[best - 1]! : ' ';
        total += row[best]!;
        kept += 1;
      }
      previous = best;
    }
    const decoded = ctcGreedyDecode(probs, 0, steps, classes, keys);
    expect(decoded.text).toBe(text);
    expect(decoded.score).toBeCloseTo(total / kept, 6);
  });

  it('orders boxes into lines top to bottom, left to right', () => {
    const boxes = [
      { x1: 200, y1: 12, x2: 300, y2: 40, id: 'b' },
      { x1: 10, y1: 60, x2: 100, y2: 90, id: 'c' },
      { x1: 10, y1: 10, x2: 100, y2: 38, id: 'a' },
    ];
    expect(readingOrder(boxes).map((l) => l.map((b) => b.id))).toEqual([['a', 'b'], ['c']]);
  });
});
