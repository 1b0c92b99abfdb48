import { argSpec } from '../core/tasks.ts';
import type { Invocation } from '../core/types.ts';
import type { PickAnswer, SeedChange } from './rules/rule.ts';

/**
 * What "same seed", "new seed" and "the second one" (after a grid) do to the last turn's invocations; the chain
 * builder (baseline-planner.ts) places the result like any repeat.
 */

/** The last turn's invocations with the seed kept or dropped and the prompt changed; a reply when none has a seed. */
export function withSeedChange(last: readonly Invocation[], change: SeedChange): Invocation[] | string {
  if (!last.some((i) => argSpec(i.task, 'seed') !== undefined)) {
    if (!change.keep && change.unlessSeedless) return [...last];
    return 'The last request made no generated picture, so there is no seed to keep or change: ask for one first, for example "draw a red fox in the snow".';
  }
  const spec = argSpec('generate_image', 'seed');
  if (change.keep && change.value !== undefined && spec?.kind === 'number' && (change.value < spec.min || change.value > spec.max)) {
    return `A seed has to be a whole number from ${spec.min} to ${spec.max}.`;
  }
  return last.map((invocation) => {
    if (argSpec(invocation.task, 'seed') === undefined) return invocation;
    const { seed, ...rest } = invocation.args;
    const kept = change.keep ? (change.value ?? seed) : undefined;
    const args: Record<string, unknown> = kept === undefined ? rest : { ...rest, seed: kept };
    if (!change.keep && change.count !== undefined && argSpec(invocation.task, 'count') !== undefined) args.count = change.count;
    if (change.keep && change.prompt !== undefined && argSpec(invocation.task, 'prompt') !== undefined) {
      const before = typeof args.prompt === 'string' ? args.prompt.trim() : '';
      const { words, mode } = change.prompt;
      args.prompt = mode === 'replace' || before === '' ? words : `${before}, ${words}`;
    }
    return { ...invocation, args };
  });
}

/** The batch picture an answer names ("the second one", "number 3", "the last one"), when there is a batch. */
export function batchPicture(answer: PickAnswer, lastBatch: number | undefined): number | undefined {
  if (lastBatch === undefined || lastBatch < 2) return undefined;
  const n = 'number' in answer ? answer.number : /^(?:the\s+)?(?:last|final)\s+one$/i.test(answer.phrase) ? lastBatch : undefined;
  return n !== undefined && n >= 1 && n <= lastBatch ? n : undefined;
}

/**
 * "the second one" alone after a grid: the picture is clear but not what to do with it, and no task only
 * selects one (the grid's buttons do that), so the bot asks.
 */
export function batchPictureReply(n: number): string {
  const ordinal = ['first', 'second', 'third', 'fourth'][n - 1] ?? `number ${n}`;
  return `Picture ${n} of the last batch: what should I do with it? For example "upscale the ${ordinal} one", "vary the ${ordinal} one" or "make the ${ordinal} one brighter".`;
}
