import fs from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaView, UserRef } from '../../src/app/bot-api.ts';
import type { Bot } from '../../src/app/bot.ts';
import { probe } from '../../src/media/ffmpeg.ts';
import { closeComfyUiClients } from '../../src/vision/engines/comfyui-engine.ts';
import { FakeComfyUi } from '../fakes/comfyui/server.ts';
import { EventRecorder, startTestBot, testUser } from '../helpers/bot-harness.ts';
import { SYSTEM_FFMPEG, testdata } from '../helpers/media-fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';

/**
 * What a user can do with a video the bot made, on the real bot: the camera move (no engine, no weights) and
 * text → video on the fake ComfyUI. "make it a gif", "undo" and "do the same to the other photo" follow the
 * clip's lineage; Retry and Longer (BotApi.repeat) run what made it again, Longer with more seconds.
 */

const photos = await requires('testdata');

type Harness = Awaited<ReturnType<typeof startTestBot>>;

async function conversation(bot: Bot, title: string): Promise<{ id: string; user: UserRef; events: EventRecorder }> {
  const user = testUser();
  const view = await bot.startConversation({ user, title });
  const events = new EventRecorder();
  bot.subscribe(view.id, events.listener);
  return { id: view.id, user, events };
}

const resultOf = (media: MediaView[]) => media.find((m) => m.role === 'result')!;

async function smallPhoto(name: string): Promise<Buffer> {
  // A quarter-size real photo keeps each camera move to a few hundred small frames.
  return sharp(await fs.readFile(testdata(name)))
    .resize({ width: 240 })
    .png()
    .toBuffer();
}

photos.describe('a camera move (no engine) as a result', () => {
  let harness: Harness;
  let bot: Bot;
  beforeAll(async () => {
    harness = await startTestBot({ SAFETY: 'off' });
    bot = harness.running.bot;
  });
  afterAll(async () => {
    await harness?.cleanup();
  });

  it('is an MP4 with Retry and Longer; "make it a gif" turns the clip into a GIF made from it; "undo" goes back to the clip, and an animated WebP is made from it too', async () => {
    const c = await conversation(bot, 'animate then gif');
    const turn = await bot.handleTurn({
      conversationId: c.id,
      user: c.user,
      text: 'animate it for 2 seconds',
      files: [{ name: 'cat.png', bytes: await smallPhoto('chelsea.png') }],
    });
    const upload = turn.userTurn.media[0]!;
    const animated = await c.events.finished(turn);
    expect(animated.job.state).toBe('succeeded');
    const clip = resultOf(animated.turn.media);
    expect(clip).toMatchObject({ kind: 'video', mime: 'video/mp4', parentId: upload.id });
    expect(clip.durationSec).toBeCloseTo(2, 1);
    expect(animated.turn.actions).toEqual(expect.arrayContaining(['undo', 'retry', 'longer']));

    const gif = await c.events.finished(await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'make it a gif', files: [] }));
    expect(gif.job.state).toBe('succeeded');
    const animation = resultOf(gif.turn.media);
    expect(animation).toMatchObject({ mime: 'image/gif', parentId: clip.id });
    const meta = await sharp((await bot.media(animation.id)).path, { animated: true }).metadata();
    expect(meta.pages).toBeGreaterThan(10);
    // A GIF is not made to a length: nothing to make longer.
    expect(gif.turn.actions ?? []).not.toContain('longer');

    await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'undo', files: [] });
    expect((await bot.history(c.id)).currentMediaId).toBe(clip.id);
    // The WebP option, from the same clip.
    const webp = await c.events.finished(await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'turn it into an animated webp', files: [] }));
    expect(resultOf(webp.turn.media)).toMatchObject({ mime: 'image/webp', parentId: clip.id });
    expect((await sharp((await bot.media(resultOf(webp.turn.media).id)).path, { animated: true }).metadata()).pages).toBeGreaterThan(10);

    // The history (a page reload) offers the same buttons as the finished event did.
    const shown = (await bot.history(c.id)).turns.find((t) => t.media.some((m) => m.id === clip.id))!;
    expect(shown.actions).toEqual(expect.arrayContaining(['retry', 'longer']));
  }, 240_000);

  it('Longer runs the camera move again on the same photo with twice the seconds; Retry with the same; a GIF cannot be made longer', async () => {
    const c = await conversation(bot, 'longer');
    const first = await c.events.finished(
      await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'slowly zoom in for 2 seconds', files: [{ bytes: await smallPhoto('astronaut.png') }] }),
    );
    const clip = resultOf(first.turn.media);
    expect(clip.durationSec).toBeCloseTo(2, 1);

    const longer = await bot.repeat({ conversationId: c.id, user: c.user, mediaId: clip.id, longer: true });
    expect(longer.userTurn.text).toBe('longer');
    const longerDone = await c.events.finished(longer);
    expect(longerDone.job.state).toBe('succeeded');
    const long = resultOf(longerDone.turn.media);
    expect(long.parentId).toBe(clip.parentId);
    expect(long.durationSec).toBeCloseTo(4, 1);
    expect((await probe(SYSTEM_FFMPEG, (await bot.media(long.id)).path)).frameCount).toBe(
      2 * (await probe(SYSTEM_FFMPEG, (await bot.media(clip.id)).path)).frameCount!,
    );

    const again = await c.events.finished(await bot.repeat({ conversationId: c.id, user: c.user, mediaId: clip.id }));
    const same = resultOf(again.turn.media);
    expect(same.durationSec).toBeCloseTo(2, 1);
    // A camera move is deterministic: Retry makes the same clip.
    expect(Buffer.compare(await fs.readFile((await bot.media(same.id)).path), await fs.readFile((await bot.media(clip.id)).path))).toBe(0);

    const gif = await c.events.finished(await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'make it a gif', files: [] }));
    const refused = await bot.repeat({ conversationId: c.id, user: c.user, mediaId: resultOf(gif.turn.media).id, longer: true });
    expect(refused.job).toBeUndefined();
    expect(refused.botTurn?.text).toBe('Only a video I made from a picture or from words can be made longer.');
  }, 240_000);

  it('"do the same to the other photo" after a camera move over image 1 moves the camera over image 2 the same way', async () => {
    const c = await conversation(bot, 'same to the other');
    const both = await bot.handleTurn({
      conversationId: c.id,
      user: c.user,
      text: '',
      files: [
        { name: 'cat.png', bytes: await smallPhoto('chelsea.png') },
        { name: 'astronaut.png', bytes: await smallPhoto('astronaut.png') },
      ],
    });
    const [cat, astronaut] = both.userTurn.media;
    const first = await c.events.finished(
      await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'pan to the left for 1 second on image 1', files: [] }),
    );
    expect(first.job.state).toBe('succeeded');
    expect(resultOf(first.turn.media).parentId).toBe(cat!.id);

    const turn = await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'do the same to the other photo', files: [] });
    expect(turn.job?.tasks, turn.botTurn?.text).toEqual(['animate']);
    const second = await c.events.finished(turn);
    expect(second.job.state).toBe('succeeded');
    const clip = resultOf(second.turn.media);
    expect(clip).toMatchObject({ kind: 'video', parentId: astronaut!.id });
    expect(clip.durationSec).toBeCloseTo(1, 1);
  }, 240_000);
});

