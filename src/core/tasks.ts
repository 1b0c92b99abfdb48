/**
 * The task vocabulary: the discrete half of Vitron's hybrid message and the one contract between every
 * planner (baseline parser or language model) and every specialist. Defined here and nowhere else.
 */
export const TASK_FAMILIES = {
  understand: ['caption', 'answer', 'ocr', 'detect', 'ground'],
  segment: ['segment', 'segment_at', 'segment_all', 'cutout'],
  generate: ['generate_image', 'generate_video', 'animate'],
  edit: ['remove', 'replace', 'inpaint', 'edit', 'background', 'style', 'upscale', 'colorize', 'depth', 'adjust', 'transform'],
  video: ['trim', 'speed', 'reverse', 'to_gif', 'extract_frame'],
  session: ['undo', 'redo', 'revert', 'help', 'cancel'],
} as const;

export type TaskFamily = keyof typeof TASK_FAMILIES;
export type Task = (typeof TASK_FAMILIES)[TaskFamily][number];
export type SessionTask = (typeof TASK_FAMILIES)['session'][number];

export const TASKS: readonly Task[] = Object.values(TASK_FAMILIES).flat() as Task[];

export function isTask(value: string): value is Task {
  return (TASKS as readonly string[]).includes(value);
}

export function familyOf(task: Task): TaskFamily {
  for (const [family, tasks] of Object.entries(TASK_FAMILIES) as [TaskFamily, readonly Task[]][]) {
    if (tasks.includes(task)) return family;
  }
  throw new Error(`unknown task ${task}`);
}

export function isSessionTask(task: Task): task is SessionTask {
  return familyOf(task) === 'session';
}

/** Tasks that make something from nothing: they need no target media. */
export const TASKS_WITHOUT_TARGET: readonly Task[] = ['generate_image', 'generate_video', 'help', 'undo', 'redo', 'revert', 'cancel'];

/**
 * Argument names shared by every planner. Task-specific parameters are listed per task below; a planner
 * must not invent others, so that specialists can validate what they receive.
 */
export const SHARED_ARGUMENTS = {
  phrase: 'the object or region referred to ("the dog", "the sign")',
  prompt: 'what to generate or change into ("a sunset", "watercolor")',
  question: 'the question to answer about the media (for answer)',
} as const;

export interface TaskDescription {
  summary: string;
  /** Argument name → meaning (beyond the shared ones that the task uses). */
  args: Record<string, string>;
  example: string;
}

