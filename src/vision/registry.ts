import { TASKS, isSessionTask } from '../core/tasks.ts';
import type { Settings } from '../config/settings.ts';
import type { Task } from '../core/tasks.ts';
import { detectSpecialist, groundSpecialist } from './detect/detect-specialist.ts';
import { adjustSpecialist } from './edit/adjust.ts';
import { backgroundSpecialist } from './edit/background.ts';
import { removeSpecialist } from './edit/remove.ts';
import { replaceSpecialist } from './edit/replace.ts';
import { transformSpecialist } from './edit/transform.ts';
import { upscaleSpecialist } from './edit/upscale.ts';
import { notInstalledSpecialist } from './not-installed.ts';
import { cutoutSpecialist } from './segment/cutout.ts';
import { segmentAllSpecialist, segmentAtSpecialist } from './segment/segment-at.ts';
import { segmentSpecialist } from './segment/segment-phrase.ts';
import type { Specialist } from './specialist.ts';
import { captionAnswerSpecialist } from './understand/caption-answer.ts';
import { depthSpecialist } from './understand/depth.ts';
import { ocrSpecialist } from './understand/ocr.ts';
import { extractFrameSpecialist, reverseSpecialist, speedSpecialist, toGifSpecialist, trimSpecialist } from './video/operations.ts';

/** The specialists that do real work in this build. */
export const WORKING_SPECIALISTS: readonly Specialist[] = [
  cutoutSpecialist,
  backgroundSpecialist,
  ocrSpecialist,
  captionAnswerSpecialist,
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

/**
 * Whether the task has a specialist that can produce results in this build (weights permitting) and,
 * when settings are given, with them: one that calls an endpoint needs its URL set.
 */
export function hasWorkingSpecialist(task: Task, settings?: Partial<Settings>): boolean {
  return WORKING_SPECIALISTS.some(
    (s) => s.tasks.includes(task) && (settings === undefined || (s.requiredSettings ?? []).every((name) => settings[name] !== undefined)),
  );
}
