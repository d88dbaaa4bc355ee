import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { genUserSig } from '../../auth/usersig.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';
import { ENVELOPE, expectFail, expectStrictCode, freezeClock, importAccounts, withFreshServer, type Envelope } from './testkit.ts';

// live_engine_http_srv rooms: create/destroy/info/list/update and metadata (https://trtc.io/document/63398).

const SRV = 'live_engine_http_srv';
const CREATE = `${SRV}/create_room`;
const DESTROY = `${SRV}/destroy_room`;
const INFO = `${SRV}/get_room_info`;
const LIST = `${SRV}/get_room_list`;
const UPDATE = `${SRV}/update_room_info`;
const SET_META = `${SRV}/set_room_metadata`;
const GET_META = `${SRV}/get_room_metadata`;
const DEL_META = `${SRV}/del_room_metadata`;
const STATISTIC = `${SRV}/get_room_statistic`;
const SEATS = 'room_engine_http_mic/get_seat_list';
const PICK = 'room_engine_http_mic/pick_user_on_seat';

/** The documented create_room sample (§3.2), without the truncated tail fields. */
const SAMPLE = {
  RoomInfo: {
    RoomId: 'live-room',
    RoomType: 'Live',
    RoomName: 'live name',
    Owner_Account: 'administrator',
    CoverURL: 'cover url',
    IsMessageDisabled: true,
    Category: [1, 2, 3],
    IsPublicVisible: true,
    IsSeatEnabled: true,
    TakeSeatMode: 'ApplyToTake',
    MaxSeatCount: 8,
  },
};

type Info = Record<string, unknown>;
interface ListedRoom {
  RoomId: string;
  ViewCount: number;
  [k: string]: unknown;
}

async function create(s: TestServer, roomId: string, extra: Record<string, unknown> = {}): Promise<void> {
  expectStrictCode(await s.rest(CREATE, { RoomInfo: { RoomId: roomId, ...extra } }), 0, `create ${roomId}`);
}

async function info(s: TestServer, roomId: string): Promise<Info> {
  const env = expectStrictCode(await s.rest(INFO, { RoomId: roomId }), 0, `info ${roomId}`);
  assert.deepEqual(Object.keys(env), [...ENVELOPE, 'Response']);
  return (env.Response as { RoomInfo: Info }).RoomInfo;
}

async function seatMembers(s: TestServer, roomId: string): Promise<string[]> {
  const env = expectStrictCode(await s.rest(SEATS, { RoomId: roomId }), 0, `seats ${roomId}`);
  return (env.Response as { SeatList: Array<{ Member_Account?: string }> }).SeatList.map((x) => x.Member_Account ?? '');
}

async function list(s: TestServer, body: Record<string, unknown>): Promise<{ Next: string; RoomList: ListedRoom[] }> {
  const env = expectStrictCode(await s.rest(LIST, body), 0, JSON.stringify(body));
  assert.deepEqual(Object.keys(env), [...ENVELOPE, 'Response']);
  const r = env.Response as { Next: string; RoomList: ListedRoom[] };
  assert.deepEqual(Object.keys(r), ['Next', 'RoomList']);
  return r;
}

/** Every page of get_room_list with `count` per page. */
async function listAll(s: TestServer, count: number): Promise<{ ids: string[]; pages: number[] }> {
  const ids: string[] = [];
  const pages: number[] = [];
  let next = '';
  do {
    const r = await list(s, { Next: next, Count: count });
    ids.push(...r.RoomList.map((x) => x.RoomId));
    pages.push(r.RoomList.length);
    if (r.Next !== '') assert.match(r.Next, /^\d{10}-\d+$/);
    next = r.Next;
    assert.ok(pages.length < 100, 'paging does not end');
  } while (next !== '');
  return { ids, pages };
}

/** A whole second near now, for frozen clocks. */
const wholeSecondNow = () => Math.floor(Date.now() / 1000) * 1000;

let t: TestServer;
before(async () => {
  t = await startTestServer();
  await t.server.apps.update(t.app.sdkAppId, { rateLimits: 'off' });
  await importAccounts(t, ['user1', 'user2', 'user3', 'robot1', 'owner1']);
});
after(() => t.close());

