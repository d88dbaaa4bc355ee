// The demo page in headless Chromium against a CLI-started trtcd: the in-page UserSig, the bundled SDK over a real
// WebSocket, and two users meeting in a TRTC room.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { ServerChild } from '../helpers/child.ts';
import { chromiumMissing, demoLogin, startDemoRig, type DemoRig } from '../helpers/browser.ts';

const skip = chromiumMissing();
if (skip) console.log(`# skipping the demo browser tests: ${skip}`);

describe('demo page in Chromium', { skip }, () => {
  let rig: DemoRig;
  let child: ServerChild;
  let browser: Browser;
  let app: { sdkAppId: number; secretKey: string };

  before(async () => {
    rig = await startDemoRig();
    ({ child, browser, app } = rig);
  });
  after(() => rig?.close());

  it('two users log in with in-page UserSigs, meet in a room and exchange a message', { timeout: 20_000 }, async () => {
    const a = await demoLogin(browser, child.url, app, 'alice');
    const b = await demoLogin(browser, child.url, app, 'bob');
    for (const { page } of [a, b]) {
      await page.fill('#room-id', 'demo-room');
      await page.click('#room-enter');
    }
    // Alice sees Bob enter; Bob's list (the reply's members) has both.
    await a.page.locator('#room-members').filter({ hasText: 'alice, bob' }).waitFor();
    await b.page.locator('#room-members').filter({ hasText: 'alice, bob' }).waitFor();
    await a.page.locator('#room-feed li').filter({ hasText: 'bob entered (anchor)' }).waitFor();
    await b.page.fill('#room-text', 'hello from bob');
    await b.page.click('#room-send');
    await a.page.locator('#room-feed li[data-from="bob"]').filter({ hasText: 'bob: hello from bob' }).waitFor();
    await b.page.locator('#room-feed li').filter({ hasText: 'me: hello from bob (to 1)' }).waitFor();
    // Bob logs out: Alice sees him leave.
    await b.page.click('#logout');
    await b.page.locator('#conn-status').filter({ hasText: 'logged out' }).waitFor();
    await a.page.locator('#room-members').filter({ hasText: /^alice$/ }).waitFor();
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  it('shows a refused login with its error code', { timeout: 20_000 }, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${child.url}/demo/`);
    assert.equal(await page.inputValue('#server'), `${child.url.replace(/^http/, 'ws')}/rtc`);
    await page.fill('#sdkappid', String(app.sdkAppId));
    await page.fill('#userid', 'mallory');
    await page.fill('#secretkey', 'f'.repeat(64));
    await page.click('#login');
    await page.locator('#conn-status').filter({ hasText: 'login failed: 70009' }).waitFor();
    assert.equal(await page.isEnabled('#login'), true);
    await context.close();
  });
});
