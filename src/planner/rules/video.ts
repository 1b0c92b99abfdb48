import {
  DURATION_SOURCE,
  FACTOR_SOURCE,
  NUMBER_SOURCE,
  PERCENT_SOURCE,
  TIME_SOURCE,
  parseDuration,
  parseFactor,
  parsePercent,
  parseTime,
  round,
} from '../numbers.ts';
import type { Rule, RuleOutcome } from './rule.ts';
import { invalid, task } from './rule.ts';

/**
 * Video rules. Trim times are seconds; a negative time counts back from the end (like `ffmpeg -sseof`),
 * because "cut the last 3 seconds" must be expressible without knowing the video's length.
 */

const D = DURATION_SOURCE;
const T = TIME_SOURCE;
/** "5 seconds", or a bare "5" right before/after words that make seconds obvious ("first 5"). */
const SPAN = `(?:${D}|${NUMBER_SOURCE})`;
const REMOVE_VERB = String.raw`(?:cut|remove|drop|delete|chop|trim|lose|skip|get\s+rid\s+of|take\s+off|shave|crop|clip)(?:\s+off|\s+out|\s+away)?`;
const KEEP_VERB = String.raw`(?:keep|only|just|give\s+me|use|show|trim\s+to|cut\s+to|clip\s+to|crop\s+to|shorten\s+to|reduce\s+to|make)`;
const TRIM_NOUN = /\b(?:trim|cut|clip|shorten|crop|keep|only|just|seconds?|secs?|minutes?|mins?|from|between|until|till|start|end|first|last)\b/i;

const RANGE = new RegExp(
  String.raw`(?:^|\b(?:from|between|starting\s+at|start\s+at|at)\s+|\b(?:trim|cut|clip|crop|keep|shorten|only|just)\s+(?:(?:it|the\s+video)\s+)?(?:to\s+|from\s+|between\s+)?)(${T})\s*(?:to|until|till|through|thru|and|-|–|up\s+to)\s*(${T})(?:\s+(?:only|mark))?$`,
  'i',
);
const FIRST = new RegExp(String.raw`(?:^|\b${KEEP_VERB}\s+)(?:the\s+)?(?:first|opening|initial|beginning)\s+(${SPAN})(?:\s+(?:only|of\s+it))?$`, 'i');
const LAST_ONLY = new RegExp(String.raw`(?:^|\b${KEEP_VERB}\s+)(?:the\s+)?(?:last|final|closing|ending)\s+(${SPAN})(?:\s+(?:only|of\s+it))?$`, 'i');
const CUT_LAST = new RegExp(String.raw`^${REMOVE_VERB}\s+(?:the\s+)?(?:last|final|closing|ending)\s+(${SPAN})(?:\s+(?:off|from\s+the\s+end))?$`, 'i');
const CUT_FIRST = new RegExp(String.raw`^${REMOVE_VERB}\s+(?:the\s+)?(?:first|opening|initial|beginning)\s+(${SPAN})(?:\s+off)?$`, 'i');
const TO_LENGTH = new RegExp(
  String.raw`^(?:trim|cut|shorten|clip|crop|reduce|make|keep|limit)\s+(?:down\s+)?(?:to\s+|into\s+)?(?:(?:the\s+)?first\s+|only\s+|just\s+)?(${D})(?:\s+(?:long|max|maximum|in\s+length|only))?$`,
  'i',
);
const FROM = new RegExp(
  String.raw`^(?:(?:trim|cut|keep|start|begin|play)\s+)?(?:(?:it|the\s+video)\s+)?(?:from|starting\s+(?:at|from)|start(?:ing)?\s+at|begin(?:ning)?\s+at|after)\s+(${T})(?:\s+(?:on|onwards?|to\s+the\s+end|till\s+the\s+end))?$`,
  'i',
);
const UNTIL = new RegExp(
  String.raw`^(?:(?:trim|cut|keep|stop|end|only)\s+)?(?:(?:it|the\s+video)\s+)?(?:until|till|up\s+to|upto|to|ending\s+at|end\s+at|stop\s+at)\s+(${T})$`,
  'i',
);
const START_END = new RegExp(String.raw`\b(?:start|begin)\s+(?:at|from)\s+(${T})\s*(?:,|and)?\s*(?:end|stop|finish)\s+(?:at|by)\s+(${T})`, 'i');
const TRIM_ALONE = /^(?:trim|cut|shorten|clip)(?:\s+(?:down|it|the\s+video))?$/i;

