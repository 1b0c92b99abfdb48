import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeCustomId, encodeCustomId } from '../../adapters/discord/custom-id.ts';
import { fitForUpload } from '../../adapters/discord/media.ts';
import { renderTurn } from '../../adapters/discord/render.ts';
import type { MediaView } from '../../src/app/bot-api.ts';
import { makeClip, noiseImage, solidImage, SYSTEM_FFMPEG } from '../helpers/media-fixtures.ts';
import pino from 'pino';
import { startDiscordAdapter } from '../../adapters/discord/adapter.ts';
import { loadSettings } from '../../src/config/settings.ts';
import { customIds, DiscordFakeBot, isCallback, isChannelPost, isOriginalEdit, startFakeStack } from './harness.ts';

type Stack = Awaited<ReturnType<typeof startFakeStack>>;

describe('Discord adapter: threads, context menu, uploads (fake Discord, fake bot)', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it("treats every message in a thread it opened as a turn of that thread's conversation", async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const user = fake.user();
    const interaction = fake.interact(fake.slashCommand('edit', user, { prompt: 'hello there' }));
    await fake.waitFor(isOriginalEdit(interaction));
    const threadId = fake.originalOf(interaction.token)!.id;
    const conversationId = (bot.calls.find((c) => c.method === 'handleTurn')!.args[0] as any).conversationId;

    fake.send(fake.userMessage(user, 'and now?', { channelId: threadId }));
    const reply = await fake.waitFor(isChannelPost(threadId));
    expect(reply.body.content).toBe('You said: and now?');
    const turns = bot.calls.filter((c) => c.method === 'handleTurn').map((c) => c.args[0] as any);
    expect(turns.map((t) => t.conversationId)).toEqual([conversationId, conversationId]);
  });

  it('opens a prompt for "Edit with vitron" and runs it on the message\'s image', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const user = fake.user();
    const png = await solidImage(8, 8);
    const target = fake.userMessage(fake.user(undefined, 'bob'), 'look', { attachments: [fake.attachment(png, 'bob.png', 'image/png')] });
    const menu = fake.interact({
      ...fake.slashCommand('edit', user),
      type: 2,
      data: { id: '1', name: 'Edit with vitron', type: 3, target_id: target.id, resolved: { messages: { [target.id]: target } } },
    });
    const modal = await fake.waitFor(isCallback(menu));
    expect(modal.body.type).toBe(9);
    expect(modal.body.data.custom_id).toBe(`vt1m:${fake.channelId}:${target.id}`);

    const submit = fake.interact({
      ...fake.slashCommand('edit', user),
      type: 5,
      data: { custom_id: modal.body.data.custom_id, components: [{ type: 1, components: [{ type: 4, custom_id: 'prompt', value: 'cut it out' }] }] },
    });
    await fake.waitFor(isOriginalEdit(submit, (c) => /Queued/.test(c.body?.content ?? '')));
    const turn = bot.calls.find((c) => c.method === 'handleTurn')!.args[0] as any;
    expect(turn.text).toBe('cut it out');
    expect(turn.files[0].bytes).toEqual(new Uint8Array(png));
  });

  it('reports a result whose upload keeps failing instead of losing it', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const interaction = fake.interact(
      fake.slashCommand('edit', fake.user(), { prompt: 'x', attachment: fake.attachment(await solidImage(8, 8), 'a.png', 'image/png') }),
    );
    await fake.waitFor(isOriginalEdit(interaction, (c) => /Queued/.test(c.body?.content ?? '')));
    for (let i = 0; i < 4; i++) fake.failOnce('PATCH', /messages\/@original$/, 500);
    bot.finish([...bot.jobs.keys()][0]!, 'Done.', [bot.addMedia(await solidImage(8, 8), 'image/png', 'result')]);
    const reported = await fake.waitFor(isOriginalEdit(interaction, (c) => c.status === 200 && /could not be uploaded/.test(c.body?.content ?? '')));
    expect(reported.body.content).toMatch(/^Done\.\n⚠️ The result could not be uploaded to Discord/);
    expect(fake.calls.filter(isOriginalEdit(interaction, (c) => c.status === 500))).toHaveLength(4);
  });

  it('offers a "which one?" menu when a result has several images, and continues from the one picked', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const user = fake.user();
    const interaction = fake.interact(
      fake.slashCommand('edit', user, { prompt: 'x', attachment: fake.attachment(await solidImage(8, 8), 'a.png', 'image/png') }),
    );
    await fake.waitFor(isOriginalEdit(interaction, (c) => /Queued/.test(c.body?.content ?? '')));
    const a = bot.addMedia(await solidImage(8, 8, '#ff0000'), 'image/png', 'result', { ordinal: 2 });
    const b = bot.addMedia(await solidImage(8, 8, '#0000ff'), 'image/png', 'result', { ordinal: 3 });
    bot.finish([...bot.jobs.keys()][0]!, 'Two of them.', [a, b]);
    const final = await fake.waitFor(isOriginalEdit(interaction, (c) => c.files.length === 2));
    const pick = customIds(final.body).find((id) => decodeCustomId(id)?.action === 'pick')!;
    const menu = final.body.components.flatMap((row: any) => row.components).find((c: any) => c.custom_id === pick);
    expect(menu.options.map((o: any) => o.value)).toEqual([a.id, b.id]);

    const chosen = fake.interact(fake.selectChoice(pick, [b.id], fake.originalOf(interaction.token)!.id, user));
    await fake.waitFor(isCallback(chosen));
    expect(bot.calls.find((c) => c.method === 'act')!.args[0]).toMatchObject({ action: 'use', mediaId: b.id });
  });
});

