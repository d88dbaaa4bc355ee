import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it, mock } from 'node:test';
import { callbackSign } from '../../auth/callback-sign.ts';
import { MAX_GIFT_COUNT, MAX_RECEIVERS } from '../../services/gifts/gifts-service.ts';
import { startReceiver, type Receiver } from '../../../test/helpers/receiver.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';
import { concurrentCodes, ENVELOPE, expectCode, freezeClock, withFreshServer } from './testkit.ts';

const S = 'live_engine_http_srv';
const SEND = `${S}/send_gift`;
const COUNT = `${S}/get_gift_count`;

/** The send_gift sample body of the source document (https://trtc.io/document/72556). */
const SAMPLE = { RoomId: 'room_id', GiftId: 'gift1', Count: 1, From_Account: 'user1', ReceiverList_Account: ['user2'] };
/** The add_gift sample body of the docs, with the GiftId the send_gift sample uses. */
const GIFT1 = { GiftId: 'gift1', IconUrl: 'https://www.xxx.com/xxx1.png', ResourceUrl: 'https://www.xxx.com/xxx2.png', Coins: 10, Level: 1, ExtensionInfo: '{"key": "value"}', DefaultName: '', DefaultDesc: '' };

/** Expects `code` with an ErrorInfo matching `info`. */
async function expectError(s: TestServer, command: string, body: unknown, code: number, info: RegExp): Promise<void> {
  const env = await s.rest(command, body);
  const what = `${command} ${JSON.stringify(body).slice(0, 200)}`;
  expectCode(env, code, what);
  assert.match(String(env.ErrorInfo), info, `${what}: ErrorInfo ${String(env.ErrorInfo)}`);
}

/** Creates a room through the REST command (falls back to the service while create_room is not wired). */
async function createRoom(s: TestServer, roomId: string, owner = 'administrator'): Promise<void> {
  const env = await s.rest(`${S}/create_room`, { RoomInfo: { RoomId: roomId, Owner_Account: owner } });
  if (env.ErrorCode === 60009) await s.server.live.create(s.app.sdkAppId, roomId, owner, {});
  else expectCode(env, 0, `create_room ${roomId}`);
}

async function importAccounts(s: TestServer, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 100) {
    const env = await s.rest('im_open_login_svc/multiaccount_import', { Accounts: ids.slice(i, i + 100) });
    assert.deepEqual(env.FailAccounts, []);
  }
}

async function count(s: TestServer, roomId: string, user: string): Promise<{ Sequence: number; TotalCount: number; TotalCoins: number; GiftSenderCount: number }> {
  const env = expectCode(await s.rest(COUNT, { RoomId: roomId, From_Account: user }), 0);
  assert.deepEqual(Object.keys(env), [...ENVELOPE, 'Response']);
  return env.Response as { Sequence: number; TotalCount: number; TotalCoins: number; GiftSenderCount: number };
}

let t: TestServer;
let rx: Receiver;
before(async () => {
  rx = await startReceiver();
  t = await startTestServer();
  await t.server.apps.update(t.app.sdkAppId, { rateLimits: 'off' });
  await importAccounts(t, ['user1', 'user2', 'user3', 'host', ...Array.from({ length: 50 }, (_, i) => `fan${i}`)]);
  await createRoom(t, 'room_id');
  expectCode(await t.rest(`${S}/add_gift`, GIFT1), 0, 'add_gift sample');
});
after(async () => {
  await t.close();
  await rx.close();
});

describe('send_gift: the documented samples', () => {
  it('the sample body succeeds after create_room + add_gift, with the plain envelope', async () => {
    const before = await count(t, 'room_id', 'user2');
    const env = expectCode(await t.rest(SEND, SAMPLE), 0);
    assert.deepEqual(Object.keys(env), ENVELOPE);
    const after = await count(t, 'room_id', 'user2');
    assert.equal(after.TotalCount, before.TotalCount + 1);
    assert.equal(after.TotalCoins, before.TotalCoins + 10);
    assert.equal(after.Sequence, before.Sequence + 1);
  });

  it('Count is optional (default 1)', async () => {
    const before = await count(t, 'room_id', 'user2');
    const { Count: _c, ...noCount } = SAMPLE;
    expectCode(await t.rest(SEND, noCount), 0);
    assert.equal((await count(t, 'room_id', 'user2')).TotalCount, before.TotalCount + 1);
  });

  it('publishes the gift on the bus only once it is recorded', async () => {
    const seen: unknown[] = [];
    const off = t.server.bus.subscribe('live.event', (e) => {
      const ev = e as { type: string; roomId: string; data: unknown };
      if (ev.type === 'gift') seen.push(ev);
    });
    try {
      expectCode(await t.rest(SEND, { ...SAMPLE, Count: 3, ReceiverList_Account: ['user2', 'user3'] }), 0);
    } finally {
      off();
    }
    assert.equal(seen.length, 1);
    const ev = seen[0] as { roomId: string; data: Record<string, unknown> };
    assert.equal(ev.roomId, 'room_id');
    assert.deepEqual(
      { from: ev.data.from, receivers: ev.data.receivers, giftId: ev.data.giftId, count: ev.data.count, coins: ev.data.coins },
      { from: 'user1', receivers: ['user2', 'user3'], giftId: 'gift1', count: 3, coins: 10 },
    );
  });
});

