import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it, mock } from 'node:test';
import { callbackSign } from '../../auth/callback-sign.ts';
import { DEFAULT_CONFIG } from '../../config.ts';
import { startServer } from '../../server.ts';
import type { Repos } from '../../store/store.ts';
import { startReceiver, type Received, type Receiver } from '../../../test/helpers/receiver.ts';
import { rtcLogin, type Msg, type RtcTestClient } from '../../../test/helpers/rtc-client.ts';
import { startTestServer, tempDir, type TestServer } from '../../../test/helpers/server.ts';

// TUILiveKit after-callbacks: durable (queued with the change), signed, in order per room, from REST and /rtc clients.
// Command list: https://www.tencentcloud.com/zh/document/product/1071/78174; each body is checked against its own page,
// cited beside its test.

const SRV = 'live_engine_http_srv';
const MIC = 'room_engine_http_mic';
const TOKEN = 'tok';

let t: TestServer;
let rx: Receiver;
let id: number;
const clients: RtcTestClient[] = [];

before(async () => {
  t = await startTestServer({ callbackRetryBaseMs: 50, callbackRetryMaxMs: 100 });
  id = t.app.sdkAppId;
  rx = await startReceiver();
  await t.server.apps.update(id, { rateLimits: 'off', 'callback.url': rx.url, 'callback.token': TOKEN });
  const env = await t.rest('im_open_login_svc/multiaccount_import', { Accounts: ['host', 'host2', 'u1', 'u2', 'u3', 'u4', 'v1', 'v2', 'v3'] });
  assert.equal(env.ErrorCode, 0, JSON.stringify(env));
});
after(async () => {
  for (const c of clients) c.ws.terminate();
  await t.close();
  await rx.close();
});

async function rest(command: string, body: unknown): Promise<Record<string, unknown>> {
  const env = await t.rest(command, body);
  assert.equal(env.ErrorCode, 0, `${command}: ${JSON.stringify(env)}`);
  return env;
}

/** The room a callback is about. */
const roomOf = (r: Received) => (r.body.RoomId ?? (r.body.RoomInfo as { RoomId?: string } | undefined)?.RoomId) as string | undefined;

/** Checks the protocol of one delivered callback: the query of Tencent's callback protocol and a valid Sign. */
function checkProtocol(r: Received, platform = 'RESTAPI'): void {
  const q = r.query;
  assert.equal(q.get('SdkAppid'), String(id));
  assert.equal(q.get('CallbackCommand'), r.body.CallbackCommand);
  assert.equal(q.get('contenttype'), 'json');
  assert.equal(q.get('OptPlatform'), platform);
  assert.match(q.get('ClientIP') ?? '', /127\.0\.0\.1/);
  const time = Number(q.get('RequestTime'));
  assert.ok(Math.abs(time - Date.now() / 1000) < 60, `RequestTime ${time}`);
  assert.equal(q.get('Sign'), callbackSign(TOKEN, time), 'Sign = sha256(token + RequestTime)');
  assert.equal(typeof r.body.EventTime, 'number');
  assert.ok(Math.abs((r.body.EventTime as number) - Date.now()) < 60_000, 'EventTime is unix ms');
}

/** Waits until `n` callbacks about `roomId` were delivered and the dispatcher is idle; returns them in arrival order. */
async function delivered(roomId: string, n: number): Promise<Received[]> {
  const mine = () => rx.delivered().filter((r) => roomOf(r) === roomId);
  for (let i = 0; i < 500 && mine().length < n; i++) await new Promise((r) => setTimeout(r, 10));
  await t.server.callbacks.settled();
  const got = mine();
  assert.equal(got.length, n, `callbacks about ${roomId}: ${JSON.stringify(got.map((r) => r.body.CallbackCommand))}`);
  return got;
}

const commands = (list: Received[]) => list.map((r) => r.body.CallbackCommand);
const strip = ({ EventTime: _, ...rest }: Record<string, unknown>) => rest;
const emptySeats = (n: number) => Array.from({ length: n }, (_, Index) => ({ Index, IsTakenDisabled: false, IsVideoDisabled: false, IsAudioDisabled: false }));