describe('create_room and get_room_info', () => {
  it('creates the documented sample; get_room_info returns its values', async () => {
    const T = wholeSecondNow();
    mock.timers.enable({ apis: ['Date'], now: T });
    let env: Envelope;
    try {
      env = expectStrictCode(await t.rest(CREATE, SAMPLE), 0);
    } finally {
      mock.timers.reset();
    }
    assert.deepEqual(Object.keys(env), ENVELOPE);
    const i = await info(t, 'live-room');
    const { RoomType, ...rest } = SAMPLE.RoomInfo;
    assert.equal(RoomType, 'Live');
    for (const [k, v] of Object.entries(rest)) assert.deepEqual(i[k], v, k);
    assert.equal(i.RoomType, 'Live');
    assert.equal(i.TakeSeatMode, 'ApplyToTake');
    assert.equal(i.CreateTime, T / 1000);
    assert.equal(i.ViewCount, 0);
    for (const k of ['RoomId', 'RoomName', 'RoomType', 'Owner_Account', 'CreateTime', 'IsSeatEnabled', 'TakeSeatMode', 'MaxSeatCount', 'MaxMemberCount', 'IsMessageDisabled', 'CoverURL', 'Category', 'ActivityStatus', 'ViewCount', 'IsPublicVisible']) {
      assert.ok(k in i, `RoomInfo.${k} missing`);
    }
  });

  // RoomName "defaults to Room ID": https://trtc.io/document/63418 (create_room); TakeSeatMode "默认为 FreeToTake":
  // https://cloud.tencent.cn/document/product/269/125712
  it('fills defaults: RoomName = RoomId, FreeToTake, 8 seats, public, seats enabled, owner = the calling admin', async () => {
    await create(t, 'defaults-room');
    const i = await info(t, 'defaults-room');
    assert.equal(i.Owner_Account, 'administrator');
    assert.equal(i.TakeSeatMode, 'FreeToTake');
    assert.equal(i.MaxSeatCount, 8);
    assert.equal(i.IsPublicVisible, true);
    assert.equal(i.IsSeatEnabled, true);
    assert.equal(i.IsMessageDisabled, false);
    assert.deepEqual([i.RoomName, i.CoverURL, i.Category], ['defaults-room', '', []]);
    // Only a RoomName left out is filled: an empty one given is kept.
    await create(t, 'unnamed-room', { RoomName: '' });
    assert.equal((await info(t, 'unnamed-room')).RoomName, '');
    assert.equal((await seatMembers(t, 'defaults-room')).length, 8);
  });

  it('Owner_Account defaults to the identifier of the admin that calls, not a fixed name', async () => {
    await t.server.apps.update(t.app.sdkAppId, { admins: ['administrator', 'admin2'] });
    const usersig = genUserSig({ sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId: 'admin2', expire: 3600 });
    const env = await t.rest(CREATE, { RoomInfo: { RoomId: 'admin2-room' } }, { identifier: 'admin2', usersig });
    expectStrictCode(env, 0);
    assert.equal((await info(t, 'admin2-room')).Owner_Account, 'admin2');
    await create(t, 'owned-room', { Owner_Account: 'owner1' });
    assert.equal((await info(t, 'owned-room')).Owner_Account, 'owner1');
  });

  // get_room_info answers TakeSeatMode as a string on the current page (https://trtc.io/zh/document/63404: "ApplyToTake")
  // and as an integer on the older one (https://www.tencentcloud.com/zh/document/product/647/63420: 1 自由上麦, 2 申请上麦):
  // the string is answered (docs/compatibility.md, Choices).
  it('accepts the older integer TakeSeatMode (1 = FreeToTake, 2 = ApplyToTake) and answers the string', async () => {
    await create(t, 'mode-1', { TakeSeatMode: 1 });
    await create(t, 'mode-2', { TakeSeatMode: 2 });
    assert.equal((await info(t, 'mode-1')).TakeSeatMode, 'FreeToTake');
    assert.equal((await info(t, 'mode-2')).TakeSeatMode, 'ApplyToTake');
    await expectFail(t, CREATE, { RoomInfo: { RoomId: 'mode-3', TakeSeatMode: 3 } }, 100002, /TakeSeatMode/);
    await expectFail(t, CREATE, { RoomInfo: { RoomId: 'mode-x', TakeSeatMode: 'Anyone' } }, 100002, /TakeSeatMode/);
    await expectFail(t, INFO, { RoomId: 'mode-3' }, 100004);
  });

  // create_room's table (https://trtc.io/document/63401): 100003 "Room ID already exists", 100010 "Room ID already
  // exists and Owner_Account is the same. You can use it directly", 100011 "Room ID is occupied by Chat", 100012 "The
  // same Room ID can only be created once per second".
  it('100003 for an existing RoomId of another owner, 100010 of the same owner, also when several creates race', async () => {
    await expectFail(t, CREATE, SAMPLE, 100010, /live-room.*same Owner_Account/);
    await expectFail(t, CREATE, { RoomInfo: { RoomId: 'live-room', Owner_Account: 'user1' } }, 100003, /live-room/);
    assert.equal((await info(t, 'live-room')).RoomName, 'live name');
    const codes = await Promise.all(Array.from({ length: 5 }, (_, i) => t.rest(CREATE, { RoomInfo: { RoomId: 'race-room', RoomName: `n${i}` } }).then((e) => e.ErrorCode)));
    assert.deepEqual(codes.filter((c) => c === 0).length, 1, String(codes));
    assert.deepEqual(codes.filter((c) => c === 100010).length, 4, String(codes));
  });

  it('100011 for the GroupId of a Chat group of the app; another app\'s group is no obstacle', async () => {
    expectStrictCode(await t.rest('group_open_http_svc/create_group', { Type: 'Public', Name: 'g', GroupId: 'chat-taken' }), 0);
    await expectFail(t, CREATE, { RoomInfo: { RoomId: 'chat-taken' } }, 100011, /Chat group/);
    await expectFail(t, INFO, { RoomId: 'chat-taken' }, 100004);
  });

  it('100012 when the same RoomId is created again within a second (after a destroy); other RoomIds are not held back', async () => {
    const T = Date.now();
    mock.timers.enable({ apis: ['Date'], now: T });
    try {
      await create(t, 'quick-room');
      expectStrictCode(await t.rest(DESTROY, { RoomId: 'quick-room' }), 0);
      await expectFail(t, CREATE, { RoomInfo: { RoomId: 'quick-room' } }, 100012, /less than a second/);
      await create(t, 'quick-other');
      mock.timers.setTime(T + 999);
      await expectFail(t, CREATE, { RoomInfo: { RoomId: 'quick-room' } }, 100012);
      mock.timers.setTime(T + 1000);
      await create(t, 'quick-room');
    } finally {
      mock.timers.reset();
    }
  });

  // SeatTemplate (https://www.tencentcloud.com/document/product/647/63401): "MaxSeatCount … only applies to voice chat
  // rooms, i.e., when SeatTemplate is set to AudioSalon or karaoke"; the names and layout ids of TUILiveKit's templates.
  it('SeatTemplate: a video template fixes the seats, AudioSalon/Karaoke take MaxSeatCount; SeatLayoutTemplateId names one; KeepOwnerOnSeat kept', async () => {
    await create(t, 'tpl-grid', { SeatTemplate: 'VideoDynamicGrid9Seats', MaxSeatCount: 3, KeepOwnerOnSeat: false });
    const grid = await info(t, 'tpl-grid');
    assert.deepEqual([grid.SeatTemplate, grid.MaxSeatCount, grid.KeepOwnerOnSeat], ['VideoDynamicGrid9Seats', 9, false]);
    assert.equal(((expectStrictCode(await t.rest(SEATS, { RoomId: 'tpl-grid' }), 0).Response as { SeatList: unknown[] }).SeatList).length, 9);
    await create(t, 'tpl-salon', { SeatTemplate: 'AudioSalon', MaxSeatCount: 10 });
    assert.deepEqual(await info(t, 'tpl-salon').then((i) => [i.SeatTemplate, i.MaxSeatCount, i.KeepOwnerOnSeat]), ['AudioSalon', 10, true]);
    await create(t, 'tpl-karaoke', { SeatTemplate: 'Karaoke' });
    assert.equal((await info(t, 'tpl-karaoke')).MaxSeatCount, 8);
    await create(t, 'tpl-id', { SeatLayoutTemplateId: 601 });
    assert.deepEqual(await info(t, 'tpl-id').then((i) => [i.SeatTemplate, i.MaxSeatCount]), ['VideoDynamicFloat7Seats', 7]);
    await create(t, 'tpl-landscape', { SeatTemplate: 'VideoLandscape4Seats', SeatLayoutTemplateId: 200 });
    assert.equal((await info(t, 'tpl-landscape')).MaxSeatCount, 4);
    await create(t, 'tpl-none');
    assert.deepEqual(await info(t, 'tpl-none').then((i) => [i.SeatTemplate, i.MaxSeatCount]), ['', 8]);

    await expectFail(t, CREATE, { RoomInfo: { RoomId: 'tpl-bad', SeatTemplate: 'Grid' } }, 100002, /SeatTemplate must be one of VideoDynamicGrid9Seats/);
    await expectFail(t, CREATE, { RoomInfo: { RoomId: 'tpl-bad', SeatTemplate: 9 } }, 100002, /SeatTemplate/);
    await expectFail(t, CREATE, { RoomInfo: { RoomId: 'tpl-bad', SeatTemplate: 'AudioSalon', SeatLayoutTemplateId: 600 } }, 100002, /SeatLayoutTemplateId 600 is VideoDynamicGrid9Seats/);
    await expectFail(t, CREATE, { RoomInfo: { RoomId: 'tpl-bad', KeepOwnerOnSeat: 'yes' } }, 100002, /KeepOwnerOnSeat/);
    await expectFail(t, INFO, { RoomId: 'tpl-bad' }, 100004);

    // The template is fixed for the room's life: update_room_info ignores it, and a video room's seats stay.
    expectStrictCode(await t.rest(UPDATE, { RoomInfo: { RoomId: 'tpl-grid', SeatTemplate: 'AudioSalon', RoomName: 'renamed' } }), 0);
    assert.deepEqual(await info(t, 'tpl-grid').then((i) => [i.SeatTemplate, i.RoomName]), ['VideoDynamicGrid9Seats', 'renamed']);
    await expectFail(t, UPDATE, { RoomInfo: { RoomId: 'tpl-grid', MaxSeatCount: 4 } }, 100002, /MaxSeatCount applies only to AudioSalon and Karaoke/);
    expectStrictCode(await t.rest(UPDATE, { RoomInfo: { RoomId: 'tpl-salon', MaxSeatCount: 12 } }), 0);
    assert.equal((await info(t, 'tpl-salon')).MaxSeatCount, 12);
  });

  it('100002 naming the owner when Owner_Account is not imported; no room is made', async () => {
    await expectFail(t, CREATE, { RoomInfo: { RoomId: 'ghost-owned', Owner_Account: 'ghost-owner' } }, 100002, /ghost-owner/);
    await expectFail(t, INFO, { RoomId: 'ghost-owned' }, 100004);
  });

  it('100002 for a RoomType other than Live', async () => {
    for (const RoomType of ['Conference', 'live', '']) {
      await expectFail(t, CREATE, { RoomInfo: { RoomId: 'typed-room', RoomType } }, 100002, /RoomType/);
    }
    await expectFail(t, CREATE, { RoomInfo: { RoomId: 'typed-room', RoomType: 1 } }, 100002, /RoomType/);
    await expectFail(t, INFO, { RoomId: 'typed-room' }, 100004);
    await create(t, 'typed-room', { RoomType: 'Live' });
  });

  it('100002 for out-of-range settings: Category > 3, long RoomName/CoverURL, MaxSeatCount 0 or 17', async () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ Category: [1, 2, 3, 4] }, /Category/],
      [{ RoomName: 'é'.repeat(50) + 'x' }, /RoomName/],
      [{ CoverURL: 'c'.repeat(201) }, /CoverURL/],
      [{ MaxSeatCount: 0 }, /MaxSeatCount/],
      [{ MaxSeatCount: 17 }, /MaxSeatCount/],
      [{ MaxSeatCount: 2.5 }, /MaxSeatCount/],
      [{ IsPublicVisible: 'yes' }, /IsPublicVisible/],
    ];
    for (const [extra, field] of bad) await expectFail(t, CREATE, { RoomInfo: { RoomId: 'bad-settings', ...extra } }, 100002, field);
    await expectFail(t, CREATE, {}, 100002, /RoomInfo/);
    await expectFail(t, INFO, { RoomId: 'bad-settings' }, 100004);
    await create(t, 'bad-settings', { RoomName: 'é'.repeat(50), CoverURL: 'c'.repeat(200), MaxSeatCount: 16 });
  });

  it('destroy_room: plain envelope, then get_room_info and destroy_room answer 100004; the id is free again', async () => {
    await create(t, 'doomed-room');
    const env = expectStrictCode(await t.rest(DESTROY, { RoomId: 'doomed-room' }), 0);
    assert.deepEqual(Object.keys(env), ENVELOPE);
    await expectFail(t, INFO, { RoomId: 'doomed-room' }, 100004, /doomed-room/);
    await expectFail(t, DESTROY, { RoomId: 'doomed-room' }, 100004);
    await expectFail(t, UPDATE, { RoomInfo: { RoomId: 'doomed-room', RoomName: 'x' } }, 100004);
    mock.timers.enable({ apis: ['Date'], now: Date.now() + 1000 }); // the same RoomId once per second (100012)
    try {
      await create(t, 'doomed-room', { RoomName: 'again' });
    } finally {
      mock.timers.reset();
    }
    assert.equal((await info(t, 'doomed-room')).RoomName, 'again');
  });
});

