/**
 * The task table: the discrete half of Vitron's hybrid message and the one contract between every planner
 * (baseline parser or language model), the job layer and every specialist. Each task's facts live in its row
 * here and nowhere else: planner media needs, job steps, queue lanes, the plan schema, argument checks, help
 * text and readiness all read them. Adding a task is one row here, one specialist, one registration.
 */

export type TaskFamily = 'understand' | 'segment' | 'generate' | 'edit' | 'video' | 'session';

/** What a task works on: no media, an image, a video, or either. */
export type TargetKind = 'none' | 'image' | 'video' | 'media';

/**
 * What a task leaves for the next step of a chain: media of its input's kind (`same`), an image, a video,
 * or nothing (`none`: answers, boxes and masks; in "segment the cat and describe it" the description is of
 * the picture, not of the mask).
 */
export type OutputKind = 'none' | 'same' | 'image' | 'video';

/**
 * Queue lanes are separate BullMQ queues with their own workers, so a minutes-long video job never sits in
 * front of a seconds-long image job. A step on a video always goes to the video lane, whatever its row says.
 */
export const LANES = ['image', 'video'] as const;
export type Lane = (typeof LANES)[number];

interface ArgBase {
  /** What the argument means, for planners and help. */
  about: string;
  /** A planner must give it (the plan schema refuses the invocation without it). */
  required?: boolean;
  /**
   * The value used when a planner gives none; the bot writes it into the invocation before queueing, so the
   * job records what really ran ("again" repeats it, quotas count it).
   */
  fallback?: number | string;
}

/**
 * One argument's type and range. Specialists check what they receive against it (numbers may arrive as
 * numeric strings); the plan schema a planner's output is validated with is built from it.
 */
export type ArgSpec =
  /** Words: `finds` says what a phrase is looked up as (a box from a detector, or an outline). */
  | (ArgBase & { kind: 'text'; finds?: 'box' | 'outline' })
  /** `values`: the only values a planner may ask for; a runner still takes min..max to explain the others. */
  | (ArgBase & { kind: 'number'; min: number; max: number; values?: readonly number[] })
  | (ArgBase & { kind: 'flag' })
  | (ArgBase & { kind: 'choice'; choices: readonly string[] })
  /** Seconds as a number or "m:ss"; negative counts back from the end where the task says so. */
  | (ArgBase & { kind: 'seconds'; min: number; max: number })
  /** [x1, y1, x2, y2] in pixels. */
  | (ArgBase & { kind: 'box' })
  /** [[x, y], …] in pixels. */
  | (ArgBase & { kind: 'points' })
  /** A CSS colour name or hex. */
  | (ArgBase & { kind: 'color' })
  /** "16:9". */
  | (ArgBase & { kind: 'aspect' })
  /** { aspect: "1:1" } or { left, top, width, height } in pixels. */
  | (ArgBase & { kind: 'crop' })
  /** { width?, height? } in pixels or { scale }. */
  | (ArgBase & { kind: 'resize' });

/** A rule across arguments that a plan must keep: at least one, or exactly one, of them given. */
export interface ArgRule {
  kind: 'at-least-one' | 'exactly-one';
  of: readonly string[];
  message: string;
}

