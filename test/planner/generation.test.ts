import { describe, expect, it } from 'vitest';
import type { Invocation, PlanContext } from '../../src/core/types.ts';
import { planTurn } from '../../src/planner/baseline-planner.ts';
import { contextFor } from '../../src/planner/context.ts';
import { parsePlan } from '../../src/planner/plan-schema.ts';
import { LAST_DRAWING, situation } from './generation-phrasings.ts';

const removeTheDog: Invocation = { task: 'remove', targets: ['current'], args: { phrase: 'the dog' } };
const brighter: Invocation = { task: 'adjust', targets: ['current'], args: { brightness: 1.3 } };
const winter: Invocation = { task: 'edit', targets: ['current'], args: { prompt: 'make it winter', seed: 7 } };

function afterTurn(last: Invocation[], lastBatch?: number): PlanContext {
  return { ...contextFor('image'), lastInvocations: last, ...(lastBatch === undefined ? {} : { lastBatch }) };
}

const plan = (text: string, context: PlanContext) => parsePlan(planTurn(text, context));

describe('generation settings in any wording', () => {
  it('joins seed, steps and Midjourney flags to the task that takes them', () => {
    expect(plan('make it winter, seed 5, 8 steps', contextFor('image')).invocations).toEqual([
      { task: 'edit', targets: ['current'], args: { prompt: 'make it winter', seed: 5, steps: 8 } },
    ]);
    expect(plan('draw a cat --ar 16:9 --no text --seed 9', contextFor(undefined)).invocations).toEqual([
      { task: 'generate_image', targets: [], args: { prompt: 'a cat', aspect: '16:9', negative: 'text', seed: 9 } },
    ]);
  });

  it('keeps a negative said in words beside a --no flag', () => {
    expect(plan('draw a castle, no people --no watermark', contextFor(undefined)).invocations[0]!.args).toEqual({
      prompt: 'a castle',
      negative: 'people, watermark',
    });
  });

  it('lists several things the picture must not show', () => {
    expect(plan('paint a beach, no people, no boats', contextFor(undefined)).invocations[0]!.args).toEqual({ prompt: 'a beach', negative: 'people, boats' });
    expect(plan('draw a street without cars or bikes', contextFor(undefined)).invocations[0]!.args).toEqual({ prompt: 'a street', negative: 'cars, bikes' });
  });

  it('reads a settings-free task as typed, and steps only as a setting at the end', () => {
    expect(plan('rotate it 90 degrees', contextFor('image')).invocations[0]!.task).toBe('transform');
    expect(plan('draw 100 steps leading to a temple', contextFor(undefined)).invocations[0]!.args).toEqual({ prompt: '100 steps leading to a temple' });
  });

  it('explains settings out of range', () => {
    expect(plan('draw a cat in 80 steps', contextFor(undefined)).reply).toMatch(/steps has to be a whole number from 1 to 50/);
  });
});

describe('counts', () => {
  it('keeps a number that puts things in one scene', () => {
    expect(plan('draw two cats playing together', contextFor(undefined)).invocations[0]!.args).toEqual({ prompt: 'two cats playing together' });
  });

  it('says at most 4, from the task table', () => {
    expect(plan('draw 9 foxes', contextFor(undefined)).reply).toMatch(/at most 4 pictures/);
    expect(plan('give me 6 variations', contextFor('image')).reply).toMatch(/at most 4 pictures/);
  });
});

describe('variations and outpainting', () => {
  it('reads similar pictures as variations, and variations of a described thing as new pictures', () => {
    expect(plan('similar images', contextFor('image')).invocations[0]!.task).toBe('vary');
    expect(plan('create 3 variations of a castle', contextFor(undefined)).invocations[0]!.args).toEqual({ prompt: 'a castle', count: 3 });
  });

  it('needs a picture for variations, rather than drawing "some variations"', () => {
    const reply = plan('give me some variations', contextFor(undefined)).reply;
    expect(reply).toMatch(/upload/i);
  });

  it('reads a changed version as an edit, not as variations', () => {
    expect(plan('give me a version with a hat', contextFor('image')).invocations).toEqual([
      { task: 'edit', targets: ['current'], args: { prompt: 'give me a version with a hat' } },
    ]);
  });

  it('vary a lot / slightly sets how far from the picture', () => {
    expect(plan('vary it a lot', contextFor('image')).invocations[0]!.args).toEqual({ strength: 0.85 });
    expect(plan('vary it slightly', contextFor('image')).invocations[0]!.args).toEqual({ strength: 0.35 });
  });

  it('extends with what to paint, and refuses more than the row allows', () => {
    expect(plan('extend it to the right with a river', contextFor('image')).invocations[0]!.args).toEqual({ direction: 'right', prompt: 'a river' });
    expect(plan('zoom out a bit', contextFor('image')).invocations[0]!.args).toEqual({ direction: 'all', amount: 0.25 });
    expect(plan('zoom out 5x', contextFor('image')).reply).toMatch(/up to 3x/);
  });

  it('leaves resizes and video lengths to their own rules', () => {
    expect(plan('enlarge it', contextFor('image')).invocations[0]!.task).toBe('transform');
    expect(plan('enlarge to 800 pixels', contextFor('image')).invocations[0]!.task).toBe('transform');
    expect(plan('make it taller', contextFor('image')).invocations.map((i) => [i.args.direction, i.targets])).toEqual([
      ['up', ['current']],
      ['down', ['step:0']],
    ]);
  });
});

