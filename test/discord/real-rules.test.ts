import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { isCallback, isOriginalEdit, startFakeStack } from './harness.ts';

type Stack = Awaited<ReturnType<typeof startFakeStack>>;

/** Rules of the real Discord that the fake now enforces (issue 19). */
describe('Discord adapter under the real service rules (fake Discord, fake bot)', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('acknowledges /vitron history and /vitron undo before the slow search for the conversation', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const user = fake.user();
    const first = fake.interact(fake.slashCommand('edit', user, { prompt: 'hello there' }));
    await fake.waitFor(isOriginalEdit(first));
    const threadId = fake.originalOf(first.token)!.id;
    // Listing conversations (and fetching uncached threads) outlasts the deadline, scaled down here.
    fake.ackDeadlineMs = 1500;
    const list = bot.listConversations.bind(bot);
    bot.listConversations = async (...args) => {
      await sleep(2500);
      return list(...args);
    };
    const history = fake.interact(fake.slashCommand('history', user, {}, { channelId: threadId }));
    const acked = await fake.waitFor(isCallback(history));
    expect(acked.status).toBe(204);
    expect(acked.body).toMatchObject({ type: 5, data: { flags: 64 } });
    expect((await fake.waitFor(isOriginalEdit(history))).body.content).toContain('🧑 hello there');

    const undo = fake.interact(fake.slashCommand('undo', user, {}, { channelId: threadId }));
    expect((await fake.waitFor(isCallback(undo))).status).toBe(204);
    await fake.waitFor(isOriginalEdit(undo, (c) => c.status === 200));
    expect(bot.calls.find((c) => c.method === 'act')!.args[0]).toMatchObject({ action: 'undo' });
  });
});
