import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it, mock } from 'node:test';
import { DEFAULT_CONFIG } from '../../config.ts';
import { startServer } from '../../server.ts';
import { LIVE_TOPIC, type LiveEvent } from '../../services/live/room.ts';
import { startTestServer, tempDir, type TestServer } from '../../../test/helpers/server.ts';
import { liveCommands } from './live.ts';
import { ENVELOPE, expectFail, expectStrictCode, type SeatEntry } from './testkit.ts';

// live_engine_http_srv members, messages, statistics and robots, room_engine_http_mic seats, persistence (https://trtc.io/document/63398).

const SRV = 'live_engine_http_srv';
const CREATE = `${SRV}/create_room`;
const DESTROY = `${SRV}/destroy_room`;
const UPDATE = `${SRV}/update_room_info`;
const SET_META = `${SRV}/set_room_metadata`;
const STATISTIC = `${SRV}/get_room_statistic`;
const STATS = `${SRV}/get_room_stats`;
const MUTE = `${SRV}/mute_member`;
const MUTED = `${SRV}/get_muted_member_list`;
const BAN = `${SRV}/ban_member`;
const UNBAN = `${SRV}/unban_member`;
const BANNED = `${SRV}/get_banned_member_list`;
const TEXT = `${SRV}/send_text_msg`;
const CUSTOM = `${SRV}/send_custom_msg`;
const ADD_ROBOT = `${SRV}/add_robot`;
const GET_ROBOT = `${SRV}/get_robot`;
const DEL_ROBOT = `${SRV}/del_robot`;
const SEATS = 'room_engine_http_mic/get_seat_list';
const PICK = 'room_engine_http_mic/pick_user_on_seat';
const KICK = 'room_engine_http_mic/kick_user_off_seat';

/** Sends a command that must succeed with the plain envelope. */
async function ok(s: TestServer, command: string, body: unknown): Promise<void> {
  const env = expectStrictCode(await s.rest(command, body), 0, `${command} ${JSON.stringify(body).slice(0, 200)}`);
  assert.deepEqual(Object.keys(env), ENVELOPE, command);
}

/** Sends a command that must succeed and returns its Response. */
async function response<T>(s: TestServer, command: string, body: unknown): Promise<T> {
  const env = expectStrictCode(await s.rest(command, body), 0, `${command} ${JSON.stringify(body).slice(0, 200)}`);
  assert.deepEqual(Object.keys(env), [...ENVELOPE, 'Response'], command);
  return env.Response as T;
}

async function create(s: TestServer, roomId: string, extra: Record<string, unknown> = {}): Promise<void> {
  await ok(s, CREATE, { RoomInfo: { RoomId: roomId, ...extra } });
}

/** Seats a user by pick_user_on_seat, entering them into the room first (only room members can be picked). */
async function pick(s: TestServer, roomId: string, user: string, index: number): Promise<void> {
  await s.server.live.enter(s.app.sdkAppId, roomId, user);
  await ok(s, PICK, { RoomId: roomId, Member_Account: user, Index: index });
}

async function seatList(s: TestServer, roomId: string): Promise<SeatEntry[]> {
  const r = await response<{ SeatList: SeatEntry[] }>(s, SEATS, { RoomId: roomId });
  assert.deepEqual(Object.keys(r), ['SeatList']);
  return r.SeatList;
}

const seatMembers = async (s: TestServer, roomId: string) => (await seatList(s, roomId)).map((x) => x.Member_Account ?? '');
const muted = (s: TestServer, roomId: string) => response<{ MutedAccountList: Array<{ Member_Account: string; MutedUntil: number }> }>(s, MUTED, { RoomId: roomId }).then((r) => r.MutedAccountList);
const banned = (s: TestServer, body: Record<string, unknown>) =>
  response<{ BannedAccountList: Array<{ Member_Account: string; BannedUntil: number }>; NextOffset: number }>(s, BANNED, body);

/** A whole second near now, for frozen clocks. */
const wholeSecondNow = () => Math.floor(Date.now() / 1000) * 1000;
const users = (n: number, prefix = 'm') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

let t: TestServer;
before(async () => {
  t = await startTestServer();
  await t.server.apps.update(t.app.sdkAppId, { rateLimits: 'off' });
  const env = await t.rest('im_open_login_svc/multiaccount_import', { Accounts: ['user1', 'user2', 'user3', 'user4', 'robot1', 'robot2', 'robot3', ...users(25)] });
  assert.deepEqual([env.ErrorCode, env.FailAccounts], [0, []]);
});
after(() => t.close());

