import type { JobPayload } from '../worker/job-payload.ts';

/**
 * Lanes are separate BullMQ queues, each with its own workers, so a minutes-long video job never sits
 * in front of a seconds-long image job. A job goes to the video lane when any step works on or makes a
 * video; everything else is the image lane.
 */
export const LANES = ['image', 'video'] as const;
export type Lane = (typeof LANES)[number];

const VIDEO_TASKS = new Set(['generate_video', 'animate', 'trim', 'speed', 'reverse', 'to_gif', 'extract_frame']);

export function laneOf(payload: JobPayload): Lane {
  const video = payload.steps.some(
    (step) => VIDEO_TASKS.has(step.task) || step.targets.some((t) => 'media' in t && t.media.kind === 'video'),
  );
  return video ? 'video' : 'image';
}

/** The BullMQ queue name of a lane (the deployment's QUEUE_PREFIX is BullMQ's key prefix). */
export function queueNameOf(lane: string): string {
  return `jobs-${lane}`;
}
