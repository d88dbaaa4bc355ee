import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Msg } from '../../../test/helpers/rtc-client.ts';
import { ENVELOPE, liveSuite, type SeatEntry } from './testkit.ts';

// room_engine_http_mic lock_seat, switch_seat and move_user_to_seat (200/s each).

const SRV = 'live_engine_http_srv';
const MIC = 'room_engine_http_mic';
const LOCK = `${MIC}/lock_seat`;
const SWITCH = `${MIC}/switch_seat`;
const MOVE = `${MIC}/move_user_to_seat`;
const PICK = `${MIC}/pick_user_on_seat`;

const suite = liveSuite(['host', 'u1', 'u2', 'u3']);

async function ok(command: string, body: unknown): Promise<void> {
  const env = await suite.t.rest(command, body);
  assert.equal(env.ErrorCode, 0, `${command} ${JSON.stringify(body)}: ${JSON.stringify(env)}`);
  assert.deepEqual(Object.keys(env), ENVELOPE);
}

async function seats(roomId: string): Promise<SeatEntry[]> {
  const env = await suite.t.rest(`${MIC}/get_seat_list`, { RoomId: roomId });
  assert.equal(env.ErrorCode, 0, JSON.stringify(env));
  return (env.Response as { SeatList: SeatEntry[] }).SeatList;
}
const occupants = async (roomId: string) => (await seats(roomId)).map((s) => s.Member_Account ?? '');

/** Creates a room with u1 and u2 in it (pick_user_on_seat seats room members only); u3 stays out. */
async function room(roomId: string, extra: Record<string, unknown> = {}): Promise<void> {
  await ok(`${SRV}/create_room`, { RoomInfo: { RoomId: roomId, Owner_Account: 'host', MaxSeatCount: 4, ...extra } });
  for (const u of ['u1', 'u2']) await suite.t.server.live.enter(suite.id, roomId, u);
}

/** The shared bad-input cases of a seat command: RoomId missing, wrong-typed, oversized; unknown room; another app's admin. */
async function roomIdCases(command: string, rest: Record<string, unknown>, roomId: string): Promise<void> {
  await suite.fail(command, rest, 100002, /RoomId/);
  await suite.fail(command, { ...rest, RoomId: 5 }, 100002, /RoomId/);
  await suite.fail(command, { ...rest, RoomId: 'r'.repeat(49) }, 100002, /RoomId/);
  await suite.fail(command, { ...rest, RoomId: 'no-such-seat-room' }, 100004);
  await suite.fail(command, { ...rest, RoomId: roomId }, 100004, undefined, suite.otherTenant);
}

