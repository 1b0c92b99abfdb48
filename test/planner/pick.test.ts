import { describe, expect, it } from 'vitest';
import type { Invocation, PlanContext } from '../../src/core/types.ts';
import { planTurn } from '../../src/planner/baseline-planner.ts';
import { pickAnswer } from '../../src/planner/rules/pick.ts';

const removeTheDog: Invocation = { task: 'remove', targets: ['current'], args: { phrase: 'the dog' } };
const segmentThePerson: Invocation = { task: 'segment', targets: ['current'], args: { phrase: 'the person' } };
const brighter: Invocation = { task: 'adjust', targets: ['current'], args: { brightness: 1.2 } };

function afterTurn(last: Invocation[]): PlanContext {
  return { attachments: [], hasImage: true, hasVideo: false, currentKind: 'image', lastInvocations: last };
}

describe('answering "which one?"', () => {
  it.each([
    ['2', 2],
    ['#2', 2],
    ['number 3', 3],
    ['option 3', 3],
    ['the 2nd one', 2],
    ['the second one', 2],
    ['second', 2],
    ['the first one', 1],
  ])('"%s" repeats the last invocation with pick %i', (text, pick) => {
    const plan = planTurn(text, afterTurn([removeTheDog]));
    expect(plan.reply).toBeUndefined();
    expect(plan.invocations).toEqual([{ task: 'remove', targets: ['current'], args: { phrase: 'the dog', pick } }]);
  });

  it.each([
    ['the left one', 'the left dog'],
    ['the one on the right', 'the dog on the right'],
    ['the biggest one', 'the biggest dog'],
    ['the last one', 'the last dog'],
  ])('"%s" becomes the phrase "%s" on the same noun', (text, phrase) => {
    const plan = planTurn(text, afterTurn([removeTheDog]));
    expect(plan.invocations).toEqual([{ task: 'remove', targets: ['current'], args: { phrase } }]);
  });

  it('a new answer replaces an earlier pick instead of stacking on it', () => {
    const plan = planTurn('3', afterTurn([{ ...segmentThePerson, args: { phrase: 'the person', pick: 1 } }]));
    expect(plan.invocations[0]!.args).toEqual({ phrase: 'the person', pick: 3 });
  });

  it('says there is nothing to choose from when the last turn asked no such question', () => {
    expect(planTurn('2', afterTurn([brighter])).reply).toMatch(/nothing to choose from/);
    expect(planTurn('the left one', afterTurn([])).reply).toMatch(/nothing to choose from/);
  });

  it('leaves commands that merely contain a number or a position to their own rules', () => {
    expect(pickAnswer('upscale it 2x')).toBeUndefined();
    expect(pickAnswer('segment the left dog')).toBeUndefined();
    expect(pickAnswer('the dog')).toBeUndefined();
    expect(pickAnswer('0')).toBeUndefined();
    expect(planTurn('rotate it 90', afterTurn([removeTheDog])).invocations[0]!.task).toBe('transform');
  });
});

describe('detection phrasings reach detect, ground, segment and cutout', () => {
  const image: PlanContext = { attachments: [], hasImage: true, hasVideo: false, currentKind: 'image' };
  it.each([
    ['how many dogs are there', 'detect', { phrase: 'dogs', count: true }],
    ['count the people', 'detect', { phrase: 'people', count: true }],
    ['find the cat', 'detect', { phrase: 'cat' }],
    ['detect everything', 'detect', {}],
    ['where is the horse', 'ground', { phrase: 'the horse' }],
    ['where is the dog on the right', 'ground', { phrase: 'the dog on the right' }],
    ['segment the left dog', 'segment', { phrase: 'the left dog' }],
    ['cut out the person', 'cutout', { phrase: 'the person' }],
  ] as const)('"%s" → %s %o', (text, task, args) => {
    expect(planTurn(text, image).invocations).toEqual([{ task, targets: ['current'], args }]);
  });
});
