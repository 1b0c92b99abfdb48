import { COUNT_SOURCE, countArgs, isOutcome, parseCount } from './picture-count.ts';
import type { Rule, RuleInput, RuleOutcome, SeedChange } from './rule.ts';
import { cleanPhrase } from './rule.ts';

/**
 * Reproducing a generated picture. The bot writes the seed into every generative invocation before queueing,
 * so the last turn's invocations already carry it: "same seed" is "again" (the same bytes), and "same seed but
 * at night" is the last invocation with the words added to its prompt as a new clause — the seed keeps the
 * layout, the words change the scene. "… but a wolf instead" replaces the prompt. "new seed", "reroll" repeat
 * the last turn without its seed, so a fresh one is drawn. Matched on `text`, like "again" (which reproduces,
 * as the Retry button does).
 */

const AGAIN = String.raw`(?:(?:try\s+)?again|try\s+(?:it\s+|that\s+)?again|do\s+(?:it|that)\s+again|redo(?:\s+(?:it|that))?|repeat(?:\s+(?:it|that))?|one\s+more\s+time|once\s+more|make\s+(?:it|that|one)\s+again)`;
const SAME = String.raw`(?:(?:${AGAIN}\s+)?(?:(?:with|using|use|keep(?:ing)?|reuse|re-use|on)\s+)?(?:the\s+|that\s+|this\s+)?same\s+seed(?:\s+again)?|keep(?:ing)?\s+(?:the\s+|that\s+|this\s+)?seed|(?:use|reuse|re-use)\s+(?:the\s+|that\s+)?seed(?:\s+again)?)`;
const SAME_SEED = new RegExp(String.raw`^${SAME}$`, 'i');
const SAME_SEED_BUT = new RegExp(String.raw`^${SAME}\s*[,;:-]?\s*(?:but|and|with|only|just)\s+(.+)$`, 'i');
const NEW_SEED = new RegExp(
  String.raw`^(?:same\s+(?:prompt|thing|settings|picture|request)\s*[,;:-]?\s*(?:but\s+)?)?(?:${AGAIN}\s*,?\s*)?(?:(?:with|using|use|pick|take|try|get|give\s+it|draw)\s+)?(?:a\s+)?(?:new|different|another|fresh|random|other)\s+seed(?:\s+(?:this\s+time|instead))?$|^(?:re-?roll|roll\s+(?:it\s+)?again|roll\s+the\s+dice(?:\s+again)?|new\s+roll|another\s+roll|spin\s+again)(?:\s+(?:it|that|the\s+seed))?$`,
  'i',
);

/**
 * "use seed 5", "again with seed 12": the last turn with that seed. A verb is needed: "…, seed 5" after a request
 * is a setting of that request (generation-options.ts), and must not read as an instruction of its own.
 */
const SET_SEED =
  /^(?:again|try(?:\s+it)?\s+again|redo(?:\s+it)?|repeat(?:\s+it)?|do\s+it\s+again|use|try)(?:\s+(?:with|using))?\s+(?:the\s+|a\s+)?seed\s*(?:[:=#]|number)?\s*(\d{1,10})$/i;
/^(?:(?:again|try(?:\s+it)?\s+again|redo(?:\s+it)?|repeat(?:\s+it)?|do\s+it\s+again|use|try|with|using)\s+)*(?:the\s+|a\s+)?seed\s*(?:[:=#]|number)?\s*(\d{1,10})$/i;
/** "give me 2 more", "3 more please": the same request again with new seeds, that many pictures. "… like this" is vary. */
const MORE = new RegExp(
  String.raw`^(?:(?:give\s+me|make|draw|generate|create|show\s+me|get\s+me|do|i\s+want)\s+)?(${COUNT_SOURCE})\s+more(?:\s+(?:pictures?|images?|ones?|pics?|of\s+(?:these|those|them|it)))?$`,
  'i',
);

/**
 * "try again", "another one": after a generated picture the same seed would give the same bytes, which nobody
 * asking to try again wants, so these draw a new seed; after anything else they repeat as "again" does.
 */
const TRY_AGAIN =
  /^(?:try\s+(?:it\s+|that\s+)?again|re-?generate(?:\s+(?:it|that))?|redraw(?:\s+(?:it|that))?|have\s+another\s+go|give\s+it\s+another\s+(?:go|try|shot)|another\s+(?:one|try|go|take)|one\s+more|make\s+another(?:\s+one)?)$/i;

function changed(words: string): SeedChange {
  const w = cleanPhrase(words);
  const instead = /^(?:make\s+(?:it\s+)?)?(.+?)\s+instead$/i.exec(w);
  return instead ? { keep: true, prompt: { words: cleanPhrase(instead[1]!), mode: 'replace' } } : { keep: true, prompt: { words: w, mode: 'append' } };
}

function seed({ text }: RuleInput): RuleOutcome | undefined {
  if (SAME_SEED.test(text)) return { kind: 'repeat', seed: { keep: true } };
  const but = SAME_SEED_BUT.exec(text);
  if (but && cleanPhrase(but[1]!) !== '') return { kind: 'repeat', seed: changed(but[1]!) };
  if (NEW_SEED.test(text)) return { kind: 'repeat', seed: { keep: false } };
  if (TRY_AGAIN.test(text)) return { kind: 'repeat', seed: { keep: false, unlessSeedless: true } };
  const set = SET_SEED.exec(text);
  if (set) return { kind: 'repeat', seed: { keep: true, value: Number(set[1]) } };
  const more = MORE.exec(text);
  const count = more ? parseCount(more[1]!) : undefined;
  if (count !== undefined) {
    const counted = countArgs('generate_image', count);
    return isOutcome(counted) ? counted : { kind: 'repeat', seed: { keep: false, count } };
  }
  return undefined;
}

export const SEED_RULES: Rule[] = [{ name: 'seed', match: seed }];