describe('send_gift: every error code of the table, each in its own situation', () => {
  it('102001 when the app gift feature is off (app set features.gift=false)', async () => {
    await t.server.apps.update(t.app.sdkAppId, { 'features.gift': false });
    try {
      await expectError(t, SEND, SAMPLE, 102001, /Gift capability not enabled.*features\.gift/);
      await expectError(t, COUNT, { RoomId: 'room_id', From_Account: 'user2' }, 102001, /gift feature is off/);
      await expectError(t, `${S}/get_gift`, { GiftId: 'gift1' }, 102001, /gift feature is off/);
    } finally {
      await t.server.apps.update(t.app.sdkAppId, { 'features.gift': true });
    }
    expectCode(await t.rest(SEND, SAMPLE), 0);
  });

  it('100004 for a room that does not exist', async () => {
    await expectError(t, SEND, { ...SAMPLE, RoomId: 'no_such_room' }, 100004, /room no_such_room does not exist/);
    await expectError(t, COUNT, { RoomId: 'no_such_room', From_Account: 'user2' }, 100004, /does not exist/);
  });

  it('102002 for a GiftId that was never configured', async () => {
    await expectError(t, SEND, { ...SAMPLE, GiftId: 'gift_unknown' }, 102002, /The gift ID does not exist\. GiftId gift_unknown does not exist/);
  });

  it('102008 when the room gift switch is off (IsGiftEnabled false)', async () => {
    await createRoom(t, 'quiet_room');
    await t.server.live.update(t.app.sdkAppId, 'quiet_room', { IsGiftEnabled: false });
    await expectError(t, SEND, { ...SAMPLE, RoomId: 'quiet_room' }, 102008, /Gift switch in current room not enabled.*quiet_room/);
    await t.server.live.update(t.app.sdkAppId, 'quiet_room', { IsGiftEnabled: true });
    expectCode(await t.rest(SEND, { ...SAMPLE, RoomId: 'quiet_room' }), 0);
  });

  it('100002 for an invalid RoomId: empty, longer than 48 bytes, not a string', async () => {
    await expectError(t, SEND, { ...SAMPLE, RoomId: '' }, 100002, /RoomId is empty/);
    await expectError(t, SEND, { ...SAMPLE, RoomId: 'r'.repeat(49) }, 100002, /RoomId is longer than 48 bytes/);
    await expectError(t, SEND, { ...SAMPLE, RoomId: 123 }, 100002, /\/RoomId: Expected string/);
  });

  it('100002 for Count 0, negative, not an integer, too large, not a number', async () => {
    await expectError(t, SEND, { ...SAMPLE, Count: 0 }, 100002, /Count must be an integer from 1 to 9999, got 0/);
    await expectError(t, SEND, { ...SAMPLE, Count: -1 }, 100002, /Count must be an integer from 1 to 9999, got -1/);
    await expectError(t, SEND, { ...SAMPLE, Count: 1.5 }, 100002, /\/Count: Expected integer/);
    await expectError(t, SEND, { ...SAMPLE, Count: MAX_GIFT_COUNT + 1 }, 100002, /Count must be an integer from 1 to 9999, got 10000/);
    await expectError(t, SEND, { ...SAMPLE, Count: '1' }, 100002, /\/Count: Expected integer/);
    expectCode(await t.rest(SEND, { ...SAMPLE, Count: MAX_GIFT_COUNT }), 0);
  });

  it('100002 for an empty receiver list or more than 100 receivers', async () => {
    await expectError(t, SEND, { ...SAMPLE, ReceiverList_Account: [] }, 100002, /ReceiverList_Account is empty/);
    const many = Array.from({ length: MAX_RECEIVERS + 1 }, (_, i) => `fan${i % 50}`);
    await expectError(t, SEND, { ...SAMPLE, ReceiverList_Account: many }, 100002, /at most 100 accounts, got 101/);
    await expectError(t, SEND, { ...SAMPLE, ReceiverList_Account: ['user2', ''] }, 100002, /empty UserID/);
  });

  it('100002 naming an unknown From_Account or unknown receivers', async () => {
    await expectError(t, SEND, { ...SAMPLE, From_Account: 'ghost' }, 100002, /From_Account ghost is not an imported account/);
    await expectError(t, SEND, { ...SAMPLE, ReceiverList_Account: ['user2', 'ghost1', 'ghost2'] }, 100002, /not imported: ghost1, ghost2/);
    await expectError(t, SEND, { ...SAMPLE, From_Account: '' }, 100002, /From_Account is empty/);
  });

  it('100002 naming each missing field', async () => {
    for (const field of ['RoomId', 'GiftId', 'From_Account', 'ReceiverList_Account'] as const) {
      const body: Record<string, unknown> = { ...SAMPLE };
      delete body[field];
      await expectError(t, SEND, body, 100002, new RegExp(`/${field}: Expected required property`));
    }
  });

  it('100002 naming each field of the wrong type (not 60015: live APIs answer 100002)', async () => {
    await expectError(t, SEND, { ...SAMPLE, GiftId: 1 }, 100002, /\/GiftId: Expected string/);
    await expectError(t, SEND, { ...SAMPLE, From_Account: 7 }, 100002, /\/From_Account: Expected string/);
    await expectError(t, SEND, { ...SAMPLE, ReceiverList_Account: 'user2' }, 100002, /\/ReceiverList_Account: Expected array/);
    await expectError(t, SEND, { ...SAMPLE, ReceiverList_Account: ['user2', 3] }, 100002, /\/ReceiverList_Account\/1: Expected string/);
    await expectError(t, COUNT, { RoomId: 'room_id', From_Account: null }, 100002, /\/From_Account: Expected string/);
  });
});