describe('same seed, new seed', () => {
  it('changes the prompt of each seeded invocation and leaves the others alone', () => {
    const context = afterTurn([brighter, { ...winter, targets: ['step:0'] }]);
    expect(plan('same seed but with snow falling', context).invocations).toEqual([
      { task: 'adjust', targets: ['current'], args: { brightness: 1.3 } },
      { task: 'edit', targets: ['step:0'], args: { prompt: 'make it winter, with snow falling', seed: 7 } },
    ]);
    expect(plan('reroll', context).invocations[1]!.args).toEqual({ prompt: 'make it winter' });
  });

  it('"again" reproduces, "try again" draws a new seed', () => {
    expect(plan('again', situation('made')).invocations[0]!.args).toEqual(LAST_DRAWING.args);
    expect(plan('try again', situation('made')).invocations[0]!.args).toEqual({ prompt: 'a red fox in the snow' });
  });

  it('"try again" after work without a seed repeats it', () => {
    expect(plan('try again', afterTurn([brighter])).invocations).toEqual([brighter]);
  });

  it('sets a seed, asks for more pictures with new seeds, and takes other ways of saying it', () => {
    const made = situation('made');
    expect(plan('use seed 5', made).invocations[0]!.args).toEqual({ prompt: 'a red fox in the snow', seed: 5 });
    expect(plan('again with seed 12', made).invocations[0]!.args).toEqual({ prompt: 'a red fox in the snow', seed: 12 });
    expect(plan('use seed 9999999999', made).reply).toMatch(/seed has to be/);
    expect(plan('give me 2 more', made).invocations[0]!.args).toEqual({ prompt: 'a red fox in the snow', count: 2 });
    expect(plan('give me 6 more', made).reply).toMatch(/at most 4/);
    expect(plan('same prompt new seed', made).invocations[0]!.args).toEqual({ prompt: 'a red fox in the snow' });
    expect(plan('regenerate', made).invocations[0]!.args).toEqual({ prompt: 'a red fox in the snow' });
    // "more like this" is about the picture, not the request: variations.
    expect(plan('generate two more like this', made).invocations[0]!.task).toBe('vary');
  });

  it('says so when there is no seed to keep or change', () => {
    expect(plan('same seed', afterTurn([brighter])).reply).toMatch(/no seed/);
    expect(plan('new seed', afterTurn([])).reply).toMatch(/no seed|nothing to repeat/i);
  });
});

describe('pictures of the last batch', () => {
  it('means the batch only while there is one, and only within it', () => {
    expect(plan('upscale the second one', contextFor('image')).invocations[0]!.targets).toEqual(['media:2']);
    expect(plan('upscale the second one', afterTurn([LAST_DRAWING], 2)).invocations[0]!.targets).toEqual(['batch:2']);
    expect(plan('upscale the third one', afterTurn([LAST_DRAWING], 2)).invocations[0]!.targets).toEqual(['media:3']);
    expect(plan('U2', contextFor('image')).reply).toMatch(/didn't understand/);
    expect(plan('U3', afterTurn([LAST_DRAWING], 2)).reply).toMatch(/didn't understand/);
  });

  it('keeps "image 2" and "the second image" as the conversation numbers them', () => {
    expect(plan('upscale image 2', situation('batch')).invocations[0]!.targets).toEqual(['image:2']);
    expect(plan('upscale the second image', situation('batch')).invocations[0]!.targets).toEqual(['image:2']);
  });

  it('answers "which one?" before reading a batch picture', () => {
    expect(plan('the second one', afterTurn([removeTheDog], 4)).invocations).toEqual([{ ...removeTheDog, args: { phrase: 'the dog', pick: 2 } }]);
  });

  it('asks what to do with a batch picture named alone', () => {
    expect(plan('number 3', situation('batch')).reply).toMatch(/Picture 3 of the last batch/);
    expect(plan('the last one', situation('batch')).reply).toMatch(/Picture 4 of the last batch/);
  });

  it('does not point a later step of a message that makes new pictures at the old grid', () => {
    expect(plan('draw 4 cats and upscale the second one', situation('batch')).invocations.map((i) => [i.task, i.targets])).toEqual([
      ['generate_image', []],
      ['upscale', ['media:2']],
    ]);
  });

  it('chains from a batch picture', () => {
    expect(plan('upscale the first one and make it brighter', situation('batch')).invocations.map((i) => [i.task, i.targets])).toEqual([
      ['upscale', ['batch:1']],
      ['adjust', ['step:0']],
    ]);
  });
});