describe('error codes', () => {
  const bad: Array<[string, Record<string, unknown>]> = [
    ['empty', { RoomId: '' }],
    ['49 bytes (multibyte)', { RoomId: 'é'.repeat(24) + 'x' }],
    ['a number', { RoomId: 5 }],
    ['an array', { RoomId: ['r'] }],
    ['an object', { RoomId: { id: 'r' } }],
    ['missing', {}],
  ];
  const commands: Array<[string, Record<string, unknown>]> = [
    [INFO, {}],
    [DESTROY, {}],
    [STATISTIC, {}],
    [GET_META, {}],
    [SET_META, { Metadata: [{ Key: 'k', Value: 'v' }] }],
    [DEL_META, { Keys: ['k'] }],
    [`${SRV}/mute_member`, { MemberList_Account: ['user1'], MuteTime: 60 }],
    [`${SRV}/ban_member`, { MemberList_Account: ['user1'], Duration: 60 }],
    [`${SRV}/get_banned_member_list`, {}],
    [`${SRV}/send_text_msg`, { Sender_Account: 'user1', TextContent: 'hi' }],
    [`${SRV}/add_robot`, { RobotList_Account: ['robot1'] }],
    [SEATS, {}],
    [PICK, { Member_Account: 'user1', Index: 0 }],
  ];

  for (const [what, roomId] of bad) {
    it(`100002 naming RoomId when it is ${what}`, async () => {
      for (const [cmd, rest] of commands) await expectFail(t, cmd, { ...rest, ...roomId }, 100002, /RoomId/);
      await expectFail(t, CREATE, { RoomInfo: { RoomName: 'n', ...roomId } }, 100002, /RoomId/);
      await expectFail(t, UPDATE, { RoomInfo: { RoomName: 'n', ...roomId } }, 100002, /RoomId/);
    });
  }

  it('a RoomId of exactly 48 bytes (multibyte) is accepted', async () => {
    const id = 'é'.repeat(24);
    await create(t, id);
    assert.equal((await info(t, id)).RoomId, id);
    expectStrictCode(await t.rest(DESTROY, { RoomId: id }), 0);
  });

  it('100004 for an unknown room on every room command', async () => {
    for (const [cmd, rest] of commands) await expectFail(t, cmd, { ...rest, RoomId: 'no-such-room' }, 100004, /no-such-room/);
    await expectFail(t, UPDATE, { RoomInfo: { RoomId: 'no-such-room', RoomName: 'n' } }, 100004);
  });

  it('100001 when the store fails; the room is left as it was and works afterwards', async () => {
    await create(t, 'store-fail', { RoomName: 'before' });
    const upd = mock.method(t.server.store.live, 'update', async () => {
      throw new Error('disk full');
    });
    try {
      await expectFail(t, UPDATE, { RoomInfo: { RoomId: 'store-fail', RoomName: 'after' } }, 100001);
      await expectFail(t, SET_META, { RoomId: 'store-fail', Metadata: [{ Key: 'k', Value: 'v' }] }, 100001);
    } finally {
      upd.mock.restore();
    }
    assert.equal((await info(t, 'store-fail')).RoomName, 'before');
    const meta = expectStrictCode(await t.rest(GET_META, { RoomId: 'store-fail' }), 0);
    assert.deepEqual((meta.Response as { Metadata: unknown[] }).Metadata, []);
    expectStrictCode(await t.rest(UPDATE, { RoomInfo: { RoomId: 'store-fail', RoomName: 'after' } }), 0);
    assert.equal((await info(t, 'store-fail')).RoomName, 'after');

    const ins = mock.method(t.server.store.live, 'insert', async () => {
      throw new Error('disk full');
    });
    try {
      const env = await t.rest(CREATE, { RoomInfo: { RoomId: 'never-made' } });
      expectStrictCode(env, 100001);
      assert.equal(env.ErrorInfo, 'Server internal error, please try again.');
    } finally {
      ins.mock.restore();
    }
    await expectFail(t, INFO, { RoomId: 'never-made' }, 100004);
  });

  it('60010 for a caller that is not an app administrator', async () => {
    const usersig = genUserSig({ sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId: 'user1', expire: 3600 });
    expectStrictCode(await t.rest(INFO, { RoomId: 'live-room' }, { identifier: 'user1', usersig }), 60010);
  });
});

