import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import TLSSigAPIv2 from 'tls-sig-api-v2';
import { callbackSign } from '../../auth/callback-sign.ts';
import { MAX_CALLBACK_URL_CHARS, parseSettings } from '../../services/apps/settings.ts';
import { CALL_CALLBACK_COMMANDS, GIFT_NON_BLOCKING_COMMAND, LIVE_CALLBACK_COMMANDS, MAX_CALLBACK_COMMANDS } from '../../webhooks/callback-config.ts';
import { startReceiver, type Receiver } from '../../../test/helpers/receiver.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';
import { concurrentCodes, ENVELOPE, expectCode, freezeClock, withFreshServer, type Envelope } from './testkit.ts';

const CALL_SET = 'call_config/set_callback';
const CALL_GET = 'call_config/get_callback';
const CALL_DELETE = 'call_config/delete_callback';
const LIVE_SET = 'live_config/set_callback';
const LIVE_GET = 'live_config/get_callback';
const LIVE_UPDATE = 'live_config/update_callback';
const LIVE_DELETE = 'live_config/delete_callback';

/** The set_callback sample of https://trtc.io/document/68938. */
const CALL_SAMPLE = { Url: 'http://www.example.com/callback', CallbackCommandList: ['Call.CallbackAfterStartCall', 'Call.CallbackAfterEndCall', 'Call.CallbackAfterMemberChanged'] };
/** The set_callback sample of https://tencentcloud.com/document/product/647/64420. */
const LIVE_SAMPLE = { Url: 'http://www.example.com/callback', CallbackCommandList: ['Live.CallbackAfterCreateRoom', 'Live.CallbackAfterDestroyRoom', 'Live.CallbackAfterMemberStateChanged'] };

let t: TestServer;
let rx: Receiver;
/** The admin's UserSig from Tencent's own generator (npm tls-sig-api-v2). */
let adminSig: string;

/** POSTs a command as the app's administrator, signed by the official library (query fields overridable). */
function rest(command: string, body: unknown, query: Record<string, string | undefined> = {}): Promise<Envelope> {
  return t.rest(command, body, { usersig: adminSig, ...query });
}

async function expectError(command: string, body: unknown, code: number, info: RegExp, query: Record<string, string | undefined> = {}): Promise<void> {
  const env = await rest(command, body, query);
  const what = `${command} ${JSON.stringify(body).slice(0, 120)}`;
  expectCode(env, code, what);
  assert.match(String(env.ErrorInfo), info, `${what}: ErrorInfo ${String(env.ErrorInfo)}`);
}

async function importAccounts(ids: string[]): Promise<void> {
  expectCode(await rest('im_open_login_svc/multiaccount_import', { Accounts: ids }), 0, 'import');
}

/** The outbox rows queued for one call. */
async function queuedFor(callId: string): Promise<Array<{ command: string; status: string }>> {
  const rows = await t.server.store.outbox.list({ sdkAppId: t.app.sdkAppId, limit: 1000 });
  return rows.filter((r) => r.body.includes(callId)).map((r) => ({ command: r.command, status: r.status }));
}

/** Starts a call from a robot to bob through REST, then ends it; returns its CallId. */
async function callAndEnd(): Promise<string> {
  const started = expectCode(await rest('call_engine_http_srv/start_call_by_robot', { Robot_Account: 'robot', CalleeList_Account: ['bob'], Timeout: 30000, CallInfo: { MediaType: 'Audio' } }), 0, 'start_call_by_robot');
  const callId = (started.Response as { CallId: string }).CallId;
  expectCode(await rest('call_engine_http_srv/end_call', { CallId: callId }), 0, 'end_call');
  await t.server.callbacks.settled();
  return callId;
}

before(async () => {
  rx = await startReceiver();
  t = await startTestServer();
  adminSig = new TLSSigAPIv2.Api(t.app.sdkAppId, t.app.secretKey).genUserSig('administrator', 86400);
  await t.server.apps.update(t.app.sdkAppId, { rateLimits: 'off', 'callback.token': 'call-token' });
  await importAccounts(['robot', 'bob', 'user1', 'user2']);
});
after(async () => {
  await t.close();
  await rx.close();
});
beforeEach(() => {
  rx.all.length = 0;
  rx.respond(null);
});