export interface TaskFacts {
  family: TaskFamily;
  /** One line: what the task does. */
  summary: string;
  /** How a user might ask for it. */
  example: string;
  /** The work as a gerund for messages ("Trimming works on videos"); the task name when absent. */
  doing?: string;
  /** How the bot hands over its result ("Here is the cut-out: image #3."); "Done" when absent. */
  done?: string;
  /**
   * The task in a chat user's words, for "This server can't describe pictures yet — ask its admin to enable
   * captions." when nothing here serves it (src/core/unavailable.ts); the task name when absent.
   */
  ability?: { can: string; enable: string };
  args: Readonly<Record<string, ArgSpec>>;
  rules?: readonly ArgRule[];
  /** A rule across arguments that `rules` cannot say; returns the problem, or undefined. */
  check?: (args: Record<string, unknown>) => string | undefined;
  target: TargetKind;
  output: OutputKind;
  lane: Lane;
  /**
   * The catalog model (models/catalog.ts) to name first when several can serve the task, or when none is
   * installed; the other catalog entries that list the task are alternatives.
   */
  preferredModel?: string;
  /**
   * The way that serves the task is chosen among the ready ones by what `npm run eval` measured on this
   * machine (src/vision/models/measured-quality.ts): `upscaler` or `inpainter`, the choice's name.
   */
  chosenBy?: 'upscaler' | 'inpainter';
  /**
   * Served by a generation engine (src/vision/engines): `always`, or only `with-prompt` (replace, inpaint and
   * background paint the words when given, and work without an engine otherwise). Such steps get a seed
   * before queueing, count against GENERATION_DAILY_QUOTA and have their prompt checked by the safety filter.
   */
  engine?: 'always' | 'with-prompt';
}

/**
 * Argument names shared by every planner. A specialist always accepts them (a planner may pass the phrase
 * a request was about to a task that does not use it); everything else must be in the task's row.
 */
export const SHARED_ARGUMENTS = {
  phrase: 'the object or region referred to ("the dog", "the sign")',
  prompt: 'what to generate or change into ("a sunset", "watercolor")',
  question: 'the question to answer about the media (for answer)',
} as const;

const phraseFinding = (finds: 'box' | 'outline', required = false): ArgSpec => ({
  kind: 'text',
  about: SHARED_ARGUMENTS.phrase,
  finds,
  ...(required ? { required } : {}),
});
const prompt = (about: string = SHARED_ARGUMENTS.prompt, required = true): ArgSpec => ({ kind: 'text', about, ...(required ? { required } : {}) });
/** The answer to "which one?": re-running the invocation with the chosen number. */
const pick: ArgSpec = { kind: 'number', about: 'which of several matches, 1-based, as numbered on the picture', min: 1, max: 100 };
const clipSeconds: ArgSpec = { kind: 'number', about: 'length in seconds', min: 0.1, max: 600 };
const DAY = 24 * 3600;

/** The generation arguments every engine takes; a result records them so "again" makes the same picture. */
const seed: ArgSpec = { kind: 'number', about: 'random seed: the same seed, prompt and settings give the same picture', min: 0, max: 4_294_967_295 };
const negative: ArgSpec = { kind: 'text', about: 'what the picture must not show ("text, watermark")' };
const steps: ArgSpec = { kind: 'number', about: 'denoising steps (more: slower, sometimes finer)', min: 1, max: 50 };
const count = (fallback: number): ArgSpec => ({ kind: 'number', about: 'how many pictures to make (shown as one grid)', min: 1, max: 4, fallback });
const strength: ArgSpec = { kind: 'number', about: 'how far to move away from the picture, 0.05 (a touch) to 1 (only the layout is kept)', min: 0.05, max: 1 };
const generating = { seed, negative, steps } as const;

const none = { target: 'none', output: 'none', lane: 'image' } as const;

