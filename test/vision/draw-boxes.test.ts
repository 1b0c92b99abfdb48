import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { drawBoxes, flattenToRgb } from '../../src/vision/ops/draw-boxes.ts';
import type { RawImage } from '../../src/vision/ops/raw-image.ts';

/** A flat grey RGBA picture. */
function grey(width: number, height: number, alpha = 255): RawImage {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < data.length; i += 4) data.set([100, 100, 100, alpha], i);
  return { data, width, height, channels: 4 };
}

async function pixels(png: Buffer): Promise<{ at(x: number, y: number): number[]; channels: number }> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { channels: info.channels, at: (x, y) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x + 1) * info.channels)] };
}

describe('drawBoxes', () => {
  it('outlines each box in its colour, centred on the edge, and leaves the rest of the picture as it was', async () => {
    // 400×400: the stroke is 2 px, one inside and one outside each edge.
    const out = await pixels(await drawBoxes(grey(400, 400), [{ x1: 100, y1: 150, x2: 300, y2: 250, label: '' }], '#ff0000'));
    expect(out.channels).toBe(3);
    for (const [x, y] of [
      [200, 149],
      [200, 150],
      [99, 200],
      [100, 200],
      [299, 200],
      [300, 200],
      [200, 249],
      [200, 250],
    ] as const) {
      expect(out.at(x, y), `edge pixel ${x},${y}`).toEqual([255, 0, 0]);
    }
    for (const [x, y] of [
      [200, 147],
      [200, 152],
      [200, 200],
      [97, 200],
      [302, 200],
      [10, 10],
    ] as const) {
      expect(out.at(x, y), `pixel ${x},${y} off the outline`).toEqual([100, 100, 100]);
    }
  });

  it('writes each label (or the box number) just above its box, where nothing else changed', async () => {
    const image = grey(400, 400);
    const plain = await pixels(await drawBoxes(image, [{ x1: 100, y1: 150, x2: 300, y2: 250, label: '' }]));
    const labelled = await pixels(await drawBoxes(image, [{ x1: 100, y1: 150, x2: 300, y2: 250, label: 'dog 93%' }]));
    // Font 12 px, baseline 2 px above the box: the text lies in rows 136–152 (descenders) from x = 100.
    let changedAbove = 0;
    let changedElsewhere = 0;
    for (let y = 0; y < 400; y++) {
      for (let x = 0; x < 400; x++) {
        const differs = plain.at(x, y).some((v, k) => v !== labelled.at(x, y)[k]);
        if (!differs) continue;
        if (y >= 130 && y < 154 && x >= 98 && x < 200) changedAbove++;
        else changedElsewhere++;
      }
    }
    expect(changedAbove).toBeGreaterThan(50);
    expect(changedElsewhere).toBe(0);
  });

  it('draws boxes and labels that run past the picture clipped, and many labels at once', async () => {
    const boxes = Array.from({ length: 300 }, (_, i) => ({
      x1: ((i * 37) % 420) - 20,
      y1: ((i * 53) % 300) - 10,
      x2: ((i * 37) % 420) + 30,
      y2: ((i * 53) % 300) + 25,
    }));
    const png = await drawBoxes(grey(400, 300), [...boxes, { x1: -50, y1: -50, x2: 500, y2: 400, label: 'everything' }]);
    expect(await sharp(png).metadata()).toMatchObject({ width: 400, height: 300, channels: 3 });
  });

  it('draws every label when they take more than one render (many long labels)', async () => {
    // 150 labels of 100 wide letters: ≈17 000 px cells, about 60 per render within the 1 M pixel budget.
    const boxes = Array.from({ length: 150 }, (_, i) => ({
      x1: 10 + (i % 10) * 38,
      y1: 30 + Math.floor(i / 10) * 17,
      x2: 40 + (i % 10) * 38,
      y2: 40 + Math.floor(i / 10) * 17,
      label: 'W'.repeat(100),
    }));
    const last = boxes.at(-1)!;
    const withLast = await pixels(await drawBoxes(grey(400, 300), boxes));
    const withoutLast = await pixels(await drawBoxes(grey(400, 300), [...boxes.slice(0, -1), { ...last, label: '' }]));
    // The last label (from the third render) starts at its box's left edge, its baseline 2 px above the box.
    let changed = 0;
    for (let y = last.y1 - 16; y < last.y1; y++)
      for (let x = last.x1; x < 400; x++) if (withLast.at(x, y).some((v, k) => v !== withoutLast.at(x, y)[k])) changed++;
    expect(changed).toBeGreaterThan(50);
  });

  it('flattens transparency onto white and grey onto RGB', () => {
    const half = grey(2, 1, 128);
    expect([...flattenToRgb(half)]).toEqual([177, 177, 177, 177, 177, 177]);
    expect([...flattenToRgb(grey(1, 1, 0))]).toEqual([255, 255, 255]);
    expect([...flattenToRgb({ data: Buffer.from([7, 9]), width: 2, height: 1, channels: 1 })]).toEqual([7, 7, 7, 9, 9, 9]);
    expect([...flattenToRgb({ data: Buffer.from([0, 64]), width: 1, height: 1, channels: 2 })]).toEqual([191, 191, 191]);
    expect([...flattenToRgb({ data: Buffer.from([1, 2, 3, 4, 5, 6]), width: 2, height: 1, channels: 3 })]).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