async function login(userId: string, platform = 'Web'): Promise<RtcTestClient> {
  const { client } = await rtcLogin(t.server.url, t.app, userId, { platform });
  clients.push(client);
  return client;
}

describe('room callbacks from REST', () => {
  it('create, update, metadata set and delete, destroy: documented bodies, in order, signed', async () => {
    await rest(`${SRV}/create_room`, {
      RoomInfo: { RoomId: 'cb-room', RoomName: 'live name', Owner_Account: 'host', CoverURL: 'cover url', Category: [1, 2], TakeSeatMode: 'ApplyToTake', MaxSeatCount: 4, IsMessageDisabled: true },
    });
    await rest(`${SRV}/update_room_info`, { RoomInfo: { RoomId: 'cb-room', RoomName: 'renamed', IsPublicVisible: false } });
    await rest(`${SRV}/set_room_metadata`, { RoomId: 'cb-room', Metadata: [{ Key: 'k1', Value: 'v1' }, { Key: 'k2', Value: 'v2' }] });
    await rest(`${SRV}/del_room_metadata`, { RoomId: 'cb-room', Keys: ['k1'] });
    await rest(`${SRV}/destroy_room`, { RoomId: 'cb-room' });
    const got = await delivered('cb-room', 5);
    for (const r of got) checkProtocol(r);
    assert.deepEqual(commands(got), [
      'Live.CallbackAfterCreateRoom',
      'Live.CallbackAfterUpdateRoomInfo',
      'Live.CallbackAfterSetMetadata',
      'Live.CallbackAfterDelMetadata',
      'Live.CallbackAfterDestroyRoom',
    ]);
    const [created, updated, set, del, destroyed] = got.map((r) => r.body);
    // https://www.tencentcloud.com/zh/document/product/1071/78183
    const createTime = (created!.RoomInfo as { CreateTime: number }).CreateTime;
    assert.ok(Math.abs(createTime - Date.now() / 1000) < 60, 'CreateTime in seconds');
    assert.deepEqual(strip(created!), {
      CallbackCommand: 'Live.CallbackAfterCreateRoom',
      Operator_Account: 'administrator',
      RoomInfo: {
        RoomId: 'cb-room',
        RoomName: 'live name',
        RoomType: 'Live',
        Owner_Account: 'host',
        MaxMemberCount: 0,
        IsMessageDisabled: true,
        CustomInfo: '',
        IsSeatEnabled: true,
        TakeSeatMode: 'ApplyToTake',
        MaxSeatCount: 4,
        CreateTime: createTime,
        IsPublicVisible: true,
        CoverURL: 'cover url',
        Category: [1, 2],
        ActivityStatus: 0,
        IsUnlimitedRoomEnabled: false,
      },
    });
    // https://cloud.tencent.com/document/product/647/115659: RoomInfo carries RoomId and the fields that changed.
    assert.deepEqual(strip(updated!), { CallbackCommand: 'Live.CallbackAfterUpdateRoomInfo', Operator_Account: 'administrator', RoomInfo: { RoomId: 'cb-room', RoomName: 'renamed', IsPublicVisible: false } });
    // https://trtc.io/document/68222
    assert.deepEqual(strip(set!), {
      CallbackCommand: 'Live.CallbackAfterSetMetadata',
      Operator_Account: 'administrator',
      RoomId: 'cb-room',
      Metadata: [
        { Key: 'k1', Value: 'v1' },
        { Key: 'k2', Value: 'v2' },
      ],
    });
    // https://trtc.io/document/68223
    assert.deepEqual(strip(del!), { CallbackCommand: 'Live.CallbackAfterDelMetadata', Operator_Account: 'administrator', RoomId: 'cb-room', Keys: ['k1'] });
    // https://cloud.tencent.com/document/product/647/110524
    assert.equal(destroyed!.EventType, 'DestroyByUser');
    assert.equal(destroyed!.Operator_Account, 'administrator');
    assert.equal(destroyed!.RoomId, 'cb-room');
    const info = destroyed!.RoomInfo as Record<string, unknown>;
    assert.deepEqual([info.RoomName, info.Owner_Account, info.IsPublicVisible, info.ViewCount, info.MaxSeatCount], ['renamed', 'host', false, 0, 4]);
  });

  it('update_room_info that changes MaxSeatCount also reports the seat list', async () => {
    await rest(`${SRV}/create_room`, { RoomInfo: { RoomId: 'cb-resize', MaxSeatCount: 2 } });
    await rest(`${SRV}/update_room_info`, { RoomInfo: { RoomId: 'cb-resize', MaxSeatCount: 3 } });
    const got = await delivered('cb-resize', 3);
    assert.deepEqual(commands(got), ['Live.CallbackAfterCreateRoom', 'Live.CallbackAfterUpdateRoomInfo', 'Mic.CallbackAfterSeatInfoChanged']);
    assert.deepEqual(got[2]!.body.SeatList, emptySeats(3));
  });

  it('seats: pick, lock, switch, move, kick and a ban each report the whole seat list after the change', async () => {
    await rest(`${SRV}/create_room`, { RoomInfo: { RoomId: 'cb-seats', Owner_Account: 'host', MaxSeatCount: 3 } });
    await rest(`${SRV}/add_robot`, { RoomId: 'cb-seats', RobotList_Account: ['u1', 'u2'] }); // in the room without member callbacks
    await rest(`${MIC}/pick_user_on_seat`, { RoomId: 'cb-seats', Member_Account: 'u1', Index: 0 });
    await rest(`${MIC}/lock_seat`, { RoomId: 'cb-seats', Index: 0, ForbidAudio: true });
    await rest(`${MIC}/switch_seat`, { RoomId: 'cb-seats', Member_Account: 'u1', ToIndex: 1 });
    await rest(`${MIC}/pick_user_on_seat`, { RoomId: 'cb-seats', Member_Account: 'u2', Index: 2 });
    await rest(`${MIC}/move_user_to_seat`, { RoomId: 'cb-seats', Member_Account: 'u2', SeatIndex: 1, Policy: 2 });
    await rest(`${MIC}/kick_user_off_seat`, { RoomId: 'cb-seats', Member_Account: 'u2', Data: 'bye' });
    await rest(`${SRV}/ban_member`, { RoomId: 'cb-seats', MemberList_Account: ['u1'], Duration: 60 });
    // A refused seat change sends nothing.
    assert.equal((await t.rest(`${MIC}/switch_seat`, { RoomId: 'cb-seats', Member_Account: 'host', ToIndex: 0 })).ErrorCode, 100002);
    const got = await delivered('cb-seats', 8);
    assert.deepEqual(commands(got), ['Live.CallbackAfterCreateRoom', ...Array(7).fill('Mic.CallbackAfterSeatInfoChanged')]);
    const seats = got.slice(1).map((r) => (r.body.SeatList as Array<{ Member_Account?: string }>).map((s) => s.Member_Account ?? ''));
    assert.deepEqual(seats, [
      ['u1', '', ''],
      ['u1', '', ''],
      ['', 'u1', ''],
      ['', 'u1', 'u2'],
      ['', 'u2', 'u1'],
      ['', '', 'u1'],
      ['', '', ''],
    ]);
    // https://trtc.io/document/64425: Index, Member_Account only when taken, IsTakenDisabled, IsVideoDisabled, IsAudioDisabled.
    assert.deepEqual(strip(got[2]!.body), {
      CallbackCommand: 'Mic.CallbackAfterSeatInfoChanged',
      RoomId: 'cb-seats',
      SeatList: [{ Index: 0, Member_Account: 'u1', IsTakenDisabled: false, IsVideoDisabled: false, IsAudioDisabled: true }, ...emptySeats(3).slice(1)],
    });
    // The audio flag went with u1 to seat 1, then to seat 2 in the swap.
    assert.equal((got[3]!.body.SeatList as Array<{ IsAudioDisabled: boolean }>)[1]!.IsAudioDisabled, true);
    assert.equal((got[5]!.body.SeatList as Array<{ IsAudioDisabled: boolean }>)[2]!.IsAudioDisabled, true);
  });

  it('owner and admins: Live.CallbackAfterChangeOwner and Live.CallbackAfterModifyAdmin', async () => {
    await rest(`${SRV}/create_room`, { RoomInfo: { RoomId: 'cb-roles', Owner_Account: 'host' } });
    await rest(`${SRV}/change_room_owner`, { RoomId: 'cb-roles', NewOwner_Account: 'host2' });
    await rest(`${SRV}/modify_admin`, { RoomId: 'cb-roles', Admin_Account: ['u1', 'u2'], OpType: 'add' });
    await rest(`${SRV}/modify_admin`, { RoomId: 'cb-roles', Admin_Account: ['u1'], OpType: 'delete' });
    // Handing the room to its owner changes nothing and sends nothing.
    await rest(`${SRV}/change_room_owner`, { RoomId: 'cb-roles', NewOwner_Account: 'host2' });
    const got = await delivered('cb-roles', 4);
    for (const r of got) checkProtocol(r);
    // https://trtc.io/document/72553
    assert.deepEqual(strip(got[1]!.body), { CallbackCommand: 'Live.CallbackAfterChangeOwner', RoomId: 'cb-roles', Operator_Account: 'administrator', CurrentOwner_Account: 'host2', OriginalOwner_Account: 'host' });
    // https://trtc.io/document/72554 (the field is spelled opType)
    assert.deepEqual(strip(got[2]!.body), { CallbackCommand: 'Live.CallbackAfterModifyAdmin', RoomId: 'cb-roles', Operator_Account: 'administrator', Admin_Account: ['u1', 'u2'], opType: 'add' });
    assert.deepEqual(strip(got[3]!.body), { CallbackCommand: 'Live.CallbackAfterModifyAdmin', RoomId: 'cb-roles', Operator_Account: 'administrator', Admin_Account: ['u1'], opType: 'delete' });
  });

  it('a refused change queues nothing', async () => {
    await rest(`${SRV}/create_room`, { RoomInfo: { RoomId: 'cb-refused', MaxSeatCount: 2 } });
    assert.equal((await t.rest(`${SRV}/update_room_info`, { RoomInfo: { RoomId: 'cb-refused', MaxSeatCount: 99 } })).ErrorCode, 100002);
    assert.equal((await t.rest(`${MIC}/lock_seat`, { RoomId: 'cb-refused', Index: 5, ForbidTaken: true })).ErrorCode, 100002);
    assert.equal((await t.rest(`${SRV}/modify_admin`, { RoomId: 'cb-refused', Admin_Account: ['ghost'], OpType: 'add' })).ErrorCode, 100002);
    await rest(`${SRV}/destroy_room`, { RoomId: 'cb-refused' });
    assert.deepEqual(commands(await delivered('cb-refused', 2)), ['Live.CallbackAfterCreateRoom', 'Live.CallbackAfterDestroyRoom']);
  });
});

