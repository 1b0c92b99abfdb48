import type { Task } from '../../core/tasks.ts';

/** One clause, as the rules see it. */
export interface RuleInput {
  /** The clause with chat stripped ("can you", "please") but references still in place: "undo that". */
  raw: string;
  /** `raw` without explicit references ("from the first image"); keeps "it": used for free-form prompts. */
  text: string;
  /** `text` without default references ("it", "this photo"): what most patterns match. */
  bare: string;
  /** The clause as typed minus explicit references, for `question` args ("what colour is the car?"). */
  asked: string;
  /** It reads as a question. */
  question: boolean;
}

export type RuleOutcome =
  | { kind: 'task'; task: Task; args: Record<string, unknown> }
  /** Understood, but the request cannot be run as asked ("upscale 10x"): the reply says why. */
  | { kind: 'invalid'; task: Task; reply: string }
  /** Several steps for one request ("make it wider": extend left, then right), each working on the one before. */
  | { kind: 'chain'; steps: { task: Task; args: Record<string, unknown> }[] }
  /** "again", "do the same to the video": repeat the previous turn's invocations; "2" / "the left one" also `pick`. */
  | { kind: 'repeat'; pick?: PickAnswer; seed?: SeedChange };

/**
 * "same seed" keeps the recorded seed (what "again" does anyway) and may change the prompt: `append` adds the
 * words as a new comma clause ("same seed but at night"), `replace` swaps the prompt ("… but a wolf instead").
 * "new seed", "reroll" and "try again" drop the seed, so the bot draws a fresh one.
 */
export type SeedChange =
  /** `value`: "use seed 5" sets the seed instead of keeping the recorded one. */
  | { keep: true; value?: number; prompt?: { words: string; mode: 'append' | 'replace' } }
  /** `unlessSeedless`: "try again" repeats as it is when nothing of the last turn had a seed; `count`: "2 more". */
  | { keep: false; unlessSeedless?: true; count?: number };

/** An answer to "which one?": a number counted left to right, or a referring phrase ("the left one"). */
export type PickAnswer = { number: number } | { phrase: string };

/**
 * A rule recognises one way of asking for something. Rules are pure functions of the clause: whether
 * the conversation holds suitable media is checked afterwards, in one place (media-needs.ts), so that
 * the same rules also serve chain splitting, which has no context.
 */
export interface Rule {
  readonly name: string;
  match(input: RuleInput): RuleOutcome | undefined;
}

export function task(name: Task, args: Record<string, unknown> = {}): RuleOutcome {
  return { kind: 'task', task: name, args };
}

export function invalid(name: Task, reply: string): RuleOutcome {
  return { kind: 'invalid', task: name, reply };
}

/** A rule from a list of patterns that all mean the same argument-free task. */
export function phrases(name: string, taskName: Task, patterns: RegExp[], args: Record<string, unknown> = {}): Rule {
  return { name, match: ({ bare }) => (patterns.some((p) => p.test(bare)) ? task(taskName, args) : undefined) };
}

const DANGLING =
  /\s+(?:in|on|from|of|to|for|into|onto|at|with|inside|within|off|over|please|now|too|as\s+well|also|here|there|away|completely|entirely|please)$/i;
const LEADING_JUNK = /^(?:of|off|out|out\s+of|away|all\s+of)\s+/i;

/**
 * Cleans an object phrase cut out of a clause: trims dangling prepositions ("the dog from" → "the dog")
 * and punctuation. Articles stay: "the dog" is what grounding models are trained on.
 */
export function cleanPhrase(phrase: string): string {
  let p = phrase
    .trim()
    .replace(/^["']|["']$/g, '')
    .replace(/[.,;:!?]+$/, '')
    .trim();
  for (let previous = ''; previous !== p; ) {
    previous = p;
    p = p.replace(DANGLING, '').replace(LEADING_JUNK, '').trim();
  }
  return p;
}

/** Drops a leading article for style names: "a watercolor painting" → "watercolor painting". */
export function withoutArticle(text: string): string {
  return text.replace(/^(?:an?|the)\s+/i, '').trim();
}

const NUMBER = String.raw`(\d+(?:\.\d+)?)`;
const BOX = new RegExp(
  String.raw`\b(?:box|rectangle|region|area|rect)\s*(?:from\s+)?\[?\(?\s*${NUMBER}\s*[,\s]\s*${NUMBER}\s*[,\s]\s*(?:to\s+)?${NUMBER}\s*[,\s]\s*${NUMBER}\s*\)?\]?`,
  'i',
);

/** "the box 10,20 to 200,180" anywhere in a clause → [x1, y1, x2, y2] with the corners in order. */
export function boxIn(text: string): [number, number, number, number] | undefined {
  const m = BOX.exec(text);
  if (!m) return undefined;
  const [x1, y1, x2, y2] = m.slice(1, 5).map(Number) as [number, number, number, number];
  return [Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)];
}
