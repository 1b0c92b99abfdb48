import { afterEach, describe, expect, it } from 'vitest';
import { decodeCustomId } from '../../adapters/discord/custom-id.ts';
import { PDF_BYTES, solidImage } from '../helpers/media-fixtures.ts';
import { customIds, isCallback, isChannelPost, isOriginalEdit, startAdapter, startFakeStack } from './harness.ts';

type Stack = Awaited<ReturnType<typeof startFakeStack>>;

describe('Discord messages and attachments (fake Discord, fake bot)', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('refuses bad attachments with a clear message before the core sees them', async () => {
    stack = await startFakeStack({ MAX_UPLOAD_BYTES: '2000' });
    const { fake, bot } = stack;
    const user = fake.user();
    const cases: [any, string][] = [
      [fake.attachment(Buffer.alloc(100), 'huge.png', 'image/png', 50_000), '⚠️ "huge.png" is too large: 48.8 KiB, the limit is 2.0 KiB.'],
      [fake.attachment(Buffer.alloc(5000, 1), 'liar.png', 'image/png', 100), '⚠️ The file is too large: 4.9 KiB, the limit is 2.0 KiB.'],
      [
        fake.attachment(Buffer.alloc(50_000, 1), 'stream.png', 'image/png', 100, { chunked: true }),
        '⚠️ The file is too large: more than 2.0 KiB, the limit is 2.0 KiB.',
      ],
      [fake.attachment(PDF_BYTES, 'doc.pdf', 'application/pdf'), '⚠️ "doc.pdf" is of type application/pdf; send an image or a video.'],
      [
        { ...fake.attachment(Buffer.alloc(10), 'x.png', 'image/png'), url: 'https://evil.example.com/x.png' },
        "⚠️ Files are fetched only from the platform's own file hosts, not evil.example.com.",
      ],
    ];
    for (const [attachment, expected] of cases) {
      const interaction = fake.interact(fake.slashCommand('edit', user, { prompt: 'brighter', attachment }));
      const answer = await fake.waitFor(isOriginalEdit(interaction));
      expect(answer.body.content).toBe(expected);
    }
    expect(bot.calls.filter((c) => c.method === 'handleTurn')).toHaveLength(0);

    const message = fake.send(fake.userMessage(user, 'brighter', { mention: true, attachments: [fake.attachment(PDF_BYTES, 'doc.pdf', 'application/pdf')] }));
    const reply = await fake.waitFor(isChannelPost(fake.channelId, (c) => c.body?.message_reference?.message_id === message.id));
    expect(reply.body.content).toBe('⚠️ "doc.pdf" is of type application/pdf; send an image or a video.');
  });

  it('answers a mention with a status reply, edits it into the result, and ignores unaddressed chatter', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const user = fake.user();
    fake.send(fake.userMessage(user, 'just chatting'));
    const message = fake.send(
      fake.userMessage(user, 'cut it out', { mention: true, attachments: [fake.attachment(await solidImage(8, 8), 'a.png', 'image/png')] }),
    );
    const status = await fake.waitFor(isChannelPost(fake.channelId, (c) => c.body?.message_reference?.message_id === message.id));
    expect(status.body.content).toMatch(/Queued/);
    const turn = bot.calls.find((c) => c.method === 'handleTurn')!.args[0] as any;
    expect(turn.text).toBe('cut it out');
    expect(bot.calls.filter((c) => c.method === 'handleTurn')).toHaveLength(1);
    expect(bot.conversations.get(turn.conversationId)!.view.externalId).toBe(`chain:${fake.channelId}:${message.id}`);

    const statusId = [...fake.messages.values()].find((m) => m.message_reference?.message_id === message.id)!.id;
    const jobId = [...bot.jobs.keys()][0]!;
    bot.finish(jobId, 'Here it is.', [bot.addMedia(await solidImage(8, 8, '#00ff00'), 'image/png', 'result')]);
    const edit = await fake.waitFor((c) => c.method === 'PATCH' && c.path === `/channels/${fake.channelId}/messages/${statusId}` && c.files.length > 0);
    expect(edit.body.content).toBe('Here it is.');
  });

  it('answers DMs without a mention, in a conversation per DM channel', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const dmChannel = '123456789012345678';
    fake.send(fake.userMessage(fake.user(), 'help', { dm: true, channelId: dmChannel }));
    const reply = await fake.waitFor(isChannelPost(dmChannel));
    expect(reply.body.content).toBe('You said: help');
    const conversation = [...bot.conversations.values()][0]!;
    expect(conversation.view.externalId).toBe(`dm:${dmChannel}`);
  });

  it('delivers the result of a job started before a restart, mentioning its author under the status message', async () => {
    stack = await startFakeStack();
    const { fake, bot, settings } = stack;
    const user = fake.user();
    const message = fake.send(
      fake.userMessage(user, 'cut it out', { mention: true, attachments: [fake.attachment(await solidImage(8, 8), 'a.png', 'image/png')] }),
    );
    await fake.waitFor(isChannelPost(fake.channelId, (c) => c.body?.message_reference?.message_id === message.id));
    const statusId = [...fake.messages.values()].find((m) => m.message_reference?.message_id === message.id)!.id;
    await stack.adapter.close();

    const restarted = await startAdapter(bot, settings);
    stack.adapter = restarted;
    const jobId = [...bot.jobs.keys()][0]!;
    const result = bot.addMedia(await solidImage(8, 8, '#00ff00'), 'image/png', 'result');
    bot.finish(jobId, 'Finished while you were away.', [result]);
    const posted = await fake.waitFor(isChannelPost(fake.channelId, (c) => c.files.length > 0));
    expect(posted.body.content).toBe(`<@${user.id}> Finished while you were away.`);
    expect(posted.body.message_reference.message_id).toBe(statusId);
    const owners = customIds(posted.body).map((id) => decodeCustomId(id)!.ownerId);
    expect(new Set(owners)).toEqual(new Set([user.id]));
  });

  it('answers /vitron help, settings and cancel ephemerally', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const user = fake.user();
    const help = fake.interact(fake.slashCommand('help', user));
    expect((await fake.waitFor(isCallback(help))).body.data).toMatchObject({ flags: 64, content: bot.helpText() });
    const settings = fake.interact(fake.slashCommand('settings', user));
    expect((await fake.waitFor(isCallback(settings))).body.data.content).toContain('Jobs at once per user: 2');
    const none = fake.interact(fake.slashCommand('cancel', user));
    expect((await fake.waitFor(isCallback(none))).body.data.content).toBe('You have no running jobs.');

    const started = fake.interact(
      fake.slashCommand('edit', user, { prompt: 'cut it out', attachment: fake.attachment(await solidImage(8, 8), 'a.png', 'image/png') }),
    );
    await fake.waitFor(isOriginalEdit(started));
    const cancel = fake.interact(fake.slashCommand('cancel', user));
    expect((await fake.waitFor(isCallback(cancel))).body.data.content).toBe('Cancelled 1 of 1 job.');
    expect(bot.calls.filter((c) => c.method === 'cancelJob')).toHaveLength(1);
  });
});
