import type { Box } from '../../core/types.ts';

/**
 * Florence-2's generated text → boxes, quads and polygons in image pixels, the way its processor's
 * `post_process_generation` reads it (transformers' `Florence2PostProcessor`; Transformers.js implements
 * only the box and OCR cases, and no polygons). Coordinates are `<loc_N>` tokens, N in 0..999: the image is
 * cut into 1000 bins per axis and a token stands for its bin's centre, `(N + 0.5) / 1000 * size`.
 *
 *   boxes     `dog<loc_52><loc_333><loc_932><loc_774>` (x1 y1 x2 y2; several boxes may follow one phrase)
 *   OCR       `text<loc_x1><loc_y1>…<loc_x4><loc_y4>` (a quad of 8 tokens per line)
 *   polygons  `<poly><loc_x><loc_y>…<sep><loc_x><loc_y>…</poly>` (pairs; `<sep>` between the parts of one object)
 *
 * Coordinates stay fractional (the Python original's tensors were cast to int only in later versions).
 */

export interface ImageSize {
  width: number;
  height: number;
}

export type Point = [x: number, y: number];

export interface OcrRegion {
  text: string;
  /** Four corners in the order the model wrote them (clockwise from top-left for upright text). */
  quad: [Point, Point, Point, Point];
}

export interface PolygonInstance {
  label: string;
  /** One object may come in several parts (split by `<sep>`). */
  polygons: Point[][];
}

export type FlorenceParse =
  | { kind: 'text'; text: string }
  | { kind: 'boxes'; boxes: (Box & { label: string })[] }
  | { kind: 'ocr'; regions: OcrRegion[] }
  | { kind: 'polygons'; instances: PolygonInstance[] };

type PostProcessing =
  | 'pure_text'
  | 'ocr'
  | 'description_with_bboxes'
  | 'bboxes'
  | 'phrase_grounding'
  | 'polygons'
  | 'description_with_polygons'
  | 'description_with_bboxes_or_polygons';

/** Florence-2's task tokens and how their answers are read (its `tasks_answer_post_processing_type`). */
export const FLORENCE_TASKS = {
  '<OCR>': 'pure_text',
  '<OCR_WITH_REGION>': 'ocr',
  '<CAPTION>': 'pure_text',
  '<DETAILED_CAPTION>': 'pure_text',
  '<MORE_DETAILED_CAPTION>': 'pure_text',
  '<OD>': 'description_with_bboxes',
  '<DENSE_REGION_CAPTION>': 'description_with_bboxes',
  '<CAPTION_TO_PHRASE_GROUNDING>': 'phrase_grounding',
  '<REFERRING_EXPRESSION_SEGMENTATION>': 'polygons',
  '<REGION_TO_SEGMENTATION>': 'polygons',
  '<OPEN_VOCABULARY_DETECTION>': 'description_with_bboxes_or_polygons',
  '<REGION_TO_CATEGORY>': 'pure_text',
  '<REGION_TO_DESCRIPTION>': 'pure_text',
  '<REGION_TO_OCR>': 'pure_text',
  '<REGION_PROPOSAL>': 'bboxes',
} as const satisfies Record<string, PostProcessing>;

export type FlorenceTask = keyof typeof FLORENCE_TASKS;

const BINS = 1000;

/**
 * Phrases grounding never returns as objects: pronouns and filler the model tags along with real nouns
 * (the original post-processor's black list).
 */
const GROUNDING_BLACK_LIST = new Set([
  'it',
  'I',
  'me',
  'mine',
  'you',
  'your',
  'yours',
  'he',
  'him',
  'his',
  'she',
  'her',
  'hers',
  'they',
  'them',
  'their',
  'theirs',
  'one',
  'oneself',
  'we',
  'us',
  'our',
  'ours',
  'its',
  'myself',
  'yourself',
  'himself',
  'herself',
  'itself',
  'ourselves',
  'yourselves',
  'themselves',
  'this',
  'that',
  'these',
  'those',
  'who',
  'whom',
  'whose',
  'which',
  'what',
  'all',
  'another',
  'any',
  'anybody',
  'anyone',
  'anything',
  'each',
  'everybody',
  'everyone',
  'everything',
  'few',
  'many',
  'nobody',
  'none',
  'several',
  'some',
  'somebody',
  'someone',
  'something',
  'each other',
  'one another',
  'the image',
  'image',
  'images',
  'the',
  'a',
  'an',
  'a group',
  'other objects',
  'lots',
  'a set',
]);

