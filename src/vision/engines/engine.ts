/**
 * The one interface every generation engine speaks: the in-process SD-Turbo pipeline (onnxruntime-node),
 * a ComfyUI server the operator points at, or an OpenAI-compatible Images API. Generative specialists
 * (generate_image, edit, style, colorize, vary, outpaint, replace/inpaint/background with words) build a
 * GenerationRequest and hand it to the engine chosen for their task (engine-choice.ts); they never know
 * which engine answered except through GenerationResult.engine / .model, which the bot records with the
 * media so that "again" and "same seed" can reproduce it.
 */

/**
 * What the engine is asked to do, independent of the task that asks:
 * - `text-to-image`: a new picture from the prompt;
 * - `image-to-image`: the input picture re-imagined towards the prompt; `strength` 0..1 says how far
 *   (0 = unchanged, 1 = only the composition's noise is left);
 * - `inpaint`: repaint where `mask` is white, keep the rest; outpainting is inpainting on a padded canvas;
 * - `instruct`: an instruction edit ("make it winter") by an engine that understands instructions
 *   (FLUX.1 Kontext, Qwen-Image-Edit, gpt-image-1); engines without one fall back to image-to-image.
 */
export type GenerationOperation = 'text-to-image' | 'image-to-image' | 'inpaint' | 'instruct';

export const GENERATION_OPERATIONS: readonly GenerationOperation[] = ['text-to-image', 'image-to-image', 'inpaint', 'instruct'];

/** The engines this build has, in the default order of preference (GENERATION_ENGINES overrides it). */
export const ENGINE_NAMES = ['comfyui', 'images-api', 'sd-turbo'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export interface GenerationRequest {
  operation: GenerationOperation;
  /**
   * The task that asked (generate_image, style, colorize, outpaint…): ComfyUI picks its workflow file by it,
   * other engines only log it.
   */
  task: string;
  prompt: string;
  negativePrompt?: string;
  /** Image i of the batch uses seed + i, so each image of a grid can be reproduced on its own. */
  seed: number;
  /** Denoising steps; an engine that takes none (an Images API) ignores it. Absent: the engine's default. */
  steps?: number;
  /** Output size in pixels; engines round to what their model takes (SD-Turbo: multiples of 8) and say so in the result. */
  width: number;
  height: number;
  /** Images to make, 1..4. */
  count: number;
  /** The input picture (PNG or any format sharp reads), for every operation but text-to-image. */
  image?: Buffer;
  /** Same size as `image`, single channel or RGB(A): white (≥ 128) = repaint, black = keep. For `inpaint`. */
  mask?: Buffer;
  /** image-to-image (and inpaint) strength 0..1. Absent: the engine's default for the operation. */
  strength?: number;
  /**
   * The invocation's embeddings (src/core/embeddings.ts): an engine that runs a text encoder itself (SD-Turbo)
   * uses the prompt's, when one was made by its very encoder; the others ignore them.
   */
  embeddings?: Readonly<Record<string, readonly number[]>>;
}

export interface GeneratedImage {
  /** PNG bytes. */
  png: Buffer;
  /** The seed that reproduces exactly this image (request seed + its index). */
  seed: number;
}

export interface GenerationResult {
  images: GeneratedImage[];
  engine: EngineName;
  /** The model or workflow that made them ("sd-turbo", "comfyui:generate_image.json", "gpt-image-1"). */
  model: string;
  /** The steps really run (an engine's default when the request gave none); absent when the engine has none. */
  steps?: number;
  width: number;
  height: number;
}

export interface GenerationCallbacks {
  /** Step i of n (1-based), with a note for the user ("step 2/4", "queued at ComfyUI, position 3"). */
  progress(step: number, total: number, note: string): void;
  /** A preview of the picture so far (PNG or JPEG bytes), when the engine has one; callers rate-limit. */
  preview?(image: Buffer): void;
  /** Aborting cancels the work: the engine stops at the next step or removes its job from the server. */
  signal: AbortSignal;
}

export interface GenerationEngine {
  readonly name: EngineName;
  /** Whether this engine can do the operation for the task (a ComfyUI without a workflow for it cannot). */
  supports(operation: GenerationOperation, task: string): boolean;
  generate(request: GenerationRequest, callbacks: GenerationCallbacks): Promise<GenerationResult>;
}

/**
 * Video work, on engines that have a video model (ComfyUI with a video workflow):
 * - `text-to-video`: a clip from the prompt;
 * - `image-to-video`: the input picture set in motion (it is the first frame), the prompt says how;
 * - `video-to-video`: the input clip re-imagined towards the prompt, `strength` 0..1 as for pictures.
 */
export type VideoOperation = 'text-to-video' | 'image-to-video' | 'video-to-video';

export const VIDEO_OPERATIONS: readonly VideoOperation[] = ['text-to-video', 'image-to-video', 'video-to-video'];

export interface VideoRequest {
  operation: VideoOperation;
  /** The task that asked (generate_video, animate, edit, style): ComfyUI picks its workflow file by it. */
  task: string;
  prompt: string;
  negativePrompt?: string;
  seed: number;
  steps?: number;
  /** Frame size in pixels; engines round to what their model takes and report what they made. */
  width: number;
  height: number;
  /** Frames to make; video models take particular counts (Wan: 4k + 1), so engines may round. */
  frames: number;
  fps: number;
  /** The first frame, for image-to-video. */
  image?: Buffer;
  /** The input clip (MP4), for video-to-video. */
  video?: Buffer;
  strength?: number;
}

export interface GeneratedVideo {
  /** MP4, WebM or animated WebP/GIF bytes, as the engine saved them. */
  bytes: Buffer;
  mime: 'video/mp4' | 'video/webm' | 'image/webp' | 'image/gif' | 'image/png';
  /** What the request asked for; the saved file is the truth (callers probe it). */
  frames: number;
  fps: number;
  seed: number;
}

export interface VideoResult {
  video: GeneratedVideo;
  engine: EngineName;
  /** "comfyui:image_to_video.json". */
  model: string;
  steps?: number;
  width: number;
  height: number;
}

/** An engine with a video model: the generation interface plus the video calls (the same callbacks, in steps). */
export interface VideoEngine extends GenerationEngine {
  supportsVideo(operation: VideoOperation, task: string): boolean;
  generateVideo(request: VideoRequest, callbacks: GenerationCallbacks): Promise<VideoResult>;
}

export function isVideoEngine(engine: GenerationEngine): engine is VideoEngine {
  return typeof (engine as Partial<VideoEngine>).generateVideo === 'function' && typeof (engine as Partial<VideoEngine>).supportsVideo === 'function';
}
