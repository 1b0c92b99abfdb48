import { describe, expect, it } from 'vitest';
import type { MediaKind } from '../../src/core/types.ts';
import { planTurn } from '../../src/planner/baseline-planner.ts';
import { contextFor } from '../../src/planner/context.ts';

/**
 * Edits that read a second image: a mask ("inpaint with this mask") or a new subject ("replace the cat
 * with this"). The photo is the first target and the second image the second, so the specialist finds
 * them as media[0] and media[1].
 */
const plan = (text: string, current: MediaKind | undefined, attachments: MediaKind[]) => planTurn(text, contextFor(current, attachments)).invocations;

describe('edits with a second image', () => {
  it('"inpaint with this mask" with two images: the photo, then the mask, and no prompt', () => {
    expect(plan('inpaint with this mask', undefined, ['image', 'image'])).toEqual([{ task: 'inpaint', targets: ['upload', 'image:last'], args: {} }]);
    expect(plan('inpaint using the mask image', undefined, ['image', 'image'])).toEqual([{ task: 'inpaint', targets: ['upload', 'image:last'], args: {} }]);
  });

  it('"remove the white area" is the area painted on the mask, not an object called "white area"', () => {
    expect(plan('remove the white area', undefined, ['image', 'image'])).toEqual([{ task: 'inpaint', targets: ['upload', 'image:last'], args: {} }]);
  });

  it('a described fill stays a prompt', () => {
    expect(plan('fill in the missing part with grass', 'image', [])).toEqual([{ task: 'inpaint', targets: ['current'], args: { prompt: 'grass' } }]);
  });

  it('"replace the cat with this": two images attached, or one attached to the image being edited', () => {
    expect(plan('replace the cat with this', undefined, ['image', 'image'])).toEqual([
      { task: 'replace', targets: ['upload', 'image:last'], args: { phrase: 'the cat' } },
    ]);
    expect(plan('replace the cat with this', 'image', ['image'])).toEqual([{ task: 'replace', targets: ['current', 'upload'], args: { phrase: 'the cat' } }]);
    expect(plan('swap the dog for this one', 'image', ['image'])).toEqual([{ task: 'replace', targets: ['current', 'upload'], args: { phrase: 'the dog' } }]);
  });

  it('a replacement named in words keeps one target and its prompt', () => {
    expect(plan('replace the dog with a cat', 'image', [])).toEqual([{ task: 'replace', targets: ['current'], args: { phrase: 'the dog', prompt: 'a cat' } }]);
  });

  it('remove with a phrase keeps one target, even with two images attached', () => {
    expect(plan('remove the dog', undefined, ['image', 'image'])).toEqual([{ task: 'remove', targets: ['upload'], args: { phrase: 'the dog' } }]);
    expect(plan('erase the person on the left', 'image', [])).toEqual([{ task: 'remove', targets: ['current'], args: { phrase: 'the person on the left' } }]);
  });
});
