// The Chat gateway on a real server over real WebSockets: login and its refusals (Tencent's 70xxx codes), session
// tickets, framing and compression, bad input, kicks, and the call engine's envelope.
import assert from 'node:assert/strict';
import { purchaseBitsOf } from '../../cli/setting-changes.ts';
import { describe, it } from 'node:test';
import { genUserSig } from '../../auth/usersig.ts';
import { chatSuite } from '../../../test/helpers/chat-suite.ts';
import type { ChatWsClient } from '../../../test/helpers/chat-ws-client.ts';
import { isChatWsPath } from './chat-gateway.ts';

describe('Chat gateway', () => {
  const suite = chatSuite();
  const sig = (userId: string, o: { expire?: number; key?: string; sdkAppId?: number } = {}) =>
    genUserSig({ sdkAppId: o.sdkAppId ?? suite.t.app.sdkAppId, secretKey: o.key ?? suite.t.app.secretKey, userId, expire: o.expire ?? 3600 });
  const open = suite.open;
  const user = (userId: string) => suite.login(userId);

  it('accepts the SDK URL under any proxyServer base, /binfo or /info, with its query', () => {
    assert.equal(isChatWsPath('/chat/binfo?sdkappid=1&instanceid=x&random=1'), true);
    assert.equal(isChatWsPath('/binfo?sdkappid=1&instanceid=x'), true);
    assert.equal(isChatWsPath('/a/b/info?sdkappid=1&instanceid=x'), true);
    assert.equal(isChatWsPath('/chat/binfo'), false);
    assert.equal(isChatWsPath('/chat/binfo?instanceid=x'), false);
    assert.equal(isChatWsPath('/rtc?sdkappid=1&instanceid=x'), false);
  });

  it('logs in with a UserSig: ticket, TinyId, InstId, server time, all package bits; imports the account', async () => {
    const c = await open();
    const r = await c.login('gw-login', sig('gw-login'));
    assert.equal(r.ErrorCode, 0);
    assert.match(String(r.A2Key), /.{20,}/);
    assert.match(String(r.TinyId), /^\d{18}$/);
    assert.ok(Number(r.InstId) > 0);
    assert.equal(r.HelloInterval, 120);
    assert.ok(Math.abs(Number(r.TimeStamp) - Date.now() / 1000) < 5);
    assert.equal(r.PurchaseBits, '1'.repeat(64));
    assert.equal(await suite.t.server.accounts.exists(suite.t.app.sdkAppId, 'gw-login'), true);
    const hb = await c.request('heartbeat.alive', {});
    assert.equal(hb.ErrorCode, 0);
    const bits = await c.request('im_sdk_config_mgr.fetch_imsdk_purchase_bitsv2', { uint32_sdkappid: suite.t.app.sdkAppId });
    assert.equal(bits.int32_error_code, 0);
    assert.equal(bits.str_purchase_bits, '1'.repeat(64));
  });

  it('refuses bad logins with Tencent\'s codes', async () => {
    const cases: Array<[string, Record<string, unknown>, number]> = [
      ['expired', { identifier: 'gw-x', usersig: sig('gw-x', { expire: -10 }) }, 70001],
      ['empty', { identifier: 'gw-x', usersig: '' }, 70002],
      ['malformed', { identifier: 'gw-x', usersig: 'not-a-sig' }, 70003],
      ['wrong key', { identifier: 'gw-x', usersig: sig('gw-x', { key: 'f'.repeat(64) }) }, 70009],
      ['other user', { identifier: 'gw-x', usersig: sig('gw-y') }, 70013],
      ['no identifier', { usersig: sig('gw-x') }, 70402],
      ['nothing', {}, 70402],
      ['forged ticket', { a2: '9999999999.Z3cteA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, 20002],
    ];
    for (const [name, head, code] of cases) {
      const c = await open();
      const r = await c.request('im_open_status.wslogin', { State: 'Online' }, head);
      assert.equal(r.ErrorCode, code, `${name}: ${JSON.stringify(r)}`);
      assert.equal(typeof r.ErrorInfo, 'string');
    }
    // An unknown SDKAppID in the URL: 70014; a UserSig of another app: 70014 too.
    const other = await open({ sdkAppId: 1234567 });
    assert.equal((await other.request('im_open_status.wslogin', {}, { identifier: 'gw-x', usersig: sig('gw-x') })).ErrorCode, 70014);
    const wrongApp = await open();
    assert.equal((await wrongApp.request('im_open_status.wslogin', {}, { identifier: 'gw-x', usersig: sig('gw-x', { sdkAppId: 1234567 }) })).ErrorCode, 70014);
  });

  it('needs a login, and this socket\'s ticket, for every other command; unknown commands get 60018', async () => {
    const c = await open();
    assert.equal((await c.request('openim.getmsg', { Cookie: '' })).ErrorCode, 20002);
    const u = await user('gw-ticket');
    assert.equal((await u.request('openim.getmsg', { Cookie: '' }, { a2: 'someone-elses' })).ErrorCode, 20002);
    assert.equal((await u.request('no_such.command', {})).ErrorCode, 60018);
    assert.equal((await u.request('openim.getmsg', { Cookie: '' })).ErrorCode, 0);
    // Counted by servcmd and code; a servcmd the gateway does not know is counted as unknown.
    const text = await (await fetch(`${suite.t.server.url}/metrics`)).text();
    assert.match(text, /trtcd_requests_total\{family="chat",command="openim\.getmsg",code="0"\} [1-9]/);
    assert.match(text, /trtcd_requests_total\{family="chat",command="openim\.getmsg",code="20002"\} [1-9]/);
    assert.match(text, /trtcd_requests_total\{family="chat",command="unknown",code="60018"\} [1-9]/);
    assert.doesNotMatch(text, /command="no_such\.command"/);
  });

  it('re-logs in on a new socket with the ticket alone (after a reconnect), not with another app\'s ticket', async () => {
    const first = await user('gw-relog');
    const again = await open();
    const r = await again.request('im_open_status.wslogin', { State: 'Online' }, { a2: first.a2, tinyid: first.tinyId });
    assert.equal(r.ErrorCode, 0, JSON.stringify(r));
    const app2 = await suite.t.server.apps.create();
    const elsewhere = await open({ sdkAppId: app2.sdkAppId });
    assert.equal((await elsewhere.request('im_open_status.wslogin', {}, { a2: first.a2 })).ErrorCode, 20002, 'a ticket is only good for its app');
  });

  it('answers wrong-typed, malformed and oversized input without harm', async () => {
    const u = await user('gw-bad');
    const r = await u.request('openim.sendmsg', { To_Account: 42, MsgBody: 'x' });
    assert.equal(r.ErrorCode, 20001);
    assert.match(String(r.ErrorInfo), /To_Account/);
    assert.equal((await u.request('openim.sendmsg', { To_Account: 'gw-nobody', MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hi' } }] })).ErrorCode, 90012);
    assert.equal((await u.request('openim.sendmsg', { To_Account: 'gw-bad', MsgBody: [{ MsgType: 'NoSuchElem', MsgContent: {} }] })).ErrorCode, 90002);
    assert.equal((await u.request('openim.sendmsg', { To_Account: 'gw-bad', MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'x'.repeat(13 * 1024) } }] })).ErrorCode, 80002);
    u.sendRaw('{not json');
    u.sendRaw(Buffer.from([0xff, 0xfe, 0x00]));
    u.sendRaw(JSON.stringify({ head: { servcmd: 5, seq: 'x' }, body: [] }));
    assert.equal((await u.request('heartbeat.alive', {})).ErrorCode, 0, 'still serving after junk');
    u.sendRaw(Buffer.alloc(70 * 1024, 0x20));
    assert.equal(await u.waitClosed(), 1009);
  });

  it('compresses large frames as "COMP" + zlib when the URL asks, and not otherwise', async () => {
    const a = await user('gw-comp-a');
    const text = 'x'.repeat(3000);
    const sent = await a.request('openim.sendmsg', { To_Account: 'gw-comp-a', MsgRandom: 7, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }] });
    assert.equal(sent.ErrorCode, 0);
    const push = await a.waitFor((f) => f.head.servcmd === 'im_open_push.msg_push');
    assert.equal(push.compressed, true);
    const plain = await open({ compress: false });
    assert.equal((await plain.login('gw-comp-b', sig('gw-comp-b'))).ErrorCode, 0);
    await a.request('openim.sendmsg', { To_Account: 'gw-comp-b', MsgRandom: 8, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }] });
    assert.equal((await plain.waitFor((f) => f.head.servcmd === 'im_open_push.msg_push')).compressed, false);
  });

  it('a newer login kicks the older instance out (one instance by default; chat.webInstances allows more)', async () => {
    const first = await user('gw-kick');
    await user('gw-kick');
    const kick = await first.waitFor((f) => f.head.servcmd === 'im_open_status.stat_forceoffline');
    const item = (kick.body.EventArray as Array<{ C2cNotifyMsgArray: Array<{ KickoutMsgNotify: { KickType: number } }> }>)[0]!.C2cNotifyMsgArray[0]!;
    assert.equal(item.KickoutMsgNotify.KickType, 1);
    assert.equal((await first.request('openim.getmsg', { Cookie: '' })).ErrorCode, 20002, 'the kicked instance is logged out');
    await suite.t.server.apps.update(suite.t.app.sdkAppId, { 'chat.webInstances': 2 });
    try {
      const a = await user('gw-multi');
      await user('gw-multi');
      assert.equal((await a.request('openim.getmsg', { Cookie: '' })).ErrorCode, 0);
      assert.equal(a.frames.some((f) => f.head.servcmd === 'im_open_status.stat_forceoffline'), false);
    } finally {
      await suite.t.server.apps.update(suite.t.app.sdkAppId, { 'chat.webInstances': 1 });
    }
  });

  it('announces the app\'s package bits (chat.purchaseBits) at login', async () => {
    await suite.t.server.apps.update(suite.t.app.sdkAppId, { 'chat.purchaseBits': purchaseBitsOf('17') });
    try {
      const c = await open();
      const r = await c.login('gw-bits', sig('gw-bits'));
      assert.equal(String(r.PurchaseBits).length, 64);
      assert.equal(String(r.PurchaseBits).at(-17), '0', 'bit 16 off');
      assert.equal(String(r.PurchaseBits).at(-18), '1', 'bit 17 on');
    } finally {
      await suite.t.server.apps.update(suite.t.app.sdkAppId, { 'chat.purchaseBits': purchaseBitsOf('all') });
    }
  });

  it('speaks the call engine\'s envelope: no invitation 101005, unknown call 101004, bad body 101001, busy ResultCode 2', async () => {
    const a = await user('gw-ce-a');
    const b = await user('gw-ce-b');
    const ce = (c: ChatWsClient, cmd: string, body: unknown) => c.request(`call_engine_srv.${cmd}`, { Head: { Command: `call_engine_srv.${cmd}`, Version: 2 }, Body: body });
    const none = await ce(a, 'get_invitation', { User_Account: 'gw-ce-a' });
    assert.equal(none.ErrorCode, 101005);
    assert.equal(typeof none.ErrorInfo, 'string');
    assert.equal((await ce(a, 'get_call_info', { CallId: 'nope' })).ErrorCode, 101004);
    assert.equal((await ce(a, 'start_call', { CalleeList_Account: 'gw-ce-b' })).ErrorCode, 101001);
    assert.equal((await ce(a, 'start_call', { CallInfo: { CallMediaType: 1, RoomId: 'abc', RoomIdType: 1 }, CalleeList_Account: ['gw-ce-b'] })).ErrorCode, 101001);
    const started = await ce(a, 'start_call', { CallInfo: { CallMediaType: 2, RoomId: '4242', RoomIdType: 1 }, CalleeList_Account: ['gw-ce-b'], Caller_Account: 'gw-ce-a', Timeout: 30000, UserData: '' });
    assert.equal(started.ErrorCode, 0, JSON.stringify(started));
    const callId = (started.Response as { CallId: string }).CallId;
    const inv = await b.waitFor((f) => f.head.servcmd === 'im_open_push.msg_push' && JSON.stringify(f.body).includes('invite_user_notify'));
    const content = JSON.parse((inv.body.EventArray as Array<{ Content: string }>)[0]!.Content) as { Head: { Command: string }; Data: { CallInfo: { CallId: string; RoomId: string; CallMediaType: number } } };
    assert.deepEqual([content.Data.CallInfo.CallId, content.Data.CallInfo.RoomId, content.Data.CallInfo.CallMediaType], [callId, '4242', 2]);
    assert.equal(((await ce(b, 'get_invitation', { User_Account: 'gw-ce-b' })).Response as { CallInfo: { CallId: string } }).CallInfo.CallId, callId);
    const c = await user('gw-ce-c');
    const busy = await ce(c, 'start_call', { CallInfo: { CallMediaType: 1, RoomId: '4243', RoomIdType: 1 }, CalleeList_Account: ['gw-ce-b'] });
    assert.deepEqual((busy.Response as { CallResult: unknown }).CallResult, [{ Callee_Account: 'gw-ce-b', ResultCode: 2 }]);
    assert.equal((await ce(c, 'hangup', { CallId: callId })).ErrorCode, 101004, 'not a member');
    assert.equal((await ce(a, 'hangup', { CallId: callId })).ErrorCode, 0);
    await b.waitFor((f) => JSON.stringify(f.body).includes('invite_canceled_notify'));
  });
});
