import { blendRect, type CropRect } from './camera-path.ts';
import type { Mask, RawImage } from './raw-image.ts';
import { compositeCrop, renderCrop } from './subpixel-crop.ts';

/**
 * 2.5D parallax: the picture cut into depth layers that the camera sees move at different speeds (near
 * ones more), as a real camera moving past a scene would. Layer 0, the farthest, is a complete opaque
 * picture — where nearer things stood it holds the inpainter's fill — and it follows the camera's own path,
 * which stays inside the picture; so wherever a nearer layer slides away, layer 0 or a layer between shows,
 * and no frame has a hole.
 */

/** How many layers the depth is cut into. */
export const PARALLAX_LAYERS = 3;
/** The nearest possible layer moves this much more than the farthest (0.6: 1.6× as far). */
export const PARALLAX_GAIN = 0.6;

export interface DepthLayers {
  /** The layer of each pixel, 0 = farthest. */
  index: Uint8Array;
  /** Each layer's mean nearness, 0 (far) .. 1 (near); NaN for an empty layer. */
  nearness: number[];
  count: number;
}

/** Cuts a depth map (0..255, 255 = nearest) into `count` equal bands of depth. */
export function depthLayers(depth: Uint8Array, count = PARALLAX_LAYERS): DepthLayers {
  const index = new Uint8Array(depth.length);
  const sums = new Float64Array(count);
  const sizes = new Float64Array(count);
  for (let i = 0; i < depth.length; i++) {
    const layer = Math.min(count - 1, Math.floor((depth[i]! * count) / 256));
    index[i] = layer;
    sums[layer] = sums[layer]! + depth[i]!;
    sizes[layer] = sizes[layer]! + 1;
  }
  return { index, nearness: Array.from(sums, (s, k) => s / sizes[k]! / 255), count };
}

/** Fills where the mask is 255 (an Inpainter bound to its context). */
export type FillHoles = (image: RawImage, mask: Mask) => Promise<RawImage>;

/** The layers ready to composite: layer 0 opaque, the others premultiplied RGBA, each with its speed. */
export interface ParallaxPlates {
  base: RawImage;
  /** Nearer layers, far to near. */
  overlays: { plate: RawImage; speed: number }[];
}

function maskWhere(layers: DepthLayers, width: number, height: number, test: (layer: number) => boolean): Mask {
  const data = new Uint8Array(layers.index.length);
  for (let i = 0; i < data.length; i++) if (test(layers.index[i]!)) data[i] = 255;
  return { data, width, height };
}

/**
 * Plate k holds layer k's own pixels and, under every nearer layer, the fill that would be seen if that
 * nearer thing moved aside; it is transparent over farther layers. One fill per plate below the nearest.
 */
export async function parallaxPlates(image: RawImage, layers: DepthLayers, fill: FillHoles): Promise<ParallaxPlates> {
  const { width, height } = image;
  const present = layers.nearness.map((n, k) => (Number.isNaN(n) ? -1 : k)).filter((k) => k >= 0);
  const far = present[0] ?? 0;
  const near = present[present.length - 1] ?? 0;
  const farNearness = layers.nearness[far] ?? 0;
  const filledUnder = async (k: number): Promise<RawImage> =>
    k === near
      ? image
      : fill(
          image,
          maskWhere(layers, width, height, (layer) => layer > k),
        );
  const base = await filledUnder(far);
  const overlays: ParallaxPlates['overlays'] = [];
  for (const k of present.slice(1)) {
    const filled = await filledUnder(k);
    const plate = Buffer.alloc(width * height * 4);
    const ch = filled.channels;
    for (let i = 0, s = 0, o = 0; i < width * height; i++, s += ch, o += 4) {
      if (layers.index[i]! < k) continue;
      plate[o] = filled.data[s]!;
      plate[o + 1] = filled.data[s + 1]!;
      plate[o + 2] = filled.data[s + 2]!;
      plate[o + 3] = 255;
    }
    overlays.push({ plate: { data: plate, width, height, channels: 4 }, speed: 1 + PARALLAX_GAIN * (layers.nearness[k]! - farNearness) });
  }
  return { base, overlays };
}

/**
 * One frame at eased progress `e`: the base plate along the camera's path, each nearer plate along the same
 * path travelled `speed` times as far (a zoom magnifies it more, a pan slides it further).
 */
export function renderParallaxFrame(plates: ParallaxPlates, start: CropRect, end: CropRect, e: number, out: Uint8Array, width: number, height: number): void {
  renderCrop(plates.base, blendRect(start, end, e), out, width, height);
  for (const { plate, speed } of plates.overlays) compositeCrop(plate, blendRect(start, end, e * speed), out, width, height);
}
