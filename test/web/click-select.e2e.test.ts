import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { imageLoaded, openChromium } from '../helpers/chromium.ts';
import { requires } from '../helpers/prerequisites.ts';
import { startWebServer } from '../../adapters/web/server.ts';
import type { WebServer } from '../../adapters/web/server.ts';
import { createBot } from '../../src/app/create-bot.ts';
import type { RunningBot } from '../../src/app/create-bot.ts';
import { loadSettings } from '../../src/config/settings.ts';

/**
 * Alt+click on an image in the playground is a point prompt: the page sends "segment at X,Y" in the image's
 * own pixels, scaled from the size it is displayed at. A plain click sends nothing. Alt+drag draws a box and
 * puts a question about it in the message box.
 */
(await requires('chromium')).describe('playground: Alt+click and Alt+drag on an uploaded image, with no segmentation model installed', () => {
  let dir: string;
  let core: RunningBot | undefined;
  let server: WebServer | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vitron-web-click-'));
    // MODELS_DIR is DATA_DIR/models, empty: segment_at answers with the pull command, so no model runs.
    const settings = loadSettings({ DATA_DIR: dir, PGLITE_DIR: 'memory://', PORT: '0', LOG_LEVEL: 'silent' });
    core = await createBot(settings);
    server = await startWebServer({ bot: core.bot, settings, logger: core.logger });
    ({ context, page } = await openChromium(dir, pageErrors));
    // 640×480: the upload is shown at most 240 px wide, so the click must be scaled to image pixels.
    writeFileSync(
      path.join(dir, 'wide.png'),
      await sharp({ create: { width: 640, height: 480, channels: 3, background: '#9ad1f5' } })
        .png()
        .toBuffer(),
    );
  });

  afterAll(async () => {
    const steps = [() => context?.close(), () => server?.close(), () => core?.close()];
    for (const step of steps)
      await Promise.resolve()
        .then(step)
        .catch((error: unknown) => console.error('cleanup failed', error));
    rmSync(dir, { recursive: true, force: true });
  });

  it('Alt+click sends "segment at X,Y" in image pixels (a plain click sends nothing), and the bot answers that it cannot select yet; Alt+drag puts "what is in the box X1,Y1,X2,Y2" in the message box unsent, and sent, it gets the no-captioning-model answer', async () => {
    await page.goto(server!.url);
    await page.waitForSelector('body[data-ready="true"]');
    await page.getByTestId('file-input').setInputFiles(path.join(dir, 'wide.png'));
    await page.getByTestId('message-input').fill('segment everything');
    await page.getByTestId('message-input').press('Enter');
    const userTurns = page.locator('[data-testid="turn"][data-role="user"]');
    const upload = userTurns.last().getByTestId('upload-image');
    await upload.waitFor({ timeout: 60_000 });
    expect(await imageLoaded(upload)).toBe(true);
    // The machine is shared and slow at times: generous waits, never timed assertions.
    await page.locator('[data-testid="turn"][data-role="bot"]').first().waitFor({ timeout: 150_000 });

    const shown = (await upload.boundingBox())!;
    expect(shown.width).toBeLessThan(640);
    const turnsBefore = await userTurns.count();
    // A plain click first: had it sent anything, that would be the next user turn (checked below).
    await upload.click({ position: { x: shown.width / 2, y: shown.height / 2 } });

    // A quarter across and three quarters down the displayed image = (160, 360) in the 640×480 image.
    await upload.click({ modifiers: ['Alt'], position: { x: shown.width / 4, y: (shown.height * 3) / 4 } });
    await userTurns.nth(turnsBefore).waitFor({ timeout: 60_000 });
    expect(await userTurns.count()).toBe(turnsBefore + 1);
    const sent = (await userTurns.last().getByTestId('turn-text').textContent()) ?? '';
    const match = /^segment at (\d+),(\d+)$/.exec(sent);
    expect(match, sent).not.toBeNull();
    expect(Math.abs(Number(match![1]) - 160)).toBeLessThanOrEqual(3);
    expect(Math.abs(Number(match![2]) - 360)).toBeLessThanOrEqual(3);

    // Without the model, the bot says the server cannot do it yet (the pull command is the operator's).
    await page
      .locator('[data-testid="turn"][data-role="bot"]')
      .last()
      .filter({ hasText: "This server can't select the object at a point yet" })
      .waitFor({ timeout: 150_000 });
    expect(await userTurns.count()).toBe(turnsBefore + 1);

    // Alt+drag from a quarter to three quarters across and down = the box (160,120)–(480,360): it is put in
    // the message box to send or reword, not sent, and the drag's own click is no point prompt.
    const box = (await page.getByTestId('upload-image').last().boundingBox())!;
    await page.keyboard.down('Alt');
    await page.mouse.move(box.x + box.width / 4, box.y + box.height / 4);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 4 });
    expect(await page.getByTestId('select-band').isVisible()).toBe(true);
    await page.mouse.move(box.x + (box.width * 3) / 4, box.y + (box.height * 3) / 4, { steps: 4 });
    await page.mouse.up();
    await page.keyboard.up('Alt');
    const asked = await page.getByTestId('message-input').inputValue();
    const corners = /^what is in the box (\d+),(\d+),(\d+),(\d+)$/.exec(asked);
    expect(corners, asked).not.toBeNull();
    for (const [i, expected] of [160, 120, 480, 360].entries()) expect(Math.abs(Number(corners![i + 1]) - expected)).toBeLessThanOrEqual(3);
    expect(await page.getByTestId('select-band').count()).toBe(0);
    expect(await userTurns.count()).toBe(turnsBefore + 1);
    // Sent, it is a region caption: without Florence-2 or an endpoint the detectors say what is in the box.
    await page.getByTestId('message-input').press('Enter');
    await page.locator('[data-testid="turn"][data-role="bot"]').last().filter({ hasText: 'I have no captioning model here' }).waitFor({ timeout: 150_000 });
    expect(pageErrors).toEqual([]);
  }, 420_000);
});
