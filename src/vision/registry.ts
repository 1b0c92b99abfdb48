import { TASKS, isSessionTask } from '../core/tasks.ts';
import type { Task } from '../core/tasks.ts';
import { adjustSpecialist } from './edit/adjust.ts';
import { backgroundSpecialist } from './edit/background.ts';
import { transformSpecialist } from './edit/transform.ts';
import { notInstalledSpecialist } from './not-installed.ts';
import { cutoutSpecialist } from './segment/cutout.ts';
import type { Specialist } from './specialist.ts';
import { ocrSpecialist } from './understand/ocr.ts';
import { extractFrameSpecialist, reverseSpecialist, speedSpecialist, toGifSpecialist, trimSpecialist } from './video/operations.ts';

/** The specialists that do real work in this build. */
export const WORKING_SPECIALISTS: readonly Specialist[] = [
  cutoutSpecialist,
  backgroundSpecialist,
  ocrSpecialist,
  adjustSpecialist,
  transformSpecialist,
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

/** Whether the task has a specialist that can produce results in this build (weights permitting). */
export function hasWorkingSpecialist(task: Task): boolean {
  return WORKING_SPECIALISTS.some((s) => s.tasks.includes(task));
}