describe('mute_member and get_muted_member_list', () => {
  before(() => create(t, 'mute-room'));

  it('mutes until now + MuteTime; MuteTime 0 unmutes; the mute expires', async () => {
    const T = wholeSecondNow();
    mock.timers.enable({ apis: ['Date'], now: T });
    try {
      assert.deepEqual(await muted(t, 'mute-room'), []);
      await ok(t, MUTE, { RoomId: 'mute-room', MemberList_Account: ['user1', 'user2'], MuteTime: 3600 });
      const list = await muted(t, 'mute-room');
      assert.deepEqual(list, [
        { Member_Account: 'user1', MutedUntil: T / 1000 + 3600 },
        { Member_Account: 'user2', MutedUntil: T / 1000 + 3600 },
      ]);
      for (const m of list) assert.deepEqual(Object.keys(m), ['Member_Account', 'MutedUntil']);
      assert.ok(t.server.live.isMuted(t.app.sdkAppId, 'mute-room', 'user1'));

      await ok(t, MUTE, { RoomId: 'mute-room', MemberList_Account: ['user2'], MuteTime: 0 });
      assert.deepEqual((await muted(t, 'mute-room')).map((m) => m.Member_Account), ['user1']);
      assert.equal(t.server.live.isMuted(t.app.sdkAppId, 'mute-room', 'user2'), false);

      // A new mute replaces the old end time.
      mock.timers.setTime(T + 10_000);
      await ok(t, MUTE, { RoomId: 'mute-room', MemberList_Account: ['user1'], MuteTime: 60 });
      assert.deepEqual(await muted(t, 'mute-room'), [{ Member_Account: 'user1', MutedUntil: T / 1000 + 70 }]);

      mock.timers.setTime(T + 69_000);
      assert.equal((await muted(t, 'mute-room')).length, 1);
      mock.timers.setTime(T + 70_000);
      assert.deepEqual(await muted(t, 'mute-room'), []);
      assert.equal(t.server.live.isMuted(t.app.sdkAppId, 'mute-room', 'user1'), false);
    } finally {
      mock.timers.reset();
    }
  });

  it('100002 for unknown members (named), a bad MuteTime or an empty list; 100004 for an unknown room', async () => {
    await expectFail(t, MUTE, { RoomId: 'mute-room', MemberList_Account: ['user3', 'ghost-m'], MuteTime: 60 }, 100002, /ghost-m/);
    assert.ok(!(await muted(t, 'mute-room')).some((m) => m.Member_Account === 'user3'), 'user3 muted by a refused call');
    for (const MuteTime of [-1, 1.5, '60', undefined]) await expectFail(t, MUTE, { RoomId: 'mute-room', MemberList_Account: ['user3'], MuteTime }, 100002, /MuteTime/);
    await expectFail(t, MUTE, { RoomId: 'mute-room', MemberList_Account: [], MuteTime: 60 }, 100002, /MemberList_Account/);
    await expectFail(t, MUTE, { RoomId: 'mute-room', MemberList_Account: 'user3', MuteTime: 60 }, 100002, /MemberList_Account/);
    await expectFail(t, MUTE, { RoomId: 'mute-nowhere', MemberList_Account: ['user3'], MuteTime: 60 }, 100004);
    await expectFail(t, MUTED, { RoomId: 'mute-nowhere' }, 100004);
  });
});

