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
 * The playground in a real headless Chromium against the real bot: upload, ask, watch the job, see the
 * result, undo. Everything the page does goes through the documented HTTP API.
 */
async function discPng(file: string): Promise<void> {
  const width = 320;
  const height = 240;
  const disc = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><circle cx="160" cy="120" r="70" fill="#d62828"/></svg>`,
  );
  const png = await sharp({ create: { width, height, channels: 3, background: '#9ad1f5' } })
    .composite([{ input: disc }])
    .png()
    .toBuffer();
  writeFileSync(file, png);
}

(await requires('chromium')).describe('web playground in Chromium', () => {
  let dir: string;
  let core: RunningBot | undefined;
  let server: WebServer | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vitron-web-e2e-'));
    const settings = loadSettings({ DATA_DIR: dir, PGLITE_DIR: 'memory://', PORT: '0', LOG_LEVEL: 'silent' });
    core = await createBot(settings);
    server = await startWebServer({ bot: core.bot, settings, logger: core.logger });
    ({ context, page } = await openChromium(dir, pageErrors));
    await discPng(path.join(dir, 'disc.png'));
  });

  afterAll(async () => {
    // Every step runs even if an earlier one throws, so a failed test leaves no browser or server behind.
    const steps = [() => context?.close(), () => server?.close(), () => core?.close()];
    for (const step of steps)
      await Promise.resolve()
        .then(step)
        .catch((error: unknown) => console.error('cleanup failed', error));
    rmSync(dir, { recursive: true, force: true });
  });

  it('uploads an image, cuts out the subject with live progress, and undoes it', async () => {
    await page.goto(server!.url);
    await page.waitForSelector('body[data-ready="true"]');
    await page.getByTestId('empty-help').waitFor({ state: 'visible', timeout: 60_000 });

    await page.getByTestId('file-input').setInputFiles(path.join(dir, 'disc.png'));
    await page.getByTestId('attachment').first().waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('attachment').count()).toBe(1);
    await page.getByTestId('message-input').fill('cut out the subject');
    await page.getByTestId('message-input').press('Enter');

    const userTurn = page.locator('[data-testid="turn"][data-role="user"]').last();
    await userTurn.getByTestId('upload-image').waitFor({ timeout: 60_000 });
    expect(await userTurn.getByTestId('turn-text').textContent()).toBe('cut out the subject');

    // The job card shows while the worker runs, then gives way to the result.
    await page.getByTestId('job-progress').first().waitFor({ timeout: 60_000 });
    const result = page.locator('[data-testid="turn"][data-role="bot"] [data-testid="result-image"]').last();
    await result.waitFor({ timeout: 240_000 });
    await page.getByTestId('job-progress').first().waitFor({ state: 'detached', timeout: 60_000 });
    expect(await imageLoaded(result)).toBe(true);
    const resultTurn = page.locator('[data-testid="turn"][data-role="bot"]').last();
    expect(await resultTurn.getAttribute('data-tone')).not.toBe('error');

    const botTurnsBefore = await page.locator('[data-testid="turn"][data-role="bot"]').count();
    await resultTurn.getByTestId('action-undo').click();
    await page.locator('[data-testid="turn"][data-role="bot"]').nth(botTurnsBefore).waitFor({ timeout: 120_000 });
    const undoTurn = page.locator('[data-testid="turn"][data-role="bot"]').last();
    expect(await undoTurn.getAttribute('data-tone')).not.toBe('error');
    expect(await undoTurn.getByTestId('turn-text').textContent()).toMatch(/back|undo|undid|before/i);

    expect(pageErrors).toEqual([]);
  }, 300_000);
});
