import { setTimeout as sleep } from 'node:timers/promises';
import { fileCaps, REQUEST_FILE_BUDGET } from '../../adapters/discord/render.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { noiseImage, solidImage } from '../helpers/media-fixtures.ts';
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
    const client = stack!.adapter.client;
    let last = '';
    // discord.js caches a message before it emits messageCreate for it: the last one's event means all are in.
    const lastArrived = new Promise<void>((resolve) => {
      const arrived = (message: { id: string }) => {
        if (message.id !== last) return;
        client.off('messageCreate', arrived);
        resolve();
      };
      client.on('messageCreate', arrived);
    });
    for (let i = 0; i < 201; i++) last = fake.send(fake.userMessage(chatter, `chatter ${i}`, { channelId })).id;
    await lastArrived;
    const cached = () => (client.channels.cache.get(channelId) as any)?.messages.cache;
    expect(cached()?.has(last)).toBe(true);
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

  it('keeps the files of one result inside the 25 MiB request, shrinking the large ones, each already under the upload limit', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const interaction = fake.interact(
      fake.slashCommand('edit', fake.user(), { prompt: 'x', attachment: fake.attachment(await solidImage(8, 8), 'a.png', 'image/png') }),
    );
    await fake.waitFor(isOriginalEdit(interaction, (c) => /Queued/.test(c.body?.content ?? '')));
    // Three pictures of about 9.7 MiB: each fits the 10 MiB upload limit, together they do not fit the request.
    const big = await noiseImage(1900, 1900);
    expect(big.length).toBeLessThan(10 * 1024 * 1024);
    expect(3 * big.length).toBeGreaterThan(fake.requestLimit);
    const results = [1, 2, 3].map((ordinal) => bot.addMedia(big, 'image/png', 'result', { ordinal }));
    bot.finish([...bot.jobs.keys()][0]!, 'Three.', results);
    const final = await fake.waitFor(isOriginalEdit(interaction, (c) => c.files.length > 0 || /could not be uploaded/.test(c.body?.content ?? '')));
    expect(final.body.content).not.toMatch(/could not be uploaded/);
    expect(final.files).toHaveLength(3);
    expect(final.files.reduce((sum, f) => sum + f.bytes.length, 0)).toBeLessThanOrEqual(REQUEST_FILE_BUDGET);
    expect(fake.calls.filter((c) => c.status === 413)).toEqual([]);
  });

  it('shares the request among files: small ones keep their size, large ones split what is left', () => {
    const MiB = 1024 * 1024;
    // The 1 MiB file's share (a third) is more than it needs; the two large ones split the 19 MiB left.
    expect(fileCaps([MiB, 12 * MiB, 12 * MiB], 10 * MiB, 20 * MiB)).toEqual([Math.floor((20 * MiB) / 3), 9.5 * MiB, 9.5 * MiB]);
    // Under the budget together, every file keeps the upload limit as its only bound.
    expect(fileCaps([9 * MiB, MiB], 10 * MiB, 20 * MiB)).toEqual([10 * MiB, 10 * MiB]);
    // A boosted server's larger upload limit is never cut below itself for a single file.
    expect(fileCaps([90 * MiB], 100 * MiB)).toEqual([100 * MiB]);
  });
});