/** A bare number next to a duration borrows its unit: "5 to 12 seconds" is 5 s to 12 s, "1 to 2 minutes" 60–120 s. */
function rangeTimes(a: string, b: string): [number, number] | undefined {
  const end = parseTime(b);
  let start = parseTime(a);
  if (start === undefined || end === undefined) return undefined;
  if (parseDuration(a) === undefined && parseDuration(b) !== undefined) {
    const unit = /(hours?|hrs?|h|minutes?|mins?|m)$/i.exec(b.trim());
    if (unit) start *= /^h/i.test(unit[1]!) ? 3600 : 60;
  }
  return [round(start), round(end)];
}

function trimOutcome(start: number | undefined, end: number | undefined): RuleOutcome {
  const args: Record<string, number> = {};
  if (start !== undefined) args.start = start;
  if (end !== undefined) args.end = end;
  if (start !== undefined && end !== undefined && ((start >= 0 && end >= 0) || (start < 0 && end < 0)) && end <= start) {
    return invalid('trim', `The end of the trim (${end} s) has to come after its start (${start} s). Try "from 0:05 to 0:12".`);
  }
  if (end === 0 || (start === undefined && end === undefined)) {
    return invalid('trim', 'That would leave nothing of the video. Try "first 5 seconds only" or "from 0:05 to 0:12".');
  }
  return task('trim', args);
}

function trim(bare: string): RuleOutcome | undefined {
  if (!TRIM_NOUN.test(bare)) return undefined;
  const startEnd = START_END.exec(bare);
  if (startEnd) return trimOutcome(parseTime(startEnd[1]!), parseTime(startEnd[2]!));
  const range = RANGE.exec(bare);
  if (range) {
    const times = rangeTimes(range[1]!, range[2]!);
    if (times) return trimOutcome(times[0], times[1]);
  }
  let m = CUT_LAST.exec(bare);
  if (m) return trimOutcome(0, -parseTime(m[1]!)!);
  m = CUT_FIRST.exec(bare);
  if (m) return trimOutcome(parseTime(m[1]!)!, undefined);
  m = FIRST.exec(bare);
  if (m) return trimOutcome(0, parseTime(m[1]!)!);
  m = LAST_ONLY.exec(bare);
  if (m) return trimOutcome(-parseTime(m[1]!)!, undefined);
  m = TO_LENGTH.exec(bare);
  if (m) return trimOutcome(0, parseDuration(m[1]!)!);
  m = FROM.exec(bare);
  if (m) return trimOutcome(parseTime(m[1]!)!, undefined);
  m = UNTIL.exec(bare);
  if (m && /^(?:trim|cut|keep|stop|end|only|until|till|up)/i.test(bare)) return trimOutcome(0, parseTime(m[1]!)!);
  if (TRIM_ALONE.test(bare))
    return invalid('trim', 'How should I trim it? For example "first 5 seconds only", "from 0:05 to 0:12" or "cut the last 3 seconds".');
  return undefined;
}

const FASTER =
  /\b(?:as\s+fast|as\s+quick(?:ly)?|speed(?:\s+(?:it|this))?\s+up|faster|fast[\s-]?forward|quicker|accelerate|sped\s+up|hyper[\s-]?lapse|time[\s-]?lapse|double[\s-]?time|fast[\s-]?motion)\b/i;
const SLOWER = /\b(?:slow(?:\s+(?:it|this))?\s+down|slower|slow[\s-]?mo(?:tion)?|slo[\s-]?mo|decelerate|slowed(?:\s+down)?)\b/i;
const SPEED_WORD = /\b(?:speed|playback|play\s+(?:it\s+)?at|tempo|pace)\b/i;
const SLIGHT = /\b(?:a\s+(?:little\s+)?bit|slightly|a\s+little|a\s+touch|somewhat|a\s+tad|just\s+a\s+bit|a\s+smidge)\b/i;

function speed(bare: string): RuleOutcome | undefined {
  const faster = FASTER.test(bare);
  const slower = SLOWER.test(bare);
  const speedWord = SPEED_WORD.test(bare);
  if (!faster && !slower && !speedWord) return undefined;
  if (/\b(?:half|quarter)[\s-]+speed\b/i.test(bare)) return speedOutcome(/\bquarter/i.test(bare) ? 0.25 : 0.5);
  if (/\b(?:normal|regular|original|real)[\s-]+speed\b/i.test(bare)) return speedOutcome(1);
  const percent = new RegExp(PERCENT_SOURCE, 'i').exec(bare);
  if (percent && (faster || slower)) {
    const p = parsePercent(percent[0])! / 100;
    return speedOutcome(faster ? 1 + p : 1 - p);
  }
  const factorMatch =
    new RegExp(FACTOR_SOURCE, 'i').exec(bare) ?? new RegExp(String.raw`\b(?:by|to|at|of)\s+(${NUMBER_SOURCE})(?!\s*(?:%|seconds?|s\b))`, 'i').exec(bare);
  if (factorMatch) {
    const f = parseFactor(factorMatch[1] ?? factorMatch[0]);
    if (f !== undefined) {
      // "2x slower" means half speed; "slow it down to 0.5x" already is the speed.
      const asSpeed = slower && f > 1 ? 1 / f : f;
      return speedOutcome(asSpeed);
    }
  }
  if (faster) return speedOutcome(SLIGHT.test(bare) ? 1.25 : 2);
  if (slower) return speedOutcome(SLIGHT.test(bare) ? 0.8 : 0.5);
  return undefined;
}

