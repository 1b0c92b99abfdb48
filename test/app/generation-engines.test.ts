import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRef } from '../../src/app/bot-api.ts';
import type { Bot } from '../../src/app/bot.ts';
import { installSdTurboFixture } from '../fixtures/sd-turbo-fixture.ts';
import { startFakeImagesServer, type FakeImagesServer } from '../fakes/openai-images/server.ts';
import { EventRecorder, startTestBot, testUser } from '../helpers/bot-harness.ts';
import { freePort } from '../helpers/free-port.ts';

/**
 * The same conversation on the two other engines, through the real bot: SD-Turbo in-process (fixture
 * graphs with the real input/output names, run in the bot's inference thread like pulled weights) and an
 * OpenAI-compatible Images API (the fake server, through the official client).
 */

type Harness = Awaited<ReturnType<typeof startTestBot>>;

async function conversation(bot: Bot, title: string): Promise<{ id: string; user: UserRef; events: EventRecorder }> {
  const user = testUser();
  const view = await bot.startConversation({ user, title });
  const events = new EventRecorder();
  bot.subscribe(view.id, events.listener);
  return { id: view.id, user, events };
}

function say(bot: Bot, c: { id: string; user: UserRef }, text: string) {
  return bot.handleTurn({ conversationId: c.id, user: c.user, text, files: [] });
}

async function bytesOf(bot: Bot, mediaId: string): Promise<Buffer> {
  return fs.readFile((await bot.media(mediaId)).path);
}

describe('SD-Turbo pulled into MODELS_DIR, with no endpoint set', () => {
  let harness: Harness;
  let bot: Bot;
  beforeAll(async () => {
    const dir = await fs.mkdtemp(path.join((await import('node:os')).tmpdir(), 'vitron-sdturbo-bot-'));
    // gain 0.5: the oracle removes half of the noise, so pictures depend on the seed (variations differ).
    await installSdTurboFixture(path.join(dir, 'models'), { gain: 0.5 });
    harness = await startTestBot({ SAFETY: 'off' }, { dir });
    bot = harness.running.bot;
  });
  afterAll(async () => {
    await harness?.cleanup();
  });

  it('draws, edits, varies, upscales the second variation and undoes, all on the in-process pipeline', async () => {
    const c = await conversation(bot, 'sd-turbo');
    const drawn = await c.events.finished(await say(bot, c, 'draw a red fox in the snow'));
    expect(drawn.job.state).toBe('succeeded');
    const fox = drawn.turn.media.find((m) => m.role === 'result')!;
    expect(fox.generation).toMatchObject({ engine: 'sd-turbo', model: 'sd-turbo', steps: 1, width: 512, height: 512 });

    const again = (await c.events.finished(await say(bot, c, 'again'))).turn.media.find((m) => m.role === 'result')!;
    expect(Buffer.compare(await bytesOf(bot, again.id), await bytesOf(bot, fox.id))).toBe(0);

    const winter = await c.events.finished(await say(bot, c, 'make it winter'));
    expect(winter.job.state).toBe('succeeded');
    const wintry = winter.turn.media.find((m) => m.role === 'result')!;
    expect(wintry.generation?.strength).toBeGreaterThan(0);

    const varied = await c.events.finished(await say(bot, c, 'give me some variations'));
    const takes = varied.turn.media.filter((m) => m.role === 'result');
    expect(takes).toHaveLength(4);
    const pictures = await Promise.all(takes.map((t) => bytesOf(bot, t.id)));
    expect(new Set(pictures.map((p) => p.toString('base64'))).size).toBe(4);
    // Previews ride on progress while the later pictures are drawn. (A one-step, one-picture draw may end
    // before its only preview is stored, and runJob drops a preview that would arrive after its step.)
    expect(c.events.events.some((e) => e.type === 'job.progress' && e.job.id === varied.job.id && e.job.progress?.preview !== undefined)).toBe(true);

    const upscaled = await c.events.finished(await say(bot, c, 'upscale the second one'));
    expect(upscaled.job.state).toBe('succeeded');
    expect(upscaled.turn.media.find((m) => m.role === 'result')!.parentId).toBe(takes[1]!.id);
    await say(bot, c, 'undo');
    expect((await bot.history(c.id)).currentMediaId).toBe(takes[1]!.id);
  });

  it('zooms out: the old picture is kept pixel for pixel in the middle of a wider one', async () => {
    const c = await conversation(bot, 'outpaint');
    const photo = await sharp({ create: { width: 256, height: 192, channels: 3, background: '#2266aa' } })
      .png()
      .toBuffer();
    const turn = await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'zoom out', files: [{ name: 'blue.png', bytes: photo }] });
    const done = await c.events.finished(turn);
    expect(done.job.state).toBe('succeeded');
    const wide = done.turn.media.find((m) => m.role === 'result')!;
    expect(wide.width / wide.height).toBeCloseTo(256 / 192, 1);
    expect(wide.width).toBeGreaterThan(256);
    const { data, info } = await sharp(await bytesOf(bot, wide.id))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const centre = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * 3;
    expect([data[centre], data[centre + 1], data[centre + 2]]).toEqual([0x22, 0x66, 0xaa]);
  });
});

describe('an OpenAI-compatible Images API', () => {
  let harness: Harness;
  let bot: Bot;
  let images: FakeImagesServer;
  beforeAll(async () => {
    images = await startFakeImagesServer({ port: await freePort(), apiKey: 'sk-test-images' });
    harness = await startTestBot({ IMAGES_API_URL: images.url, IMAGES_API_KEY: 'sk-test-images', IMAGES_API_MODEL: 'gpt-image-1', SAFETY: 'off' });
    bot = harness.running.bot;
  });
  afterAll(async () => {
    await harness?.cleanup();
    await images?.close();
  });

  it('draws and edits through the Images API, and a moderation refusal reaches the user as one sentence', async () => {
    images.mode = 'ok';
    const c = await conversation(bot, 'images-api');
    const drawn = await c.events.finished(await say(bot, c, 'draw a red fox in the snow'));
    expect(drawn.job.state).toBe('succeeded');
    expect(drawn.turn.media.find((m) => m.role === 'result')!.generation).toMatchObject({ engine: 'images-api', model: 'gpt-image-1' });
    const winter = await c.events.finished(await say(bot, c, 'make it winter'));
    expect(winter.job.state).toBe('succeeded');
    expect(images.requests.map((r) => r.path)).toEqual(['/v1/images/generations', '/v1/images/edits']);

    images.mode = 'moderation';
    const refused = await c.events.finished(await say(bot, c, 'draw a castle'));
    expect(refused.job.state).toBe('failed');
    expect(refused.turn.text).toMatch(/safety|refused|blocked/i);
    expect(refused.turn.text.split(/(?<=[.!?])\s+/).length).toBeLessThanOrEqual(2);
  });
});
