import { FACTOR_SOURCE, PERCENT_SOURCE, parseFactor, parsePercent, round } from '../numbers.ts';
import type { Rule, RuleOutcome } from './rule.ts';
import { invalid, task } from './rule.ts';

/**
 * Global colour and tone adjustments (sharp's modulate/linear/blur/sharpen/greyscale/negate).
 * Multipliers move by ±20% for "a bit", ±30% by default and ±50% for "much"; an explicit
 * percentage or factor wins ("20% brighter" → 1.2, "twice as bright" → 2).
 * One clause may ask for several ("brighter with more contrast"): all go into one `adjust`.
 * A clause that also names an object ("make the sky darker") is not a global adjustment; it is left
 * to the free-form edit rule, which can localise it.
 */

type Multiplier = 'brightness' | 'contrast' | 'saturation';

const MULTIPLIERS: { key: Multiplier; up: RegExp; down: RegExp; noun: RegExp }[] = [
  {
    key: 'brightness',
    up: /\b(?:bright(?:er|en(?:\s+up)?)|lighter|lighten(?:\s+up)?|(?:increase|raise|boost|bump\s+up|up|turn\s+up|crank\s+up|more)\s+(?:the\s+)?(?:brightness|exposure|light)|(?:brightness|exposure)\s+up|(?:too|very|so|a\s+bit|way)\s+dark|underexposed|overexpose|lift\s+the\s+shadows)\b/gi,
    down: /\b(?:dark(?:er|en)|dimmer|dim(?:\s+down)?|less\s+bright|(?:reduce|lower|decrease|turn\s+down|tone\s+down|less)\s+(?:the\s+)?(?:brightness|exposure|light)|(?:brightness|exposure)\s+down|(?:too|very|so|a\s+bit|way)\s+bright|overexposed|underexpose|moodier)\b/gi,
    noun: /\b(?:brightness|exposure)\b/gi,
  },
  {
    key: 'contrast',
    up: /\b(?:(?:more|higher|increase|boost|raise|add|bump\s+up|enhance|stronger|punch\s+up|crank\s+up|up)\s+(?:the\s+|some\s+)?contrast|contrast\s+(?:up|higher|boost)|higher[\s-]contrast|punchier|more\s+punchy|contrasty)\b/gi,
    down: /\b(?:(?:less|lower|reduce|decrease|soften|weaker|tone\s+down|turn\s+down)\s+(?:the\s+)?contrast|contrast\s+down|low(?:er)?[\s-]contrast|flatter)\b/gi,
    noun: /\bcontrast\b/gi,
  },
  {
    key: 'saturation',
    up: /\b(?:more\s+(?:saturat\w*|vivid|vibrant|colou?rful|colou?r)|(?:more\s+)?saturated?|(?:increase|boost|raise|bump\s+up|pump\s+up|crank\s+up|up)\s+(?:the\s+)?(?:saturation|colou?rs?|vibrance)|vivid|vibrant|colou?rful|richer\s+colou?rs?|(?:pop|punch\s+up)\s+the\s+colou?rs?)\b/gi,
    down: /\b(?:desaturat\w*|less\s+(?:saturat\w*|vivid|vibrant|colou?rful|colou?r)|(?:reduce|decrease|lower|tone\s+down|turn\s+down|mute)\s+(?:the\s+)?(?:saturation|colou?rs?|vibrance)|muted(?:\s+colou?rs?)?|washed[\s-]out|duller)\b/gi,
    noun: /\bsaturation\b/gi,
  },
];

const GRAYSCALE =
  /\b(?:black\s*(?:and|&|n|'n'|-)\s*white|b\s*&\s*w|b\/w|gr[ae]y[\s-]?scale|monochrome|mono(?:chromatic)?|no\s+colou?rs?|colou?rless|remove\s+(?:the\s+|all\s+(?:the\s+)?)?colou?rs?|drain\s+(?:the\s+|all\s+(?:the\s+)?)?colou?rs?|without\s+(?:any\s+)?colou?rs?|(?:make|turn|convert|change)\s+(?:to\s+|into\s+)?gr[ae]y)\b/gi;
