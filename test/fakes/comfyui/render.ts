import { createHash } from 'node:crypto';
import sharp from 'sharp';
import type { Prompt } from './nodes.ts';

/**
 * The fake's "model": a solid picture whose colour is a hash of everything that should change it (seed,
 * texts, denoise, input files), sized like the latent the workflow asks for or like its input image. Enough
 * for tests to tell seeds, prompts and inputs apart, and to see that a seed reproduces.
 */

export interface RenderPlan {
  steps: number;
  width: number;
  height: number;
  count: number;
  rgb: { r: number; g: number; b: number };
}

function nodesOf(prompt: Prompt, classType: string): Record<string, unknown>[] {
  return Object.values(prompt)
    .filter((n) => n.class_type === classType)
    .map((n) => n.inputs ?? {});
}

export function planRender(prompt: Prompt, uploads: ReadonlyMap<string, { width: number; height: number }>): RenderPlan {
  const sampler = nodesOf(prompt, 'KSampler')[0] ?? {};
  const latent = [...nodesOf(prompt, 'EmptyLatentImage'), ...nodesOf(prompt, 'EmptySD3LatentImage')][0];
  const loaded = nodesOf(prompt, 'LoadImage').map((n) => String(n.image));
  const input = loaded.length > 0 ? uploads.get(loaded[0]!) : undefined;
  const repeat = nodesOf(prompt, 'RepeatLatentBatch').reduce((n, r) => n * Number(r.amount ?? 1), 1);
  const texts = nodesOf(prompt, 'CLIPTextEncode').map((n) => String(n.text));
  const clips = nodesOf(prompt, 'LoadVideo').map((n) => n.file);
  const key = JSON.stringify([
    sampler.seed,
    sampler.denoise,
    texts,
    loaded,
    nodesOf(prompt, 'LoadImageMask').map((n) => n.image),
    ...(clips.length ? [clips] : []),
  ]);
  const digest = createHash('sha256').update(key).digest();
  return {
    steps: Number(sampler.steps ?? 1),
    width: latent ? Number(latent.width) : (input?.width ?? 512),
    height: latent ? Number(latent.height) : (input?.height ?? 512),
    count: (latent ? Number(latent.batch_size ?? 1) : 1) * repeat,
    rgb: { r: digest[0]!, g: digest[1]!, b: digest[2]! },
  };
}

export function solidPng(width: number, height: number, rgb: RenderPlan['rgb']): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: rgb } })
    .png()
    .toBuffer();
}

/** A binary preview frame as server.py sends it: event PREVIEW_IMAGE (1), image type 2 (PNG), the image. */
export function previewFrame(png: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(1, 0);
  header.writeUInt32BE(2, 4);
  return Buffer.concat([header, png]);
}
