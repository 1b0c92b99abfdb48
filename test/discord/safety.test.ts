import { afterEach, describe, expect, it } from 'vitest';
import type { MediaView } from '../../src/app/bot-api.ts';
import { solidImage } from '../helpers/media-fixtures.ts';
import { isChannelPost, startFakeStack } from './harness.ts';

type Stack = Awaited<ReturnType<typeof startFakeStack>>;

const FLAGGED = { safety: { nsfw: 0.93, flagged: true } } satisfies Partial<MediaView>;
const WITHHELD = 'This picture was flagged as NSFW by the safety filter, so I only post it in channels marked NSFW.';

/** Until the adapter's discord.js cache has seen the channel (THREAD_CREATE) or its NSFW flag (CHANNEL_UPDATE). */
async function untilCached(stack: Stack, channelId: string, nsfw?: boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const channel = stack.adapter.client.channels.cache.get(channelId);
    if (channel && (nsfw === undefined || ('nsfw' in channel && channel.nsfw === nsfw))) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`channel ${channelId} never reached the adapter's cache${nsfw === undefined ? '' : ` with nsfw=${nsfw}`}`);
}

/** Mentions the bot with a picture in `channelId`, finishes its job with `result`, and returns the edit of the status reply. */
async function resultEdit(stack: Stack, channelId: string, result: MediaView) {
  const { fake, bot } = stack;
  const message = fake.send(
    fake.userMessage(fake.user(), 'make it winter', { mention: true, channelId, attachments: [fake.attachment(await solidImage(8, 8), 'a.png', 'image/png')] }),
  );
  await fake.waitFor(isChannelPost(channelId, (c) => c.body?.message_reference?.message_id === message.id));
  const statusId = [...fake.messages.values()].find((m) => m.message_reference?.message_id === message.id)!.id;
  const jobId = [...bot.jobs.keys()].at(-1)!;
  bot.finish(jobId, 'Here it is.', [result]);
  return fake.waitFor((c) => c.method === 'PATCH' && c.path === `/channels/${channelId}/messages/${statusId}`);
}

describe('Discord: flagged media and the channel NSFW flag (fake Discord, fake bot)', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('withholds a flagged result in an ordinary channel: no file, no buttons, the reason in its place', async () => {
    stack = await startFakeStack();
    const flagged = stack.bot.addMedia(await solidImage(8, 8, '#ff0000'), 'image/png', 'result', FLAGGED);
    const edit = await resultEdit(stack, stack.fake.channelId, flagged);
    expect(edit.files).toHaveLength(0);
    expect(edit.body.content).toBe(`Here it is.\n${WITHHELD}`);
    expect(edit.body.components ?? []).toHaveLength(0);
  });

  it('posts the same flagged result in a channel marked NSFW', async () => {
    stack = await startFakeStack();
    stack.fake.setNsfw(stack.fake.channelId, true);
    await untilCached(stack, stack.fake.channelId, true);
    const flagged = stack.bot.addMedia(await solidImage(8, 8, '#ff0000'), 'image/png', 'result', FLAGGED);
    const edit = await resultEdit(stack, stack.fake.channelId, flagged);
    expect(edit.files).toHaveLength(1);
    expect(edit.body.content).toBe('Here it is.');
  });

  it('a thread follows its parent channel: allowed under an NSFW channel, withheld under an ordinary one', async () => {
    stack = await startFakeStack();
    const { fake } = stack;
    fake.setNsfw(fake.channelId, true);
    await untilCached(stack, fake.channelId, true);
    const underNsfw = fake.openThread(fake.channelId);
    const underPlain = fake.openThread(fake.otherChannelId);
    await untilCached(stack, underNsfw);
    await untilCached(stack, underPlain);
    const posted = await resultEdit(stack, underNsfw, stack.bot.addMedia(await solidImage(8, 8, '#ff0000'), 'image/png', 'result', FLAGGED));
    expect(posted.files).toHaveLength(1);
    const withheld = await resultEdit(stack, underPlain, stack.bot.addMedia(await solidImage(8, 8, '#ff0001'), 'image/png', 'result', FLAGGED));
    expect(withheld.files).toHaveLength(0);
    expect(withheld.body.content).toContain(WITHHELD);
  });

  it('SAFETY=block withholds a flagged result even in an NSFW channel; an unflagged one next to it is posted', async () => {
    stack = await startFakeStack({ SAFETY: 'block' });
    stack.fake.setNsfw(stack.fake.channelId, true);
    await untilCached(stack, stack.fake.channelId, true);
    const { bot } = stack;
    const flagged = bot.addMedia(await solidImage(8, 8, '#ff0000'), 'image/png', 'result', FLAGGED);
    const clean = bot.addMedia(await solidImage(8, 8, '#00ff00'), 'image/png', 'overlay', { safety: { nsfw: 0.01, flagged: false } });
    const message = stack.fake.send(
      stack.fake.userMessage(stack.fake.user(), 'make it winter', {
        mention: true,
        attachments: [stack.fake.attachment(await solidImage(8, 8), 'a.png', 'image/png')],
      }),
    );
    await stack.fake.waitFor(isChannelPost(stack.fake.channelId, (c) => c.body?.message_reference?.message_id === message.id));
    const statusId = [...stack.fake.messages.values()].find((m) => m.message_reference?.message_id === message.id)!.id;
    bot.finish([...bot.jobs.keys()].at(-1)!, 'Here they are.', [flagged, clean]);
    const edit = await stack.fake.waitFor((c) => c.method === 'PATCH' && c.path === `/channels/${stack!.fake.channelId}/messages/${statusId}`);
    expect(edit.files).toHaveLength(1);
    expect(edit.body.content).toBe('Here they are.\nThis picture was flagged as NSFW by the safety filter, so it is not posted.');
  });

  it('SAFETY=off posts flagged media anywhere', async () => {
    stack = await startFakeStack({ SAFETY: 'off' });
    const flagged = stack.bot.addMedia(await solidImage(8, 8, '#ff0000'), 'image/png', 'result', FLAGGED);
    const edit = await resultEdit(stack, stack.fake.channelId, flagged);
    expect(edit.files).toHaveLength(1);
  });
});
