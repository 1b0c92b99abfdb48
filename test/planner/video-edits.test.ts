import { describe, expect, it } from 'vitest';
import { acceptedKinds } from '../../src/core/tasks.ts';
import { BaselinePlanner } from '../../src/planner/baseline-planner.ts';
import { contextFor } from '../../src/planner/context.ts';
import { editedObject } from '../../src/vision/tasks/video/edit-video.ts';

/**
 * Edits of a video by words: the planner routes them as it routes them on a picture (edit, style), and
 * the task table lets those tasks take a video, so the same words work on both.
 */
const planner = new BaselinePlanner();

describe('video edits by words', () => {
  it.each([
    ["make it look like it's snowing", 'edit', { prompt: "make it look like it's snowing" }],
    ['make it look like a cartoon', 'style', { prompt: 'cartoon' }],
    ['turn the car red', 'edit', { prompt: 'turn the car red' }],
    ['in the style of van gogh', 'style', { prompt: 'van gogh' }],
  ] as const)('"%s" on a video plans %s on the current video', async (text, task, args) => {
    const plan = await planner.plan(text, contextFor('video', []));
    expect(plan.invocations).toEqual([{ task, targets: ['current'], args }]);
    expect(acceptedKinds(task)).toContain('video');
  });

  it('"make a 5 second video of fireworks" with no media plans generate_video with the seconds', async () => {
    const plan = await planner.plan('make a 5 second video of fireworks', contextFor(undefined, []));
    expect(plan.invocations).toEqual([{ task: 'generate_video', targets: [], args: { prompt: 'fireworks', seconds: 5 } }]);
  });

  it.each([
    ['turn the car red', 'the car'],
    ['paint the front door blue', 'the front door'],
    ['make the sky stormy', undefined],
    ['make the video red', undefined],
    ["make it look like it's snowing", undefined],
  ])('the object a video edit paints: "%s" → %s', async (prompt, object) => {
    expect(await editedObject({ task: 'edit', media: [], args: { prompt } })).toBe(object);
  });

  it("the planner's phrase wins over the words", async () => {
    expect(await editedObject({ task: 'edit', media: [], args: { prompt: 'make it shiny', phrase: 'the bike' } })).toBe('the bike');
  });
});