describe('ban_member, unban_member, get_banned_member_list', () => {
  it('bans until now + Duration; a banned member leaves their seat and cannot be seated; unban lifts it', async () => {
    await create(t, 'ban-room');
    const T = wholeSecondNow();
    mock.timers.enable({ apis: ['Date'], now: T });
    try {
      await pick(t, 'ban-room', 'user3', 2);
      await pick(t, 'ban-room', 'user4', 3);
      await ok(t, BAN, { RoomId: 'ban-room', MemberList_Account: ['user1', 'user3'], Reason: '', Duration: 3600 });
      const r = await banned(t, { RoomId: 'ban-room', Offset: 0, Limit: 10 });
      assert.deepEqual(Object.keys(r), ['BannedAccountList', 'NextOffset']);
      assert.deepEqual(r, {
        BannedAccountList: [
          { Member_Account: 'user1', BannedUntil: T / 1000 + 3600 },
          { Member_Account: 'user3', BannedUntil: T / 1000 + 3600 },
        ],
        NextOffset: 0,
      });
      assert.deepEqual(await seatMembers(t, 'ban-room'), ['', '', '', 'user4', '', '', '', '']);
      await expectFail(t, PICK, { RoomId: 'ban-room', Member_Account: 'user3', Index: 2 }, 100005, /not a member/); // the ban put them out of the room
      assert.ok(t.server.live.isBanned(t.app.sdkAppId, 'ban-room', 'user3'));

      await ok(t, UNBAN, { RoomId: 'ban-room', MemberList_Account: ['user3'] });
      assert.deepEqual((await banned(t, { RoomId: 'ban-room' })).BannedAccountList.map((b) => b.Member_Account), ['user1']);
      await pick(t, 'ban-room', 'user3', 2);

      // The ban ends by itself after Duration.
      mock.timers.setTime(T + 3599_000);
      await expectFail(t, PICK, { RoomId: 'ban-room', Member_Account: 'user1', Index: 0 }, 100005, /not a member/);
      mock.timers.setTime(T + 3600_000);
      assert.deepEqual(await banned(t, { RoomId: 'ban-room' }), { BannedAccountList: [], NextOffset: 0 });
      assert.equal(t.server.live.isBanned(t.app.sdkAppId, 'ban-room', 'user1'), false);
      await pick(t, 'ban-room', 'user1', 0);
    } finally {
      mock.timers.reset();
    }
  });

  it('at most 20 members per call, Reason ≤ 200 bytes, imported members, Duration ≥ 1; refusals ban nobody', async () => {
    await create(t, 'ban-limits');
    await expectFail(t, BAN, { RoomId: 'ban-limits', MemberList_Account: users(21), Duration: 60 }, 100002, /20/);
    await expectFail(t, BAN, { RoomId: 'ban-limits', MemberList_Account: ['user1'], Reason: 'é'.repeat(100) + 'x', Duration: 60 }, 100002, /Reason/);
    await expectFail(t, BAN, { RoomId: 'ban-limits', MemberList_Account: ['user1', 'ghost-b'], Duration: 60 }, 100002, /ghost-b/);
    for (const Duration of [0, -5, 2.5, undefined]) await expectFail(t, BAN, { RoomId: 'ban-limits', MemberList_Account: ['user1'], Duration }, 100002, /Duration/);
    await expectFail(t, BAN, { RoomId: 'ban-limits', MemberList_Account: [], Duration: 60 }, 100002, /MemberList_Account/);
    await expectFail(t, BAN, { RoomId: 'ban-nowhere', MemberList_Account: ['user1'], Duration: 60 }, 100004);
    await expectFail(t, UNBAN, { RoomId: 'ban-nowhere', MemberList_Account: ['user1'] }, 100004);
    await expectFail(t, BANNED, { RoomId: 'ban-nowhere' }, 100004);
    assert.deepEqual(await banned(t, { RoomId: 'ban-limits' }), { BannedAccountList: [], NextOffset: 0 });

    await ok(t, BAN, { RoomId: 'ban-limits', MemberList_Account: users(20), Reason: 'é'.repeat(100), Duration: 60 });
    assert.equal((await banned(t, { RoomId: 'ban-limits', Limit: 100 })).BannedAccountList.length, 20);
  });

  it('pages with Offset and Limit; NextOffset is 0 when done; Limit ≤ 100', async () => {
    await create(t, 'ban-pages');
    await ok(t, BAN, { RoomId: 'ban-pages', MemberList_Account: users(20), Duration: 600 });
    await ok(t, BAN, { RoomId: 'ban-pages', MemberList_Account: users(25).slice(20), Duration: 600 });
    const all = users(25);
    const seen: string[] = [];
    const nexts: number[] = [];
    let offset = 0;
    do {
      const r = await banned(t, { RoomId: 'ban-pages', Offset: offset, Limit: 10 });
      seen.push(...r.BannedAccountList.map((b) => b.Member_Account));
      nexts.push(r.NextOffset);
      offset = r.NextOffset;
    } while (offset !== 0 && nexts.length < 10);
    assert.deepEqual(nexts, [10, 20, 0]);
    assert.deepEqual(seen, all);
    // Defaults: Offset 0 and 10 per page.
    const first = await banned(t, { RoomId: 'ban-pages' });
    assert.deepEqual([first.BannedAccountList.length, first.NextOffset], [10, 10]);
    const whole = await banned(t, { RoomId: 'ban-pages', Limit: 100 });
    assert.deepEqual([whole.BannedAccountList.length, whole.NextOffset], [25, 0]);
    assert.deepEqual(await banned(t, { RoomId: 'ban-pages', Offset: 25, Limit: 10 }), { BannedAccountList: [], NextOffset: 0 });
    const exact = await banned(t, { RoomId: 'ban-pages', Offset: 15, Limit: 10 });
    assert.deepEqual([exact.BannedAccountList.length, exact.NextOffset], [10, 0]);
    for (const bad of [{ Limit: 101 }, { Limit: 0 }, { Offset: -1 }, { Offset: '0' }]) await expectFail(t, BANNED, { RoomId: 'ban-pages', ...bad }, 100002);
  });
});

