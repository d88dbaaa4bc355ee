// The developer console in headless Chromium: refused without its token, then every panel follows what REST calls,
// /rtc clients (one publishing media), IVH and the callback dispatcher do, and "Retry now" delivers a failed callback.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ivhSignature, ivhSigningString } from '../../src/auth/ivh-signature.ts';
import { CHROMIUM_MEDIA_ARGS, chromiumMissing, demoLogin, launchChromium } from '../helpers/browser.ts';
import { MediaPeer } from '../helpers/media-peer.ts';
import { rtcLogin, type RtcTestClient } from '../helpers/rtc-client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const skip = chromiumMissing();
if (skip) console.log(`# skipping the console browser test: ${skip}`);

const TOKEN = 'console-test-token-0123456789';

describe('developer console in Chromium', { skip }, () => {
  let t: TestServer;
  let browser: Browser;
  let receiver: Server;
  let receiverStatus = 500;
  const received: string[] = [];
  const clients: RtcTestClient[] = [];
  const peers: MediaPeer[] = [];

  before(async () => {
    receiver = createServer((req, res) => {
      const command = new URL(req.url ?? '/', 'http://x').searchParams.get('CallbackCommand') ?? '';
      received.push(command);
      req.resume();
      // The before-gift callback decides whether a gift goes through: it always lets it.
      res.writeHead(command === 'Live.CallbackBeforeSendGift' ? 200 : receiverStatus, { 'Content-Type': 'application/json' }).end('{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}');
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    // Failed callbacks wait ten minutes before their next attempt: only "Retry now" can deliver one within the test.
    t = await startTestServer({ consoleToken: TOKEN, callbackRetryBaseMs: 600_000, callbackRetryMaxMs: 600_000, ivhPrepareDelayMs: 0 });
    await t.server.apps.update(t.app.sdkAppId, { 'callback.url': `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/cb` });
    browser = await launchChromium(CHROMIUM_MEDIA_ARGS);
  });
  after(async () => {
    await browser?.close();
    await Promise.all(peers.map((p) => p.close()));
    for (const c of clients) c.ws.terminate();
    await t?.close();
    receiver?.close();
  });

  const ok = async (command: string, body: unknown): Promise<Record<string, unknown>> => {
    const env = await t.rest(command, body);
    assert.equal(env.ErrorCode, 0, `${command}: ${JSON.stringify(env)}`);
    return env;
  };
  const row = (page: Page, panel: string, attr: string, value: string) => page.locator(`#${panel} tr[data-${attr}="${value}"]`);

  it('without the token: the page, its script and the API answer 401; a wrong token too', async () => {
    const page = await browser.newPage();
    const res = await page.goto(`${t.server.url}/console/`);
    assert.equal(res?.status(), 401);
    assert.equal(await page.getAttribute('#error', 'data-code'), 'Unauthorized');
    assert.equal((await page.goto(`${t.server.url}/console/console.js`))?.status(), 401);
    assert.equal((await page.goto(`${t.server.url}/console/?token=wrong-token-0123456789`))?.status(), 401);
    const api = await page.evaluate(async () => {
      const r = await fetch('/console/api/state');
      return { status: r.status, body: await r.json() };
    });
    assert.deepEqual(api, { status: 401, body: { error: { code: 'Unauthorized', message: api.body.error.message } } });
    await page.close();
  });

  it('with the token every panel shows rooms, members, seats, messages, gifts, streams, calls, sessions and callbacks; Retry now delivers', { timeout: 60_000 }, async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${t.server.url}/console/?token=${TOKEN}`);
    assert.equal(new URL(page.url()).search, '', 'the token leaves the address bar');
    await page.locator('#updated').filter({ hasText: /^updated / }).waitFor();
    await page.locator('#app-settings').filter({ hasText: `SDKAppID ${t.app.sdkAppId}` }).waitFor();

    // A live room from REST, a member from /rtc, a seat, a message and a gift.
    await ok('im_open_login_svc/multiaccount_import', { Accounts: ['host1', 'viewer1', 'robot1', 'callee1', 'alice', 'bob'] });
    await ok('live_engine_http_srv/create_room', { RoomInfo: { RoomId: 'console-live', RoomType: 'Live', RoomName: 'Console live', Owner_Account: 'host1', IsSeatEnabled: true, MaxSeatCount: 4 } });
    const live = row(page, 'live-rooms', 'room', 'console-live');
    await live.filter({ hasText: 'Console live' }).waitFor();
    const { client: viewer } = await rtcLogin(t.server.url, t.app, 'viewer1');
    clients.push(viewer);
    assert.equal((await viewer.request('live.enter', { roomId: 'console-live' })).ok, true);
    await live.locator('td.members').filter({ hasText: 'viewer1' }).waitFor();
    await ok('room_engine_http_mic/pick_user_on_seat', { RoomId: 'console-live', Member_Account: 'viewer1', Index: 1 });
    await live.locator('td.seats [data-seat="1"]').filter({ hasText: 'viewer1' }).waitFor();
    await ok('live_engine_http_srv/send_text_msg', { RoomId: 'console-live', Sender_Account: 'host1', TextContent: 'hello console' });
    await live.locator('li[data-kind="text"]').filter({ hasText: 'host1: hello console' }).waitFor();
    await ok('live_engine_http_srv/add_gift', { GiftId: 'rose', Coins: 10, DefaultName: 'Rose', DefaultDesc: '', IconUrl: '', ResourceUrl: '', Level: 1, ExtensionInfo: '' });
    await ok('live_engine_http_srv/send_gift', { RoomId: 'console-live', GiftId: 'rose', Count: 2, From_Account: 'viewer1', ReceiverList_Account: ['host1'] });
    await live.locator('li[data-kind="gift"]').filter({ hasText: 'viewer1 sent 2 × Rose to host1' }).waitFor();

    // A TRTC room with two members, one publishing audio and video that the other receives.
    const { client: alice } = await rtcLogin(t.server.url, t.app, 'alice');
    const { client: bob } = await rtcLogin(t.server.url, t.app, 'bob');
    clients.push(alice, bob);
    assert.equal((await alice.request('room.enter', { roomId: 4242 })).ok, true);
    assert.equal((await bob.request('room.enter', { roomId: 4242, role: 'audience' })).ok, true);
    const trtc = row(page, 'trtc-rooms', 'room', '4242');
    await trtc.locator('[data-user="alice"]').filter({ hasText: 'alice (anchor)' }).waitFor();
    await trtc.locator('[data-user="bob"]').filter({ hasText: 'bob (audience)' }).waitFor();
    const pub = new MediaPeer('publish', ['audio', 'video']);
    peers.push(pub);
    const published = await alice.request('media.publish', { roomId: 4242, sdp: await pub.offer() });
    assert.equal(published.ok, true, JSON.stringify(published));
    await pub.answer(published.sdp as string);
    await pub.connected();
    pub.start(200);
    const sub = new MediaPeer('subscribe', ['audio', 'video']);
    peers.push(sub);
    const subscribed = await bob.request('media.subscribe', { roomId: 4242, userId: 'alice', sdp: await sub.offer() });
    assert.equal(subscribed.ok, true, JSON.stringify(subscribed));
    await sub.answer(subscribed.sdp as string);
    await trtc.locator('td.streams [data-user="alice"][data-stream="main"]').filter({ hasText: 'alice main: audio + video, 1 subscriber' }).waitFor();

    // A camera in Chromium (the demo page): the console shows its live thumbnail, and counts no subscriber for it.
    const carol = await demoLogin(browser, t.server.url, t.app, 'carol');
    await carol.page.fill('#room-id', 'thumb-room');
    await carol.page.click('#room-enter');
    await carol.page.click('#media-publish');
    const thumbRow = row(page, 'trtc-rooms', 'room', 'thumb-room');
    await thumbRow.locator('td.streams [data-user="carol"]').filter({ hasText: 'carol main: audio + video, 0 subscribers' }).waitFor();
    await thumbRow.locator('video.thumb[data-user="carol"]').waitFor();
    const frames = () => page.evaluate(() => (window as unknown as { trtcdConsole: { thumbnailFrames(): Promise<Record<string, number>> } }).trtcdConsole.thumbnailFrames());
    const deadline = Date.now() + 15_000;
    let firstFrames = (await frames())['carol/main'] ?? 0;
    while (firstFrames === 0 && Date.now() < deadline) firstFrames = (await page.waitForTimeout(200), (await frames())['carol/main'] ?? 0);
    let nextFrames = firstFrames;
    while (nextFrames <= firstFrames && Date.now() < deadline) nextFrames = (await page.waitForTimeout(200), (await frames())['carol/main'] ?? 0);
    assert.ok(firstFrames > 0 && nextFrames > firstFrames, `the thumbnail decodes frames that grow: ${firstFrames} → ${nextFrames}`);
    assert.equal(t.server.rtc.media.sfu.find(t.app.sdkAppId, { strRoomId: 'thumb-room' }, 'carol', 'main')!.subscriptions.size, 1, 'one preview subscription');
    // Carol stops: the row and its thumbnail go, and so does the preview's subscription.
    await carol.page.click('#media-unpublish');
    await thumbRow.locator('video.thumb').waitFor({ state: 'detached' });
    await carol.page.context().close();

    // A call ringing, then ended: it moves to the records.
    const started = await ok('call_engine_http_srv/start_call_by_robot', { Robot_Account: 'robot1', CalleeList_Account: ['callee1'], Timeout: 60_000, CallInfo: { MediaType: 'Video' } });
    const callId = (started.Response as { CallId: string }).CallId;
    assert.ok(callId, JSON.stringify(started));
    await row(page, 'calls', 'call', callId).locator('td.members').filter({ hasText: 'callee1 ringing' }).waitFor();
    await ok('call_engine_http_srv/end_call', { CallId: callId });
    await row(page, 'call-records', 'call', callId).waitFor();
    await row(page, 'calls', 'call', callId).waitFor({ state: 'detached' });

    // A digital-human session, created with a signed IVH request.
    await t.server.digitalHuman.createProject(t.app.sdkAppId, { projectId: 'console-proj' });
    const signing = ivhSigningString({ appkey: t.app.ivh.appKey, timestamp: String(Math.floor(Date.now() / 1000)) });
    const query = `${signing}&signature=${encodeURIComponent(ivhSignature(t.app.ivh.accessToken, signing))}`;
    const ivh = (await (
      await fetch(`${t.server.url}/v2/ivh/sessionmanager/sessionmanagerservice/createsession?${query}`, {
        method: 'POST',
        body: JSON.stringify({ Header: {}, Payload: { ReqId: 'console-req-1', VirtualmanProjectId: 'console-proj', UserId: 'avatar1', Protocol: 'trtc', DriverType: 1 } }),
      })
    ).json()) as { Header: { Code: number }; Payload: { SessionId: string } };
    assert.equal(ivh.Header.Code, 0, JSON.stringify(ivh));
    await row(page, 'digital-humans', 'session', ivh.Payload.SessionId).filter({ hasText: 'avatar1' }).waitFor();

    // The callbacks so far failed with HTTP 500; once the app server answers 200, Retry now delivers the first one.
    const first = page.locator('#callbacks tr[data-callback]').last();
    const id = await first.getAttribute('data-callback');
    await page.locator(`#callbacks tr[data-callback="${id}"][data-status="pending"] td.last`).filter({ hasText: '500' }).waitFor();
    assert.equal(await page.textContent(`#callbacks tr[data-callback="${id}"] td.attempts`), '1');
    receiverStatus = 200;
    const before = received.length;
    await page.click(`#callbacks tr[data-callback="${id}"] button.retry`);
    await page.locator(`#callbacks tr[data-callback="${id}"][data-status="delivered"] td.last`).filter({ hasText: '200' }).waitFor();
    assert.equal(await page.textContent(`#callbacks tr[data-callback="${id}"] td.attempts`), '2');
    const history = page.locator(`#callbacks tr[data-callback="${id}"] td.history li`);
    assert.match((await history.nth(0).textContent())!, /HTTP 500, \d+ ms$/);
    assert.match((await history.nth(1).textContent())!, /HTTP 200, \d+ ms$/);
    assert.equal(await history.count(), 2);
    assert.ok(received.length > before, 'the app server got the callback again');
    assert.deepEqual(errors, []);
    await page.close();
  });
});
