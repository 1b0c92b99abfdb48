import { promises as fs } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intersectionOverUnion } from '../../src/vision/ops/nms.ts';
import { BLAZEFACE_BACK_ANCHORS, ssdAnchorCentres } from '../../src/vision/models/blazeface-anchors.ts';
import { detectFaces } from '../../src/vision/models/blazeface.ts';
import { cutByEdge, faceViews, viewsAround } from '../../src/vision/models/blazeface-views.ts';
import { weightedSuppression } from '../../src/vision/ops/weighted-nms.ts';
import type { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { decodeImage } from '../../src/vision/ops/raw-image.ts';
import type { RawImage } from '../../src/vision/ops/raw-image.ts';
import { tfjs } from '../../src/vision/models/tfjs-runtime.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { testRegistry } from '../helpers/specialist-context.ts';
import { discImage } from './fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

/**
 * The astronaut's face in astronaut.png (512²), measured once by eye on a 3× crop: hairline at y ≈ 78,
 * chin at y ≈ 178, cheeks at x ≈ 180 and 268.
 */
const ASTRONAUT_FACE = { x1: 180, y1: 78, x2: 268, y2: 178 };

const LIMITS = { maxImagePixels: 50_000_000 };

describe('SSD anchors (MediaPipe back-camera BlazeFace)', () => {
  it('lays out 16×16 cells × 2 anchors at stride 16, then 8×8 × 6 at stride 32', () => {
    const a = ssdAnchorCentres(BLAZEFACE_BACK_ANCHORS);
    expect(a.length / 2).toBe(896);
    expect([...a.subarray(0, 6)]).toEqual([8, 8, 8, 8, 24, 8]);
    // The last stride-16 anchor is the bottom-right cell; the first stride-32 anchor starts over.
    expect([...a.subarray(511 * 2, 512 * 2)]).toEqual([248, 248]);
    expect([...a.subarray(512 * 2, 518 * 2)]).toEqual([16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16]);
    expect([...a.subarray(518 * 2, 519 * 2)]).toEqual([48, 16]);
  });
});

describe('where BlazeFace looks', () => {
  it('looks at small images whole, and at large ones also in overlapping tiles that cover them', () => {
    expect(faceViews(512, 512)).toHaveLength(1);
    const views = faceViews(2048, 1536);
    const tiles = views.filter((v) => v.tile);
    expect(views[0]).toMatchObject({ left: 0, top: 0, width: 2048, height: 1536, tile: false });
    expect(tiles.length).toBeGreaterThan(4);
    expect(Math.max(...tiles.map((t) => t.left + t.width))).toBe(2048);
    expect(Math.max(...tiles.map((t) => t.top + t.height))).toBe(1536);
    // Neighbours overlap by at least a third of a tile.
    const lefts = [...new Set(tiles.map((t) => t.left))].sort((a, b) => a - b);
    for (let i = 1; i < lefts.length; i++) expect(lefts[i - 1]! + tiles[0]!.width - lefts[i]!).toBeGreaterThanOrEqual(tiles[0]!.width / 3 - 1);
    expect(faceViews(2048, 1536, false)).toHaveLength(1);
  });

  it('drops boxes cut by an edge shared with another tile, not by the image border', () => {
    const tile = { left: 600, top: 0, width: 683, height: 683, tile: true };
    expect(cutByEdge({ x1: 600, y1: 100, x2: 640, y2: 140 }, tile, 2048, 1536)).toBe(true);
    expect(cutByEdge({ x1: 700, y1: 0, x2: 740, y2: 40 }, tile, 2048, 1536)).toBe(false);
    expect(cutByEdge({ x1: 600, y1: 100, x2: 640, y2: 140 }, { ...tile, tile: false }, 2048, 1536)).toBe(false);
  });

  it('looks around small tracked faces only, with a window three times the face, inside the image', () => {
    const views = viewsAround(
      [
        { x1: 1200, y1: 20, x2: 1240, y2: 60 },
        { x1: 100, y1: 100, x2: 400, y2: 400 },
      ],
      1280,
      720,
    );
    expect(views).toEqual([{ left: 1024, top: 0, width: 256, height: 256, tile: true }]);
    expect(viewsAround([{ x1: 500, y1: 300, x2: 600, y2: 400 }], 1280, 720)).toEqual([{ left: 400, top: 200, width: 300, height: 300, tile: true }]);
  });

  it('merges the anchors that fire on one face into their score-weighted mean', () => {
    const merged = weightedSuppression([
      { x1: 0, y1: 0, x2: 10, y2: 10, label: 'face', score: 0.9 },
      { x1: 2, y1: 0, x2: 12, y2: 10, label: 'face', score: 0.3 },
      { x1: 50, y1: 50, x2: 60, y2: 60, label: 'face', score: 0.6 },
    ]);
    expect(merged).toHaveLength(2);
    expect(merged[0]).toMatchObject({ score: 0.9, y1: 0, y2: 10 });
    expect(merged[0]!.x1).toBeCloseTo(0.5, 5);
    expect(merged[1]).toMatchObject({ x1: 50, score: 0.6 });
  });

  it('drops a weaker box that mostly contains the best one (the same face at another scale)', () => {
    const merged = weightedSuppression([
      { x1: 374, y1: 325, x2: 408, y2: 359, label: 'face', score: 0.95 },
      { x1: 360, y1: 320, x2: 430, y2: 395, label: 'face', score: 0.66 },
    ]);
    expect(merged).toHaveLength(1);
    expect(merged[0]!.score).toBe(0.95);
    for (const [key, value] of [
      ['x1', 374],
      ['y1', 325],
      ['x2', 408],
      ['y2', 359],
    ] as const)
      expect(merged[0]![key]).toBeCloseTo(value, 6);
  });
});

photos.describe('BlazeFace on real photos (tfjs WASM)', () => {
  let models: ModelRegistry;
  let astronaut: RawImage;

  beforeAll(async () => {
    models = testRegistry().models;
    astronaut = await decodeImage(await fs.readFile(testdata('astronaut.png')), LIMITS);
  });
  afterAll(async () => {
    await models.dispose();
  });

  it("finds the astronaut's face", { timeout: 180_000 }, async () => {
    const faces = await detectFaces(models, astronaut);
    expect(faces).toHaveLength(1);
    expect(faces[0]!.label).toBe('face');
    expect(faces[0]!.score).toBeGreaterThan(0.7);
    expect(faces[0]!.score).toBeLessThanOrEqual(1);
    expect(intersectionOverUnion(faces[0]!, ASTRONAUT_FACE)).toBeGreaterThanOrEqual(0.5);
  });

  it('finds no face in pictures without one (a shaded disc, a horse)', { timeout: 180_000 }, async () => {
    const disc = await decodeImage(await discImage(400, 300, { cx: 200, cy: 150, r: 80 }), LIMITS);
    expect(await detectFaces(models, disc)).toEqual([]);
    const horse = await decodeImage(await fs.readFile(testdata('horse.png')), LIMITS);
    expect(await detectFaces(models, horse)).toEqual([]);
  });

  it('finds a small face in a large photo through tiles (and misses it without them)', { timeout: 180_000 }, async () => {
    // The astronaut at 256 px in a 2048 × 1536 canvas: her face is ~50 px, 1/40 of the width.
    const small = await sharp(testdata('astronaut.png')).resize(256).png().toBuffer();
    const big = await sharp({ create: { width: 2048, height: 1536, channels: 3, background: '#889988' } })
      .composite([{ input: small, left: 1500, top: 900 }])
      .png()
      .toBuffer();
    const image = await decodeImage(big, LIMITS);
    const truth = { x1: 1500 + ASTRONAUT_FACE.x1 / 2, y1: 900 + ASTRONAUT_FACE.y1 / 2, x2: 1500 + ASTRONAUT_FACE.x2 / 2, y2: 900 + ASTRONAUT_FACE.y2 / 2 };
    expect(await detectFaces(models, image, { tiles: false })).toEqual([]);
    const faces = await detectFaces(models, image);
    expect(faces).toHaveLength(1);
    expect(intersectionOverUnion(faces[0]!, truth)).toBeGreaterThanOrEqual(0.5);
  });

  it('releases its tensors: 20 calls leave the tensor count where it was', { timeout: 180_000 }, async () => {
    const { tf } = await tfjs();
    await detectFaces(models, astronaut);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) await detectFaces(models, astronaut);
    expect(tf.memory().numTensors).toBe(before);
  });
});