export const TASK_TABLE = {
  // ---- understand: answers, boxes and text; no new media for the next step
  caption: {
    family: 'understand',
    summary: 'describe the image or video, or one region of an image',
    ability: { can: 'describe pictures', enable: 'captions' },
    example: 'what is in this picture?',
    args: {
      detail: { kind: 'choice', about: 'how long a description', choices: ['short', 'detailed'] },
      box: { kind: 'box', about: 'describe only this region, [x1, y1, x2, y2] in pixels' },
    },
    target: 'media',
    output: 'none',
    lane: 'image',
    preferredModel: 'florence-2-base',
  },
  answer: {
    family: 'understand',
    summary: 'answer a question about the media',
    ability: { can: 'answer questions about pictures', enable: 'picture questions' },
    example: 'what colour is the car?',
    args: { question: { kind: 'text', about: SHARED_ARGUMENTS.question, required: true } },
    target: 'media',
    output: 'none',
    lane: 'image',
    preferredModel: 'smolvlm-256m',
  },
  ocr: {
    family: 'understand',
    summary: 'read the text in the image, with boxes',
    ability: { can: 'read text in pictures', enable: 'text reading' },
    example: 'what does the sign say?',
    args: { question: { kind: 'text', about: 'a question about the text' } },
    target: 'image',
    output: 'none',
    lane: 'image',
    preferredModel: 'ppocr-v4-det',
  },
  detect: {
    family: 'understand',
    summary: 'find objects, with boxes, labels and a count',
    ability: { can: 'find objects in pictures', enable: 'object detection' },
    example: 'how many people are there?',
    args: {
      phrase: { kind: 'text', about: 'what to look for (absent: everything)', finds: 'box' },
      count: { kind: 'flag', about: 'the user asked how many' },
    },
    target: 'media',
    output: 'none',
    lane: 'image',
    preferredModel: 'centernet-coco',
  },
  ground: {
    family: 'understand',
    summary: 'locate the thing a phrase refers to',
    ability: { can: 'point out things in pictures', enable: 'object detection' },
    example: 'where is the dog?',
    args: { phrase: phraseFinding('box', true), pick },
    target: 'media',
    output: 'none',
    lane: 'image',
    preferredModel: 'centernet-coco',
  },

  // ---- segment: masks and cut-outs
  segment: {
    family: 'segment',
    summary: 'mask of the thing a phrase refers to',
    ability: { can: 'outline things by name', enable: 'outlining' },
    example: 'segment the cat',
    done: 'Here is the mask',
    args: { phrase: phraseFinding('outline', true), pick },
    target: 'image',
    output: 'none',
    lane: 'image',
    preferredModel: 'clipseg-rd64',
  },
  segment_at: {
    family: 'segment',
    summary: 'mask of the object at a point or box',
    ability: { can: 'select the object at a point', enable: 'click-to-select' },
    example: 'segment at 120,80',
    args: {
      points: { kind: 'points', about: 'points on the object, [[x, y], …] in pixels' },
      box: { kind: 'box', about: 'a box around the object, [x1, y1, x2, y2] in pixels' },
    },
    rules: [{ kind: 'at-least-one', of: ['points', 'box'], message: 'segment_at needs points or a box' }],
    target: 'image',
    output: 'none',
    lane: 'image',
    preferredModel: 'slimsam-77',
  },
  segment_all: {
    family: 'segment',
    summary: 'masks of every object',
    ability: { can: 'outline every object in a picture', enable: 'outlining' },
    example: 'segment everything',
    args: {},
    target: 'image',
    output: 'none',
    lane: 'image',
    preferredModel: 'slimsam-77',
  },
  cutout: {
    family: 'segment',
    summary: 'cut out the main subject (or the phrase) on transparency',
    ability: { can: 'cut out subjects', enable: 'cut-outs' },
    example: 'cut out the person',
    done: 'Here is the cut-out',
    args: {
      phrase: { kind: 'text', about: 'which subject (absent: the salient one)', finds: 'outline' },
      pick,
      color: { kind: 'color', about: 'a colour to put the cut-out on instead of transparency' },
    },
    target: 'media',
    output: 'same',
    lane: 'image',
    preferredModel: 'isnet',
  },

  // ---- generate: new media from words or a picture
  generate_image: {
    family: 'generate',
    summary: 'make a new image from a prompt',
    ability: { can: 'make pictures', enable: 'image generation' },
    example: 'draw a red fox in the snow',
    doing: 'Drawing',
    done: 'Here it is',
    args: { prompt: prompt(), aspect: { kind: 'aspect', about: 'width:height, e.g. "16:9"' }, count: count(1), ...generating },
    ...none,
    output: 'image',
    preferredModel: 'sd-turbo',
    engine: 'always',
  },
  generate_video: {
    family: 'generate',
    summary: 'make a short video from a prompt',
    ability: { can: 'make videos', enable: 'video generation' },
    example: 'make a video of waves',
    doing: 'Making a video',
    done: 'Here is the video',
    args: { prompt: prompt(), seconds: clipSeconds, ...generating },
    ...none,
    output: 'video',
    lane: 'video',
    preferredModel: 'svd-img2vid',
    engine: 'always',
  },
  animate: {
    family: 'generate',
    summary: 'turn an image into a short video',
    ability: { can: 'animate pictures', enable: 'animation' },
    example: 'animate it',
    args: {
      prompt: prompt('how it should move', false),
      seconds: clipSeconds,
      motion: {
        kind: 'choice',
        about: 'the camera move: Ken Burns (zoom toward the subject), a zoom or a pan',
        choices: ['ken_burns', 'zoom_in', 'zoom_out', 'pan_left', 'pan_right', 'pan_up', 'pan_down'],
      },
      // Up to 60 accepted so "at 60 fps" is capped with a word, not refused: a camera move draws at most 30.
      fps: { kind: 'number', about: 'frames per second (a camera move draws at most 30)', min: 1, max: 60 },
      // An image → video engine records its seed; Retry and Longer pass it back (a camera move has none to use).
      seed,
    },
    target: 'image',
    output: 'video',
    lane: 'video',
    preferredModel: 'svd-img2vid',
  },

  vary: {
    family: 'generate',
    summary: 'new variations of an image (new seeds, same picture as the start)',
    ability: { can: 'make variations of pictures', enable: 'image generation' },
    example: 'give me some variations',
    doing: 'Making variations',
    done: 'Here are the variations',
    args: { prompt: prompt('what to keep or change in the variations', false), count: count(4), strength, ...generating },
    target: 'image',
    output: 'image',
    lane: 'image',
    preferredModel: 'sd-turbo',
    engine: 'always',
  },
  outpaint: {
    family: 'generate',
    summary: 'extend the picture beyond its edges (zoom out)',
    ability: { can: 'extend pictures beyond their edges', enable: 'image generation' },
    example: 'zoom out',
    doing: 'Extending the picture',
    done: 'Here is the wider picture',
    args: {
      prompt: prompt('what to paint in the new area', false),
      direction: { kind: 'choice', about: 'which side to extend', choices: ['all', 'left', 'right', 'up', 'down'] },
      amount: { kind: 'number', about: 'how much to add, as a share of the side (0.5 = half as much again)', min: 0.1, max: 2 },
      ...generating,
    },
    target: 'image',
    output: 'image',
    lane: 'image',
    preferredModel: 'sd-turbo',
    engine: 'always',
  },

  // ---- edit: a new version of the picture
  remove: {
    family: 'edit',
    chosenBy: 'inpainter',
    summary: 'erase an object and fill the hole',
    ability: { can: 'remove things from pictures', enable: 'object removal' },
    example: 'get rid of the dog',
    done: 'Removed',
    args: { phrase: phraseFinding('outline', true), pick },
    target: 'media',
    output: 'same',
    lane: 'image',
    preferredModel: 'migan',
  },
  replace: {
    family: 'edit',
    summary: 'replace an object with something else',
    ability: { can: 'replace things in pictures', enable: 'object replacement' },
    example: 'replace the dog with a cat',
    args: { phrase: phraseFinding('outline', true), prompt: prompt('what to put in its place (or send a picture of it)', false), pick, ...generating },
    target: 'image',
    output: 'same',
    lane: 'image',
    preferredModel: 'sd-turbo',
    engine: 'with-prompt',
  },
  inpaint: {
    family: 'edit',
    chosenBy: 'inpainter',
    summary: 'fill a masked region',
    ability: { can: 'fill in parts of pictures', enable: 'inpainting' },
    example: 'fill the hole',
    args: {
      prompt: prompt('what to fill with (generated); without it the hole continues its surroundings', false),
      phrase: phraseFinding('outline'),
      ...generating,
    },
    target: 'media',
    output: 'same',
    lane: 'image',
    preferredModel: 'migan',
    engine: 'with-prompt',
  },
  edit: {
    family: 'edit',
    summary: 'free-form instruction edit (of a picture, or of every frame of a video)',
    ability: { can: 'edit pictures from instructions', enable: 'image editing' },
    example: 'make it look like winter',
    doing: 'Editing',
    done: 'Edited',
    args: { prompt: prompt('the instruction ("make it winter")'), strength, ...generating },
    target: 'media',
    output: 'same',
    lane: 'image',
    preferredModel: 'sd-turbo',
    engine: 'always',
  },
  background: {
    family: 'edit',
    summary: 'replace the background',
    ability: { can: 'change backgrounds', enable: 'background replacement' },
    example: 'put it on a white background',
    done: 'Here it is on the new background',
    args: {
      color: { kind: 'color', about: 'the new background colour' },
      blur: { kind: 'number', about: 'blur radius (sigma) of the background', min: 0.3, max: 100 },
      prompt: prompt('a described background (generated)', false),
      ...generating,
    },
    rules: [{ kind: 'exactly-one', of: ['color', 'blur', 'prompt'], message: 'background needs exactly one of color, blur or prompt' }],
    target: 'media',
    output: 'same',
    lane: 'image',
    preferredModel: 'isnet',
    engine: 'with-prompt',
  },
  style: {
    family: 'edit',
    summary: 'restyle the whole image or video',
    ability: { can: 'restyle pictures', enable: 'image generation' },
    example: 'make it look like a watercolor',
    doing: 'Restyling',
    done: 'Restyled',
    args: { prompt: prompt('the style ("watercolor")'), strength, ...generating },
    target: 'media',
    output: 'same',
    lane: 'image',
    preferredModel: 'sd-turbo',
    engine: 'always',
  },
  upscale: {
    family: 'edit',
    chosenBy: 'upscaler',
    summary: 'increase resolution',
    ability: { can: 'upscale pictures', enable: 'upscaling' },
    example: 'upscale it 4x',
    done: 'Upscaled',
    args: { factor: { kind: 'number', about: 'how many times larger', min: 1, max: 16, values: [2, 3, 4], required: true } },
    target: 'media',
    output: 'same',
    lane: 'image',
    preferredModel: 'swin2sr-x2',
  },
  colorize: {
    family: 'edit',
    summary: 'colour a black-and-white image',
    ability: { can: 'colour black-and-white pictures', enable: 'colourising' },
    example: 'colorize this old photo',
    doing: 'Colourising',
    done: 'Colourised',
    args: { prompt: prompt('hints about the colours ("the dress is red")', false), strength, ...generating },
    target: 'image',
    output: 'same',
    lane: 'image',
    preferredModel: 'sd-turbo',
    engine: 'always',
  },
  depth: {
    family: 'edit',
    summary: 'depth map as a colour map',
    ability: { can: 'make depth maps', enable: 'depth maps' },
    example: 'show me the depth',
    args: {},
    target: 'image',
    output: 'same',
    lane: 'image',
    preferredModel: 'depth-anything-v2-small',
  },
  adjust: {
    family: 'edit',
    summary: 'colour and tone adjustments with sharp',
    example: 'make it brighter',
    done: 'Adjusted',
    args: {
      brightness: { kind: 'number', about: 'multiplier, 1 = unchanged', min: 0.01, max: 10 },
      contrast: { kind: 'number', about: 'multiplier, 1 = unchanged', min: 0, max: 10 },
      saturation: { kind: 'number', about: 'multiplier, 0 = grey, 1 = unchanged', min: 0, max: 10 },
      hue: { kind: 'number', about: 'rotation in degrees', min: -360, max: 360 },
      blur: { kind: 'number', about: 'sigma', min: 0.3, max: 1000 },
      sharpen: { kind: 'number', about: 'sigma', min: 0.000001, max: 10 },
      pixelate: { kind: 'number', about: 'block size in pixels', min: 2, max: 512 },
      grayscale: { kind: 'flag', about: 'black and white' },
      sepia: { kind: 'flag', about: 'sepia tone' },
      invert: { kind: 'flag', about: 'negative' },
      phrase: {
        kind: 'text',
        about: 'only inside what the phrase names, e.g. "faces" (then only blur or pixelate; strong enough to hide it)',
        finds: 'box',
      },
    },
    rules: [
      {
        kind: 'at-least-one',
        of: ['brightness', 'contrast', 'saturation', 'hue', 'blur', 'sharpen', 'pixelate', 'grayscale', 'sepia', 'invert', 'phrase'],
        message: 'adjust needs at least one adjustment',
      },
    ],
    target: 'media',
    output: 'same',
    lane: 'image',
  },
  transform: {
    family: 'edit',
    summary: 'geometry with sharp',
    example: 'crop it to a square',
    done: 'Done',
    args: {
      crop: { kind: 'crop', about: '{ aspect: "1:1" } or { left, top, width, height } in pixels' },
      resize: { kind: 'resize', about: '{ width?, height? } in pixels or { scale }' },
      rotate: { kind: 'number', about: 'degrees clockwise', min: -3600, max: 3600 },
      flip: { kind: 'choice', about: 'mirror it', choices: ['horizontal', 'vertical'] },
    },
    rules: [{ kind: 'at-least-one', of: ['crop', 'resize', 'rotate', 'flip'], message: 'transform needs crop, resize, rotate or flip' }],
    target: 'media',
    output: 'same',
    lane: 'image',
  },

  // ---- video: ffmpeg on videos
  trim: {
    family: 'video',
    doing: 'Trimming',
    summary: 'cut a video to a time range',
    example: 'first 5 seconds only',
    done: 'Trimmed',
    args: {
      start: { kind: 'seconds', about: 'default 0; negative counts back from the end: -3 = 3 s before the end', min: -DAY, max: DAY },
      end: { kind: 'seconds', about: 'default: the end; negative counts back from the end, so "cut the last 3 seconds" is end -3', min: -DAY, max: DAY },
    },
    rules: [{ kind: 'at-least-one', of: ['start', 'end'], message: 'trim needs a start or an end' }],
    check: (a) => {
      const { start, end } = a as { start?: number; end?: number };
      // Times of different signs are measured from different ends; only same-sign times can be out of order.
      const ordered = start === undefined || end === undefined || Math.sign(start || 1) !== Math.sign(end || 1) || end > start;
      return ordered ? undefined : 'trim end must come after start';
    },
    target: 'video',
    output: 'same',
    lane: 'video',
  },
  speed: {
    family: 'video',
    doing: 'Changing the speed',
    summary: 'change playback speed',
    example: 'make it twice as fast',
    done: 'Changed the speed',
    args: { factor: { kind: 'number', about: '2 = twice as fast, 0.5 = half speed', min: 0.1, max: 10, required: true } },
    target: 'video',
    output: 'same',
    lane: 'video',
  },
  reverse: {
    family: 'video',
    doing: 'Playing backwards',
    summary: 'play the video backwards',
    example: 'reverse it',
    done: 'Reversed',
    args: {},
    target: 'video',
    output: 'same',
    lane: 'video',
  },
  to_gif: {
    family: 'video',
    doing: 'Making a GIF',
    summary: 'turn a video into an animated GIF or WebP',
    example: 'make it a gif',
    done: 'Here is the animation',
    args: { format: { kind: 'choice', about: 'the animated format', choices: ['gif', 'webp'], required: true } },
    target: 'video',
    output: 'video',
    lane: 'video',
  },
  extract_frame: {
    family: 'video',
    doing: 'Taking a frame',
    summary: 'take one frame of a video as an image',
    example: 'grab the frame at 3 seconds',
    done: 'Here is the frame',
    args: {
      at: { kind: 'seconds', about: 'the time of the frame', min: 0, max: DAY },
      which: { kind: 'choice', about: 'a frame by its place', choices: ['first', 'last', 'middle'] },
    },
    rules: [{ kind: 'exactly-one', of: ['at', 'which'], message: 'extract_frame needs exactly one of at or which' }],
    target: 'video',
    output: 'image',
    lane: 'video',
  },

  // ---- session: answered by the conversation at once, never queued
  undo: { family: 'session', summary: 'go back one edit', example: 'undo', args: {}, ...none },
  redo: { family: 'session', summary: 'redo the edit just undone', example: 'redo', args: {}, ...none },
  revert: { family: 'session', summary: 'go back to the original upload', example: 'revert to the original', args: {}, ...none },
  help: { family: 'session', summary: 'what the bot can do', example: 'help', args: {}, ...none },
  cancel: { family: 'session', summary: 'cancel the running job', example: 'cancel', args: {}, ...none },
} as const satisfies Record<string, TaskFacts>;