// https://trtc.io/document/68938, https://trtc.io/document/68937, https://trtc.io/document/68939
describe('call_config: set, get and delete the Call.* callback configuration', () => {
  it('get answers 100301 while nothing is configured (https://cloud.tencent.com/document/product/647/116419)', async () => {
    await expectError(CALL_GET, {}, 100301, /does not exist/);
  });

  it('set takes the documented sample with the plain envelope; get returns it under Response', async () => {
    const set = expectCode(await rest(CALL_SET, CALL_SAMPLE), 0, 'set');
    assert.deepEqual(Object.keys(set), ENVELOPE);
    const got = expectCode(await rest(CALL_GET, {}), 0, 'get');
    assert.deepEqual(Object.keys(got), [...ENVELOPE, 'Response']);
    assert.deepEqual(got.Response, CALL_SAMPLE);
  });

  it('a later set overwrites the configuration; repeated words are kept once; it is stored in the app settings', async () => {
    expectCode(await rest(CALL_SET, { Url: 'https://app.example.com/cb?x=1', CallbackCommandList: ['Call.CallbackAfterEndCall', 'Call.CallbackAfterEndCall'] }), 0);
    assert.deepEqual((await rest(CALL_GET, {})).Response, { Url: 'https://app.example.com/cb?x=1', CallbackCommandList: ['Call.CallbackAfterEndCall'] });
    const row = await t.server.store.apps.get(t.app.sdkAppId);
    assert.deepEqual(parseSettings(row!.settings).callbacks.call, { url: 'https://app.example.com/cb?x=1', commands: ['Call.CallbackAfterEndCall'] });
  });

  it('only listed commands are sent: with Call.CallbackAfterEndCall alone, a REST call sends only its end, signed', async () => {
    expectCode(await rest(CALL_SET, { Url: rx.url, CallbackCommandList: ['Call.CallbackAfterEndCall'] }), 0);
    const callId = await callAndEnd();
    const [cb] = await rx.waitDelivered(1);
    await t.server.callbacks.settled();
    assert.equal(rx.all.length, 1, `only one callback: ${rx.all.map((r) => r.query.get('CallbackCommand')).join(', ')}`);
    assert.equal(cb!.query.get('CallbackCommand'), 'Call.CallbackAfterEndCall');
    assert.equal(cb!.body.CallbackCommand, 'Call.CallbackAfterEndCall');
    assert.equal((cb!.body.CallRecord as { CallId: string }).CallId, callId);
    assert.equal(cb!.query.get('SdkAppid'), String(t.app.sdkAppId));
    assert.equal(cb!.query.get('Sign'), callbackSign('call-token', Number(cb!.query.get('RequestTime'))), 'signed with callback.token');
    assert.deepEqual(await queuedFor(callId), [{ command: 'Call.CallbackAfterEndCall', status: 'delivered' }], 'the unwanted StartCall was never queued');
  });

  it('a queued callback whose command is no longer wanted is dropped at delivery, not sent', async () => {
    const now = Date.now();
    await t.server.store.outbox.enqueue([
      { sdk_app_id: t.app.sdkAppId, command: 'Call.CallbackAfterMemberChanged', order_key: 'call:dropme', body: '{"CallId":"dropme"}', client_ip: '', platform: 'RESTAPI', status: 'pending', attempts: 0, next_attempt_at: now, created_at: now, delivered_at: 0, last_status: 0, last_error: '' },
    ]);
    t.server.callbacks.kick();
    await t.server.callbacks.settled();
    const [row] = (await t.server.store.outbox.list({ sdkAppId: t.app.sdkAppId, limit: 100 })).filter((r) => r.order_key === 'call:dropme');
    assert.equal(row!.status, 'dropped');
    assert.match(row!.last_error, /no longer wants Call.CallbackAfterMemberChanged/);
    assert.equal(rx.all.length, 0);
  });

  it('delete removes it: get answers 100301 and a call sends nothing; deleting again still succeeds', async () => {
    const del = expectCode(await rest(CALL_DELETE, {}), 0, 'delete');
    assert.deepEqual(Object.keys(del), ENVELOPE);
    await expectError(CALL_GET, {}, 100301, /does not exist/);
    const callId = await callAndEnd();
    assert.deepEqual(await queuedFor(callId), []);
    assert.equal(rx.all.length, 0);
    expectCode(await rest(CALL_DELETE, {}), 0, 'delete with nothing configured');
  });
});

