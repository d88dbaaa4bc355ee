import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';
import { TRTC_BLOCK_TOPIC, TRTC_ROOM_TOPIC, type TrtcBlockEvent, type TrtcRoomEvent } from './trtc-rooms-service.ts';

let t: TestServer;
let id: number;
before(async () => {
  mock.timers.enable({ apis: ['Date'], now: 1_760_000_000_000 });
  t = await startTestServer();
  id = t.app.sdkAppId;
});
after(async () => {
  await t.close();
  mock.timers.reset();
});

describe('TRTC rooms', () => {
  it('tracks presence; numeric and string rooms with the same digits are different rooms', async () => {
    const rooms = t.server.trtcRooms;
    await rooms.enter(id, { roomId: 123 }, 'alice', { role: 'anchor', clientIp: '127.0.0.1' });
    await rooms.enter(id, { roomId: 123 }, 'bob', { role: 'audience' });
    await rooms.enter(id, { roomId: 123 }, 'bob');
    await rooms.enter(id, { strRoomId: '123' }, 'carol');
    assert.deepEqual(rooms.members(id, { roomId: 123 }), [{ userId: 'alice', role: 'anchor' }, { userId: 'bob', role: 'audience' }]);
    assert.deepEqual(rooms.members(id, { strRoomId: '123' }).map((m) => m.userId), ['carol']);
  });

  it('removes users and dismisses rooms, telling the bus; unknown rooms are NOT_FOUND', async () => {
    const rooms = t.server.trtcRooms;
    const seen: TrtcRoomEvent[] = [];
    const off = t.server.bus.subscribe(TRTC_ROOM_TOPIC, (e) => seen.push(e as TrtcRoomEvent));
    assert.deepEqual(await rooms.removeUsers(id, { roomId: 123 }, ['bob', 'nobody']), ['bob']);
    assert.deepEqual(await rooms.dismiss(id, { roomId: 123 }), ['alice']);
    assert.equal(rooms.exists(id, { roomId: 123 }), false);
    await assert.rejects(rooms.dismiss(id, { roomId: 123 }), /does not exist/);
    await assert.rejects(rooms.removeUsers(id, { strRoomId: 'nope' }, ['x']), /does not exist/);
    await assert.rejects(rooms.enter(id, { roomId: 0 }, 'x'), /RoomId must be/);
    await assert.rejects(rooms.enter(id, { roomId: 4294967295 }, 'x'), /RoomId must be/);
    off();
    assert.deepEqual(seen.map((e) => [e.type, e.users, 'roomId' in e.room ? e.room.roomId : e.room.strRoomId]), [['removed', ['bob'], 123], ['dismissed', ['alice'], 123]]);
  });

  it('keeps room and user history for DescribeRoomInfo / DescribeUserInfo', async () => {
    const rooms = t.server.trtcRooms;
    mock.timers.tick(60_000);
    await rooms.leave(id, { strRoomId: '123' }, 'carol');
    const now = 1_760_000_060;
    const { total, rooms: list } = await rooms.roomHistory({ sdkAppId: id, from: now - 3600, to: now, page: 0, size: 10 });
    assert.equal(total, 2);
    const numeric = list.find((r) => r.roomId === '123' && r.commId.includes('_123_'))!;
    assert.ok(numeric.destroyedAt > 0);
    const users = await rooms.userHistory({ sdkAppId: id, commId: list[0]!.commId, from: now - 3600, to: now, page: 0, size: 10 });
    assert.ok(users.total >= 1);
    assert.ok(users.users.every((u) => u.leaveTs >= u.joinTs && u.leaveTs > 0));
    const bob = await rooms.userHistory({ sdkAppId: id, commId: `${id}_123_1760000000`, from: now - 3600, to: now, userIds: ['bob'], page: 0, size: 10 });
    assert.deepEqual(bob.users.map((u) => u.userId), ['bob']);
  });

  it('keeps media blocks per room until lifted or the room closes, telling the bus of each change', async () => {
    const rooms = t.server.trtcRooms;
    const seen: TrtcBlockEvent[] = [];
    const off = t.server.bus.subscribe(TRTC_BLOCK_TOPIC, (e) => seen.push(e as TrtcBlockEvent));
    const room = { roomId: 900 };
    await rooms.enter(id, room, 'ann');
    await rooms.enter(id, room, 'ben');
    await rooms.setBlocked(id, room, 'ben', { audio: true, video: true });
    await rooms.setBlocked(id, room, 'ben', { audio: true, video: true });
    assert.deepEqual(rooms.blocked(id, room, 'ben'), { audio: true, video: true });
    assert.deepEqual(rooms.blocked(id, room, 'ann'), { audio: false, video: false });
    // Out and back in: still blocked; a block can be changed while the user is out.
    await rooms.leave(id, room, 'ben');
    await rooms.setBlocked(id, room, 'ben', { audio: false, video: true });
    await rooms.enter(id, room, 'ben');
    assert.deepEqual(rooms.blocked(id, room, 'ben'), { audio: false, video: true });
    await assert.rejects(rooms.setBlocked(id, room, 'nobody', { audio: true, video: true }), (e: Error & { detail?: string }) => e.detail === 'USER_NOT_EXIST');
    await assert.rejects(rooms.setBlocked(id, { roomId: 901 }, 'ben', { audio: true, video: true }), (e: Error & { detail?: string }) => e.detail === 'ROOM_NOT_EXIST');
    await assert.rejects(rooms.setBlocked(id, { roomId: 0 }, 'ben', { audio: true, video: true }), (e: Error & { detail?: string }) => e.detail === 'ROOM_ID');
    // The room closes: its blocks go with it.
    await rooms.leave(id, room, 'ann');
    await rooms.leave(id, room, 'ben');
    await rooms.enter(id, room, 'ben');
    assert.deepEqual(rooms.blocked(id, room, 'ben'), { audio: false, video: false });
    await rooms.leave(id, room, 'ben');
    off();
    assert.deepEqual(
      seen.map((e) => [e.userId, e.audio, e.video]),
      [
        ['ben', true, true],
        ['ben', false, true],
      ],
    );
  });

  it('a restart closes what was left open (nobody is connected after it)', async () => {
    await t.server.trtcRooms.enter(id, { roomId: 777 }, 'dave');
    const { startServer } = await import('../../server.ts');
    const { DEFAULT_CONFIG } = await import('../../config.ts');
    await t.server.close();
    const again = await startServer({ ...DEFAULT_CONFIG, dataDir: t.dir, port: 0, logLevel: 'silent' });
    try {
      assert.equal(again.trtcRooms.exists(id, { roomId: 777 }), false);
      const { rooms } = await again.trtcRooms.roomHistory({ sdkAppId: id, from: 0, to: 2_000_000_000, roomId: '777', page: 0, size: 10 });
      assert.equal(rooms.length, 1);
      assert.ok(rooms[0]!.destroyedAt > 0);
    } finally {
      await again.close();
      t = { ...t, close: async () => undefined };
    }
  });
});
