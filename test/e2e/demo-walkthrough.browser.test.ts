// The README's demo walkthrough ("The demo, in two tabs"), step by step in headless Chromium with a fake camera and
// microphone, against `trtcd start` on an empty data directory: its development app, its default gifts, two tabs.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startChild, type ServerChild } from '../helpers/child.ts';
import { CHROMIUM_MEDIA_ARGS, chromiumMissing, launchChromium, receivesFrom } from '../helpers/browser.ts';
import { tempDir } from '../helpers/server.ts';

const skip = chromiumMissing();
if (skip) console.log(`# skipping the demo walkthrough: ${skip}`);

describe('the README demo walkthrough in two tabs', { skip }, () => {
  let dir: string;
  let child: ServerChild;
  let browser: Browser;
  const errors: string[] = [];

  before(async () => {
    dir = tempDir();
    child = await startChild(['--data-dir', dir]);
    browser = await launchChromium(CHROMIUM_MEDIA_ARGS);
  });
  after(async () => {
    await browser?.close();
    await child?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Step 2 in one tab: the SecretKey the start printed, a UserID, Log in. */
  async function tab(secretKey: string, userId: string): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => errors.push(`${userId}: ${e.message}`));
    await page.goto(`${child.url}/demo/`);
    assert.equal(await page.inputValue('#sdkappid'), '1400000001');
    await page.fill('#secretkey', secretKey);
    await page.fill('#userid', userId);
    await page.click('#login');
    await page.locator('#conn-status').filter({ hasText: `connected as ${userId}` }).waitFor();
    return page;
  }

  it('room, call, live room with a message and a gift', { timeout: 120_000 }, async () => {
    // 1. npm start printed the development app and its gifts.
    const out = child.output();
    assert.match(out, /SDKAppID\s+1400000001/);
    assert.match(out, /Gifts\s+the default catalogue/);
    const secretKey = /SecretKey\s+([0-9a-f]{64})/.exec(out)![1]!;

    // 2. Two tabs, alice and bob.
    const alice = await tab(secretKey, 'alice');
    const bob = await tab(secretKey, 'bob');

    // 3. Both enter demo-room as anchors; alice publishes; bob receives her.
    assert.equal(await alice.inputValue('#room-id'), 'demo-room');
    for (const page of [alice, bob]) {
      await page.click('#room-enter');
      await page.locator('#room-state').filter({ hasText: 'in room demo-room as anchor' }).waitFor();
    }
    await alice.click('#media-publish');
    await receivesFrom(bob, 'alice', 15_000);

    // 4. Alice calls bob; he accepts; both are in the call; alice hangs up; both see NormalEnd.
    await alice.fill('#callee', 'bob');
    await alice.click('#call');
    await bob.locator('#incoming').waitFor({ state: 'visible' });
    await bob.click('#accept');
    for (const page of [alice, bob]) await page.locator('#call-status').filter({ hasText: /^in call$/ }).waitFor();
    await receivesFrom(bob, 'alice', 15_000);
    await alice.click('#hangup');
    for (const page of [alice, bob]) await page.locator('#call-status').filter({ hasText: /^ended: NormalEnd$/ }).waitFor();
    assert.equal(await bob.isDisabled('#hangup'), true);

    // 5. Alice creates demo-live and is live; bob enters as audience, watches, sends a message and a rose.
    assert.equal(await alice.inputValue('#live-id'), 'demo-live');
    await alice.click('#live-create');
    await alice.locator('#live-info').filter({ hasText: 'owner alice (you)' }).waitFor();
    await alice.locator('#room-state').filter({ hasText: 'in room demo-live as anchor' }).waitFor();
    await bob.click('#live-enter');
    await bob.locator('#live-info').filter({ hasText: 'owner alice' }).waitFor();
    await bob.locator('#room-state').filter({ hasText: 'in room demo-live as audience' }).waitFor();
    assert.equal(await bob.inputValue('#room-role'), 'audience', 'the role picker follows the room');
    await receivesFrom(bob, 'alice', 15_000);
    await bob.locator('#gifts').filter({ hasText: 'Rose (rose, 1 coin)' }).waitFor();
    await bob.fill('#live-text', 'hello alice');
    await bob.click('#live-send');
    await bob.fill('#gift-id', 'rose');
    await bob.click('#gift-send');
    for (const page of [alice, bob]) {
      await page.locator('#live-feed li[data-kind="text"]').filter({ hasText: 'bob: hello alice' }).waitFor();
      await page.locator('#live-feed li[data-kind="gift"]').filter({ hasText: 'bob sent 1 × Rose to alice' }).waitFor();
    }
    // Nothing in the lists is raw JSON.
    for (const page of [alice, bob]) {
      for (const list of ['#room-feed', '#live-feed', '#log']) {
        for (const text of await page.locator(`${list} li`).allTextContents()) assert.doesNotMatch(text, /[{[]"/, `${list}: ${text}`);
      }
    }
    assert.deepEqual(await alice.locator('#log li.err').allTextContents(), []);
    assert.deepEqual(await bob.locator('#log li.err').allTextContents(), []);
    assert.deepEqual(errors, []);
  });
});
