import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/app/bot.ts';
import { EventRecorder, startTestBot, testUser } from '../helpers/bot-harness.ts';

/** BotApi.invoke: one invocation named by the caller (an agent's tool call), with everything but the planner. */

type Harness = Awaited<ReturnType<typeof startTestBot>>;
let harness: Harness;
let bot: Bot;

beforeAll(async () => {
  harness = await startTestBot({ SAFETY: 'off', GENERATION_DAILY_QUOTA: '1' });
  bot = harness.running.bot;
});
afterAll(async () => {
  await harness?.cleanup();
});

async function conversation() {
  const user = testUser();
  const view = await bot.startConversation({ user, title: 'invoke' });
  const events = new EventRecorder();
  bot.subscribe(view.id, events.listener);
  return { id: view.id, user, events };
}

const png = (width: number, height: number, colour: string) =>
  sharp({ create: { width, height, channels: 3, background: colour } })
    .png()
    .toBuffer();

describe('Bot.invoke', () => {
  it('runs the named task on the N-th file of the request (upload:2), recording the words it was given', async () => {
    const c = await conversation();
    const files = [{ bytes: await png(10, 20, '#ff0000') }, { bytes: await png(30, 40, '#00ff00') }];
    const result = await bot.invoke({
      conversationId: c.id,
      user: c.user,
      text: 'transform rotate=90',
      files,
      invocation: { task: 'transform', targets: ['upload:2'], args: { rotate: 90 } },
    });
    expect(result.userTurn.text).toBe('transform rotate=90');
    expect(result.userTurn.media).toHaveLength(2);
    const done = await c.events.finished(result);
    expect(done.job.state).toBe('succeeded');
    expect(done.turn.media[0]).toMatchObject({ width: 40, height: 30, parentId: result.userTurn.media[1]!.id });
  });

  it('refuses an invocation that breaks the plan contract with a reply that names the problem, and queues nothing', async () => {
    const c = await conversation();
    for (const invocation of [
      { task: 'speed' as const, targets: ['current'], args: { factor: 50 } },
      { task: 'cutout' as const, targets: ['my-photo.png'], args: {} },
      { task: 'transform' as const, targets: ['current'], args: {} },
    ]) {
      const result = await bot.invoke({ conversationId: c.id, user: c.user, text: invocation.task, files: [], invocation });
      expect(result.job).toBeUndefined();
      expect(result.botTurn).toMatchObject({ tone: 'error', text: expect.stringMatching(/^That request is not valid: /) });
    }
    expect(c.events.events.some((e) => e.type === 'job.queued')).toBe(false);
  });

  it('answers session tasks at once and applies the limits every turn has (the daily generation quota)', async () => {
    const c = await conversation();
    const undo = await bot.invoke({ conversationId: c.id, user: c.user, text: 'undo', files: [], invocation: { task: 'undo', targets: [], args: {} } });
    expect(undo.job).toBeUndefined();
    expect(undo.botTurn?.text).toMatch(/nothing to undo/i);

    const draw = { task: 'generate_image' as const, targets: [], args: { prompt: 'a fox', count: 2 } };
    const overQuota = await bot.invoke({ conversationId: c.id, user: c.user, text: 'draw', files: [], invocation: draw });
    expect(overQuota.job).toBeUndefined();
    expect(overQuota.botTurn?.text).toMatch(/That would make 2 pictures, and only 1 of today's 1 are left/);
  });
});
