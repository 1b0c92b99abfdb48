import { z } from 'zod';
import type { Task } from '../core/tasks.ts';
import { TASKS } from '../core/tasks.ts';
import type { Plan } from '../core/types.ts';
import { InvalidArgumentError } from '../errors.ts';

/**
 * The Plan contract as a zod schema: what any planner (this baseline, or an LLM constrained to JSON)
 * must emit. Argument objects are strict per task, so a planner cannot invent parameters that a
 * specialist would silently ignore. `PLAN_JSON_SCHEMA` is the same contract for constrained decoding
 * (llama.cpp grammars, vLLM/Ollama `format`); the cross-field checks below are enforced by `parsePlan`.
 */

export const TargetRefSchema = z
  .string()
  .regex(/^(?:current|upload|original|previous|(?:image|video|media):(?:[1-9]\d*|last)|step:\d+)$/, 'a target reference such as "current", "image:2", "video:last" or "step:0"');

const phrase = z.string().trim().min(1);
const positive = z.number().positive();
const seconds = z.number().finite();

const anyDefined = (value: Record<string, unknown>): boolean => Object.values(value).some((v) => v !== undefined);

export const ARG_SCHEMAS: Record<Task, z.ZodType<Record<string, unknown>>> = {
  caption: z.strictObject({ detail: z.enum(['short', 'detailed']).optional(), box: z.tuple([z.number(), z.number(), z.number(), z.number()]).optional() }),
  answer: z.strictObject({ question: phrase }),
  ocr: z.strictObject({ question: phrase.optional() }),
  detect: z.strictObject({ phrase: phrase.optional(), count: z.literal(true).optional() }),
  ground: z.strictObject({ phrase }),
  segment: z.strictObject({ phrase }),
  segment_at: z
    .strictObject({
      points: z.array(z.tuple([z.number().nonnegative(), z.number().nonnegative()])).min(1).optional(),
      box: z.tuple([z.number(), z.number(), z.number(), z.number()]).optional(),
    })
    .refine(anyDefined, 'segment_at needs points or a box'),
  segment_all: z.strictObject({}),
  cutout: z.strictObject({ phrase: phrase.optional() }),
  generate_image: z.strictObject({ prompt: phrase, aspect: z.string().regex(/^\d+:\d+$/).optional() }),
  generate_video: z.strictObject({ prompt: phrase, seconds: positive.optional() }),
  animate: z.strictObject({ prompt: phrase.optional(), seconds: positive.optional() }),
  remove: z.strictObject({ phrase }),
  replace: z.strictObject({ phrase, prompt: phrase }),
  inpaint: z.strictObject({ prompt: phrase.optional() }),
  edit: z.strictObject({ prompt: phrase }),
  background: z
    .strictObject({ color: z.string().min(1).optional(), blur: positive.optional(), prompt: phrase.optional() })
    .refine((a) => [a.color, a.blur, a.prompt].filter((v) => v !== undefined).length === 1, 'background needs exactly one of color, blur or prompt'),
  style: z.strictObject({ prompt: phrase }),
  upscale: z.strictObject({ factor: z.union([z.literal(2), z.literal(3), z.literal(4)]) }),
  colorize: z.strictObject({}),
  depth: z.strictObject({}),
  adjust: z
    .strictObject({
      brightness: positive.optional(),
      contrast: positive.optional(),
      saturation: z.number().nonnegative().optional(),
      hue: z.number().finite().optional(),
      blur: positive.optional(),
      sharpen: positive.optional(),
      pixelate: positive.optional(),
      phrase: phrase.optional(),
      grayscale: z.literal(true).optional(),
      sepia: z.literal(true).optional(),
      invert: z.literal(true).optional(),
    })
    .refine(anyDefined, 'adjust needs at least one adjustment'),
  transform: z
    .strictObject({
      crop: z
        .union([
          z.strictObject({ aspect: z.string().regex(/^[1-9]\d*:[1-9]\d*$/) }),
          z.strictObject({ left: z.number().int().nonnegative(), top: z.number().int().nonnegative(), width: z.number().int().positive(), height: z.number().int().positive() }),
        ])
        .optional(),
      resize: z
        .strictObject({ width: z.number().int().positive().optional(), height: z.number().int().positive().optional(), scale: positive.optional() })
        .refine(anyDefined, 'resize needs width, height or scale')
        .optional(),
      rotate: z.number().finite().optional(),
      flip: z.enum(['horizontal', 'vertical']).optional(),
    })
    .refine(anyDefined, 'transform needs crop, resize, rotate or flip'),
  trim: z
    .strictObject({ start: seconds.optional(), end: seconds.optional() })
    .refine(anyDefined, 'trim needs a start or an end')
    .refine(
      (a) => a.start === undefined || a.end === undefined || Math.sign(a.start || 1) !== Math.sign(a.end || 1) || a.end > a.start,
      'trim end must come after start',
    ),
  speed: z.strictObject({ factor: positive }),
  reverse: z.strictObject({}),
  to_gif: z.strictObject({ format: z.enum(['gif', 'webp']) }),
  extract_frame: z
    .strictObject({ at: z.number().nonnegative().optional(), which: z.enum(['first', 'last', 'middle']).optional() })
    .refine((a) => (a.at === undefined) !== (a.which === undefined), 'extract_frame needs exactly one of at or which'),
  undo: z.strictObject({}),
  redo: z.strictObject({}),
  revert: z.strictObject({}),
  help: z.strictObject({}),
  cancel: z.strictObject({}),
};

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