describe('lock_seat', () => {
  // https://cloud.tencent.com/document/product/647/110669 (errors 100001, 100002, 100004, 100211); flag semantics from
  // https://cloud.tencent.com/document/product/1690/102892.
  it('locks (removing whoever sits there first) and unlocks; forbids video/audio of the seated user only', async () => {
    await room('lock-room');
    await ok(PICK, { RoomId: 'lock-room', Member_Account: 'u1', Index: 1 });
    await ok(LOCK, { RoomId: 'lock-room', Index: 1, ForbidVideo: true, ForbidAudio: true });
    assert.deepEqual((await seats('lock-room'))[1], { Index: 1, Member_Account: 'u1', IsTakenDisabled: false, IsVideoDisabled: true, IsAudioDisabled: true });
    await ok(LOCK, { RoomId: 'lock-room', Index: 1, ForbidAudio: false });
    assert.deepEqual((await seats('lock-room'))[1], { Index: 1, Member_Account: 'u1', IsTakenDisabled: false, IsVideoDisabled: true, IsAudioDisabled: false });
    await ok(LOCK, { RoomId: 'lock-room', Index: 1, ForbidTaken: true });
    assert.deepEqual((await seats('lock-room'))[1], { Index: 1, IsTakenDisabled: true, IsVideoDisabled: false, IsAudioDisabled: false });
    await suite.fail(PICK, { RoomId: 'lock-room', Member_Account: 'u1', Index: 1 }, 100200, /locked/);
    // On an empty or locked seat the stream flags are accepted and ignored.
    await ok(LOCK, { RoomId: 'lock-room', Index: 1, ForbidVideo: true });
    await ok(LOCK, { RoomId: 'lock-room', Index: 2, ForbidAudio: true });
    await ok(LOCK, { RoomId: 'lock-room', Index: 3 });
    assert.deepEqual(await seats('lock-room'), [
      { Index: 0, IsTakenDisabled: false, IsVideoDisabled: false, IsAudioDisabled: false },
      { Index: 1, IsTakenDisabled: true, IsVideoDisabled: false, IsAudioDisabled: false },
      { Index: 2, IsTakenDisabled: false, IsVideoDisabled: false, IsAudioDisabled: false },
      { Index: 3, IsTakenDisabled: false, IsVideoDisabled: false, IsAudioDisabled: false },
    ]);
    await ok(LOCK, { RoomId: 'lock-room', Index: 1, ForbidTaken: false });
    await ok(PICK, { RoomId: 'lock-room', Member_Account: 'u1', Index: 1 });
    assert.equal((await occupants('lock-room'))[1], 'u1');
  });

  it('100211 when the room has no seats; 100002 for a bad Index or flag; 100004 for an unknown room or another app', async () => {
    await room('lock-bad');
    await room('lock-noseats', { IsSeatEnabled: false });
    await suite.fail(LOCK, { RoomId: 'lock-noseats', Index: 0, ForbidTaken: true }, 100211, /seats are disabled/);
    await suite.fail(LOCK, { RoomId: 'lock-bad', Index: 4, ForbidTaken: true }, 100002, /Index must be from 0 to 3/);
    await suite.fail(LOCK, { RoomId: 'lock-bad', Index: -1, ForbidTaken: true }, 100002, /Index/);
    await suite.fail(LOCK, { RoomId: 'lock-bad', ForbidTaken: true }, 100002, /Index/);
    await suite.fail(LOCK, { RoomId: 'lock-bad', Index: '1', ForbidTaken: true }, 100002, /Index/);
    await suite.fail(LOCK, { RoomId: 'lock-bad', Index: 1.5 }, 100002, /Index/);
    await suite.fail(LOCK, { RoomId: 'lock-bad', Index: 0, ForbidTaken: 'yes' }, 100002, /ForbidTaken/);
    await suite.fail(LOCK, { RoomId: 'lock-bad', Index: 0, ForbidVideo: 1 }, 100002, /ForbidVideo/);
    await roomIdCases(LOCK, { Index: 0, ForbidTaken: true }, 'lock-bad');
    assert.equal((await seats('lock-bad')).some((s) => s.IsTakenDisabled), false);
  });
});

