import { takesPick } from '../../core/tasks.ts';
import type { Invocation } from '../../core/types.ts';
import { parseReferring } from '../../core/referring.ts';
import type { PickAnswer, Rule } from './rule.ts';

/**
 * Answers to "I found 3 dogs — which one?": "2", "#2", "number 3", "the second one", "the left one".
 * Such a clause means nothing alone, so it repeats the last turn's invocation with the answer added:
 * a number as `args.pick` (counted left to right, as the question numbered them), a position or size as
 * a referring phrase on the same noun ("the left one" after "remove the dog" → "the left dog").
 */

const NUMBER = /^(?:(?:#|no\.?|number|option|choice|pick|take|the)\s*)?(\d{1,2})(?:st|nd|rd|th)?(?:\s+one)?$/i;
const ORDINAL_WORDS = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth'];
const ORDINAL = new RegExp(String.raw`^(?:(?:pick|take|choose|i\s+mean)\s+)?(?:the\s+)?(${ORDINAL_WORDS.join('|')})(?:\s+one)?$`, 'i');
/** "the left one", "the one on the right", "the biggest one", "the last one": a selector without a noun. */
const ONE = /^(?:(?:pick|take|choose|i\s+mean)\s+)?(?:the\s+)?(?:[a-z]+\s+)?one(?:\s+(?:on|at|in)\s+the\s+[a-z]+)?$/i;

/** The answer a clause gives, if it is only an answer to "which one?". */
export function pickAnswer(clause: string): PickAnswer | undefined {
  const text = clause.trim().replace(/[.!]+$/, '');
  const number = NUMBER.exec(text);
  if (number) return Number(number[1]) >= 1 ? { number: Number(number[1]) } : undefined;
  const ordinal = ORDINAL.exec(text);
  if (ordinal) return { number: ORDINAL_WORDS.indexOf(ordinal[1]!.toLowerCase()) + 1 };
  if (!ONE.test(text)) return undefined;
  const { noun, selector } = parseReferring(text);
  if (noun !== undefined || selector.kind === 'any' || selector.kind === 'all') return undefined;
  return { phrase: text.replace(/^(?:pick|take|choose|i\s+mean)\s+/i, '') };
}

/** "the left one" on the phrase "the dog" → "the left dog" (the noun of the earlier phrase replaces "one"). */
function onSameNoun(answer: string, previous: unknown): string {
  const noun = typeof previous === 'string' ? parseReferring(previous).noun : undefined;
  return noun === undefined ? answer : answer.replace(/\bone\b/i, noun);
}

/**
 * The last turn's invocations with the answer applied, or the reply to give when there was no question
 * to answer. Only invocations that choose among found objects take it; the others repeat unchanged.
 */
export function withPick(last: readonly Invocation[], answer: PickAnswer): Invocation[] | string {
  if (!last.some((i) => takesPick(i.task) && typeof i.args.phrase === 'string')) {
    return 'There is nothing to choose from: ask for something first, for example "remove the dog" or "segment the person".';
  }
  return last.map((invocation) => {
    if (!takesPick(invocation.task) || typeof invocation.args.phrase !== 'string') return invocation;
    const { pick: _, ...args } = invocation.args;
    return 'number' in answer
      ? { ...invocation, args: { ...args, pick: answer.number } }
      : { ...invocation, args: { ...args, phrase: onSameNoun(answer.phrase, invocation.args.phrase) } };
  });
}

export const PICK_RULES: Rule[] = [
  {
    name: 'pick',
    match: ({ raw }) => {
      const answer = pickAnswer(raw);
      return answer === undefined ? undefined : { kind: 'repeat', pick: answer };
    },
  },
];
