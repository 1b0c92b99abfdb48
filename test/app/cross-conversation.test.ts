import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/app/bot.ts';
import { EventRecorder, startTestBot, testUser } from '../helpers/bot-harness.ts';

/**
 * Buttons name a conversation and a media item (Discord custom ids, Slack action values). A press that names one
 * conversation and another conversation's media — a button of one thread used on another — changes neither.
 */

let harness: Awaited<ReturnType<typeof startTestBot>>;
let bot: Bot;

beforeAll(async () => {
  harness = await startTestBot({ SAFETY: 'off' });
  bot = harness.running.bot;
});
afterAll(async () => {
  await harness?.cleanup();
});

async function conversationWithResult(colour: string) {
  const user = testUser();
  const { id } = await bot.startConversation({ user, title: colour });
  const events = new EventRecorder();
  bot.subscribe(id, events.listener);
  const picture = await sharp({ create: { width: 16, height: 8, channels: 3, background: colour } })
    .png()
    .toBuffer();
  const done = await events.finished(await bot.handleTurn({ conversationId: id, user, text: 'rotate it 90 degrees', files: [{ bytes: picture }] }));
  return { id, user, result: done.turn.media[0]! };
}

describe('a button of one conversation pressed on another', () => {
  it('"use this one" and Retry with another conversation’s media change nothing in either conversation', async () => {
    const a = await conversationWithResult('#ff0000');
    const b = await conversationWithResult('#00ff00');
    const before = { a: (await bot.history(a.id)).currentMediaId, b: (await bot.history(b.id)).currentMediaId };

    const used = await bot.act({ conversationId: a.id, user: a.user, action: 'use', mediaId: b.result.id });
    expect(used.botTurn).toMatchObject({ tone: 'error' });
    const retried = await bot.repeat({ conversationId: a.id, user: a.user, mediaId: b.result.id });
    expect(retried.job).toBeUndefined();
    expect(retried.botTurn?.text).toBe('I cannot find that picture any more.');

    expect((await bot.history(a.id)).currentMediaId).toBe(before.a);
    expect((await bot.history(b.id)).currentMediaId).toBe(before.b);
    // And the owner check a playground route makes: a's user does not own b's media.
    await expect(bot.authorize(a.user, { mediaId: b.result.id })).rejects.toThrow(`Media ${b.result.id} was not found.`);
    await expect(bot.authorize(b.user, { mediaId: b.result.id })).resolves.toBeUndefined();
  });
});
