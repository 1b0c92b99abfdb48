import type * as ort from 'onnxruntime-node';
import { borrowFloats, runPooled } from './float-pool.ts';
import type { ModelRegistry } from './model-registry.ts';
import { sharpOf, toRaw } from '../ops/raw-image.ts';
import type { RawImage } from '../ops/raw-image.ts';
import { needsPrefilter, resampleToPlanes } from '../ops/resample.ts';
import type { PlaneMaps, Region } from '../ops/resample.ts';
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

// (v/255 − 0.5)/0.5, into B, G, R planes.
const planeOf = (channel: number) => ({ channel, scale: 1 / 127.5, bias: -1 });
const PLANES: PlaneMaps = [planeOf(2), planeOf(1), planeOf(0)];

/** One text line ready to sample: a region of `source`, to be stretched to `width` × HEIGHT. */
interface Line {
  index: number;
  source: RawImage;
  region: Region;
  width: number;
}

async function lineOf(image: RawImage, box: TextBox, index: number): Promise<Line> {
  const m = CROP_MARGIN * (box.y2 - box.y1);
  const left = Math.max(0, Math.floor(box.x1 - m));
  const top = Math.max(0, Math.floor(box.y1 - m));
  const region = {
    left,
    top,
    width: Math.max(1, Math.min(image.width, Math.ceil(box.x2 + m)) - left),
    height: Math.max(1, Math.min(image.height, Math.ceil(box.y2 + m)) - top),
  };
  // Tall, narrow boxes are vertical text: PaddleOCR turns them a quarter counter-clockwise.
  const vertical = region.height >= 1.5 * region.width;
  const [w, h] = vertical ? [region.height, region.width] : [region.width, region.height];
  const width = Math.max(1, Math.min(MAX_WIDTH, Math.ceil((HEIGHT * w) / h)));
  if (!vertical && !needsPrefilter(region, width, HEIGHT)) return { index, source: image, region, width };
  // Rare cases go through sharp: turning, and shrinking too far for plain bilinear sampling.
  let pipeline = sharpOf(image).removeAlpha().extract(region);
  if (vertical) pipeline = sharpOf(await toRaw(pipeline)).rotate(-90);
  const source = await toRaw(pipeline.resize(width, HEIGHT, { fit: 'fill' }));
  return { index, source, region: { left: 0, top: 0, width, height: HEIGHT }, width };
}

async function runBatch(session: ort.InferenceSession, lines: readonly Line[], keys: readonly string[]): Promise<Decoded[]> {
  const width = Math.max(MIN_WIDTH, ...lines.map((l) => l.width));
  const plane = HEIGHT * width;
  const data = borrowFloats(lines.length * 3 * plane);
  // Zeros are the padding: in normalised space that is mid-grey, as in PaddleOCR.
  data.fill(0);
  lines.forEach((line, n) => {
    resampleToPlanes(line.source, line.region, line.width, HEIGHT, { data, offset: n * 3 * plane, rowStride: width, planeStride: plane }, PLANES);
  });
  const result = await runPooled(session, 'x', data, [lines.length, 3, HEIGHT, width]);
  const output = result['softmax_11.tmp_0'] ?? result[session.outputNames[0]!]!;
  const [, steps, classes] = output.dims as [number, number, number];
  const probs = output.data as Float32Array;
  const decoded = lines.map((_, n) => ctcGreedyDecode(probs, n * steps * classes, steps, classes, keys));
  output.dispose();
  return decoded;
}

/** The dictionary file's text → keys, parsed once per file (6 623 lines, re-split on every call otherwise). */
let parsedKeys: { file: string; keys: string[] } | undefined;
function keysOf(file: string): string[] {
  if (parsedKeys?.file !== file) parsedKeys = { file, keys: parseKeys(file) };
  return parsedKeys.keys;
}

/** The text in each box, in the boxes' order. Lines of similar width are batched together to limit padding. */
export async function recognizeText(models: ModelRegistry, image: RawImage, boxes: readonly TextBox[]): Promise<Decoded[]> {
  if (boxes.length === 0) return [];
  const [session, keyFile] = await Promise.all([models.session(OCR_REC_MODEL, { task: 'ocr' }), models.text(OCR_REC_MODEL, 'keys', 'ocr')]);
  const keys = keysOf(keyFile);
  const lines = await Promise.all(boxes.map((box, index) => lineOf(image, box, index)));
  lines.sort((a, b) => a.width - b.width);
  const results: Decoded[] = new Array<Decoded>(boxes.length);
  for (let i = 0; i < lines.length; i += BATCH) {
    const batch = lines.slice(i, i + BATCH);
    const decoded = await runBatch(session, batch, keys);
    for (const [k, line] of batch.entries()) results[line.index] = decoded[k]!;
  }
  return results;
}
