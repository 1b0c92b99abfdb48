import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { imageLoaded, openChromium } from '../helpers/chromium.ts';
import { requires } from '../helpers/prerequisites.ts';
import { startWebServer } from '../../adapters/web/server.ts';
import type { WebServer } from '../../adapters/web/server.ts';
import { solidImage } from '../helpers/media-fixtures.ts';
import { FakeBot } from './fake-bot.ts';

/**
 * Generated pictures in the playground, in a real headless Chromium against the fake bot (the test decides
 * when previews and results arrive): the newest preview shows live in the job card and gives way to the
 * result; a single picture shows its seed and Retry; a batch shows each picture with Upscale / Vary / Use,
 * and Vary under picture 3 picks picture 3, then asks for variations, as a user would type it.
 */
(await requires('chromium')).describe('playground: generated pictures in Chromium', () => {
  let dir: string;
  let bot: FakeBot;
  let server: WebServer | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  const botTurns = () => page.locator('[data-testid="turn"][data-role="bot"]');
  const userTurns = () => page.locator('[data-testid="turn"][data-role="user"]');

  /** Says `text` in the composer and answers the id of the job the fake bot starts for it. */
  async function say(text: string): Promise<string> {
    const queued = bot.nextEvent('job.queued');
    await page.getByTestId('message-input').fill(text);
    await page.getByTestId('message-input').press('Enter');
    return (await queued).job.id;
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vitron-web-generation-'));
    bot = new FakeBot();
    bot.textJobs = /^(draw|give me some variations|upscale it)/;
    server = await startWebServer({ bot, settings: { HOST: '127.0.0.1', PORT: 0, MAX_UPLOAD_BYTES: 1024 * 1024 } });
    ({ context, page } = await openChromium(dir, pageErrors));
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]');
    // Events are live only: wait until the page listens before the fake bot says anything.
    await page.waitForSelector('[data-testid="connection"][data-state="live"]', { timeout: 30_000 });
  });

  afterAll(async () => {
    // Every step runs even if an earlier one throws, so a failed test leaves no browser or server behind.
    const steps = [() => context?.close(), () => server?.close(), () => bot?.close()];
    for (const step of steps)
      await Promise.resolve()
        .then(step)
        .catch((error: unknown) => console.error('cleanup failed', error));
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the newest preview while a picture is made, then the picture with its seed and a Retry that repeats it', async () => {
    const jobId = await say('draw a red fox in the snow');
    const card = page.locator(`[data-testid="job-progress"][data-job-id="${jobId}"]`);
    await card.waitFor({ timeout: 60_000 });
    // Under the request it works on, whichever of the POST answer and the job.queued event came first.
    await page.locator(`[data-testid="turn"][data-role="user"] + [data-testid="job-progress"][data-job-id="${jobId}"]`).waitFor({ timeout: 60_000 });
    expect(await card.getByTestId('job-preview').count()).toBe(0);

    const first = bot.addPreview(await solidImage(64, 64, '#553322'));
    bot.progress(jobId, 0.25, 'drawing', first);
    const preview = card.getByTestId('job-preview');
    await card.locator(`[data-testid="job-preview"][data-sha256="${first.sha256}"]`).waitFor({ timeout: 60_000 });
    expect(await imageLoaded(preview)).toBe(true);

    const second = bot.addPreview(await solidImage(64, 64, '#aa5522'));
    bot.progress(jobId, 0.5, 'drawing', second);
    await card.locator(`[data-testid="job-preview"][data-sha256="${second.sha256}"]`).waitFor({ timeout: 60_000 });
    expect(await preview.getAttribute('src')).toBe(`/api/previews/${second.sha256}`);
    // A step without a preview keeps showing the newest one.
    bot.progress(jobId, 0.75, 'drawing');
    await card.getByTestId('job-note').filter({ hasText: '75%' }).waitFor({ timeout: 60_000 });
    expect(await preview.getAttribute('data-sha256')).toBe(second.sha256);
    expect(await imageLoaded(preview)).toBe(true);

    const picture = bot.addMedia(await solidImage(64, 64, '#d62828'), 'image/png', 'result', {
      generation: { prompt: 'a red fox in the snow', seed: 424242, steps: 4, width: 64, height: 64, engine: 'fake', model: 'fake-model' },
    });
    bot.finish(jobId, 'Here is a red fox in the snow.', [picture]);
    await page.getByTestId('job-preview').first().waitFor({ state: 'detached', timeout: 60_000 });
    const result = botTurns().last();
    expect(await imageLoaded(result.getByTestId('result-image'))).toBe(true);
    expect(await result.getByTestId('seed').textContent()).toBe('seed 424242');

    // A preview classified after the last step arrives after job.finished: it must not bring the card back.
    bot.progress(jobId, 1, 'drawing', bot.addPreview(await solidImage(64, 64, '#112233')));
    await page.waitForTimeout(500);
    expect(await page.getByTestId('job-progress').count()).toBe(0);

    const repeated = bot.nextCall('repeat', bot.calls.length);
    await result.getByTestId('retry').click();
    expect((await repeated)[0]).toMatchObject({ mediaId: picture.id });
    expect(bot.calls.filter((c) => c.method === 'repeat')).toHaveLength(1);
    await botTurns()
      .last()
      .getByTestId('turn-text')
      .filter({ hasText: `Repeating ${picture.id}.` })
      .waitFor({ timeout: 60_000 });
    expect(await botTurns().last().getByTestId('turn-text').textContent()).toBe(`Repeating ${picture.id}.`);
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('shows a batch as a grid of its pictures with Upscale / Vary / Use, and Vary under picture 3 varies picture 3', async () => {
    const jobId = await say('give me some variations');
    const colors = ['#d62828', '#2a9d8f', '#e9c46a', '#264653'];
    const pictures = await Promise.all(colors.map((color) => solidImage(64, 64, color)));
    const media = bot.addBatch(pictures, await solidImage(128, 128, '#ffffff'));
    const [third, grid] = [media[2]!, media[4]!];
    bot.finish(jobId, 'Here are 4 variations.', media);

    const batch = botTurns().last().getByTestId('batch-grid');
    await batch.waitFor({ timeout: 60_000 });
    const items = batch.getByTestId('batch-item');
    expect(await items.count()).toBe(4);
    for (let i = 0; i < 4; i++) {
      const item = items.nth(i);
      expect(await item.getAttribute('data-media-id')).toBe(media[i]!.id);
      expect(await imageLoaded(item.getByTestId('batch-image'))).toBe(true);
      expect(await item.getByTestId('batch-upscale').textContent()).toBe('Upscale');
      expect(await item.getByTestId('batch-vary').textContent()).toBe('Vary');
      expect(await item.getByTestId('batch-use').textContent()).toBe('Use');
      expect(await item.getByTestId('seed').textContent()).toBe(`seed ${1000 + i}`);
    }
    // The grid image is what chat platforms post; here the pictures stand on their own.
    expect(await page.locator(`img[data-media-id="${grid.id}"]`).count()).toBe(0);

    const callsBefore = bot.calls.length;
    const userTurnsBefore = await userTurns().count();
    await items.nth(2).getByTestId('batch-vary').click();
    await bot.nextCall('handleTurn', callsBefore);
    const sent = bot.calls.slice(callsBefore).filter((c) => c.method === 'act' || c.method === 'handleTurn');
    expect(sent.map((c) => c.method)).toEqual(['act', 'handleTurn']);
    expect(sent[0]!.args[0]).toMatchObject({ action: 'use', mediaId: third.id });
    expect(sent[1]!.args[0]).toMatchObject({ text: 'give me some variations', files: [] });
    // The page shows both steps as turns of the conversation, and the variations job starts.
    await userTurns()
      .nth(userTurnsBefore + 1)
      .waitFor({ timeout: 60_000 });
    expect(await userTurns().count()).toBe(userTurnsBefore + 2);
    expect(await userTurns().last().getByTestId('turn-text').textContent()).toBe('give me some variations');
    await page.locator(`[data-testid="job-progress"][data-job-id="${[...bot.jobs.keys()].at(-1)}"]`).waitFor({ timeout: 60_000 });
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
