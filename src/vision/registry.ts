import { TASKS, isSessionTask } from '../core/tasks.ts';
import type { Task } from '../core/tasks.ts';
import { detectSpecialist, groundSpecialist } from './tasks/understand/detect.ts';
import { adjustSpecialist } from './tasks/edit/adjust.ts';
import { backgroundSpecialist } from './tasks/edit/background.ts';
import { removeSpecialist } from './tasks/edit/remove.ts';
import { replaceSpecialist } from './tasks/edit/replace.ts';
import { transformSpecialist } from './tasks/edit/transform.ts';
import { upscaleSpecialist } from './tasks/edit/upscale.ts';
import { notInstalledSpecialist } from './tasks/not-installed.ts';
import { colorizeSpecialist, instructionEditSpecialist, styleSpecialist } from './tasks/edit/generative-edit.ts';
import { editVideoByWords, type VideoEditTask } from './tasks/video/edit-video.ts';
import { generateVideoSpecialist } from './tasks/video/generate-video.ts';
import { generateImageSpecialist } from './tasks/generate/generate-image.ts';
import { outpaintSpecialist } from './tasks/generate/outpaint.ts';
import { varySpecialist } from './tasks/generate/vary.ts';
import { cutoutSpecialist } from './tasks/segment/cutout.ts';
import { segmentAllSpecialist, segmentAtSpecialist } from './tasks/segment/segment-at.ts';
import { segmentSpecialist } from './tasks/segment/segment.ts';
import type { Specialist } from './specialist.ts';
import { answerSpecialist, captionSpecialist } from './tasks/understand/caption-answer.ts';
import { depthSpecialist } from './tasks/edit/depth.ts';
import { ocrSpecialist } from './tasks/understand/ocr.ts';
import { animateSpecialist } from './tasks/video/animate.ts';
import { extractFrameSpecialist, reverseSpecialist, speedSpecialist, toGifSpecialist, trimSpecialist } from './tasks/video/operations.ts';

/**
 * Which specialist serves each task: the one registration a new specialist needs. What each task is (its
 * arguments, targets, output) is the task table's (src/core/tasks.ts); whether it can run here is readiness.ts.
 */

/**
 * `edit` / `style` for pictures and videos alike: a picture goes to the picture specialist, a video to the
 * video edit. Joined here because the two live in sibling task folders, which never import each other.
 */
export function forPicturesAndVideos(task: VideoEditTask, pictures: Specialist): Specialist {
  return {
    tasks: pictures.tasks,
    models: pictures.models,
    ...(pictures.servedBy ? { servedBy: pictures.servedBy } : {}),
    run: (input, context) => (input.media[0]?.info.kind === 'video' ? editVideoByWords(task, input, context) : pictures.run(input, context)),
  };
}

export const editMediaSpecialist = forPicturesAndVideos('edit', instructionEditSpecialist);
export const styleMediaSpecialist = forPicturesAndVideos('style', styleSpecialist);

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
  animateSpecialist,
  generateImageSpecialist,
  varySpecialist,
  outpaintSpecialist,
  editMediaSpecialist,
  styleMediaSpecialist,
  colorizeSpecialist,
  generateVideoSpecialist,
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