// https://tencentcloud.com/document/product/647/64420 (set), 64418 (get), https://cloud.tencent.com/document/product/269/117540 (update), 64421 (delete)
describe('live_config: set, get, update and delete the Live.* callback configuration', () => {
  it('get and update answer 100301 while nothing is configured', async () => {
    await expectError(LIVE_GET, {}, 100301, /does not exist/);
    await expectError(LIVE_UPDATE, LIVE_SAMPLE, 100301, /does not exist/);
  });

  it('set takes the documented sample; get returns it; a second set answers 100300', async () => {
    assert.deepEqual(Object.keys(expectCode(await rest(LIVE_SET, LIVE_SAMPLE), 0, 'set')), ENVELOPE);
    assert.deepEqual(expectCode(await rest(LIVE_GET, {}), 0).Response, LIVE_SAMPLE);
    await expectError(LIVE_SET, { Url: 'http://other/cb', CallbackCommandList: [] }, 100300, /already exists/);
    assert.deepEqual((await rest(LIVE_GET, {})).Response, LIVE_SAMPLE, 'unchanged by the refused set');
  });

  it('update replaces the URL and the list (the update sample of https://cloud.tencent.com/document/product/269/117540)', async () => {
    const sample = { Url: 'https://www.example.com/callback2', CallbackCommandList: ['Live.CallbackAfterCreateRoom', 'Live.CallbackAfterDestroyRoom'] };
    assert.deepEqual(Object.keys(expectCode(await rest(LIVE_UPDATE, sample), 0, 'update')), ENVELOPE);
    assert.deepEqual((await rest(LIVE_GET, {})).Response, sample);
  });

  it('the live configuration decides Live.CallbackBeforeSendGift (https://cloud.tencent.com/document/product/647/121916), signed with the live_config token', async () => {
    // Nothing below sends Live.CallbackAfterDestroyRoom: no callback leaves for the sample's example.com address.
    expectCode(await rest(LIVE_UPDATE, { Url: rx.url, CallbackCommandList: ['Live.CallbackAfterDestroyRoom'] }), 0);
    const room = await rest('live_engine_http_srv/create_room', { RoomInfo: { RoomId: 'cfg-room', Owner_Account: 'administrator' } });
    if (room.ErrorCode === 60009) await t.server.live.create(t.app.sdkAppId, 'cfg-room', 'administrator', {});
    else expectCode(room, 0, 'create_room');
    expectCode(await rest('live_engine_http_srv/add_gift', { GiftId: 'g1', IconUrl: 'https://x/1.png', ResourceUrl: 'https://x/2.png', Coins: 5, Level: 1, ExtensionInfo: '', DefaultName: '', DefaultDesc: '' }), 0, 'add_gift');
    const gift = { RoomId: 'cfg-room', GiftId: 'g1', Count: 1, From_Account: 'user1', ReceiverList_Account: ['user2'] };

    expectCode(await rest(LIVE_UPDATE, { Url: rx.url, CallbackCommandList: ['Live.CallbackAfterCreateRoom'] }), 0);
    expectCode(await rest(CALL_SET, { Url: rx.url, CallbackCommandList: [...CALL_CALLBACK_COMMANDS] }), 0);
    expectCode(await rest('live_engine_http_srv/send_gift', gift), 0, 'not in the live list (the call list does not count): sent without asking');
    assert.equal(rx.all.length, 0);

    expectCode(await rest('live_config/set_callback_token', { Token: 'live-token', IsTokenEnable: true }), 0);
    expectCode(await rest(LIVE_UPDATE, { Url: rx.url, CallbackCommandList: ['Live.CallbackBeforeSendGift'] }), 0);
    rx.respond(() => ({ status: 200, body: JSON.stringify({ ActionStatus: 'FAIL', ErrorInfo: 'no', ErrorCode: 1 }) }));
    await expectError('live_engine_http_srv/send_gift', gift, 102004, /refused the gift/);
    const [cb] = rx.all;
    assert.equal(cb!.query.get('CallbackCommand'), 'Live.CallbackBeforeSendGift');
    assert.equal(cb!.query.get('Sign'), callbackSign('live-token', Number(cb!.query.get('RequestTime'))));
    expectCode(await rest(CALL_DELETE, {}), 0);
  });

  it('Live.CallbackBeforeCallBackNotBlock in the list lets a gift through when the before-callback fails (https://cloud.tencent.com/document/product/269/117536)', async () => {
    const gift = { RoomId: 'cfg-room', GiftId: 'g1', Count: 1, From_Account: 'user1', ReceiverList_Account: ['user2'] };
    rx.respond(() => ({ status: 500, body: '{}' }));
    await expectError('live_engine_http_srv/send_gift', gift, 102004, /HTTP 500/);
    expectCode(await rest(LIVE_UPDATE, { Url: rx.url, CallbackCommandList: ['Live.CallbackBeforeSendGift', GIFT_NON_BLOCKING_COMMAND] }), 0);
    assert.deepEqual((await rest(LIVE_GET, {})).Response, { Url: rx.url, CallbackCommandList: ['Live.CallbackBeforeSendGift', GIFT_NON_BLOCKING_COMMAND] });
    expectCode(await rest('live_engine_http_srv/send_gift', gift), 0, 'non-blocking');
    rx.respond(() => ({ status: 200, body: JSON.stringify({ ActionStatus: 'FAIL', ErrorInfo: 'no', ErrorCode: 1 }) }));
    await expectError('live_engine_http_srv/send_gift', gift, 102004, /refused the gift/);
    assert.equal(rx.all.length, 3, 'asked every time');
  });

  it('delete removes it (get and update then answer 100301); deleting again succeeds, as 64421 lists no not-found code', async () => {
    assert.deepEqual(Object.keys(expectCode(await rest(LIVE_DELETE, {}), 0, 'delete')), ENVELOPE);
    await expectError(LIVE_GET, {}, 100301, /does not exist/);
    await expectError(LIVE_UPDATE, LIVE_SAMPLE, 100301, /does not exist/);
    expectCode(await rest(LIVE_DELETE, {}), 0, 'again');
    expectCode(await rest('live_engine_http_srv/send_gift', { RoomId: 'cfg-room', GiftId: 'g1', Count: 1, From_Account: 'user1', ReceiverList_Account: ['user2'] }), 0, 'no live configuration: no before-callback');
    assert.equal(rx.all.length, 0);
  });

  it('every documented Live command word is accepted, and get lists them back', async () => {
    expectCode(await rest(LIVE_SET, { Url: 'http://x/cb', CallbackCommandList: [...LIVE_CALLBACK_COMMANDS] }), 0);
    assert.deepEqual((await rest(LIVE_GET, {})).Response, { Url: 'http://x/cb', CallbackCommandList: [...LIVE_CALLBACK_COMMANDS] });
    expectCode(await rest(LIVE_DELETE, {}), 0);
  });
});