describe('get_room_list', () => {
  /** A fresh server per test, so that only that test's rooms exist. */
  async function withServer(fn: (s: TestServer) => Promise<void>): Promise<void> {
    const s = await startTestServer();
    try {
      await s.server.apps.update(s.app.sdkAppId, { rateLimits: 'off' });
      await fn(s);
    } finally {
      mock.timers.reset();
      await s.close();
    }
  }

  /** Creates rooms one second apart on a frozen clock, in the order given. */
  async function createSpaced(s: TestServer, ids: string[], extra: (id: string) => Record<string, unknown> = () => ({})): Promise<void> {
    const T = wholeSecondNow() - 3600_000;
    mock.timers.enable({ apis: ['Date'], now: T });
    try {
      for (const [i, id] of ids.entries()) {
        mock.timers.setTime(T + i * 1000);
        await create(s, id, extra(id));
      }
    } finally {
      mock.timers.reset();
    }
  }

  it('an empty app: empty RoomList and Next', async () => {
    await withServer(async (s) => {
      assert.deepEqual(await list(s, { Next: '', Count: 20 }), { Next: '', RoomList: [] });
    });
  });

  it('lists the documented fields; with every ViewCount 0 the order is creation order', async () => {
    await withServer(async (s) => {
      await createSpaced(s, ['list-c', 'list-a', 'list-b'], (id) => ({ RoomName: `name ${id}`, CoverURL: `cover ${id}`, Category: [7], ActivityStatus: 2 }));
      const r = await list(s, { Next: '', Count: 20 });
      assert.equal(r.Next, '');
      assert.deepEqual(r.RoomList.map((x) => x.RoomId), ['list-c', 'list-a', 'list-b']);
      const first = r.RoomList[0]!;
      assert.deepEqual(Object.keys(first), ['RoomName', 'RoomId', 'Owner_Account', 'CoverURL', 'Category', 'CreateTime', 'ActivityStatus', 'ViewCount']);
      assert.deepEqual(first, {
        RoomName: 'name list-c',
        RoomId: 'list-c',
        Owner_Account: 'administrator',
        CoverURL: 'cover list-c',
        Category: [7],
        CreateTime: (await info(s, 'list-c')).CreateTime,
        ActivityStatus: 2,
        ViewCount: 0,
      });
    });
  });

  it('rooms created in the same millisecond are listed in creation order too', async () => {
    await withServer(async (s) => {
      mock.timers.enable({ apis: ['Date'], now: wholeSecondNow() });
      for (const id of ['tie-z', 'tie-m', 'tie-a']) await create(s, id);
      mock.timers.reset();
      assert.deepEqual((await list(s, { Next: '', Count: 20 })).RoomList.map((x) => x.RoomId), ['tie-z', 'tie-m', 'tie-a']);
    });
  });

  it('sorts by ViewCount, descending', async () => {
    await withServer(async (s) => {
      await createSpaced(s, ['v-low', 'v-high', 'v-mid']);
      // No API raises ViewCount (it counts audience entries): set it on the rooms in memory.
      s.server.live.get(s.app.sdkAppId, 'v-mid').viewCount = 5;
      s.server.live.get(s.app.sdkAppId, 'v-high').viewCount = 1000;
      const r = await list(s, { Next: '', Count: 20 });
      assert.deepEqual(r.RoomList.map((x) => [x.RoomId, x.ViewCount]), [['v-high', 1000], ['v-mid', 5], ['v-low', 0]]);
    });
  });

  it('pages with Count and Next until Next is empty; Count defaults to 20 and may not exceed 20', async () => {
    await withServer(async (s) => {
      const ids = Array.from({ length: 23 }, (_, i) => `page-${String(22 - i).padStart(2, '0')}`);
      await createSpaced(s, ids);
      assert.deepEqual(await listAll(s, 7), { ids, pages: [7, 7, 7, 2] });
      assert.deepEqual(await listAll(s, 20), { ids, pages: [20, 3] });
      assert.deepEqual(await listAll(s, 1), { ids, pages: Array(23).fill(1) });
      const dflt = await list(s, { Next: '' });
      assert.equal(dflt.RoomList.length, 20);
      assert.notEqual(dflt.Next, '');
      expectStrictCode(await s.rest(DESTROY, { RoomId: 'page-00' }), 0);
      // 22 rooms, 11 per page: the second page is the last.
      assert.deepEqual(await listAll(s, 11), { ids: ids.slice(0, 22), pages: [11, 11] });
      for (const Count of [21, 0, -1, 1.5, '5']) await expectFail(s, LIST, { Next: '', Count }, 100002, /Count/);
    });
  });

  it('does not list rooms whose IsPublicVisible is false', async () => {
    await withServer(async (s) => {
      await createSpaced(s, ['pub-1', 'hidden', 'pub-2'], (id) => ({ IsPublicVisible: id !== 'hidden' }));
      assert.deepEqual((await listAll(s, 1)).ids, ['pub-1', 'pub-2']);
      expectStrictCode(await s.rest(UPDATE, { RoomInfo: { RoomId: 'hidden', IsPublicVisible: true } }), 0);
      assert.deepEqual((await listAll(s, 20)).ids, ['pub-1', 'hidden', 'pub-2']);
      expectStrictCode(await s.rest(UPDATE, { RoomInfo: { RoomId: 'pub-1', IsPublicVisible: false } }), 0);
      assert.deepEqual((await listAll(s, 20)).ids, ['hidden', 'pub-2']);
      assert.equal((await info(s, 'pub-1')).IsPublicVisible, false);
    });
  });

  it('100002 for a Next that get_room_list did not return', async () => {
    await withServer(async (s) => {
      await create(s, 'only-room');
      for (const Next of ['garbage', '1693271355-abc', '1693271355-1.5', 5, null]) {
        await expectFail(s, LIST, { Next, Count: 20 }, 100002, /Next/);
      }
      // A cursor past the end is a finished listing.
      assert.deepEqual(await list(s, { Next: '1693271355-5', Count: 20 }), { Next: '', RoomList: [] });
    });
  });

  it('100002 for a cursor with no, a negative or a non-decimal page number (not read as page 0, 1 or 16)', async () => {
    await withServer(async (s) => {
      await create(s, 'only-room');
      for (const Next of ['1693271355-', ' ', '1693271355-0x10', '1693271355--1']) await expectFail(s, LIST, { Next, Count: 20 }, 100002, /Next/);
    });
  });

  describe('rate limit (rateLimits=tencent)', () => {
    freezeClock();

    it('10 per second: the 11th call in one window gets 60007; get_room_info keeps its own 200/s', () =>
      withFreshServer(async (s) => {
        assert.equal(s.app.settings.rateLimits, 'tencent');
        const codes: unknown[] = [];
        for (let i = 0; i < 11; i++) codes.push((await s.rest(LIST, { Next: '', Count: 20 })).ErrorCode);
        assert.deepEqual(codes, [...Array(10).fill(0), 60007]);
        assert.equal((await s.rest(INFO, { RoomId: 'none' })).ErrorCode, 100004);
        mock.timers.tick(1000);
        assert.equal((await s.rest(LIST, { Next: '', Count: 20 })).ErrorCode, 0);
      }));
  });
});

