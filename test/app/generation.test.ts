import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRef } from '../../src/app/bot-api.ts';
import type { Bot } from '../../src/app/bot.ts';
import { closeComfyUiClients } from '../../src/vision/engines/comfyui-engine.ts';
import { FakeComfyUi } from '../fakes/comfyui/server.ts';
import { EventRecorder, startTestBot, testUser } from '../helpers/bot-harness.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

/**
 * Generation through the whole path of a message, on the real bot (PGlite, in-process queue) with the
 * fake ComfyUI as its engine: the fake paints a solid colour hashed from seed, prompt and inputs, so equal
 * bytes mean "made from the same request and seed".
 */

let comfy: FakeComfyUi;
let harness: Awaited<ReturnType<typeof startTestBot>>;
let bot: Bot;

beforeAll(async () => {
  comfy = await FakeComfyUi.start();
  harness = await startTestBot({ COMFYUI_URL: comfy.url, GENERATION_DAILY_QUOTA: '12' });
  bot = harness.running.bot;
});

afterAll(async () => {
  await harness?.cleanup();
  closeComfyUiClients();
  await comfy?.close();
});

async function conversation(title: string): Promise<{ id: string; user: UserRef; events: EventRecorder }> {
  const user = testUser();
  const view = await bot.startConversation({ user, title });
  const events = new EventRecorder();
  bot.subscribe(view.id, events.listener);
  return { id: view.id, user, events };
}

async function say(c: { id: string; user: UserRef }, text: string) {
  return bot.handleTurn({ conversationId: c.id, user: c.user, text, files: [] });
}

async function bytesOf(mediaId: string): Promise<Buffer> {
  return fs.readFile((await bot.media(mediaId)).path);
}

