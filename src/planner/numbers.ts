/**
 * Numbers as people type them: digits, words ("two", "twenty-five", "one and a half"), multipliers
 * ("twice", "half", "3x"), percentages and durations ("5 seconds", "5s", "0:05", "1m30s").
 *
 * The `*_SOURCE` strings are regex fragments without capture groups, so rules can embed them in their
 * own patterns (with the `i` flag) and hand the matched text back to the parse functions here.
 */

const UNITS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
};
const TENS: Record<string, number> = {
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};
const FRACTIONS: Record<string, number> = { half: 0.5, 'a half': 0.5, quarter: 0.25, 'a quarter': 0.25, 'a third': 1 / 3 };
/** Multiplier words: "twice as fast", "double the size". */
const MULTIPLIERS: Record<string, number> = {
  twice: 2,
  double: 2,
  doubled: 2,
  triple: 3,
  tripled: 3,
  thrice: 3,
  quadruple: 4,
  quadrupled: 4,
  half: 0.5,
  halve: 0.5,
  halved: 0.5,
};

/** Longest first, so that "seventeen" is not read as "seven" followed by junk. */
function alternation(words: readonly string[]): string {
  return [...words]
    .sort((a, b) => b.length - a.length)
    .map((w) => w.replace(/ /g, '\\s+'))
    .join('|');
}

const DIGITS = String.raw`\d+(?:\.\d+)?|\.\d+`;
const DIGIT_WORDS = alternation(Object.keys(UNITS).filter((w) => UNITS[w]! > 0 && UNITS[w]! < 10));
const NUMBER_WORDS = `(?:${alternation(Object.keys(TENS))})(?:[-\\s](?:${DIGIT_WORDS}))?|${alternation(Object.keys(UNITS))}`;

/** A plain number: "5", "2.5", "five", "twenty-five", "one and a half", "half", "a quarter". */
export const NUMBER_SOURCE = `(?:(?<![\\w.])(?:${DIGITS})(?![\\w])|\\b(?:(?:${NUMBER_WORDS})(?:\\s+and\\s+an?\\s+(?:half|quarter))?|${alternation(Object.keys(FRACTIONS))})\\b)`;

/** Parses a whole string as a number (see NUMBER_SOURCE); undefined when it is not one. */
export function parseNumber(text: string): number | undefined {
  const t = text
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, ' ');
  if (t === '') return undefined;
  if (/^-?(?:\d+(?:\.\d+)?|\.\d+)$/.test(t)) return Number(t);
  if (t in FRACTIONS) return FRACTIONS[t];
  const andFraction = /^(.+?) and an? (half|quarter)$/.exec(t);
  if (andFraction) {
    const whole = parseNumber(andFraction[1]!);
    return whole === undefined ? undefined : whole + (andFraction[2] === 'half' ? 0.5 : 0.25);
  }
  if (t === 'a' || t === 'an') return 1;
  if (t in UNITS) return UNITS[t];
  const compound = /^([a-z]+)(?: ([a-z]+))?$/.exec(t);
  if (compound && compound[1]! in TENS) {
    const tens = TENS[compound[1]!]!;
    if (compound[2] === undefined) return tens;
    const unit = UNITS[compound[2]];
    return unit !== undefined && unit > 0 && unit < 10 ? tens + unit : undefined;
  }
  return undefined;
}

/** "2x", "x2", "2 times", "twice", "double", "half", "1.5x": a multiplier. */
export const FACTOR_SOURCE = `(?:(?<![\\w.])(?:${DIGITS})\\s*[x×](?![a-z])|\\b[x×]\\s*(?:${DIGITS})(?![\\w])|${NUMBER_SOURCE}\\s+times\\b|\\b(?:${alternation(Object.keys(MULTIPLIERS))})\\b)`;

export function parseFactor(text: string): number | undefined {
  const t = text.trim().toLowerCase().replace(/\s+/g, ' ');
  if (t in MULTIPLIERS) return MULTIPLIERS[t];
  const suffixed = /^(\d+(?:\.\d+)?|\.\d+)\s*[x×]$/.exec(t) ?? /^[x×]\s*(\d+(?:\.\d+)?|\.\d+)$/.exec(t);
  if (suffixed) return Number(suffixed[1]);
  const times = /^(.+?) times$/.exec(t);
  if (times) return parseNumber(times[1]!);
  return parseNumber(t);
}