export type Task = keyof typeof TASK_TABLE;
export type SessionTask = { [T in Task]: (typeof TASK_TABLE)[T]['family'] extends 'session' ? T : never }[Task];

/** Every task, in the table's order (families together, as help lists them). */
export const TASKS: readonly Task[] = Object.keys(TASK_TABLE) as Task[];

export const TASK_FAMILIES: readonly TaskFamily[] = ['understand', 'segment', 'generate', 'edit', 'video', 'session'];

export function factsOf(task: Task): TaskFacts {
  return TASK_TABLE[task];
}

export function isTask(value: string): value is Task {
  return Object.hasOwn(TASK_TABLE, value);
}

function familyOf(task: Task): TaskFamily {
  return TASK_TABLE[task].family;
}

export function tasksOf(family: TaskFamily): Task[] {
  return TASKS.filter((task) => TASK_TABLE[task].family === family);
}

export function isSessionTask(task: Task): task is SessionTask {
  return familyOf(task) === 'session';
}

/** Tasks that make something from nothing, or act on the conversation: they need no target media. */
export const TASKS_WITHOUT_TARGET: readonly Task[] = TASKS.filter((task) => TASK_TABLE[task].target === 'none');

export function needsTarget(task: Task): boolean {
  return TASK_TABLE[task].target !== 'none';
}

