import { describe, expect, it } from 'vitest';
import { REGION_GROWTH, coverRegions, grownBox } from '../../src/vision/ops/region-effects.ts';
import type { RawImage } from '../../src/vision/ops/raw-image.ts';

describe('region effects', () => {
  const gradient = (): RawImage => {
    const width = 64;
    const height = 48;
    const data = Buffer.alloc(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) data.set([x * 4, y * 5, (x * y) % 256, 255], (y * width + x) * 4);
    }
    return { data, width, height, channels: 4 };
  };

  it('changes pixels inside the grown box only, fading in over a soft edge (ellipse)', async () => {
    const image = gradient();
    const box = { x1: 20, y1: 14, x2: 40, y2: 34 };
    const out = await coverRegions(image, [box], { kind: 'blur', sigma: 6 }, 'ellipse');
    const g = grownBox(box, image.width, image.height, REGION_GROWTH.ellipse);
    let changedInside = 0;
    for (let y = 0; y < image.height; y++) {
      for (let x = 0; x < image.width; x++) {
        const o = (y * image.width + x) * 4;
        const same = image.data.subarray(o, o + 4).equals(out.data.subarray(o, o + 4));
        const inside = x >= g.x1 && x < g.x2 && y >= g.y1 && y < g.y2;
        if (!inside) expect(same, `pixel ${x},${y}`).toBe(true);
        else if (!same) changedInside++;
      }
    }
    expect(changedInside).toBeGreaterThan(0.5 * (g.x2 - g.x1) * (g.y2 - g.y1));
    // The centre is covered at full strength (the blue channel is not linear, so blurring changes it).
    const centre = (24 * image.width + 30) * 4;
    expect(out.data.readUInt32LE(centre)).not.toBe(image.data.readUInt32LE(centre));
  });

  it('pixelates into uniform blocks at least an eighth of the region wide', async () => {
    const image = gradient();
    const out = await coverRegions(image, [{ x1: 0, y1: 0, x2: 64, y2: 48 }], { kind: 'pixelate', block: 4 }, 'rectangle');
    // A 48 px short side → blocks of 6 px; inside the soft edge, each block is one colour.
    const at = (x: number, y: number) => out.data.readUInt32LE((y * 64 + x) * 4);
    expect(at(12, 12)).toBe(at(17, 17));
    expect(at(12, 12)).not.toBe(at(18, 12));
  });
});
