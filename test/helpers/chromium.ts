import path from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { CHROMIUM } from './prerequisites.ts';

/** A headless Chromium with its profile in `dir`, and its first page collecting page errors into `pageErrors`. */
export async function openChromium(dir: string, pageErrors: string[]): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chromium.launchPersistentContext(path.join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return { context, page };
}

/**
 * Whether the <img> shows a picture: waits for its load or error event when it is still loading (a new src),
 * rather than polling on a clock, so a slow machine only makes it later. Bounded by the test's timeout.
 */
export async function imageLoaded(image: Locator): Promise<boolean> {
  await image.waitFor({ state: 'attached', timeout: 60_000 });
  return image.evaluate((img: HTMLImageElement) =>
    img.complete
      ? img.naturalWidth > 0
      : new Promise<boolean>((resolve) => {
          img.addEventListener('load', () => resolve(img.naturalWidth > 0), { once: true });
          img.addEventListener('error', () => resolve(false), { once: true });
        }),
  );
}