describe('send_gift: Live.CallbackBeforeSendGift', () => {
  beforeEach(async () => {
    rx.all.length = 0;
    rx.respond(null);
    await t.server.apps.update(t.app.sdkAppId, { 'callback.url': rx.url, 'callback.token': 'tok' });
  });
  afterEach(async () => {
    rx.respond(null);
    await t.server.apps.update(t.app.sdkAppId, { 'callback.url': '', 'callback.token': '', 'liveCallback.token': '', 'liveCallback.giftNonBlocking': false });
  });

  it('asks the app server with the documented body, query string and Sign/RequestTime, then records the gift', async () => {
    const before = await count(t, 'room_id', 'user2');
    const t0 = Math.floor(Date.now() / 1000);
    expectCode(await t.rest(SEND, { ...SAMPLE, Count: 2 }), 0);
    assert.equal(rx.all.length, 1);
    const [cb] = rx.all;
    assert.deepEqual(Object.keys(cb!.body), ['CallbackCommand', 'Operator_Account', 'RoomId', 'GiftWater']);
    const water = cb!.body.GiftWater as Record<string, unknown>;
    assert.deepEqual(Object.keys(water), ['From_Account', 'To_Account', 'Time', 'GiftId', 'Count', 'Coins']);
    assert.deepEqual({ ...cb!.body, GiftWater: { ...water, Time: 0 } }, {
      CallbackCommand: 'Live.CallbackBeforeSendGift',
      Operator_Account: 'user1',
      RoomId: 'room_id',
      GiftWater: { From_Account: 'user1', To_Account: ['user2'], Time: 0, GiftId: 'gift1', Count: 2, Coins: 10 },
    });
    assert.ok(Number(water.Time) >= t0 && Number(water.Time) <= t0 + 2, `Time in seconds: ${String(water.Time)}`);
    const q = cb!.query;
    assert.deepEqual([...q.keys()], ['SdkAppid', 'CallbackCommand', 'contenttype', 'ClientIP', 'OptPlatform', 'Sign', 'RequestTime']);
    assert.equal(q.get('SdkAppid'), String(t.app.sdkAppId));
    assert.equal(q.get('CallbackCommand'), 'Live.CallbackBeforeSendGift');
    assert.equal(q.get('contenttype'), 'json');
    assert.match(q.get('ClientIP') ?? '', /127\.0\.0\.1/);
    assert.equal(q.get('OptPlatform'), 'RESTAPI');
    const requestTime = Number(q.get('RequestTime'));
    assert.ok(Math.abs(requestTime - t0) <= 2);
    assert.equal(q.get('Sign'), callbackSign('tok', requestTime));
    const after = await count(t, 'room_id', 'user2');
    assert.equal(after.TotalCount, before.TotalCount + 2);
  });

  it('signs with the live_config token once set and enabled; no Sign when it is disabled', async () => {
    expectCode(await t.rest('live_config/set_callback_token', { Token: 'live-token', IsTokenEnable: true }), 0);
    expectCode(await t.rest(SEND, SAMPLE), 0);
    const signed = rx.all.at(-1)!.query;
    assert.equal(signed.get('Sign'), callbackSign('live-token', Number(signed.get('RequestTime'))));
    expectCode(await t.rest('live_config/set_callback_token', { IsTokenEnable: false }), 0);
    expectCode(await t.rest(SEND, SAMPLE), 0);
    const unsigned = rx.all.at(-1)!.query;
    assert.equal(unsigned.get('Sign'), null);
    assert.equal(unsigned.get('RequestTime'), null);
  });

  const blocked: Array<[string, () => void, RegExp]> = [
    ['ErrorCode 1', () => rx.respond(() => ({ status: 200, body: JSON.stringify({ ActionStatus: 'FAIL', ErrorInfo: 'no coins', ErrorCode: 1 }) })), /refused the gift: ErrorCode 1 \(no coins\)/],
    ['HTTP 500', () => rx.respond(() => ({ status: 500, body: JSON.stringify({ ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0 }) })), /HTTP 500/],
    ['a body that is not JSON', () => rx.respond(() => ({ status: 200, body: 'OK' })), /not JSON/],
    ['a JSON reply without ErrorCode', () => rx.respond(() => ({ status: 200, body: '{"ActionStatus":"OK"}' })), /no numeric ErrorCode/],
  ];
  for (const [what, arrange, info] of blocked) {
    it(`102004 and nothing recorded when the app server answers ${what}`, async () => {
      arrange();
      const before = await count(t, 'room_id', 'user2');
      await expectError(t, SEND, SAMPLE, 102004, info);
      assert.equal(rx.all.length, 1, 'exactly one attempt: before-callbacks are never retried');
      assert.deepEqual(await count(t, 'room_id', 'user2'), before);
    });
  }

  it('102004 when the app server cannot be reached', async () => {
    const dead = await startReceiver();
    const url = dead.url;
    await dead.close();
    await t.server.apps.update(t.app.sdkAppId, { 'callback.url': url });
    await expectError(t, SEND, SAMPLE, 102004, /callback request failed/);
  });

  it('102004 when the app server does not answer within 2 s (mock timers: no real wait)', async () => {
    const before = await count(t, 'room_id', 'user2');
    rx.respond(() => 'hang');
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      let settled = false;
      const pending = t.rest(SEND, SAMPLE).then((env) => ((settled = true), env));
      await rx.waitAll(1);
      mock.timers.tick(1999);
      const until = performance.now() + 100;
      while (performance.now() < until) await new Promise((r) => setImmediate(r));
      assert.equal(settled, false, 'still waiting for the app server at 1999 ms');
      mock.timers.tick(1);
      const env = await pending;
      expectCode(env, 102004);
      assert.match(String(env.ErrorInfo), /no reply within 2000 ms/);
    } finally {
      mock.timers.reset();
    }
    assert.deepEqual(await count(t, 'room_id', 'user2'), before);
  });

  it('liveCallback.giftNonBlocking lets a gift through when the callback fails, but not when it refuses', async () => {
    await t.server.apps.update(t.app.sdkAppId, { 'liveCallback.giftNonBlocking': true });
    rx.respond(() => ({ status: 500, body: '' }));
    expectCode(await t.rest(SEND, SAMPLE), 0);
    rx.respond(() => ({ status: 200, body: '{"ActionStatus":"FAIL","ErrorInfo":"","ErrorCode":2}' }));
    await expectError(t, SEND, SAMPLE, 102004, /ErrorCode 2/);
  });

  it('no callback without a callback URL', async () => {
    await t.server.apps.update(t.app.sdkAppId, { 'callback.url': '' });
    expectCode(await t.rest(SEND, SAMPLE), 0);
    assert.equal(rx.all.length, 0);
  });
});