/** A phrase is the text before the first coordinate or box-like tag. */
const PHRASE = /^\s*(.*?)(?=<od>|<\/od>|<box>|<\/box>|<bbox>|<\/bbox>|<loc_)/;
const POLYGON_PHRASE = /^\s*(.*?)(?=<od>|<\/od>|<box>|<\/box>|<bbox>|<\/bbox>|<loc_|<poly>)/;
const BOX = /<loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)>/g;
const LOC = /<loc_(\d+)>/g;
const OCR_LINE = /(.+?)<loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)>/g;

/** The centre of bin `bin` (0..999) along an axis of `size` pixels. */
export function dequantize(bin: number, size: number): number {
  return ((bin + 0.5) * size) / BINS;
}

/** The bin a pixel coordinate falls in: how region prompts (`<REGION_TO_DESCRIPTION>`) are written. */
export function quantize(pixel: number, size: number): number {
  return Math.min(BINS - 1, Math.max(0, Math.floor(pixel / (size / BINS))));
}

/** `<loc_…>` tokens for a pixel box, for the REGION_TO_* prompts. */
export function locTokens(box: Pick<Box, 'x1' | 'y1' | 'x2' | 'y2'>, size: ImageSize): string {
  return [quantize(box.x1, size.width), quantize(box.y1, size.height), quantize(box.x2, size.width), quantize(box.y2, size.height)]
    .map((bin) => `<loc_${bin}>`)
    .join('');
}

/** Sequence markers the decoder leaves in when special tokens are not skipped. */
function stripSpecialTokens(text: string): string {
  return text.replaceAll('<s>', '').replaceAll('</s>', '').replaceAll('<pad>', '');
}

/** Drops characters outside ASCII, as the original does to labels (stray bytes of split multi-byte tokens). */
function ascii(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is all of ASCII, control characters included on purpose.
  return text.replace(/[^\x00-\x7f]/g, '');
}

function boxFrom(match: RegExpMatchArray, size: ImageSize): Box {
  const [x1, y1, x2, y2] = [1, 2, 3, 4].map((i) => Number(match[i]));
  return { x1: dequantize(x1!, size.width), y1: dequantize(y1!, size.height), x2: dequantize(x2!, size.width), y2: dequantize(y2!, size.height) };
}

/** A run of text followed by 4 or more `<loc_>` tokens (or only the tokens, when phrases may be empty). */
function phraseRuns(text: string, allowEmptyPhrase: boolean): string[] {
  const pattern = allowEmptyPhrase ? /(?:<loc_\d+>){4,}/g : /[^<]+(?:<loc_\d+>){4,}/g;
  return [...stripSpecialTokens(text).matchAll(pattern)].map((m) => m[0]);
}

/** Labelled boxes: `<OD>`, `<DENSE_REGION_CAPTION>`; with empty phrases allowed, `<REGION_PROPOSAL>`. */
export function parseBoxes(
  text: string,
  size: ImageSize,
  options: { allowEmptyPhrase?: boolean; blackList?: ReadonlySet<string> } = {},
): (Box & { label: string })[] {
  const out: (Box & { label: string })[] = [];
  for (const run of phraseRuns(text, options.allowEmptyPhrase ?? false)) {
    const phraseText = run.replace('<ground>', '').replace('<obj>', '');
    const phrase = PHRASE.exec(phraseText)?.[1]?.trim();
    if (phrase === undefined || options.blackList?.has(phrase)) continue;
    const label = ascii(phrase);
    for (const match of phraseText.matchAll(BOX)) out.push({ ...boxFrom(match, size), label });
  }
  return out;
}

/** `<CAPTION_TO_PHRASE_GROUNDING>`: boxes per phrase of the caption, pronouns and filler left out. */
export function parsePhraseGrounding(text: string, size: ImageSize): (Box & { label: string })[] {
  return parseBoxes(text, size, { blackList: GROUNDING_BLACK_LIST });
}

