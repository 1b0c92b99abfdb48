import * as ort from 'onnxruntime-node';
import { InternalError } from '../../errors.ts';
import { inpaintInCrop } from '../ops/hole-crop.ts';
import type { Inpainter } from './inpainter.ts';

/**
 * LaMa (big-lama) through the Carve/LaMa-ONNX export (`lama_fp32.onnx`, opset 17). Contract: `image` float
 * [1,3,512,512] RGB in 0..1 and `mask` float [1,1,512,512] with 1 = hole → `output` float [1,3,512,512].
 * The size is fixed by the graph. Users of this export report the output in 0..255 and some in 0..1, so
 * the range is read from the data (see `lamaOutputToRgb`). We zero the hole in the image as LaMa's own
 * training code does before the generator; harmless if the graph does it again.
 */

export const LAMA_MODEL = 'lama';
const LAMA_SIZE = 512;

/** HWC RGB + our hole mask → the two float tensors. */
export function lamaFeeds(rgb: Buffer, hole: Uint8Array, size: number): { image: ort.Tensor; mask: ort.Tensor } {
  const plane = size * size;
  const chw = new Float32Array(3 * plane);
  const holes = new Float32Array(plane);
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    const isHole = hole[i]! > 0;
    holes[i] = isHole ? 1 : 0;
    if (isHole) continue;
    chw[i] = rgb[p]! / 255;
    chw[plane + i] = rgb[p + 1]! / 255;
    chw[2 * plane + i] = rgb[p + 2]! / 255;
  }
  return { image: new ort.Tensor('float32', chw, [1, 3, size, size]), mask: new ort.Tensor('float32', holes, [1, 1, size, size]) };
}

/**
 * Float CHW → HWC bytes. An output whose largest value is at most 1.5 is taken as 0..1 (scaled by 255),
 * anything larger as 0..255: a 512² crop that is almost all known image never peaks below 1.5/255.
 */
export function lamaOutputToRgb(output: Float32Array, size: number): Buffer {
  const plane = size * size;
  let max = -Infinity;
  for (let i = 0; i < output.length; i++) if (output[i]! > max) max = output[i]!;
  const scale = max <= 1.5 ? 255 : 1;
  const rgb = Buffer.allocUnsafe(3 * plane);
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    for (let c = 0; c < 3; c++) {
      const v = output[c * plane + i]! * scale;
      rgb[p + c] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
  }
  return rgb;
}

export const lamaInpainter: Inpainter = {
  name: 'lama',
  model: LAMA_MODEL,
  async inpaint(image, mask, context) {
    const session = await context.models.session(LAMA_MODEL, { task: 'inpaint' });
    return inpaintInCrop(image, mask, LAMA_SIZE, async (rgb, hole) => {
      const feeds = lamaFeeds(rgb, hole, LAMA_SIZE);
      try {
        const outputs = await session.run(feeds);
        const output = outputs['output'] ?? outputs[session.outputNames[0]!];
        if (output === undefined || output.type !== 'float32' || output.data.length !== 3 * LAMA_SIZE * LAMA_SIZE) {
          throw new InternalError(
            `LaMa returned ${output ? `${output.type} [${output.dims.join(',')}]` : 'nothing'}, expected float32 [1,3,${LAMA_SIZE},${LAMA_SIZE}] "output"`,
          );
        }
        const rgbOut = lamaOutputToRgb(output.data as Float32Array, LAMA_SIZE);
        for (const t of Object.values(outputs)) t.dispose();
        return rgbOut;
      } finally {
        feeds.image.dispose();
        feeds.mask.dispose();
      }
    });
  },
};
