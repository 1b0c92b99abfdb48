import { DURATION_SOURCE, parseDuration } from '../numbers.ts';
import type { Rule, RuleInput, RuleOutcome } from './rule.ts';
import { cleanPhrase, task } from './rule.ts';

/**
 * Generation rules read `text` (pronouns kept), because "make *it* a painting" edits the current media
 * while "make a painting" creates one: the pronoun is the only difference.
 */

const D = DURATION_SOURCE;
const ASKING = String.raw`(?:generate|create|make|produce|render|draw|paint|sketch|illustrate|design|imagine|visuali[sz]e|dream\s+up|show\s+me|give\s+me|send\s+me|get\s+me|i\s+want|i'd\s+like|i\s+would\s+like|can\s+i\s+(?:get|have|see)|how\s+about)`;
const PICTURE = String.raw`(?:image|picture|photo|photograph|drawing|painting|illustration|render|rendering|pic|artwork|art|portrait|sketch|wallpaper|logo|icon|poster|graphic|banner|avatar|sticker|meme|cartoon|comic)s?`;
const CLIP = String.raw`(?:video|clip|movie|animation|film|gif|animated\s+gif|short|cinemagraph)s?`;
const ABOUT = String.raw`(?:of|showing|with|depicting|about|that\s+shows|where|in\s+which|featuring)`;

const VIDEO = new RegExp(
  String.raw`^${ASKING}\s+(?:me\s+)?(?:an?\s+|some\s+)?(?:new\s+)?(?:(${D})(?:\s+long)?\s+|short\s+|quick\s+|little\s+|brief\s+|looping\s+|cinematic\s+|slow[\s-]motion\s+)*${CLIP}\s+${ABOUT}\s+(.+)$`,
  'i',
);
const IMAGE = new RegExp(String.raw`^${ASKING}\s+(?:me\s+)?(?:an?\s+|some\s+|the\s+)?(?:new\s+)?(?:\w+\s+)?${PICTURE}\s+${ABOUT}\s+(.+)$`, 'i');
const IMAGE_DIRECT = /^(?:draw|paint|sketch|illustrate|imagine|visuali[sz]e|dream\s+up|generate|create|render|design|picture)\s+(?:me\s+)?(.+)$/i;
/** "show me a cat" asks for a new picture; "show me the cat" is a location (understand rules). */
const SHOW_ME = /^(?:show|give|send)\s+me\s+((?:an?|some)\s+.+)$/i;
const IMAGE_THING =
  /^(?:make|create|design|generate|produce|give\s+me)\s+(?:me\s+)?(an?\s+(?:\w+\s+){0,3}?(?:logo|icon|poster|wallpaper|banner|avatar|meme|sticker|illustration|drawing|painting|picture|image|portrait|card|flyer|cover)\b.*)$/i;

/** Words that show the clause is about media we already have, so it is an edit, not a new picture. */
const ABOUT_EXISTING =
  /\b(?:it|this|that|these|those|them|him|her)\b|\b(?:on|onto|to|into|over|around|in)\s+(?:the|his|her|their|its|my)\s+(?!(?:snow|sky|sea|ocean|rain|dark|moon|sun|night|morning|evening|wind|forest|desert|city|mountains?|jungle|woods|water|air|field|garden|street|park|beach|style|background|foreground|distance|middle|center|centre|corner)\b)|^(?:the|his|her|their|my)\b/i;

const ASPECTS: [RegExp, string][] = [
  [/[,\s]*\b(?:in\s+|at\s+|with\s+(?:an?\s+)?)?(\d{1,2})\s*[:x×]\s*(\d{1,2})(?:\s+(?:aspect(?:\s+ratio)?|ratio|format))?$/i, ''],
  [/[,\s]*\b(?:in\s+|as\s+)?(?:a\s+)?(?:widescreen|landscape\s+(?:format|orientation|mode))(?:\s+(?:format|image))?$/i, '16:9'],
  [/[,\s]*\b(?:in\s+|as\s+)?(?:a\s+)?portrait\s+(?:format|orientation|mode)$/i, '9:16'],
  [/[,\s]*\b(?:in\s+|as\s+)?(?:a\s+)?square(?:\s+(?:format|image|aspect))?$/i, '1:1'],
];

/** "a red fox, 16:9" → prompt without the aspect, and the aspect as its own argument. */
function withAspect(prompt: string): Record<string, unknown> {
  for (const [pattern, aspect] of ASPECTS) {
    const m = pattern.exec(prompt);
    if (!m) continue;
    const value = aspect === '' ? `${m[1]}:${m[2]}` : aspect;
    const rest = cleanPhrase(prompt.slice(0, m.index));
    if (rest !== '') return { prompt: rest, aspect: value };
  }
  return { prompt: cleanPhrase(prompt) };
}

