import path from 'node:path';
import sharp from 'sharp';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openChromium } from '../helpers/chromium.ts';
import { requires } from '../helpers/prerequisites.ts';
import { startWebServer } from '../../adapters/web/server.ts';
import type { WebServer } from '../../adapters/web/server.ts';
import type { HistoryView, MediaView } from '../../src/app/bot-api.ts';
import { closeComfyUiClients } from '../../src/vision/engines/comfyui-engine.ts';
import { FakeComfyUi } from '../fakes/comfyui/server.ts';
import { startTestBot } from '../helpers/bot-harness.ts';
import { testdata } from '../helpers/media-fixtures.ts';

/**
 * Video end to end in the playground: the real bot with the fake ComfyUI (real MP4 / animated WebP clips made
 * by ffmpeg) as its engine, in headless Chromium. "make a 5 second video of fireworks" (text → video), "make it
 * look like it's snowing" on that clip (video → video) and "animate it" on an uploaded photo (image → video),
 * each with the job card while it runs, then the clip with its seed, Retry and — while its length allows —
 * Longer, which makes the same clip with more seconds.
 */
(await requires('chromium', 'testdata')).describe('videos in the playground on the real bot with the fake ComfyUI', () => {
  let comfy: FakeComfyUi | undefined;
  let harness: Awaited<ReturnType<typeof startTestBot>> | undefined;
  let server: WebServer | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  const botTurns = () => page.locator('[data-testid="turn"][data-role="bot"]');

  /** Sends what is in the composer and waits for the job's answer: the card shows, then the next bot turn. */
  async function send(text: string): Promise<void> {
    const before = await botTurns().count();
    await page.getByTestId('message-input').fill(text);
    await page.getByTestId('message-input').press('Enter');
    await answered(before);
  }

  async function answered(before: number): Promise<void> {
    await page
      .getByTestId('job-progress')
      .first()
      .waitFor({ timeout: 60_000 })
      .catch(async (error: unknown) => {
        throw new Error(`no job card; the last bot turn says: ${await botTurns().last().textContent()}`, { cause: error });
      });
    await botTurns().nth(before).waitFor({ timeout: 120_000 });
    await page.getByTestId('job-progress').first().waitFor({ state: 'detached', timeout: 120_000 });
  }

  async function history(): Promise<HistoryView> {
    const id = new URLSearchParams(new URL(page.url()).hash.slice(1)).get('c');
    return page.evaluate(async (conversation) => (await fetch(`/api/conversations/${conversation}`)).json(), id);
  }

  async function shownClip(): Promise<MediaView> {
    const video = botTurns().last().getByTestId('result-video');
    if ((await video.count()) === 0) throw new Error(`the last bot turn shows no clip; it says: ${await botTurns().last().textContent()}`);
    const id = await video.getAttribute('data-media-id');
    const clip = (await history()).turns.flatMap((t) => t.media).find((m) => m.id === id);
    if (!clip) throw new Error(`the last bot turn shows no recorded clip (${id})`);
    return clip;
  }

  async function servedAs(clip: MediaView): Promise<string> {
    return page.evaluate(async (url) => (await fetch(url)).headers.get('content-type') ?? '', clip.url);
  }

  beforeAll(async () => {
    comfy = await FakeComfyUi.start();
    harness = await startTestBot({ COMFYUI_URL: comfy.url, PORT: '0' });
    server = await startWebServer({ bot: harness.running.bot, settings: harness.settings, logger: harness.running.logger });
    ({ context, page } = await openChromium(harness.dir, pageErrors));
    await sharp(testdata('chelsea.png')).resize({ width: 320 }).png().toFile(path.join(harness.dir, 'cat.png'));
  });

  afterAll(async () => {
    const steps = [() => context?.close(), () => server?.close(), () => harness?.cleanup(), () => closeComfyUiClients(), () => comfy?.close()];
    for (const step of steps)
      await Promise.resolve()
        .then(step)
        .catch((error: unknown) => console.error('cleanup failed', error));
  });

  it('text → video, then snow on that clip, then "animate it" on a photo and Longer: each clip shown with its seed and buttons', async () => {
    await page.goto(server!.url);
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForSelector('[data-testid="connection"][data-state="live"]', { timeout: 30_000 });
    // Slow enough steps that the job card is seen while the engine works.
    comfy!.stepDelayMs = 300;

    await send('make a 5 second video of fireworks');
    const fireworks = await shownClip();
    expect(await botTurns().last().getAttribute('data-tone')).not.toBe('error');
    expect(fireworks).toMatchObject({ kind: 'video', mime: 'video/mp4', generation: { engine: 'comfyui' } });
    expect(fireworks.durationSec).toBeCloseTo(121 / 24, 1);
    expect(await servedAs(fireworks)).toBe('video/mp4');
    expect(await botTurns().last().getByTestId('seed').textContent()).toBe(`seed ${fireworks.generation!.seed}`);
    expect(await botTurns().last().getByTestId('retry').isVisible()).toBe(true);
    // 5 s is the video model's longest clip: no Longer.
    expect(await botTurns().last().getByTestId('action-longer').count()).toBe(0);

    await send("make it look like it's snowing");
    const snowy = await shownClip();
    expect(snowy).toMatchObject({ kind: 'video', mime: 'video/mp4', parentId: fireworks.id, generation: { engine: 'comfyui' } });
    expect(await botTurns().last().getByTestId('turn-text').textContent()).toMatch(/snow/i);

    await page.getByTestId('file-input').setInputFiles(path.join(harness!.dir, 'cat.png'));
    await page.getByTestId('attachment').first().waitFor({ timeout: 60_000 });
    await send('animate it');
    const animated = await shownClip();
    const upload = (await history()).turns.filter((t) => t.role === 'user').at(-1)!.media[0]!;
    expect(animated).toMatchObject({ kind: 'video', parentId: upload.id, generation: { engine: 'comfyui' } });
    expect(await botTurns().last().getByTestId('retry').isVisible()).toBe(true);

    const before = await botTurns().count();
    await botTurns().last().getByTestId('action-longer').click();
    await answered(before);
    const longer = await shownClip();
    expect(longer).toMatchObject({ kind: 'video', parentId: upload.id });
    expect(longer.generation?.seed).toBe(animated.generation!.seed);
    expect(longer.durationSec!).toBeGreaterThan(animated.durationSec! * 1.5);
    expect((await history()).turns.filter((t) => t.role === 'user').at(-1)!.text).toBe('longer');
    expect(pageErrors).toEqual([]);
  }, 300_000);
});
