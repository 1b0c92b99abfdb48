import { z } from 'zod';
import type { ArgSpec, Task } from '../core/tasks.ts';
import { TASKS, factsOf } from '../core/tasks.ts';
import type { Plan } from '../core/types.ts';
import { InvalidArgumentError } from '../errors.ts';

/**
 * The Plan contract as a zod schema: what any planner (this baseline, or an LLM constrained to JSON)
 * must emit. Argument objects are strict per task and built from the task table (names, types, ranges,
 * required ones, rules across arguments), so a planner cannot invent parameters that a specialist would
 * silently ignore. `PLAN_JSON_SCHEMA` is the same contract for constrained decoding
 * (llama.cpp grammars, vLLM/Ollama `format`); the cross-field checks below are enforced by `parsePlan`.
 */

export const TargetRefSchema = z
  .string()
  .regex(
    /^(?:current|upload|upload:[1-9]\d*|original|previous|(?:image|video|media):(?:[1-9]\d*|last|other)|step:\d+|batch:[1-9]\d*)$/,
    'a target reference such as "current", "image:2", "video:last", "image:other", "upload:2", "step:0" or "batch:2" (a picture of the last grid)',
  );

const box = z.tuple([z.number(), z.number(), z.number(), z.number()]);
const anyDefined = (value: Record<string, unknown>): boolean => Object.values(value).some((v) => v !== undefined);

/** One argument as a planner must write it: strict JSON types (specialists also take numeric strings). */
export function argSchema(spec: ArgSpec): z.ZodType {
  switch (spec.kind) {
    case 'text':
      return z.string().trim().min(1);
    case 'number': {
      const [first, ...rest] = (spec.values ?? []).map((v) => z.literal(v));
      return first ? (rest.length > 0 ? z.union([first, ...rest]) : first) : z.number().min(spec.min).max(spec.max);
    }
    case 'seconds':
      return z.number().min(spec.min).max(spec.max);
    case 'flag':
      return z.literal(true);
    case 'choice':
      return z.enum(spec.choices as [string, ...string[]]);
    case 'box':
      return box;
    case 'points':
      return z.array(z.tuple([z.number().nonnegative(), z.number().nonnegative()])).min(1);
    case 'color':
      return z.string().min(1);
    case 'aspect':
      return z.string().regex(/^\d+:\d+$/);
    case 'crop':
      return z.union([
        z.strictObject({ aspect: z.string().regex(/^[1-9]\d*:[1-9]\d*$/) }),
        z.strictObject({
          left: z.number().int().nonnegative(),
          top: z.number().int().nonnegative(),
          width: z.number().int().positive(),
          height: z.number().int().positive(),
        }),
      ]);
    case 'resize':
      return z
        .strictObject({
          width: z.number().int().positive().optional(),
          height: z.number().int().positive().optional(),
          scale: z.number().positive().optional(),
        })
        .refine(anyDefined, 'resize needs width, height or scale');
  }
}

/** A task's argument object as the task table describes it: its arguments, required ones, and its rules. */
function argsSchema(task: Task): z.ZodType<Record<string, unknown>> {
  const facts = factsOf(task);
  const shape = Object.fromEntries(Object.entries(facts.args).map(([name, spec]) => [name, spec.required ? argSchema(spec) : argSchema(spec).optional()]));
  return z.strictObject(shape).superRefine((args: Record<string, unknown>, ctx) => {
    for (const rule of facts.rules ?? []) {
      const given = rule.of.filter((name) => args[name] !== undefined).length;
      if (rule.kind === 'at-least-one' ? given === 0 : given !== 1) ctx.addIssue({ code: 'custom', message: rule.message });
    }
    const problem = facts.check?.(args);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });
}

export const ARG_SCHEMAS = Object.fromEntries(TASKS.map((task) => [task, argsSchema(task)])) as Record<Task, z.ZodType<Record<string, unknown>>>;

const RegionSchema = z.strictObject({
  box: z.tuple([z.number(), z.number(), z.number(), z.number()]).optional(),
  points: z.array(z.tuple([z.number(), z.number()])).optional(),
});

export const InvocationSchema = z
  .strictObject({
    task: z.enum(TASKS as [Task, ...Task[]]),
    targets: z.array(TargetRefSchema),
    args: z.record(z.string(), z.unknown()),
    region: RegionSchema.optional(),
    embeddings: z.record(z.string(), z.array(z.number())).optional(),
  })
  .superRefine((invocation, ctx) => {
    const result = ARG_SCHEMAS[invocation.task].safeParse(invocation.args);
    if (!result.success) {
      for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: `${invocation.task}: ${issue.message}`, path: ['args', ...issue.path] });
    }
  });

export const PlanSchema = z
  .strictObject({
    invocations: z.array(InvocationSchema),
    reply: z.string().min(1).optional(),
  })
  .superRefine((plan, ctx) => {
    if (plan.invocations.length === 0 && plan.reply === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a plan with no invocations must have a reply', path: ['reply'] });
    }
    plan.invocations.forEach((invocation, index) => {
      for (const target of invocation.targets) {
        const step = /^step:(\d+)$/.exec(target);
        if (step && Number(step[1]) >= index) {
          ctx.addIssue({ code: 'custom', message: `${target} must name an earlier invocation`, path: ['invocations', index, 'targets'] });
        }
      }
    });
  });

/** Validates a planner's output at the edge; the message lists every problem with its path. */
export function parsePlan(value: unknown): Plan {
  const result = PlanSchema.safeParse(value);
  if (result.success) return result.data as Plan;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(plan)'}: ${issue.message}`).join('; ');
  throw new InvalidArgumentError(`The planner's output is not a valid plan: ${problems}`, { issues: result.error.issues });
}

/** JSON Schema of the structural part of a Plan, for constrained decoding by an LLM planner. */
export function planJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(PlanSchema, { unrepresentable: 'any' }) as Record<string, unknown>;
}