describe('Discord adapter start-up and next-step buttons (fake Discord, fake bot)', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('starts only with DISCORD_TOKEN, and registers its commands on the configured server', async () => {
    const bot = new DiscordFakeBot();
    try {
      expect(
        await startDiscordAdapter({ bot, settings: loadSettings({ DATA_DIR: os.tmpdir(), LOG_LEVEL: 'silent' }), logger: pino({ level: 'silent' }) }),
      ).toBeUndefined();
    } finally {
      bot.close();
    }
    stack = await startFakeStack();
    const { fake } = stack;
    const put = fake.calls.find((c) => c.method === 'PUT' && c.path === `/applications/${fake.applicationId}/guilds/${fake.guildId}/commands`)!;
    expect(put.body.map((c: any) => c.name)).toEqual(['vitron', 'Edit with vitron']);
    expect(put.body[0].options.map((o: any) => o.name)).toEqual(['edit', 'help', 'undo', 'history', 'cancel', 'settings']);
  });

  it('coalesces progress into one edit per interval and never lets a late one overwrite the result', async () => {
    stack = await startFakeStack({}, { progressIntervalMs: 600_000 });
    const { fake, bot } = stack;
    const interaction = fake.interact(
      fake.slashCommand('edit', fake.user(), { prompt: 'x', attachment: fake.attachment(await solidImage(8, 8), 'a.png', 'image/png') }),
    );
    await fake.waitFor(isOriginalEdit(interaction, (c) => /Queued/.test(c.body?.content ?? '')));
    const jobId = [...bot.jobs.keys()][0]!;
    for (const fraction of [0.2, 0.5, 0.8]) bot.progress(jobId, fraction, 'working');
    bot.finish(jobId, 'Done.', [bot.addMedia(await solidImage(8, 8), 'image/png', 'result')]);
    await fake.waitFor(isOriginalEdit(interaction, (c) => c.files.length > 0));
    await stack.adapter.close();
    const edits = fake.calls.filter(isOriginalEdit(interaction)).map((c) => c.body.content);
    expect(edits).toEqual(['⏳ Queued…', 'Done.']);
  });

  it('answers /vitron history and /vitron undo for the conversation of the thread it is used in', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const user = fake.user();
    const first = fake.interact(fake.slashCommand('edit', user, { prompt: 'hello there' }));
    await fake.waitFor(isOriginalEdit(first));
    const threadId = fake.originalOf(first.token)!.id;
    const history = fake.interact(fake.slashCommand('history', user, {}, { channelId: threadId }));
    expect((await fake.waitFor(isCallback(history))).body).toMatchObject({ type: 5, data: { flags: 64 } });
    const shown = await fake.waitFor(isOriginalEdit(history));
    expect(shown.body.content).toContain('🧑 hello there');
    expect(shown.body.content).toContain('🤖 You said: hello there');
    const undo = fake.interact(fake.slashCommand('undo', user, {}, { channelId: threadId }));
    await fake.waitFor(isOriginalEdit(undo));
    const conversationId = (bot.calls.find((c) => c.method === 'handleTurn')!.args[0] as any).conversationId;
    expect(bot.calls.find((c) => c.method === 'act')!.args[0]).toMatchObject({ conversationId, action: 'undo' });
    const elsewhere = fake.interact(fake.slashCommand('undo', fake.user(), {}, { channelId: threadId }));
    // Undo defers publicly (its result belongs to the conversation); a refusal replaces that with a note to the user alone.
    const note = await fake.waitFor((c) => c.method === 'POST' && c.path.endsWith(`/${elsewhere.token}`));
    expect(note.body).toMatchObject({ content: 'There is no conversation with you here yet; start one with `/vitron edit`.', flags: 64 });
    expect(fake.calls.some((c) => c.method === 'DELETE' && c.path.endsWith(`/${elsewhere.token}/messages/@original`))).toBe(true);
  });

  it('retries a result by repeating what made that exact result, not by replaying the words', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const user = fake.user();
    const interaction = fake.interact(
      fake.slashCommand('edit', user, { prompt: 'sepia please', attachment: fake.attachment(await solidImage(8, 8), 'a.png', 'image/png') }),
    );
    await fake.waitFor(isOriginalEdit(interaction, (c) => /Queued/.test(c.body?.content ?? '')));
    const upload = [...bot.mediaStore.values()][0]!.view;
    const result = bot.addMedia(await solidImage(8, 8, '#704214'), 'image/png', 'result', { parentId: upload.id });
    bot.finish([...bot.jobs.keys()][0]!, 'Sepia.', [result]);
    const final = await fake.waitFor(isOriginalEdit(interaction, (c) => c.files.length > 0));
    const retry = customIds(final.body).find((id) => decodeCustomId(id)?.action === 'retry')!;
    const press = fake.interact(fake.buttonPress(retry, fake.originalOf(interaction.token)!.id, user));
    expect((await fake.waitFor(isOriginalEdit(press))).body.content).toBe(`Repeating ${result.id}.`);
    const conversationId = (bot.calls.find((c) => c.method === 'handleTurn')!.args[0] as any).conversationId;
    expect(bot.calls.find((c) => c.method === 'repeat')!.args[0]).toMatchObject({ conversationId, mediaId: result.id });
    expect(bot.calls.filter((c) => c.method === 'handleTurn')).toHaveLength(1);
  });

  it('runs Upscale, Cut out and Animate on the exact result the button belongs to', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const user = fake.user();
    const interaction = fake.interact(
      fake.slashCommand('edit', user, { prompt: 'x', attachment: fake.attachment(await solidImage(8, 8), 'a.png', 'image/png') }),
    );
    await fake.waitFor(isOriginalEdit(interaction, (c) => /Queued/.test(c.body?.content ?? '')));
    const result = bot.addMedia(await solidImage(8, 8, '#ff0000'), 'image/png', 'result');
    bot.finish([...bot.jobs.keys()][0]!, 'Done.', [result]);
    const final = await fake.waitFor(isOriginalEdit(interaction, (c) => c.files.length > 0));
    const messageId = fake.originalOf(interaction.token)!.id;
    const words = { upscale: 'upscale it', cutout: 'cut it out', animate: 'animate it' } as const;
    for (const [action, text] of Object.entries(words)) {
      const press = fake.interact(fake.buttonPress(customIds(final.body).find((id) => decodeCustomId(id)?.action === action)!, messageId, user));
      // The fake bot answers a turn without files in words; the real one would start a job.
      expect((await fake.waitFor(isOriginalEdit(press))).body.content).toBe(`You said: ${text}`);
      const acts = bot.calls.filter((c) => c.method === 'act');
      expect(acts.at(-1)!.args[0]).toMatchObject({ action: 'use', mediaId: result.id });
      expect((bot.calls.filter((c) => c.method === 'handleTurn').at(-1)!.args[0] as any).text).toBe(text);
    }
  });
});