const SEPIA = /\b(?:sepia(?:[\s-]tone[ds]?)?|old[\s-]timey|brownish\s+vintage)\b/gi;
const INVERT = /\b(?:invert(?:ed)?|inverse|negative|(?:reverse|flip|swap)\s+(?:the\s+|all\s+(?:the\s+)?)?colou?rs?)\b/gi;
const HUE = /\bhue(?:[\s-]shift)?\b/gi;
const BLUR = /\b(?:blur(?:red|ry)?|gaussian(?:\s+blur)?|defocus(?:ed)?|out\s+of\s+focus|fuzzy|soft[\s-]focus)\b/gi;
const PIXELATE = /\b(?:pixel+(?:ate|[ai][sz]e)d?|mosaic)\b/gi;
const SHARPEN =
  /\b(?:sharpen(?:ed)?|sharper|crisper|crisp\s+up|unblur|deblur|de-blur|less\s+blurry|remove\s+(?:the\s+)?blur|more\s+(?:detailed|defined|crisp)|in\s+focus|clearer|sharpness\s+up|(?:increase|boost|add)\s+(?:the\s+|some\s+)?sharpness)\b/gi;

const STRONG = /\b(?:much|a\s+lot|lots|way|very|really|significantly|considerably|drastically|heavily|extremely|super|far|strongly|massively|hugely)\b/i;
const SLIGHT =
  /\b(?:a\s+(?:little\s+)?bit|bit|slightly|a\s+little|little|a\s+touch|touch|somewhat|a\s+tad|tad|subtly|a\s+smidge|marginally|gently|lightly|mildly)\b/i;

/** Words that may sit around adjustments without naming an object ("make it a bit brighter, please"). */
const NEUTRAL = new Set(
  (
    'make turn set get give apply add increase decrease reduce raise lower boost bump up down crank pump tone adjust change shift rotate ' +
    "a an the bit little lot lots slightly much more less way very too it it's its and with by to of some also please image photo picture " +
    'pic video overall whole entire just tad touch smidge somewhat really super quite percent pct degrees degree deg x times as so is ' +
    'look looks looking effect filter color colors colour colours tone tones tint version level levels significantly considerably ' +
    'drastically heavily extremely amount radius sigma strength gaussian then again do can you i want need kind sort plus well one all ' +
    'everything brightness contrast saturation hue exposure sharpness blur far strongly gently lightly mildly subtly marginally ' +
    'massively hugely now go be was has feel feels bring into convert for me bit, gray grey blocks block pixels pixel'
  ).split(' '),
);

interface Found {
  start: number;
  end: number;
}

