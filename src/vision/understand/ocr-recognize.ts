import * as ort from 'onnxruntime-node';
import type { ModelRegistry } from '../model-registry.ts';
import { sharpOf, toRaw } from '../raw-image.ts';
import type { RawImage } from '../raw-image.ts';
import { ctcGreedyDecode, parseKeys } from './ctc.ts';
import type { Decoded } from './ctc.ts';
import type { TextBox } from './ocr-detect.ts';

/**
 * PP-OCRv4 recognition (SVTR): `x` [N,3,48,W], (v/255−0.5)/0.5 in BGR, each crop resized to height 48
 * keeping its aspect and zero-padded on the right to the batch width → `softmax_11.tmp_0` [N,T,6625].
 */

export const OCR_REC_MODEL = 'ppocr-v4-rec';
const HEIGHT = 48;
/** PaddleOCR's minimum batch width (320/48 aspect); narrower crops are padded up to it. */
const MIN_WIDTH = 320;
/** Wider crops are squeezed to this: beyond it the network sees more padding than text (≈ 3 200/48 ≈ 66:1). */
const MAX_WIDTH = 3200;
const BATCH = 8;
/**
 * Extra context around each detected box, as a fraction of its height. DB boxes hug the glyphs; with no
 * margin the recogniser drops word gaps ("HELLOWORLD"); 10 % restores them without reading neighbours.
 */
const CROP_MARGIN = 0.1;

const NORM = Float32Array.from({ length: 256 }, (_, v) => v / 127.5 - 1);

interface Crop {
  index: number;
  pixels: RawImage;
}

async function cropLine(image: RawImage, box: TextBox): Promise<RawImage> {
  const m = CROP_MARGIN * (box.y2 - box.y1);
  const left = Math.max(0, Math.floor(box.x1 - m));
  const top = Math.max(0, Math.floor(box.y1 - m));
  const width = Math.max(1, Math.min(image.width, Math.ceil(box.x2 + m)) - left);
  const height = Math.max(1, Math.min(image.height, Math.ceil(box.y2 + m)) - top);
  let pipeline = sharpOf(image).removeAlpha().extract({ left, top, width, height });
  let w = width;
  let h = height;
  // Tall, narrow boxes are vertical text: PaddleOCR turns them a quarter counter-clockwise.
  if (height >= 1.5 * width) {
    pipeline = sharpOf(await toRaw(pipeline)).rotate(-90);
    [w, h] = [h, w];
  }
  const targetW = Math.max(1, Math.min(MAX_WIDTH, Math.ceil((HEIGHT * w) / h)));
  return toRaw(pipeline.resize(targetW, HEIGHT, { fit: 'fill' }));
}

async function runBatch(session: ort.InferenceSession, crops: Crop[], keys: readonly string[]): Promise<Decoded[]> {
  const width = Math.max(MIN_WIDTH, ...crops.map((c) => c.pixels.width));
  const plane = HEIGHT * width;
  // Zeros are the padding: in normalised space that is mid-grey, as in PaddleOCR.
  const data = new Float32Array(crops.length * 3 * plane);
  crops.forEach((crop, n) => {
    const { data: px, width: cw } = crop.pixels;
    const base = n * 3 * plane;
    for (let y = 0; y < HEIGHT; y++) {
      for (let x = 0, p = y * cw * 3, o = y * width; x < cw; x++, p += 3, o++) {
        data[base + o] = NORM[px[p + 2]!]!;
        data[base + plane + o] = NORM[px[p + 1]!]!;
        data[base + 2 * plane + o] = NORM[px[p]!]!;
      }
    }
  });
  const input = new ort.Tensor('float32', data, [crops.length, 3, HEIGHT, width]);
  const result = await session.run({ x: input });
  const output = result['softmax_11.tmp_0'] ?? result[session.outputNames[0]!]!;
  const [, steps, classes] = output.dims as [number, number, number];
  const probs = output.data as Float32Array;
  const decoded = crops.map((_, n) => ctcGreedyDecode(probs, n * steps * classes, steps, classes, keys));
  input.dispose();
  output.dispose();
  return decoded;
}

/** The text in each box, in the boxes' order. Crops of similar aspect are batched together to limit padding. */
export async function recognizeText(models: ModelRegistry, image: RawImage, boxes: readonly TextBox[]): Promise<Decoded[]> {
  if (boxes.length === 0) return [];
  const [session, keyFile] = await Promise.all([models.session(OCR_REC_MODEL, { task: 'ocr' }), models.text(OCR_REC_MODEL, 'keys', 'ocr')]);
  const keys = parseKeys(keyFile);
  const crops: Crop[] = await Promise.all(boxes.map(async (box, index) => ({ index, pixels: await cropLine(image, box) })));
  crops.sort((a, b) => a.pixels.width - b.pixels.width);
  const results: Decoded[] = new Array<Decoded>(boxes.length);
  for (let i = 0; i < crops.length; i += BATCH) {
    const batch = crops.slice(i, i + BATCH);
    const decoded = await runBatch(session, batch, keys);
    batch.forEach((crop, k) => (results[crop.index] = decoded[k]!));
  }
  return results;
}
