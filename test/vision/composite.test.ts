import { describe, expect, it } from 'vitest';
import type { Mask, RawImage } from '../../src/vision/ops/raw-image.ts';
import { applyMaskAsAlpha, compositeOnColor } from '../../src/vision/ops/composite.ts';

const image: RawImage = { data: Buffer.from([10, 20, 30, 255, 40, 50, 60, 128, 70, 80, 90, 255]), width: 3, height: 1, channels: 4 };
const mask: Mask = { data: new Uint8Array([0, 255, 128]), width: 3, height: 1 };

describe('compositing with a soft mask', () => {
  it('multiplies the mask into alpha and clears the colour of fully transparent pixels', () => {
    const out = applyMaskAsAlpha(image, mask);
    expect([...out.data]).toEqual([0, 0, 0, 0, 40, 50, 60, 128, 70, 80, 90, 128]);
  });

  it('does the same for RGB input, taking the mask as alpha', () => {
    const rgb: RawImage = { data: Buffer.from([10, 20, 30, 40, 50, 60, 70, 80, 90]), width: 3, height: 1, channels: 3 };
    expect([...applyMaskAsAlpha(rgb, mask).data]).toEqual([0, 0, 0, 0, 40, 50, 60, 255, 70, 80, 90, 128]);
  });

  it('puts the subject over a colour', () => {
    const out = compositeOnColor(image, mask, { r: 255, g: 255, b: 255 });
    expect([...out.data.subarray(0, 6)]).toEqual([255, 255, 255, 40, 50, 60]);
  });
});
