import type { Settings } from '../config/settings.ts';
import type { Task } from '../core/tasks.ts';
import type { Box, Choice, GenerationFacts, Invocation, MediaInfo, MediaKind, OutputRole } from '../core/types.ts';
import type { FfmpegTools } from '../media/ffmpeg.ts';
import type { MediaLimits } from '../media/limits.ts';
import type { ModelRegistry } from './models/model-registry.ts';
import type { EngineFactories } from './engines/engine-choice.ts';

/**
 * The contract between the job runner and every specialist, and the types the layers of src/vision pass
 * each other. Types only: every layer may import it (docs/architecture.md).
 */

export type { Choice };

/** One target media as a specialist receives it: its facts, its bytes, and a local file path for ffmpeg. */
export interface LoadedMedia {
  info: MediaInfo;
  bytes: Buffer;
  path: string;
}

/** The planner's invocation (task, args, region, embeddings) with its targets loaded, in the planner's order. */
export type SpecialistInput = Omit<Invocation, 'targets'> & {
  /** Most tasks use media[0]. */
  media: LoadedMedia[];
};

export interface SpecialistContext {
  settings: Settings;
  models: ModelRegistry;
  ffmpeg: FfmpegTools;
  limits: MediaLimits;
  /** fraction 0..1 of this specialist's own work; the worker maps it onto the job. */
  progress(fraction: number, note: string): void;
  signal: AbortSignal;
  /** A private scratch directory, removed after the job. */
  tmpDir: string;
  /** A picture of the work so far (generation previews); the job runner stores it and reports it with the progress. */
  preview?(image: Buffer): void;
  /** How generation engines are made; tests inject fakes, production uses engines/engines.ts. */
  engines?: EngineFactories;
}

export interface ProducedMedia {
  bytes: Buffer;
  kind: MediaKind;
  mime: string;
  role: OutputRole;
  /** Short human label ("cut-out", "mask", "before / after"). */
  label: string;
  /** For generated pictures: what made them (prompt, seed, engine…), recorded with the media. */
  generation?: GenerationFacts;
}

export interface SpecialistResult {
  /** The first item with role 'result' becomes the conversation's current media. */
  media: ProducedMedia[];
  text?: string;
  boxes?: Box[];
  /**
   * Set when the request matched several things and the specialist will not guess ("remove the dog" with
   * three dogs): the question, and one short label per numbered option, in the order the numbers were
   * drawn. Answering with a number re-runs the same invocation with `args.pick` = that number (1-based).
   */
  choice?: Choice;
}

/**
 * One way a specialist can work: an endpoint whose settings are all set, or one installed model. A model way
 * with a `stopgap` works but gives a lesser answer (caption from the detectors instead of a captioning
 * model): the task counts as ready, and readiness tells the operator in those words how to get the real thing.
 */
export type ServingOption = { settings: readonly (keyof Settings)[] } | { model: string; stopgap?: string };

export interface Specialist {
  readonly tasks: readonly Task[];
  /** Catalog names of the models it needs (empty for sharp/ffmpeg-only specialists). */
  readonly models: readonly string[];
  /**
   * Other ways than `models` to do the work, for a specialist that can use either an endpoint or local
   * weights (caption: a vision chat server, or Florence-2), in the order it prefers them: the task is ready
   * when any one is complete, and the first complete one is used. While none is, the task is refused before
   * queueing, like a missing model. Absent: `models` decide.
   */
  readonly servedBy?: readonly ServingOption[];
  run(input: SpecialistInput, context: SpecialistContext): Promise<SpecialistResult>;
}
