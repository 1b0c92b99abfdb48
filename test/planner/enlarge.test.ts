import { describe, expect, it } from 'vitest';
import { planTurn } from '../../src/planner/baseline-planner.ts';
import { contextFor } from '../../src/planner/context.ts';
import { parsePlan } from '../../src/planner/plan-schema.ts';

/**
 * "Make it 2x bigger" wants the picture bigger *and* sharp: 2–4x goes to ESRGAN (`upscale`). Saying
 * "resize" or "stretch", giving pixel sizes or percentages, or a factor ESRGAN has no model for keeps a
 * plain resize (`transform`).
 */
function invocationOf(text: string) {
  const p = parsePlan(planTurn(text, contextFor('image')));
  expect(p.reply, text).toBeUndefined();
  expect(p.invocations, text).toHaveLength(1);
  return { task: p.invocations[0]!.task, args: p.invocations[0]!.args };
}

describe('enlarging a picture by a factor', () => {
  it.each([
    ['make it 2x bigger', 2],
    ['enlarge it 4x', 4],
    ['make it twice as big', 2],
    ['make it 3 times larger', 3],
    ['enlarge it by 3', 3],
    ['blow it up three times', 3],
    ['make the image 4x bigger', 4],
    ['scale it up 2x', 2],
  ])('%s → upscale ×%d', (text, factor) => {
    expect(invocationOf(text)).toEqual({ task: 'upscale', args: { factor } });
  });

  it.each([
    ['resize it 2x', { scale: 2 }],
    ['double the size', { scale: 2 }],
    ['make it 8x bigger', { scale: 8 }],
    ['make it 1.5x bigger', { scale: 1.5 }],
    ['make it bigger', { scale: 2 }],
    ['scale it up by 50%', { scale: 1.5 }],
    ['resize to 1024x768', { width: 1024, height: 768 }],
  ])('%s → transform resize', (text, resize) => {
    expect(invocationOf(text)).toEqual({ task: 'transform', args: { resize } });
  });
});
