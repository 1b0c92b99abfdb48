import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCustomId } from '../../adapters/discord/custom-id.ts';
import { closeComfyUiClients } from '../../src/vision/engines/comfyui-engine.ts';
import { FakeComfyUi } from '../fakes/comfyui/server.ts';
import { FakeDiscord, type FakeMessage } from '../fakes/discord/fake-discord.ts';
import { startTestBot } from '../helpers/bot-harness.ts';
import { customIds, discordEnv, isChannelPost, isOriginalEdit, startAdapter } from './harness.ts';

/**
 * Generation on Discord with the real bot (PGlite, in-process queue) and the fake ComfyUI as its engine:
 * a batch arrives as one grid with U/V buttons, V3 makes variations of picture 3, Retry repeats the seed.
 */
describe('Discord: generated pictures with the real bot', () => {
  let fake: FakeDiscord;
  let comfy: FakeComfyUi;
  let dir: string;
  let test: Awaited<ReturnType<typeof startTestBot>>;
  let adapter: Awaited<ReturnType<typeof startAdapter>>;

  beforeAll(async () => {
    fake = await new FakeDiscord().start();
    comfy = await FakeComfyUi.start();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-discord-gen-'));
    test = await startTestBot(discordEnv(fake, dir, { PGLITE_DIR: path.join(dir, 'db'), COMFYUI_URL: comfy.url, GENERATION_DAILY_QUOTA: '8' }), { dir });
    adapter = await startAdapter(test.running.bot, test.settings);
  });
  afterAll(async () => {
    await adapter?.close();
    await test?.running.close();
    closeComfyUiClients();
    await comfy?.close();
    await fake?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** The bot's status reply to `message`, once it has been edited into a result with files. */
  async function resultFor(message: FakeMessage): Promise<FakeMessage> {
    const status = await fake.waitFor(isChannelPost(fake.channelId, (c) => c.body?.message_reference?.message_id === message.id));
    const statusId = [...fake.messages.values()].find((m) => m.nonce === String(status.body.nonce))!.id;
    await fake.waitFor(
      (c) => c.method === 'PATCH' && c.path === `/channels/${fake.channelId}/messages/${statusId}` && c.files.some((f) => !f.name.startsWith('vitron-preview')),
    );
    return fake.messages.get(statusId)!;
  }

  const button = (message: FakeMessage, action: string, label?: string) =>
    customIds(message).find((id) => decodeCustomId(id)?.action === action && (label === undefined || labelOf(message, id) === label))!;

  function labelOf(message: FakeMessage, customId: string): string | undefined {
    for (const row of message.components ?? []) for (const c of row.components ?? []) if (c.custom_id === customId) return c.label;
    return undefined;
  }

  it('posts a batch as one grid with U1–U4 and V1–V4, V3 varies picture 3, and the daily quota answers once used up', { timeout: 240_000 }, async () => {
    const user = fake.user();
    const mention = fake.send(fake.userMessage(user, 'draw a red fox in the snow, 4 pictures', { mention: true }));
    const grid = await resultFor(mention);
    expect(grid.attachments).toHaveLength(1);
    const labels = (grid.components ?? []).flatMap((row: { components?: { label?: string }[] }) => (row.components ?? []).map((c) => c.label));
    expect(labels).toEqual(expect.arrayContaining(['U1', 'U2', 'U3', 'U4', 'V1', 'V2', 'V3', 'V4']));
    expect(grid.content).toMatch(/seed/);

    const v3 = decodeCustomId(button(grid, 'vary', 'V3'))!;
    const press = fake.interact(fake.buttonPress(button(grid, 'vary', 'V3'), grid.id, user));
    const varied = await fake.waitFor(isOriginalEdit(press, (c) => c.files.some((f) => !f.name.startsWith('vitron-preview'))));
    expect(varied.files).toHaveLength(1);
    // The new grid's U1 names the first new picture, made from picture 3.
    const firstOfNew = decodeCustomId(customIds(varied.body).find((id) => decodeCustomId(id)?.action === 'upscale')!)!;
    const picture = await test.running.bot.media(firstOfNew.mediaId);
    expect(picture.view.parentId).toBe(v3.mediaId);

    // 4 + 4 of the 8 a day are used: the next picture is refused in the reply, with when the day resets.
    const more = fake.send(fake.userMessage(user, 'draw a cat', { mention: true }));
    const refusal = await fake.waitFor(
      (c) =>
        (c.method === 'POST' || c.method === 'PATCH') &&
        c.path.startsWith(`/channels/${fake.channelId}/messages`) &&
        /today's 8 generated pictures/.test(c.body?.content ?? '') &&
        (c.method === 'PATCH' || c.body?.message_reference?.message_id === more.id),
    );
    expect(refusal.body.content).toMatch(/midnight UTC/);
  });
});