// From_Account is the "Gift sender" on https://www.tencentcloud.com/document/product/647/72557 and the "Gift receiver" on
// https://www.tencentcloud.website/ko/document/product/1071/76862: trtcd counts what it received (docs/compatibility.md, Choices).
describe('get_gift_count', () => {
  it('counts what a user received in the room: Count, Count × Coins, distinct senders; Sequence counts the room’s sends', async () => {
    await createRoom(t, 'count_room');
    expectCode(await t.rest(`${S}/add_gift`, { GiftId: 'rose', Coins: 3, DefaultName: 'Rose' }), 0);
    const zero = await count(t, 'count_room', 'host');
    assert.deepEqual(zero, { Sequence: 0, TotalCount: 0, TotalCoins: 0, GiftSenderCount: 0 });
    const send = (from: string, to: string[], n: number, giftId = 'rose') => t.rest(SEND, { RoomId: 'count_room', GiftId: giftId, Count: n, From_Account: from, ReceiverList_Account: to });
    expectCode(await send('user1', ['host'], 2), 0);
    expectCode(await send('user2', ['host', 'user3'], 5), 0);
    expectCode(await send('user1', ['user3'], 1, 'gift1'), 0);
    assert.deepEqual(await count(t, 'count_room', 'host'), { Sequence: 3, TotalCount: 7, TotalCoins: 21, GiftSenderCount: 2 });
    assert.deepEqual(await count(t, 'count_room', 'user3'), { Sequence: 3, TotalCount: 6, TotalCoins: 25, GiftSenderCount: 2 });
    assert.deepEqual(await count(t, 'count_room', 'nobody'), { Sequence: 3, TotalCount: 0, TotalCoins: 0, GiftSenderCount: 0 });
  });

  it('is exact after 50 concurrent senders (rate limits off)', async () => {
    await createRoom(t, 'busy_room');
    const perSender = 4;
    const fans = Array.from({ length: 50 }, (_, i) => `fan${i}`);
    const envs = await Promise.all(
      fans.flatMap((fan, i) => Array.from({ length: perSender }, (_, k) => t.rest(SEND, { RoomId: 'busy_room', GiftId: 'gift1', Count: 1 + ((i + k) % 3), From_Account: fan, ReceiverList_Account: ['host'] }))),
    );
    for (const env of envs) expectCode(env, 0);
    const expected = fans.reduce((a, _, i) => a + Array.from({ length: perSender }, (_, k) => 1 + ((i + k) % 3)).reduce((x, y) => x + y, 0), 0);
    assert.deepEqual(await count(t, 'busy_room', 'host'), { Sequence: 200, TotalCount: expected, TotalCoins: expected * 10, GiftSenderCount: 50 });
  });

  it('100002 for missing fields', async () => {
    await expectError(t, COUNT, { RoomId: 'room_id' }, 100002, /\/From_Account: Expected required property/);
    await expectError(t, COUNT, { From_Account: 'user2' }, 100002, /\/RoomId: Expected required property/);
    await expectError(t, COUNT, { RoomId: '', From_Account: 'user2' }, 100002, /RoomId is empty/);
  });
});

