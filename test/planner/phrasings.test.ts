import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/tasks.ts';
import { TASKS_WITHOUT_TARGET } from '../../src/core/tasks.ts';
import type { Invocation, MediaKind, Plan, PlanContext } from '../../src/core/types.ts';
import { BaselinePlanner, planTurn } from '../../src/planner/baseline-planner.ts';
import { contextFor } from '../../src/planner/context.ts';
import { parsePlan } from '../../src/planner/plan-schema.ts';
import { suggestionsFor } from '../../src/planner/suggestions.ts';
import { GENERATION_HELD_OUT, GENERATION_SEEN, type GenRow, situation } from './generation-phrasings.ts';

/**
 * The phrasing table: what a user types → what the planner must emit. `with` is the media the
 * conversation already holds and "it" refers to ("none": an empty conversation). A row expects either
 * invocations (targets default to ["current"], or [] for tasks that need none) or a reply.
 */

type With = MediaKind | 'none';
interface Expected {
  task: Task;
  args?: Record<string, unknown>;
  targets?: string[];
}
type Row = [With, string, Expected[] | RegExp];

const one = (task: Task, args?: Record<string, unknown>, targets?: string[]): Expected[] => [{ task, args, targets }];
const near = (value: number) => expect.closeTo(value, 1);

const NEEDS_MEDIA = /upload/i;
const NOT_UNDERSTOOD = /didn't understand/i;
const VIDEO_ONLY = /works on videos/i;