// https://trtc.io/document/68938 and https://tencentcloud.com/document/product/647/64420: Url (String, required, must start
// with http/https) and CallbackCommandList (Array, required); 100002 "invalid parameter" on every page of the family.
describe('bad input: 100002 naming the problem, and nothing stored', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['missing Url', { CallbackCommandList: [] }, /\/Url: Expected required property/],
    ['missing CallbackCommandList', { Url: 'http://x/cb' }, /\/CallbackCommandList: Expected required property/],
    ['Url not a string', { Url: 5, CallbackCommandList: [] }, /\/Url: Expected string/],
    ['CallbackCommandList not an array', { Url: 'http://x/cb', CallbackCommandList: 'Call.CallbackAfterEndCall' }, /\/CallbackCommandList: Expected array/],
    ['a command word not a string', { Url: 'http://x/cb', CallbackCommandList: [1] }, /\/CallbackCommandList\/0: Expected string/],
    ['Url not http(s)', { Url: 'ftp://x/cb', CallbackCommandList: [] }, /Url must be an http:\/\/ or https:\/\/ URL/],
    ['Url without a scheme', { Url: 'www.example.com/callback', CallbackCommandList: [] }, /Url must be an http:\/\/ or https:\/\/ URL/],
    ['Url with a space', { Url: 'http://x/c b', CallbackCommandList: [] }, /Url must be an http:\/\/ or https:\/\/ URL/],
    ['Url too long', { Url: `http://x/${'a'.repeat(MAX_CALLBACK_URL_CHARS)}`, CallbackCommandList: [] }, new RegExp(`at most ${MAX_CALLBACK_URL_CHARS} characters`)],
    ['CallbackCommandList too long', { Url: 'http://x/cb', CallbackCommandList: Array.from({ length: MAX_CALLBACK_COMMANDS + 1 }, () => 'Call.CallbackAfterEndCall') }, new RegExp(`at most ${MAX_CALLBACK_COMMANDS} entries`)],
  ];
  for (const command of [CALL_SET, LIVE_SET]) {
    for (const [what, body, info] of cases) {
      it(`${command}: ${what}`, async () => {
        await expectError(command, body, 100002, info);
        await expectError(command === CALL_SET ? CALL_GET : LIVE_GET, {}, 100301, /does not exist/);
      });
    }
  }

  it('an unknown command word, or one of the other family, is refused', async () => {
    await expectError(CALL_SET, { Url: 'http://x/cb', CallbackCommandList: ['Call.CallbackAfterStartCall', 'Call.CallbackBeforeStartCall'] }, 100002, /"Call.CallbackBeforeStartCall" is not a call callback command/);
    await expectError(CALL_SET, { Url: 'http://x/cb', CallbackCommandList: ['Live.CallbackAfterCreateRoom'] }, 100002, /"Live.CallbackAfterCreateRoom" is not a call callback command/);
    await expectError(LIVE_SET, { Url: 'http://x/cb', CallbackCommandList: ['Call.CallbackAfterEndCall'] }, 100002, /"Call.CallbackAfterEndCall" is not a live callback command/);
    await expectError(LIVE_SET, { Url: 'http://x/cb', CallbackCommandList: ['live.callbackaftercreateroom'] }, 100002, /is not a live callback command/);
    await expectError(CALL_GET, {}, 100301, /does not exist/);
  });

  it('update checks its body the same way and keeps the stored configuration', async () => {
    expectCode(await rest(LIVE_SET, LIVE_SAMPLE), 0);
    await expectError(LIVE_UPDATE, { Url: 'ftp://x', CallbackCommandList: [] }, 100002, /Url must be/);
    await expectError(LIVE_UPDATE, { Url: 'http://x/cb', CallbackCommandList: ['Nope'] }, 100002, /"Nope" is not a live callback command/);
    await expectError(LIVE_UPDATE, { Url: 'http://x/cb' }, 100002, /\/CallbackCommandList: Expected required property/);
    assert.deepEqual((await rest(LIVE_GET, {})).Response, LIVE_SAMPLE);
    expectCode(await rest(LIVE_DELETE, {}), 0);
  });
});