describe('generating and editing pictures by words', () => {
  it('draw → make it winter → variations → upscale the second one → undo, with lineage and what made each picture', async () => {
    const c = await conversation('fox');
    const drawn = await c.events.finished(await say(c, 'draw a red fox in the snow'));
    expect(drawn.job.state).toBe('succeeded');
    const fox = drawn.turn.media.find((m) => m.role === 'result')!;
    expect(fox).toMatchObject({ kind: 'image', width: 512, height: 512 });
    expect(drawn.turn.text).toMatch(/a red fox in the snow/);
    expect(drawn.turn.text).toMatch(/comfyui/);
    const made = fox.generation!;
    expect(made).toMatchObject({ prompt: 'a red fox in the snow', engine: 'comfyui', width: 512, height: 512 });
    expect(Number.isInteger(made.seed)).toBe(true);

    const winter = await c.events.finished(await say(c, 'make it winter'));
    expect(winter.job.state).toBe('succeeded');
    const wintry = winter.turn.media.find((m) => m.role === 'result')!;
    expect(wintry.parentId).toBe(fox.id);
    expect(Buffer.compare(await bytesOf(wintry.id), await bytesOf(fox.id))).not.toBe(0);

    const varied = await c.events.finished(await say(c, 'give me some variations'));
    expect(varied.job.state).toBe('succeeded');
    const takes = varied.turn.media.filter((m) => m.role === 'result');
    expect(takes).toHaveLength(4);
    expect(varied.turn.media.filter((m) => m.role === 'grid')).toHaveLength(1);
    for (const take of takes) expect(take.parentId).toBe(wintry.id);
    const seeds = takes.map((t) => t.generation!.seed);
    expect(new Set(seeds).size).toBe(4);
    // The first picture of a batch is "it"; the others are picked by number.
    expect((await bot.history(c.id)).currentMediaId).toBe(takes[0]!.id);

    const upscaled = await c.events.finished(await say(c, 'upscale the second one'));
    expect(upscaled.job.state).toBe('succeeded');
    const big = upscaled.turn.media.find((m) => m.role === 'result')!;
    expect(big.parentId).toBe(takes[1]!.id);
    expect(big.width).toBeGreaterThan(takes[1]!.width);

    const undone = await say(c, 'undo');
    expect(undone.botTurn?.text).toMatch(/image #/);
    expect((await bot.history(c.id)).currentMediaId).toBe(takes[1]!.id);
  });

  it('"again" and the Retry button make the same picture from the same seed; a new seed makes another', async () => {
    const c = await conversation('again');
    const first = (await c.events.finished(await say(c, 'draw a lighthouse at dusk'))).turn.media.find((m) => m.role === 'result')!;
    const again = (await c.events.finished(await say(c, 'again'))).turn.media.find((m) => m.role === 'result')!;
    expect(again.id).not.toBe(first.id);
    expect(Buffer.compare(await bytesOf(again.id), await bytesOf(first.id))).toBe(0);

    const retried = await bot.repeat({ conversationId: c.id, user: c.user, mediaId: first.id });
    const retry = (await c.events.finished(retried)).turn.media.find((m) => m.role === 'result')!;
    expect(Buffer.compare(await bytesOf(retry.id), await bytesOf(first.id))).toBe(0);

    const other = (await c.events.finished(await say(c, 'draw a lighthouse at dusk with seed 7'))).turn.media.find((m) => m.role === 'result')!;
    expect(Buffer.compare(await bytesOf(other.id), await bytesOf(first.id))).not.toBe(0);
  });

  photos.it("replace the person with words: the generator paints inside the outline, every pixel outside it stays the photo's", async () => {
    const c = await conversation('replace');
    const photo = await fs.readFile(testdata('astronaut.png'));
    const turn = await bot.handleTurn({
      conversationId: c.id,
      user: c.user,
      text: 'replace the person with a robot',
      files: [{ name: 'astronaut.png', bytes: photo }],
    });
    const done = await c.events.finished(turn);
    expect(done.job.state).toBe('succeeded');
    const result = done.turn.media.find((m) => m.role === 'result')!;
    expect(result.generation).toMatchObject({ prompt: 'a robot', engine: 'comfyui' });
    const hole = done.turn.media.find((m) => m.role === 'mask')!;
    const [after, before, mask] = await Promise.all([
      sharp(await bytesOf(result.id))
        .removeAlpha()
        .raw()
        .toBuffer(),
      sharp(photo).removeAlpha().raw().toBuffer(),
      sharp(await bytesOf(hole.id))
        .greyscale()
        .raw()
        .toBuffer(),
    ]);
    let outside = 0;
    let changedOutside = 0;
    let changedInside = 0;
    for (let i = 0; i < mask.length; i++) {
      const changed = after[i * 3] !== before[i * 3] || after[i * 3 + 1] !== before[i * 3 + 1] || after[i * 3 + 2] !== before[i * 3 + 2];
      if (mask[i] === 0) {
        outside += 1;
        if (changed) changedOutside += 1;
      } else if (changed) changedInside += 1;
    }
    expect(outside).toBeGreaterThan(mask.length / 4);
    expect(changedOutside).toBe(0);
    expect(changedInside).toBeGreaterThan(0);
  });

  it('reports steps and previews while it works, and the previews can be fetched', async () => {
    const c = await conversation('previews');
    const turn = await say(c, 'draw a castle on a hill');
    await c.events.finished(turn);
    const previews = c.events.events.flatMap((e) => (e.type === 'job.progress' && e.job.progress?.preview ? [e.job.progress.preview] : []));
    expect(previews.length).toBeGreaterThan(0);
    const fetched = await bot.preview(previews[0]!.sha256);
    expect(fetched.mime).toMatch(/^image\//);
    expect((await fs.stat(fetched.path)).size).toBeGreaterThan(0);
    await expect(bot.preview('../../etc/passwd')).rejects.toThrow(/Preview/);
    // A result is in the same blob store, but only announced previews are served by content address.
    const result = (await c.events.finished(turn)).turn.media.find((m) => m.role === 'result')!;
    const resultSha = createHash('sha256')
      .update(await bytesOf(result.id))
      .digest('hex');
    await expect(bot.preview(resultSha)).rejects.toThrow(/Preview/);
    // And nothing of this job is reported after its end.
    const end = c.events.events.findIndex((e) => e.type === 'job.finished' && e.job.id === turn.job!.id);
    expect(c.events.events.slice(end + 1).filter((e) => e.type === 'job.progress' && e.job.id === turn.job!.id)).toEqual([]);
  });

  it('stops at the daily quota with a sentence that says when it resets, and queues nothing', async () => {
    const c = await conversation('quota');
    // 12 a day in this bot, per user (each test has its own user): 1 + 4 + 4 pictures fit, 4 more do not.
    expect((await c.events.finished(await say(c, 'draw a boat'))).job.state).toBe('succeeded');
    for (let i = 0; i < 2; i++) expect((await c.events.finished(await say(c, 'give me some variations'))).job.state).toBe('succeeded');
    const refused = await say(c, 'give me some variations');
    expect(refused.job).toBeUndefined();
    expect(refused.botTurn?.text).toMatch(/only 3 of today's 12/);
    expect(refused.botTurn?.text).toMatch(/midnight UTC/);
  });
});

describe('without an image generator', () => {
  let bare: Awaited<ReturnType<typeof startTestBot>>;
  beforeAll(async () => {
    bare = await startTestBot();
  });
  afterAll(async () => {
    await bare?.cleanup();
  });

  it('answers a generative request at once, telling the user to ask the admin, and queues nothing', async () => {
    const user = testUser();
    const view = await bare.running.bot.startConversation({ user, title: 'bare' });
    const turn = await bare.running.bot.handleTurn({ conversationId: view.id, user, text: 'draw a red fox in the snow', files: [] });
    expect(turn.job).toBeUndefined();
    expect(turn.botTurn?.text).toBe("This server can't generate pictures yet — ask its admin to enable image generation.");
    // Settings and pull commands are the operator's (the log, models list, /healthz), not the chat's.
    expect(turn.botTurn?.text).not.toMatch(/COMFYUI_URL|IMAGES_API_URL|npm run models/);
  });
});