export const TASK_DESCRIPTIONS: Record<Task, TaskDescription> = {
  caption: { summary: 'describe the image or video, or one region of an image', args: { detail: '"short" | "detailed"', box: 'optional [x1, y1, x2, y2] in pixels: describe only this region' }, example: 'what is in this picture?' },
  answer: { summary: 'answer a question about the media', args: { question: SHARED_ARGUMENTS.question }, example: 'what colour is the car?' },
  ocr: { summary: 'read the text in the image, with boxes', args: { question: 'optional question about the text' }, example: 'what does the sign say?' },
  detect: { summary: 'find objects, with boxes, labels and a count', args: { phrase: 'what to look for (optional: everything)', count: 'true when the user asked how many' }, example: 'how many people are there?' },
  ground: { summary: 'locate the thing a phrase refers to', args: { phrase: SHARED_ARGUMENTS.phrase }, example: 'where is the dog?' },
  segment: { summary: 'mask of the thing a phrase refers to', args: { phrase: SHARED_ARGUMENTS.phrase }, example: 'segment the cat' },
  segment_at: { summary: 'mask of the object at a point or box', args: { points: '[[x, y], …] in pixels', box: '[x1, y1, x2, y2] in pixels' }, example: 'segment at 120,80' },
  segment_all: { summary: 'masks of every object', args: {}, example: 'segment everything' },
  cutout: { summary: 'cut out the main subject (or the phrase) on transparency', args: { phrase: 'optional: which subject' }, example: 'cut out the person' },
  generate_image: { summary: 'make a new image from a prompt', args: { prompt: SHARED_ARGUMENTS.prompt, aspect: '"1:1" | "16:9" | …' }, example: 'draw a red fox in the snow' },
  generate_video: { summary: 'make a short video from a prompt', args: { prompt: SHARED_ARGUMENTS.prompt, seconds: 'length' }, example: 'make a video of waves' },
  animate: { summary: 'turn an image into a short video', args: { prompt: 'optional motion description', seconds: 'length' }, example: 'animate it' },
  remove: { summary: 'erase an object and fill the hole', args: { phrase: SHARED_ARGUMENTS.phrase }, example: 'get rid of the dog' },
  replace: { summary: 'replace an object with something else', args: { phrase: SHARED_ARGUMENTS.phrase, prompt: SHARED_ARGUMENTS.prompt }, example: 'replace the dog with a cat' },
  inpaint: { summary: 'fill a masked region', args: { prompt: 'optional: what to fill with' }, example: 'fill the hole' },
  edit: { summary: 'free-form instruction edit', args: { prompt: SHARED_ARGUMENTS.prompt }, example: 'make it look like winter' },
  background: { summary: 'replace the background', args: { color: 'CSS colour or hex', blur: 'blur radius when the background is blurred', prompt: 'a described background (generated)' }, example: 'put it on a white background' },
  style: { summary: 'restyle the whole image', args: { prompt: 'the style ("watercolor")' }, example: 'make it look like a watercolor' },
  upscale: { summary: 'increase resolution', args: { factor: '2 | 3 | 4' }, example: 'upscale it 4x' },
  colorize: { summary: 'colour a black-and-white image', args: {}, example: 'colorize this old photo' },
  depth: { summary: 'depth map as a colour map', args: {}, example: 'show me the depth' },
  adjust: {
    summary: 'colour and tone adjustments with sharp',
    args: {
      brightness: 'multiplier, 1 = unchanged', contrast: 'multiplier', saturation: 'multiplier', hue: 'degrees',
      blur: 'sigma', sharpen: 'sigma', grayscale: 'true', sepia: 'true', invert: 'true',
      pixelate: 'block size in pixels',
      phrase: 'only inside what the phrase names, e.g. "faces" (then only blur or pixelate; strong enough to hide it)',
    },
    example: 'make it brighter',
  },
  transform: {
    summary: 'geometry with sharp',
    args: {
      crop: '{ aspect: "1:1" } or { left, top, width, height } in pixels', resize: '{ width?, height?, scale? }',
      rotate: 'degrees clockwise', flip: '"horizontal" | "vertical"',
    },
    example: 'crop it to a square',
  },
  trim: {
    summary: 'cut a video to a time range',
    args: {
      start: 'seconds (default 0; negative counts back from the end: -3 = 3 s before the end)',
      end: 'seconds (default: the end; negative counts back from the end, so "cut the last 3 seconds" is end -3)',
    },
    example: 'first 5 seconds only',
  },
  speed: { summary: 'change playback speed', args: { factor: '2 = twice as fast' }, example: 'make it twice as fast' },
  reverse: { summary: 'play the video backwards', args: {}, example: 'reverse it' },
  to_gif: { summary: 'turn a video into an animated GIF or WebP', args: { format: '"gif" | "webp"' }, example: 'make it a gif' },
  extract_frame: { summary: 'take one frame of a video as an image', args: { at: 'seconds (one of at / which)', which: '"first" | "last" | "middle"' }, example: 'grab the frame at 3 seconds' },
  undo: { summary: 'go back one edit', args: {}, example: 'undo' },
  redo: { summary: 'redo the edit just undone', args: {}, example: 'redo' },
  revert: { summary: 'go back to the original upload', args: {}, example: 'revert to the original' },
  help: { summary: 'what the bot can do', args: {}, example: 'help' },
  cancel: { summary: 'cancel the running job', args: {}, example: 'cancel' },
};