describe('member callbacks from /rtc clients', () => {
  // https://trtc.io/zh/document/64424?product=live: EventType Online|Offline, EventCause Enter|Leave|…|Kicked, MemberList.
  it('entering and leaving: Online/Enter once per user, Offline/Leave with the last session; a ban is Offline/Kicked; seats taken by clients', async () => {
    await rest(`${SRV}/create_room`, { RoomInfo: { RoomId: 'cb-members', Owner_Account: 'host', MaxSeatCount: 2 } });
    const a = await login('v1');
    const a2 = await login('v1', 'Android');
    const b = await login('v2');
    const c = await login('v3');
    for (const x of [a, a2, b, c]) assert.equal((await x.request('live.enter', { roomId: 'cb-members' })).ok, true);
    const members = await rest(`${SRV}/get_member_list`, { RoomId: 'cb-members', Next: '' });
    assert.deepEqual(members.Response, { Next: '', MemberCount: 3, MemberList: [{ Member_Account: 'v1' }, { Member_Account: 'v2' }, { Member_Account: 'v3' }] });
    assert.equal((await b.request('live.takeSeat', { roomId: 'cb-members', index: 1 })).seated, true);
    // v1 leaves with one session (still online with the other), then with the last one.
    assert.equal((await a.request('live.leave', { roomId: 'cb-members' })).ok, true);
    assert.equal((await a2.request('live.leave', { roomId: 'cb-members' })).ok, true);
    // v3's socket closes: the session ends and v3 goes offline.
    await c.close();
    for (let i = 0; i < 200 && t.server.live.members(id, 'cb-members').some((m) => m.userId === 'v3'); i++) await new Promise((r) => setTimeout(r, 10));
    await rest(`${SRV}/ban_member`, { RoomId: 'cb-members', MemberList_Account: ['v2'], Duration: 60 });
    const got = await delivered('cb-members', 9);
    assert.deepEqual(commands(got), [
      'Live.CallbackAfterCreateRoom',
      'Live.CallbackAfterMemberStateChanged',
      'Live.CallbackAfterMemberStateChanged',
      'Live.CallbackAfterMemberStateChanged',
      'Mic.CallbackAfterSeatInfoChanged',
      'Live.CallbackAfterMemberStateChanged',
      'Live.CallbackAfterMemberStateChanged',
      'Live.CallbackAfterMemberStateChanged',
      'Mic.CallbackAfterSeatInfoChanged',
    ]);
    const state = (r: Received) => [r.body.EventType, r.body.EventCause, (r.body.MemberList as Array<{ Member_Account: string }>).map((m) => m.Member_Account)];
    assert.deepEqual(state(got[1]!), ['Online', 'Enter', ['v1']]);
    assert.deepEqual(state(got[2]!), ['Online', 'Enter', ['v2']]);
    assert.deepEqual(state(got[3]!), ['Online', 'Enter', ['v3']]);
    assert.deepEqual(state(got[5]!), ['Offline', 'Leave', ['v1']]);
    assert.deepEqual(state(got[6]!), ['Offline', 'Leave', ['v3']]);
    assert.deepEqual(state(got[7]!), ['Offline', 'Kicked', ['v2']]);
    assert.deepEqual(strip(got[1]!.body), { CallbackCommand: 'Live.CallbackAfterMemberStateChanged', RoomId: 'cb-members', EventType: 'Online', EventCause: 'Enter', MemberList: [{ Member_Account: 'v1' }] });
    // Changes by clients carry the client's platform.
    checkProtocol(got[1]!, 'Web');
    checkProtocol(got[4]!, 'Web');
    checkProtocol(got[6]!, 'Web');
    checkProtocol(got[7]!, 'RESTAPI');
    // The ban also took v2 off seat 1: the seat list follows the member's Offline/Kicked.
    assert.deepEqual(got[4]!.body.SeatList, [emptySeats(2)[0], { Index: 1, Member_Account: 'v2', IsTakenDisabled: false, IsVideoDisabled: false, IsAudioDisabled: false }]);
    assert.deepEqual(got[8]!.body.SeatList, emptySeats(2));
    checkProtocol(got[8]!, 'RESTAPI');
    assert.deepEqual((await rest(`${SRV}/get_member_list`, { RoomId: 'cb-members', Next: '' })).Response, { Next: '', MemberCount: 0, MemberList: [] });
  });
});