describe('switch_seat', () => {
  // https://trtc.io/document/72552 (old version: to an empty seat only; errors 100001, 100002, 100004).
  it('moves a seated user to an empty seat, with their stream flags; the same seat is no change', async () => {
    await room('switch-room');
    await ok(PICK, { RoomId: 'switch-room', Member_Account: 'u1', Index: 0 });
    await ok(LOCK, { RoomId: 'switch-room', Index: 0, ForbidVideo: true });
    await ok(SWITCH, { RoomId: 'switch-room', Member_Account: 'u1', ToIndex: 3 });
    const list = await seats('switch-room');
    assert.deepEqual(list[0], { Index: 0, IsTakenDisabled: false, IsVideoDisabled: false, IsAudioDisabled: false });
    assert.deepEqual(list[3], { Index: 3, Member_Account: 'u1', IsTakenDisabled: false, IsVideoDisabled: true, IsAudioDisabled: false });
    await ok(SWITCH, { RoomId: 'switch-room', Member_Account: 'u1', ToIndex: 3 });
    assert.deepEqual(await occupants('switch-room'), ['', '', '', 'u1']);
  });

  it('100002 for a taken or locked seat, a user not seated, a bad ToIndex or Member_Account; 100004 for an unknown room or another app', async () => {
    await room('switch-bad');
    await ok(PICK, { RoomId: 'switch-bad', Member_Account: 'u1', Index: 0 });
    await ok(PICK, { RoomId: 'switch-bad', Member_Account: 'u2', Index: 1 });
    await ok(LOCK, { RoomId: 'switch-bad', Index: 2, ForbidTaken: true });
    await suite.fail(SWITCH, { RoomId: 'switch-bad', Member_Account: 'u1', ToIndex: 1 }, 100002, /taken by u2/);
    await suite.fail(SWITCH, { RoomId: 'switch-bad', Member_Account: 'u1', ToIndex: 2 }, 100002, /locked/);
    await suite.fail(SWITCH, { RoomId: 'switch-bad', Member_Account: 'u3', ToIndex: 3 }, 100002, /u3 is not on a seat/);
    await suite.fail(SWITCH, { RoomId: 'switch-bad', Member_Account: 'u1', ToIndex: 4 }, 100002, /ToIndex must be from 0 to 3/);
    await suite.fail(SWITCH, { RoomId: 'switch-bad', Member_Account: 'u1' }, 100002, /ToIndex/);
    await suite.fail(SWITCH, { RoomId: 'switch-bad', Member_Account: 'u1', ToIndex: '3' }, 100002, /ToIndex/);
    await suite.fail(SWITCH, { RoomId: 'switch-bad', ToIndex: 3 }, 100002, /Member_Account/);
    await suite.fail(SWITCH, { RoomId: 'switch-bad', Member_Account: 7, ToIndex: 3 }, 100002, /Member_Account/);
    await suite.fail(SWITCH, { RoomId: 'switch-bad', Member_Account: '', ToIndex: 3 }, 100002, /Member_Account/);
    await roomIdCases(SWITCH, { Member_Account: 'u1', ToIndex: 3 }, 'switch-bad');
    assert.deepEqual(await occupants('switch-bad'), ['u1', 'u2', '', '']);
  });
});