describe('send_text_msg and send_custom_msg', () => {
  before(async () => {
    await create(t, 'room1');
    await create(t, 'msg-other');
  });

  // send_text_msg: "Sender_Account | String | Required" (https://www.tencentcloud.com/document/product/647/74353).
  it('answers MsgTime and an increasing MsgSeq per room; ExtensionInfo must be JSON; Sender_Account is required', async () => {
    const T = wholeSecondNow();
    mock.timers.enable({ apis: ['Date'], now: T });
    try {
      const send = (body: Record<string, unknown>) => response<{ MsgTime: number; MsgSeq: number }>(t, TEXT, body);
      const a = await send({ RoomId: 'room1', Sender_Account: 'user1', TextContent: 'msg', ExtensionInfo: '{"data":1,"value":2}' });
      assert.deepEqual(Object.keys(a), ['MsgTime', 'MsgSeq']);
      assert.deepEqual(a, { MsgTime: T / 1000, MsgSeq: 1 });
      await expectFail(t, TEXT, { RoomId: 'room1', Sender_Account: 'user1', TextContent: 'msg', ExtensionInfo: 'not json' }, 100002, /ExtensionInfo/);
      await expectFail(t, TEXT, { RoomId: 'room1', Sender_Account: 'ghost-s', TextContent: 'msg' }, 100002, /ghost-s/);
      mock.timers.setTime(T + 2000);
      await expectFail(t, TEXT, { RoomId: 'room1', TextContent: 'no sender' }, 100002, /Sender_Account/);
      await expectFail(t, TEXT, { RoomId: 'room1', Sender_Account: '', TextContent: 'x' }, 100002, /Sender_Account/);
      await expectFail(t, TEXT, { RoomId: 'room1', Sender_Account: 7, TextContent: 'x' }, 100002, /Sender_Account/);
      const b = await send({ RoomId: 'room1', Sender_Account: 'administrator', TextContent: 'from the admin' });
      assert.deepEqual(b, { MsgTime: T / 1000 + 2, MsgSeq: 2 });
      assert.equal((await send({ RoomId: 'msg-other', Sender_Account: 'user1', TextContent: 'x' })).MsgSeq, 1);
      assert.equal((await send({ RoomId: 'room1', Sender_Account: 'user2', TextContent: 'é'.repeat(6144) })).MsgSeq, 3);
    } finally {
      mock.timers.reset();
    }
    for (const bad of [{ TextContent: '' }, {}, { TextContent: 5 }, { TextContent: 'x'.repeat(12 * 1024 + 1) }]) {
      await expectFail(t, TEXT, { RoomId: 'room1', Sender_Account: 'user1', ...bad }, 100002, /TextContent/);
    }
    await expectFail(t, TEXT, { RoomId: 'room1', Sender_Account: 'user1', TextContent: 'x', ExtensionInfo: { data: 1 } }, 100002, /ExtensionInfo/);
    await expectFail(t, TEXT, { RoomId: 'msg-nowhere', Sender_Account: 'user1', TextContent: 'x' }, 100004);
  });

  it('send_custom_msg takes the documented body and shares the room sequence', async () => {
    const r = await response<{ MsgTime: number; MsgSeq: number }>(t, CUSTOM, { RoomId: 'room1', Sender_Account: 'user1', BusinessId: 'xxxxx', Data: 'zzzzzzz' });
    assert.equal(r.MsgSeq, 4);
    assert.ok(Number.isInteger(r.MsgTime) && r.MsgTime > 1_600_000_000 && r.MsgTime < 10_000_000_000, `MsgTime ${r.MsgTime} in seconds`);
    assert.equal((await response<{ MsgSeq: number }>(t, CUSTOM, { RoomId: 'room1', BusinessId: 'b', Data: '' })).MsgSeq, 5);
    await expectFail(t, CUSTOM, { RoomId: 'room1', Sender_Account: 'user1', Data: 'z' }, 100002, /BusinessId/);
    await expectFail(t, CUSTOM, { RoomId: 'room1', Sender_Account: 'user1', BusinessId: 'b' }, 100002, /Data/);
    await expectFail(t, CUSTOM, { RoomId: 'room1', Sender_Account: 'ghost-c', BusinessId: 'b', Data: 'z' }, 100002, /ghost-c/);
    await expectFail(t, CUSTOM, { RoomId: 'msg-nowhere', Sender_Account: 'user1', BusinessId: 'b', Data: 'z' }, 100004);
  });
});