describe('which callbacks are queued', () => {
  it('nothing is queued for an app without a callback URL (callbackTarget null)', async () => {
    const before = (await t.server.store.outbox.list({ sdkAppId: id, limit: 10_000 })).length;
    await t.server.apps.update(id, { 'callback.url': '' });
    try {
      await rest(`${SRV}/create_room`, { RoomInfo: { RoomId: 'cb-quiet' } });
      await t.server.live.enter(id, 'cb-quiet', 'u1');
      await rest(`${SRV}/set_room_metadata`, { RoomId: 'cb-quiet', Metadata: [{ Key: 'k', Value: 'v' }] });
      await rest(`${MIC}/pick_user_on_seat`, { RoomId: 'cb-quiet', Member_Account: 'u1', Index: 0 });
      await rest(`${SRV}/destroy_room`, { RoomId: 'cb-quiet' });
    } finally {
      await t.server.apps.update(id, { 'callback.url': rx.url });
    }
    assert.equal((await t.server.store.outbox.list({ sdkAppId: id, limit: 10_000 })).length, before);
  });

  it('only the commands in the app\'s live CallbackCommandList are queued', async () => {
    await t.server.apps.setCallbackConfig(id, 'live', { url: rx.url, commands: ['Live.CallbackAfterCreateRoom', 'Mic.CallbackAfterSeatInfoChanged'] });
    try {
      await rest(`${SRV}/create_room`, { RoomInfo: { RoomId: 'cb-listed' } });
      await t.server.live.enter(id, 'cb-listed', 'u1');
      await rest(`${SRV}/set_room_metadata`, { RoomId: 'cb-listed', Metadata: [{ Key: 'k', Value: 'v' }] });
      await rest(`${MIC}/pick_user_on_seat`, { RoomId: 'cb-listed', Member_Account: 'u1', Index: 0 });
      await rest(`${SRV}/destroy_room`, { RoomId: 'cb-listed' });
    } finally {
      await t.server.apps.setCallbackConfig(id, 'live', { url: rx.url, commands: 'all' });
    }
    assert.deepEqual(commands(await delivered('cb-listed', 2)), ['Live.CallbackAfterCreateRoom', 'Mic.CallbackAfterSeatInfoChanged']);
  });

  it('a change and its callbacks are one transaction: when queueing fails the change is refused (100001) and the room is unchanged', async () => {
    await rest(`${SRV}/create_room`, { RoomInfo: { RoomId: 'cb-atomic', RoomName: 'before' } });
    const store = t.server.store;
    const original = store.transaction.bind(store);
    const tx = mock.method(store, 'transaction', <T>(fn: (r: Repos) => Promise<T>) =>
      original((r) => fn({ ...r, outbox: Object.assign(Object.create(r.outbox) as Repos['outbox'], { enqueue: () => Promise.reject(new Error('disk full')) }) })),
    );
    try {
      assert.equal((await t.rest(`${SRV}/update_room_info`, { RoomInfo: { RoomId: 'cb-atomic', RoomName: 'after' } })).ErrorCode, 100001);
    } finally {
      tx.mock.restore();
    }
    const info = await rest(`${SRV}/get_room_info`, { RoomId: 'cb-atomic' });
    assert.equal((info.Response as { RoomInfo: { RoomName: string } }).RoomInfo.RoomName, 'before');
    assert.equal((await t.server.store.live.get(id, 'cb-atomic'))!.info.includes('"before"'), true);
    assert.deepEqual(commands(await delivered('cb-atomic', 1)), ['Live.CallbackAfterCreateRoom']);
  });
});

