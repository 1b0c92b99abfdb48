import type { JobPayload } from '../core/job.ts';
import { TASK_TABLE, type Lane } from '../core/tasks.ts';

export { LANES, type Lane } from '../core/tasks.ts';

/** A job goes to the video lane when any step's task belongs there or any step works on a video. */
export function laneOf(payload: JobPayload): Lane {
  const video = payload.steps.some(
    (step) => TASK_TABLE[step.invocation.task].lane === 'video' || step.targets.some((t) => 'media' in t && t.media.kind === 'video'),
  );
  return video ? 'video' : 'image';
}

/** The BullMQ queue name of a lane (the deployment's QUEUE_PREFIX is BullMQ's key prefix). */
export function queueNameOf(lane: string): string {
  return `jobs-${lane}`;
}
