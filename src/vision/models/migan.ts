import * as ort from 'onnxruntime-node';
import { InternalError } from '../../errors.ts';
import { inpaintInCrop } from '../ops/hole-crop.ts';
import type { Inpainter } from './inpainter.ts';

/**
 * MI-GAN through its ONNX pipeline export (`migan_pipeline_v2.onnx`, andraniksargsyan/migan).
 * Contract (upstream scripts/create_onnx_pipeline.py): `image` uint8 [1,3,H,W] RGB and `mask` uint8
 * [1,1,H,W] with **255 = keep, 0 = hole** (the opposite of ours) → `result` uint8 [1,3,H,W]. The graph
 * resizes to 512² itself and composes the known pixels back; we still crop around the hole at 512² so
 * that the fill gets full resolution, and paste only inside our mask.
 */

export const MIGAN_MODEL = 'migan';
const MIGAN_SIZE = 512;

/** HWC RGB + our hole mask → the pipeline's two uint8 tensors. */
export function miganFeeds(rgb: Buffer, hole: Uint8Array, size: number): { image: ort.Tensor; mask: ort.Tensor } {
  const plane = size * size;
  const chw = new Uint8Array(3 * plane);
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    chw[i] = rgb[p]!;
    chw[plane + i] = rgb[p + 1]!;
    chw[2 * plane + i] = rgb[p + 2]!;
  }
  const keep = new Uint8Array(plane);
  for (let i = 0; i < plane; i++) keep[i] = hole[i]! > 0 ? 0 : 255;
  return { image: new ort.Tensor('uint8', chw, [1, 3, size, size]), mask: new ort.Tensor('uint8', keep, [1, 1, size, size]) };
}

/** The pipeline's uint8 CHW result → HWC RGB. */
export function miganResultToRgb(result: Uint8Array, size: number): Buffer {
  const plane = size * size;
  const rgb = Buffer.allocUnsafe(3 * plane);
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    rgb[p] = result[i]!;
    rgb[p + 1] = result[plane + i]!;
    rgb[p + 2] = result[2 * plane + i]!;
  }
  return rgb;
}

export const miganInpainter: Inpainter = {
  name: 'migan',
  model: MIGAN_MODEL,
  async inpaint(image, mask, context) {
    const session = await context.models.session(MIGAN_MODEL, { task: 'inpaint' });
    return inpaintInCrop(image, mask, MIGAN_SIZE, async (rgb, hole) => {
      const feeds = miganFeeds(rgb, hole, MIGAN_SIZE);
      try {
        const outputs = await session.run(feeds);
        const result = outputs['result'] ?? outputs[session.outputNames[0]!];
        if (result === undefined || result.type !== 'uint8' || result.data.length !== 3 * MIGAN_SIZE * MIGAN_SIZE) {
          throw new InternalError(
            `MI-GAN returned ${result ? `${result.type} [${result.dims.join(',')}]` : 'nothing'}, expected uint8 [1,3,${MIGAN_SIZE},${MIGAN_SIZE}] "result"`,
          );
        }
        const rgbOut = miganResultToRgb(result.data as Uint8Array, MIGAN_SIZE);
        for (const t of Object.values(outputs)) t.dispose();
        return rgbOut;
      } finally {
        feeds.image.dispose();
        feeds.mask.dispose();
      }
    });
  },
};