const ROWS: Row[] = [
  // understand
  ['image', 'what does the sign say?', one('ocr', { question: 'what does the sign say?' })],
  ['image', 'read the text', one('ocr', {})],
  ['image', "what's written on the sign?", one('ocr', { question: "what's written on the sign?" })],
  ['image', 'transcribe the text please', one('ocr', {})],
  ['image', 'extract all the text', one('ocr', {})],
  ['image', 'what is in this picture?', one('caption', {})],
  ['image', 'describe it', one('caption', {})],
  ['image', "what's this?", one('caption', {})],
  ['image', 'describe the image in detail', one('caption', { detail: 'detailed' })],
  ['image', 'give me a short caption', one('caption', { detail: 'short' })],
  ['image', 'what do you see?', one('caption', {})],
  ['video', 'what happens in the video?', one('caption', {}, ['video:last'])],
  ['image', 'what color is the car?', one('answer', { question: 'what color is the car?' })],
  ['image', 'who is the man in the hat?', one('answer', { question: 'who is the man in the hat?' })],
  ['image', 'describe the dog', one('answer', { question: 'describe the dog' })],
  ['image', 'is there a dog?', one('answer', { question: 'is there a dog?' })],
  ['image', 'why is the sky orange', one('answer', { question: 'why is the sky orange?' })],
  ['image', 'how many people are there?', one('detect', { phrase: 'people', count: true })],
  ['image', 'how many dogs do you see?', one('detect', { phrase: 'dogs', count: true })],
  ['image', 'count the cars', one('detect', { phrase: 'cars', count: true })],
  ['image', 'can you tell me how many birds there are?', one('detect', { phrase: 'birds', count: true })],
  ['image', 'find the faces', one('detect', { phrase: 'faces' })],
  ['image', 'detect all the cars', one('detect', { phrase: 'cars' })],
  ['image', 'detect objects', one('detect', {})],
  ['image', 'where is the dog?', one('ground', { phrase: 'the dog' })],
  ['image', "where's the red ball", one('ground', { phrase: 'the red ball' })],
  ['image', 'show me where the cat is', one('ground', { phrase: 'the cat' })],
  ['image', 'locate the red car', one('ground', { phrase: 'the red car' })],

  // segment
  ['image', 'segment the cat', one('segment', { phrase: 'the cat' })],
  ['image', 'mask the car', one('segment', { phrase: 'the car' })],
  ['image', 'select the person', one('segment', { phrase: 'the person' })],
  ['image', 'outline the building', one('segment', { phrase: 'the building' })],
  ['image', 'highlight the person on the right', one('segment', { phrase: 'the person on the right' })],
  ['image', 'make a mask of the sky', one('segment', { phrase: 'the sky' })],
  ['image', 'segment everything', one('segment_all', {})],
  ['image', 'mask all the objects', one('segment_all', {})],
  ['image', 'segment at 120,80', one('segment_at', { points: [[120, 80]] })],
  ['image', 'select the object at (50, 60)', one('segment_at', { points: [[50, 60]] })],
  ['image', 'segment the box 10,20,200,300', one('segment_at', { box: [10, 20, 200, 300] })],
  [
    'image',
    'segment at 120, 80 and 200,100',
    one('segment_at', {
      points: [
        [120, 80],
        [200, 100],
      ],
    }),
  ],
  ['image', 'what is in the box 10,20,200,180?', one('caption', { box: [10, 20, 200, 180] })],
  ['image', "what's in the area (5, 5, 50, 60)", one('caption', { box: [5, 5, 50, 60] })],
  ['image', 'describe the region 100,100 to 0,0 in detail', one('caption', { detail: 'detailed', box: [0, 0, 100, 100] })],
  ['image', 'can you cut out the person?', one('cutout', { phrase: 'the person' })],
  ['image', 'cut it out', one('cutout', {})],
  ['image', 'isolate the dog', one('cutout', { phrase: 'the dog' })],
  ['image', 'remove the background', one('cutout', {})],
  ['image', 'get rid of the background', one('cutout', {})],
  ['image', 'make the background transparent', one('cutout', {})],
  ['image', 'separate the cat from the background', one('cutout', { phrase: 'the cat' })],

  // edit: remove / replace / inpaint / edit
  ['image', 'get rid of the dog', one('remove', { phrase: 'the dog' })],
  ['image', 'remove the dog', one('remove', { phrase: 'the dog' })],
  ['image', 'could you please erase the car on the left', one('remove', { phrase: 'the car on the left' })],
  ['image', 'take the man out of the picture', one('remove', { phrase: 'the man' })],
  ['image', 'make the dog disappear', one('remove', { phrase: 'the dog' })],
  ['image', 'delete the watermark', one('remove', { phrase: 'the watermark' })],
  ['image', 'remove the dog and the cat', one('remove', { phrase: 'the dog and the cat' })],
  ['image', 'remove the black and white cat', one('remove', { phrase: 'the black and white cat' })],
  ['image', 'remove it', /what should i remove/i],
  ['image', 'replace the dog with a cat', one('replace', { phrase: 'the dog', prompt: 'a cat' })],
  ['image', 'swap the cat for a tiger', one('replace', { phrase: 'the cat', prompt: 'a tiger' })],
  ['image', 'turn the dog into a cat', one('replace', { phrase: 'the dog', prompt: 'a cat' })],
  ['image', 'change the sky to a sunset', one('replace', { phrase: 'the sky', prompt: 'a sunset' })],
  ['image', 'fill the hole', one('inpaint', {})],
  ['image', 'fill in the missing part with grass', one('inpaint', { prompt: 'grass' })],
  ['image', 'make it look like winter', one('edit', { prompt: 'make it look like winter' })],
  ['image', 'add a hat to the dog', one('edit', { prompt: 'add a hat to the dog' })],
  ['image', 'put sunglasses on the dog', one('edit', { prompt: 'put sunglasses on the dog' })],
  ['image', 'make the sky purple', one('edit', { prompt: 'make the sky purple' })],
  ['image', 'make the sky darker', one('edit', { prompt: 'make the sky darker' })],
  ['image', 'blur the faces', one('adjust', { phrase: 'faces', blur: 8 })],
  ['image', 'make the dog bigger', one('edit', { prompt: 'make the dog bigger' })],
  // A size change of one thing is an edit of it, with or without a factor; the picture itself is a resize.
  ['image', 'make the dog 2x bigger', one('edit', { prompt: 'make the dog 2x bigger' })],
  ['image', 'make the whole thing 50% smaller', one('transform', { resize: { scale: 0.5 } })],
  ['image', 'remove salt and pepper noise', one('edit', { prompt: 'remove salt and pepper noise' })],

  // edit: background / style / upscale / colorize / depth
  ['image', 'put it on a white background', one('background', { color: 'white' })],
  ['image', 'blue background', one('background', { color: 'blue' })],
  ['image', 'make the background light blue', one('background', { color: 'lightblue' })],
  ['image', 'change the background to #ff8800', one('background', { color: '#ff8800' })],
  ['image', 'blur the background', one('background', { blur: expect.any(Number) })],
  ['image', 'blur the background a lot', one('background', { blur: 20 })],
  ['image', 'change the background to a beach at sunset', one('background', { prompt: 'beach at sunset' })],
  ['image', 'replace the background with a city at night', one('background', { prompt: 'city at night' })],
  ['image', 'make it look like a watercolor painting', one('style', { prompt: 'watercolor painting' })],
  ['image', 'in the style of van gogh', one('style', { prompt: 'van gogh' })],
  ['image', 'turn it into a cartoon', one('style', { prompt: 'cartoon' })],
  ['image', 'make it anime style', one('style', { prompt: 'anime' })],
  ['image', 'paint it like monet', one('style', { prompt: 'monet' })],
  ['image', 'upscale it 4x', one('upscale', { factor: 4 })],
  ['image', 'upscale by 3', one('upscale', { factor: 3 })],
  ['image', 'enhance the resolution', one('upscale', { factor: 2 })],
  ['image', 'make it higher resolution', one('upscale', { factor: 2 })],
  ['image', 'upscale it 8x', /2x, 3x or 4x/],
  ['image', 'colorize this old photo', one('colorize', {})],
  ['image', 'add color to this black and white photo', one('colorize', {})],
  ['image', 'show me the depth map', one('depth', {})],
  ['image', 'estimate the depth', one('depth', {})],

  // edit: adjust
  ['image', 'make it brighter', one('adjust', { brightness: 1.3 })],
  ['image', 'a bit darker', one('adjust', { brightness: near(0.8) })],
  ['image', 'much brighter', one('adjust', { brightness: 1.5 })],
  ['image', '20% brighter', one('adjust', { brightness: 1.2 })],
  ['image', 'increase the brightness by 50%', one('adjust', { brightness: 1.5 })],
  ['image', "it's way too dark", one('adjust', { brightness: expect.any(Number) })],
  ['image', 'lighten it up a little', one('adjust', { brightness: 1.2 })],
  ['image', 'more contrast', one('adjust', { contrast: 1.3 })],
  ['image', 'reduce the contrast', one('adjust', { contrast: 0.7 })],
  ['image', 'desaturate', one('adjust', { saturation: 0.7 })],
  ['image', 'make the colors more vivid', one('adjust', { saturation: 1.3 })],
  ['image', 'black and white', one('adjust', { grayscale: true })],
  ['image', 'make it black & white', one('adjust', { grayscale: true })],
  ['image', 'grayscale', one('adjust', { grayscale: true })],
  ['image', 'remove the colors', one('adjust', { grayscale: true })],
  ['image', 'sepia', one('adjust', { sepia: true })],
  ['image', 'invert the colors', one('adjust', { invert: true })],
  ['image', 'blur it', one('adjust', { blur: expect.any(Number) })],
  ['image', 'blur it by 3', one('adjust', { blur: 3 })],
  ['image', 'sharpen', one('adjust', { sharpen: expect.any(Number) })],
  ['image', 'shift the hue by 90', one('adjust', { hue: 90 })],
  ['image', 'hue -30', one('adjust', { hue: -30 })],

  // edit: transform
  ['image', 'rotate it 90 degrees', one('transform', { rotate: 90 })],
  ['image', 'rotate left', one('transform', { rotate: 270 })],
  ['image', 'rotate 45 degrees counterclockwise', one('transform', { rotate: 315 })],
  ['image', 'rotate it -90', one('transform', { rotate: 270 })],
  ['image', 'turn it upside down', one('transform', { rotate: 180 })],
  ['image', 'flip it horizontally', one('transform', { flip: 'horizontal' })],
  ['image', 'mirror it', one('transform', { flip: 'horizontal' })],
  ['image', 'flip it vertically', one('transform', { flip: 'vertical' })],
  ['image', 'crop it to a square', one('transform', { crop: { aspect: '1:1' } })],
  ['image', 'make it square', one('transform', { crop: { aspect: '1:1' } })],
  ['image', 'crop to 16:9', one('transform', { crop: { aspect: '16:9' } })],
  ['image', 'crop it 4 by 3', one('transform', { crop: { aspect: '4:3' } })],
  ['image', 'crop 400x300 at 10,20', one('transform', { crop: { left: 10, top: 20, width: 400, height: 300 } })],
  ['image', 'crop it', /how should i crop/i],
  ['image', 'resize to 800 wide', one('transform', { resize: { width: 800 } })],
  ['image', 'enlarge to 800 pixels', one('transform', { resize: { width: 800 } })],
  ['image', 'shrink to 400 pixels', one('transform', { resize: { width: 400 } })],
  ['image', 'resize to 1024x768', one('transform', { resize: { width: 1024, height: 768 } })],
  ['image', 'make it 600 pixels tall', one('transform', { resize: { height: 600 } })],
  ['image', 'make it half the size', one('transform', { resize: { scale: 0.5 } })],
  ['image', 'double the size', one('transform', { resize: { scale: 2 } })],
  ['image', 'scale it down by 25%', one('transform', { resize: { scale: 0.75 } })],
  ['image', 'shrink it', one('transform', { resize: { scale: 0.5 } })],

  // video
  ['video', 'first 5 seconds only', one('trim', { start: 0, end: 5 })],
  ['video', 'keep the first five seconds', one('trim', { start: 0, end: 5 })],
  ['video', 'from 0:05 to 0:12', one('trim', { start: 5, end: 12 })],
  ['video', 'trim between 5 and 12 seconds', one('trim', { start: 5, end: 12 })],
  ['video', 'only keep 0:10-0:20', one('trim', { start: 10, end: 20 })],
  ['video', 'cut the last 3 seconds', one('trim', { start: 0, end: -3 })],
  ['video', 'cut off the first 2 seconds', one('trim', { start: 2 })],
  ['video', 'keep only the last 10 seconds', one('trim', { start: -10 })],
  ['video', 'trim to 10s', one('trim', { start: 0, end: 10 })],
  ['video', 'trim it to 1m30s', one('trim', { start: 0, end: 90 })],
  ['video', 'trim from 12 to 5 seconds', /has to come after/],
  ['video', 'make it twice as fast', one('speed', { factor: 2 })],
  ['video', 'slow it down to half speed', one('speed', { factor: 0.5 })],
  ['video', 'speed it up', one('speed', { factor: 2 })],
  ['video', '3x faster', one('speed', { factor: 3 })],
  ['video', 'slow motion', one('speed', { factor: 0.5 })],
  ['video', '50% faster', one('speed', { factor: 1.5 })],
  ['video', 'reverse it', one('reverse', {})],
  ['video', 'play it backwards', one('reverse', {})],
  ['video', 'make it a gif', one('to_gif', { format: 'gif' })],
  ['video', 'turn it into an animated webp', one('to_gif', { format: 'webp' })],
  ['video', 'convert to gif', one('to_gif', { format: 'gif' })],
  ['video', 'grab the frame at 3 seconds', one('extract_frame', { at: 3 })],
  ['video', 'give me the last frame', one('extract_frame', { which: 'last' })],
  ['video', 'extract the first frame', one('extract_frame', { which: 'first' })],
  ['video', 'take a screenshot at 0:07', one('extract_frame', { at: 7 })],
  ['video', 'grab a frame at 1m30s', one('extract_frame', { at: 90 })],
  ['image', 'trim it to 5 seconds', VIDEO_ONLY],
  ['image', 'make it a gif', VIDEO_ONLY],
  ['image', 'play it backwards', VIDEO_ONLY],
  ['video', 'make it black and white', one('adjust', { grayscale: true })],
  ['video', 'remove the dog', one('remove', { phrase: 'the dog' })],

  // generate
  ['none', 'draw a red fox in the snow', one('generate_image', { prompt: 'a red fox in the snow' })],
  ['none', 'generate an image of a castle on a hill', one('generate_image', { prompt: 'a castle on a hill' })],
  ['none', 'create a picture of a cyberpunk city, 16:9', one('generate_image', { prompt: 'a cyberpunk city', aspect: '16:9' })],
  ['none', 'paint a sunset over the ocean', one('generate_image', { prompt: 'a sunset over the ocean' })],
  ['image', 'show me a picture of a lighthouse', one('generate_image', { prompt: 'a lighthouse' })],
  ['none', 'show me a cat', one('generate_image', { prompt: 'a cat' })],
  ['none', 'can you draw me a dragon?', one('generate_image', { prompt: 'a dragon' })],
  ['none', 'make a video of waves', one('generate_video', { prompt: 'waves' })],
  ['none', 'generate a 5 second video of a cat playing piano', one('generate_video', { prompt: 'a cat playing piano', seconds: 5 })],
  ['image', 'animate it', one('animate', {})],
  ['image', 'make it move', one('animate', {})],
  ['image', 'bring it to life', one('animate', {})],
  ['image', 'animate it for 4 seconds', one('animate', { seconds: 4 })],
  ['image', 'make the water flow', one('animate', { prompt: 'make the water flow' })],

  // session
  ['image', 'undo', one('undo', {}, [])],
  ['image', 'go back', one('undo', {}, [])],
  ['image', 'undo that', one('undo', {}, [])],
  ['image', 'undo the last edit', one('undo', {}, [])],
  ['image', 'redo', one('redo', {}, [])],
  ['image', 'revert to the original', one('revert', {}, [])],
  ['image', 'go back to the original', one('revert', {}, [])],
  ['image', 'start over', one('revert', {}, [])],
  ['image', 'help', one('help', {}, [])],
  ['none', 'what can you do?', one('help', {}, [])],
  ['image', 'cancel', one('cancel', {}, [])],
  ['image', 'stop', one('cancel', {}, [])],
  ['image', 'never mind', one('cancel', {}, [])],
  ['none', 'undo', one('undo', {}, [])],

  // chains
  [
    'image',
    'crop it to a square and make it black and white',
    [
      { task: 'transform', args: { crop: { aspect: '1:1' } }, targets: ['current'] },
      { task: 'adjust', args: { grayscale: true }, targets: ['step:0'] },
    ],
  ],
  [
    'image',
    'make it brighter, then rotate it 90 degrees and also flip it',
    [
      { task: 'adjust', args: { brightness: 1.3 }, targets: ['current'] },
      { task: 'transform', args: { rotate: 90 }, targets: ['step:0'] },
      { task: 'transform', args: { flip: 'horizontal' }, targets: ['step:1'] },
    ],
  ],
  [
    'image',
    'crop it to a square, black and white',
    [
      { task: 'transform', args: { crop: { aspect: '1:1' } }, targets: ['current'] },
      { task: 'adjust', args: { grayscale: true }, targets: ['step:0'] },
    ],
  ],
  [
    'image',
    'remove the dog, then make it a watercolor painting',
    [
      { task: 'remove', args: { phrase: 'the dog' }, targets: ['current'] },
      { task: 'style', args: { prompt: 'watercolor painting' }, targets: ['step:0'] },
    ],
  ],
  [
    'none',
    'draw a cat and make it black and white',
    [
      { task: 'generate_image', args: { prompt: 'a cat' }, targets: [] },
      { task: 'adjust', args: { grayscale: true }, targets: ['step:0'] },
    ],
  ],
  [
    'none',
    'draw a dog and put a hat on it',
    [
      { task: 'generate_image', args: { prompt: 'a dog' }, targets: [] },
      { task: 'edit', args: { prompt: 'put a hat on it' }, targets: ['step:0'] },
    ],
  ],
  [
    'video',
    'reverse it and make it a gif',
    [
      { task: 'reverse', args: {}, targets: ['current'] },
      { task: 'to_gif', args: { format: 'gif' }, targets: ['step:0'] },
    ],
  ],
  [
    'video',
    'first 5 seconds only, then make it a gif',
    [
      { task: 'trim', args: { start: 0, end: 5 }, targets: ['current'] },
      { task: 'to_gif', args: { format: 'gif' }, targets: ['step:0'] },
    ],
  ],
  [
    'image',
    'describe it and then make it brighter',
    [
      { task: 'caption', args: {}, targets: ['current'] },
      { task: 'adjust', args: { brightness: 1.3 }, targets: ['current'] },
    ],
  ],
  [
    'image',
    'undo and make it brighter',
    [
      { task: 'undo', args: {}, targets: [] },
      { task: 'adjust', args: { brightness: 1.3 }, targets: ['current'] },
    ],
  ],
  ['image', 'make it brighter. Then make it a gif', VIDEO_ONLY],
  ['none', 'draw a cat and a dog', one('generate_image', { prompt: 'a cat and a dog' }, [])],
  ['image', 'replace the salt and pepper shaker with a vase', one('replace', { phrase: 'the salt and pepper shaker', prompt: 'a vase' })],

  // references
  ['image', 'remove the dog from the first image', one('remove', { phrase: 'the dog' }, ['image:1'])],
  ['image', 'make the second image black and white', one('adjust', { grayscale: true }, ['image:2'])],
  ['image', 'what color is the car in the second image?', one('answer', { question: 'what color is the car?' }, ['image:2'])],
  ['image', 'make the last image sepia', one('adjust', { sepia: true }, ['image:last'])],
  ['image', 'make the previous one brighter', one('adjust', { brightness: 1.3 }, ['previous'])],
  ['image', 'crop the original to 16:9', one('transform', { crop: { aspect: '16:9' } }, ['original'])],
  ['image', 'make the first one sepia', one('adjust', { sepia: true }, ['media:1'])],
  ['image', 'rotate the second image 90 degrees clockwise', one('transform', { rotate: 90 }, ['image:2'])],
  ['image', 'rotate image 2 by 90', one('transform', { rotate: 90 }, ['image:2'])],
  ['image', 'rotate the image 90', one('transform', { rotate: 90 }, ['current'])],
  ['image', 'segment the cat in image 3', one('segment', { phrase: 'the cat' }, ['image:3'])],
  ['video', 'describe this video', one('caption', {}, ['current'])],
  ['video', 'grab the frame at 2s from the video', one('extract_frame', { at: 2 }, ['video:last'])],
  ['image', 'trim the video to 5 seconds', /no video/i],

  // needs media, not understood, empty
  ['none', 'make it brighter', NEEDS_MEDIA],
  ['none', 'remove the dog', NEEDS_MEDIA],
  ['none', 'what is in this picture?', NEEDS_MEDIA],
  ['none', 'trim to 5 seconds', NEEDS_MEDIA],
  ['image', 'asdf qwerty', NOT_UNDERSTOOD],
  ['image', 'compare these two images', NOT_UNDERSTOOD],
  ['none', 'the weather is nice today', NOT_UNDERSTOOD],
  ['image', 'hello', /^Hi!/],
  ['image', 'thanks!', /anything else/i],
  ['none', '', /what would you like/i],
  ['none', '   ', /what would you like/i],
];