// https://trtc.io/document/68938: identifier "must be an App administrator account", usersig generated for it.
describe('who may configure callbacks', () => {
  const all = [CALL_SET, CALL_GET, CALL_DELETE, LIVE_SET, LIVE_GET, LIVE_UPDATE, LIVE_DELETE];

  it('unauthenticated requests get the UserSig codes (70002 empty, 70003 corrupt, 70009 another key)', async () => {
    const otherKey = new TLSSigAPIv2.Api(t.app.sdkAppId, '0'.repeat(64)).genUserSig('administrator', 86400);
    for (const command of all) {
      expectCode(await rest(command, CALL_SAMPLE, { usersig: '' }), 70002, command);
      expectCode(await rest(command, CALL_SAMPLE, { usersig: 'not-a-usersig' }), 70003, command);
      expectCode(await rest(command, CALL_SAMPLE, { usersig: otherKey }), 70009, command);
    }
  });

  it('a user who is not an app administrator gets 60010', async () => {
    const bobSig = new TLSSigAPIv2.Api(t.app.sdkAppId, t.app.secretKey).genUserSig('bob', 86400);
    for (const command of all) expectCode(await rest(command, CALL_SAMPLE, { identifier: 'bob', usersig: bobSig }), 60010, command);
    await expectError(CALL_GET, {}, 100301, /does not exist/);
  });

  it("another app's admin cannot reach this app (70014), and each app has its own configuration", async () => {
    const other = await t.server.apps.create();
    const otherSig = new TLSSigAPIv2.Api(other.sdkAppId, other.secretKey).genUserSig('administrator', 86400);
    expectCode(await rest(CALL_SET, CALL_SAMPLE, { usersig: otherSig }), 70014, 'the other app signs for this SDKAppID');
    expectCode(await rest(CALL_SET, CALL_SAMPLE), 0);
    await expectError(CALL_GET, {}, 100301, /does not exist/, { sdkappid: String(other.sdkAppId), usersig: otherSig });
    expectCode(await rest(CALL_DELETE, {}, { sdkappid: String(other.sdkAppId), usersig: otherSig }), 0);
    assert.deepEqual((await rest(CALL_GET, {})).Response, CALL_SAMPLE, "the other app's delete left this one alone");
    expectCode(await rest(CALL_DELETE, {}), 0);
  });
});