describe('update_room_info', () => {
  it('changes only the fields given; plain envelope', async () => {
    await create(t, 'upd-room', { ...SAMPLE.RoomInfo, RoomId: 'upd-room' });
    const before = await info(t, 'upd-room');
    const env = expectStrictCode(await t.rest(UPDATE, { RoomInfo: { RoomId: 'upd-room', RoomName: 'renamed' } }), 0);
    assert.deepEqual(Object.keys(env), ENVELOPE);
    assert.deepEqual(await info(t, 'upd-room'), { ...before, RoomName: 'renamed' });

    const patch = { MaxMemberCount: 300, IsMessageDisabled: false, CoverURL: 'https://xxxx.png', Category: [4], ActivityStatus: 1, IsPublicVisible: false, TakeSeatMode: 'FreeToTake', Notice: 'notice' };
    expectStrictCode(await t.rest(UPDATE, { RoomInfo: { RoomId: 'upd-room', ...patch } }), 0);
    assert.deepEqual(await info(t, 'upd-room'), { ...before, RoomName: 'renamed', ...patch });

    expectStrictCode(await t.rest(UPDATE, { RoomInfo: { RoomId: 'upd-room', TakeSeatMode: 2 } }), 0);
    assert.equal((await info(t, 'upd-room')).TakeSeatMode, 'ApplyToTake');
    expectStrictCode(await t.rest(UPDATE, { RoomInfo: { RoomId: 'upd-room', TakeSeatMode: 1 } }), 0);
    assert.equal((await info(t, 'upd-room')).TakeSeatMode, 'FreeToTake');
  });

  it('100002 for Category > 3, RoomName > 100 bytes, Notice > 100 bytes, RoomType not Live; nothing changes', async () => {
    await create(t, 'upd-bad', { RoomName: 'kept', Category: [1] });
    const before = await info(t, 'upd-bad');
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ Category: [1, 2, 3, 4] }, /Category/],
      [{ RoomName: 'é'.repeat(50) + 'x', Category: [2] }, /RoomName/],
      [{ Notice: 'n'.repeat(101) }, /Notice/],
      [{ RoomType: 'Conference' }, /RoomType/],
      [{ MaxSeatCount: 0 }, /MaxSeatCount/],
      [{ MaxSeatCount: 17 }, /MaxSeatCount/],
      [{ MaxMemberCount: -1 }, /MaxMemberCount/],
      [{ IsMessageDisabled: 'true' }, /IsMessageDisabled/],
    ];
    for (const [patch, field] of bad) await expectFail(t, UPDATE, { RoomInfo: { RoomId: 'upd-bad', ...patch } }, 100002, field);
    assert.deepEqual(await info(t, 'upd-bad'), before);
    expectStrictCode(await t.rest(UPDATE, { RoomInfo: { RoomId: 'upd-bad', RoomName: 'é'.repeat(50), Category: [1, 2, 3] } }), 0);
    assert.equal((await info(t, 'upd-bad')).RoomName, 'é'.repeat(50));
  });

  it('a MaxSeatCount change resizes the seat list, keeping the members of remaining seats', async () => {
    await create(t, 'resize-room', { MaxSeatCount: 8 });
    for (const u of ['user1', 'user2']) await t.server.live.enter(t.app.sdkAppId, 'resize-room', u);
    expectStrictCode(await t.rest(PICK, { RoomId: 'resize-room', Member_Account: 'user1', Index: 1 }), 0);
    expectStrictCode(await t.rest(PICK, { RoomId: 'resize-room', Member_Account: 'user2', Index: 6 }), 0);
    assert.deepEqual(await seatMembers(t, 'resize-room'), ['', 'user1', '', '', '', '', 'user2', '']);
    expectStrictCode(await t.rest(UPDATE, { RoomInfo: { RoomId: 'resize-room', MaxSeatCount: 4 } }), 0);
    assert.deepEqual(await seatMembers(t, 'resize-room'), ['', 'user1', '', '']);
    expectStrictCode(await t.rest(UPDATE, { RoomInfo: { RoomId: 'resize-room', MaxSeatCount: 10 } }), 0);
    const seats = expectStrictCode(await t.rest(SEATS, { RoomId: 'resize-room' }), 0).Response as { SeatList: Array<{ Index: number; Member_Account?: string }> };
    assert.deepEqual(seats.SeatList.map((x) => x.Index), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(await seatMembers(t, 'resize-room'), ['', 'user1', '', '', '', '', '', '', '', '']);
    assert.equal((await info(t, 'resize-room')).MaxSeatCount, 10);
    // user2 lost seat 6 with the shrink, so may now be picked again.
    expectStrictCode(await t.rest(PICK, { RoomId: 'resize-room', Member_Account: 'user2', Index: 9 }), 0);
  });
});

