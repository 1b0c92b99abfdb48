import type { Task } from './tasks.ts';

export type MediaKind = 'image' | 'video';

/**
 * A symbolic reference to media, as a planner writes it; the conversation resolves it to a media id.
 * - `current`: what "it"/"that" means: the media the conversation is working on now
 * - `upload`: the media attached to this very turn (the first one)
 * - `original`: the upload that the current media descends from
 * - `previous`: the media before the current one in its lineage ("the previous one")
 * - `image:N` / `video:N`: the N-th image/video of the conversation (1-based), `image:last`, `video:last`
 * - `media:N`: the N-th media of any kind
 * - `step:K`: the output of invocation K (0-based) of the same plan, for chains
 * - `batch:N`: the N-th picture (1-based, in the order made) of the latest batch: the results of one step that
 *   made several pictures ("draw four foxes", "give me 3 variations"). "the second one", "U2" and "vary the
 *   first one" after a grid mean these, not image #N of the conversation; a planner writes it only when
 *   PlanContext.lastBatch says the batch is still what the user is looking at.
 */
export type TargetRef = string;

export interface Region {
  /** [x1, y1, x2, y2] in pixels of the target media */
  box?: [number, number, number, number];
  points?: [number, number][];
  // A mask image is not a region field: it is the step's second target ("image:2"), which is how remove
  // and inpaint read it and how a planner, which knows references and not media ids, can name it.
}

/**
 * Vitron's hybrid message: a discrete instruction (task, targets, args) plus optional continuous
 * embeddings that a specialist consumes directly (e.g. a phrase's text embedding).
 */
export interface Invocation {
  task: Task;
  targets: TargetRef[];
  args: Record<string, unknown>;
  region?: Region;
  embeddings?: Record<string, number[]>;
}

export interface Plan {
  invocations: Invocation[];
  /** Set when there is nothing to run: a question back, a refusal with suggestions, or help text. */
  reply?: string;
}

/** What a planner may know about the conversation when it reads a turn. */
export interface PlanContext {
  /** Kinds of media attached to this turn, in order. */
  attachments: MediaKind[];
  /** Does the conversation already hold an image / a video (before this turn)? */
  hasImage: boolean;
  hasVideo: boolean;
  /** The kind of the current media ("it"), if any. */
  currentKind?: MediaKind;
  /** The invocations of the last turn that ran, for "do the same to the video" / "again". */
  lastInvocations?: Invocation[];
  /**
   * How many pictures the latest batch holds (2–4), while the conversation has not moved on from it: only work
   * on its pictures came after it (so "U2" then "U3" both mean the grid). Absent otherwise, and then "the
   * second one" keeps its usual meanings (an answer to "which one?", or media #2).
   */
  lastBatch?: number;
  /** What a language-model planner reads of the conversation besides the kinds; the rule-based planner ignores it. */
  conversation?: ConversationFacts;
  /** The tasks that can run here now (readiness), for a planner that chooses among tasks. */
  runnable?: readonly Task[];
  /** The picture the turn is about (its attached image, else the current one) as JPEG, for a planner that looks. */
  picture?: () => Promise<Uint8Array | undefined>;
}

/** The conversation as a planner may read it: facts and earlier words, all of it data, never instructions. */
export interface ConversationFacts {
  /** User-facing media, oldest first, each by the reference a plan uses for it ("image:2"). */
  media: { ref: string; kind: MediaKind; width: number; height: number; role: string; label?: string; madeFrom?: string; current: boolean }[];
  /** The latest turns, oldest first; bot replies may quote text read from pictures. */
  turns: { from: 'user' | 'bot'; text: string }[];
}

export interface Planner {
  readonly name: string;
  /** Give it PlanContext.conversation, runnable and picture (they cost queries and reads; the rule-based planner needs none). */
  readonly readsConversation?: boolean;
  plan(text: string, context: PlanContext): Promise<Plan>;
}

/** A media item as everything past the media layer sees it. */
export interface MediaInfo {
  id: string;
  sha256: string;
  kind: MediaKind;
  mime: string;
  bytes: number;
  width: number;
  height: number;
  durationSec?: number;
  frameCount?: number;
  fps?: number;
  hasAudio?: boolean;
  /** How a generated picture was made, so that "again" and "same seed" reproduce it. */
  generation?: GenerationFacts;
  /** The NSFW classifier's verdict, when SAFETY is not off. */
  safety?: SafetyVerdict;
}

/** What made a generated or word-edited picture: enough to make the same bytes again. */
export interface GenerationFacts {
  prompt: string;
  negativePrompt?: string;
  seed: number;
  steps?: number;
  strength?: number;
  width: number;
  height: number;
  engine: string;
  model: string;
}

/** The NSFW classifier's score 0..1 and whether it crossed SAFETY_NSFW_THRESHOLD. */
export interface SafetyVerdict {
  nsfw: number;
  flagged: boolean;
}

export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  label?: string;
  score?: number;
  text?: string;
}

/**
 * "Which one?": a request matched several things and the specialist asks instead of guessing. `options` are
 * short labels for the numbered choices, in the order the numbers were drawn on the picture. Answering with a
 * number re-runs the same invocation with `args.pick` = that number (1-based).
 */
export interface Choice {
  question: string;
  options: string[];
}

/** Role of a media item that a job produced, so that adapters know how to show it. */
export type OutputRole = 'result' | 'mask' | 'overlay' | 'comparison' | 'frame' | 'grid';

export interface JobProgress {
  /** 0..1 over the whole job */
  fraction: number;
  step: number;
  steps: number;
  note: string;
  /** A picture of the work so far (generation previews), in the blob store. */
  preview?: { sha256: string; mime: string };
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