function expectedTargets(expected: Expected): string[] {
  return expected.targets ?? (TASKS_WITHOUT_TARGET.includes(expected.task) ? [] : ['current']);
}

function contextOf(kind: With): PlanContext {
  return contextFor(kind === 'none' ? undefined : kind);
}

describe('phrasings', () => {
  it('has a table of at least 150 phrasings', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(150);
  });

  it.each(ROWS)('[%s] %j', (kind, text, expected) => {
    const plan = parsePlan(planTurn(text, contextOf(kind)));
    if (expected instanceof RegExp) {
      expect(plan.invocations).toEqual([]);
      expect(plan.reply).toMatch(expected);
      return;
    }
    expect(plan.reply).toBeUndefined();
    expect(plan.invocations).toEqual(
      expected.map((e) => ({ task: e.task, targets: expectedTargets(e), args: e.args === undefined ? expect.anything() : e.args })),
    );
  });
});

/** Whether a generation row plans as expected (the same check as the phrasing table's, without throwing). */
function generationRowHolds([kind, text, expected]: GenRow): boolean {
  const plan = planTurn(text, situation(kind));
  if (expected instanceof RegExp) return plan.invocations.length === 0 && expected.test(plan.reply ?? '');
  const wanted = expected.map((e) => ({ task: e.task, targets: expectedTargets(e), args: e.args }));
  return plan.reply === undefined && parsePlan(plan) !== undefined && expect.objectContaining({ invocations: wanted }).asymmetricMatch(plan);
}

