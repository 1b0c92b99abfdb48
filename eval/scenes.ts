/**
 * The references the eval measures against: boxes measured by hand on the real photos, the horse's real
 * silhouette, and generated scenes whose truth is known because we placed everything in them.
 */
import path from 'node:path';
import sharp from 'sharp';
import type { Box } from '../src/core/types.ts';
import type { Mask } from '../src/vision/ops/raw-image.ts';
import { maskOf, rawOf, TESTDATA } from './context.ts';

/*
 * Hand-measured boxes (x1, y1, x2, y2 in image pixels), read off the photos enlarged 2–3× under a 10-pixel
 * grid (December 2026, for this eval): the face is skin from hairline to chin and cheek to cheek (hair and
 * ears out); the person is everything of her that is visible (hair top to the bottom edge, left elbow to
 * right shoulder; the helmet she holds is out); the cat is its head and fur down to the bottom edge, up to
 * where the fur meets the blurred background on the right.
 */
export const ASTRONAUT_FACE: Box = { x1: 180, y1: 72, x2: 270, y2: 188 };
export const ASTRONAUT_PERSON: Box = { x1: 20, y1: 15, x2: 365, y2: 512 };
export const CHELSEA_CAT: Box = { x1: 0, y1: 0, x2: 365, y2: 300 };

/** A box moved and scaled the way a picture was pasted: (x, y) = where its top-left went, s = its scale. */
export function placed(box: Box, x: number, y: number, s: number, label?: string): Box {
  return { x1: x + box.x1 * s, y1: y + box.y1 * s, x2: x + box.x2 * s, y2: y + box.y2 * s, ...(label ? { label } : {}) };
}

/** horse.png: black horse on white; its silhouette (horse = 255) is the truth. */
export async function horseSilhouette(width?: number, height?: number): Promise<Mask> {
  let pipeline = sharp(path.join(TESTDATA, 'horse.png')).flatten({ background: '#ffffff' }).greyscale().negate();
  if (width !== undefined && height !== undefined) pipeline = pipeline.resize(width, height, { fit: 'fill' });
  return maskOf(await pipeline.png().toBuffer());
}

/** A sky-over-grass backdrop, with an optional red disc as a distractor. */
function backdrop(width: number, height: number, disc?: { cx: number; cy: number; r: number }): Buffer {
  const circle = disc ? `<circle cx="${disc.cx}" cy="${disc.cy}" r="${disc.r}" fill="#c0302a"/>` : '';
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#9cc3e6"/><stop offset="0.6" stop-color="#dfe9f0"/><stop offset="0.6" stop-color="#6b8f3a"/><stop offset="1" stop-color="#4d6b2a"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/>${circle}</svg>`,
  );
}

/**
 * The horse, textured with the cat's brown fur, standing on a backdrop at (x, y) with size w×h; the truth
 * is its silhouette at that place. Exact by construction: the pixels of the horse are the silhouette's.
 */
export async function horseScene(
  width: number,
  height: number,
  at: { x: number; y: number; w: number; h: number },
  disc?: { cx: number; cy: number; r: number },
): Promise<{ png: Buffer; truth: Mask }> {
  const silhouette = await horseSilhouette(at.w, at.h);
  const fur = await rawOf(await sharp(path.join(TESTDATA, 'chelsea.png')).resize(at.w, at.h, { fit: 'cover' }).png().toBuffer());
  const scene = await rawOf(
    await sharp(backdrop(width, height, disc))
      .png()
      .toBuffer(),
  );
  const truth: Mask = { data: new Uint8Array(width * height), width, height };
  for (let y = 0; y < at.h; y++) {
    for (let x = 0; x < at.w; x++) {
      if (silhouette.data[y * at.w + x]! < 128) continue;
      const to = (at.y + y) * width + at.x + x;
      truth.data[to] = 255;
      // Darkened fur: a brown horse, not a cat-coloured cut-out pasted flat.
      for (let c = 0; c < 3; c++) scene.data[to * 4 + c] = Math.round(fur.data[(y * at.w + x) * 4 + c]! * 0.7);
    }
  }
  const png = await sharp(scene.data, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
  return { png, truth };
}

/**
 * The astronaut (shrunk to 256²) and the cat (to 270×180) pasted on a grey wall: the boxes they carry, moved
 * with them, are the truth for recall.
 */
export async function pastedScene(): Promise<{ png: Buffer; objects: Box[]; faces: Box[] }> {
  const astronaut = await sharp(path.join(TESTDATA, 'astronaut.png')).resize(256, 256).png().toBuffer();
  const cat = await sharp(path.join(TESTDATA, 'chelsea.png')).resize(270, 180).png().toBuffer();
  const png = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#8a8a86' } })
    .composite([
      { input: astronaut, left: 40, top: 300 },
      { input: cat, left: 480, top: 60 },
    ])
    .png()
    .toBuffer();
  return {
    png,
    objects: [placed(ASTRONAUT_PERSON, 40, 300, 0.5, 'person'), placed(CHELSEA_CAT, 480, 60, 270 / 451, 'cat')],
    faces: [placed(ASTRONAUT_FACE, 40, 300, 0.5, 'face')],
  };
}
