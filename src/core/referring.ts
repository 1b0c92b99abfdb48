import { isPluralWord } from './plurals.ts';

/**
 * The grammar of referring phrases: "the dog on the right" → the noun to look for ("dog") and a selector
 * saying which of the found ones is meant. Words only, no pixels: the planner reads "which one?" answers
 * with it, and the detectors (vision/detect/referring.ts) apply the selector to boxes.
 */

export type Side = 'left' | 'right' | 'top' | 'bottom' | 'middle';

export type Selector =
  /** every match ("all the dogs", "the dogs") */
  | { kind: 'all' }
  /** a singular phrase without a modifier ("the dog"): unique, or ask */
  | { kind: 'any' }
  /** n-th from the left, 1-based; -1 = the last (rightmost) */
  | { kind: 'ordinal'; n: number }
  | { kind: 'side'; side: Side }
  | { kind: 'size'; size: 'largest' | 'smallest' };

export interface Referring {
  /** What to look for ("dog"); undefined for "the left one", "the second one". */
  noun?: string;
  selector: Selector;
}

const ORDINALS: Readonly<Record<string, number>> = {
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  fifth: 5,
  sixth: 6,
  seventh: 7,
  eighth: 8,
  ninth: 9,
  tenth: 10,
  last: -1,
};
const ORDINAL_WORD = /\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last|(\d+)(?:st|nd|rd|th))\b/;
const NUMBERED = /(?:\bnumber\s+|#\s*|\bno\.?\s+)(\d+)\b/;

/** Position words, as adjectives ("the left dog") or as tails ("the dog on the left"). */
const SIDES: readonly [RegExp, Side][] = [
  [/\b(?:(?:on|to|at)\s+(?:the\s+)?(?:far\s+)?left(?:\s+(?:side|hand\s+side))?|left(?:most|[\s-]hand)?|leftmost)\b/, 'left'],
  [/\b(?:(?:on|to|at)\s+(?:the\s+)?(?:far\s+)?right(?:\s+(?:side|hand\s+side))?|right(?:most|[\s-]hand)?|rightmost)\b/, 'right'],
  [/\b(?:(?:at|on)\s+(?:the\s+)?top|top(?:most)?|upper(?:most)?|highest)\b/, 'top'],
  [/\b(?:(?:at|on)\s+(?:the\s+)?bottom|bottom(?:most)?|lower(?:most)?|lowest)\b/, 'bottom'],
  [/\b(?:(?:in|at)\s+the\s+(?:middle|centre|center)|middle|centre|center|central)\b/, 'middle'],
];
const LARGEST = /\b(?:biggest|largest|bigger|larger|big|large|huge|closest|nearest)\b/;
const SMALLEST = /\b(?:smallest|smaller|small|little|tiny|tiniest|farthest|furthest)\b/;
const ALL = /^(?:all|every|each|both)\b(?:\s+of)?|\b(?:all|every|each|both)\s+(?:of\s+)?(?:the\s+)?/;
const FILLER = /\b(?:the|a|an|this|that|these|those|one|ones|of|side|hand|its|his|her|their|my|your|please|thing|things|object|objects)\b/g;

/** "the dog on the right" → { noun: "dog", selector: side right }; "all the dogs" → { noun: "dogs", all }. */
export function parseReferring(phrase: string): Referring {
  let text = ` ${phrase
    .toLowerCase()
    .replace(/[^a-z0-9#.\s-]/g, ' ')
    .replace(/-/g, ' ')} `.replace(/\s+/g, ' ');
  let selector: Selector | undefined;
  const numbered = NUMBERED.exec(text);
  const ordinal = ORDINAL_WORD.exec(text);
  if (numbered) {
    selector = { kind: 'ordinal', n: Number(numbered[1]) };
    text = text.replace(NUMBERED, ' ');
  } else if (ordinal) {
    selector = { kind: 'ordinal', n: ordinal[2] !== undefined ? Number(ordinal[2]) : ORDINALS[ordinal[1]!]! };
    text = text.replace(ORDINAL_WORD, ' ');
  }
  if (selector === undefined) {
    for (const [pattern, side] of SIDES) {
      if (pattern.test(text)) {
        selector = { kind: 'side', side };
        text = text.replace(pattern, ' ');
        break;
      }
    }
  }
  if (selector === undefined && LARGEST.test(text)) {
    selector = { kind: 'size', size: 'largest' };
    text = text.replace(LARGEST, ' ');
  } else if (selector === undefined && SMALLEST.test(text)) {
    selector = { kind: 'size', size: 'smallest' };
    text = text.replace(SMALLEST, ' ');
  }
  const all = ALL.test(text.trim());
  text = text.trim().replace(ALL, ' ').replace(FILLER, ' ').replace(/\s+/g, ' ').trim();
  // A trailing "in the picture" or "there" says nothing about which one.
  text = text
    .replace(/\s+(?:in|on)\s+(?:the\s+)?(?:picture|photo|image|frame|video)$/, '')
    .replace(/\s+(?:there|here)$/, '')
    .trim();
  const noun = text === '' || text === 'it' ? undefined : text;
  if (selector === undefined) {
    const lastWord = noun?.split(' ').at(-1);
    selector = all || (lastWord !== undefined && isPluralWord(lastWord)) || /\bones\b/.test(phrase.toLowerCase()) ? { kind: 'all' } : { kind: 'any' };
  }
  return noun === undefined ? { selector } : { noun, selector };
}
