import type { Box } from '../../../core/types.ts';
import { UnsupportedMediaForTaskError } from '../../../errors.ts';
import { drawBoxes } from '../../ops/draw-boxes.ts';
import { checkArgs } from '../../ops/args.ts';
import type { ModelRegistry } from '../../models/model-registry.ts';
import { decodeImage } from '../../ops/raw-image.ts';
import type { RawImage } from '../../ops/raw-image.ts';
import type { Specialist } from '../../specialist.ts';
import { detectText, OCR_DET_MODEL } from '../../models/ocr-detect.ts';
import { OCR_REC_MODEL, recognizeText } from '../../models/ocr-recognize.ts';
import { FLORENCE_MODEL, runFlorence } from '../../models/florence.ts';
import { readingOrder } from '../../ops/reading-order.ts';

/** Recognitions below this mean character probability are noise (PaddleOCR's drop_score). */
const DROP_SCORE = 0.5;

export interface OcrLine {
  text: string;
  boxes: Box[];
}

export interface OcrResult {
  lines: OcrLine[];
  boxes: Box[];
}

/** Detect → recognise → reading order. Exposed apart from the specialist for the benchmark. */
export async function readText(models: ModelRegistry, image: RawImage): Promise<OcrResult> {
  const found = await detectText(models, image);
  const decoded = await recognizeText(models, image, found);
  const kept: Box[] = [];
  found.forEach((b, i) => {
    const d = decoded[i]!;
    const text = d.text.trim();
    if (text !== '' && d.score >= DROP_SCORE) kept.push({ x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2, text, score: Number(d.score.toFixed(4)) });
  });
  const lines = readingOrder(kept).map((items) => ({ text: items.map((b) => b.text).join(' '), boxes: items }));
  return { lines, boxes: lines.flatMap((l) => l.boxes) };
}

/**
 * Florence-2's `<OCR_WITH_REGION>`: each line with its quad, as boxes (the quads' bounds) in reading order.
 * The second reader, for when PP-OCR finds nothing (handwriting, stylised lettering) and Florence-2 is pulled.
 */
export async function readTextWithFlorence(models: ModelRegistry, image: RawImage, signal?: AbortSignal): Promise<OcrResult> {
  const result = await runFlorence(models, image, '<OCR_WITH_REGION>', undefined, signal, { task: 'ocr' });
  const regions = result.parsed.kind === 'ocr' ? result.parsed.regions : [];
  const boxes: Box[] = regions
    .filter((r) => r.text !== '')
    .map((r) => {
      const xs = r.quad.map((p) => p[0]);
      const ys = r.quad.map((p) => p[1]);
      return {
        x1: Math.max(0, Math.min(...xs)),
        y1: Math.max(0, Math.min(...ys)),
        x2: Math.min(image.width, Math.max(...xs)),
        y2: Math.min(image.height, Math.max(...ys)),
        text: r.text,
      };
    });
  const lines = readingOrder(boxes).map((items) => ({ text: items.map((b) => b.text).join(' '), boxes: items }));
  return { lines, boxes: lines.flatMap((l) => l.boxes) };
}

/**
 * PP-OCRv4 text reading with boxes (Florence-2 reads again when it finds nothing and is pulled); a question
 * about the text is answered by quoting what was read.
 */
export const ocrSpecialist: Specialist = {
  tasks: ['ocr'],
  models: [OCR_DET_MODEL, OCR_REC_MODEL],
  async run(input, context) {
    const media = input.media[0];
    if (media === undefined || media.info.kind !== 'image') throw new UnsupportedMediaForTaskError(input.task, media?.info.kind ?? 'nothing', ['image']);
    checkArgs('ocr', input.args);
    const image = await decodeImage(media.bytes, context.limits);
    context.progress(0.1, 'finding text');
    let { lines, boxes } = await readText(context.models, image);
    if (lines.length === 0 && context.models.isInstalled(FLORENCE_MODEL)) {
      context.progress(0.5, 'reading again with Florence-2');
      ({ lines, boxes } = await readTextWithFlorence(context.models, image, context.signal));
    }
    context.progress(0.9, 'drawing boxes');
    const overlay = await drawBoxes(
      image,
      boxes.map((b, i) => ({ ...b, label: String(i + 1) })),
    );
    const body = lines.map((l) => l.text).join('\n');
    const question = typeof input.args.question === 'string' ? input.args.question.trim() : '';
    let text: string;
    if (lines.length === 0) text = 'I could not find any readable text in this image.';
    else if (question !== '') text = `You asked: "${question}". The text in the image reads:\n${body}`;
    else text = body;
    return { text, boxes, media: [{ bytes: overlay, kind: 'image', mime: 'image/png', role: 'overlay', label: 'text boxes' }] };
  },
};
