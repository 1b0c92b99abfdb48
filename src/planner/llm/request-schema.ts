import { factsOf, type ArgSpec, type Task } from '../../core/tasks.ts';
import type { PlanContext } from '../../core/types.ts';

/**
 * The JSON schema of one request's answer, built for this turn: `task` is one of the tasks that can run here now,
 * targets are references this conversation really has, and each task's arguments are its row of the task table.
 * Written for OpenAI's strict structured outputs (every property required, optional ones nullable, no extra
 * properties), which vLLM, llama.cpp and Ollama also take; `answerToPlan` drops the nulls again.
 */

type Json = Record<string, unknown>;

const nullable = (schema: Json): Json => ({ anyOf: [schema, { type: 'null' }] });

function argJson(spec: ArgSpec): Json {
  const about = { description: spec.about };
  switch (spec.kind) {
    case 'text':
    case 'color':
      return { type: 'string', ...about };
    case 'aspect':
      return { type: 'string', pattern: '^[1-9][0-9]*:[1-9][0-9]*$', ...about };
    case 'number':
      return spec.values ? { enum: [...spec.values], ...about } : { type: 'number', minimum: spec.min, maximum: spec.max, ...about };
    case 'seconds':
      return { type: 'number', minimum: spec.min, maximum: spec.max, ...about };
    case 'flag':
      return { type: 'boolean', ...about };
    case 'choice':
      return { enum: [...spec.choices], ...about };
    case 'box':
      return { type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 4, ...about };
    case 'points':
      return { type: 'array', items: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 }, minItems: 1, ...about };
    case 'crop':
      return {
        anyOf: [
          strictObject({ aspect: { type: 'string', pattern: '^[1-9][0-9]*:[1-9][0-9]*$' } }),
          strictObject({ left: { type: 'integer' }, top: { type: 'integer' }, width: { type: 'integer' }, height: { type: 'integer' } }),
        ],
        ...about,
      };
    case 'resize':
      return {
        ...strictObject({ width: nullable({ type: 'integer' }), height: nullable({ type: 'integer' }), scale: nullable({ type: 'number' }) }),
        ...about,
      };
  }
}

function strictObject(properties: Record<string, Json>): Json {
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}

/** The references a plan may name in this turn: the conversation's media, this turn's files, earlier steps, a live batch. */
export function availableReferences(context: PlanContext): string[] {
  const refs = new Set<string>();
  const media = context.conversation?.media ?? [];
  if (media.some((m) => m.current) || context.attachments.length > 0) refs.add('current');
  if (media.some((m) => m.current && m.madeFrom !== undefined)) {
    refs.add('original');
    refs.add('previous');
  }
  for (const m of media) refs.add(m.ref);
  for (const kind of ['image', 'video'] as const) {
    if (media.some((m) => m.kind === kind) || context.attachments.includes(kind)) refs.add(`${kind}:last`);
  }
  context.attachments.forEach((_, i) => {
    refs.add(i === 0 ? 'upload' : `upload:${i + 1}`);
  });
  for (let n = 1; n <= (context.lastBatch ?? 0); n++) refs.add(`batch:${n}`);
  return [...refs];
}

/** Later steps of a plan name earlier ones: "cut out the dog and put it on a beach" is step:0 then step:0's result. */
const MAX_STEPS = 4;

export function planAnswerSchema(tasks: readonly Task[], references: readonly string[]): Json {
  const stepRefs = Array.from({ length: MAX_STEPS - 1 }, (_, k) => `step:${k}`);
  const targetEnum = [...references, ...stepRefs];
  const invocation = (task: Task): Json => {
    const facts = factsOf(task);
    const args = Object.fromEntries(Object.entries(facts.args).map(([name, spec]) => [name, spec.required ? argJson(spec) : nullable(argJson(spec))]));
    return {
      ...strictObject({
        task: { enum: [task] },
        targets: { type: 'array', items: { enum: targetEnum }, maxItems: facts.target === 'none' ? 0 : 3 },
        args: strictObject(args),
      }),
      description: `${facts.summary} (e.g. "${facts.example}")`,
    };
  };
  return strictObject({
    reply: nullable({ type: 'string', description: 'words for the user: an answer, a question back, or null when the invocations say it all' }),
    invocations: { type: 'array', items: { anyOf: tasks.map(invocation) }, maxItems: MAX_STEPS },
  });
}