describe('room events on the bus', () => {
  it('publishes text, custom, seat, mute, ban and destroyed, in order; refusals publish nothing', async () => {
    await create(t, 'events-room');
    await t.server.live.enter(t.app.sdkAppId, 'events-room', 'user2');
    const seen: LiveEvent[] = [];
    const stop = t.server.bus.subscribe(LIVE_TOPIC, (p) => {
      const e = p as LiveEvent;
      if (e.roomId === 'events-room') seen.push(e);
    });
    try {
      await response(t, TEXT, { RoomId: 'events-room', Sender_Account: 'user1', TextContent: 'hello', ExtensionInfo: '{"a":1}' });
      await response(t, CUSTOM, { RoomId: 'events-room', BusinessId: 'biz', Data: 'payload' }); // Sender_Account 选填 (https://cloud.tencent.com/document/product/269/125772)
      await ok(t, PICK, { RoomId: 'events-room', Member_Account: 'user2', Index: 1 });
      await expectFail(t, PICK, { RoomId: 'events-room', Member_Account: 'user3', Index: 1 }, 100005);
      await expectFail(t, TEXT, { RoomId: 'events-room', Sender_Account: 'ghost-e', TextContent: 'x' }, 100002);
      await ok(t, MUTE, { RoomId: 'events-room', MemberList_Account: ['user3'], MuteTime: 60 });
      await ok(t, BAN, { RoomId: 'events-room', MemberList_Account: ['user2'], Reason: 'r', Duration: 60 });
      await ok(t, DESTROY, { RoomId: 'events-room' });
    } finally {
      stop();
    }
    assert.deepEqual(seen.map((e) => e.type), ['text', 'custom', 'seat', 'mute', 'ban', 'destroyed']);
    for (const e of seen) {
      assert.equal(e.sdkAppId, t.app.sdkAppId);
      assert.equal(typeof e.time, 'number');
    }
    assert.deepEqual({ ...seen[0]!.data, time: 0 }, { sender: 'user1', text: 'hello', extensionInfo: '{"a":1}', seq: 1, time: 0 });
    assert.deepEqual({ ...seen[1]!.data, time: 0 }, { sender: 'administrator', businessId: 'biz', data: 'payload', seq: 2, time: 0 });
    assert.deepEqual(seen[2]!.data, { user: 'user2', index: 1, action: 'pick' });
    assert.deepEqual(seen[3]!.data, { users: ['user3'], seconds: 60 });
    assert.deepEqual(seen[4]!.data, { users: ['user2'], seconds: 60, reason: 'r' });
  });
});

describe('add_robot, get_robot, del_robot', () => {
  before(() => create(t, 'robot-room'));
  const robots = async (roomId: string) => (await response<{ RobotList_Account: string[] }>(t, GET_ROBOT, { RoomId: roomId })).RobotList_Account;

  it('adds imported robots once each, lists and removes them', async () => {
    assert.deepEqual(await robots('robot-room'), []);
    await ok(t, ADD_ROBOT, { RoomId: 'robot-room', RobotList_Account: ['robot1', 'robot2'] });
    await ok(t, ADD_ROBOT, { RoomId: 'robot-room', RobotList_Account: ['robot2', 'robot3'] });
    assert.deepEqual(await robots('robot-room'), ['robot1', 'robot2', 'robot3']);
    await ok(t, DEL_ROBOT, { RoomId: 'robot-room', RobotList_Account: ['robot2', 'robot-never-added'] });
    assert.deepEqual(await robots('robot-room'), ['robot1', 'robot3']);
  });

  it('100002 naming robots not imported, for a RoomId over 48 bytes and an empty list; 100004 for an unknown room', async () => {
    const before = await robots('robot-room');
    await expectFail(t, ADD_ROBOT, { RoomId: 'robot-room', RobotList_Account: ['robot1', 'ghost-r1', 'ghost-r2'] }, 100002, /ghost-r1.*ghost-r2/);
    assert.deepEqual(await robots('robot-room'), before);
    await expectFail(t, ADD_ROBOT, { RoomId: 'r'.repeat(49), RobotList_Account: ['robot1'] }, 100002, /RoomId/);
    await expectFail(t, ADD_ROBOT, { RoomId: 'robot-room', RobotList_Account: [] }, 100002, /RobotList_Account/);
    await expectFail(t, ADD_ROBOT, { RoomId: 'robot-room' }, 100002, /RobotList_Account/);
    await expectFail(t, ADD_ROBOT, { RoomId: 'robot-nowhere', RobotList_Account: ['robot1'] }, 100004, /robot-nowhere/);
    await expectFail(t, GET_ROBOT, { RoomId: 'robot-nowhere' }, 100004);
    await expectFail(t, DEL_ROBOT, { RoomId: 'robot-nowhere', RobotList_Account: ['robot1'] }, 100004);
  });

  // "Each room can accommodate a maximum of three robots": https://trtc.io/document/69079 (add_robot),
  // https://trtc.io/document/69081 (get_robot).
  it('a room holds at most 3 robots: a call that would make a 4th is refused whole (100002); re-adding one is not a 4th', async () => {
    await create(t, 'robot-cap');
    await ok(t, ADD_ROBOT, { RoomId: 'robot-cap', RobotList_Account: ['robot1', 'robot2', 'robot3'] });
    await ok(t, ADD_ROBOT, { RoomId: 'robot-cap', RobotList_Account: ['robot3'] });
    await expectFail(t, ADD_ROBOT, { RoomId: 'robot-cap', RobotList_Account: ['robot3', 'user4'] }, 100002, /at most 3 robots/);
    assert.deepEqual(await robots('robot-cap'), ['robot1', 'robot2', 'robot3']);
    await ok(t, DEL_ROBOT, { RoomId: 'robot-cap', RobotList_Account: ['robot2'] });
    await ok(t, ADD_ROBOT, { RoomId: 'robot-cap', RobotList_Account: ['user4'] });
    assert.deepEqual(await robots('robot-cap'), ['robot1', 'robot3', 'user4']);
    await expectFail(t, ADD_ROBOT, { RoomId: 'robot-four', RobotList_Account: ['robot1', 'robot2', 'robot3', 'user4'] }, 100004);
  });

  // get_robot's "Maximum Calling Frequency: 100 times/second": https://trtc.io/document/69081
  // del_robot's "Maximum Calling Frequency 100 times/second": https://www.tencentcloud.com/document/product/1071/76864
  it('get_robot and del_robot are limited to 100 calls a second, like add_robot', () => {
    assert.deepEqual(liveCommands['live_engine_http_srv/get_robot']!.limit, { points: 100, seconds: 1 });
    assert.deepEqual(liveCommands['live_engine_http_srv/add_robot']!.limit, { points: 100, seconds: 1 });
    assert.deepEqual(liveCommands['live_engine_http_srv/del_robot']!.limit, { points: 100, seconds: 1 });
  });
});

