import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_MEMBER_LIST, MEMBER_PAGE_SIZE } from '../../services/live/live-service.ts';
import type { Msg } from '../../../test/helpers/rtc-client.ts';
import { liveSuite } from './testkit.ts';

// live_engine_http_srv get_member_list, change_room_owner and modify_admin (200/s each).

const SRV = 'live_engine_http_srv';
const MEMBERS = `${SRV}/get_member_list`;
const OWNER = `${SRV}/change_room_owner`;
const ADMIN = `${SRV}/modify_admin`;

interface MemberPage {
  Next: string;
  MemberCount: number;
  MemberList: Array<{ Member_Account: string }>;
}

const suite = liveSuite(['host', 'host2', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6']);

async function ok(command: string, body: unknown): Promise<Record<string, unknown>> {
  const env = await suite.t.rest(command, body);
  assert.equal(env.ErrorCode, 0, `${command} ${JSON.stringify(body)}: ${JSON.stringify(env)}`);
  return env;
}

const room = (roomId: string) => ok(`${SRV}/create_room`, { RoomInfo: { RoomId: roomId, Owner_Account: 'host' } });
const page = async (roomId: string, next: string) => (await ok(MEMBERS, { RoomId: roomId, Next: next })).Response as MemberPage;

async function roomIdCases(command: string, rest: Record<string, unknown>, roomId: string): Promise<void> {
  await suite.fail(command, rest, 100002, /RoomId/);
  await suite.fail(command, { ...rest, RoomId: ['r'] }, 100002, /RoomId/);
  await suite.fail(command, { ...rest, RoomId: 'é'.repeat(24) + 'x' }, 100002, /RoomId/);
  await suite.fail(command, { ...rest, RoomId: 'no-such-room' }, 100004);
  await suite.fail(command, { ...rest, RoomId: roomId }, 100004, undefined, suite.otherTenant);
}

describe('get_member_list', () => {
  // https://www.tencentcloud.com/zh/document/product/1071/78156: {RoomId, Next} → {Next, MemberCount, MemberList}; at most 1000 returned.
  it('lists the members online, in order of entry, page by page; MemberCount is everyone', async () => {
    await room('list-room');
    assert.deepEqual(await page('list-room', ''), { Next: '', MemberCount: 0, MemberList: [] });
    const ids = Array.from({ length: 250 }, (_, i) => `viewer${i}`);
    for (const u of ids) await suite.t.server.live.enter(suite.id, 'list-room', u);
    // A second session of a member does not count twice.
    await suite.t.server.live.enter(suite.id, 'list-room', 'viewer0');
    const seen: string[] = [];
    let next = '';
    let pages = 0;
    do {
      const p = await page('list-room', next);
      assert.equal(p.MemberCount, 250);
      assert.ok(p.MemberList.length <= MEMBER_PAGE_SIZE);
      for (const m of p.MemberList) assert.deepEqual(Object.keys(m), ['Member_Account']);
      seen.push(...p.MemberList.map((m) => m.Member_Account));
      next = p.Next;
      pages++;
    } while (next !== '');
    assert.deepEqual(seen, ids);
    assert.equal(pages, 3);
    // Next may be left out on the first call.
    assert.equal(((await ok(MEMBERS, { RoomId: 'list-room' })).Response as MemberPage).MemberList[0]!.Member_Account, 'viewer0');
  });

  it(`returns at most ${MAX_MEMBER_LIST} members, with the true MemberCount`, async () => {
    await room('big-room');
    for (let i = 0; i < MAX_MEMBER_LIST + 5; i++) await suite.t.server.live.enter(suite.id, 'big-room', `b${i}`);
    let next = '';
    let total = 0;
    do {
      const p = await page('big-room', next);
      assert.equal(p.MemberCount, MAX_MEMBER_LIST + 5);
      total += p.MemberList.length;
      next = p.Next;
    } while (next !== '');
    assert.equal(total, MAX_MEMBER_LIST);
  });

  it('100002 for a bad Next or RoomId; 100004 for an unknown room or another app', async () => {
    await room('list-bad');
    await suite.fail(MEMBERS, { RoomId: 'list-bad', Next: 'garbage' }, 100002, /Next/);
    await suite.fail(MEMBERS, { RoomId: 'list-bad', Next: 5 }, 100002, /Next/);
    await roomIdCases(MEMBERS, { Next: '' }, 'list-bad');
  });
});

describe('change_room_owner', () => {
  // https://trtc.io/document/72534: {RoomId, NewOwner_Account}; errors 100001, 100002, 100004.
  it('hands the room to another account: room info, room list, the store and /rtc clients see the new owner', async () => {
    await room('owner-room');
    await ok(ADMIN, { RoomId: 'owner-room', Admin_Account: ['host2', 'a1'], OpType: 'add' });
    const client = await suite.login('a6');
    assert.equal((await client.request('live.enter', { roomId: 'owner-room' })).ok, true);
    await ok(OWNER, { RoomId: 'owner-room', NewOwner_Account: 'host2' });
    const info = (await ok(`${SRV}/get_room_info`, { RoomId: 'owner-room' })).Response as { RoomInfo: { Owner_Account: string } };
    assert.equal(info.RoomInfo.Owner_Account, 'host2');
    assert.equal((await suite.t.server.store.live.get(suite.id, 'owner-room'))!.owner, 'host2');
    // The new owner is no longer an admin.
    assert.deepEqual(suite.t.server.live.get(suite.id, 'owner-room').state.admins, ['a1']);
    const e = await client.event('live.event');
    assert.deepEqual([e.kind, e.data], ['owner', { owner: 'host2' }]);
    assert.equal(((await client.request('live.enter', { roomId: 'owner-room' })).room as Msg).owner, 'host2');
  });

  it('100002 for a missing, wrong-typed, empty or unknown NewOwner_Account; 100004 for an unknown room or another app', async () => {
    await room('owner-bad');
    await suite.fail(OWNER, { RoomId: 'owner-bad' }, 100002, /NewOwner_Account/);
    await suite.fail(OWNER, { RoomId: 'owner-bad', NewOwner_Account: 7 }, 100002, /NewOwner_Account/);
    await suite.fail(OWNER, { RoomId: 'owner-bad', NewOwner_Account: '' }, 100002, /NewOwner_Account/);
    await suite.fail(OWNER, { RoomId: 'owner-bad', NewOwner_Account: 'ghost-owner' }, 100002, /ghost-owner/);
    await roomIdCases(OWNER, { NewOwner_Account: 'host2' }, 'owner-bad');
    assert.equal(suite.t.server.live.get(suite.id, 'owner-bad').owner, 'host');
  });
});

describe('modify_admin', () => {
  // https://cloud.tencent.com/document/product/647/110064: {RoomId, Admin_Account (≤ 5), OpType add|delete}; 100020 over 5 admins.
  it('adds and deletes admins; at most 5 per room (100020); /rtc clients see them', async () => {
    await room('admin-room');
    const client = await suite.login('a5');
    assert.equal((await client.request('live.enter', { roomId: 'admin-room' })).ok, true);
    await ok(ADMIN, { RoomId: 'admin-room', Admin_Account: ['a1', 'a2'], OpType: 'add' });
    await ok(ADMIN, { RoomId: 'admin-room', Admin_Account: ['a2', 'a3', 'a4'], OpType: 'add' });
    await ok(ADMIN, { RoomId: 'admin-room', Admin_Account: ['a5'], OpType: 'add' });
    assert.deepEqual(suite.t.server.live.get(suite.id, 'admin-room').state.admins, ['a1', 'a2', 'a3', 'a4', 'a5']);
    await suite.fail(ADMIN, { RoomId: 'admin-room', Admin_Account: ['a6'], OpType: 'add' }, 100020, /at most 5 admins/);
    await ok(ADMIN, { RoomId: 'admin-room', Admin_Account: ['a2', 'host2'], OpType: 'delete' });
    await ok(ADMIN, { RoomId: 'admin-room', Admin_Account: ['a6'], OpType: 'add' });
    assert.deepEqual(suite.t.server.live.get(suite.id, 'admin-room').state.admins, ['a1', 'a3', 'a4', 'a5', 'a6']);
    const kinds: Msg[] = [];
    for (let i = 0; i < 5; i++) kinds.push(await client.event('live.event'));
    assert.deepEqual(
      kinds.map((e) => [e.kind, e.data]),
      [
        ['admin', { op: 'add', users: ['a1', 'a2'] }],
        ['admin', { op: 'add', users: ['a2', 'a3', 'a4'] }],
        ['admin', { op: 'add', users: ['a5'] }],
        ['admin', { op: 'delete', users: ['a2', 'host2'] }],
        ['admin', { op: 'add', users: ['a6'] }],
      ],
    );
    assert.deepEqual(((await client.request('live.enter', { roomId: 'admin-room' })).room as Msg).admins, ['a1', 'a3', 'a4', 'a5', 'a6']);
  });

  it('100002 for a bad Admin_Account or OpType, more than 5 accounts or unknown ones; 100004 for an unknown room or another app', async () => {
    await room('admin-bad');
    await suite.fail(ADMIN, { RoomId: 'admin-bad', Admin_Account: ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'], OpType: 'add' }, 100002, /at most 5/);
    await suite.fail(ADMIN, { RoomId: 'admin-bad', Admin_Account: [], OpType: 'add' }, 100002, /Admin_Account/);
    await suite.fail(ADMIN, { RoomId: 'admin-bad', Admin_Account: 'a1', OpType: 'add' }, 100002, /Admin_Account/);
    await suite.fail(ADMIN, { RoomId: 'admin-bad', OpType: 'add' }, 100002, /Admin_Account/);
    await suite.fail(ADMIN, { RoomId: 'admin-bad', Admin_Account: ['a1', 5], OpType: 'add' }, 100002, /Admin_Account/);
    await suite.fail(ADMIN, { RoomId: 'admin-bad', Admin_Account: ['a1'] }, 100002, /OpType/);
    await suite.fail(ADMIN, { RoomId: 'admin-bad', Admin_Account: ['a1'], OpType: 'remove' }, 100002, /OpType/);
    await suite.fail(ADMIN, { RoomId: 'admin-bad', Admin_Account: ['a1', 'ghost-admin'], OpType: 'add' }, 100002, /ghost-admin/);
    await roomIdCases(ADMIN, { Admin_Account: ['a1'], OpType: 'add' }, 'admin-bad');
    assert.deepEqual(suite.t.server.live.get(suite.id, 'admin-bad').state.admins, []);
  });
});
