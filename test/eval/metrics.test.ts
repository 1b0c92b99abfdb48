import { describe, expect, it } from 'vitest';
import { boxIoU, characterAccuracy, editDistance, highFrequencyEnergy, maskIoU, psnr, recall, ssim } from '../../eval/metrics.ts';
import type { Mask, RawImage } from '../../src/vision/ops/raw-image.ts';

function image(width: number, height: number, value: (x: number, y: number) => number): RawImage {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = value(x, y);
      data.set([v, v, v, 255], (y * width + x) * 4);
    }
  }
  return { data, width, height, channels: 4 };
}

function square(width: number, height: number, x1: number, y1: number, x2: number, y2: number): Mask {
  const data = new Uint8Array(width * height);
  for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) data[y * width + x] = 255;
  return { data, width, height };
}

/** A deterministic texture (a hash of the position), so that "detail" is there to lose. */
const texture = (x: number, y: number) => ((x * 73856093) ^ (y * 19349663)) & 255;

describe('eval metrics', () => {
  it('mask IoU: two 10×10 squares overlapping by half give 50/150; identical masks 1; disjoint 0', () => {
    expect(maskIoU(square(30, 30, 0, 0, 10, 10), square(30, 30, 5, 0, 15, 10))).toBeCloseTo(50 / 150, 10);
    expect(maskIoU(square(30, 30, 2, 2, 9, 9), square(30, 30, 2, 2, 9, 9))).toBe(1);
    expect(maskIoU(square(30, 30, 0, 0, 5, 5), square(30, 30, 10, 10, 15, 15))).toBe(0);
    expect(() => maskIoU(square(30, 30, 0, 0, 5, 5), square(20, 30, 0, 0, 5, 5))).toThrow(/sizes differ/);
  });

  it('PSNR: an error of 1 level everywhere is 10·log10(255²) dB, of 10 levels 20 dB less; identical is ∞; a region counts only its pixels', () => {
    const a = image(16, 16, () => 100);
    expect(
      psnr(
        a,
        image(16, 16, () => 101),
      ),
    ).toBeCloseTo(10 * Math.log10(255 * 255), 6);
    expect(
      psnr(
        a,
        image(16, 16, () => 110),
      ),
    ).toBeCloseTo(10 * Math.log10(255 * 255) - 20, 6);
    expect(psnr(a, a)).toBe(Number.POSITIVE_INFINITY);
    // Wrong only outside the region: perfect inside it.
    const b = image(16, 16, (x) => (x < 8 ? 100 : 0));
    expect(psnr(a, b, square(16, 16, 0, 0, 8, 16))).toBe(Number.POSITIVE_INFINITY);
    expect(psnr(a, b, square(16, 16, 8, 0, 16, 16))).toBeCloseTo(10 * Math.log10((255 * 255) / (100 * 100)), 6);
  });

  it('SSIM: identity is 1; a flat fill of textured pixels scores far lower than a slightly brightened copy', () => {
    const textured = image(32, 32, texture);
    expect(ssim(textured, textured)).toBeCloseTo(1, 10);
    const brighter = image(32, 32, (x, y) => Math.min(255, texture(x, y) + 3));
    const flat = image(32, 32, () => 128);
    expect(ssim(textured, brighter)).toBeGreaterThan(0.95);
    expect(ssim(textured, flat)).toBeLessThan(0.05);
    const hole = square(32, 32, 8, 8, 24, 24);
    expect(ssim(textured, textured, hole)).toBeCloseTo(1, 10);
  });

  it('high-frequency energy: 0 on a flat box, lower after a 3×3 box blur than on the texture it blurred', () => {
    const textured = image(32, 32, texture);
    const blurred = image(32, 32, (x, y) => {
      let sum = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) sum += texture(Math.min(31, Math.max(0, x + dx)), Math.min(31, Math.max(0, y + dy)));
      return Math.round(sum / 9);
    });
    const box = { x1: 4, y1: 4, x2: 28, y2: 28 };
    expect(
      highFrequencyEnergy(
        image(32, 32, () => 50),
        box,
      ),
    ).toBe(0);
    expect(highFrequencyEnergy(blurred, box)).toBeLessThan(highFrequencyEnergy(textured, box) / 4);
  });

  it('character accuracy is 1 − edit distance / truth length; an empty reading of text is 0, of no text 1', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(characterAccuracy('HELL0 W0RLD', 'HELLO WORLD')).toBeCloseTo(1 - 2 / 11, 10);
    expect(characterAccuracy('', 'HELLO')).toBe(0);
    expect(characterAccuracy('', '')).toBe(1);
    expect(characterAccuracy('O', '')).toBe(0);
  });

  it('recall counts each true box matched once by a found box of IoU ≥ 0.5', () => {
    const truth = [
      { x1: 0, y1: 0, x2: 10, y2: 10 },
      { x1: 20, y1: 20, x2: 30, y2: 30 },
    ];
    expect(boxIoU(truth[0]!, { x1: 0, y1: 0, x2: 10, y2: 20 })).toBeCloseTo(0.5, 10);
    expect(recall([{ x1: 1, y1: 1, x2: 10, y2: 10 }], truth)).toBe(0.5);
    expect(
      recall(
        [
          { x1: 1, y1: 1, x2: 10, y2: 10 },
          { x1: 21, y1: 21, x2: 30, y2: 30 },
        ],
        truth,
      ),
    ).toBe(1);
    // One found box cannot match two truths.
    expect(recall([{ x1: 0, y1: 0, x2: 10, y2: 10 }], [truth[0]!, truth[0]!])).toBe(0.5);
    expect(recall([{ x1: 40, y1: 40, x2: 50, y2: 50 }], truth)).toBe(0);
  });
});
