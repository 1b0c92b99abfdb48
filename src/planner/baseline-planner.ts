import type { Invocation, MediaKind, Plan, PlanContext, Planner, TargetRef } from '../core/types.ts';
import { cleanClause, isFiller, isGreeting, normalizeTypography } from './clause.ts';
import {
  defaultTarget,
  hasAnyMedia,
  hasKind,
  isVideoOnly,
  kindOf,
  missingKindReply,
  needsMediaReply,
  needsTarget,
  outputKind,
  producesMedia,
  videoOnlyReply,
} from './media-needs.ts';
import { resolveReferences } from './references.ts';
import type { RuleMatch } from './rules/index.ts';
import { CLAUSE_RULES, STANDALONE_RULES, matchRules } from './rules/index.ts';
import { withSecondImage } from './rules/edit.ts';
import { withPick } from './rules/pick.ts';
import type { PickAnswer, RuleInput, SeedChange } from './rules/rule.ts';
import { batchPicture, batchPictureReply, withSeedChange } from './repeat.ts';
import type { Recognition } from './split-chain.ts';
import { splitChain } from './split-chain.ts';
import { focusKind, formatSuggestions, suggestionsFor } from './suggestions.ts';

/**
 * The deterministic baseline planner: rules over the text, no model. It fills the discrete half of
 * Vitron's hybrid message (task, targets, args) and never `embeddings`: those come from a text
 * encoder or an LLM planner placed behind the same `Planner` interface later.
 */
export class BaselinePlanner implements Planner {
  readonly name = 'baseline';

  async plan(text: string, context: PlanContext): Promise<Plan> {
    return planTurn(text, context);
  }
}

/** Reads one clause as the rules see it, with the targets it names explicitly. */
export function readClause(clause: string, context: PlanContext): { input: RuleInput; targets: TargetRef[] } {
  const { text: raw, question } = cleanClause(clause);
  const references = resolveReferences(raw, context);
  const asked = resolveReferences(normalizeTypography(clause).trim(), context).text;
  return { input: { raw, text: references.text, bare: references.bare, asked, question }, targets: references.targets };
}

const NO_CONTEXT: PlanContext = { attachments: [], hasImage: true, hasVideo: true, currentKind: 'image' };

/** Chain splitting asks whether a piece of text is an instruction by itself, whatever the media. */
function recognize(clause: string): Recognition {
  if (isFiller(clause)) return undefined;
  const { input } = readClause(clause, NO_CONTEXT);
  if (matchRules(input, STANDALONE_RULES)) return 'standalone';
  return matchRules(input, CLAUSE_RULES) ? 'fallback' : undefined;
}

export function planTurn(text: string, context: PlanContext): Plan {
  const message = normalizeTypography(text).trim();
  if (message === '') return emptyMessageReply(context);
  if (isGreeting(message)) return { invocations: [], reply: `Hi! ${waitingFor(context)} ${formatSuggestions(suggestionsFor(context))}` };

  const clauses = splitChain(message, recognize).filter((c) => !isFiller(c));
  if (clauses.length === 0) return { invocations: [], reply: `Anything else? ${formatSuggestions(suggestionsFor(context))}` };

  const chain = new ChainBuilder(context);
  let clauseContext = context;
  for (const clause of clauses) {
    const { input, targets: explicit } = readClause(clause, clauseContext);
    const match = matchRules(input);
    const problem = match === undefined ? notUnderstood(clause, context) : chain.add(match, explicit);
    if (problem !== undefined) return { invocations: [], reply: problem };
    // Once this message makes new media, "the second one" is no longer about the last grid (batch:N is
    // resolved before the job runs, so it could only mean the old grid).
    if (clauseContext.lastBatch !== undefined && chain.invocations.some((i) => producesMedia(i.task))) {
      const { lastBatch: _, ...rest } = clauseContext;
      clauseContext = rest;
    }
  }
  return { invocations: chain.invocations };
}

/** Builds the invocations of one message in order, deciding targets and checking media as it goes. */
class ChainBuilder {
  readonly invocations: Invocation[] = [];
  private readonly kinds: (MediaKind | undefined)[] = [];

  constructor(private readonly context: PlanContext) {}

