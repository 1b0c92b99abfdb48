import { readFileSync } from 'node:fs';
import { rawFrameBytes } from '../../media/ffmpeg.ts';
import type { CropRect } from './camera-path.ts';
import type { RawImage } from './raw-image.ts';

/**
 * The camera move's frame drawing, in the encoder's own format: a fractional rectangle of a picture sampled
 * bilinearly (pixel centres aligned, as `renderCrop`) straight into a yuv420p frame, so ffmpeg neither
 * converts colour nor reads 4 bytes per pixel through the pipe. Why not a library: on two cores the encoder
 * already keeps both busy, so every millisecond spent drawing a 720p frame shows in the clip's time.
 * Measured per 720p frame here: libvips' affine 16 ms for the luma plane alone, ffmpeg's `perspective`
 * filter with per-frame expressions 11 ms, onnxruntime's Resize (tf_crop_and_resize) 6.5 ms, a bilinear
 * loop in JavaScript 4–10 ms; the two SIMD passes of yuv-crop.wat ≈ 1 ms (`npm run bench -- animate`).
 *
 * The picture is converted to 4:2:0 planes once, into the module's memory; each frame, this file computes
 * the taps (which source pixels, what weight: 1/256 px, as ffmpeg's own sub-pixel filters) and the
 * WebAssembly resamples every row the frame needs, then blends pairs of those rows.
 */

const wasmBytes = readFileSync(new URL('./yuv-crop.wasm', import.meta.url));
let compiled: WebAssembly.Module | undefined;

interface Passes {
  hpass(src: number, srcStride: number, rows: number, taps: number, groups: number, dst: number, dstStride: number): void;
  vpass(src: number, table: number, rows: number, chunks: number, dst: number, dstStride: number): void;
}

/** Bytes of one tightly packed yuv420p frame, as ffmpeg's rawvideo reads it. */
export const yuvFrameBytes = (width: number, height: number): number => rawFrameBytes(width, height, 'yuv420p');

/** The widest source span 8 neighbouring taps may cover: one 16-byte load feeds a group. */
const GROUP_SPAN = 16;
/** Every region is padded so that whole-vector loads and stores at its end stay inside it. */
const PAD = 16;
const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** A region of the module's memory, by byte offset. */
interface PlaneLayout {
  /** Source plane. */
  width: number;
  height: number;
  source: number;
  /** Output plane: size and offset inside the frame. */
  outWidth: number;
  outHeight: number;
  frameOffset: number;
  taps: number;
  table: number;
  /** The horizontally resampled rows; stride rounded up to whole 16-byte chunks. */
  rows: number;
  rowStride: number;
}

/**
 * RGB(A) → BT.601 limited-range Y'CbCr, chroma averaged over each 2 × 2 block: what ffmpeg does to RGB
 * frames it encodes as yuv420p (its default matrix and range for untagged RGB), so a clip looks the same
 * whichever way its frames reached the encoder. Writes the three planes at the given offsets of `memory`.
 */
function writeYuvPlanes(image: RawImage, memory: Uint8Array, [yAt, uAt, vAt]: readonly [number, number, number]): void {
  const { width, height, channels: ch, data } = image;
  const cw = Math.ceil(width / 2);
  const chh = Math.ceil(height / 2);
  const uSum = new Float32Array(cw * chh);
  const vSum = new Float32Array(cw * chh);
  const count = new Uint8Array(cw * chh);
  for (let y = 0, p = 0, i = yAt; y < height; y++) {
    const crow = (y >> 1) * cw;
    for (let x = 0; x < width; x++, p += ch, i++) {
      const r = data[p]!;
      const g = data[p + 1]!;
      const b = data[p + 2]!;
      memory[i] = 16.5 + (65.481 * r + 128.553 * g + 24.966 * b) / 255;
      const c = crow + (x >> 1);
      uSum[c]! += (-37.797 * r - 74.203 * g + 112 * b) / 255;
      vSum[c]! += (112 * r - 93.786 * g - 18.214 * b) / 255;
      count[c]! += 1;
    }
  }
  for (let c = 0; c < uSum.length; c++) {
    memory[uAt + c] = 128.5 + uSum[c]! / count[c]!;
    memory[vAt + c] = 128.5 + vSum[c]! / count[c]!;
  }
}

/** Source index (×256) and 8-bit weight toward the next index, per output index along one axis, edges clamped. */
function axisTaps(start: number, length: number, out: number, size: number): Int32Array {
  const taps = new Int32Array(out);
  const step = length / out;
  for (let i = 0; i < out; i++) {
    const s = Math.min(size - 1, Math.max(0, start + (i + 0.5) * step - 0.5));
    let f = Math.floor(s);
    let q = Math.round((s - f) * 256);
    if (q === 256) {
      f += 1;
      q = 0;
    }
    taps[i] = (f << 8) | q;
  }
  return taps;
}