function speedOutcome(factor: number): RuleOutcome {
  if (!(factor > 0)) return invalid('speed', 'The speed factor has to be more than 0: "2x" is twice as fast, "0.5x" half speed.');
  if (factor > 100 || factor < 0.01) return invalid('speed', `A speed factor of ${round(factor)} is out of range; use something between 0.01x and 100x.`);
  return task('speed', { factor: round(factor) });
}

const REVERSE =
  /^(?:reverse|rewind|reversed|backwards?|in\s+reverse|play\s+(?:backwards?|in\s+reverse|reversed|back\s+to\s+front)|(?:make|run|put|turn)\s+(?:play\s+|run\s+)?(?:backwards?|in\s+reverse|reversed)|(?:make|have)\s+(?:play|run|go)\s+(?:backwards?|in\s+reverse)|reverse\s+(?:the\s+)?(?:playback|order|direction|video|clip|time)|(?:play|run)\s+in\s+reverse)$/i;

const GIF = /\b(gif|webp)s?\b/i;
const GIF_VERB =
  /^(?:make|turn|convert|export|save|render|output|give\s+me|send|share|create|change|transform|encode|as|to|into|an?|animated|gif|webp|loop)\b/i;

function toGif(bare: string, text: string): RuleOutcome | undefined {
  const m = GIF.exec(bare);
  if (!m || !GIF_VERB.test(bare)) return undefined;
  // "a gif of a dancing cat" describes new content: that is generation, not conversion.
  if (/\b(?:gif|webp)\s+(?:of|about|showing|where)\s+(?!(?:it|this|that|the\s+(?:video|clip|first|last))\b)\S/i.test(text)) return undefined;
  return task('to_gif', { format: m[1]!.toLowerCase() === 'webp' ? 'webp' : 'gif' });
}

const FRAME_NOUN = /\b(?:frame|still|screenshot|snapshot|screen\s*grab|screen\s*cap|screencap|thumbnail|poster\s+frame)s?\b/i;
const PICTURE_NOUN = /\b(?:image|picture|photo|pic)\b/i;
const FRAME_VERB =
  /^(?:grab|get|take|extract|give\s+me|show\s+me|save|pull|capture|export|make|create|i\s+want|send\s+me|what(?:'s|\s+is)|(?:the\s+)?(?:first|last|final|middle|opening|closing)|frame|still|screenshot|snapshot|thumbnail)\b/i;
const AT_TIME = new RegExp(String.raw`\b(?:at|from|@|around)\s+(?:the\s+)?(${T})(?:\s+mark)?\b|(${D})\s+(?:in|mark)\b`, 'i');

function extractFrame(bare: string): RuleOutcome | undefined {
  const frameNoun = FRAME_NOUN.test(bare);
  if (!FRAME_VERB.test(bare) || !(frameNoun || PICTURE_NOUN.test(bare))) return undefined;
  const at = AT_TIME.exec(bare);
  if (at) {
    const seconds = parseTime(at[1] ?? at[2]!);
    if (seconds !== undefined)
      return seconds < 0 ? invalid('extract_frame', 'The frame time has to be 0 or more seconds.') : task('extract_frame', { at: seconds });
  }
  if (/\b(?:first|opening|initial|start|beginning)\b/i.test(bare)) return task('extract_frame', { which: 'first' });
  if (/\b(?:last|final|closing|ending|end)\b/i.test(bare)) return task('extract_frame', { which: 'last' });
  if (/\b(?:middle|center|centre|halfway|mid)\b/i.test(bare)) return task('extract_frame', { which: 'middle' });
  // A bare "picture" is too common a word; only "frame"/"still"/"screenshot" name a frame by themselves.
  if (!frameNoun) return undefined;
  return task('extract_frame', { which: /\bthumbnail\b/i.test(bare) ? 'first' : 'middle' });
}

export const VIDEO_RULES: Rule[] = [
  { name: 'extract_frame', match: ({ bare }) => extractFrame(bare) },
  { name: 'trim', match: ({ bare }) => trim(bare) },
  { name: 'speed', match: ({ bare }) => speed(bare) },
  { name: 'reverse', match: ({ bare }) => (REVERSE.test(bare) ? task('reverse') : undefined) },
  { name: 'to_gif', match: ({ bare, text }) => toGif(bare, text) },
];
