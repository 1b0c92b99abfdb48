import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';

/** Debian's Chromium, driven by playwright-core (DESIGN.md, Testing). */
export const CHROMIUM = '/usr/bin/chromium';

/** Locally a missing Chromium skips a browser test with a message; in CI it fails the test. */
export function skipWithoutChromium(what: string): boolean {
  const skip = !existsSync(CHROMIUM) && !process.env.CI;
  if (skip) console.warn(`Skipping ${what}: ${CHROMIUM} is missing (apt-get install -y chromium).`);
  return skip;
}

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
