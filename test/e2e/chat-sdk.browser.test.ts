// Tencent's unmodified Chat SDK (@tencentcloud/chat) and TUICallKit's call engine (@tencentcloud/call-engine-js),
// pinned, in headless Chromium with fake devices, pointed at trtcd only by `proxyServer` and the TRTC side's
// `setNetworkProxy` (docs/chat-and-calls.md): messages, and calls that are trtcd's calls (get_call_info, records,
// Call.* callbacks), between Chat users and with a /rtc user.
import assert from 'node:assert/strict';
import { purchaseBitsOf } from '../../src/cli/setting-changes.ts';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { genUserSig } from '../../src/auth/usersig.ts';
import { CHROMIUM_MEDIA_ARGS, chromiumMissing, launchChromium } from '../helpers/browser.ts';
import { openChatPage, type ChatPage } from '../helpers/chat-page.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { rtcLogin } from '../helpers/rtc-client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { decodedFrames } from '../helpers/trtc-sdk-page.ts';

const skip = chromiumMissing();
if (skip) console.log(`# skipping the Chat SDK browser tests: ${skip}`);

describe('Chat SDK and TUICallKit call engine against trtcd', { skip }, () => {
  let t: TestServer;
  let browser: Browser;
  let rx: Receiver;
  const pages: ChatPage[] = [];

  before(async () => {
    t = await startTestServer({ logLevel: 'silent' });
    rx = await startReceiver();
    await t.server.apps.update(t.app.sdkAppId, { 'callback.url': rx.url, rateLimits: 'off' });
    browser = await launchChromium(CHROMIUM_MEDIA_ARGS);
  });
  afterEach(async () => {
    for (const p of pages.splice(0)) await p.close().catch(() => undefined);
  });
  after(async () => {
    await browser?.close();
    await rx?.close();
    await t?.close();
  });

  const sig = (userId: string) => genUserSig({ sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId, expire: 3600 });
  const open = async (engine = false) => {
    const p = await openChatPage(browser, t.server.url, t.app.sdkAppId, { engine });
    pages.push(p);
    return p;
  };
  /** A Chat-only page logged in as `userId`, SDK_READY seen. */
  const chatUser = async (userId: string) => {
    const p = await open();
    const r = await p.run<{ error?: unknown }>('const r = await h.chat.login({ userID: arg.userId, userSig: arg.sig }); return r.data ?? {};', { userId, sig: sig(userId) });
    assert.equal(r.error, undefined, JSON.stringify(r));
    await p.waitEvent('chat', 'sdkStateReady');
    return p;
  };
  /** A call-engine page logged in as `userId`. */
  const callUser = async (userId: string) => {
    const p = await open(true);
    const r = await p.run<{ error?: unknown }>('await h.engine.login({ userID: arg.userId, userSig: arg.sig }); return {};', { userId, sig: sig(userId) });
    assert.equal(r.error, undefined, JSON.stringify(r));
    return p;
  };
  const sendText = (p: ChatPage, to: string, text: string) =>
    p.run<{ error?: unknown }>(
      'const m = h.chat.createTextMessage({ to: arg.to, conversationType: h.Chat.TYPES.CONV_C2C, payload: { text: arg.text } }); const r = await h.chat.sendMessage(m); return { id: r.data.message.ID };',
      { to, text },
    );

  it('two users exchange C2C text and custom messages; one sent by REST arrives; an offline user gets it at login', async () => {
    const [a, b] = [await chatUser('c2c-a'), await chatUser('c2c-b')];
    const sent = await sendText(a, 'c2c-b', 'hello from a');
    assert.equal(sent.error, undefined, JSON.stringify(sent));
    const got = (await b.waitEvent('chat', 'onMessageReceived', 'e.some((m) => m.payload.text === "hello from a")')) as Array<Record<string, unknown>>;
    const m = got.find((x) => (x.payload as { text: string }).text === 'hello from a')!;
    assert.equal(m.from, 'c2c-a');
    assert.equal(m.ID, (sent as unknown as { id: string }).id, 'the receiver builds the message id the sender has');
    const custom = await b.run<{ error?: unknown }>(
      'const m = h.chat.createCustomMessage({ to: "c2c-a", conversationType: h.Chat.TYPES.CONV_C2C, payload: { data: "{\\"k\\":1}", description: "d", extension: "x" } }); await h.chat.sendMessage(m); return {};',
    );
    assert.equal(custom.error, undefined, JSON.stringify(custom));
    await a.waitEvent('chat', 'onMessageReceived', 'e.some((m) => m.type === "TIMCustomElem" && m.payload.data === "{\\"k\\":1}" && m.from === "c2c-b")');
    // The REST API's sendmsg (https://trtc.io/document/34919) reaches the SDK user.
    const env = await t.rest('openim/sendmsg', { SyncOtherMachine: 2, From_Account: 'c2c-a', To_Account: 'c2c-b', MsgRandom: 1234567, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'from the app server' } }] });
    assert.equal(env.ErrorCode, 0, JSON.stringify(env));
    await b.waitEvent('chat', 'onMessageReceived', 'e.some((m) => m.payload.text === "from the app server" && m.from === "c2c-a")');
    // c2c-c has never logged in: the message waits, durably, and comes with the first login.
    await t.server.accounts.importOne(t.app.sdkAppId, { userId: 'c2c-c' });
    assert.equal((await sendText(a, 'c2c-c', 'while you were away')).error, undefined);
    // At login the SDK syncs what came while it was away into its conversations (not as MESSAGE_RECEIVED): the
    // conversation with c2c-a is listed, unread, and its history holds the message.
    const c = await chatUser('c2c-c');
    await c.waitEvent('chat', 'onConversationListUpdated', 'e.some((v) => v.conversationID === "C2Cc2c-a" && v.unreadCount >= 1 && v.lastMessage.payload.text === "while you were away")');
    const history = await c.run<{ texts: string[] }>('const r = await h.chat.getMessageList({ conversationID: "C2Cc2c-a" }); return { texts: r.data.messageList.map((m) => m.payload.text) };');
    assert.deepEqual(history.texts, ['while you were away'], JSON.stringify(history));
  });

  it('u1 video-calls u2, u2 accepts: both decode each other; get_call_info shows both Calling; hang-up ends it NormalEnd with Call.* callbacks in order', async () => {
    const before = rx.all.length;
    const [u1, u2] = [await callUser('v-u1'), await callUser('v-u2')];
    const started = await u1.run<{ error?: unknown }>('await h.engine.calls({ userIDList: ["v-u2"], type: 2 }); return {};');
    assert.equal(started.error, undefined, JSON.stringify(started));
    await u2.waitEvent('engine', 'onCallReceived');
    const callId = t.server.calls.callsOf(t.app.sdkAppId, 'v-u1')[0]!.callId;
    assert.equal((await u2.run<{ error?: unknown }>('await h.engine.accept(); return {};')).error, undefined);
    await u1.waitEvent('engine', 'onCallBegin');
    const info = await t.rest('call_engine_http_srv/get_call_info', { CallId: callId });
    assert.equal(info.ErrorCode, 0, JSON.stringify(info));
    assert.deepEqual(
      ((info.UserList ?? (info as { Response?: { UserList: unknown } }).Response?.UserList) as Array<{ User_Account: string; Status: string }>).map((u) => `${u.User_Account}:${u.Status}`).sort(),
      ['v-u1:Calling', 'v-u2:Calling'],
    );
    // Video both ways, decoded: each side renders the other through the engine.
    for (const [p, peer] of [[u1, 'v-u2'], [u2, 'v-u1']] as const) {
      const opened = await p.run('const d = document.createElement("div"); d.id = "local"; const r = document.createElement("div"); r.id = "v-" + arg + "-main"; for (const x of [d, r]) { x.style.width = "320px"; x.style.height = "240px"; document.body.append(x); } await h.engine.openCamera("local"); await h.engine.openMicrophone(); return {};', peer);
      assert.deepEqual(opened, {}, JSON.stringify(opened));
    }
    for (const [p, peer] of [[u1, 'v-u2'], [u2, 'v-u1']] as const) {
      await p.waitEvent('engine', 'onUserVideoAvailable', `e.userID === "${peer}" && e.isVideoAvailable`);
      const r = await p.run<{ error?: unknown }>('await h.engine.startRemoteView({ userID: arg, videoViewDomID: "v-" + arg + "-main" }); return {};', peer);
      assert.equal(r.error, undefined, JSON.stringify(r));
    }
    for (const [p, peer] of [[u1, 'v-u2'], [u2, 'v-u1']] as const) {
      const deadline = Date.now() + 20_000;
      let first = await decodedFrames(p.page, peer);
      while (first.frames === 0 && Date.now() < deadline) {
        await p.page.waitForTimeout(250);
        first = await decodedFrames(p.page, peer);
      }
      let next = first;
      while (next.frames <= first.frames + 5 && Date.now() < deadline) {
        await p.page.waitForTimeout(250);
        next = await decodedFrames(p.page, peer);
      }
      assert.ok(first.frames > 0 && next.frames > first.frames + 5, `${peer}'s video decoded and growing: ${JSON.stringify([first, next])}`);
    }
    assert.equal((await u1.run<{ error?: unknown }>('await h.engine.hangup(); return {};')).error, undefined);
    await u2.waitEvent('engine', 'onCallEnd');
    const record = await t.server.calls.record(t.app.sdkAppId, callId);
    assert.equal(record.result, 'NormalEnd');
    const cbs = (await rx.waitDelivered(before + 4)).slice(before).filter((r) => (r.body.CallId ?? (r.body as { CallInfo?: { CallId: string } }).CallInfo?.CallId) === callId || JSON.stringify(r.body).includes(callId));
    assert.deepEqual(
      cbs.map((r) => r.query.get('CallbackCommand')),
      ['Call.CallbackAfterStartCall', 'Call.CallbackAfterMemberChanged', 'Call.CallbackAfterMemberChanged', 'Call.CallbackAfterEndCall'],
    );
  });

  /** `caller` calls `callees` (audio unless told); resolves with the call's id as trtcd knows it (active, or just ended). */
  const place = async (caller: ChatPage, callerId: string, callees: string[], extra = '') => {
    const r = await caller.run<{ error?: { code: number } }>(`await h.engine.calls({ userIDList: arg, type: 1 ${extra} }); return {};`, callees);
    assert.equal(r.error, undefined, JSON.stringify(r));
    const active = t.server.calls.callsOf(t.app.sdkAppId, callerId)[0];
    if (active) return active.callId;
    const { calls } = await t.server.calls.records({ sdkAppId: t.app.sdkAppId, page: 1, perPage: 50 });
    return calls.find((c) => c.caller === callerId)!.callId;
  };
  const engineCall = (p: ChatPage, body: string) => p.run<{ error?: { code: number } }>(`${body} return {};`);

  it('reject: the callee declines; the caller hears onUserReject and the call is recorded Reject', async () => {
    const [u1, u2] = [await callUser('r-u1'), await callUser('r-u2')];
    const callId = await place(u1, 'r-u1', ['r-u2']);
    await u2.waitEvent('engine', 'onCallReceived');
    assert.equal((await engineCall(u2, 'await h.engine.reject();')).error, undefined);
    await u1.waitEvent('engine', 'onUserReject', 'e.userID === "r-u2"');
    await u1.waitEvent('engine', 'onCallNotConnected', 'e.reason === 2');
    assert.equal((await t.server.calls.record(t.app.sdkAppId, callId)).result, 'Reject');
  });

  it('cancel: the caller hangs up while it rings; the callee stops ringing (reason 6) and the call is recorded Cancel', async () => {
    const [u1, u2] = [await callUser('x-u1'), await callUser('x-u2')];
    const callId = await place(u1, 'x-u1', ['x-u2']);
    await u2.waitEvent('engine', 'onCallReceived');
    assert.equal((await engineCall(u1, 'await h.engine.hangup();')).error, undefined);
    await u2.waitEvent('engine', 'onCallNotConnected', 'e.reason === 6');
    assert.equal((await t.server.calls.record(t.app.sdkAppId, callId)).result, 'Cancel');
  });

  it('ring timeout: nobody answers within the call\'s timeout; the caller hears onUserNoResponse, the callee stops ringing, recorded NotAnswer', async () => {
    const [u1, u2] = [await callUser('n-u1'), await callUser('n-u2')];
    const callId = await place(u1, 'n-u1', ['n-u2'], ', timeout: 2');
    assert.equal(t.server.calls.get(t.app.sdkAppId, callId).ringTimeoutMs, 2000, 'the engine\'s timeout is the ring timeout');
    await u2.waitEvent('engine', 'onCallReceived');
    await u1.waitEvent('engine', 'onUserNoResponse');
    await u1.waitEvent('engine', 'onCallNotConnected', 'e.reason === 3');
    await u2.waitEvent('engine', 'onCallNotConnected', 'e.reason === 6');
    assert.equal((await t.server.calls.record(t.app.sdkAppId, callId)).result, 'NotAnswer');
  });

  it('busy: calling someone who is already being rung gives onUserLineBusy and a CallBusy record', async () => {
    const [u1, u2, u3] = [await callUser('b-u1'), await callUser('b-u2'), await callUser('b-u3')];
    await place(u1, 'b-u1', ['b-u2']);
    await u2.waitEvent('engine', 'onCallReceived');
    const busyCall = await place(u3, 'b-u3', ['b-u2']);
    await u3.waitEvent('engine', 'onUserLineBusy', 'e.userID === "b-u2"');
    await u3.waitEvent('engine', 'onCallNotConnected', 'e.reason === 5');
    assert.equal((await t.server.calls.record(t.app.sdkAppId, busyCall)).result, 'CallBusy');
    assert.equal((await engineCall(u1, 'await h.engine.hangup();')).error, undefined);
  });

  it('a three-user group call: both callees accept, the call survives the caller leaving, and ends when one is left', async () => {
    const [u1, u2, u3] = [await callUser('g-u1'), await callUser('g-u2'), await callUser('g-u3')];
    const callId = await place(u1, 'g-u1', ['g-u2', 'g-u3']);
    assert.equal(t.server.calls.get(t.app.sdkAppId, callId).callType, 'MultiCall');
    for (const p of [u2, u3]) {
      await p.waitEvent('engine', 'onCallReceived');
      assert.equal((await engineCall(p, 'await h.engine.accept();')).error, undefined);
    }
    await u1.waitEvent('engine', 'onCallBegin');
    const info = await t.rest('call_engine_http_srv/get_call_info', { CallId: callId });
    assert.deepEqual(JSON.stringify(info).match(/"Status":"Calling"/g)?.length, 3, JSON.stringify(info));
    assert.equal((await engineCall(u1, 'await h.engine.hangup();')).error, undefined);
    await u2.waitEvent('engine', 'onUserLeave', 'e.userID === "g-u1"');
    assert.equal(t.server.calls.get(t.app.sdkAppId, callId).members.length, 2, 'the two callees are still talking');
    assert.equal((await engineCall(u2, 'await h.engine.hangup();')).error, undefined);
    await u3.waitEvent('engine', 'onCallEnd');
    assert.equal((await t.server.calls.record(t.app.sdkAppId, callId)).result, 'NormalEnd');
  });

  it('a package without 1-to-1 calls (chat.purchaseBits) makes calls() fail with -1001, and without group calls -1002', async () => {
    await t.server.apps.update(t.app.sdkAppId, { 'chat.purchaseBits': purchaseBitsOf('17') });
    try {
      const u1 = await callUser('p-u1');
      const r = await u1.run<{ error?: { code: number } }>('await h.engine.calls({ userIDList: ["p-u2"], type: 1 }); return {};');
      assert.equal(r.error?.code, -1001, JSON.stringify(r));
      assert.equal(t.server.calls.callsOf(t.app.sdkAppId, 'p-u1').length, 0, 'no call was started');
    } finally {
      await t.server.apps.update(t.app.sdkAppId, { 'chat.purchaseBits': purchaseBitsOf('16') });
    }
    try {
      const u1 = await callUser('p-u3');
      const r = await u1.run<{ error?: { code: number } }>('await h.engine.calls({ userIDList: ["p-u4", "p-u5"], type: 1 }); return {};');
      assert.equal(r.error?.code, -1002, JSON.stringify(r));
    } finally {
      await t.server.apps.update(t.app.sdkAppId, { 'chat.purchaseBits': purchaseBitsOf('all') });
    }
  });

  it('one call state across clients: a /rtc user calls a TUICallKit user and the reverse', async () => {
    const u = await callUser('i-chat');
    const { client } = await rtcLogin(t.server.url, t.app, 'i-rtc');
    try {
      const started = await client.request('call.start', { callees: ['i-chat'], mediaType: 'Audio', roomId: 5150 });
      assert.equal(started.ok, true, JSON.stringify(started));
      const callId = (started.call as { callId: string }).callId;
      await u.waitEvent('engine', 'onCallReceived');
      assert.equal((await engineCall(u, 'await h.engine.accept();')).error, undefined);
      await client.next((m) => m.type === 'call.updated' && JSON.stringify(m).includes('"Accept"'), 15_000);
      assert.equal((await client.request('call.hangup', { callId })).ok, true);
      await u.waitEvent('engine', 'onCallEnd');
      assert.equal((await t.server.calls.record(t.app.sdkAppId, callId)).result, 'NormalEnd');
      // And back: the TUICallKit user rings the /rtc user, who answers.
      const back = await place(u, 'i-chat', ['i-rtc']);
      const invited = await client.next((m) => m.type === 'call.invited' && JSON.stringify(m).includes(back), 15_000);
      assert.equal((invited.call as { roomId: string }).roomId !== '', true);
      assert.equal((await client.request('call.accept', { callId: back })).ok, true);
      await u.waitEvent('engine', 'onCallBegin', `e.callId === "${back}"`);
      assert.equal((await engineCall(u, 'await h.engine.hangup();')).error, undefined);
      await client.next((m) => m.type === 'call.updated' && JSON.stringify(m).includes(back) && (m as { ended?: boolean }).ended === true, 15_000);
    } finally {
      await client.close();
    }
  });
});
