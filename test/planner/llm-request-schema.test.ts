import { describe, expect, it } from 'vitest';
import { TASKS, factsOf, isSessionTask } from '../../src/core/tasks.ts';
import { answerToPlan } from '../../src/planner/llm/answer-to-plan.ts';
import { availableReferences, planAnswerSchema } from '../../src/planner/llm/request-schema.ts';
import { contextFor } from '../../src/planner/context.ts';

/** The per-turn answer schema keeps OpenAI's strict rules, and the answer reader keeps the plan contract. */

type Node = Record<string, unknown>;
function objects(node: unknown, found: Node[] = []): Node[] {
  if (Array.isArray(node)) for (const item of node) objects(item, found);
  else if (node && typeof node === 'object') {
    const n = node as Node;
    if (n.type === 'object') found.push(n);
    for (const value of Object.values(n)) objects(value, found);
  }
  return found;
}

describe('the answer schema of one turn', () => {
  const schema = planAnswerSchema(
    TASKS.filter((t) => t !== 'help'),
    ['current', 'image:1'],
  );

  it('requires every property of every object and allows no others (OpenAI strict mode)', () => {
    const all = objects(schema);
    expect(all.length).toBeGreaterThan(TASKS.length);
    for (const object of all) {
      expect(object.additionalProperties).toBe(false);
      expect([...(object.required as string[])].sort()).toEqual(Object.keys(object.properties as Node).sort());
    }
  });

  it('has one alternative per task, each with the row’s arguments, optional ones nullable', () => {
    const alternatives = ((schema.properties as Node).invocations as { items: { anyOf: Node[] } }).items.anyOf;
    expect(alternatives.map((a) => ((a.properties as Node).task as { enum: string[] }).enum[0])).toEqual(TASKS.filter((t) => t !== 'help'));
    const adjust = alternatives.find((a) => ((a.properties as Node).task as { enum: string[] }).enum[0] === 'adjust')!;
    const args = ((adjust.properties as Node).args as { properties: Record<string, Node> }).properties;
    expect(Object.keys(args)).toEqual(Object.keys(factsOf('adjust').args));
    expect(args.grayscale).toEqual({ anyOf: [{ type: 'boolean', description: 'black and white' }, { type: 'null' }] });
    const speed = alternatives.find((a) => ((a.properties as Node).task as { enum: string[] }).enum[0] === 'speed')!;
    expect(((speed.properties as Node).args as { properties: Record<string, Node> }).properties.factor).toMatchObject({
      type: 'number',
      minimum: 0.1,
      maximum: 10,
    });
    const draw = alternatives.find((a) => ((a.properties as Node).task as { enum: string[] }).enum[0] === 'generate_image')!;
    expect((draw.properties as Node).targets).toMatchObject({ maxItems: 0 });
    for (const session of TASKS.filter((t) => isSessionTask(t) && t !== 'help')) {
      expect(alternatives.some((a) => ((a.properties as Node).task as { enum: string[] }).enum[0] === session)).toBe(true);
    }
  });

  it('names only the references the conversation has, this turn’s files and a live batch', () => {
    expect(availableReferences(contextFor(undefined))).toEqual([]);
    expect(availableReferences(contextFor(undefined, ['image', 'image']))).toEqual(['current', 'image:last', 'upload', 'upload:2']);
    expect(
      availableReferences({
        ...contextFor('image'),
        lastBatch: 2,
        conversation: {
          media: [
            { ref: 'image:1', kind: 'image', width: 1, height: 1, role: 'upload', current: false },
            { ref: 'image:2', kind: 'image', width: 1, height: 1, role: 'result', madeFrom: 'image:1', current: true },
          ],
          turns: [],
        },
      }),
    ).toEqual(['current', 'original', 'previous', 'image:1', 'image:2', 'image:last', 'batch:1', 'batch:2']);
  });
});

describe('reading an answer', () => {
  const limits = { tasks: new Set(['cutout', 'adjust'] as const), references: new Set(['current']) };

  it('takes JSON in a Markdown fence, drops nulls and false flags, and keeps the reply', () => {
    const answer =
      '```json\n{"reply":"Done soon.","invocations":[{"task":"adjust","targets":["current"],"args":{"grayscale":true,"sepia":false,"blur":null}}]}\n```';
    expect(answerToPlan(answer, limits)).toEqual({
      plan: { reply: 'Done soon.', invocations: [{ task: 'adjust', targets: ['current'], args: { grayscale: true } }] },
    });
  });

  it.each([
    ['{"invocations":[], "reply": null}', /a plan with no invocations must have a reply/],
    ['{"invocations":[{"task":"adjust","targets":["current"],"args":{}}]}', /adjust needs at least one adjustment/],
    ['{"invocations":[{"task":"cutout","targets":["step:0"],"args":{}}]}', /step:0 must name an earlier invocation/],
    ['[1,2]', /one JSON object/],
  ])('says what is wrong with %s', (answer, problem) => {
    const reading = answerToPlan(answer, limits);
    expect('problem' in reading && reading.problem).toMatch(problem);
  });
});