// trtcd's own shortcut (docs/compatibility.md); get_callback's reply shape from https://trtc.io/document/68937.
describe('the CLI shortcut callback.url', () => {
  it('configures both families with every command; get lists them; live set then answers 100300', async () => {
    await t.server.apps.update(t.app.sdkAppId, { 'callback.url': 'http://cli.example.com/cb' });
    assert.deepEqual((await rest(CALL_GET, {})).Response, { Url: 'http://cli.example.com/cb', CallbackCommandList: [...CALL_CALLBACK_COMMANDS] });
    assert.deepEqual((await rest(LIVE_GET, {})).Response, { Url: 'http://cli.example.com/cb', CallbackCommandList: [...LIVE_CALLBACK_COMMANDS] });
    await expectError(LIVE_SET, LIVE_SAMPLE, 100300, /already exists/);
  });

  it('moves the URL of a list set by API and keeps the list; empty removes both', async () => {
    expectCode(await rest(CALL_SET, { Url: 'http://api/cb', CallbackCommandList: ['Call.CallbackAfterEndCall'] }), 0);
    await t.server.apps.update(t.app.sdkAppId, { 'callback.url': 'https://moved/cb' });
    assert.deepEqual((await rest(CALL_GET, {})).Response, { Url: 'https://moved/cb', CallbackCommandList: ['Call.CallbackAfterEndCall'] });
    await t.server.apps.update(t.app.sdkAppId, { 'callback.url': '' });
    await expectError(CALL_GET, {}, 100301, /does not exist/);
    await expectError(LIVE_GET, {}, 100301, /does not exist/);
  });
});

// https://trtc.io/document/68938 etc.: "Maximum calling frequency: 200 times per second".
describe('rate limits: 200/s per command', () => {
  freezeClock();

  it('205 concurrent requests: 200 pass, 5 get 60007', () =>
    withFreshServer(async (fresh) => {
      for (const command of [CALL_GET, LIVE_GET]) {
        const codes = await concurrentCodes(fresh, command, {}, 205);
        assert.equal(codes.filter((c) => c === 100301).length, 200, command);
        assert.equal(codes.filter((c) => c === 60007).length, 5, command);
      }
    }));
});