/** `<OCR_WITH_REGION>`: each line of text with its quad. */
export function parseOcrRegions(text: string, size: ImageSize): OcrRegion[] {
  const regions: OcrRegion[] = [];
  for (const match of stripSpecialTokens(text).matchAll(OCR_LINE)) {
    const bins = match.slice(2, 10).map(Number);
    const point = (i: number): Point => [dequantize(bins[2 * i]!, size.width), dequantize(bins[2 * i + 1]!, size.height)];
    regions.push({ text: match[1]!.trim(), quad: [point(0), point(1), point(2), point(3)] });
  }
  return regions;
}

/**
 * Polygons: `<REFERRING_EXPRESSION_SEGMENTATION>` and `<REGION_TO_SEGMENTATION>` (no phrase), and the
 * polygon form of `<OPEN_VOCABULARY_DETECTION>` (a phrase before each object). Each `<poly>…</poly>` is one
 * object; without them the whole run is one. An odd coordinate left at the end of a part is dropped.
 */
export function parsePolygons(text: string, size: ImageSize, options: { allowEmptyPhrase?: boolean } = {}): PolygonInstance[] {
  const allowEmpty = options.allowEmptyPhrase ?? false;
  const token = String.raw`(?:<loc_\d+>|<sep>|<poly>|<\/poly>)`;
  const pattern = new RegExp(allowEmpty ? `${token}{4,}` : `[^<]+${token}{4,}`, 'g');
  const instances: PolygonInstance[] = [];
  for (const [run] of stripSpecialTokens(text).matchAll(pattern)) {
    const withoutFirstLoc = run.replace(/^<loc_\d+>/, '');
    if (withoutFirstLoc === '' && !allowEmpty) continue;
    const phrase = POLYGON_PHRASE.exec(withoutFirstLoc)?.[1]?.trim();
    if (phrase === undefined) continue;
    const objects = run.includes('<poly>') && run.includes('</poly>') ? [...run.matchAll(/<poly>(.*?)<\/poly>/g)].map((m) => m[1]!) : [run];
    for (const object of objects) {
      const polygons: Point[][] = [];
      // A part is a run of coordinates ending at <sep> or at the end of the object.
      for (const part of object.matchAll(/((?:<loc_\d+>)+)(?:<sep>|$)/g)) {
        const bins = [...part[1]!.matchAll(LOC)].map((m) => Number(m[1]));
        const points: Point[] = [];
        for (let i = 0; i + 1 < bins.length; i += 2) points.push([dequantize(bins[i]!, size.width), dequantize(bins[i + 1]!, size.height)]);
        polygons.push(points);
      }
      if (polygons.length > 0) instances.push({ label: phrase, polygons });
    }
  }
  return instances;
}

/** Reads Florence-2's answer to `task` for an image of `size`; unknown tasks are read as plain text, as upstream. */
export function parseFlorence(text: string, task: FlorenceTask | string, size: ImageSize): FlorenceParse {
  const type: PostProcessing = (FLORENCE_TASKS as Record<string, PostProcessing>)[task] ?? 'pure_text';
  switch (type) {
    case 'pure_text':
      return { kind: 'text', text: stripSpecialTokens(text).trim() };
    case 'ocr':
      return { kind: 'ocr', regions: parseOcrRegions(text, size) };
    case 'description_with_bboxes':
      return { kind: 'boxes', boxes: parseBoxes(text, size) };
    case 'bboxes':
      return { kind: 'boxes', boxes: parseBoxes(text, size, { allowEmptyPhrase: true }) };
    case 'phrase_grounding':
      return { kind: 'boxes', boxes: parsePhraseGrounding(text, size) };
    case 'polygons':
      return { kind: 'polygons', instances: parsePolygons(text, size, { allowEmptyPhrase: true }) };
    case 'description_with_polygons':
      return { kind: 'polygons', instances: parsePolygons(text, size) };
    case 'description_with_bboxes_or_polygons':
      // The model answers one way or the other, never both: <poly> decides.
      return text.includes('<poly>') ? { kind: 'polygons', instances: parsePolygons(text, size) } : { kind: 'boxes', boxes: parseBoxes(text, size) };
  }
}
