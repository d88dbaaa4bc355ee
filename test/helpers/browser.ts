// Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, and the demo page's login steps.
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium';
/** Flags for a quiet, sandbox-less headless run on a CI machine. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A reason to skip browser tests, or false when Chromium is installed. */
export function chromiumMissing(): string | false {
  return existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser tests`;
}

/** Launches headless Chromium. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 15_000 });
}

/** A demo page in a fresh browser context, logged in as `userId` with a UserSig it makes from the SecretKey; collects page errors. */
export async function demoLogin(browser: Browser, baseUrl: string, app: { sdkAppId: number; secretKey: string }, userId: string): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${baseUrl}/demo/`);
  await page.fill('#sdkappid', String(app.sdkAppId));
  await page.fill('#userid', userId);
  await page.fill('#secretkey', app.secretKey);
  await page.click('#login');
  await page.locator('#conn-status').filter({ hasText: `connected as ${userId}` }).waitFor();
  return { page, errors };
}
