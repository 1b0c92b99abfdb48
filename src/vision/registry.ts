import { TASKS, isSessionTask } from '../core/tasks.ts';
import type { Settings } from '../config/settings.ts';
import type { Task } from '../core/tasks.ts';
import { detectSpecialist, groundSpecialist } from './tasks/understand/detect.ts';
import { adjustSpecialist } from './tasks/edit/adjust.ts';
import { backgroundSpecialist } from './tasks/edit/background.ts';
import { removeSpecialist } from './tasks/edit/remove.ts';
import { replaceSpecialist } from './tasks/edit/replace.ts';
import { transformSpecialist } from './tasks/edit/transform.ts';
import { upscaleSpecialist } from './tasks/edit/upscale.ts';
import { notInstalledSpecialist } from './tasks/not-installed.ts';
import { cutoutSpecialist } from './tasks/segment/cutout.ts';
import { segmentAllSpecialist, segmentAtSpecialist } from './tasks/segment/segment-at.ts';
import { segmentSpecialist } from './tasks/segment/segment.ts';
import type { ServingOption, Specialist } from './specialist.ts';
import { answerSpecialist, captionSpecialist } from './tasks/understand/caption-answer.ts';
import { depthSpecialist } from './models/depth-anything.ts';
import { ocrSpecialist } from './tasks/understand/ocr.ts';
import { extractFrameSpecialist, reverseSpecialist, speedSpecialist, toGifSpecialist, trimSpecialist } from './tasks/video/operations.ts';

/** The specialists that do real work in this build. */
export const WORKING_SPECIALISTS: readonly Specialist[] = [
  cutoutSpecialist,
  backgroundSpecialist,
  ocrSpecialist,
  captionSpecialist,
  answerSpecialist,
  detectSpecialist,
  groundSpecialist,
  segmentSpecialist,
  segmentAtSpecialist,
  segmentAllSpecialist,
  depthSpecialist,
  adjustSpecialist,
  transformSpecialist,
  removeSpecialist,
  replaceSpecialist,
  upscaleSpecialist,
  trimSpecialist,
  speedSpecialist,
  reverseSpecialist,
  toGifSpecialist,
  extractFrameSpecialist,
];

/** Every non-session task → its specialist; tasks without one get a specialist that names the model needed. */
export function createSpecialists(): Map<Task, Specialist> {
  const map = new Map<Task, Specialist>();
  for (const specialist of WORKING_SPECIALISTS) for (const task of specialist.tasks) map.set(task, specialist);
  for (const task of TASKS) {
    if (!map.has(task) && !isSessionTask(task)) map.set(task, notInstalledSpecialist(task));
  }
  return map;
}

let shared: Map<Task, Specialist> | undefined;

/** The specialist for a task; undefined for session tasks (undo, help…), which the conversation handles. */
export function specialistFor(task: Task): Specialist | undefined {
  shared ??= createSpecialists();
  return shared.get(task);
}

/** Whether an option is complete: its settings all set, or its model installed. */
function isComplete(option: ServingOption, settings: Partial<Settings>, isInstalled: (model: string) => boolean): boolean {
  return 'settings' in option ? option.settings.every((name) => settings[name] !== undefined) : isInstalled(option.model);
}

/**
 * Whether the task has a specialist that can produce results in this build (weights permitting) and,
 * when settings are given, with them: one that can only call an endpoint needs its URL set. Weights are
 * not looked at (an operator may pull them while the bot runs); `isServedNow` does that.
 */
export function hasWorkingSpecialist(task: Task, settings?: Partial<Settings>): boolean {
  return WORKING_SPECIALISTS.some(
    (s) => s.tasks.includes(task) && (settings === undefined || s.servedBy === undefined || s.servedBy.some((o) => isComplete(o, settings, () => true))),
  );
}

/**
 * Whether the task's specialist has one of its ways to work complete right now (settings set, or a model on
 * disk). True for specialists without `servedBy`: their `models` are checked on their own.
 */
export function isServedNow(task: Task, settings: Partial<Settings>, isInstalled: (model: string) => boolean): boolean {
  const servedBy = specialistFor(task)?.servedBy;
  return servedBy === undefined || servedBy.some((o) => isComplete(o, settings, isInstalled));
}

/** The settings and models that would let the task's specialist work, for "set X or pull Y" answers. */
export function servingOptions(task: Task): readonly ServingOption[] {
  return specialistFor(task)?.servedBy ?? [];
}

/**
 * Whether the task's work is done by an endpoint (the first of its specialist's ways that is complete is a
 * settings one): such a job waits on the network, not on a CPU, and needs no inference thread.
 */
export function servedByEndpoint(task: Task, settings: Partial<Settings>, isInstalled: (model: string) => boolean): boolean {
  const first = specialistFor(task)?.servedBy?.find((o) => isComplete(o, settings, isInstalled));
  return first !== undefined && 'settings' in first;
}