/**
 * Draws yuv420p frames of one picture. `draw(rect)` answers a view of the module's memory, valid until the
 * next call (writeVideo has piped a frame before it asks for the next; copy it to keep it).
 */
export interface YuvCropper {
  readonly width: number;
  readonly height: number;
  draw(rect: CropRect): Uint8Array;
}

/**
 * Prepares `image` (RGB or RGBA) for frames of outWidth × outHeight (even sides). Rectangles given to
 * `draw` are in the picture's pixels and may be at most twice the frame's size (the bilinear filter does
 * not low-pass; callers shrink the picture first, as animate does).
 */
export function yuvCropper(image: RawImage, outWidth: number, outHeight: number): YuvCropper {
  if (image.channels < 3) throw new Error(`yuvCropper needs an RGB or RGBA picture, not ${image.channels} channel(s)`);
  if (outWidth % 2 !== 0 || outHeight % 2 !== 0) throw new Error(`a yuv420p frame needs even sides, not ${outWidth} × ${outHeight}`);
  const frameBytes = yuvFrameBytes(outWidth, outHeight);

  let next = 0;
  const take = (bytes: number): number => {
    const at = next;
    next = align16(next + bytes + PAD);
    return at;
  };
  const sizes = [
    { width: image.width, height: image.height, outWidth, outHeight },
    { width: Math.ceil(image.width / 2), height: Math.ceil(image.height / 2), outWidth: outWidth / 2, outHeight: outHeight / 2 },
  ];
  const frame = take(frameBytes);
  let frameOffset = 0;
  const planes: PlaneLayout[] = [0, 1, 1].map((kind) => {
    const s = sizes[kind]!;
    const rowStride = align16(s.outWidth);
    const plane: PlaneLayout = {
      ...s,
      source: take(s.width * s.height),
      frameOffset,
      taps: take(Math.ceil(s.outWidth / 8) * 64),
      table: take(s.outHeight * 16),
      rows: take(rowStride * s.height),
      rowStride,
    };
    frameOffset += s.outWidth * s.outHeight;
    return plane;
  });
  const memory = new WebAssembly.Memory({ initial: Math.ceil(next / 65536) });
  compiled ??= new WebAssembly.Module(wasmBytes);
  const passes = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as Passes;
  const bytes = new Uint8Array(memory.buffer);
  const ints = new Int32Array(memory.buffer);
  const halves = new Uint16Array(memory.buffer);
  writeYuvPlanes(image, bytes, [planes[0]!.source, planes[1]!.source, planes[2]!.source]);

  function drawPlane(plane: PlaneLayout, rect: CropRect): void {
    const xs = axisTaps(rect.left, rect.width, plane.outWidth, plane.width);
    const ys = axisTaps(rect.top, rect.height, plane.outHeight, plane.height);
    const lastColumn = plane.width - 1;
    const groups = Math.ceil(plane.outWidth / 8);
    for (let g = 0; g < groups; g++) {
      const record = plane.taps + g * 64;
      const base = xs[g * 8]! >> 8;
      for (let k = 0; k < 8; k++) {
        // Past the frame's right edge, the last pixel repeats (those bytes land in the row's padding).
        const t = xs[Math.min(plane.outWidth - 1, g * 8 + k)]!;
        const left = t >> 8;
        const right = Math.min(lastColumn, left + 1);
        if (right - base >= GROUP_SPAN) throw new Error(`a ${rect.width}-pixel-wide window is more than twice the ${plane.outWidth}-pixel frame`);
        bytes[record + k] = left - base;
        bytes[record + 16 + k] = right - base;
        halves[(record + 32) / 2 + k] = t & 255;
      }
      ints[(record + 48) / 4] = base;
    }
    const first = ys[0]! >> 8;
    const last = Math.min(plane.height - 1, (ys[plane.outHeight - 1]! >> 8) + 1);
    passes.hpass(plane.source + first * plane.width, plane.width, last - first + 1, plane.taps, groups, plane.rows, plane.rowStride);
    for (let y = 0; y < plane.outHeight; y++) {
      const t = ys[y]!;
      const upper = (t >> 8) - first;
      const lower = Math.min(last - first, upper + 1);
      const entry = (plane.table + y * 16) / 4;
      ints[entry] = upper * plane.rowStride;
      ints[entry + 1] = lower * plane.rowStride;
      ints[entry + 2] = 256 - (t & 255);
      ints[entry + 3] = t & 255;
    }
    passes.vpass(plane.rows, plane.table, plane.outHeight, Math.ceil(plane.outWidth / 16), frame + plane.frameOffset, plane.outWidth);
  }

  return {
    width: outWidth,
    height: outHeight,
    draw(rect) {
      const half: CropRect = { left: rect.left / 2, top: rect.top / 2, width: rect.width / 2, height: rect.height / 2 };
      drawPlane(planes[0]!, rect);
      drawPlane(planes[1]!, half);
      drawPlane(planes[2]!, half);
      return bytes.subarray(frame, frame + frameBytes);
    },
  };
}
