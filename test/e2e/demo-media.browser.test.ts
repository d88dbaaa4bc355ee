// Audio and video through trtcd's SFU between demo pages in headless Chromium with fake camera and microphone:
// two anchors in a room, a 1-to-1 video call, and an audience that receives but cannot publish.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumMissing, demoLogin, inbound, receivesFrom, startDemoRig, type DemoRig } from '../helpers/browser.ts';

const skip = chromiumMissing();
if (skip) console.log(`# skipping the media browser tests: ${skip}`);

describe('audio and video in Chromium through the SFU', { skip }, () => {
  let rig: DemoRig;

  before(async () => {
    rig = await startDemoRig({ media: true });
  });
  after(() => rig?.close());

  async function enter(page: Page, room: string, role: 'anchor' | 'audience'): Promise<void> {
    await page.fill('#room-id', room);
    await page.selectOption('#room-role', role);
    await page.click('#room-enter');
    await page.locator('#room-feed li').filter({ hasText: `as ${role}` }).waitFor();
  }

  it('two anchors in one room each receive the other’s audio and video (decoded frames within 10 s)', { timeout: 40_000 }, async () => {
    const a = await demoLogin(rig.browser, rig.child.url, rig.app, 'alice');
    const b = await demoLogin(rig.browser, rig.child.url, rig.app, 'bob');
    await enter(a.page, 'av-room', 'anchor');
    await enter(b.page, 'av-room', 'anchor');
    const t0 = Date.now();
    await a.page.click('#media-publish');
    await b.page.click('#media-publish');
    await Promise.all([receivesFrom(a.page, 'bob'), receivesFrom(b.page, 'alice')]);
    const took = Date.now() - t0;
    assert.ok(took < 15_000, `took ${took} ms`);
    // Bob stops: Alice's view of him goes away.
    await b.page.click('#media-unpublish');
    await a.page.locator('#room-feed li').filter({ hasText: 'bob stopped publishing (unpublished)' }).waitFor();
    assert.equal(await a.page.locator('#remote-videos figure[data-user="bob"]').count(), 0);
    assert.deepEqual([...a.errors, ...b.errors], []);
    await a.page.context().close();
    await b.page.context().close();
  });

  it('a 1-to-1 video call carries both sides’ audio and video', { timeout: 40_000 }, async () => {
    const a = await demoLogin(rig.browser, rig.child.url, rig.app, 'caller');
    const b = await demoLogin(rig.browser, rig.child.url, rig.app, 'callee');
    await a.page.fill('#callee', 'callee');
    await a.page.selectOption('#media', 'Video');
    await a.page.click('#call');
    await b.page.locator('#incoming').waitFor({ state: 'visible' });
    await b.page.click('#accept');
    await Promise.all([receivesFrom(a.page, 'callee'), receivesFrom(b.page, 'caller')]);
    await a.page.click('#hangup');
    await b.page.locator('#call-status').filter({ hasText: 'ended' }).waitFor();
    await b.page.locator('#room-feed li').filter({ hasText: 'left the room' }).waitFor();
    assert.deepEqual([...a.errors, ...b.errors], []);
    await a.page.context().close();
    await b.page.context().close();
  });

  it('a live room: the owner publishes on entering, the audience receives it', { timeout: 40_000 }, async () => {
    await rig.rest('im_open_login_svc/multiaccount_import', { Accounts: ['live-owner'] });
    await rig.rest('live_engine_http_srv/create_room', { RoomInfo: { RoomId: 'live-av', RoomType: 'Live', RoomName: 'AV live', Owner_Account: 'live-owner' } });
    const owner = await demoLogin(rig.browser, rig.child.url, rig.app, 'live-owner');
    const fan = await demoLogin(rig.browser, rig.child.url, rig.app, 'live-fan');
    for (const { page } of [owner, fan]) {
      await page.fill('#live-id', 'live-av');
      await page.click('#live-enter');
    }
    await owner.page.locator('#log li').filter({ hasText: 'publishing camera and microphone' }).waitFor();
    await fan.page.locator('#room-feed li').filter({ hasText: 'as audience' }).waitFor();
    await receivesFrom(fan.page, 'live-owner');
    assert.deepEqual(await inbound(owner.page), []);
    assert.deepEqual([...owner.errors, ...fan.errors], []);
    await owner.page.context().close();
    await fan.page.context().close();
  });

  it('the audience receives the host but cannot publish', { timeout: 40_000 }, async () => {
    const host = await demoLogin(rig.browser, rig.child.url, rig.app, 'host');
    const viewer = await demoLogin(rig.browser, rig.child.url, rig.app, 'viewer');
    await enter(host.page, 'show-room', 'anchor');
    await host.page.click('#media-publish');
    await enter(viewer.page, 'show-room', 'audience');
    await receivesFrom(viewer.page, 'host');
    await viewer.page.click('#media-publish');
    await viewer.page.locator('#log li.err').filter({ hasText: 'media-publish: 40304' }).waitFor();
    // The host receives nothing from the viewer.
    assert.deepEqual(await inbound(host.page), []);
    assert.deepEqual([...host.errors, ...viewer.errors], []);
  });
});
