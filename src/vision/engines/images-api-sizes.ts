/**
 * What each Images API model accepts, so the engine asks for a size the server takes instead of failing
 * with a 400: the fixed size lists of the OpenAI models (openai-node's ImageGenerateParams and the API
 * reference), free sizes for the GPT image models that take them, and the common GPT-image list for any
 * other model name (OpenAI-compatible servers copy that list more often than any other).
 */

export interface ImagesApiModelFacts {
  /** Sizes as the API spells them ("1024x1536"); empty when any multiple of `freeStep` in bounds is accepted. */
  sizes: readonly string[];
  /** Images one call may return: dall-e-3 makes one per call, so the engine calls it `count` times. */
  maxPerCall: number;
  /**
   * Whether `response_format: 'b64_json'` must be sent: the DALL·E models answer with URLs by default, while
   * the GPT image models always send base64 and reject the parameter.
   */
  askForBase64: boolean;
  /** Whether the model has an edit endpoint: dall-e-3 only generates. */
  edits: boolean;
}

const GPT_IMAGE_SIZES = ['1024x1024', '1536x1024', '1024x1536'] as const;

/**
 * gpt-image-2 and later take any WIDTHxHEIGHT whose sides are multiples of 16 and whose aspect ratio lies
 * within 1:3..3:1; above 2560x1440 pixels the API calls the sizes experimental, so we stay at or under it.
 */
const FREE_STEP = 16;
const FREE_MAX_PIXELS = 2560 * 1440;
const FREE_MIN_SIDE = 256;
const FREE_MAX_RATIO = 3;

export function imagesApiModelFacts(model: string): ImagesApiModelFacts {
  if (model === 'dall-e-2') return { sizes: ['256x256', '512x512', '1024x1024'], maxPerCall: 10, askForBase64: true, edits: true };
  if (model === 'dall-e-3') return { sizes: ['1024x1024', '1792x1024', '1024x1792'], maxPerCall: 1, askForBase64: true, edits: false };
  if (/^gpt-image-[2-9]/.test(model)) return { sizes: [], maxPerCall: 10, askForBase64: false, edits: true };
  return { sizes: GPT_IMAGE_SIZES, maxPerCall: 10, askForBase64: false, edits: true };
}

/**
 * The accepted size closest to width×height: first by aspect ratio (a portrait request stays portrait),
 * then by pixel count. Free-size models get the request itself, clamped and rounded to their rules.
 */
export function closestSize(facts: ImagesApiModelFacts, width: number, height: number): { width: number; height: number } {
  if (facts.sizes.length === 0) return freeSize(width, height);
  const wantedRatio = Math.log(width / height);
  const wantedPixels = Math.log(width * height);
  let best = { width: 0, height: 0, score: Number.POSITIVE_INFINITY };
  for (const size of facts.sizes) {
    const [w, h] = size.split('x').map(Number) as [number, number];
    // Aspect ratio dominates: a 1:1 asked for must not become 16:9 because it has the nearer pixel count.
    const score = Math.abs(Math.log(w / h) - wantedRatio) * 10 + Math.abs(Math.log(w * h) - wantedPixels);
    if (score < best.score) best = { width: w, height: h, score };
  }
  return { width: best.width, height: best.height };
}

function freeSize(width: number, height: number): { width: number; height: number } {
  let w = width;
  let h = height;
  if (w / h > FREE_MAX_RATIO) w = h * FREE_MAX_RATIO;
  if (h / w > FREE_MAX_RATIO) h = w * FREE_MAX_RATIO;
  const shrink = Math.min(1, Math.sqrt(FREE_MAX_PIXELS / (w * h)));
  const grow = Math.max(1, FREE_MIN_SIDE / Math.min(w * shrink, h * shrink));
  const scale = shrink * grow;
  // Rounding down keeps the pixel cap; rounding to 16 can nudge the ratio, never past 3:1 by more than a step.
  const round = (v: number) => Math.max(FREE_STEP, Math.floor((v * scale) / FREE_STEP) * FREE_STEP);
  return { width: round(w), height: round(h) };
}

export function sizeParameter(size: { width: number; height: number }): string {
  return `${size.width}x${size.height}`;
}
