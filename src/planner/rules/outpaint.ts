import { argSpec } from '../../core/tasks.ts';
import { FACTOR_SOURCE, PERCENT_SOURCE, parseFactor, parsePercent } from '../numbers.ts';
import type { Rule, RuleInput, RuleOutcome } from './rule.ts';
import { cleanPhrase, invalid, task } from './rule.ts';

/**
 * Extending the picture beyond its edges: "zoom out", "uncrop", "extend it to the left", "show more of the scene
 * above", "add more space at the bottom", "make it wider". Every reading names a `direction` (the row's
 * choices; "zoom out" is all sides) and, when the words give one, an `amount`: the share of the side to add, so
 * "zoom out 2x" (a picture twice as big) is 1 and "a bit" is 0.25. A head ("zoom out", "extend the canvas")
 * must be followed by nothing but a direction, an amount and what to paint ("with a forest"), so "extend the
 * video by 5 seconds" or "enlarge to 800 pixels" are left to their own rules.
 */

type Direction = 'all' | 'left' | 'right' | 'up' | 'down';

const DIRECTIONS: [RegExp, Direction][] = [
  [/\b(?:(?:on|to|at|towards?)\s+)?(?:the\s+)?left(?:wards?|\s+side|\s+edge)?\b/i, 'left'],
  [/\b(?:(?:on|to|at|towards?)\s+)?(?:the\s+)?right(?:wards?|\s+side|\s+edge)?\b/i, 'right'],
  [/\b(?:up(?:wards?)?|above|higher|(?:(?:on|to|at|towards?)\s+)?(?:the\s+)?top(?:\s+(?:side|edge))?|(?:the\s+)?sky)\b/i, 'up'],
  [/\b(?:down(?:wards?)?|below|lower|(?:(?:on|to|at|towards?)\s+)?(?:the\s+)?bottom(?:\s+(?:side|edge))?|(?:the\s+)?(?:ground|floor))\b/i, 'down'],
  [/\b(?:(?:on\s+)?(?:all|every|both|each)\s+sides?|in\s+(?:all|every)\s+directions?|all\s+(?:a)?round|everywhere|outwards?|around)\b/i, 'all'],
];

const A_BIT = /\b(?:a\s+(?:little\s+)?bit(?:\s+more)?|a\s+little(?:\s+more)?|slightly|somewhat|a\s+touch)\b/i;
const A_LOT = /\b(?:a\s+lot(?:\s+more)?|much(?:\s+more)?|way|far|lots|loads|really\s+far)\b/i;
const FACTOR = new RegExp(String.raw`(?:\bby\s+)?(?:a\s+factor\s+of\s+)?(${FACTOR_SOURCE})`, 'i');
const PERCENT = new RegExp(String.raw`(?:\bby\s+)?(${PERCENT_SOURCE})`, 'i');

/** What to paint in the new area: "with a forest", "showing the sea", "and add a river". */
const PAINT = /\s*,?\s*\b(?:with|showing|to\s+show|and\s+(?:show|add|paint)|filling\s+(?:it|them)\s+with|full\s+of)\s+(.+)$/i;

const ZOOM_OUT =
  /^(?:zoom(?:\s+the\s+camera)?\s+out|zoom\s+back|pull\s+(?:the\s+camera\s+)?(?:back|out)|back\s+up\s+the\s+camera|widen\s+the\s+(?:shot|view|frame)|un-?crop|de-?crop|out-?paint(?:ing)?)\b/i;
const EXTEND =
  /^(?:extend|expand|continue|grow|enlarge|widen|broaden|stretch\s+out|open\s+up)(?:\s+(?:the\s+)?(?:canvas|frame|scene|view|shot|borders?|edges?|picture|image|photo|background|world|landscape))?(?=\s|$)/i;