describe('text → video on the fake ComfyUI as a result', () => {
  let comfy: FakeComfyUi;
  let harness: Harness;
  let bot: Bot;
  beforeAll(async () => {
    comfy = await FakeComfyUi.start();
    harness = await startTestBot({ COMFYUI_URL: comfy.url, SAFETY: 'off' });
    bot = harness.running.bot;
  });
  afterAll(async () => {
    await harness?.cleanup();
    closeComfyUiClients();
    await comfy?.close();
  });

  it("records the seed and engine with the clip; Retry remakes it byte for byte; Longer asks for twice the seconds up to the model's 5 s", async () => {
    const c = await conversation(bot, 'fireworks');
    const made = await c.events.finished(await bot.handleTurn({ conversationId: c.id, user: c.user, text: 'make a 2 second video of fireworks', files: [] }));
    expect(made.job.state).toBe('succeeded');
    const clip = resultOf(made.turn.media);
    expect(clip).toMatchObject({ kind: 'video', mime: 'video/mp4' });
    expect(clip.generation).toMatchObject({ engine: 'comfyui', prompt: expect.stringMatching(/fireworks/) });
    expect(Number.isInteger(clip.generation!.seed)).toBe(true);
    expect(made.turn.actions).toEqual(expect.arrayContaining(['retry', 'longer']));
    // Recorded, not only sent: the history has the same facts.
    const recorded = (await bot.history(c.id)).turns.flatMap((t) => t.media).find((m) => m.id === clip.id)!;
    expect(recorded.generation).toEqual(clip.generation);

    const retried = await c.events.finished(await bot.repeat({ conversationId: c.id, user: c.user, mediaId: clip.id }));
    expect(retried.job.state, retried.turn.text).toBe('succeeded');
    const again = resultOf(retried.turn.media);
    expect(again.generation?.seed).toBe(clip.generation!.seed);
    expect(Buffer.compare(await fs.readFile((await bot.media(again.id)).path), await fs.readFile((await bot.media(clip.id)).path))).toBe(0);

    const longer = await c.events.finished(await bot.repeat({ conversationId: c.id, user: c.user, mediaId: clip.id, longer: true }));
    const long = resultOf(longer.turn.media);
    expect(long.generation?.seed).toBe(clip.generation!.seed);
    expect(long.durationSec!).toBeGreaterThan(clip.durationSec! * 1.6);
    // 4 s → the model's longest (121 frames at 24 fps): one step more, then no Longer.
    const longest = resultOf((await c.events.finished(await bot.repeat({ conversationId: c.id, user: c.user, mediaId: long.id, longer: true }))).turn.media);
    expect(longest.durationSec).toBeCloseTo(121 / 24, 1);
    const refused = await bot.repeat({ conversationId: c.id, user: c.user, mediaId: longest.id, longer: true });
    expect(refused.job).toBeUndefined();
    expect(refused.botTurn?.text).toBe('That clip is already as long as I make them here (5 s).');
  }, 240_000);
});
