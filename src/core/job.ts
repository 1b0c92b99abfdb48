import type { Task } from './tasks.ts';
import type { Box, Choice, Invocation, MediaInfo, OutputRole } from './types.ts';

/**
 * The job contract between the bot, the queue and the workers: plain JSON, so a worker on another machine
 * needs no database access to run a job.
 */

/** A target as the worker receives it: media already resolved by the conversation, or an earlier step's result. */
export type StepTarget = { media: MediaInfo } | { step: number };

/** One invocation of the plan with its targets resolved; the invocation itself is kept for lineage and "again". */
export interface JobStep {
  invocation: Invocation;
  targets: StepTarget[];
}

/** Everything a worker needs to run a job, on this machine or another. */
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
