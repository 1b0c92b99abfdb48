import { DURATION_SOURCE, parseDuration } from '../numbers.ts';
import { cameraMotion, takeFps } from './camera-move.ts';
import { COUNT_SOURCE, countArgs, isOutcome, parseCount } from './picture-count.ts';
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
/** "3 variations of a castle" asks for pictures of a castle ("a version with a hat" is a change, not a picture of "a hat"). */
const PICTURE_ABOUT = String.raw`(?:${PICTURE}\s+${ABOUT}|(?:variations?|versions?)\s+of)`;

const VIDEO = new RegExp(
  String.raw`^${ASKING}\s+(?:me\s+)?(?:an?\s+|some\s+)?(?:new\s+)?(?:(${D})(?:\s+long)?\s+|short\s+|quick\s+|little\s+|brief\s+|looping\s+|cinematic\s+|slow[\s-]motion\s+)*${CLIP}\s+${ABOUT}\s+(.+)$`,
  'i',
);
const IMAGE = new RegExp(String.raw`^${ASKING}\s+(?:me\s+)?(?:(${COUNT_SOURCE})\s+|an?\s+|some\s+|the\s+)?(?:new\s+)?(?:\w+\s+)?${PICTURE_ABOUT}\s+(.+)$`, 'i');
/** "four pictures of a fox": a count makes it a request even without a verb. */
const COUNTED = new RegExp(String.raw`^(${COUNT_SOURCE})\s+(?:\w+\s+)?${PICTURE_ABOUT}\s+(.+)$`, 'i');
/**
 * "draw 4 foxes": a count before a plural asks for that many pictures (a grid), each of "foxes". Words that put
 * them in one scene ("two cats playing together") keep one picture with the number in its prompt.
 */
const COUNT_OF_THINGS = new RegExp(String.raw`^(${COUNT_SOURCE})\s+((?:[\w-]+\s+){0,2}[\w-]+s\b.*)$`, 'i');
const ONE_SCENE =
  /\b(?:together|each\s+other|one\s+another|side\s+by\s+side|in\s+(?:a|one)\s+(?:picture|image|row|line|group)|group|pair|family|team|couple|both|and)\b/i;
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

/**
 * What the picture must not show, said the way people say it: "a castle, no people", "a forest without any
 * animals", "no text or watermark". A "no" needs a comma before it ("a man with no hair" describes him);
 * "without" does not.
 */
const NEGATIVE = /(?:\s*,\s*(?:but\s+)?(?:(?:with\s+)?no|without(?:\s+any)?)|\s+(?:but\s+)?without(?:\s+any)?)\s+(.+)$/i;
const NEGATIVE_SEPARATOR = /\s*,\s*(?:and\s+)?(?:(?:no|without)(?:\s+any)?\s+)?|\s+(?:and|or|nor)\s+(?:(?:no|without)(?:\s+any)?\s+)?/i;

function withNegative(args: Record<string, unknown>): Record<string, unknown> {
  const prompt = String(args.prompt);
  const m = NEGATIVE.exec(prompt);
  if (!m) return args;
  const negative = m[1]!
    .split(NEGATIVE_SEPARATOR)
    .map((w) => cleanPhrase(w.replace(/^(?:any|some)\s+/i, '')))
    .filter((w) => w !== '')
    .join(', ');
  const rest = cleanPhrase(prompt.slice(0, m.index));
  if (negative === '' || rest === '') return args;
  const again = args.aspect === undefined ? withAspect(rest) : { prompt: rest };
  return { ...args, ...again, negative };
}

/** The arguments of a picture request: prompt, aspect, negative and count (or the reply when the count is too high). */
function picture(prompt: string, count?: string): RuleOutcome | undefined {
  const args = withNegative(withAspect(prompt));
  if (args.prompt === '' || /^(?:it|this|that)$/i.test(String(args.prompt))) return undefined;
  const n = count === undefined ? undefined : parseCount(count);
  const counted = countArgs('generate_image', n);
  return isOutcome(counted) ? counted : task('generate_image', { ...args, ...counted });
}

function generateImage({ text }: RuleInput): RuleOutcome | undefined {
  const described = IMAGE.exec(text) ?? COUNTED.exec(text);
  if (described) return picture(described[2]!, described[1]);
  const thing = IMAGE_THING.exec(text);
  if (thing && !ABOUT_EXISTING.test(thing[1]!)) return picture(thing[1]!);
  const shown = SHOW_ME.exec(text);
  // "give me a version with a hat" is a change to the picture we have, not a new picture of "a version".
  const aVersion = /^(?:an?|another|some)\s+(?:\w+\s+)?(?:version|variation|variant)s?\b/i;
  if (
    shown &&
    !ABOUT_EXISTING.test(shown[1]!) &&
    !aVersion.test(shown[1]!) &&
    !/\b(?:frame|still|screenshot|caption|description|summary|mask|depth|gif|webp)\b/i.test(shown[1]!)
  ) {
    return picture(shown[1]!);
  }
  const direct = IMAGE_DIRECT.exec(text);
  if (!direct) return undefined;
  const what = direct[1]!;
  // "draw a hat on the dog", "paint it blue", "draw boxes around the cars" change what we have.
  if (ABOUT_EXISTING.test(what) || /^(?:(?:bounding\s+)?box(?:es)?|a\s+(?:box|circle|line|border|frame|outline)\s+around)\b/i.test(what)) return undefined;
  if (!/^(?:an?|some|two|three|four|five|several|many|me|my)\b|^\w+s\b/i.test(what) && what.split(/\s+/).length < 2) return undefined;
  const counted = COUNT_OF_THINGS.exec(what);
  // A number of pictures is small; "draw 100 steps up to a temple" describes one scene.
  const n = counted === null ? 0 : (parseCount(counted[1]!) ?? 0);
  if (counted && !ONE_SCENE.test(counted[2]!) && n >= 2 && n <= 10) return picture(counted[2]!, counted[1]);
  return picture(what);
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
    const rate = takeFps(m[1] ?? '');
    const trailing = trailingSeconds(` ${rate.rest}`);
    let rest = cleanPhrase(trailing.prompt.replace(/^\s*(?:(?:with|so\s+that|where|showing|in\s+which|out\s+of|from|of|using)\s+)+/i, ''));
    const args: Record<string, unknown> = {};
    // "animate it with a slow zoom in": the camera move is an argument, not a description of the scene.
    const camera = cameraMotion(rest);
    if (camera !== undefined) {
      args.motion = camera.motion;
      rest = cleanPhrase(camera.rest);
    }
    if (rest !== '') args.prompt = rest;
    if (trailing.seconds !== undefined) args.seconds = trailing.seconds;
    if (rate.fps !== undefined) args.fps = rate.fps;
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