describe('gift catalogue commands', () => {
  it('add_gift accepts the documented sample (DefaultName "" included); get_gift returns a top-level GiftInfo', async () => {
    expectCode(await t.rest(`${S}/add_gift`, { ...GIFT1, GiftId: 'GId1', DefaultName: '', DefaultDesc: '' }), 0);
    const env = expectCode(await t.rest(`${S}/get_gift`, { GiftId: 'GId1' }), 0);
    assert.deepEqual(Object.keys(env), [...ENVELOPE, 'GiftInfo']);
    assert.deepEqual(env.GiftInfo, { GiftId: 'GId1', IconUrl: 'https://www.xxx.com/xxx1.png', ResourceUrl: 'https://www.xxx.com/xxx2.png', Coins: 10, Level: 1, ExtensionInfo: '{"key": "value"}', DefaultName: '', DefaultDesc: '' });
  });

  it('add_gift validates each field with 100002 naming it', async () => {
    const add = (b: Record<string, unknown>) => ({ GiftId: 'g_valid', Coins: 1, DefaultName: 'n', ...b });
    await expectError(t, `${S}/add_gift`, add({ GiftId: 'g'.repeat(21) }), 100002, /GiftId is longer than 20 bytes/);
    await expectError(t, `${S}/add_gift`, add({ GiftId: '' }), 100002, /GiftId is empty/);
    await expectError(t, `${S}/add_gift`, add({ IconUrl: 'u'.repeat(201) }), 100002, /IconUrl is longer than 200 bytes/);
    await expectError(t, `${S}/add_gift`, add({ ResourceUrl: 'u'.repeat(201) }), 100002, /ResourceUrl is longer than 200 bytes/);
    await expectError(t, `${S}/add_gift`, add({ Coins: -1 }), 100002, /Coins must be an integer/);
    await expectError(t, `${S}/add_gift`, add({ Coins: 1.5 }), 100002, /\/Coins: Expected integer/);
    await expectError(t, `${S}/add_gift`, add({ Coins: undefined }), 100002, /\/Coins: Expected required property/);
    await expectError(t, `${S}/add_gift`, add({ DefaultName: undefined }), 100002, /\/DefaultName: Expected required property/);
    await expectError(t, `${S}/add_gift`, add({ DefaultName: '名'.repeat(7) }), 100002, /DefaultName is longer than 20 bytes/);
    await expectError(t, `${S}/add_gift`, add({ DefaultDesc: 'd'.repeat(21) }), 100002, /DefaultDesc is longer than 20 bytes/);
    await expectError(t, `${S}/add_gift`, add({ ExtensionInfo: 'not json' }), 100002, /ExtensionInfo must be JSON text/);
    await expectError(t, `${S}/add_gift`, add({ ExtensionInfo: JSON.stringify({ k: 'v'.repeat(100) }) }), 100002, /ExtensionInfo is longer than 100 bytes/);
    await expectError(t, `${S}/add_gift`, add({ Level: 'high' }), 100002, /\/Level: Expected integer/);
    await expectError(t, `${S}/add_gift`, add({ GiftId: 'gift1' }), 100002, /GiftId gift1 already exists/);
    expectCode(await t.rest(`${S}/add_gift`, add({ DefaultName: '名'.repeat(6) })), 0);
  });

  it('edit_gift changes only the fields it carries; unknown GiftId is 102002', async () => {
    expectCode(await t.rest(`${S}/add_gift`, { GiftId: 'editme', Coins: 5, Level: 2, DefaultName: 'Before', DefaultDesc: 'desc', IconUrl: 'icon' }), 0);
    expectCode(await t.rest(`${S}/edit_gift`, { GiftId: 'editme', Coins: 7, DefaultName: 'After' }), 0);
    const g = expectCode(await t.rest(`${S}/get_gift`, { GiftId: 'editme' }), 0).GiftInfo;
    assert.deepEqual(g, { GiftId: 'editme', IconUrl: 'icon', ResourceUrl: '', Coins: 7, Level: 2, ExtensionInfo: '', DefaultName: 'After', DefaultDesc: 'desc' });
    await expectError(t, `${S}/edit_gift`, { GiftId: 'nope', Coins: 1 }, 102002, /GiftId nope does not exist/);
    await expectError(t, `${S}/edit_gift`, { GiftId: 'editme', Coins: -5 }, 100002, /Coins/);
  });

  it('get_gift_info_list lists every gift as top-level GiftInfoList, oldest first', async () => {
    const env = expectCode(await t.rest(`${S}/get_gift_info_list`, {}), 0);
    assert.deepEqual(Object.keys(env), [...ENVELOPE, 'GiftInfoList']);
    const ids = (env.GiftInfoList as Array<{ GiftId: string }>).map((g) => g.GiftId);
    assert.equal(ids[0], 'gift1');
    assert.ok(ids.includes('GId1') && ids.includes('editme'));
  });

  it('gift languages: set (Name required first), partial update, get, del; bad language is 100002', async () => {
    const L = (b: Record<string, unknown>) => ({ GiftId: 'gift1', Language: 'en', ...b });
    await expectError(t, `${S}/set_gift_language`, L({ Desc: 'only desc' }), 100002, /Name is required the first time/);
    expectCode(await t.rest(`${S}/set_gift_language`, L({ Name: 'name1', Desc: 'desc1' })), 0);
    const got = expectCode(await t.rest(`${S}/get_gift_language`, L({})), 0);
    assert.deepEqual(Object.keys(got), [...ENVELOPE, 'GiftInfo']);
    assert.deepEqual(got.GiftInfo, { Name: 'name1', Desc: 'desc1' });
    expectCode(await t.rest(`${S}/set_gift_language`, L({ Desc: 'desc2' })), 0);
    assert.deepEqual(expectCode(await t.rest(`${S}/get_gift_language`, L({})), 0).GiftInfo, { Name: 'name1', Desc: 'desc2' });
    expectCode(await t.rest(`${S}/set_gift_language`, L({ Language: 'zh-Hans', Name: '玫瑰' })), 0);
    expectCode(await t.rest(`${S}/del_gift_language`, L({})), 0);
    assert.deepEqual(expectCode(await t.rest(`${S}/get_gift_language`, L({})), 0).GiftInfo, { Name: '', Desc: '' });
    assert.deepEqual(expectCode(await t.rest(`${S}/get_gift_language`, L({ Language: 'zh-Hans' })), 0).GiftInfo, { Name: '玫瑰', Desc: '' });
    await expectError(t, `${S}/set_gift_language`, L({ Language: 'fr', Name: 'x' }), 100002, /Language must be one of en, zh-Hans, zh-Hant/);
    await expectError(t, `${S}/set_gift_language`, L({ Name: 'n'.repeat(21) }), 100002, /Name is longer than 20 bytes/);
    await expectError(t, `${S}/get_gift_language`, L({ GiftId: 'nope' }), 102002, /does not exist/);
  });

  it('categories: add, edit (partial), get (top-level CategoryInfo), languages, del', async () => {
    const C = 'live_engine_http_srv';
    expectCode(await t.rest(`${C}/add_gift_category`, { CategoryId: 'CId2', ExtensionInfo: '{"a":1}', DefaultName: 'name1', DefaultDesc: 'desc1' }), 0);
    await expectError(t, `${C}/add_gift_category`, { CategoryId: 'CId2', DefaultName: 'x' }, 100002, /CategoryId CId2 already exists/);
    await expectError(t, `${C}/add_gift_category`, { CategoryId: 'c'.repeat(21), DefaultName: 'x' }, 100002, /CategoryId is longer than 20 bytes/);
    // Category descriptions up to 60 bytes (https://cloud.tencent.com/document/product/454/124223); gifts' stay at 20.
    expectCode(await t.rest(`${C}/add_gift_category`, { CategoryId: 'CId60', DefaultName: 'n', DefaultDesc: 'd'.repeat(60) }), 0);
    await expectError(t, `${C}/add_gift_category`, { CategoryId: 'CId61', DefaultName: 'n', DefaultDesc: 'd'.repeat(61) }, 100002, /DefaultDesc is longer than 60 bytes/);
    await expectError(t, `${C}/set_gift_category_language`, { CategoryId: 'CId60', Language: 'en', CategoryName: 'n', CategoryDesc: 'd'.repeat(61) }, 100002, /CategoryDesc is longer than 60 bytes/);
    expectCode(await t.rest(`${C}/set_gift_category_language`, { CategoryId: 'CId60', Language: 'en', CategoryName: 'n', CategoryDesc: 'd'.repeat(60) }), 0);
    expectCode(await t.rest(`${C}/del_gift_category`, { CategoryId: 'CId60' }), 0);
    expectCode(await t.rest(`${C}/edit_gift_category`, { CategoryId: 'CId2', DefaultDesc: 'desc2' }), 0);
    const got = expectCode(await t.rest(`${C}/get_gift_category`, { CategoryId: 'CId2' }), 0);
    assert.deepEqual(Object.keys(got), [...ENVELOPE, 'CategoryInfo']);
    assert.deepEqual(got.CategoryInfo, { CategoryId: 'CId2', ExtensionInfo: '{"a":1}', DefaultName: 'name1', DefaultDesc: 'desc2' });
    await expectError(t, `${C}/set_gift_category_language`, { CategoryId: 'CId2', Language: 'en', CategoryDesc: 'd' }, 100002, /CategoryName is required the first time/);
    expectCode(await t.rest(`${C}/set_gift_category_language`, { CategoryId: 'CId2', Language: 'en', CategoryName: 'name', CategoryDesc: 'desc' }), 0);
    expectCode(await t.rest(`${C}/set_gift_category_language`, { CategoryId: 'CId2', Language: 'en', CategoryDesc: 'desc3' }), 0);
    const lang = expectCode(await t.rest(`${C}/get_gift_category_language`, { CategoryId: 'CId2', Language: 'en' }), 0);
    assert.deepEqual(Object.keys(lang), [...ENVELOPE, 'CategoryInfo']);
    assert.deepEqual(lang.CategoryInfo, { CategoryName: 'name', CategoryDesc: 'desc3' });
    expectCode(await t.rest(`${C}/del_gift_category_language`, { CategoryId: 'CId2', Language: 'en' }), 0);
    assert.deepEqual(expectCode(await t.rest(`${C}/get_gift_category_language`, { CategoryId: 'CId2', Language: 'en' }), 0).CategoryInfo, { CategoryName: '', CategoryDesc: '' });
    expectCode(await t.rest(`${C}/del_gift_category`, { CategoryId: 'CId2' }), 0);
    await expectError(t, `${C}/get_gift_category`, { CategoryId: 'CId2' }, 100002, /CategoryId CId2 does not exist/);
    await expectError(t, `${C}/del_gift_category`, { CategoryId: 'CId2' }, 100002, /does not exist/);
  });

  it('an app configures at most 3 categories ("最多设置3个礼物分类", https://cloud.tencent.com/document/product/454/124223)', () =>
    withFreshServer(async (fresh) => {
      await fresh.server.apps.update(fresh.app.sdkAppId, { rateLimits: 'off' });
      for (const id of ['c1', 'c2', 'c3']) expectCode(await fresh.rest(`${S}/add_gift_category`, { CategoryId: id, DefaultName: id }), 0);
      await expectError(fresh, `${S}/add_gift_category`, { CategoryId: 'c4', DefaultName: 'c4' }, 100002, /at most 3 categories/);
      expectCode(await fresh.rest(`${S}/del_gift_category`, { CategoryId: 'c2' }), 0);
      expectCode(await fresh.rest(`${S}/add_gift_category`, { CategoryId: 'c4', DefaultName: 'c4' }), 0);
    }));

  it('relations: add appends and reports unknown GiftIds in InvalidGiftIdList; del removes; get lists; del_gift removes the gift from categories', async () => {
    expectCode(await t.rest(`${S}/add_gift_category`, { CategoryId: 'id1', DefaultName: 'cat' }), 0);
    expectCode(await t.rest(`${S}/add_gift`, { GiftId: 'rel_a', Coins: 1, DefaultName: 'a' }), 0);
    expectCode(await t.rest(`${S}/add_gift`, { GiftId: 'rel_b', Coins: 1, DefaultName: 'b' }), 0);
    const first = expectCode(await t.rest(`${S}/add_gift_category_relations`, { CategoryId: 'id1', GiftIdList: ['rel_a', 'ghost'] }), 0);
    assert.deepEqual(Object.keys(first), [...ENVELOPE, 'InvalidGiftIdList']);
    assert.deepEqual(first.InvalidGiftIdList, ['ghost']);
    const second = expectCode(await t.rest(`${S}/add_gift_category_relations`, { CategoryId: 'id1', GiftIdList: ['rel_b', 'rel_a', 'gift1'] }), 0);
    assert.deepEqual(second.InvalidGiftIdList, []);
    const list = () => t.rest(`${S}/get_gift_category_relations`, { CategoryId: 'id1' }).then((e) => expectCode(e, 0).GiftIdList);
    assert.deepEqual(await list(), ['rel_a', 'rel_b', 'gift1']);
    expectCode(await t.rest(`${S}/del_gift_category_relations`, { CategoryId: 'id1', GiftIdList: ['gift1'] }), 0);
    assert.deepEqual(await list(), ['rel_a', 'rel_b']);
    expectCode(await t.rest(`${S}/set_gift_language`, { GiftId: 'rel_a', Language: 'en', Name: 'A' }), 0);
    expectCode(await t.rest(`${S}/del_gift`, { GiftId: 'rel_a' }), 0);
    assert.deepEqual(await list(), ['rel_b']);
    await expectError(t, `${S}/get_gift`, { GiftId: 'rel_a' }, 102002, /does not exist/);
    await expectError(t, `${S}/del_gift`, { GiftId: 'rel_a' }, 102002, /does not exist/);
    // A gift added again under the same id starts without the old translations.
    expectCode(await t.rest(`${S}/add_gift`, { GiftId: 'rel_a', Coins: 1, DefaultName: 'a' }), 0);
    assert.deepEqual(expectCode(await t.rest(`${S}/get_gift_language`, { GiftId: 'rel_a', Language: 'en' }), 0).GiftInfo, { Name: '', Desc: '' });
    await expectError(t, `${S}/add_gift_category_relations`, { CategoryId: 'nope', GiftIdList: ['rel_b'] }, 100002, /CategoryId nope does not exist/);
    await expectError(t, `${S}/add_gift_category_relations`, { CategoryId: 'id1', GiftIdList: 'rel_b' }, 100002, /\/GiftIdList: Expected array/);
  });
});

