import { ADJUST_RULES } from './adjust.ts';
import { CAMERA_MOVE_RULE } from './camera-move.ts';
import { EDIT_FALLBACK_RULE, EDIT_RULES, STYLE_RULE } from './edit.ts';
import { GENERATE_RULES } from './generate.ts';
import type { GenerationOptions } from '../generation-options.ts';
import { optionsFor, takeGenerationOptions } from '../generation-options.ts';
import { OUTPAINT_RULES } from './outpaint.ts';
import type { Rule, RuleInput, RuleOutcome } from './rule.ts';
import { PICK_RULES } from './pick.ts';
import { SEED_RULES } from './seed.ts';
import { SEGMENT_RULES } from './segment.ts';
import { SESSION_RULES } from './session.ts';
import { TRANSFORM_RULES } from './transform.ts';
import { ANSWER_RULE, REGION_CAPTION_RULE, UNDERSTAND_RULES } from './understand.ts';
import { VARY_RULES } from './vary.ts';
import { VIDEO_RULES } from './video.ts';

const byName = (rules: Rule[], ...names: string[]): Rule[] => rules.filter((r) => names.includes(r.name));
const except = (rules: Rule[], ...names: string[]): Rule[] => rules.filter((r) => !names.includes(r.name));

/**
 * The first rule that matches wins, so the order is the tie-break between readings:
 * - session commands are fixed expressions and go first; "same seed", "reroll" and "try it again" before
 *   them, so "try it again" draws a new seed rather than the same picture that "again" reproduces;
 * - video rules need time words or "gif", which nothing else uses;
 * - a camera move ("slowly zoom out", "pan left") before outpainting, which takes a bare "zoom out";
 * - variations and outpainting are whole-clause readings of words ("variations", "zoom out", "extend the
 *   canvas") that the edit rules would otherwise take as free-form edits, and that "give me …" would take as
 *   a new picture of "some variations";
 * - narrow edit words (colorize, background, depth, upscale, inpaint) before the segment and
 *   understand rules, so "show me the depth map" is depth, not "where is the depth map";
 * - segment before understand, so "find the mask of the cat" is a mask, not a detection — except a
 *   question about a box ("what is in the box 10,20,200,180?"), which is a caption of that region;
 * - adjust before remove, so "remove the colours" is greyscale (adjust refuses clauses that also name
 *   an object, so "remove the black and white cat" still reaches remove);
 * - generation before style, so "draw a cartoon cat" is a new picture, not a restyle;
 * - the free-form edit and the generic question come last: they are what is left.
 */
export const RULES: readonly Rule[] = [
  ...SEED_RULES,
  ...SESSION_RULES,
  ...PICK_RULES,
  ...VIDEO_RULES,
  CAMERA_MOVE_RULE,
  ...VARY_RULES,
  ...OUTPAINT_RULES,
  ...except(EDIT_RULES, 'replace', 'remove'),
  REGION_CAPTION_RULE,
  ...SEGMENT_RULES,
  ...UNDERSTAND_RULES,
  ...ADJUST_RULES,
  ...TRANSFORM_RULES,
  ...byName(EDIT_RULES, 'replace', 'remove'),
  ...GENERATE_RULES,
  STYLE_RULE,
  EDIT_FALLBACK_RULE,
  ANSWER_RULE,
];

export interface RuleMatch {
  rule: string;
  outcome: RuleOutcome;
}

function firstMatch(input: RuleInput, rules: readonly Rule[]): RuleMatch | undefined {
  for (const rule of rules) {
    const outcome = rule.match(input);
    if (outcome) return { rule: rule.name, outcome };
  }
  return undefined;
}

/**
 * The first rule that matches. Generation settings ("seed 7", "in 4 steps", "--no text") are read apart from
 * the words (generation-options.ts): the clause without them is matched, and they join the outcome when its
 * task takes them; otherwise the clause is matched as typed.
 */
export function matchRules(input: RuleInput, rules: readonly Rule[] = RULES): RuleMatch | undefined {
  const taken = takeGenerationOptions(input);
  const match = taken === undefined ? undefined : firstMatch(taken.input, rules);
  const withOptions = match === undefined || taken === undefined ? undefined : applyOptions(match, taken.options);
  return withOptions ?? firstMatch(input, rules);
}

function applyOptions(match: RuleMatch, options: GenerationOptions): RuleMatch | undefined {
  const { outcome } = match;
  if (outcome.kind === 'task') {
    const given = optionsFor(outcome.task, options);
    if (given === undefined) return undefined;
    if (options.problem !== undefined) return { rule: match.rule, outcome: { kind: 'invalid', task: outcome.task, reply: options.problem } };
    return { rule: match.rule, outcome: { ...outcome, args: mergeOptions(outcome.args, given) } };
  }
  if (outcome.kind === 'chain' && outcome.steps.some((step) => optionsFor(step.task, options) !== undefined)) {
    const steps = outcome.steps.map((step) => ({ ...step, args: mergeOptions(step.args, optionsFor(step.task, options) ?? {}) }));
    return { rule: match.rule, outcome: { kind: 'chain', steps } };
  }
  return undefined;
}

/** A negative said in words ("no people") and a flag ("--no text") are both kept. */
function mergeOptions(args: Record<string, unknown>, given: Record<string, unknown>): Record<string, unknown> {
  const negative = [args.negative, given.negative].filter((n): n is string => typeof n === 'string' && n !== '');
  return { ...args, ...given, ...(negative.length > 0 ? { negative: negative.join(', ') } : {}) };
}

/**
 * Rules that may recognise a piece of a longer message. An answer to "which one?" ("2") is only ever a
 * whole message: as a piece it would split "segment at 120,80" at the comma.
 */
export const CLAUSE_RULES: readonly Rule[] = RULES.filter((r) => !PICK_RULES.includes(r));

/** Rules whose match means "this clause stands on its own", for chain splitting (see split-chain.ts). */
export const STANDALONE_RULES: readonly Rule[] = CLAUSE_RULES.filter((r) => r !== EDIT_FALLBACK_RULE && r !== ANSWER_RULE);
