import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import type { Detection } from '../../src/vision/ops/detection.ts';
import { labelForPhrase } from '../../src/vision/find/label-match.ts';
import { parseReferring } from '../../src/core/referring.ts';
import { select } from '../../src/vision/find/referring.ts';

/** Three dogs in a row, deliberately listed out of order; the middle one is the biggest, the right one the smallest. */
const left: Detection = { x1: 10, y1: 100, x2: 110, y2: 200, label: 'dog', score: 0.8 };
const middle: Detection = { x1: 200, y1: 20, x2: 360, y2: 260, label: 'dog', score: 0.6 };
const right: Detection = { x1: 420, y1: 150, x2: 470, y2: 190, label: 'dog', score: 0.9 };
const dogs = [right, left, middle];

describe('phrase → label', () => {
  it.each([
    ['people', 'person'],
    ['persons', 'person'],
    ['the man', 'person'],
    ['a woman', 'person'],
    ['the kids', 'person'],
    ['that guy', 'person'],
    ['puppy', 'dog'],
    ['the dogs', 'dog'],
    ['kitty', 'cat'],
    ['kittens', 'cat'],
    ['all the cats', 'cat'],
    ['cars', 'car'],
    ['an automobile', 'car'],
    ['faces', 'face'],
    ['the face', 'face'],
    ['heads', 'face'],
    ['the big brown dog', 'dog'],
    ['the man with the hat', 'person'],
    ['two wine glasses', 'wine glass'],
    ['hot dogs', 'hot dog'],
    ['the sofa', 'couch'],
    ['buses', 'bus'],
    ['knives', 'knife'],
    ['animals', 'animal'],
  ])('"%s" → %s', (phrase, label) => {
    expect(labelForPhrase(phrase)).toBe(label);
  });

  it.each(['unicorn', 'the sky', 'a dragon', ''])('"%s" names no label', (phrase) => {
    expect(labelForPhrase(phrase)).toBeUndefined();
  });
});

describe('referring words', () => {
  it.each([
    ['the left dog', { noun: 'dog', selector: { kind: 'side', side: 'left' } }],
    ['the dog on the right', { noun: 'dog', selector: { kind: 'side', side: 'right' } }],
    ['the biggest car', { noun: 'car', selector: { kind: 'size', size: 'largest' } }],
    ['the smallest one', { selector: { kind: 'size', size: 'smallest' } }],
    ['the second person', { noun: 'person', selector: { kind: 'ordinal', n: 2 } }],
    ['the 2nd one', { selector: { kind: 'ordinal', n: 2 } }],
    ['the last dog', { noun: 'dog', selector: { kind: 'ordinal', n: -1 } }],
    ['the top cat', { noun: 'cat', selector: { kind: 'side', side: 'top' } }],
    ['the cat at the bottom', { noun: 'cat', selector: { kind: 'side', side: 'bottom' } }],
    ['the middle one', { selector: { kind: 'side', side: 'middle' } }],
    ['all the dogs', { noun: 'dogs', selector: { kind: 'all' } }],
    ['the dogs', { noun: 'dogs', selector: { kind: 'all' } }],
    ['every person', { noun: 'person', selector: { kind: 'all' } }],
    ['the dog', { noun: 'dog', selector: { kind: 'any' } }],
    ['the bus', { noun: 'bus', selector: { kind: 'any' } }],
  ])('"%s" → %o', (phrase, expected) => {
    expect(parseReferring(phrase)).toEqual(expected);
  });

  it('picks by side, size and ordinal, ordinals counting left to right', () => {
    const one = (phrase: string) => {
      const s = select(dogs, parseReferring(phrase).selector);
      if (s.kind !== 'one') throw new Error(`expected one, got ${s.kind}`);
      return s.detection;
    };
    expect(one('the left dog')).toBe(left);
    expect(one('the dog on the right')).toBe(right);
    expect(one('the middle one')).toBe(middle);
    expect(one('the biggest dog')).toBe(middle);
    expect(one('the smallest one')).toBe(right);
    expect(one('the first dog')).toBe(left);
    expect(one('the second one')).toBe(middle);
    expect(one('the last dog')).toBe(right);
    expect(one('the top dog')).toBe(middle);
    expect(one('the bottom dog')).toBe(right);
  });

  it('returns every match, left to right, for a plural', () => {
    expect(select(dogs, parseReferring('all the dogs').selector)).toEqual({ kind: 'all', detections: [left, middle, right] });
  });

  it('asks "which one?" when a singular phrase matches several, numbered left to right', () => {
    const s = select(dogs, parseReferring('the dog').selector);
    expect(s.kind).toBe('many');
    if (s.kind !== 'many') return;
    expect(s.detections).toEqual([left, middle, right]);
    expect(s.choice.question).toBe('I found 3 dogs — which one?');
    expect(s.choice.options).toEqual(['dog, left', 'dog, middle', 'dog, right']);
  });

  it('takes the one match of a singular phrase without asking', () => {
    expect(select([middle], parseReferring('the dog').selector)).toEqual({ kind: 'one', detection: middle });
  });

  it('answers a pick with the same left-to-right numbering, over any selector', () => {
    expect(select(dogs, parseReferring('the dog').selector, 1)).toEqual({ kind: 'one', detection: left });
    expect(select(dogs, parseReferring('the dog').selector, 3)).toEqual({ kind: 'one', detection: right });
    expect(select(dogs, parseReferring('the biggest dog').selector, 1)).toEqual({ kind: 'one', detection: left });
  });

  it('refuses a number past the last match with a user-facing message', () => {
    const error = (() => {
      try {
        select(dogs, { kind: 'any' }, 5);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(/only 3 dogs.*from 1 to 3/);
    expect(() => select(dogs, parseReferring('the fifth dog').selector)).toThrow(InvalidArgumentError);
  });

  it('gives nothing (not an error) when nothing was found', () => {
    expect(select([], { kind: 'any' })).toEqual({ kind: 'all', detections: [] });
  });
});