describe('copy_default_gift_config', () => {
  it('installs 15 gifts in 3 categories on an app with no gift configuration, and is refused the second time', () =>
    withFreshServer(async (fresh) => {
      await fresh.server.apps.update(fresh.app.sdkAppId, { rateLimits: 'off' });
      const env = expectCode(await fresh.rest(`${S}/copy_default_gift_config`, {}), 0);
      assert.deepEqual(Object.keys(env), ENVELOPE);
      const gifts = expectCode(await fresh.rest(`${S}/get_gift_info_list`, {}), 0).GiftInfoList as Array<{ GiftId: string; Coins: number }>;
      assert.equal(gifts.length, 15);
      const cats = fresh.server.gifts.listCategories(fresh.app.sdkAppId);
      assert.equal(cats.length, 3);
      const related = new Set<string>();
      for (const c of cats) {
        const ids = expectCode(await fresh.rest(`${S}/get_gift_category_relations`, { CategoryId: c.categoryId }), 0).GiftIdList as string[];
        ids.forEach((id) => related.add(id));
        for (const lang of ['en', 'zh-Hans', 'zh-Hant']) {
          const name = (expectCode(await fresh.rest(`${S}/get_gift_category_language`, { CategoryId: c.categoryId, Language: lang }), 0).CategoryInfo as { CategoryName: string }).CategoryName;
          assert.ok(name.length > 0, `${c.categoryId} ${lang}`);
        }
      }
      assert.equal(related.size, 15, 'every default gift is in a category');
      for (const lang of ['en', 'zh-Hans', 'zh-Hant']) {
        const g = expectCode(await fresh.rest(`${S}/get_gift_language`, { GiftId: gifts[0]!.GiftId, Language: lang }), 0).GiftInfo as { Name: string };
        assert.ok(g.Name.length > 0, lang);
      }
      // 102010 "已存在礼物配置" (https://cloud.tencent.com/document/product/269/125752).
      await expectError(fresh, `${S}/copy_default_gift_config`, {}, 102010, /already has a gift configuration \(15 gifts, 3 categories\)/);
    }));

  it('is refused when the app has any gift or category of its own', async () => {
    await expectError(t, `${S}/copy_default_gift_config`, {}, 102010, /already has a gift configuration/);
  });
});

