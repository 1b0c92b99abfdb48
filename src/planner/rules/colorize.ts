import type { Rule, RuleOutcome } from './rule.ts';
import { cleanPhrase, task } from './rule.ts';

/** Colourising a black-and-white picture: "colorize this old photo", "add colour to it", "bring back the colours". */
const COLORIZE =
  /\b(?:colou?ri[sz]e[ds]?|colou?ri[sz]ation|recolou?r\s+(?:this\s+|the\s+)?(?:old|black)|add\s+(?:some\s+|the\s+)?colou?rs?(?:\s+(?:to|back))?|bring\s+(?:back\s+)?(?:the\s+)?colou?rs?(?:\s+back)?|make\s+(?:in\s+)?(?:full\s+)?colou?r(?:ed)?|restore\s+(?:the\s+)?colou?rs?|in\s+(?:full\s+)?colou?r|put\s+colou?rs?\s+(?:back\s+)?in)\b/i;
/** "colorize it, the dress is red", "colorise it with a blue sky": hints about the colours become the prompt. */
const COLORIZE_HINT = /^(?:colou?ri[sz]e|add\s+colou?rs?(?:\s+to)?|recolou?r)\s*(?:,\s*|\s+(?:with|so\s+that|where|and\s+make)\s+)(.+)$/i;

function colorize(bare: string): RuleOutcome | undefined {
  if (!COLORIZE.test(bare)) return undefined;
  const hint = COLORIZE_HINT.exec(bare);
  const prompt = hint ? cleanPhrase(hint[1]!) : '';
  return task('colorize', prompt === '' ? {} : { prompt });
}

export const COLORIZE_RULE: Rule = { name: 'colorize', match: ({ bare }) => colorize(bare) };
