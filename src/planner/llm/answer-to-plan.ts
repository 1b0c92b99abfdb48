import type { Task } from '../../core/tasks.ts';
import type { Plan } from '../../core/types.ts';
import { InvalidArgumentError } from '../../errors.ts';
import { parsePlan } from '../plan-schema.ts';

/** What this turn allows: the tasks that can run now and the references the conversation really has. */
export interface PlanLimits {
  tasks: ReadonlySet<Task>;
  references: ReadonlySet<string>;
}

export type AnswerReading = { plan: Plan } | { problem: string };

/**
 * A model's answer as a Plan, or the problem with it in words the model can act on (the repair request quotes
 * it). The answer is checked against the same zod contract as every plan, and against this turn's tasks and
 * references even when the server ignored the schema: an unknown task, media id or file name never gets through.
 */
export function answerToPlan(text: string, limits: PlanLimits): AnswerReading {
  let json: unknown;
  try {
    json = JSON.parse(unfenced(text));
  } catch {
    return { problem: `the answer is not JSON (it starts ${JSON.stringify(text.slice(0, 40))}); answer with one JSON object in the schema, nothing else` };
  }
  const cleaned = withoutNulls(json) as { reply?: unknown; invocations?: unknown };
  if (typeof cleaned !== 'object' || cleaned === null || Array.isArray(cleaned))
    return { problem: 'the answer must be one JSON object with "reply" and "invocations"' };
  const candidate = {
    invocations: Array.isArray(cleaned.invocations) ? cleaned.invocations.map((i) => (isObject(i) ? { targets: [], args: {}, ...i } : i)) : cleaned.invocations,
    ...(typeof cleaned.reply === 'string' && cleaned.reply.trim() !== '' ? { reply: cleaned.reply.trim() } : {}),
  };
  for (const [index, invocation] of (Array.isArray(candidate.invocations) ? candidate.invocations : []).entries()) {
    if (!isObject(invocation)) continue;
    const task = String(invocation.task);
    if (!limits.tasks.has(task as Task)) {
      return { problem: `invocations.${index}.task: "${task.slice(0, 40)}" is not a task that can run here; use one of ${[...limits.tasks].join(', ')}` };
    }
    for (const target of Array.isArray(invocation.targets) ? invocation.targets : []) {
      if (typeof target === 'string' && (/^step:\d+$/.test(target) || limits.references.has(target))) continue;
      const known = [...limits.references].join(', ') || 'none: there is no media yet, so ask for a file';
      return { problem: `invocations.${index}.targets: ${JSON.stringify(target).slice(0, 60)} is not a reference this conversation has (it has ${known})` };
    }
  }
  try {
    return { plan: parsePlan(candidate) };
  } catch (error) {
    if (error instanceof InvalidArgumentError) return { problem: error.message.replace(/^The planner's output is not a valid plan: /, '') };
    throw error;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Some servers wrap JSON in a Markdown fence even when asked for JSON only. */
function unfenced(text: string): string {
  const fenced = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/i.exec(text);
  return fenced ? fenced[1]! : text.trim();
}

/**
 * Strict schemas make absent arguments `null` and flags `false`; the plan contract wants them left out (a flag is
 * `true` or absent).
 */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, v]) => v !== null && !(v === false && key !== 'reply'))
      .map(([key, v]) => [key, withoutNulls(v)]),
  );
}