describe('generation phrasings', () => {
  it.each(GENERATION_SEEN)('[%s] %j', (kind, text, expected) => {
    const plan = parsePlan(planTurn(text, situation(kind)));
    if (expected instanceof RegExp) {
      expect(plan.invocations).toEqual([]);
      expect(plan.reply).toMatch(expected);
      return;
    }
    expect(plan.reply).toBeUndefined();
    expect(plan.invocations).toEqual(expected.map((e) => ({ task: e.task, targets: expectedTargets(e), args: e.args })));
  });

  /**
   * The held-out rows were written before the rules and never tuned on: the score is what the rules generalise
   * to: 8/40 before the generation rules, 39/40 after them ("turn day into night" read as replacing "day";
   * fixed afterwards by a general rule for scene states, so 40/40 now is no longer an unseen score). The bar only
   * catches a regression; a held-out miss is fixed by a general rule, not by copying the row.
   */
  it('plans most held-out generation phrasings as expected', () => {
    const misses = GENERATION_HELD_OUT.filter((row) => !generationRowHolds(row)).map(([kind, text]) => `[${kind}] ${text}`);
    const score = (GENERATION_HELD_OUT.length - misses.length) / GENERATION_HELD_OUT.length;
    expect(score, `held-out misses: ${misses.join('; ')}`).toBeGreaterThanOrEqual(0.9);
  });
});

