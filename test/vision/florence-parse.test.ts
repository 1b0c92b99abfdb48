import { describe, expect, it } from 'vitest';
import { dequantize, locTokens, parseFlorence, quantize } from '../../src/vision/models/florence-parse.ts';

// 2000 × 1000: a bin is 2 px wide and 1 px tall, so bin b is x = 2b + 1 and y = b + 0.5.
const SIZE = { width: 2000, height: 1000 };
const x = (bin: number) => 2 * bin + 1;
const y = (bin: number) => bin + 0.5;
const locs = (...bins: number[]) => bins.map((b) => `<loc_${b}>`).join('');

describe('Florence-2 output parsing', () => {
  it('maps a bin to its centre in pixels', () => {
    expect(dequantize(0, 1000)).toBe(0.5);
    expect(dequantize(999, 1000)).toBe(999.5);
    expect(dequantize(52, 451)).toBeCloseTo(23.6775, 6);
  });

  it('reads <OD>: labelled boxes, special tokens and padding stripped, several boxes after one label', () => {
    const text = `</s><s>car${locs(52, 333, 932, 774)}door${locs(100, 200, 300, 400)}${locs(500, 600, 700, 800)}</s><pad><pad>`;
    expect(parseFlorence(text, '<OD>', SIZE)).toEqual({
      kind: 'boxes',
      boxes: [
        { label: 'car', x1: x(52), y1: y(333), x2: x(932), y2: y(774) },
        { label: 'door', x1: x(100), y1: y(200), x2: x(300), y2: y(400) },
        { label: 'door', x1: x(500), y1: y(600), x2: x(700), y2: y(800) },
      ],
    });
  });

  it('trims labels, keeps inner spaces, drops non-ASCII characters, ignores a trailing partial box', () => {
    const text = `<s> traffic light${locs(1, 2, 3, 4, 5)}café${locs(10, 20, 30, 40)}cat${locs(7, 8, 9)}</s>`;
    const parsed = parseFlorence(text, '<DENSE_REGION_CAPTION>', SIZE);
    expect(parsed).toEqual({
      kind: 'boxes',
      boxes: [
        { label: 'traffic light', x1: x(1), y1: y(2), x2: x(3), y2: y(4) },
        { label: 'caf', x1: x(10), y1: y(20), x2: x(30), y2: y(40) },
      ],
    });
  });

  it('reads <REGION_PROPOSAL>: boxes without labels', () => {
    const parsed = parseFlorence(`<s>${locs(0, 0, 999, 999, 10, 10, 20, 20)}</s>`, '<REGION_PROPOSAL>', SIZE);
    expect(parsed).toEqual({
      kind: 'boxes',
      boxes: [
        { label: '', x1: 1, y1: 0.5, x2: 1999, y2: 999.5 },
        { label: '', x1: x(10), y1: y(10), x2: x(20), y2: y(20) },
      ],
    });
  });

  it('grounds the phrases of a caption and leaves pronouns and "the image" out', () => {
    const text = `<s>A green car${locs(10, 20, 30, 40)}it${locs(1, 1, 2, 2)}the image${locs(0, 0, 999, 999)}a dog${locs(50, 60, 70, 80)}</s>`;
    const parsed = parseFlorence(text, '<CAPTION_TO_PHRASE_GROUNDING>', SIZE);
    expect(parsed.kind).toBe('boxes');
    expect(parsed.kind === 'boxes' && parsed.boxes.map((b) => b.label)).toEqual(['A green car', 'a dog']);
  });

  it('reads <OCR_WITH_REGION>: each line with its quad of four points', () => {
    const text = `<s>HELLO${locs(100, 200, 300, 200, 300, 250, 100, 250)} World 2 ${locs(100, 300, 400, 300, 400, 350, 100, 350)}</s>`;
    expect(parseFlorence(text, '<OCR_WITH_REGION>', SIZE)).toEqual({
      kind: 'ocr',
      regions: [
        {
          text: 'HELLO',
          quad: [
            [x(100), y(200)],
            [x(300), y(200)],
            [x(300), y(250)],
            [x(100), y(250)],
          ],
        },
        {
          text: 'World 2',
          quad: [
            [x(100), y(300)],
            [x(400), y(300)],
            [x(400), y(350)],
            [x(100), y(350)],
          ],
        },
      ],
    });
  });

  it('reads <REFERRING_EXPRESSION_SEGMENTATION>: one polygon, or several parts split by <sep>, odd coordinates dropped', () => {
    const one = parseFlorence(`<s>${locs(100, 100, 200, 100, 200, 200, 100, 200)}</s>`, '<REFERRING_EXPRESSION_SEGMENTATION>', SIZE);
    expect(one).toEqual({
      kind: 'polygons',
      instances: [
        {
          label: '',
          polygons: [
            [
              [x(100), y(100)],
              [x(200), y(100)],
              [x(200), y(200)],
              [x(100), y(200)],
            ],
          ],
        },
      ],
    });
    const parts = parseFlorence(`<s>${locs(1, 2, 3, 4, 5, 6)}<sep>${locs(10, 20, 30, 40, 50, 60, 70)}</s>`, '<REFERRING_EXPRESSION_SEGMENTATION>', SIZE);
    expect(parts).toEqual({
      kind: 'polygons',
      instances: [
        {
          label: '',
          polygons: [
            [
              [x(1), y(2)],
              [x(3), y(4)],
              [x(5), y(6)],
            ],
            [
              [x(10), y(20)],
              [x(30), y(40)],
              [x(50), y(60)],
            ],
          ],
        },
      ],
    });
  });

  it('splits <poly>…</poly> into separate objects', () => {
    const text = `<s><poly>${locs(1, 2, 3, 4, 5, 6)}</poly><poly>${locs(7, 8, 9, 10, 11, 12)}<sep>${locs(13, 14, 15, 16)}</poly></s>`;
    const parsed = parseFlorence(text, '<REGION_TO_SEGMENTATION>', SIZE);
    expect(parsed.kind === 'polygons' && parsed.instances.map((i) => i.polygons.map((p) => p.length))).toEqual([[3], [3, 2]]);
  });

  it('reads <OPEN_VOCABULARY_DETECTION> as boxes, or as labelled polygons when the model drew them', () => {
    const boxes = parseFlorence(`<s>a red apple${locs(10, 20, 30, 40)}</s>`, '<OPEN_VOCABULARY_DETECTION>', SIZE);
    expect(boxes).toEqual({ kind: 'boxes', boxes: [{ label: 'a red apple', x1: x(10), y1: y(20), x2: x(30), y2: y(40) }] });
    const polygons = parseFlorence(`<s>apple<poly>${locs(10, 20, 30, 20, 30, 40)}</poly></s>`, '<OPEN_VOCABULARY_DETECTION>', SIZE);
    expect(polygons).toEqual({
      kind: 'polygons',
      instances: [
        {
          label: 'apple',
          polygons: [
            [
              [x(10), y(20)],
              [x(30), y(20)],
              [x(30), y(40)],
            ],
          ],
        },
      ],
    });
  });

  it('reads captions and region descriptions as plain text without sequence markers', () => {
    expect(parseFlorence('</s><s>A cat lying on a blanket.</s><pad><pad>', '<CAPTION>', SIZE)).toEqual({ kind: 'text', text: 'A cat lying on a blanket.' });
    expect(parseFlorence('<s>a tabby cat</s>', '<REGION_TO_DESCRIPTION>', SIZE)).toEqual({ kind: 'text', text: 'a tabby cat' });
    expect(parseFlorence('<s>anything</s>', '<NOT_A_TASK>', SIZE)).toEqual({ kind: 'text', text: 'anything' });
  });

  it('finds nothing in text without coordinates', () => {
    expect(parseFlorence('<s>no objects here</s>', '<OD>', SIZE)).toEqual({ kind: 'boxes', boxes: [] });
    expect(parseFlorence('<s></s>', '<OCR_WITH_REGION>', SIZE)).toEqual({ kind: 'ocr', regions: [] });
    expect(parseFlorence('<s></s>', '<REFERRING_EXPRESSION_SEGMENTATION>', SIZE)).toEqual({ kind: 'polygons', instances: [] });
  });

  it('writes region prompts with the bins that read back to the same place', () => {
    const size = { width: 451, height: 300 };
    expect(locTokens({ x1: 0, y1: 0, x2: 451, y2: 300 }, size)).toBe('<loc_0><loc_0><loc_999><loc_999>');
    for (const bin of [0, 1, 52, 333, 500, 998, 999]) {
      expect(quantize(dequantize(bin, size.width), size.width)).toBe(bin);
      expect(quantize(dequantize(bin, size.height), size.height)).toBe(bin);
    }
  });
});
