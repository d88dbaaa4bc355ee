// Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, and the demo page's login steps.
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { runCli, startChild, type ServerChild } from './child.ts';
import { genUserSig } from '../../src/auth/usersig.ts';
import { restUrl, tempDir } from './server.ts';

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium';
/** Flags for a quiet, sandbox-less headless run on a CI machine. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Fake camera and microphone, allowed without a prompt, for WebRTC tests. */
export const CHROMIUM_MEDIA_ARGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/** A reason to skip browser tests, or false when Chromium is installed. */
export function chromiumMissing(): string | false {
  return existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser tests`;
}

/** Launches headless Chromium. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs], headless: true, timeout: 15_000 });
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

/** A CLI-started trtcd on a fresh data directory with one app, and headless Chromium, for the demo page's tests. */
export interface DemoRig {
  child: ServerChild;
  browser: Browser;
  app: { sdkAppId: number; secretKey: string };
  /** A REST v4 command as the administrator; fails the test unless ErrorCode is 0. */
  rest(command: string, body: unknown): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Starts a DemoRig. */
export async function startDemoRig(o: { media?: boolean } = {}): Promise<DemoRig> {
  const dir = tempDir();
  const created = runCli(['app', 'create', '--json', '--data-dir', dir]);
  assert.equal(created.status, 0, created.stderr);
  const app = JSON.parse(created.stdout) as { sdkAppId: number; secretKey: string };
  const child = await startChild(['--data-dir', dir]);
  const browser = await launchChromium(o.media ? CHROMIUM_MEDIA_ARGS : []);
  return {
    child,
    browser,
    app,
    rest: async (command, body) => {
      const usersig = genUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, userId: 'administrator', expire: 3600 });
      const q = { sdkappid: String(app.sdkAppId), identifier: 'administrator', usersig, random: String(Math.floor(Math.random() * 2 ** 32)), contenttype: 'json' };
      const res = await fetch(restUrl(child.url, command, q), { method: 'POST', body: JSON.stringify(body) });
      const env = (await res.json()) as Record<string, unknown>;
      assert.equal(env.ErrorCode, 0, `${command}: ${JSON.stringify(env)}`);
      return env;
    },
    close: async () => {
      await browser.close();
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What the demo reports of one received stream kind. */
export interface Inbound {
  userId: string;
  stream: string;
  kind: 'audio' | 'video';
  bytesReceived: number;
  framesDecoded: number;
}

export function inbound(page: Page): Promise<Inbound[]> {
  return page.evaluate(() => (window as unknown as { trtcdDemo: { inbound(): Promise<Inbound[]> } }).trtcdDemo.inbound());
}

/** Totals of the audio and video received from `from`. */
async function received(page: Page, from: string): Promise<{ audioBytes: number; videoBytes: number; frames: number }> {
  const rows = (await inbound(page)).filter((r) => r.userId === from);
  const audio = rows.find((r) => r.kind === 'audio');
  const video = rows.find((r) => r.kind === 'video');
  return { audioBytes: audio?.bytesReceived ?? 0, videoBytes: video?.bytesReceived ?? 0, frames: video?.framesDecoded ?? 0 };
}

/** Waits (≤ `ms`) until `page` has decoded video frames and audio bytes from `from`, then checks both keep growing. */
export async function receivesFrom(page: Page, from: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  let first = await received(page, from);
  while (!(first.frames > 0 && first.audioBytes > 0)) {
    assert.ok(Date.now() < deadline, `no decoded frames and audio from ${from} within ${ms} ms: ${JSON.stringify(first)}`);
    await page.waitForTimeout(200);
    first = await received(page, from);
  }
  let next = first;
  while (!(next.frames > first.frames && next.audioBytes > first.audioBytes && next.videoBytes > first.videoBytes)) {
    assert.ok(Date.now() < deadline + 5000, `media from ${from} stopped growing: ${JSON.stringify([first, next])}`);
    await page.waitForTimeout(200);
    next = await received(page, from);
  }
}