describe('set_room_metadata, get_room_metadata, del_room_metadata', () => {
  type Meta = Array<{ Key: string; Value: string }>;
  async function meta(roomId: string, keys?: string[]): Promise<Meta> {
    const env = expectStrictCode(await t.rest(GET_META, keys ? { RoomId: roomId, Keys: keys } : { RoomId: roomId }), 0);
    assert.deepEqual(Object.keys(env), [...ENVELOPE, 'Response']);
    return [...(env.Response as { Metadata: Meta }).Metadata].sort((a, b) => a.Key.localeCompare(b.Key));
  }

  before(() => create(t, 'meta-room'));

  it('adds keys, updates existing ones, gets all or some, deletes', async () => {
    assert.deepEqual(await meta('meta-room'), []);
    const env = expectStrictCode(await t.rest(SET_META, { RoomId: 'meta-room', Metadata: [{ Key: 'key1', Value: 'value1' }, { Key: 'key2', Value: 'value2' }] }), 0);
    assert.deepEqual(Object.keys(env), ENVELOPE);
    assert.deepEqual(await meta('meta-room'), [{ Key: 'key1', Value: 'value1' }, { Key: 'key2', Value: 'value2' }]);

    expectStrictCode(await t.rest(SET_META, { RoomId: 'meta-room', Metadata: [{ Key: 'key1', Value: 'new1' }, { Key: 'key3', Value: '' }] }), 0);
    assert.deepEqual(await meta('meta-room'), [{ Key: 'key1', Value: 'new1' }, { Key: 'key2', Value: 'value2' }, { Key: 'key3', Value: '' }]);
    assert.deepEqual(await meta('meta-room', ['key2', 'missing']), [{ Key: 'key2', Value: 'value2' }]);
    assert.deepEqual(await meta('meta-room', []), await meta('meta-room'));

    expectStrictCode(await t.rest(DEL_META, { RoomId: 'meta-room', Keys: ['key2', 'missing'] }), 0);
    assert.deepEqual(await meta('meta-room'), [{ Key: 'key1', Value: 'new1' }, { Key: 'key3', Value: '' }]);
    expectStrictCode(await t.rest(DEL_META, { RoomId: 'meta-room', Keys: ['key1', 'key3'] }), 0);
    assert.deepEqual(await meta('meta-room'), []);
  });

  it('Key ≤ 50 bytes, Value ≤ 2048 bytes, at most 10 keys; a refused call changes nothing', async () => {
    const set = (Metadata: Meta) => t.rest(SET_META, { RoomId: 'meta-room', Metadata });
    await expectFail(t, SET_META, { RoomId: 'meta-room', Metadata: [{ Key: 'ok', Value: 'v' }, { Key: 'é'.repeat(25) + 'x', Value: 'v' }] }, 100002, /Key/);
    await expectFail(t, SET_META, { RoomId: 'meta-room', Metadata: [{ Key: 'big', Value: 'é'.repeat(1024) + 'x' }] }, 100002, /Value/);
    await expectFail(t, SET_META, { RoomId: 'meta-room', Metadata: [{ Key: '', Value: 'v' }] }, 100002, /Key/);
    await expectFail(t, SET_META, { RoomId: 'meta-room', Metadata: [] }, 100002, /Metadata/);
    await expectFail(t, SET_META, { RoomId: 'meta-room', Metadata: [{ Key: 'k', Value: 5 }] }, 100002, /Value/);
    await expectFail(t, DEL_META, { RoomId: 'meta-room', Keys: [] }, 100002, /Keys/);
    assert.deepEqual(await meta('meta-room'), []);

    expectStrictCode(await set([{ Key: 'é'.repeat(25), Value: 'é'.repeat(1024) }]), 0);
    const nine = Array.from({ length: 9 }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` }));
    expectStrictCode(await set(nine), 0);
    assert.equal((await meta('meta-room')).length, 10);
    // Replacing an existing key keeps the count at 10; an 11th key is refused, with the rest of its call.
    expectStrictCode(await set([{ Key: 'k0', Value: 'again' }]), 0);
    await expectFail(t, SET_META, { RoomId: 'meta-room', Metadata: [{ Key: 'k1', Value: 'changed' }, { Key: 'k10', Value: 'v' }] }, 100002, /10/);
    const now = await meta('meta-room');
    assert.equal(now.length, 10);
    assert.deepEqual(now.find((m) => m.Key === 'k1'), { Key: 'k1', Value: 'v1' });
    assert.deepEqual(now.find((m) => m.Key === 'k0'), { Key: 'k0', Value: 'again' });
    const eleven = Array.from({ length: 11 }, (_, i) => ({ Key: `n${i}`, Value: 'v' }));
    expectStrictCode(await t.rest(DEL_META, { RoomId: 'meta-room', Keys: now.map((m) => m.Key) }), 0);
    await expectFail(t, SET_META, { RoomId: 'meta-room', Metadata: eleven }, 100002);
    expectStrictCode(await set(eleven.slice(0, 10)), 0);
  });

  // "Individual values can be up to 2KB in size, while the aggregate size of all values should not surpass 16KB":
  // https://www.tencentcloud.com/document/product/647/64375
  it('all values of a room hold at most 16 KiB together: the call that would pass it is refused whole (100002)', async () => {
    await create(t, 'meta-total');
    const kib2 = 'v'.repeat(2048);
    const eight = Array.from({ length: 8 }, (_, i) => ({ Key: `big${i}`, Value: kib2 }));
    expectStrictCode(await t.rest(SET_META, { RoomId: 'meta-total', Metadata: eight }), 0);
    // Exactly 16 KiB: one more byte in a new key is over, and so is a call that shrinks one value but adds a bigger one.
    await expectFail(t, SET_META, { RoomId: 'meta-total', Metadata: [{ Key: 'extra', Value: 'x' }] }, 100002, /16384/);
    await expectFail(t, SET_META, { RoomId: 'meta-total', Metadata: [{ Key: 'big0', Value: 'v' }, { Key: 'new', Value: kib2 }] }, 100002, /16384/);
    const env = expectStrictCode(await t.rest(GET_META, { RoomId: 'meta-total', Keys: ['big0'] }), 0);
    assert.equal((env.Response as { Metadata: Array<{ Value: string }> }).Metadata[0]!.Value, kib2);
    // An empty value adds a key without adding bytes; shrinking one value makes room for another.
    expectStrictCode(await t.rest(SET_META, { RoomId: 'meta-total', Metadata: [{ Key: 'empty', Value: '' }] }), 0);
    expectStrictCode(await t.rest(SET_META, { RoomId: 'meta-total', Metadata: [{ Key: 'big0', Value: 'v' }, { Key: 'small', Value: 'v'.repeat(2047) }] }), 0);
  });
});
