import type { Rule, RuleInput, RuleOutcome } from './rule.ts';
import { task } from './rule.ts';
import { COUNT_SOURCE, countArgs, isOutcome, parseCount } from './picture-count.ts';

/**
 * Variations of the picture we have: "give me some variations", "another version of this", "more like this",
 * "vary it", "3 variations". Matched on `bare` (references taken out, so "of this", "of the second one" are
 * gone) and only as a whole clause: "a version with a hat" describes a change, which the free-form edit reads.
 * A singular article asks for one picture ("another version" → count 1); "some" and no number leave the count
 * to the engine.
 */

const VERB = String.raw`(?:give|make|generate|create|show|get|send|produce|render|do|try|draw|want|need|see|can\s+i\s+(?:get|have|see)|i\s+(?:want|need)|i'?d\s+like|i\s+would\s+like|let\s+me\s+see|how\s+about)(?:\s+me)?`;
const ONE = String.raw`(?:an?|another|one|one\s+more|a\s+(?:different|new|fresh|second))`;
const AMOUNT = String.raw`(${COUNT_SOURCE})|(${ONE})|(?:some|more|a\s+few\s+more|any)`;
const QUALITY = String.raw`(?:(?:more|other|different|new|fresh|alternative|alternate|random|slight|similar|small)\s+)*`;
const NOUN = String.raw`(?:variations?|variants?|versions?|alternatives?|alternates?|iterations?)`;

const VARIATIONS = new RegExp(String.raw`^(?:${VERB}\s+)?(?:(?:${AMOUNT})\s+)?${QUALITY}${NOUN}(?:\s+(?:of|on|for))?$`, 'i');
const MORE_LIKE = new RegExp(String.raw`^(?:${VERB}\s+)?(?:(${COUNT_SOURCE})\s+|(${ONE})\s+|some\s+)?(?:more|others?)\s+(?:like|similar(?:\s+to)?)$`, 'i');
const SIMILAR = new RegExp(
  String.raw`^(?:${VERB}\s+)?(?:(${COUNT_SOURCE})\s+|(${ONE})\s+|(?:some|more)\s+)?similar\s+(?:ones?|images?|pictures?|pics?|versions?)$`,
  'i',
);
const VARY = /^(?:vary|riff(?:\s+on)?|remix)(?:\s+(slightly|a\s+(?:little\s+)?bit|a\s+little|subtly|a\s+lot|strongly|heavily|wildly))?$/i;

function count(n: string | undefined, singular: string | undefined): number | undefined {
  if (n !== undefined) return parseCount(n);
  return singular === undefined ? undefined : 1;
}

function withCount(n: number | undefined, extra: Record<string, unknown> = {}): RuleOutcome {
  const args = countArgs('vary', n);
  return isOutcome(args) ? args : task('vary', { ...args, ...extra });
}

function vary({ bare }: RuleInput): RuleOutcome | undefined {
  const variations = VARIATIONS.exec(bare);
  if (variations) return withCount(count(variations[1], variations[2]));
  const similar = SIMILAR.exec(bare);
  if (similar) return withCount(count(similar[1], similar[2]));
  const more = MORE_LIKE.exec(bare);
  if (more) return withCount(count(more[1], more[2]));
  const verb = VARY.exec(bare);
  if (!verb) return undefined;
  // How far from the picture: a touch keeps nearly everything, a lot keeps only the layout.
  const how = verb[1]?.toLowerCase();
  if (how === undefined) return withCount(undefined);
  return withCount(undefined, { strength: /lot|strong|heav|wild/.test(how) ? 0.85 : 0.35 });
}

export const VARY_RULES: Rule[] = [{ name: 'vary', match: vary }];
