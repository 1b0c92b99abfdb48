import type { Task } from '../../core/tasks.ts';
import { argSpec } from '../../core/tasks.ts';
import { NUMBER_SOURCE, parseNumber } from '../numbers.ts';
import type { RuleOutcome } from './rule.ts';
import { invalid } from './rule.ts';

/**
 * How many pictures a request asks for: "4", "four", "a couple of", "a few", "several". Vague amounts become
 * small numbers a grid shows well ("a couple" 2, "a few" and "several" 3); "some" says no number at all, and
 * the engine's default stands.
 */
export const COUNT_SOURCE = String.raw`(?:a\s+couple(?:\s+of)?|a\s+few|several|${NUMBER_SOURCE})`;

export function parseCount(words: string): number | undefined {
  const w = words.trim().toLowerCase().replace(/\s+/g, ' ');
  if (/^a couple(?: of)?$/.test(w)) return 2;
  if (w === 'a few' || w === 'several') return 3;
  const n = parseNumber(w);
  return n !== undefined && Number.isInteger(n) ? n : undefined;
}

/** The largest count the task's row allows (the grid holds that many). */
export function maxCount(task: Task): number {
  const spec = argSpec(task, 'count');
  return spec?.kind === 'number' ? spec.max : 1;
}

/** `{ count }` for a count in range, an explanation when it is not, nothing for one picture. */
export function countArgs(task: Task, count: number | undefined): Record<string, unknown> | RuleOutcome {
  if (count === undefined) return {};
  const max = maxCount(task);
  if (count < 1 || count > max) {
    return invalid(task, `I can make at most ${max} pictures at once (they come as one grid). Ask for ${max}, then for more if you like.`);
  }
  return { count };
}

export function isOutcome(value: Record<string, unknown> | RuleOutcome): value is RuleOutcome {
  return typeof value.kind === 'string' && (value.kind === 'invalid' || value.kind === 'task');
}
