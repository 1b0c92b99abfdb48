import { InvalidArgumentError } from '../../errors.ts';
import type { Choice } from '../specialist.ts';
import { countOf, pluralOf } from './coco-labels.ts';
import type { Detection } from './detection.ts';
import { boxArea } from './nms.ts';
import { isPluralWord } from './label-match.ts';

/**
 * Referring expressions over detections: "the left dog", "the second person", "the biggest car", "all
 * the dogs". Parsing splits a phrase into the noun (what to detect) and a selector (which of the found
 * ones); selection applies the selector. Ordinals and the numbers of a "which one?" question both count
 * left to right, so "the second one" and an answer "2" mean the same box.
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

export type Selection =
  | { kind: 'one'; detection: Detection }
  | { kind: 'all'; detections: Detection[] }
  | { kind: 'many'; detections: Detection[]; choice: Choice };

const ORDINALS: Readonly<Record<string, number>> = {
  first: 1, second: 2, third: 3, fourth: 4, fifth: 5, sixth: 6, seventh: 7, eighth: 8, ninth: 9, tenth: 10, last: -1,
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
  let text = ` ${phrase.toLowerCase().replace(/[^a-z0-9#.\s-]/g, ' ').replace(/-/g, ' ')} `.replace(/\s+/g, ' ');
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
  text = text.replace(/\s+(?:in|on)\s+(?:the\s+)?(?:picture|photo|image|frame|video)$/, '').replace(/\s+(?:there|here)$/, '').trim();
  const noun = text === '' || text === 'it' ? undefined : text;
  if (selector === undefined) {
    const lastWord = noun?.split(' ').at(-1);
    selector = all || (lastWord !== undefined && isPluralWord(lastWord)) || /\bones\b/.test(phrase.toLowerCase()) ? { kind: 'all' } : { kind: 'any' };
  }
  return noun === undefined ? { selector } : { noun, selector };
}

const centreX = (d: Detection) => (d.x1 + d.x2) / 2;
const centreY = (d: Detection) => (d.y1 + d.y2) / 2;

/** The numbering users see: left to right by box centre, top to bottom on a tie. */
export function leftToRight(detections: readonly Detection[]): Detection[] {
  return [...detections].sort((a, b) => centreX(a) - centreX(b) || centreY(a) - centreY(b));
}

/** "left", "middle" or "right" of each box within the row the boxes span. */
function positionsInRow(ordered: readonly Detection[]): string[] {
  if (ordered.length === 2) return ['left', 'right'];
  const xs = ordered.map(centreX);
  const min = Math.min(...xs);
  const span = Math.max(...xs) - min;
  return xs.map((x) => {
    const t = span === 0 ? 0.5 : (x - min) / span;
    return t < 1 / 3 ? 'left' : t > 2 / 3 ? 'right' : 'middle';
  });
}

/**
 * "I found 3 dogs — which one?", with options "dog, left", "dog, middle"… in left-to-right order. The
 * options carry no numbers: whoever shows them numbers them (outcome-text.ts writes "1. dog, left").
 */
export function whichOne(ordered: readonly Detection[]): Choice {
  const labels = new Set(ordered.map((d) => d.label));
  const what = labels.size === 1 ? countOf(ordered[0]!.label, ordered.length) : `${ordered.length} things`;
  const positions = positionsInRow(ordered);
  return { question: `I found ${what} — which one?`, options: ordered.map((d, i) => `${d.label}, ${positions[i]}`) };
}

function byOrdinal(ordered: readonly Detection[], n: number, what: string): Detection {
  const index = n === -1 ? ordered.length - 1 : n - 1;
  const found = ordered[index];
  if (found === undefined || index < 0) {
    throw new InvalidArgumentError(
      `I found ${ordered.length === 1 ? 'only one' : `only ${ordered.length}`} ${what}, so there is no number ${n}: pick a number from 1 to ${ordered.length} (counted left to right).`,
      { pick: n, count: ordered.length },
    );
  }
  return found;
}

function bySide(ordered: readonly Detection[], side: Side): Detection {
  const best = (score: (d: Detection) => number) => ordered.reduce((a, b) => (score(b) < score(a) ? b : a));
  switch (side) {
    case 'left':
      return ordered[0]!;
    case 'right':
      return ordered[ordered.length - 1]!;
    case 'top':
      return best(centreY);
    case 'bottom':
      return best((d) => -centreY(d));
    case 'middle': {
      const xs = ordered.map(centreX);
      const mid = (Math.min(...xs) + Math.max(...xs)) / 2;
      return best((d) => Math.abs(centreX(d) - mid));
    }
  }
}

/**
 * Applies a selector. `pick` (1-based, from an answer to "which one?") wins over the selector and
 * counts left to right like the question's options. No detections → `all` with none: the caller says
 * "No dogs found." in its own words.
 */
export function select(detections: readonly Detection[], selector: Selector, pick?: number): Selection {
  const ordered = leftToRight(detections);
  if (ordered.length === 0) return { kind: 'all', detections: [] };
  const label = new Set(ordered.map((d) => d.label)).size === 1 ? ordered[0]!.label : 'thing';
  const what = ordered.length === 1 ? label : pluralOf(label);
  if (pick !== undefined) {
    if (!Number.isInteger(pick)) throw new InvalidArgumentError(`Expected a whole number to pick with but received ${pick}.`, { pick });
    return { kind: 'one', detection: byOrdinal(ordered, pick, what) };
  }
  switch (selector.kind) {
    case 'all':
      return { kind: 'all', detections: ordered };
    case 'any':
      return ordered.length === 1 ? { kind: 'one', detection: ordered[0]! } : { kind: 'many', detections: ordered, choice: whichOne(ordered) };
    case 'ordinal':
      return { kind: 'one', detection: byOrdinal(ordered, selector.n, what) };
    case 'side':
      return { kind: 'one', detection: bySide(ordered, selector.side) };
    case 'size': {
      const sign = selector.size === 'largest' ? -1 : 1;
      return { kind: 'one', detection: ordered.reduce((a, b) => (sign * boxArea(b) < sign * boxArea(a) ? b : a)) };
    }
  }
}
