import { describe, expect, it } from 'vitest';
import type { PlanContext } from '../../src/core/types.ts';
import { resolveReferences } from '../../src/planner/references.ts';

const image: PlanContext = { attachments: [], hasImage: true, hasVideo: true, currentKind: 'image' };

describe('resolveReferences', () => {
  it.each([
    ['remove the dog from the first image', ['image:1'], 'remove the dog'],
    ['make the 2nd photo brighter', ['image:2'], 'make brighter'],
    ['crop the last picture', ['image:last'], 'crop'],
    ['trim the video', ['video:last'], 'trim'],
    ['trim the second video', ['video:2'], 'trim'],
    ['blur the original', ['original'], 'blur'],
    ['flip the previous one', ['previous'], 'flip'],
    ['flip the one before that', ['previous'], 'flip'],
    ['sharpen the first one', ['media:1'], 'sharpen'],
    ['sharpen the last one', ['media:last'], 'sharpen'],
    ['segment the cat in image 3', ['image:3'], 'segment the cat'],
    ['rotate photo #12 left', ['image:12'], 'rotate left'],
    ['do the same to the other photo', ['image:other'], 'do the same'],
    ['trim the other clip too', ['video:other'], 'trim too'],
    ['sharpen the other one', ['media:other'], 'sharpen'],
  ])('%j → %j', (text, targets, bare) => {
    const r = resolveReferences(text, image);
    expect(r.targets).toEqual(targets);
    expect(r.bare).toBe(bare);
  });

  it('strips default references from bare but keeps them in text for prompts', () => {
    const r = resolveReferences('make this photo look like winter', image);
    expect(r).toEqual({ targets: [], text: 'make this photo look like winter', bare: 'make look like winter' });
  });

  it('leaves determiners that belong to the phrase alone', () => {
    expect(resolveReferences('remove that dog', image).bare).toBe('remove that dog');
    expect(resolveReferences('make that brighter', image).bare).toBe('make brighter');
  });

  it('does not read angles, sizes or lengths as media numbers', () => {
    expect(resolveReferences('rotate the image 90', image).targets).toEqual([]);
    expect(resolveReferences('upscale the image 4x', image).targets).toEqual([]);
    expect(resolveReferences('make a 5 second video of waves', image).targets).toEqual([]);
  });

  it('means the upload when the turn attaches media', () => {
    const attached: PlanContext = { attachments: ['video'], hasImage: false, hasVideo: false };
    expect(resolveReferences('trim the video', attached).targets).toEqual([]);
    expect(resolveReferences('blur the one I uploaded', attached).targets).toEqual(['upload']);
  });

  it('lists several explicit targets in the order they appear', () => {
    expect(resolveReferences('put the dog from the second image into the first image', image).targets).toEqual(['image:2', 'image:1']);
  });
});