describe('move_user_to_seat', () => {
  // https://cloud.tencent.com/document/product/269/125739 (new version: Policy 0 cancel, 1 force, 2 swap; a locked
  // target is unlocked; errors 100001, 100002, 100004, 100005 "not a member of the room").
  it('moves to an empty or locked seat; a taken seat by Policy: 0 refused (100210), 1 the occupant is kicked off, 2 swapped', async () => {
    await room('move-room');
    await ok(PICK, { RoomId: 'move-room', Member_Account: 'u1', Index: 0 });
    await ok(PICK, { RoomId: 'move-room', Member_Account: 'u2', Index: 1 });
    await ok(MOVE, { RoomId: 'move-room', Member_Account: 'u1', SeatIndex: 2, Policy: 0 });
    assert.deepEqual(await occupants('move-room'), ['', 'u2', 'u1', '']);
    await ok(LOCK, { RoomId: 'move-room', Index: 3, ForbidTaken: true });
    await ok(MOVE, { RoomId: 'move-room', Member_Account: 'u1', SeatIndex: 3, Policy: 0 });
    assert.deepEqual((await seats('move-room'))[3], { Index: 3, Member_Account: 'u1', IsTakenDisabled: false, IsVideoDisabled: false, IsAudioDisabled: false });
    await suite.fail(MOVE, { RoomId: 'move-room', Member_Account: 'u1', SeatIndex: 1, Policy: 0 }, 100210, /taken by u2/);
    await ok(LOCK, { RoomId: 'move-room', Index: 1, ForbidAudio: true });
    await ok(MOVE, { RoomId: 'move-room', Member_Account: 'u1', SeatIndex: 1, Policy: 2 });
    const swapped = await seats('move-room');
    assert.deepEqual([swapped[1]!.Member_Account, swapped[1]!.IsAudioDisabled, swapped[3]!.Member_Account, swapped[3]!.IsAudioDisabled], ['u1', false, 'u2', true]);
    await ok(MOVE, { RoomId: 'move-room', Member_Account: 'u1', SeatIndex: 3, Policy: 1 });
    assert.deepEqual(await occupants('move-room'), ['', '', '', 'u1']);
    await ok(MOVE, { RoomId: 'move-room', Member_Account: 'u1', SeatIndex: 3, Policy: 1 });
  });

  it('100005 for a user not in the room, 100002 for a member not seated and for a bad Policy or SeatIndex; 100004 for an unknown room or another app', async () => {
    await room('move-bad');
    await ok(PICK, { RoomId: 'move-bad', Member_Account: 'u1', Index: 0 });
    await suite.fail(MOVE, { RoomId: 'move-bad', Member_Account: 'u3', SeatIndex: 1, Policy: 0 }, 100005, /u3 is not a member/);
    await suite.t.server.live.enter(suite.id, 'move-bad', 'u3');
    await suite.fail(MOVE, { RoomId: 'move-bad', Member_Account: 'u3', SeatIndex: 1, Policy: 0 }, 100002, /u3 is not on a seat/);
    await suite.fail(MOVE, { RoomId: 'move-bad', Member_Account: 'host', SeatIndex: 1, Policy: 0 }, 100002, /host is not on a seat/);
    await suite.fail(MOVE, { RoomId: 'move-bad', Member_Account: 'u1', SeatIndex: 1, Policy: 3 }, 100002, /Policy must be 0, 1 or 2/);
    await suite.fail(MOVE, { RoomId: 'move-bad', Member_Account: 'u1', SeatIndex: 1 }, 100002, /Policy/);
    await suite.fail(MOVE, { RoomId: 'move-bad', Member_Account: 'u1', SeatIndex: 1, Policy: '1' }, 100002, /Policy/);
    await suite.fail(MOVE, { RoomId: 'move-bad', Member_Account: 'u1', SeatIndex: 9, Policy: 0 }, 100002, /SeatIndex must be from 0 to 3/);
    await suite.fail(MOVE, { RoomId: 'move-bad', Member_Account: 'u1', Policy: 0 }, 100002, /SeatIndex/);
    await suite.fail(MOVE, { RoomId: 'move-bad', SeatIndex: 1, Policy: 0 }, 100002, /Member_Account/);
    await roomIdCases(MOVE, { Member_Account: 'u1', SeatIndex: 1, Policy: 0 }, 'move-bad');
    assert.deepEqual(await occupants('move-bad'), ['u1', '', '', '']);
  });
});

describe('seat changes reach /rtc clients', () => {
  it('lock, switch and move are live.event seat events', async () => {
    await room('seat-events');
    const client = await suite.login('u3');
    assert.equal((await client.request('live.enter', { roomId: 'seat-events' })).ok, true);
    await ok(PICK, { RoomId: 'seat-events', Member_Account: 'u1', Index: 0 });
    await ok(LOCK, { RoomId: 'seat-events', Index: 2, ForbidTaken: true });
    await ok(SWITCH, { RoomId: 'seat-events', Member_Account: 'u1', ToIndex: 1 });
    await ok(MOVE, { RoomId: 'seat-events', Member_Account: 'u1', SeatIndex: 2, Policy: 0 });
    const data: Msg[] = [];
    for (let i = 0; i < 4; i++) {
      const e = await client.event('live.event');
      assert.equal(e.kind, 'seat');
      data.push(e.data as Msg);
    }
    assert.deepEqual(data.map((d) => d.action), ['pick', 'lock', 'switch', 'move']);
    assert.deepEqual(data[1], { index: 2, action: 'lock', taken: true });
    assert.deepEqual(data[3], { user: 'u1', index: 2, policy: 0, action: 'move' });
  });
});