function trailingSeconds(prompt: string): { prompt: string; seconds?: number } {
  const m = new RegExp(String.raw`[,\s]+(?:for\s+|lasting\s+|that\s+lasts\s+|about\s+|,\s*)?(${D})(?:\s+long)?$`, 'i').exec(prompt);
  if (!m) return { prompt };
  return { prompt: prompt.slice(0, m.index), seconds: parseDuration(m[1]!)! };
}

function generateVideo(text: string): RuleOutcome | undefined {
  const m = VIDEO.exec(text);
  if (!m) return undefined;
  const trailing = trailingSeconds(m[2]!);
  const prompt = cleanPhrase(trailing.prompt);
  if (prompt === '' || /^(?:it|this|that|this\s+\w+|the\s+(?:image|picture|photo))$/i.test(prompt)) return undefined;
  const seconds = m[1] ? parseDuration(m[1]) : trailing.seconds;
  return task('generate_video', seconds === undefined ? { prompt } : { prompt, seconds });
}

function generateImage({ text }: RuleInput): RuleOutcome | undefined {
  const described = IMAGE.exec(text);
  if (described) {
    const args = withAspect(described[1]!);
    if (args.prompt === '' || /^(?:it|this|that)$/i.test(String(args.prompt))) return undefined;
    return task('generate_image', args);
  }
  const thing = IMAGE_THING.exec(text);
  if (thing && !ABOUT_EXISTING.test(thing[1]!)) return task('generate_image', withAspect(thing[1]!));
  const shown = SHOW_ME.exec(text);
  if (shown && !ABOUT_EXISTING.test(shown[1]!) && !/\b(?:frame|still|screenshot|caption|description|summary|mask|depth|gif|webp)\b/i.test(shown[1]!)) {
    return task('generate_image', withAspect(shown[1]!));
  }
  const direct = IMAGE_DIRECT.exec(text);
  if (!direct) return undefined;
  const what = direct[1]!;
  // "draw a hat on the dog", "paint it blue", "draw boxes around the cars" change what we have.
  if (ABOUT_EXISTING.test(what) || /^(?:(?:bounding\s+)?box(?:es)?|a\s+(?:box|circle|line|border|frame|outline)\s+around)\b/i.test(what)) return undefined;
  if (!/^(?:an?|some|two|three|four|five|several|many|me|my)\b|^\w+s\b/i.test(what) && what.split(/\s+/).length < 2) return undefined;
  return task('generate_image', withAspect(what));
}

const ANIMATE = [
  /^(?:animate|bring\s+(?:to\s+life|alive)|make\s+(?:move|come\s+alive|come\s+to\s+life|alive|moving|animated|dynamic|a\s+(?:live|living)\s+photo)|turn\s+into\s+(?:an?\s+)?(?:video|animation|clip|movie|cinemagraph|live\s+photo|moving\s+(?:image|picture))|(?:make|create|generate|give\s+me)\s+(?:an?\s+)?(?:short\s+)?(?:video|animation|clip|cinemagraph|moving\s+(?:image|picture))|add\s+(?:some\s+)?(?:motion|movement|animation)|cinemagraph)\b\s*(.*)$/i,
];
const MAKE_MOVE =
  /^make\s+(.+?)\s+(?:move|moving|flow|flowing|dance|dancing|walk|walking|run|running|wave|waving|fly|flying|swim|swimming|sway|swaying|spin|spinning|jump|jumping|talk|talking|ripple|rippling|drift|drifting|blink|blinking)\b.*$/i;

function animate({ bare, text }: RuleInput): RuleOutcome | undefined {
  const moving = MAKE_MOVE.exec(bare);
  if (moving) return task('animate', { prompt: cleanPhrase(text) });
  for (const pattern of ANIMATE) {
    const m = pattern.exec(bare);
    if (!m) continue;
    let rest = m[1] ?? '';
    const trailing = trailingSeconds(` ${rest}`);
    rest = cleanPhrase(trailing.prompt.replace(/^\s*(?:(?:with|so\s+that|where|showing|in\s+which|out\s+of|from|of|using)\s+)+/i, ''));
    const args: Record<string, unknown> = {};
    if (rest !== '') args.prompt = rest;
    if (trailing.seconds !== undefined) args.seconds = trailing.seconds;
    // "animate a cat dancing" describes something new: that is a generated video.
    if (/^animate\s+an?\s+/i.test(bare) && typeof args.prompt === 'string') return task('generate_video', args);
    return task('animate', args);
  }
  return undefined;
}

export const GENERATE_RULES: Rule[] = [
  { name: 'generate_video', match: ({ text }) => generateVideo(text) },
  { name: 'generate_image', match: generateImage },
  { name: 'animate', match: animate },
];