function allMatches(regex: RegExp, text: string): Found[] {
  return [...text.matchAll(regex)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
}

/** The words around a match, up to the neighbouring clause part, where its amount is written. */
function around(text: string, found: Found): { before: string; after: string } {
  const before =
    text
      .slice(Math.max(0, found.start - 30), found.start)
      .split(/\band\b|,|\bwith\b/i)
      .pop() ?? '';
  const after = text.slice(found.end, found.end + 30).split(/\band\b|,|\bwith\b/i)[0] ?? '';
  return { before, after };
}

/** How far a multiplier moves: an explicit percentage, else the strength words, else the default. */
function amount(window: { before: string; after: string }): number {
  const percent = new RegExp(PERCENT_SOURCE, 'i').exec(`${window.after} ${window.before}`);
  if (percent) return parsePercent(percent[0])! / 100;
  const both = `${window.before} ${window.after}`;
  if (STRONG.test(both)) return 0.5;
  if (SLIGHT.test(both)) return 0.2;
  return 0.3;
}

function sigma(window: { before: string; after: string }, slight: number, normal: number, strong: number): number {
  const explicit = /(?:by|of|radius|sigma|strength|amount|to)?\s*(\d+(?:\.\d+)?)\s*(?:px|pixels?|sigma)?/i.exec(window.after.trim());
  if (explicit && explicit[1] !== undefined && explicit.index === 0) return Number(explicit[1]);
  const both = `${window.before} ${window.after}`;
  if (STRONG.test(both)) return strong;
  if (SLIGHT.test(both)) return slight;
  return normal;
}

function adjust(bare: string): RuleOutcome | undefined {
  const args: Record<string, unknown> = {};
  const used: Found[] = [];
  const take = (found: Found[]): Found[] => {
    const fresh = found.filter((f) => !used.some((u) => f.start < u.end && u.start < f.end));
    used.push(...fresh);
    return fresh;
  };

  // Booleans and blur/sharpen first: "remove the blur" must not also count as a blur.
  if (take(allMatches(SHARPEN, bare)).length > 0) {
    const s = used[used.length - 1]!;
    args.sharpen = sigma(around(bare, s), 0.5, 1, 2);
  }
  if (take(allMatches(GRAYSCALE, bare)).length > 0) args.grayscale = true;
  if (take(allMatches(SEPIA, bare)).length > 0) args.sepia = true;
  if (take(allMatches(INVERT, bare)).length > 0) args.invert = true;
  const hue = take(allMatches(HUE, bare))[0];
  if (hue) {
    const window = around(bare, hue);
    const degrees = /(-?\d+(?:\.\d+)?)\s*(?:degrees?|deg|°)?/.exec(window.after) ?? /(-?\d+(?:\.\d+)?)\s*(?:degrees?|deg|°)/.exec(window.before);
    args.hue = degrees ? Number(degrees[1]) : 90;
  }
  const blur = take(allMatches(BLUR, bare))[0];
  if (blur) args.blur = sigma(around(bare, blur), 2, 4, 8);
  const pixelate = take(allMatches(PIXELATE, bare))[0];
  if (pixelate) args.pixelate = sigma(around(bare, pixelate), 6, 12, 24);

  for (const { key, up, down, noun } of MULTIPLIERS) {
    const times = new RegExp(String.raw`(${FACTOR_SOURCE})\s+(?:as\s+)?(bright|dark|contrasty|saturated|colou?rful|vivid)\b`, 'gi');
    for (const m of bare.matchAll(times)) {
      const word = m[2]!.toLowerCase();
      const k: Multiplier = word === 'bright' || word === 'dark' ? 'brightness' : word === 'contrasty' ? 'contrast' : 'saturation';
      if (k !== key || take([{ start: m.index, end: m.index + m[0].length }]).length === 0) continue;
      const f = parseFactor(m[1]!)!;
      args[key] = round(word === 'dark' ? 1 / f : f);
    }
    if (args[key] !== undefined) continue;
    const ups = take(allMatches(up, bare));
    const downs = take(allMatches(down, bare));
    const found = ups[0] ?? downs[0];
    if (found) {
      const delta = amount(around(bare, found));
      const value = ups[0] ? 1 + delta : 1 - delta;
      if (value <= 0) return invalid('adjust', `That would take the ${key} to nothing; try a smaller amount, like "20% darker".`);
      args[key] = round(value);
      continue;
    }
    // "brightness 1.2", "set the contrast to 120%", "saturation -20%".
    const nounMatch = take(allMatches(noun, bare))[0];
    if (nounMatch) {
      const explicit = /^\s*(?:to|=|:|at|of|by)?\s*([+-]?\d+(?:\.\d+)?)\s*(%)?/.exec(bare.slice(nounMatch.end));
      if (!explicit) continue;
      const v = Number(explicit[1]);
      const signed = /^[+-]/.test(explicit[1]!);
      const value = explicit[2] ? (signed ? 1 + v / 100 : v / 100) : signed ? 1 + v : v > 5 ? v / 100 : v;
      if (value <= 0) return invalid('adjust', `The ${key} multiplier has to be more than 0 (1 leaves it unchanged).`);
      args[key] = round(value);
    }
  }

  if (Object.keys(args).length === 0) return undefined;
  let rest = bare;
  for (const u of [...used].sort((a, b) => b.start - a.start)) rest = `${rest.slice(0, u.start)} ${rest.slice(u.end)}`;
  const leftover = rest
    .toLowerCase()
    .replace(new RegExp(PERCENT_SOURCE, 'gi'), ' ')
    .replace(/[+-]?\d+(?:\.\d+)?\s*(?:%|°|px)?/g, ' ')
    .split(/[^a-z']+/)
    .filter((w) => w !== '' && !NEUTRAL.has(w));
  return leftover.length === 0 ? task('adjust', args) : undefined;
}

/**
 * Privacy edits: "blur the faces", "pixelate everyone's faces", "censor the people", "anonymize it".
 * They are `adjust` with a `phrase` (what to cover: "faces" or "people") and `blur` (sigma) or `pixelate`
 * (block size); the specialist makes either strong enough to hide what it covers, so the numbers here
 * only matter when the user asks for more. Only faces and people are recognised: they are what privacy
 * requests name, and "blur the background" belongs to the background rule.
 */
const PRIVACY_VERB = String.raw`(?:blur(?:\s+out)?|pixel+(?:ate|[ai][sz]e)(?:\s+out)?|censor|anonymi[sz]e|obscure|hide|mosaic|redact|scramble)`;
const OWNER = String.raw`(?:the|their|his|her|its|my|your|our|everyone'?s|everybody'?s|people'?s|(?:the\s+)?(?:kids|children|persons?|men|women|crowd|guys|girls|boys)(?:'s|s'|')?|all(?:\s+(?:of\s+)?the)?)`;
const PEOPLE = String.raw`(?:(?:all\s+(?:of\s+)?)?(?:the\s+)?(?:people|persons?|everyone|everybody|humans?|pedestrians|kids|children|bystanders|crowd))`;
const FACES = String.raw`(?:(?:${OWNER}\s+)*(?:faces?|heads?)(?:\s+of\s+${PEOPLE})?)`;
const AMOUNT = String.raw`(?:\s+(?:by|to|with|of|at|using)?\s*(?:a\s+)?(?:sigma|radius|strength|amount|blocks?\s+of)?\s*(\d+(?:\.\d+)?)\s*(?:px|pixels?)?(?:\s+blocks?)?)?`;
const TAIL = String.raw`(?:\s+(?:completely|entirely|fully|out|please|a\s+lot|a\s+bit|slightly|heavily|strongly|more|a\s+little))*`;
const PRIVACY_PATTERNS = [
  new RegExp(String.raw`^${PRIVACY_VERB}\s+(${FACES}|${PEOPLE})${TAIL}${AMOUNT}${TAIL}$`, 'i'),
  new RegExp(String.raw`^make\s+(${FACES}|${PEOPLE})\s+(blurr(?:y|ed)|pixel+(?:ated|[ai][sz]ed)|unrecogni[sz]able|anonymous|censored)$`, 'i'),
  // "anonymize it", "censor this photo": with nothing named, privacy means faces.
  /^(anonymi[sz]e|censor)$/i,
];

/**
 * "Blur the face on the left", "pixelate the second person", "blur the biggest face": one of several.
 * The phrase keeps its referring words for the specialist (referring.ts) with the noun made one it knows.
 */
const WHICH_WORD = String.raw`(?:left(?:most)?|right(?:most)?|top(?:most)?|bottom(?:most)?|upper|lower|middle|cent(?:re|er)(?:al)?|biggest|largest|bigger|larger|closest|nearest|smallest|smaller|tiniest|farthest|furthest|first|second|third|fourth|fifth|last|\d+(?:st|nd|rd|th))`;
const WHERE_TAIL = String.raw`(?:(?:on|to|at|in)\s+the\s+(?:far\s+)?(?:left|right|top|bottom|middle|cent(?:re|er))(?:\s+(?:side|hand\s+side))?)`;
const ONE_FACE = String.raw`(?:face|head)s?`;
const ONE_PERSON = String.raw`(?:person|people|persons|man|woman|guy|girl|boy|kid|child|pedestrian|bystander)`;
const REFERRING_PRIVACY = new RegExp(
  String.raw`^${PRIVACY_VERB}\s+(?:only\s+|just\s+)?(?:the\s+)?(?:(${WHICH_WORD})\s+)?(${ONE_FACE}|${ONE_PERSON})(?:\s+of\s+the\s+${ONE_PERSON})?(?:\s+(${WHERE_TAIL}))?${TAIL}${AMOUNT}${TAIL}$`,
  'i',
);

function referringPrivacy(bare: string): RuleOutcome | undefined {
  const m = REFERRING_PRIVACY.exec(bare.trim());
  if (!m || (m[1] === undefined && m[3] === undefined)) return undefined;
  const noun = new RegExp(`^${ONE_FACE}$`, 'i').test(m[2]!) ? 'face' : 'person';
  const phrase = ['the', m[1]?.toLowerCase(), noun, m[3]?.toLowerCase().replace(/\s+/g, ' ')].filter((w) => w !== undefined).join(' ');
  const explicit = m[4] !== undefined ? Number(m[4]) : undefined;
  const strength = STRONG.test(bare) ? 2 : SLIGHT.test(bare) ? 0.5 : 1;
  return /pixel|mosaic/i.test(bare)
    ? task('adjust', { phrase, pixelate: explicit ?? 12 * strength })
    : task('adjust', { phrase, blur: explicit ?? 8 * strength });
}

function privacy(bare: string): RuleOutcome | undefined {
  const referring = referringPrivacy(bare);
  if (referring) return referring;
  for (const pattern of PRIVACY_PATTERNS) {
    const m = pattern.exec(bare.trim());
    if (!m) continue;
    const object = m.length > 2 ? m[1]! : 'faces';
    const phrase = /\b(?:faces?|heads?)\b/i.test(object) ? 'faces' : 'people';
    const explicit = m.length > 2 && m[2] !== undefined && /^\d/.test(m[2]) ? Number(m[2]) : undefined;
    const pixelate = /pixel|mosaic/i.test(m[0]);
    const strength = STRONG.test(bare) ? 2 : SLIGHT.test(bare) ? 0.5 : 1;
    return pixelate ? task('adjust', { phrase, pixelate: explicit ?? 12 * strength }) : task('adjust', { phrase, blur: explicit ?? 8 * strength });
  }
  return undefined;
}

export const ADJUST_RULES: Rule[] = [
  { name: 'privacy', match: ({ bare }) => privacy(bare) },
  { name: 'adjust', match: ({ bare }) => adjust(bare) },
];
