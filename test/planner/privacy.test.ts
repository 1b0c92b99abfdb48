import { describe, expect, it } from 'vitest';
import type { MediaKind } from '../../src/core/types.ts';
import { planTurn } from '../../src/planner/baseline-planner.ts';
import { contextFor } from '../../src/planner/context.ts';
import { parsePlan } from '../../src/planner/plan-schema.ts';

/** Privacy edits ("blur the faces") are `adjust` with a phrase; generic edit verbs must not swallow them. */
function plan(text: string, kind: MediaKind = 'image') {
  return parsePlan(planTurn(text, contextFor(kind)));
}

function argsOf(text: string, kind: MediaKind = 'image'): Record<string, unknown> {
  const p = plan(text, kind);
  expect(p.reply).toBeUndefined();
  expect(p.invocations.map((i) => i.task)).toEqual(['adjust']);
  return p.invocations[0]!.args;
}

describe('privacy phrasings', () => {
  it.each([
    ['blur the faces', { phrase: 'faces', blur: 8 }],
    ["please blur out everyone's faces", { phrase: 'faces', blur: 8 }],
    ["blur the kids' faces", { phrase: 'faces', blur: 8 }],
    ['blur all the faces', { phrase: 'faces', blur: 8 }],
    ['blur my face', { phrase: 'faces', blur: 8 }],
    ['blur the faces of the kids', { phrase: 'faces', blur: 8 }],
    ['censor the faces', { phrase: 'faces', blur: 8 }],
    ['anonymize the faces', { phrase: 'faces', blur: 8 }],
    ['anonymise it', { phrase: 'faces', blur: 8 }],
    ['hide their faces', { phrase: 'faces', blur: 8 }],
    ['make the faces unrecognizable', { phrase: 'faces', blur: 8 }],
    ['blur the people', { phrase: 'people', blur: 8 }],
    ['censor everyone', { phrase: 'people', blur: 8 }],
    ['pixelate the faces', { phrase: 'faces', pixelate: 12 }],
    ['pixelize their faces', { phrase: 'faces', pixelate: 12 }],
    ['make the faces pixelated', { phrase: 'faces', pixelate: 12 }],
    ['pixelate the people', { phrase: 'people', pixelate: 12 }],
  ])('%s', (text, expected) => {
    expect(argsOf(text)).toEqual(expected);
  });

  it('takes an explicit strength, or a stronger/softer default from words', () => {
    expect(argsOf('blur the faces by 30')).toEqual({ phrase: 'faces', blur: 30 });
    expect(argsOf('pixelate the faces with 20 px blocks')).toEqual({ phrase: 'faces', pixelate: 20 });
    expect(argsOf('blur the faces a lot')).toEqual({ phrase: 'faces', blur: 16 });
    expect(argsOf('blur the faces slightly')).toEqual({ phrase: 'faces', blur: 4 });
  });

  it('works on videos (the reference goes to the video)', () => {
    const p = plan('blur the faces in the video', 'video');
    expect(p.invocations).toEqual([{ task: 'adjust', targets: ['video:last'], args: { phrase: 'faces', blur: 8 } }]);
  });

  it('leaves whole-picture blur, background blur, finding faces and other objects to their own rules', () => {
    expect(argsOf('blur it')).toEqual({ blur: 4 });
    expect(argsOf('pixelate it')).toEqual({ pixelate: 12 });
    expect(plan('blur the background').invocations[0]!.task).toBe('background');
    expect(plan('find the faces').invocations[0]!.task).toBe('detect');
    expect(plan('blur the dog').invocations[0]!.task).toBe('edit');
  });

  it('keeps referring words so that only that one is covered', () => {
    expect(argsOf('blur the face on the left')).toEqual({ phrase: 'the face on the left', blur: 8 });
    expect(argsOf('pixelate the person on the right')).toEqual({ phrase: 'the person on the right', pixelate: 12 });
    expect(argsOf('blur the second face')).toEqual({ phrase: 'the second face', blur: 8 });
    expect(argsOf('blur the biggest face')).toEqual({ phrase: 'the biggest face', blur: 8 });
    expect(argsOf('blur only the left face')).toEqual({ phrase: 'the left face', blur: 8 });
    expect(argsOf('blur the face of the man on the left')).toEqual({ phrase: 'the face on the left', blur: 8 });
    expect(argsOf('pixelate the kid on the right a lot')).toEqual({ phrase: 'the person on the right', pixelate: 24 });
    expect(argsOf('hide the face at the top by 20')).toEqual({ phrase: 'the face at the top', blur: 20 });
    expect(plan('blur the face on the left in the video', 'video').invocations).toEqual([
      { task: 'adjust', targets: ['video:last'], args: { phrase: 'the face on the left', blur: 8 } },
    ]);
    // Referring words on things privacy does not cover stay free-form edits.
    expect(plan('blur the dog on the left').invocations[0]!.task).toBe('edit');
  });

  it('chains with another adjustment as two steps', () => {
    expect(plan('blur the faces and make it black and white').invocations.map((i) => i.args)).toEqual([{ phrase: 'faces', blur: 8 }, { grayscale: true }]);
  });
});