describe('Discord result fitting and custom ids', () => {
  it('re-encodes images and videos over the upload limit until they fit, and links when nothing fits', { timeout: 120_000 }, async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-discord-fit-'));
    try {
      const big = await noiseImage(600, 400);
      const file = path.join(dir, 'big.png');
      await fs.writeFile(file, big);
      const view: MediaView = { id: 'm1', kind: 'image', mime: 'image/png', width: 600, height: 400, bytes: big.length, role: 'result', url: '/api/media/m1' };
      const limit = Math.floor(big.length / 4);
      const fitted = await fitForUpload(view, file, limit, 'https://vitron.example/api/media/m1?expires=1&sig=ab');
      expect(fitted.file!.bytes.length).toBeLessThanOrEqual(limit);
      expect(fitted.file!.name).toBe('vitron-result-preview.jpg');
      expect(fitted.note).toContain('original: https://vitron.example/api/media/m1?expires=1&sig=ab');

      const clip = await makeClip(dir, 'clip', { width: 320, height: 240, fps: 25, seconds: 1 });
      const clipBytes = (await fs.stat(clip)).size;
      const video: MediaView = { ...view, id: 'v1', kind: 'video', mime: 'video/mp4', bytes: clipBytes, url: '/api/media/v1' };
      const shrinker = { tools: async () => SYSTEM_FFMPEG, tmpDir: dir };
      const reencoded = await fitForUpload(video, clip, Math.floor(clipBytes * 0.8), undefined, shrinker);
      expect(reencoded.file!.bytes.length).toBeLessThanOrEqual(Math.floor(clipBytes * 0.8));
      expect(reencoded.file!.name).toBe('vitron-result-preview.mp4');

      const linked = await fitForUpload(video, clip, 200, 'https://vitron.example/api/media/v1?expires=1&sig=ab', shrinker);
      expect(linked.file).toBeUndefined();
      expect(linked.note).toMatch(/larger than Discord's .* upload limit: https:\/\/vitron\.example\/api\/media\/v1\?expires=1&sig=ab$/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('links a result that does not fit with the bot’s signed link on PUBLIC_URL, never the bare media path', async () => {
    const bot = new DiscordFakeBot();
    try {
      const big = await noiseImage(300, 300);
      const view = bot.addMedia(big, 'image/png', 'result', { kind: 'video', mime: 'video/mp4' });
      const turn = { id: 't1', role: 'bot' as const, text: 'Done.', media: [view], createdAt: new Date().toISOString() };
      const rendered = await renderTurn(bot, turn, {
        conversationId: 'c1',
        ownerId: '1',
        uploadLimit: 200,
        publicUrl: 'https://vitron.example',
        gate: () => undefined,
      });
      expect(rendered.content).toContain(`upload limit: https://vitron.example${bot.mediaLink(view.id)}`);
      expect(bot.mediaLink(view.id)).toMatch(/\?expires=\d+&sig=/);
    } finally {
      bot.close();
    }
  });

  it("round-trips button ids within Discord's 100 characters and ignores foreign ones", () => {
    const target = { action: 'upscale' as const, subject: 'cm3x9z0q10000abcdefghijkl', mediaId: 'cm3x9z0q10001abcdefghijkl', ownerId: '12345678901234567890' };
    const id = encodeCustomId(target);
    expect(id.length).toBeLessThanOrEqual(100);
    expect(decodeCustomId(id)).toEqual(target);
    expect(decodeCustomId('other-bot:thing')).toBeUndefined();
    expect(decodeCustomId('vt1:delete:x:y:1')).toBeUndefined();
  });
});