const EXTEND_VERB_ONLY_WITH_CANVAS = /^(?:grow|enlarge|widen|broaden|open\s+up)\b/i;
const SHOW_MORE =
  /^(?:show|reveal|let\s+me\s+see|i\s+want\s+to\s+see|see)\s+(?:me\s+)?(?:(?:a\s+bit|a\s+little|a\s+lot|much)\s+)?more\s+(?:of\s+)?(?:the\s+|what'?s\s+)?(?:scene|surroundings|area|background|view|picture|image|world|landscape|room|place|sky|ground|around)?/i;
const MORE_SPACE =
  /^(?:add|give|make|leave|put)\s+(?:me\s+|it\s+)?(?:(?:a\s+bit|a\s+little|a\s+lot|much)\s+)?(?:more|extra|some)\s+(?:space|room|canvas|area|scenery|background|border)/i;
const BIGGER_CANVAS = /^make\s+(?:the\s+)?(?:canvas|frame)\s+(?:bigger|larger)\b/i;
const WIDER =
  /^(?:make\s+(?:(a\s+(?:little\s+)?bit|a\s+little|slightly|a\s+lot|much)\s+)?(wider|taller)|widen|(?:make\s+)?(?:the\s+)?(?:picture|image|canvas)\s+(wider|taller))$/i;

interface Tail {
  direction: Direction;
  amount?: number;
  prompt?: string;
}

/** Reads what follows a head: direction, amount, what to paint; undefined when anything else is left. */
function readTail(rest: string, fallback: Direction): Tail | RuleOutcome | undefined {
  let words = ` ${rest} `;
  const tail: Tail = { direction: fallback };
  const paint = PAINT.exec(words.trimEnd());
  if (paint) {
    const prompt = cleanPhrase(paint[1]!);
    if (prompt !== '') tail.prompt = prompt;
    words = words.slice(0, paint.index);
  }
  for (const [pattern, direction] of DIRECTIONS) {
    if (!pattern.test(words)) continue;
    tail.direction = direction;
    words = words.replace(pattern, ' ');
    break;
  }
  const percent = PERCENT.exec(words);
  const factor = percent ? undefined : FACTOR.exec(words);
  if (percent) {
    tail.amount = (parsePercent(percent[1]!) ?? 50) / 100;
    words = words.replace(PERCENT, ' ');
  } else if (factor) {
    // A picture "2x" as big gains one more of itself.
    tail.amount = (parseFactor(factor[1]!) ?? 2) - 1;
    words = words.replace(FACTOR, ' ');
  } else if (A_BIT.test(words)) {
    tail.amount = 0.25;
    words = words.replace(A_BIT, ' ');
  } else if (A_LOT.test(words)) {
    tail.amount = 1;
    words = words.replace(A_LOT, ' ');
  }
  if (cleanPhrase(words.replace(/\b(?:more|further|out|some|too|also)\b/gi, ' ')) !== '') return undefined;
  const spec = argSpec('outpaint', 'amount');
  if (tail.amount !== undefined && spec?.kind === 'number' && (tail.amount < spec.min || tail.amount > spec.max)) {
    return invalid(
      'outpaint',
      `I can extend a picture by ${spec.min * 100}% to ${spec.max * 100}% of its size at once (zoom out up to ${spec.max + 1}x); ask again, or zoom out twice.`,
    );
  }
  return tail;
}

function outcome(tail: Tail | RuleOutcome | undefined): RuleOutcome | undefined {
  if (tail === undefined || 'kind' in tail) return tail;
  const { direction, amount, prompt } = tail;
  return task('outpaint', { ...(prompt === undefined ? {} : { prompt }), direction, ...(amount === undefined ? {} : { amount }) });
}

/** "make it wider": both sides at once is no direction of the row, so it is two steps, half the amount each. */
function wider(m: RegExpExecArray): RuleOutcome {
  const how = m[1] ?? '';
  const total = /bit|little|slightly/i.test(how) ? 0.25 : /lot|much/i.test(how) ? 1 : 0.5;
  const sides: [Direction, Direction] = /taller/i.test(m[2] ?? m[3] ?? m[0]) ? ['up', 'down'] : ['left', 'right'];
  return { kind: 'chain', steps: sides.map((direction) => ({ task: 'outpaint' as const, args: { direction, amount: total / 2 } })) };
}

function outpaint({ bare }: RuleInput): RuleOutcome | undefined {
  const widen = WIDER.exec(bare);
  if (widen) return wider(widen);
  for (const head of [ZOOM_OUT, SHOW_MORE, MORE_SPACE, BIGGER_CANVAS]) {
    const m = head.exec(bare);
    if (m) return outcome(readTail(bare.slice(m[0].length), 'all'));
  }
  const extend = EXTEND.exec(bare);
  // "enlarge it" alone is a resize; only "enlarge the canvas" extends it.
  if (!extend || (EXTEND_VERB_ONLY_WITH_CANVAS.test(bare) && !/\s(?:canvas|frame|scene|view|shot|borders?|edges?)$/i.test(extend[0]))) return undefined;
  return outcome(readTail(bare.slice(extend[0].length), 'all'));
}

export const OUTPAINT_RULES: Rule[] = [{ name: 'outpaint', match: outpaint }];
