import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeCustomId } from '../../adapters/discord/custom-id.ts';
import { FakeDiscord, type FakeMessage } from '../fakes/discord/fake-discord.ts';
import { startTestBot } from '../helpers/bot-harness.ts';
import { makeClip, solidImage } from '../helpers/media-fixtures.ts';
import { customIds, discordEnv, isCallback, isChannelPost, isOriginalEdit, startAdapter } from './harness.ts';

/**
 * The real bot (PGlite, in-process queue, real specialists) behind the adapter, against the fake Discord.
 * Generous timeouts: two bots start per test on a shared 2-core machine; nothing here asserts a duration.
 */
describe('Discord adapter with the real bot', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  async function setUp(dir: string, fake: FakeDiscord) {
    const test = await startTestBot(discordEnv(fake, dir, { PGLITE_DIR: path.join(dir, 'db') }), { dir });
    const adapter = await startAdapter(test.running.bot, test.settings);
    return {
      test,
      adapter,
      async stop() {
        await adapter.close();
        await test.running.close();
      },
    };
  }

  /** Waits until the bot's status reply to `message` has been edited into a result with files; returns it. */
  async function resultFor(fake: FakeDiscord, message: FakeMessage): Promise<FakeMessage> {
    const status = await fake.waitFor(isChannelPost(fake.channelId, (c) => c.body?.message_reference?.message_id === message.id));
    const statusId = [...fake.messages.values()].find((m) => m.nonce === String(status.body.nonce))!.id;
    await fake.waitFor((c) => c.method === 'PATCH' && c.path === `/channels/${fake.channelId}/messages/${statusId}` && c.files.length > 0);
    return fake.messages.get(statusId)!;
  }

  it('edits an image from a mention, then edits that result from a reply, and its buttons work after a restart', { timeout: 240_000 }, async () => {
    const fake = await new FakeDiscord().start();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-discord-real-'));
    cleanups.push(async () => {
      await fake.close();
      await fs.rm(dir, { recursive: true, force: true });
    });
    let first = await setUp(dir, fake);
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await first.stop();
    });
    const user = fake.user();

    const mention = fake.send(
      fake.userMessage(user, 'make it brighter', {
        mention: true,
        attachments: [fake.attachment(await solidImage(64, 48, '#404040'), 'grey.png', 'image/png')],
      }),
    );
    const result = await resultFor(fake, mention);
    expect(result.attachments[0].filename).toMatch(/^vitron-result/);
    const target = decodeCustomId(customIds(result).find((id) => decodeCustomId(id)?.action === 'download')!)!;
    expect(target.ownerId).toBe(user.id);

    const reply = fake.send(fake.userMessage(user, 'now make it brighter', { replyTo: result.id }));
    const second = await resultFor(fake, reply);
    const secondTarget = decodeCustomId(customIds(second).find((id) => decodeCustomId(id)?.action === 'download')!)!;
    expect(secondTarget.subject).toBe(target.subject);
    const secondMedia = await first.test.running.bot.media(secondTarget.mediaId);
    expect(secondMedia.view.parentId).toBe(target.mediaId);

    // A new process (bot and adapter) on the same database: the buttons of the old message still work.
    await first.stop();
    stopped = true;
    const restarted = await setUp(dir, fake);
    cleanups.push(() => restarted.stop());
    first = restarted;

    const download = fake.interact(fake.buttonPress(customIds(second).find((id) => decodeCustomId(id)?.action === 'download')!, second.id, user));
    const file = await fake.waitFor(isOriginalEdit(download, (c) => c.files.length > 0));
    expect(file.files[0]!.bytes.length).toBe(secondMedia.view.bytes);

    const undo = fake.interact(fake.buttonPress(customIds(second).find((id) => decodeCustomId(id)?.action === 'undo')!, second.id, user));
    expect((await fake.waitFor(isCallback(undo))).body.type).toBe(5);
    await fake.waitFor(isOriginalEdit(undo));
    const history = await first.test.running.bot.history(target.subject);
    expect(history.currentMediaId).toBe(target.mediaId);
  });

  it('delivers the result of a job interrupted by a restart to its channel, mentioning its author', { timeout: 240_000 }, async () => {
    const fake = await new FakeDiscord().start();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-discord-real-'));
    cleanups.push(async () => {
      await fake.close();
      await fs.rm(dir, { recursive: true, force: true });
    });
    const first = await setUp(dir, fake);
    let firstStopped = false;
    cleanups.push(async () => {
      if (!firstStopped) await first.stop();
    });
    const user = fake.user();
    const clip = await fs.readFile(await makeClip(dir, 'slow', { seconds: 12, fps: 25, width: 320, height: 240 }));
    const mention = fake.send(
      fake.userMessage(user, 'make it black and white', { mention: true, attachments: [fake.attachment(clip, 'slow.mp4', 'video/mp4')] }),
    );
    const status = await fake.waitFor(isChannelPost(fake.channelId, (c) => c.body?.message_reference?.message_id === mention.id));
    const statusId = [...fake.messages.values()].find((m) => m.nonce === String(status.body.nonce))!.id;
    await fake.waitFor((c) => c.method === 'PATCH' && c.path === `/channels/${fake.channelId}/messages/${statusId}` && /[1-9]\d*%/.test(c.body?.content ?? ''));
    await first.stop();
    firstStopped = true;

    // As main.ts does: the chat adapter listens before the unfinished jobs are resumed.
    const test = await startTestBot(discordEnv(fake, dir, { PGLITE_DIR: path.join(dir, 'db') }), { dir, recover: false });
    const adapter = await startAdapter(test.running.bot, test.settings);
    cleanups.push(async () => {
      await adapter.close();
      await test.running.close();
    });
    await test.running.bot.recoverUnfinishedJobs();
    const posted = await fake.waitFor(isChannelPost(fake.channelId, (c) => c.files.length > 0));
    expect(posted.body.content.startsWith(`<@${user.id}> `)).toBe(true);
    expect(posted.body.message_reference.message_id).toBe(statusId);
    expect(posted.files.some((f) => f.name.endsWith('.mp4'))).toBe(true);
  });

  it('posts a result that outlived its interaction token in the thread, and runs a reply replayed after a resume once', { timeout: 240_000 }, async () => {
    const fake = await new FakeDiscord().start();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-discord-real-'));
    const test = await startTestBot(discordEnv(fake, dir, { PGLITE_DIR: path.join(dir, 'db') }), { dir });
    // The first reading is the interaction's start; every later one is 20 minutes on, past the token's life.
    let readings = 0;
    const adapter = await startAdapter(test.running.bot, test.settings, { now: () => (readings++ === 0 ? 0 : 20 * 60_000) });
    cleanups.push(async () => {
      await adapter.close();
      await test.running.close();
      await fake.close();
      await fs.rm(dir, { recursive: true, force: true });
    });
    const user = fake.user();
    const interaction = fake.interact(
      fake.slashCommand('edit', user, {
        prompt: 'make it brighter',
        attachment: fake.attachment(await solidImage(64, 48, '#404040'), 'grey.png', 'image/png'),
      }),
    );
    expect((await fake.waitFor(isCallback(interaction))).body.type).toBe(5);
    await fake.waitFor((c) => c.method === 'POST' && /\/threads$/.test(c.path));
    const threadId = fake.originalOf(interaction.token)!.id;
    const posted = await fake.waitFor(isChannelPost(threadId, (c) => c.files.length > 0));
    expect(posted.body.content.startsWith(`<@${user.id}> `)).toBe(true);
    expect(posted.body).toMatchObject({ enforce_nonce: true });
    expect(fake.calls.filter(isOriginalEdit(interaction, (c) => c.files.length > 0))).toHaveLength(0);
    const late = [...fake.messages.values()].find((m) => m.nonce === String(posted.body.nonce))!;
    const target = decodeCustomId(customIds(late).find((id) => decodeCustomId(id)?.action === 'download')!)!;

    const reply = fake.send(fake.userMessage(user, 'now make it brighter', { channelId: threadId, replyTo: late.id }));
    const status = await fake.waitFor(isChannelPost(threadId, (c) => c.body?.message_reference?.message_id === reply.id));
    const statusId = [...fake.messages.values()].find((m) => m.nonce === String(status.body.nonce))!.id;
    await fake.waitFor((c) => c.method === 'PATCH' && c.path === `/channels/${threadId}/messages/${statusId}` && c.files.length > 0);

    // discord.js drops a replayed message it still has cached; a busy channel evicts it (200 kept), and then
    // only the adapter stands between the replay and a second "use this one" turn.
    const thread = adapter.client.channels.cache.get(threadId);
    if (thread && 'messages' in thread) thread.messages.cache.clear();
    fake.replayOnResume(1);
    const resumed = new Promise<void>((resolve) => adapter.client.once('shardResume', () => resolve()));
    fake.dropConnections();
    await resumed;
    // Events are taken in gateway order: once a later DM is answered the replay has arrived, and close()
    // waits for every handler still running, so whatever the replay would have done is done.
    const dm = '323456789012345678';
    fake.send(fake.userMessage(user, 'help', { dm: true, channelId: dm }));
    await fake.waitFor(isChannelPost(dm));
    await adapter.close();

    const { turns } = await test.running.bot.history(target.subject);
    const userTexts = turns.filter((t) => t.role === 'user').map((t) => t.text);
    expect(userTexts).toEqual(['make it brighter', 'use this one', 'now make it brighter']);
    expect(fake.calls.filter(isChannelPost(threadId, (c) => c.body?.message_reference?.message_id === reply.id))).toHaveLength(1);
  });

  it('tells the user when an attachment is corrupt', { timeout: 120_000 }, async () => {
    const fake = await new FakeDiscord().start();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-discord-real-'));
    const stack = await setUp(dir, fake);
    cleanups.push(async () => {
      await stack.stop();
      await fake.close();
      await fs.rm(dir, { recursive: true, force: true });
    });
    const png = await solidImage(64, 64);
    const corrupt = Buffer.concat([png.subarray(0, 60), Buffer.alloc(200, 7)]);
    const interaction = fake.interact(
      fake.slashCommand('edit', fake.user(), { prompt: 'make it brighter', attachment: fake.attachment(corrupt, 'broken.png', 'image/png') }),
    );
    const answer = await fake.waitFor(isOriginalEdit(interaction, (c) => !/Queued|Working/.test(c.body?.content ?? '')));
    expect(answer.body.content).toContain('"broken.png": The image could not be read; it looks damaged');
    expect(answer.files).toHaveLength(0);
  });
});
