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

/**
 * The depth levels that split a depth histogram into `count` classes with the largest between-class
 * variance (multi-level Otsu, exhaustive over the 256 levels): cuts fall in the valleys between things
 * rather than through one, so an object moves as one piece. Returns count − 1 ascending thresholds; a
 * level ≥ threshold k belongs to class k + 1 or above.
 */
export function otsuThresholds(depth: Uint8Array, count: number): { thresholds: number[]; separation: number } {
  const histogram = new Float64Array(256);
  for (let i = 0; i < depth.length; i++) histogram[depth[i]!] = histogram[depth[i]!]! + 1;
  // Prefix sums of counts and of level × count: a class's weight and mean in O(1).
  const n = new Float64Array(257);
  const m = new Float64Array(257);
  for (let v = 0; v < 256; v++) {
    n[v + 1] = n[v]! + histogram[v]!;
    m[v + 1] = m[v]! + v * histogram[v]!;
  }
  const score = (from: number, to: number): number => {
    const weight = n[to]! - n[from]!;
    return weight > 0 ? (m[to]! - m[from]!) ** 2 / weight : 0;
  };
  let best: number[] = [];
  let bestScore = -1;
  const search = (cuts: number[], from: number, left: number): void => {
    if (left === 0) {
      const bounds = [0, ...cuts, 256];
      let total = 0;
      for (let k = 0; k + 1 < bounds.length; k++) total += score(bounds[k]!, bounds[k + 1]!);
      if (total > bestScore) [bestScore, best] = [total, [...cuts]];
      return;
    }
    for (let t = from; t <= 256 - left; t++) search([...cuts, t], t + 1, left - 1);
  };
  search([], 1, count - 1);
  // Between-class variance over the total: 1 when the classes are single levels, 0 for no structure.
  const total = n[256]!;
  const mean = total > 0 ? m[256]! / total : 0;
  let variance = 0;
  for (let v = 0; v < 256; v++) variance += histogram[v]! * (v - mean) ** 2;
  const between = bestScore - (total > 0 ? m[256]! ** 2 / total : 0);
  return { thresholds: best, separation: variance > 0 ? between / variance : 0 };
}

/** A third layer must explain this much more of the depth's variance, or it would only cut one thing in two. */
const THIRD_LAYER_GAIN = 0.06;

/**
 * Cuts a depth map (0..255, 255 = nearest) into up to `most` layers at its histogram's valleys
 * (otsuThresholds): two when a subject stands apart from its ground, three when the depth has more to it.
 */
export function depthLayers(depth: Uint8Array, width: number, most = PARALLAX_LAYERS): DepthLayers {
  let chosen = otsuThresholds(depth, 2);
  for (let k = 3; k <= most; k++) {
    const more = otsuThresholds(depth, k);
    if (more.separation - chosen.separation < THIRD_LAYER_GAIN) break;
    chosen = more;
  }
  const thresholds = chosen.thresholds;
  const count = thresholds.length + 1;
  const layerOf = new Uint8Array(256);
  for (let v = 0; v < 256; v++) layerOf[v] = thresholds.filter((t) => v >= t).length;
  const index = new Uint8Array(depth.length);
  for (let i = 0; i < depth.length; i++) index[i] = layerOf[depth[i]!]!;
  const grown = growNearer(index, width, EDGE_GROWTH);
  const sums = new Float64Array(count);
  const sizes = new Float64Array(count);
  for (let i = 0; i < depth.length; i++) {
    const layer = grown[i]!;
    sums[layer] = sums[layer]! + depth[i]!;
    sizes[layer] = sizes[layer]! + 1;
  }
  return { index: grown, nearness: Array.from(sums, (s, k) => s / sizes[k]! / 255), count };
}

/**
 * Depth maps are soft at an object's outline, so its last pixels read as farther than it: each layer is
 * grown by this many pixels over farther ones, so the outline travels with the object instead of staying
 * behind as a faint copy.
 */
const EDGE_GROWTH = 2;

/** Each pixel takes the nearest layer within `radius` (a separable max filter, rows then columns). */
function growNearer(index: Uint8Array, width: number, radius: number): Uint8Array {
  const height = index.length / width;
  const rows = new Uint8Array(index.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let most = 0;
      for (let k = Math.max(0, x - radius); k <= Math.min(width - 1, x + radius); k++) most = Math.max(most, index[row + k]!);
      rows[row + x] = most;
    }
  }
  const out = new Uint8Array(index.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let most = 0;
      for (let k = Math.max(0, y - radius); k <= Math.min(height - 1, y + radius); k++) most = Math.max(most, rows[k * width + x]!);
      out[y * width + x] = most;
    }
  }
  return out;
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
