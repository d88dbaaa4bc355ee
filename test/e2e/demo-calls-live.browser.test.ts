// The demo page's call and live panels in headless Chromium against a CLI-started trtcd: A calls B, B accepts, A hangs
// up; B watches a live room created through the REST API and sees a gift sent with REST send_gift.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { ServerChild } from '../helpers/child.ts';
import { chromiumMissing, demoLogin, startDemoRig, type DemoRig } from '../helpers/browser.ts';

const skip = chromiumMissing();
if (skip) console.log(`# skipping the demo browser tests: ${skip}`);

describe('demo page calls and live rooms in Chromium', { skip }, () => {
  let rig: DemoRig;
  let child: ServerChild;
  let browser: Browser;
  let app: { sdkAppId: number; secretKey: string };

  const rest = (command: string, body: unknown) => rig.rest(command, body);

  before(async () => {
    rig = await startDemoRig();
    ({ child, browser, app } = rig);
  });
  after(() => rig?.close());

  it('A calls B, B accepts, both are in the call, A hangs up: both see NormalEnd', { timeout: 20_000 }, async () => {
    const a = await demoLogin(browser, child.url, app, 'caller1');
    const b = await demoLogin(browser, child.url, app, 'callee1');
    await a.page.fill('#callee', 'callee1');
    await a.page.selectOption('#media', 'Video');
    await a.page.click('#call');
    await a.page.locator('#call-status').filter({ hasText: /^ringing$/ }).waitFor();
    await b.page.locator('#incoming').waitFor({ state: 'visible' });
    assert.equal(await b.page.textContent('#incoming-text'), 'caller1 is calling (Video)');
    assert.equal(await b.page.textContent('#call-status'), 'ringing');
    await b.page.click('#accept');
    for (const { page } of [a, b]) await page.locator('#call-status').filter({ hasText: /^in call$/ }).waitFor();
    await b.page.locator('#incoming').waitFor({ state: 'hidden' });
    await a.page.click('#hangup');
    for (const { page } of [a, b]) await page.locator('#call-status').filter({ hasText: /^ended: NormalEnd$/ }).waitFor();
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  it('B enters a live room made with create_room and sees a gift sent with send_gift, then its own message', { timeout: 20_000 }, async () => {
    await rest('im_open_login_svc/multiaccount_import', { Accounts: ['administrator', 'host1'] });
    await rest('live_engine_http_srv/create_room', { RoomInfo: { RoomId: 'demo-live', RoomType: 'Live', RoomName: 'Demo live', Owner_Account: 'host1' } });
    await rest('live_engine_http_srv/add_gift', { GiftId: 'rose', Coins: 10, DefaultName: 'Rose', DefaultDesc: '', IconUrl: '', ResourceUrl: '', Level: 1, ExtensionInfo: '' });
    const b = await demoLogin(browser, child.url, app, 'viewer1');
    await b.page.fill('#live-id', 'demo-live');
    await b.page.click('#live-enter');
    await b.page.locator('#live-info').filter({ hasText: 'owner host1' }).waitFor();
    await rest('live_engine_http_srv/send_gift', { RoomId: 'demo-live', GiftId: 'rose', Count: 2, From_Account: 'administrator', ReceiverList_Account: ['host1'] });
    await b.page.locator('#live-feed li[data-kind="gift"]').filter({ hasText: 'administrator sent 2 × Rose to host1' }).waitFor();
    await b.page.fill('#live-text', 'what a rose');
    await b.page.click('#live-send');
    await b.page.locator('#live-feed li[data-kind="text"]').filter({ hasText: 'viewer1: what a rose' }).waitFor();
    await b.page.fill('#gift-id', 'rose');
    await b.page.click('#gift-send');
    await b.page.locator('#live-feed li[data-kind="gift"]').filter({ hasText: 'viewer1 sent 1 × Rose to host1' }).waitFor();
    await rest('live_engine_http_srv/destroy_room', { RoomId: 'demo-live' });
    await b.page.locator('#live-feed li[data-kind="destroyed"]').waitFor();
    await b.page.locator('#live-feed li[data-kind="removed"]').filter({ hasText: 'destroyed' }).waitFor();
    assert.deepEqual(b.errors, []);
  });
});
