import type { Task } from '../core/tasks.ts';
import { TASK_TABLE, factsOf, needsTarget, outputKindOf, producesMedia } from '../core/tasks.ts';
import type { MediaKind, PlanContext, TargetRef } from '../core/types.ts';

/**
 * What each task needs from its target and what it leaves behind (the task table's target and output), so
 * the planner can refuse early ("upload an image first", "trimming works on videos") and point chain steps
 * at the right media.
 */

export { needsTarget, producesMedia };

export function isVideoOnly(task: Task): boolean {
  return TASK_TABLE[task].target === 'video';
}

/** The kind of media a task's output is, given the kind of its input. */
export function outputKind(task: Task, input: MediaKind | undefined): MediaKind | undefined {
  return outputKindOf(task, input);
}

/** The default target: the media attached to this turn, else what "it" means. */
export function defaultTarget(context: PlanContext): TargetRef {
  return context.attachments.length > 0 ? 'upload' : 'current';
}

export function hasAnyMedia(context: PlanContext): boolean {
  return context.hasImage || context.hasVideo || context.attachments.length > 0;
}

export function hasKind(context: PlanContext, kind: MediaKind): boolean {
  return (kind === 'image' ? context.hasImage : context.hasVideo) || context.attachments.includes(kind);
}

/** The kind a target refers to, as far as the planner can tell; undefined when it cannot. */
export function kindOf(target: TargetRef, context: PlanContext, stepKinds: readonly (MediaKind | undefined)[]): MediaKind | undefined {
  const step = /^step:(\d+)$/.exec(target);
  if (step) return stepKinds[Number(step[1])];
  if (target.startsWith('image:')) return 'image';
  if (target.startsWith('video:')) return 'video';
  // A batch is pictures from a generator.
  if (target.startsWith('batch:')) return 'image';
  if (target === 'upload') return context.attachments[0];
  if (target === 'current' || target === 'original' || target === 'previous') return context.currentKind ?? context.attachments[0];
  return undefined;
}

export function needsMediaReply(task: Task): string {
  return (
    `To ${TASK_TABLE[task].summary} I need an image or a video to work on: please upload one first. ` +
    'Or ask me to make something new, like "draw a red fox in the snow".'
  );
}

export function missingKindReply(kind: MediaKind): string {
  return `There is no ${kind} in this conversation yet: please upload one first.`;
}

export function videoOnlyReply(task: Task): string {
  return `${factsOf(task).doing ?? task} works on videos, and what we have here is an image. Upload a video (or make one: "animate it") and ask again.`;
}
