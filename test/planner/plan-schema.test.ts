import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import { PlanSchema, parsePlan, planJsonSchema } from '../../src/planner/plan-schema.ts';
import { helpSections, helpText } from '../../src/planner/help-text.ts';
import { TASKS } from '../../src/core/tasks.ts';

describe('PlanSchema', () => {
  it('accepts a valid chain', () => {
    const plan = {
      invocations: [
        { task: 'transform', targets: ['current'], args: { crop: { aspect: '1:1' } } },
        { task: 'adjust', targets: ['step:0'], args: { grayscale: true } },
      ],
    };
    expect(parsePlan(plan)).toEqual(plan);
  });

  it.each([
    ['an unknown task', { invocations: [{ task: 'explode', targets: [], args: {} }] }],
    ['an invented argument', { invocations: [{ task: 'adjust', targets: ['current'], args: { bright: 1.3 } }] }],
    ['an empty adjust', { invocations: [{ task: 'adjust', targets: ['current'], args: {} }] }],
    ['an upscale factor of 8', { invocations: [{ task: 'upscale', targets: ['current'], args: { factor: 8 } }] }],
    ['a trim that ends before it starts', { invocations: [{ task: 'trim', targets: ['current'], args: { start: 5, end: 2 } }] }],
    ['a step that is not earlier', { invocations: [{ task: 'reverse', targets: ['step:0'], args: {} }] }],
    ['a malformed target', { invocations: [{ task: 'reverse', targets: ['the video'], args: {} }] }],
    ['two background kinds', { invocations: [{ task: 'background', targets: ['current'], args: { color: 'red', blur: 3 } }] }],
    ['no invocations and no reply', { invocations: [] }],
    ['an extra top-level field', { invocations: [], reply: 'hi', debug: true }],
  ])('rejects %s', (_name, value) => {
    expect(() => parsePlan(value)).toThrow(InvalidArgumentError);
  });

  it('allows trims counted from the end', () => {
    expect(PlanSchema.safeParse({ invocations: [{ task: 'trim', targets: ['current'], args: { start: 0, end: -3 } }] }).success).toBe(true);
    expect(PlanSchema.safeParse({ invocations: [{ task: 'trim', targets: ['current'], args: { start: -10 } }] }).success).toBe(true);
  });

  it('names the path of every problem in the error', () => {
    expect(() => parsePlan({ invocations: [{ task: 'speed', targets: ['current'], args: { factor: -1 } }] })).toThrow(/invocations\.0\.args/);
  });

  it('exports a JSON Schema for constrained decoding', () => {
    const schema = JSON.stringify(planJsonSchema());
    expect(schema).toContain('"invocations"');
    expect(schema).toContain('"generate_image"');
  });
});

describe('help text', () => {
  it('lists every task of the vocabulary with its example', () => {
    const listed = helpSections().flatMap((s) => s.entries.map((e) => e.task));
    expect([...listed].sort()).toEqual([...TASKS].sort());
    expect(helpText()).toContain('draw a red fox in the snow');
  });
});