describe('room_engine_http_mic seats', () => {
  it('get_seat_list: MaxSeatCount entries in the documented shape; Member_Account only on a taken seat', async () => {
    await create(t, 'seat-room', { MaxSeatCount: 8 });
    await pick(t, 'seat-room', 'user2', 0);
    const list = await seatList(t, 'seat-room');
    assert.equal(list.length, 8);
    assert.deepEqual(list[0], { Index: 0, Member_Account: 'user2', IsTakenDisabled: false, IsVideoDisabled: false, IsAudioDisabled: false });
    assert.deepEqual(Object.keys(list[0]!), ['Index', 'Member_Account', 'IsTakenDisabled', 'IsVideoDisabled', 'IsAudioDisabled']);
    for (const [i, seat] of list.slice(1).entries()) {
      assert.deepEqual(seat, { Index: i + 1, IsTakenDisabled: false, IsVideoDisabled: false, IsAudioDisabled: false });
    }
    await expectFail(t, SEATS, { RoomId: 'seat-nowhere' }, 100004);
  });

  // pick_user_on_seat's own codes (https://cloud.tencent.com/document/product/647/110668): 100005 not a room member,
  // 100200 locked, 100203 already on a seat, 100210 taken, 100211 seats disabled.
  it('pick_user_on_seat refuses a bad Index (100002), a non-member (100005), a locked (100200) or taken seat (100210), a seated user (100203), disabled seats (100211)', async () => {
    await create(t, 'pick-room', { MaxSeatCount: 4 });
    await pick(t, 'pick-room', 'user1', 3);
    await expectFail(t, PICK, { RoomId: 'pick-room', Member_Account: 'user2', Index: 0 }, 100005, /user2 is not a member/);
    await t.server.live.enter(t.app.sdkAppId, 'pick-room', 'user2');
    await expectFail(t, PICK, { RoomId: 'pick-room', Member_Account: 'user2', Index: 4 }, 100002, /Index/);
    for (const Index of [-1, 1.5, '1', undefined]) await expectFail(t, PICK, { RoomId: 'pick-room', Member_Account: 'user2', Index }, 100002, /Index/);
    await expectFail(t, PICK, { RoomId: 'pick-room', Member_Account: 'user2', Index: 3 }, 100210, /taken by user1/);
    await expectFail(t, PICK, { RoomId: 'pick-room', Member_Account: 'user1', Index: 0 }, 100203, /already/);
    await ok(t, 'room_engine_http_mic/lock_seat', { RoomId: 'pick-room', Index: 1, ForbidTaken: true });
    await expectFail(t, PICK, { RoomId: 'pick-room', Member_Account: 'user2', Index: 1 }, 100200, /locked/);
    await expectFail(t, PICK, { RoomId: 'pick-room', Member_Account: 'ghost-p', Index: 0 }, 100002, /ghost-p/);
    await expectFail(t, PICK, { RoomId: 'pick-room', Index: 0 }, 100002, /Member_Account/);
    await expectFail(t, PICK, { RoomId: 'pick-nowhere', Member_Account: 'user2', Index: 0 }, 100004);
    assert.deepEqual(await seatMembers(t, 'pick-room'), ['', '', '', 'user1']);
    // The owner and the room's robots count as in the room.
    await ok(t, 'live_engine_http_srv/add_robot', { RoomId: 'pick-room', RobotList_Account: ['user3'] });
    await ok(t, PICK, { RoomId: 'pick-room', Member_Account: 'user3', Index: 2 });
    await ok(t, PICK, { RoomId: 'pick-room', Member_Account: 'administrator', Index: 0 });
    assert.deepEqual(await seatMembers(t, 'pick-room'), ['administrator', '', 'user3', 'user1']);

    await create(t, 'no-seats', { IsSeatEnabled: false });
    await t.server.live.enter(t.app.sdkAppId, 'no-seats', 'user2');
    await expectFail(t, PICK, { RoomId: 'no-seats', Member_Account: 'user2', Index: 0 }, 100211, /disabled/);
    await ok(t, UPDATE, { RoomInfo: { RoomId: 'no-seats', IsSeatEnabled: true } });
    await ok(t, PICK, { RoomId: 'no-seats', Member_Account: 'user2', Index: 0 });
  });

  it('kick_user_off_seat frees the seat, carries Data, refuses a user not seated', async () => {
    await create(t, 'kick-room');
    await pick(t, 'kick-room', 'user2', 5);
    const seen: LiveEvent[] = [];
    const stop = t.server.bus.subscribe(LIVE_TOPIC, (p) => {
      if ((p as LiveEvent).roomId === 'kick-room') seen.push(p as LiveEvent);
    });
    try {
      await ok(t, KICK, { RoomId: 'kick-room', Member_Account: 'user2', Data: 'time over' });
    } finally {
      stop();
    }
    assert.deepEqual(seen.map((e) => [e.type, e.data]), [['seat', { user: 'user2', action: 'kick', data: 'time over' }]]);
    assert.deepEqual(await seatMembers(t, 'kick-room'), Array(8).fill(''));
    await expectFail(t, KICK, { RoomId: 'kick-room', Member_Account: 'user2', Data: 'again' }, 100002, /not on a seat/);
    await expectFail(t, KICK, { RoomId: 'kick-room', Member_Account: 'user1', Data: 'x' }, 100002, /user1/);
    await expectFail(t, KICK, { RoomId: 'kick-room', Data: 'x' }, 100002, /Member_Account/);
    await expectFail(t, KICK, { RoomId: 'kick-nowhere', Member_Account: 'user2', Data: 'x' }, 100004);
  });

  it('TakeSeatMode: takeSeat seats at once under FreeToTake and only applies under ApplyToTake', async () => {
    const live = t.server.live;
    const id = t.app.sdkAppId;
    await create(t, 'free-room', { TakeSeatMode: 'FreeToTake' });
    assert.deepEqual(await live.takeSeat(id, 'free-room', 'user1', 2), { seated: true });
    assert.equal((await seatMembers(t, 'free-room'))[2], 'user1');

    await create(t, 'apply-room', { TakeSeatMode: 2 });
    const seen: LiveEvent[] = [];
    const stop = t.server.bus.subscribe(LIVE_TOPIC, (p) => {
      if ((p as LiveEvent).roomId === 'apply-room') seen.push(p as LiveEvent);
    });
    try {
      assert.deepEqual(await live.takeSeat(id, 'apply-room', 'user1', 2), { seated: false });
    } finally {
      stop();
    }
    assert.deepEqual(seen.map((e) => [e.type, e.data]), [['seat', { user: 'user1', index: 2, action: 'apply' }]]);
    assert.deepEqual(await seatMembers(t, 'apply-room'), Array(8).fill(''));
    // The owner (here the admin) approves by picking.
    await pick(t, 'apply-room', 'user1', 2);
    assert.equal((await seatMembers(t, 'apply-room'))[2], 'user1');

    await ok(t, UPDATE, { RoomInfo: { RoomId: 'apply-room', TakeSeatMode: 'FreeToTake' } });
    assert.deepEqual(await live.takeSeat(id, 'apply-room', 'user2', 0), { seated: true });
    await assert.rejects(live.takeSeat(id, 'apply-room', 'user3', 2), /taken by user1/);
    await create(t, 'take-disabled', { IsSeatEnabled: false });
    await assert.rejects(live.takeSeat(id, 'take-disabled', 'user3', 0), /disabled/);
  });
});

