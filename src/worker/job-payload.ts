import type { Box, Choice, Invocation, MediaInfo, OutputRole, Region } from '../core/types.ts';
import type { Task } from '../core/tasks.ts';

/** A target as the worker receives it: media already resolved by the conversation, or an earlier step's result. */
export type StepTarget = { media: MediaInfo } | { step: number };

export interface JobStep {
  task: Task;
  targets: StepTarget[];
  args: Record<string, unknown>;
  region?: Region;
  embeddings?: Record<string, number[]>;
  /** The planner's invocation, kept for lineage and "do the same again". */
  invocation: Invocation;
}

/** Everything a worker needs to run a job, on this machine or another: plain JSON, no ids to look up. */
export interface JobPayload {
  jobId: string;
  conversationId: string;
  steps: JobStep[];
}

/** An output in the blob store with its facts; it gets a media id when the bot records it. */
export interface ProducedMediaRecord extends Omit<MediaInfo, 'id'> {
  role: OutputRole;
  label: string;
}

export interface StepOutcome {
  task: Task;
  media: ProducedMediaRecord[];
  text?: string;
  boxes?: Box[];
  /** "Which one?": the specialist found several matches and asks instead of guessing. */
  choice?: Choice;
}

export interface JobOutcome {
  steps: StepOutcome[];
}
