import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCustomId } from '../../adapters/discord/custom-id.ts';
import { closeComfyUiClients } from '../../src/vision/engines/comfyui-engine.ts';
import { FakeComfyUi } from '../fakes/comfyui/server.ts';
import { FakeDiscord, type FakeMessage } from '../fakes/discord/fake-discord.ts';
import type { RecordedCall } from '../fakes/discord/shapes.ts';
import { startTestBot } from '../helpers/bot-harness.ts';
import { customIds, discordEnv, isChannelPost, isOriginalEdit, startAdapter } from './harness.ts';

/**
 * A video on Discord with the real bot (PGlite, in-process queue) and the fake ComfyUI, which renders real
 * clips with ffmpeg: the status reply shows the job's progress, then becomes the MP4 with Retry, Longer
 * and Download; Longer makes the same clip (same seed) with more seconds.
 */
describe('Discord: a generated video with the real bot', () => {
  let fake: FakeDiscord;
  let comfy: FakeComfyUi;
  let dir: string;
  let test: Awaited<ReturnType<typeof startTestBot>>;
  let adapter: Awaited<ReturnType<typeof startAdapter>>;

  beforeAll(async () => {
    fake = await new FakeDiscord().start();
    comfy = await FakeComfyUi.start();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-discord-video-'));
    test = await startTestBot(discordEnv(fake, dir, { PGLITE_DIR: path.join(dir, 'db'), COMFYUI_URL: comfy.url }), { dir });
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

  const isClip = (c: RecordedCall) => c.files.some((f) => f.name.endsWith('.mp4'));
  const labels = (message: { components?: { components?: { label?: string }[] }[] }) =>
    (message.components ?? []).flatMap((row) => (row.components ?? []).map((c) => c.label));

  it('posts progress, then the MP4 with Retry, Longer and Download; Longer makes the same clip twice as long', { timeout: 240_000 }, async () => {
    comfy.stepDelayMs = 300;
    const user = fake.user();
    const mention = fake.send(fake.userMessage(user, 'make a 2 second video of fireworks', { mention: true }));
    const status = await fake.waitFor(isChannelPost(fake.channelId, (c) => c.body?.message_reference?.message_id === mention.id));
    const statusId = [...fake.messages.values()].find((m) => m.nonce === String(status.body.nonce))!.id;
    const edits = (c: RecordedCall) => c.method === 'PATCH' && c.path === `/channels/${fake.channelId}/messages/${statusId}`;
    await fake.waitFor((c) => edits(c) && /Working.*\d+%/.test(c.body?.content ?? ''));
    await fake.waitFor((c) => edits(c) && isClip(c));
    const posted: FakeMessage = fake.messages.get(statusId)!;
    expect(posted.content).toMatch(/fireworks/);
    expect(posted.content).toMatch(/seed \d+/);
    expect(labels(posted)).toEqual(expect.arrayContaining(['Retry', 'Longer', 'Download original']));
    expect(labels(posted)).not.toContain('Animate');

    const longer = customIds(posted).find((id) => decodeCustomId(id)?.action === 'longer')!;
    const first = await test.running.bot.media(decodeCustomId(longer)!.mediaId);
    comfy.stepDelayMs = 1;
    const press = fake.interact(fake.buttonPress(longer, posted.id, user));
    const answer = await fake.waitFor(isOriginalEdit(press, isClip));
    const made = decodeCustomId(customIds(answer.body).find((id) => decodeCustomId(id)?.action === 'retry')!)!;
    const clip = await test.running.bot.media(made.mediaId);
    expect(clip.view.kind).toBe('video');
    expect(clip.view.generation?.seed).toBe(first.view.generation!.seed);
    expect(clip.view.durationSec!).toBeGreaterThan(first.view.durationSec! * 1.6);
  });
});
