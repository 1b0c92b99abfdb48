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

/**
 * The playground on the real bot with the fake ComfyUI as its engine, in headless Chromium: what the core
 * really sends (previews in job.progress, a batch as pictures plus a grid, generation facts) is what the page
 * shows. "draw …" shows previews, then the picture with its seed; "give me some variations" shows the grid
 * with a button per picture, and Vary under picture 3 makes variations of picture 3.
 */
(await requires('chromium')).describe('playground on the real bot with the fake ComfyUI', () => {
  let comfy: FakeComfyUi | undefined;
  let harness: Awaited<ReturnType<typeof startTestBot>> | undefined;
  let server: WebServer | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  const botTurns = () => page.locator('[data-testid="turn"][data-role="bot"]');

  async function say(text: string): Promise<void> {
    const before = await botTurns().count();
    await page.getByTestId('message-input').fill(text);
    await page.getByTestId('message-input').press('Enter');
    // The job's answer is the next bot turn; the card is gone by then.
    await botTurns().nth(before).waitFor({ timeout: 120_000 });
    await page.getByTestId('job-progress').first().waitFor({ state: 'detached', timeout: 120_000 });
  }

  async function history(): Promise<HistoryView> {
    const id = new URLSearchParams(new URL(page.url()).hash.slice(1)).get('c');
    return page.evaluate(async (conversation) => (await fetch(`/api/conversations/${conversation}`)).json(), id);
  }

  beforeAll(async () => {
    comfy = await FakeComfyUi.start();
    harness = await startTestBot({ COMFYUI_URL: comfy.url, PORT: '0' });
    server = await startWebServer({ bot: harness.running.bot, settings: harness.settings, logger: harness.running.logger });
    ({ context, page } = await openChromium(harness.dir, pageErrors));
    // Previews come and go within a job: the page records every one it shows, and whether it loaded.
    await page.addInitScript(() => {
      const seen: { sha: string; loaded: boolean }[] = [];
      Object.assign(window, { previewsSeen: seen });
      new MutationObserver(() => {
        for (const img of Array.from(document.querySelectorAll<HTMLImageElement>('[data-testid="job-preview"]'))) {
          const sha = img.dataset.sha256 ?? '';
          if (!seen.some((s) => s.sha === sha)) {
            const entry = { sha, loaded: false };
            seen.push(entry);
            img.addEventListener('load', () => {
              entry.loaded = true;
            });
          }
        }
      }).observe(document, { subtree: true, childList: true, attributes: true });
    });
  });

  afterAll(async () => {
    const steps = [() => context?.close(), () => server?.close(), () => harness?.cleanup(), () => closeComfyUiClients(), () => comfy?.close()];
    for (const step of steps)
      await Promise.resolve()
        .then(step)
        .catch((error: unknown) => console.error('cleanup failed', error));
  });

  it('draw shows previews then the picture and its seed; variations show the grid; Vary under picture 3 varies picture 3', async () => {
    await page.goto(server!.url);
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForSelector('[data-testid="connection"][data-state="live"]', { timeout: 30_000 });

    // Slow enough steps that a preview (classified by the safety filter first) arrives while the job runs.
    comfy!.stepDelayMs = 1500;
    await say('draw a red fox in the snow');
    comfy!.stepDelayMs = 1;
    const drawn = botTurns().last();
    await drawn.getByTestId('result-image').waitFor();
    expect(await drawn.getAttribute('data-tone')).not.toBe('error');
    expect(await drawn.getByTestId('seed').textContent()).toMatch(/^seed \d+$/);
    expect(await drawn.getByTestId('retry').isVisible()).toBe(true);
    const previews = (await page.evaluate(() => (window as unknown as { previewsSeen: { sha: string }[] }).previewsSeen)).map((p) => p.sha);
    expect(previews.length).toBeGreaterThan(0);
    for (const sha of previews) expect(sha).toMatch(/^[0-9a-f]{64}$/);
    expect(await page.evaluate(() => (window as unknown as { previewsSeen: { loaded: boolean }[] }).previewsSeen.some((p) => p.loaded))).toBe(true);

    await say('give me some variations');
    const items = botTurns().last().getByTestId('batch-item');
    expect(await items.count()).toBe(4);
    for (let i = 0; i < 4; i++) {
      for (const button of ['batch-upscale', 'batch-vary', 'batch-use']) expect(await items.nth(i).getByTestId(button).isVisible()).toBe(true);
      expect(await items.nth(i).getByTestId('seed').textContent()).toMatch(/^seed \d+$/);
    }
    const third = await items.nth(2).getAttribute('data-media-id');

    const before = await botTurns().count();
    await items.nth(2).getByTestId('batch-vary').click();
    // "use" answers at once; the variations job answers when it is done.
    await botTurns()
      .nth(before + 1)
      .waitFor({ timeout: 120_000 });
    await page.getByTestId('job-progress').first().waitFor({ state: 'detached', timeout: 120_000 });
    await botTurns().last().getByTestId('batch-item').nth(3).waitFor({ timeout: 120_000 });
    expect(await botTurns().last().getByTestId('batch-item').count()).toBe(4);
    const turns = (await history()).turns;
    const varied = turns.at(-1)!.media.filter((m: MediaView) => m.role === 'result');
    expect(varied).toHaveLength(4);
    for (const picture of varied) expect(picture.parentId).toBe(third);
    expect(turns.filter((t) => t.role === 'user').at(-1)!.text).toBe('give me some variations');
    expect(pageErrors).toEqual([]);
  }, 300_000);
});