describe('get_room_stats (and its alias get_room_statistic)', () => {
  // https://trtc.io/zh/document/80421: Response {TotalViewers, TotalGiftsSent, TotalGiftCoins, TotalUniqueGiftSenders, TotalLikesReceived, TotalMsgCount}.
  it('counts the room messages; gifts 0; 100004 for an unknown room; the old name answers the same', async () => {
    await create(t, 'stat-room');
    const stat = async (command = STATS) => {
      const env = expectStrictCode(await t.rest(command, { RoomId: 'stat-room' }), 0);
      assert.deepEqual(Object.keys(env), [...ENVELOPE, 'Response']);
      return env.Response as Record<string, unknown>;
    };
    const first = await stat();
    assert.deepEqual(first, { TotalViewers: 0, TotalGiftsSent: 0, TotalGiftCoins: 0, TotalUniqueGiftSenders: 0, TotalLikesReceived: 0, TotalMsgCount: 0 });
    for (let i = 0; i < 3; i++) expectStrictCode(await t.rest(TEXT, { RoomId: 'stat-room', Sender_Account: 'user1', TextContent: `m${i}` }), 0);
    expectStrictCode(await t.rest(CUSTOM, { RoomId: 'stat-room', Sender_Account: 'user2', BusinessId: 'b', Data: 'd' }), 0);
    // A refused message is not counted.
    await expectFail(t, TEXT, { RoomId: 'stat-room', Sender_Account: 'ghost', TextContent: 'x' }, 100002);
    assert.equal((await stat()).TotalMsgCount, 4);
    // Another room's messages are its own.
    await create(t, 'stat-other');
    expectStrictCode(await t.rest(TEXT, { RoomId: 'stat-other', Sender_Account: 'user1', TextContent: 'x' }), 0);
    assert.equal((await stat()).TotalMsgCount, 4);
    assert.deepEqual(await stat(STATISTIC), await stat());
    await expectFail(t, STATS, { RoomId: 'stat-none' }, 100004);
    await expectFail(t, STATISTIC, { RoomId: 'stat-none' }, 100004);
    await expectFail(t, STATS, {}, 100002, /RoomId/);
    await expectFail(t, STATS, { RoomId: 7 }, 100002, /RoomId/);
    await expectFail(t, STATS, { RoomId: 'r'.repeat(49) }, 100002, /RoomId/);
  });
});