describe('replies', () => {
  it('offers 3 or 4 suggestions that fit the media when it does not understand', () => {
    for (const kind of ['image', 'video', 'none'] as const) {
      const reply = planTurn('flibbertigibbet the wug', contextOf(kind)).reply ?? '';
      const quoted = reply.match(/"[^"]+"/g) ?? [];
      // the first quote is the text not understood, the last is "help"
      expect(quoted.length - 2).toBeGreaterThanOrEqual(3);
      expect(quoted.length - 2).toBeLessThanOrEqual(4);
    }
    expect(planTurn('flibbertigibbet', contextOf('video')).reply).toContain('gif');
    expect(planTurn('flibbertigibbet', contextOf('image')).reply).not.toContain('gif');
  });

  it('acknowledges an attachment that came without text', () => {
    const image = planTurn('', contextFor(undefined, ['image']));
    expect(image.invocations).toEqual([]);
    expect(image.reply).toMatch(/^Got your image\. What should I do with it\?/);
    expect(planTurn('  ', contextFor(undefined, ['video', 'video'])).reply).toMatch(/^Got your 2 videos/);
  });

  it('targets the upload when the turn brings media', () => {
    const plan = planTurn('remove the background', contextFor(undefined, ['image']));
    expect(plan.invocations).toEqual([{ task: 'cutout', targets: ['upload'], args: {} }]);
  });

  it('retargets a video task to the video when "it" is an image but a video exists', () => {
    const context: PlanContext = { attachments: [], hasImage: true, hasVideo: true, currentKind: 'image' };
    expect(planTurn('make it a gif', context).invocations).toEqual([{ task: 'to_gif', targets: ['video:last'], args: { format: 'gif' } }]);
  });

  it('every suggestion it makes is itself understood in that situation', () => {
    const contexts: PlanContext[] = [contextFor('image'), contextFor('video'), contextFor(undefined), situation('batch')];
    for (const context of contexts) {
      for (const suggestion of suggestionsFor(context)) {
        if (suggestion.startsWith('upload')) continue;
        const plan = planTurn(suggestion, context);
        expect(plan.invocations.length, `${suggestion} with ${context.currentKind ?? 'nothing'}`).toBeGreaterThan(0);
      }
    }
  });
});

