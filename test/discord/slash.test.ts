import { afterEach, describe, expect, it } from 'vitest';
import { decodeCustomId } from '../../adapters/discord/custom-id.ts';
import { PERMISSIONS } from '../fakes/discord/fake-discord.ts';
import { solidImage } from '../helpers/media-fixtures.ts';
import { customIds, isCallback, isChannelPost, isOriginalEdit, startFakeStack } from './harness.ts';

type Stack = Awaited<ReturnType<typeof startFakeStack>>;

describe('Discord /vitron edit (fake Discord, fake bot)', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  async function startJob(s: Stack, user = s.fake.user()) {
    const png = await solidImage(32, 32);
    const attachment = s.fake.attachment(png, 'cat.png', 'image/png');
    const interaction = s.fake.interact(s.fake.slashCommand('edit', user, { prompt: 'remove the background', attachment }));
    await s.fake.waitFor(isOriginalEdit(interaction, (c) => /Queued/.test(c.body?.content ?? '')));
    const jobId = [...s.bot.jobs.keys()].at(-1)!;
    return { interaction, jobId, png, user };
  }

  it('defers, opens a thread, edits progress and finishes with the attachment and buttons', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const { interaction, jobId, png, user } = await startJob(stack);

    const deferred = await fake.waitFor(isCallback(interaction));
    expect(deferred.body.type).toBe(5);
    const thread = await fake.waitFor((c) => c.method === 'POST' && /\/threads$/.test(c.path));
    const threadId = thread.path.split('/')[4]!;
    expect(thread.body.name).toBe('remove the background');
    const turn = bot.calls.find((c) => c.method === 'handleTurn')!.args[0] as any;
    expect(turn.files[0].bytes).toEqual(new Uint8Array(png));
    expect(bot.conversations.get(turn.conversationId)!.view.externalId).toBe(`thread:${fake.originalOf(interaction.token)!.id}`);
    expect(threadId).toBe(fake.originalOf(interaction.token)!.id);

    bot.progress(jobId, 0.5, 'cutting out');
    const progress = await fake.waitFor(isOriginalEdit(interaction, (c) => /50%/.test(c.body?.content ?? '')));
    expect(progress.body.content).toContain('step 1/2');
    expect(customIds(progress.body).map((id) => decodeCustomId(id)?.action)).toEqual(['cancel']);

    const result = bot.addMedia(await solidImage(16, 16, '#ff0000'), 'image/png', 'result', { ordinal: 2 });
    bot.finish(jobId, 'Cut out the cat.', [result]);
    const final = await fake.waitFor(isOriginalEdit(interaction, (c) => c.files.length > 0));
    expect(final.body.content).toBe('Cut out the cat.');
    expect(final.files[0]!.name).toBe('vitron-result-2.png');
    const targets = customIds(final.body).map((id) => decodeCustomId(id)!);
    expect(targets.map((t) => t.action)).toEqual(['upscale', 'cutout', 'animate', 'download']);
    expect(targets.every((t) => t.mediaId === result.id && t.ownerId === user.id && t.subject === turn.conversationId)).toBe(true);
  });

  it('posts the result as a new channel message once the interaction token has expired', async () => {
    let now = 1_000_000;
    stack = await startFakeStack({}, { now: () => now });
    const { fake, bot } = stack;
    const { interaction, jobId, user } = await startJob(stack);
    const threadId = fake.originalOf(interaction.token)!.id;
    const editsBefore = fake.calls.filter(isOriginalEdit(interaction)).length;

    now += 15 * 60_000;
    bot.finish(jobId, 'Done after a long time.', [bot.addMedia(await solidImage(8, 8), 'image/png', 'result')]);
    const posted = await fake.waitFor(isChannelPost(threadId));
    expect(posted.body.content).toBe(`<@${user.id}> Done after a long time.`);
    expect(posted.files).toHaveLength(1);
    expect(posted.body.nonce).toBeTruthy();
    expect(posted.body.enforce_nonce).toBe(true);
    expect(fake.calls.filter(isOriginalEdit(interaction)).length).toBe(editsBefore);
  });

  it('waits out a 429 on the final edit and sends it once', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const { interaction, jobId } = await startJob(stack);
    fake.rateLimitOnce('PATCH', /messages\/@original$/, 0.4);
    bot.finish(jobId, 'Done.', [bot.addMedia(await solidImage(8, 8), 'image/png', 'result')]);
    const accepted = await fake.waitFor(isOriginalEdit(interaction, (c) => c.status === 200 && c.files.length > 0));
    const limited = fake.calls.find(isOriginalEdit(interaction, (c) => c.status === 429))!;
    expect(limited).toBeDefined();
    expect(fake.calls.indexOf(accepted)).toBeGreaterThan(fake.calls.indexOf(limited));
    expect(fake.calls.filter(isOriginalEdit(interaction, (c) => c.status === 200 && c.files.length > 0))).toHaveLength(1);
  });

  it('never creates a channel message twice when Discord fails after creating it', async () => {
    let now = 0;
    stack = await startFakeStack({}, { now: () => now });
    const { fake, bot } = stack;
    const { interaction, jobId } = await startJob(stack);
    const threadId = fake.originalOf(interaction.token)!.id;
    fake.failAfterCreateOnce('POST', new RegExp(`/channels/${threadId}/messages$`), 502);
    now += 20 * 60_000;
    bot.finish(jobId, 'Posted once.', []);
    await fake.waitFor(isChannelPost(threadId));
    const attempts = fake.calls.filter((c) => c.method === 'POST' && c.path === `/channels/${threadId}/messages`);
    expect(attempts.length).toBe(2);
    expect(attempts[0]!.body.nonce).toBe(attempts[1]!.body.nonce);
    expect([...fake.messages.values()].filter((m) => m.channel_id === threadId && m.content.includes('Posted once.'))).toHaveLength(1);
  });

  it('answers a user over the concurrent-job limit with how to get out of it', async () => {
    stack = await startFakeStack({ USER_MAX_QUEUED_JOBS: '1' });
    const { fake } = stack;
    const { user } = await startJob(stack);
    const second = fake.interact(
      fake.slashCommand('edit', user, { prompt: 'again', attachment: fake.attachment(await solidImage(8, 8), 'b.png', 'image/png') }),
    );
    const answer = await fake.waitFor(isCallback(second));
    expect(answer.body.type).toBe(4);
    expect(answer.body.data.flags).toBe(64);
    expect(answer.body.data.content).toBe('You have 1 job running; wait for it to finish or use `/vitron cancel`.');
  });

  it('refuses a channel that is not allowed and a member without the role, ephemerally', async () => {
    stack = await startFakeStack((fake) => ({ DISCORD_ALLOWED_CHANNELS: fake.channelId, DISCORD_ALLOWED_ROLE: fake.roleId }));
    const { fake, bot } = stack;
    const elsewhere = fake.interact(fake.slashCommand('edit', fake.user(), { prompt: 'hi' }, { channelId: fake.otherChannelId, roles: [fake.roleId] }));
    const refused = await fake.waitFor(isCallback(elsewhere));
    expect(refused.body).toMatchObject({ type: 4, data: { flags: 64, content: `This bot is not enabled in this channel; try <#${fake.channelId}>.` } });
    const noRole = fake.interact(fake.slashCommand('edit', fake.user(), { prompt: 'hi' }));
    expect((await fake.waitFor(isCallback(noRole))).body.data.content).toBe(`Only members with the <@&${fake.roleId}> role may use this bot.`);
    const allowed = fake.interact(fake.slashCommand('edit', fake.user(), { prompt: 'hi' }, { roles: [fake.roleId] }));
    expect((await fake.waitFor(isCallback(allowed))).body.type).toBe(5);
    await fake.waitFor(isOriginalEdit(allowed));
    expect(bot.calls.filter((c) => c.method === 'handleTurn')).toHaveLength(1);
  });

  it('lets only the author or a member with Manage Messages press a result button', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const { interaction, jobId, user } = await startJob(stack);
    const result = bot.addMedia(await solidImage(8, 8), 'image/png', 'result');
    bot.finish(jobId, 'Done.', [result]);
    await fake.waitFor(isOriginalEdit(interaction, (c) => c.files.length > 0));
    const message = fake.originalOf(interaction.token)!;
    const download = customIds(message).find((id) => decodeCustomId(id)?.action === 'download')!;

    const stranger = fake.interact(fake.buttonPress(download, message.id, fake.user(undefined, 'mallory')));
    expect((await fake.waitFor(isCallback(stranger))).body.data).toMatchObject({
      flags: 64,
      content: `Only <@${user.id}> (or a member with Manage Messages) can use these buttons.`,
    });

    const moderator = fake.interact(
      fake.buttonPress(download, message.id, fake.user(undefined, 'mod'), { permissions: PERMISSIONS.DEFAULT | PERMISSIONS.MANAGE_MESSAGES }),
    );
    expect((await fake.waitFor(isCallback(moderator))).body.data.flags).toBe(64);
    const file = await fake.waitFor(isOriginalEdit(moderator, (c) => c.files.length > 0));
    expect(file.files[0]!.bytes.length).toBe(result.bytes);
  });
});