describe('persistence', () => {
  it('rooms, settings and live state survive a restart', async () => {
    const dir = tempDir();
    try {
      const a = await startTestServer({ dataDir: dir });
      const id = a.app.sdkAppId;
      try {
        await a.server.apps.update(id, { rateLimits: 'off' });
        expectStrictCode(await a.rest('im_open_login_svc/multiaccount_import', { Accounts: ['p1', 'p2'] }), 0);
        await create(a, 'kept-room', { RoomName: 'live name', TakeSeatMode: 'ApplyToTake', Category: [1, 2, 3], MaxSeatCount: 4 });
        expectStrictCode(await a.rest(SET_META, { RoomId: 'kept-room', Metadata: [{ Key: 'k', Value: 'v' }] }), 0);
        expectStrictCode(await a.rest(ADD_ROBOT, { RoomId: 'kept-room', RobotList_Account: ['p1'] }), 0); // a robot stays in the room across restarts
        expectStrictCode(await a.rest(PICK, { RoomId: 'kept-room', Member_Account: 'p1', Index: 2 }), 0);
        expectStrictCode(await a.rest(BAN, { RoomId: 'kept-room', MemberList_Account: ['p2'], Duration: 3600 }), 0);
        expectStrictCode(await a.rest(TEXT, { RoomId: 'kept-room', Sender_Account: 'p1', TextContent: 'x' }), 0);
        await create(a, 'gone-room');
        expectStrictCode(await a.rest(DESTROY, { RoomId: 'gone-room' }), 0);
      } finally {
        await a.close();
      }
      const b = await startServer({ ...DEFAULT_CONFIG, dataDir: dir, port: 0, logLevel: 'silent', appsPollMs: 100 });
      try {
        const room = b.live.get(id, 'kept-room');
        assert.equal(room.owner, 'administrator');
        assert.equal(room.info.RoomName, 'live name');
        assert.equal(room.info.TakeSeatMode, 'ApplyToTake');
        assert.deepEqual(room.info.Category, [1, 2, 3]);
        assert.deepEqual(room.state.seats.map((x) => x.member), ['', '', 'p1', '']);
        assert.deepEqual(room.state.metadata, { k: 'v' });
        assert.ok(b.live.isBanned(id, 'kept-room', 'p2'));
        assert.equal(room.state.messages, 1);
        assert.throws(() => b.live.get(id, 'gone-room'), /does not exist/);
      } finally {
        await b.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
