import type { Selector, Side } from '../../core/referring.ts';
import { InvalidArgumentError } from '../../errors.ts';
import type { Choice } from '../specialist.ts';
import { countOf, pluralOf } from '../models/coco-labels.ts';
import type { Detection } from '../ops/detection.ts';
import { boxArea } from '../ops/nms.ts';

/**
 * Referring expressions over detections: "the left dog", "the second person", "the biggest car", "all
 * the dogs". Parsing (core/referring.ts) splits a phrase into the noun (what to detect) and a selector
 * (which of the found ones); selection, here, applies the selector. Ordinals and the numbers of a
 * "which one?" question both count left to right, so "the second one" and an answer "2" mean the same box.
 */

export type Selection =
  | { kind: 'one'; detection: Detection }
  | { kind: 'all'; detections: Detection[] }
  | { kind: 'many'; detections: Detection[]; choice: Choice };

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