  /** Adds what a clause asked for; returns a reply instead when it cannot be run. */
  add(match: RuleMatch, explicit: TargetRef[]): string | undefined {
    const { outcome } = match;
    if (outcome.kind === 'invalid') return outcome.reply;
    // "the second one" reads as a media reference too; as an answer to "which one?" it picks on the same media.
    if (outcome.kind === 'repeat') return this.repeat(outcome.pick === undefined ? explicit : [], outcome.pick, outcome.seed);
    if (outcome.kind === 'chain') {
      // Only the first step takes the clause's targets; each later one works on the step before it.
      for (const [k, step] of outcome.steps.entries()) {
        const targets = this.targetsFor(step.task, k === 0 ? explicit : [], step.args);
        const problem = this.push({ task: step.task, targets, args: step.args }, k === 0 && explicit.length > 0);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    return this.push({ task: outcome.task, targets: this.targetsFor(outcome.task, explicit, outcome.args), args: outcome.args }, explicit.length > 0);
  }

  /** Explicit references win; then the previous step's output; then the turn's upload or "it". */
  private targetsFor(task: Invocation['task'], explicit: TargetRef[], args: Record<string, unknown> = {}): TargetRef[] {
    if (!needsTarget(task)) return [];
    if (explicit.length > 0) return [...explicit];
    return withSecondImage(task, args, this.context, this.implicitTargets());
  }

  /**
   * What "it" means at this point of the chain: the previous step's output when it made media, the
   * previous step's own target when it only answered (caption, detect, segment), and after undo/redo/
   * revert (or at the start) the turn's upload or the conversation's current media.
   */
  private implicitTargets(): TargetRef[] {
    const k = this.invocations.length - 1;
    const previous = this.invocations[k];
    if (previous === undefined) return [defaultTarget(this.context)];
    if (producesMedia(previous.task)) return [`step:${k}`];
    if (needsTarget(previous.task)) return [...previous.targets];
    return [defaultTarget(this.context)];
  }

  private push(invocation: Invocation, explicit: boolean): string | undefined {
    const problem = this.check(invocation, explicit);
    if (problem !== undefined) return problem;
    const input = invocation.targets[0] === undefined ? undefined : kindOf(invocation.targets[0], this.context, this.kinds);
    this.kinds.push(outputKind(invocation.task, input));
    this.invocations.push(invocation);
    return undefined;
  }

  private check(invocation: Invocation, explicit: boolean): string | undefined {
    const { task, targets } = invocation;
    if (!needsTarget(task)) return undefined;
    const fromOutside = targets.filter((t) => !t.startsWith('step:'));
    if (fromOutside.length > 0 && !hasAnyMedia(this.context)) return needsMediaReply(task);
    for (const target of fromOutside) {
      const named = target.startsWith('image:') ? 'image' : target.startsWith('video:') ? 'video' : undefined;
      if (named && !hasKind(this.context, named)) return missingKindReply(named);
    }
    if (!isVideoOnly(task)) return undefined;
    const kind = targets[0] === undefined ? undefined : kindOf(targets[0], this.context, this.kinds);
    if (kind !== 'image') return undefined;
    // "trim it" while looking at an image, with a video elsewhere in the conversation: that video is meant.
    if (!explicit && fromOutside.length > 0 && hasKind(this.context, 'video')) {
      invocation.targets = [this.context.attachments[0] === 'video' ? 'upload' : 'video:last'];
      return undefined;
    }
    return videoOnlyReply(task);
  }

  /** "again", "do the same to the video", "same seed", "reroll": the last turn's invocations on new targets. */
  private repeat(explicit: TargetRef[], pick?: PickAnswer, seed?: SeedChange): string | undefined {
    const lastTurn = this.context.lastInvocations ?? [];
    const inBatch = pick === undefined ? undefined : batchPicture(pick, this.context.lastBatch);
    // "the second one" after a grid names a picture of it, unless the last turn asked "which one?".
    if (inBatch !== undefined && typeof withPick(lastTurn, pick!) === 'string') return batchPictureReply(inBatch);
    if (pick !== undefined && lastTurn.length === 0) return 'There is nothing to choose from yet: ask for something first, for example "remove the dog".';
    const picked = pick === undefined ? lastTurn : withPick(lastTurn, pick);
    if (typeof picked === 'string') return picked;
    const last = seed === undefined ? picked : withSeedChange(picked, seed);
    if (typeof last === 'string') return last;
    if (last.length === 0) return 'There is nothing to repeat yet: tell me what to do first, for example "make it brighter".';
    const offset = this.invocations.length;
    const fresh = explicit.length > 0 ? explicit : this.implicitTargets();
    for (const previous of last) {
      const steps = previous.targets.filter((t) => t.startsWith('step:')).map((t) => `step:${Number(t.slice(5)) + offset}`);
      const outside = previous.targets.some((t) => !t.startsWith('step:'));
      const targets = needsTarget(previous.task) ? [...(outside ? fresh : []), ...steps] : [];
      const copy: Invocation = { ...structuredClone(previous), targets };
      const problem = this.push(copy, explicit.length > 0);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
}

function waitingFor(context: PlanContext): string {
  const kind = focusKind(context);
  return kind === undefined ? 'What would you like to make or edit?' : `What should I do with the ${kind}?`;
}

function emptyMessageReply(context: PlanContext): Plan {
  const suggestions = formatSuggestions(suggestionsFor(context));
  const count = context.attachments.length;
  if (count === 0) return { invocations: [], reply: `What would you like me to do? ${suggestions}` };
  const kinds = new Set(context.attachments);
  const noun = kinds.size > 1 ? 'files' : `${context.attachments[0]}${count > 1 ? 's' : ''}`;
  const what = count > 1 ? `your ${count} ${noun}` : `your ${noun}`;
  return { invocations: [], reply: `Got ${what}. What should I do with ${count > 1 ? 'them' : 'it'}? ${suggestions}` };
}

function notUnderstood(clause: string, context: PlanContext): string {
  const shown = clause.length > 80 ? `${clause.slice(0, 77)}…` : clause;
  return `Sorry, I didn't understand "${shown}". ${formatSuggestions(suggestionsFor(context))} Say "help" to see everything I can do.`;
}