/** The media kinds a task works on (none for tasks without a target). */
export function acceptedKinds(task: Task): readonly ('image' | 'video')[] {
  const target = TASK_TABLE[task].target;
  return target === 'none' ? [] : target === 'media' ? ['image', 'video'] : [target];
}

/** Does the task leave new media that the next step of a chain should work on? */
/** Whether this invocation's work is done by a generation engine (its row's `engine`, and a prompt where that is the condition). */
export function usesEngine(task: Task, args: Readonly<Record<string, unknown>>): boolean {
  const engine = (TASK_TABLE[task] as TaskFacts).engine;
  return engine === 'always' || (engine === 'with-prompt' && typeof args.prompt === 'string' && args.prompt.trim() !== '');
}

export function producesMedia(task: Task): boolean {
  return TASK_TABLE[task].output !== 'none';
}

/** The kind of media a task leaves, given the kind of its input (the input's kind when it leaves none). */
export function outputKindOf<K extends 'image' | 'video' | undefined>(task: Task, input: K): 'image' | 'video' | K {
  const output = TASK_TABLE[task].output;
  return output === 'image' || output === 'video' ? output : input;
}

/** Tasks that choose among found objects, and so take the answer to "which one?" as `pick`. */
export function takesPick(task: Task): boolean {
  return 'pick' in TASK_TABLE[task].args;
}

/** The argument spec of one argument of a task, or undefined when the task does not take it. */
export function argSpec(task: Task, name: string): ArgSpec | undefined {
  const args: Readonly<Record<string, ArgSpec>> = TASK_TABLE[task].args;
  return Object.hasOwn(args, name) ? args[name] : undefined;
}
