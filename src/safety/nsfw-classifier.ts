import sharp from 'sharp';
import type { Settings } from '../config/settings.ts';
import type { MediaKind, SafetyVerdict } from '../core/types.ts';
import { InternalError } from '../errors.ts';
import { type FfmpegTools, readFrames } from '../media/ffmpeg.ts';
import { type LayersModel, tfjs } from '../vision/models/tfjs-runtime.ts';

/**
 * The NSFW classifier that npm ships: nsfwjs' MobileNetV2 (224², 3.6 MB, MIT), run on the project's own
 * tfjs WASM runtime. Only nsfwjs' bundled model files are imported, never its `load()`: that one imports the
 * full `@tensorflow/tfjs` package, which here resolves to another tfjs-core copy (4.11, a peer install) with
 * its own engine and no WASM backend: a second runtime beside tfjs-runtime.ts, and the slow CPU kernels.
 */

/** nsfwjs' output order (its nsfw_classes.js), which the model's softmax layer follows. */
export const NSFW_CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'] as const;
export type NsfwClass = (typeof NSFW_CLASSES)[number];
export type NsfwScores = Record<NsfwClass, number>;

/** The model's input: a 224 × 224 RGB picture, values scaled to 0..1 (nsfwjs divides by 255). */
export const NSFW_INPUT_SIZE = 224;

/** A video is judged on this many frames spread over its length; the worst frame decides. */
export const VIDEO_FRAMES = 3;

/** What the classifier looks at: an image's bytes (any format sharp reads) or a video file on disk. */
export type ClassifiableMedia =
  | { kind: Extract<MediaKind, 'image'>; bytes: Uint8Array }
  | { kind: Extract<MediaKind, 'video'>; file: string; durationSec?: number };

/** Classifies one picture or video; the job runner and the upload path take it as an injectable dependency. */
export type MediaClassifier = (media: ClassifiableMedia, options?: { signal?: AbortSignal }) => Promise<SafetyVerdict>;

/** The NSFW share of the scores: explicit classes in full, "Sexy" (suggestive, not explicit) at half weight. */
export function nsfwScore(scores: NsfwScores): number {
  return Math.min(1, Math.max(0, scores.Porn + scores.Hentai + scores.Sexy / 2));
}

export function verdictOf(scores: NsfwScores, threshold: number): SafetyVerdict {
  const nsfw = nsfwScore(scores);
  return { nsfw, flagged: nsfw >= threshold };
}

let loaded: Promise<LayersModel> | undefined;

async function loadModel(): Promise<LayersModel> {
  // ESM import on purpose: the CommonJS entry takes 7–70 s and gigabytes to load the same base64 bundle.
  const { MobileNetV2Model } = await import('nsfwjs/models/mobilenet_v2');
  const json = (await MobileNetV2Model.modelJson()).default;
  const shards = new Map<string, string>();
  for (const [index, bundle] of MobileNetV2Model.weightBundles.entries()) {
    shards.set(`group1-shard${index + 1}of${MobileNetV2Model.numOfWeightBundles}`, (await bundle()).default);
  }
  const weightSpecs = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest ?? []) {
    weightSpecs.push(...group.weights);
    for (const name of group.paths) {
      const base64 = shards.get(name);
      if (base64 === undefined) throw new InternalError(`nsfwjs' MobileNetV2 lists weight shard ${name}, which its package does not ship.`);
      buffers.push(Buffer.from(base64, 'base64'));
    }
  }
  const weights = Buffer.concat(buffers);
  const { tf, layers } = await tfjs();
  const model = await layers.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs,
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
    }),
  );
  // One zero-input pass builds the WASM kernels, so the first real picture is not the slow one.
  tf.tidy(() => model.predict(tf.zeros([1, NSFW_INPUT_SIZE, NSFW_INPUT_SIZE, 3])));
  return model;
}

/** The model, loaded on first use and kept; concurrent first calls share one load; a failed load is retried next time. */
function nsfwModel(): Promise<LayersModel> {
  loaded ??= loadModel();
  loaded.catch(() => {
    loaded = undefined;
  });
  return loaded;
}

/** Scores for one 224 × 224 RGB frame (3 bytes per pixel, row-major). */
export async function scoreRgb(rgb: Uint8Array): Promise<NsfwScores> {
  if (rgb.length !== NSFW_INPUT_SIZE * NSFW_INPUT_SIZE * 3) {
    throw new InternalError(`The NSFW classifier takes ${NSFW_INPUT_SIZE}×${NSFW_INPUT_SIZE} RGB, received ${rgb.length} bytes.`);
  }
  const model = await nsfwModel();
  const { tf } = await tfjs();
  const output = tf.tidy(() => {
    const input = tf.tensor4d(
      Float32Array.from(rgb, (v) => v / 255),
      [1, NSFW_INPUT_SIZE, NSFW_INPUT_SIZE, 3],
    );
    return model.predict(input) as import('@tensorflow/tfjs-core').Tensor;
  });
  try {
    const probabilities = await output.data();
    return Object.fromEntries(NSFW_CLASSES.map((name, i) => [name, probabilities[i] ?? 0])) as NsfwScores;
  } finally {
    output.dispose();
  }
}

/**
 * A picture squeezed to the model's square input without keeping its aspect, as nsfwjs itself does; the
 * first frame of an animation; transparency over white, which is how chat apps show it; EXIF-rotated as seen.
 */
export async function imageToModelInput(bytes: Uint8Array): Promise<Buffer> {
  return sharp(bytes, { autoOrient: true })
    .flatten({ background: '#ffffff' })
    .resize(NSFW_INPUT_SIZE, NSFW_INPUT_SIZE, { fit: 'fill' })
    .removeAlpha()
    .raw()
    .toBuffer();
}

function rgbaToRgb(rgba: Buffer): Buffer {
  const rgb = Buffer.allocUnsafe((rgba.length / 4) * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i]!;
    rgb[j + 1] = rgba[i + 1]!;
    rgb[j + 2] = rgba[i + 2]!;
  }
  return rgb;
}

/** Up to VIDEO_FRAMES frames spread over the video (the first one included), decoded straight at 224². */
async function videoFrames(ffmpeg: FfmpegTools, file: string, durationSec: number | undefined, signal?: AbortSignal): Promise<Buffer[]> {
  const fps = durationSec !== undefined && durationSec > 0 ? VIDEO_FRAMES / durationSec : 1;
  const frames: Buffer[] = [];
  for await (const frame of readFrames(ffmpeg, file, { width: NSFW_INPUT_SIZE, height: NSFW_INPUT_SIZE, fps, ...(signal ? { signal } : {}) })) {
    frames.push(rgbaToRgb(frame));
    if (frames.length >= VIDEO_FRAMES) break;
  }
  return frames;
}

/** The real classifier: nsfwjs on tfjs WASM, threshold from SAFETY_NSFW_THRESHOLD, ffmpeg for video frames. */
export function createNsfwClassifier(settings: Pick<Settings, 'SAFETY_NSFW_THRESHOLD'>, ffmpeg: FfmpegTools): MediaClassifier {
  return async (media, options = {}) => {
    const frames = media.kind === 'image' ? [await imageToModelInput(media.bytes)] : await videoFrames(ffmpeg, media.file, media.durationSec, options.signal);
    if (frames.length === 0) return { nsfw: 0, flagged: false };
    let worst: SafetyVerdict | undefined;
    for (const frame of frames) {
      const verdict = verdictOf(await scoreRgb(frame), settings.SAFETY_NSFW_THRESHOLD);
      if (worst === undefined || verdict.nsfw > worst.nsfw) worst = verdict;
    }
    return worst!;
  };
}