describe('durability', () => {
  it('callbacks queued while the app server is down survive a restart and arrive in order; members left in a room go offline', async () => {
    const dir = tempDir();
    const down = await startReceiver();
    try {
      const config = { ...DEFAULT_CONFIG, dataDir: dir, port: 0, logLevel: 'silent' as const, appsPollMs: 100, callbackRetryBaseMs: 50, callbackRetryMaxMs: 100 };
      const a = await startServer(config);
      const app = a.devApp!;
      try {
        await a.apps.update(app.sdkAppId, { 'callback.url': down.url, 'callback.token': TOKEN });
        await a.accounts.importMany(app.sdkAppId, [{ userId: 'p1' }]);
        down.failNext(1_000_000);
        await a.live.create(app.sdkAppId, 'kept', 'p1', {});
        await a.live.setMetadata(app.sdkAppId, 'kept', [{ key: 'k', value: 'v' }]);
        await a.live.pickOnSeat(app.sdkAppId, 'kept', 'p1', 1);
        await a.live.enter(app.sdkAppId, 'kept', 'viewer');
        await down.waitAll(1);
      } finally {
        await a.close();
      }
      down.failNext(0);
      const b = await startServer(config);
      try {
        // The member's connection did not survive the restart: they go offline (HeartbeatInterrupt).
        const got = await down.waitDelivered(5);
        assert.deepEqual(
          got.map((r) => [r.body.CallbackCommand, r.body.EventType, r.body.EventCause]),
          [
            ['Live.CallbackAfterCreateRoom', undefined, undefined],
            ['Live.CallbackAfterSetMetadata', undefined, undefined],
            ['Mic.CallbackAfterSeatInfoChanged', undefined, undefined],
            ['Live.CallbackAfterMemberStateChanged', 'Online', 'Enter'],
            ['Live.CallbackAfterMemberStateChanged', 'Offline', 'HeartbeatInterrupt'],
          ],
        );
        assert.deepEqual(b.live.members(app.sdkAppId, 'kept'), []);
        for (const r of got) assert.equal(r.query.get('Sign'), callbackSign(TOKEN, Number(r.query.get('RequestTime'))));
      } finally {
        await b.close();
      }
    } finally {
      await down.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Live.CallbackBeforeSendGift ErrorCode pass-through', () => {
  // https://www.tencentcloud.com/document/product/647/72210: "The error code interval that can be passed through is
  // [102100,102200]"; other non-zero codes block with send_gift's 102004 (https://cloud.tencent.com/document/product/647/122443).
  before(async () => {
    await t.server.gifts.addGift(id, { giftId: 'rose', coins: 3, defaultName: 'Rose' });
    await rest(`${SRV}/create_room`, { RoomInfo: { RoomId: 'gift-room', Owner_Account: 'host' } });
  });
  after(() => rx.respond(null));

  const answer = (code: number, info: string) => rx.respond((r) => (r.body.CallbackCommand === 'Live.CallbackBeforeSendGift' ? { status: 200, body: JSON.stringify({ ActionStatus: 'FAIL', ErrorInfo: info, ErrorCode: code }) } : { status: 200, body: '{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}' }));
  const send = () => t.rest(`${SRV}/send_gift`, { RoomId: 'gift-room', GiftId: 'rose', From_Account: 'u1', ReceiverList_Account: ['host'] });

  for (const [code, expected] of [
    [102100, 102100],
    [102150, 102150],
    [102200, 102200],
    [102099, 102004],
    [102201, 102004],
    [1, 102004],
  ] as const) {
    it(`ErrorCode ${code} → send_gift answers ${expected}`, async () => {
      answer(code, 'not enough coins');
      const env = await send();
      assert.equal(env.ErrorCode, expected, JSON.stringify(env));
      assert.equal(env.ActionStatus, 'FAIL');
      if (expected === code) assert.equal(env.ErrorInfo, 'not enough coins');
      else assert.match(String(env.ErrorInfo), /ErrorCode 102099|ErrorCode 102201|ErrorCode 1\b/);
    });
  }

  it('an empty ErrorInfo falls back to the 102004 text; a /rtc client gets the same code', async () => {
    answer(102123, '');
    const env = await send();
    assert.deepEqual([env.ErrorCode, env.ErrorInfo], [102123, 'Gift callback failed.']);
    answer(102150, 'top up first');
    const v = await login('u3');
    assert.equal((await v.request('live.enter', { roomId: 'gift-room' })).ok, true);
    const reply: Msg = await v.request('live.gift', { roomId: 'gift-room', giftId: 'rose' });
    assert.deepEqual([reply.ok, reply.code, reply.message], [false, 102150, 'top up first']);
    rx.respond(null);
    assert.equal((await v.request('live.gift', { roomId: 'gift-room', giftId: 'rose' })).ok, true);
  });
});
