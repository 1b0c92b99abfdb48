import { describe, expect, it } from 'vitest';
import { needsPrefilter, resampleToPlanes } from '../../src/vision/ops/resample.ts';
import type { PlaneMaps } from '../../src/vision/ops/resample.ts';
import type { RawImage } from '../../src/vision/ops/raw-image.ts';

const AS_IS: PlaneMaps = [
  { channel: 0, scale: 1, bias: 0 },
  { channel: 1, scale: 1, bias: 0 },
  { channel: 2, scale: 1, bias: 0 },
];

function rgba(width: number, height: number, at: (x: number, y: number) => [number, number, number]): RawImage {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([...at(x, y), 255], (y * width + x) * 4);
  return { data, width, height, channels: 4 };
}

describe('resampling into model planes', () => {
  it('copies pixels exactly at the same size, channel by channel into planes', () => {
    const image = rgba(3, 2, (x, y) => [x, y, 10 * x + y]);
    const out = new Float32Array(3 * 6);
    resampleToPlanes(image, { left: 0, top: 0, width: 3, height: 2 }, 3, 2, { data: out, offset: 0, rowStride: 3, planeStride: 6 }, AS_IS);
    expect([...out]).toEqual([0, 1, 2, 0, 1, 2, 0, 0, 0, 1, 1, 1, 0, 10, 20, 1, 11, 21]);
  });

  it('interpolates between pixel centres, reads only the region, and applies scale, bias and padding strides', () => {
    // A horizontal ramp in steps of 50: halving the width samples halfway between neighbours.
    const image = rgba(6, 1, (x) => [Math.min(255, x * 50), 0, 0]);
    const planes: PlaneMaps = [{ channel: 0, scale: 0.5, bias: -1 }, AS_IS[1], AS_IS[2]];
    const out = new Float32Array(3 * 4).fill(-9);
    resampleToPlanes(image, { left: 2, top: 0, width: 4, height: 1 }, 2, 1, { data: out, offset: 0, rowStride: 4, planeStride: 4 }, planes);
    // Region x = 2..5 (100, 150, 200, 250); output centres fall at 2.5 and 4.5 → 125 and 225.
    expect(out[0]).toBeCloseTo(125 * 0.5 - 1);
    expect(out[1]).toBeCloseTo(225 * 0.5 - 1);
    // Row padding is left alone.
    expect([out[2], out[3]]).toEqual([-9, -9]);
  });

  it('keeps columns as they are when only the height changes, from a region away from the origin', () => {
    const image = rgba(5, 4, (x, y) => [10 * y + x, 100, 0]);
    const out = new Float32Array(3 * 5 * 4).fill(-9);
    resampleToPlanes(image, { left: 1, top: 1, width: 3, height: 2 }, 3, 4, { data: out, offset: 0, rowStride: 5, planeStride: 20 }, AS_IS);
    // Region rows y = 1, 2 stretched to four: centres fall at 0 (clamped), 0.25, 0.75 and 1 (clamped).
    const rows = [0, 0.25, 0.75, 1].map((f) => [1, 2, 3].map((x) => 10 + x + 10 * f));
    for (const [k, row] of rows.entries()) {
      expect([...out.subarray(k * 5, k * 5 + 3)].map((v) => Number(v.toFixed(4)))).toEqual(row);
      expect([...out.subarray(k * 5 + 3, k * 5 + 5)]).toEqual([-9, -9]);
    }
    expect([...out.subarray(20, 23)]).toEqual([100, 100, 100]);
  });

  it('asks for an antialiased resize only when shrinking by more than 2×', () => {
    expect(needsPrefilter({ width: 2000, height: 1000 }, 1024, 1024)).toBe(false);
    expect(needsPrefilter({ width: 2100, height: 1000 }, 1024, 1024)).toBe(true);
    expect(needsPrefilter({ width: 100, height: 100 }, 1024, 1024)).toBe(false);
  });
});
