import { afterEach, describe, expect, it } from 'vitest';
import { decodeCustomId } from '../../adapters/discord/custom-id.ts';
import { solidImage } from '../helpers/media-fixtures.ts';
import { customIds, isCallback, isChannelPost, isOriginalEdit, startAdapter, startFakeStack } from './harness.ts';

type Stack = Awaited<ReturnType<typeof startFakeStack>>;

const DM_CHANNEL = '223456789012345678';

describe('Discord redeliveries and rate limits (fake Discord, fake bot)', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  /**
   * Replayed events are dropped as they arrive, in gateway order: once a DM sent after them is answered,
   * they have been dropped or are being handled. A "nothing more happened" check without a timer.
   */
  async function settle(s: Stack): Promise<void> {
    const from = s.fake.calls.length;
    s.fake.send(s.fake.userMessage(s.fake.user(), 'are you there?', { dm: true, channelId: DM_CHANNEL }));
    await s.fake.waitFor(isChannelPost(DM_CHANNEL), from);
  }

  const turnsWith = (s: Stack, text: string) => s.bot.calls.filter((c) => c.method === 'handleTurn' && (c.args[0] as any).text === text);

  it('handles an interaction and a message replayed after a gateway resume once: one ack, one turn, the reply left alone', async () => {
    stack = await startFakeStack();
    const { fake, bot, adapter } = stack;
    const user = fake.user();
    const interaction = fake.interact(
      fake.slashCommand('edit', user, { prompt: 'sepia', attachment: fake.attachment(await solidImage(8, 8), 'a.png', 'image/png') }),
    );
    await fake.waitFor(isOriginalEdit(interaction, (c) => /Queued/.test(c.body?.content ?? '')));
    const message = fake.send(
      fake.userMessage(user, 'cut it out', { mention: true, attachments: [fake.attachment(await solidImage(8, 8), 'b.png', 'image/png')] }),
    );
    await fake.waitFor(isChannelPost(fake.channelId, (c) => c.body?.message_reference?.message_id === message.id));

    // discord.js itself drops a replayed message still in its cache; a busy channel evicts it.
    const channel = adapter.client.channels.cache.get(fake.channelId);
    if (channel && 'messages' in channel) channel.messages.cache.clear();
    fake.replayOnResume(2);
    const resumed = new Promise<void>((resolve) => adapter.client.once('shardResume', () => resolve()));
    fake.dropConnections();
    await resumed;
    await settle(stack);

    expect(fake.resumes).toBe(1);
    expect(fake.calls.filter(isCallback(interaction))).toHaveLength(1);
    expect(fake.calls.filter(isOriginalEdit(interaction)).map((c) => c.body.content)).toEqual(['⏳ Queued…']);
    expect(fake.calls.filter(isChannelPost(fake.channelId, (c) => c.body?.message_reference?.message_id === message.id))).toHaveLength(1);
    expect(turnsWith(stack, 'sepia')).toHaveLength(1);
    expect(turnsWith(stack, 'cut it out')).toHaveLength(1);
    expect(bot.jobs.size).toBe(2);
  });

  it('says nothing when a message it handled is delivered again to a new process (the core answers duplicate)', async () => {
    stack = await startFakeStack();
    const { fake, bot, settings } = stack;
    const message = fake.send(
      fake.userMessage(fake.user(), 'cut it out', { mention: true, attachments: [fake.attachment(await solidImage(8, 8), 'a.png', 'image/png')] }),
    );
    await fake.waitFor(isChannelPost(fake.channelId, (c) => c.body?.message_reference?.message_id === message.id));
    await stack.adapter.close();
    stack.adapter = await startAdapter(bot, settings);

    const redelivered = new Promise<void>((resolve) => {
      const handleTurn = bot.handleTurn.bind(bot);
      bot.handleTurn = async (request) => {
        const result = await handleTurn(request);
        if (result.duplicate) resolve();
        return result;
      };
    });
    fake.send(message);
    await redelivered;
    // close() waits for the handlers still running: whatever the adapter would say about it, it has said.
    await stack.adapter.close();
    const second = turnsWith(stack, 'cut it out');
    expect(second).toHaveLength(2);
    expect((second[1]!.args[0] as any).eventKey).toBe(`discord:message:${message.id}`);
    expect(fake.calls.filter(isChannelPost(fake.channelId, (c) => c.body?.message_reference?.message_id === message.id))).toHaveLength(1);
    expect(bot.jobs.size).toBe(1);
  });

  it('limits requests per user and, five users wide, per server, saying when to try again', async () => {
    stack = await startFakeStack({ USER_RATE_LIMIT_PER_MINUTE: '1' });
    const { fake } = stack;
    const ask = async (user: any) => (await fake.waitFor(isCallback(fake.interact(fake.slashCommand('edit', user, { prompt: 'hello' }))))).body;
    const alice = fake.user(undefined, 'alice');
    expect((await ask(alice)).type).toBe(5);
    const again = await ask(alice);
    expect(again).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(again.data.content).toMatch(/^You are sending requests faster than this bot allows; try again in \d+ s\.$/);

    // Alice's refused request did not count for the server: four more users fill its allowance of five.
    for (const name of ['bob', 'carol', 'dave', 'erin']) expect((await ask(fake.user(undefined, name))).type).toBe(5);
    const frank = await ask(fake.user(undefined, 'frank'));
    expect(frank).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(frank.data.content).toMatch(/try again in \d+ s/);
    // A DM is not a server's request: the server being full does not stop it.
    const dm = fake.interact(fake.slashCommand('edit', fake.user(undefined, 'gina'), { prompt: 'hello' }, { dm: true, channelId: DM_CHANNEL }));
    expect((await fake.waitFor(isCallback(dm))).body.type).toBe(5);
  });

  it('refuses servers outside DISCORD_ALLOWED_GUILDS, and then DMs, before the core sees anything', async () => {
    stack = await startFakeStack({ DISCORD_ALLOWED_GUILDS: '999999999999999999' });
    const { fake, bot } = stack;
    const here = fake.interact(fake.slashCommand('edit', fake.user(), { prompt: 'hi' }));
    expect((await fake.waitFor(isCallback(here))).body).toMatchObject({ type: 4, data: { flags: 64, content: 'This bot is not enabled on this server.' } });
    const dm = fake.interact(fake.slashCommand('edit', fake.user(), { prompt: 'hi' }, { dm: true, channelId: DM_CHANNEL }));
    expect((await fake.waitFor(isCallback(dm))).body.data.content).toBe(
      'This bot only works in the servers and channels it was set up for, not in direct messages.',
    );
    const message = fake.send(fake.userMessage(fake.user(), 'hi', { dm: true, channelId: DM_CHANNEL }));
    expect((await fake.waitFor(isChannelPost(DM_CHANNEL))).body).toMatchObject({
      content: 'This bot only works in the servers and channels it was set up for, not in direct messages.',
      message_reference: { message_id: message.id },
    });
    expect(bot.calls.filter((c) => c.method === 'handleTurn' || c.method === 'startConversation')).toHaveLength(0);
  });

  it('lets only the author of a job press its Cancel button', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const user = fake.user();
    const interaction = fake.interact(
      fake.slashCommand('edit', user, { prompt: 'x', attachment: fake.attachment(await solidImage(8, 8), 'a.png', 'image/png') }),
    );
    await fake.waitFor(isOriginalEdit(interaction, (c) => /Queued/.test(c.body?.content ?? '')));
    const status = fake.originalOf(interaction.token)!;
    const cancel = customIds(status).find((id) => decodeCustomId(id)?.action === 'cancel')!;

    const stranger = fake.interact(fake.buttonPress(cancel, status.id, fake.user(undefined, 'mallory')));
    expect((await fake.waitFor(isCallback(stranger))).body.data).toMatchObject({
      flags: 64,
      content: `Only <@${user.id}> (or a member with Manage Messages) can use these buttons.`,
    });
    expect(bot.calls.filter((c) => c.method === 'cancelJob')).toHaveLength(0);

    const author = fake.interact(fake.buttonPress(cancel, status.id, user));
    expect((await fake.waitFor(isCallback(author))).body.data).toMatchObject({ flags: 64, content: 'Cancelled.' });
    expect(bot.calls.filter((c) => c.method === 'cancelJob').map((c) => c.args[0])).toEqual([[...bot.jobs.keys()][0]]);
  });
});