/** "20%", "20 %", "20 percent", "twenty per cent". */
export const PERCENT_SOURCE = `(?:${NUMBER_SOURCE})\\s*(?:%|per\\s*cent\\b|pct\\b)`;

/** The number before the percent sign: "20%" → 20. */
export function parsePercent(text: string): number | undefined {
  const m = /^(.+?)\s*(?:%|per\s*cent|pct)$/i.exec(text.trim());
  return m ? parseNumber(m[1]!) : undefined;
}

const UNIT_SECONDS: [RegExp, number][] = [
  [/^(?:h|hr|hrs|hours?)$/, 3600],
  [/^(?:m|min|mins|minutes?)$/, 60],
  [/^(?:s|sec|secs|seconds?)$/, 1],
  [/^(?:ms|millis|milliseconds?)$/, 0.001],
];
const SHORT_UNIT = String.raw`(?:hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s|milliseconds?|ms)`;
const LONG_UNIT = String.raw`(?:hours?|hrs?|minutes?|mins?|seconds?|secs?|milliseconds?)`;
/** "5s" is fine, but a word number needs a space and a real unit: the "a s" in "save as" is no second. */
const PIECE = `(?:(?<![\\d.])(?:${DIGITS})\\s*-?\\s*${SHORT_UNIT}|\\b(?:${NUMBER_WORDS}|an?)[\\s-]+${LONG_UNIT})(?![a-z])`;
const HALF_UNIT = String.raw`\bhalf\s+an?\s+(?:hour|minute|second)\b`;
const CLOCK = String.raw`(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?![\d:])`;
const PIECE_SEPARATOR = String.raw`(?:\s*,\s*|\s+and\s+|\s*)`;

/**
 * A duration: "5 seconds", "5s", "5-second", "0:05", "1:02:03", "1m30s", "1 minute and 30 seconds",
 * "a minute and a half", "half a second". Bare numbers are not durations (rules decide their unit).
 */
export const DURATION_SOURCE = `(?:${CLOCK}|${HALF_UNIT}|${PIECE}(?:${PIECE_SEPARATOR}${PIECE})*(?:\\s+and\\s+a\\s+half\\b)?)`;

/** Seconds in a duration matched by DURATION_SOURCE; undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim().toLowerCase().replace(/\s+/g, ' ');
  if (new RegExp(`^${CLOCK}$`).test(t))
    return round(
      t
        .split(':')
        .map(Number)
        .reduce((total, part) => total * 60 + part, 0),
    );
  const half = /^half an? (hour|minute|second)$/.exec(t);
  if (half) return 0.5 * unitSeconds(half[1]!)!;
  let rest = t;
  let extraHalf = false;
  if (rest.endsWith(' and a half')) {
    extraHalf = true;
    rest = rest.slice(0, -' and a half'.length);
  }
  const piece = new RegExp(`(?:(${DIGITS})\\s*-?\\s*(${SHORT_UNIT})|(${NUMBER_WORDS}|an?)[\\s-]+(${LONG_UNIT}))(?![a-z])`, 'y');
  const separator = new RegExp(PIECE_SEPARATOR, 'y');
  let total = 0;
  let lastUnit = 0;
  let position = 0;
  let pieces = 0;
  while (position < rest.length) {
    if (pieces > 0) {
      separator.lastIndex = position;
      if (separator.exec(rest)) position = separator.lastIndex;
    }
    piece.lastIndex = position;
    const m = piece.exec(rest);
    if (!m) return undefined;
    const value = parseNumber(m[1] ?? m[3]!);
    const unit = unitSeconds(m[2] ?? m[4]!);
    if (value === undefined || unit === undefined) return undefined;
    total += value * unit;
    lastUnit = unit;
    position = piece.lastIndex;
    pieces += 1;
  }
  if (pieces === 0) return undefined;
  return round(extraHalf ? total + 0.5 * lastUnit : total);
}

function unitSeconds(unit: string): number | undefined {
  return UNIT_SECONDS.find(([pattern]) => pattern.test(unit))?.[1];
}

/** Floating-point noise ("1.1 * 60") would leak into JSON; three decimals is a millisecond. */
export function round(value: number, decimals = 3): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}

/** A time point: a duration or a bare number of seconds ("at 3", "from 0:05"). */
export const TIME_SOURCE = `(?:${DURATION_SOURCE}|${NUMBER_SOURCE})`;

/** Seconds in a time point; a bare number counts as seconds. */
export function parseTime(text: string): number | undefined {
  return parseDuration(text) ?? parseNumber(text);
}