describe('published rate limits (rateLimits=tencent)', () => {
  freezeClock();

  it('catalogue APIs 1/s: 60007, or 100012 where the page lists it; copy_default_gift_config 1 per 10 s; send_gift and get_gift_count 200/s', () =>
    withFreshServer(async (fresh) => {
      assert.equal(fresh.app.settings.rateLimits, 'tencent');
      const codes = (cmd: string, body: unknown, n: number) => concurrentCodes(fresh, cmd, body, n);
      const catalogue: Array<[string, unknown, number, number]> = [
        ['add_gift', { GiftId: 'g', Coins: 1, DefaultName: 'g' }, 0, 60007],
        ['edit_gift', { GiftId: 'nope' }, 102002, 60007],
        ['del_gift', { GiftId: 'nope' }, 102002, 60007],
        ['get_gift', { GiftId: 'nope' }, 102002, 60007],
        ['get_gift_info_list', {}, 0, 60007],
        ['set_gift_language', { GiftId: 'nope', Language: 'en', Name: 'x' }, 102002, 60007],
        ['get_gift_language', { GiftId: 'nope', Language: 'en' }, 102002, 100012],
        ['del_gift_language', { GiftId: 'nope', Language: 'en' }, 102002, 100012],
        ['add_gift_category', { CategoryId: 'c', DefaultName: 'c' }, 0, 60007],
        ['edit_gift_category', { CategoryId: 'nope' }, 100002, 60007],
        ['del_gift_category', { CategoryId: 'nope' }, 100002, 60007],
        ['get_gift_category', { CategoryId: 'nope' }, 100002, 60007],
        ['set_gift_category_language', { CategoryId: 'nope', Language: 'en', CategoryName: 'x' }, 100002, 60007],
        ['get_gift_category_language', { CategoryId: 'nope', Language: 'en' }, 100002, 60007],
        ['del_gift_category_language', { CategoryId: 'nope', Language: 'en' }, 100002, 60007],
        ['add_gift_category_relations', { CategoryId: 'nope', GiftIdList: [] }, 100002, 60007],
        ['del_gift_category_relations', { CategoryId: 'nope', GiftIdList: [] }, 100002, 60007],
        ['get_gift_category_relations', { CategoryId: 'nope' }, 100002, 60007],
      ];
      for (const [cmd, body, pass, limited] of catalogue) {
        const got = await codes(`${S}/${cmd}`, body, 3);
        assert.equal(got.filter((c) => c === pass).length, 1, `${cmd}: ${JSON.stringify(got)}`);
        assert.equal(got.filter((c) => c === limited).length, 2, `${cmd}: ${JSON.stringify(got)}`);
      }
      mock.timers.tick(1000);
      assert.equal((await fresh.rest(`${S}/get_gift`, { GiftId: 'g' })).ErrorCode, 0, 'a new second lets a call through');

      // copy_default_gift_config: 1 per 10 s, 100012 at the limit (its page's table, https://cloud.tencent.com/document/product/269/125752).
      // The app has a gift now, so the call that passes is refused with 102010.
      assert.deepEqual((await codes(`${S}/copy_default_gift_config`, {}, 2)).sort(), [100012, 102010]);
      mock.timers.tick(9000);
      assert.equal((await fresh.rest(`${S}/copy_default_gift_config`, {})).ErrorCode, 100012, 'still limited after 9 s');
      mock.timers.tick(1000);
      assert.equal((await fresh.rest(`${S}/copy_default_gift_config`, {})).ErrorCode, 102010, 'allowed again after 10 s');

      for (const [cmd, body] of [
        [SEND, { ...SAMPLE, RoomId: 'no_room' }],
        [COUNT, { RoomId: 'no_room', From_Account: 'u' }],
      ] as const) {
        const got = await codes(cmd, body, 205);
        assert.equal(got.filter((c) => c === 100004).length, 200, cmd);
        assert.equal(got.filter((c) => c === 60007).length, 5, cmd);
      }
    }));
});
