import type { Box, Invocation, MediaInfo, MediaKind, OutputRole, Region } from '../core/types.ts';
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

export interface ProducedMediaRecord {
  sha256: string;
  kind: MediaKind;
  mime: string;
  bytes: number;
  width: number;
  height: number;
  durationSec?: number;
  fps?: number;
  frameCount?: number;
  hasAudio?: boolean;
  role: OutputRole;
  label: string;
}

export interface StepOutcome {
  task: Task;
  media: ProducedMediaRecord[];
  text?: string;
  boxes?: Box[];
}

export interface JobOutcome {
  steps: StepOutcome[];
}
