import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { solidImage } from '../helpers/media-fixtures.ts';
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

  it('edits with the message the context menu carried, in a busy channel where the bot may not read history', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const user = fake.user();
    // View Channel but no Read Message History: the bot sees new messages, and may not fetch old ones.
    const channelId = fake.otherChannelId;
    fake.unreadable.add(channelId);
    const png = await solidImage(8, 8);
    const target = fake.userMessage(fake.user(undefined, 'bob'), 'look', { channelId, attachments: [fake.attachment(png, 'bob.png', 'image/png')] });
    const menu = fake.interact({
      ...fake.slashCommand('edit', user, {}, { channelId }),
      data: { id: '1', name: 'Edit with vitron', type: 3, target_id: target.id, resolved: { messages: { [target.id]: target } } },
    });
    const modal = await fake.waitFor(isCallback(menu));
    expect(modal.body.type).toBe(9);
    // While the user types the prompt the channel moves on; discord.js keeps the newest 200 messages of it.
    const chatter = fake.user(undefined, 'carol');
    let last = '';
    for (let i = 0; i < 201; i++) last = fake.send(fake.userMessage(chatter, `chatter ${i}`, { channelId })).id;
    const cached = () => (stack!.adapter.client.channels.cache.get(channelId) as any)?.messages.cache;
    await vi.waitFor(() => expect(cached()?.has(last)).toBe(true), { timeout: 10_000 });
    expect(cached()?.has(target.id)).toBe(false);

    const submit = fake.interact({
      ...fake.slashCommand('edit', user, {}, { channelId }),
      type: 5,
      data: { custom_id: modal.body.data.custom_id, components: [{ type: 1, components: [{ type: 4, custom_id: 'prompt', value: 'cut it out' }] }] },
    });
    const answered = await fake.waitFor(isOriginalEdit(submit));
    expect(answered.body.content).toMatch(/Queued/);
    const turn = bot.calls.find((c) => c.method === 'handleTurn')!.args[0] as any;
    expect(turn.text).toBe('cut it out');
    expect(turn.files[0].bytes).toEqual(new Uint8Array(png));
  });
});