describe('repeating the last turn', () => {
  const last: Invocation[] = [
    { task: 'transform', targets: ['current'], args: { crop: { aspect: '1:1' } } },
    { task: 'adjust', targets: ['step:0'], args: { grayscale: true } },
  ];
  const context: PlanContext = { attachments: [], hasImage: true, hasVideo: true, currentKind: 'image', lastInvocations: last };

  it('applies the same invocations to the referenced media', () => {
    expect(planTurn('do the same to the video', context).invocations).toEqual([
      { task: 'transform', targets: ['video:last'], args: { crop: { aspect: '1:1' } } },
      { task: 'adjust', targets: ['step:0'], args: { grayscale: true } },
    ]);
    expect(planTurn('same for the first image', context).invocations[0]!.targets).toEqual(['image:1']);
  });

  it('repeats on the current media for "again"', () => {
    expect(planTurn('again', context).invocations.map((i) => i.targets)).toEqual([['current'], ['step:0']]);
  });

  it('renumbers steps when the repeat follows another step', () => {
    const plan = planTurn('make it brighter and then do the same again', context);
    expect(plan.invocations.map((i) => [i.task, i.targets])).toEqual([
      ['adjust', ['current']],
      ['transform', ['step:0']],
      ['adjust', ['step:1']],
    ]);
  });

  it('says so when there is nothing to repeat', () => {
    const plan = planTurn('do the same to the video', { ...context, lastInvocations: [] });
    expect(plan.invocations).toEqual([]);
    expect(plan.reply).toMatch(/nothing to repeat/i);
  });

  it("does not copy the caller's invocations by reference", () => {
    const plan = planTurn('again', context);
    (plan.invocations[0]!.args.crop as { aspect: string }).aspect = '4:3';
    expect(last[0]!.args).toEqual({ crop: { aspect: '1:1' } });
  });
});

describe('BaselinePlanner', () => {
  it('implements Planner and never fills embeddings', async () => {
    const planner = new BaselinePlanner();
    const plan: Plan = await planner.plan('segment the cat', contextFor('image'));
    expect(planner.name).toBe('baseline');
    expect(plan.invocations[0]).not.toHaveProperty('embeddings');
  });
});
