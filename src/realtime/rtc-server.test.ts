import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { genPrivateMapKey, Privilege } from '../auth/private-map-key.ts';
import { genUserSig } from '../auth/usersig.ts';
import { RtcTestClient as Client } from '../../test/helpers/rtc-client.ts';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { AUTH_TIMEOUT_MS, CloseCodes, FLOOD_MAX_FRAMES, MAX_FRAME_BYTES } from './protocol.ts';

describe('/rtc protocol', () => {
  let t: TestServer;
  const clients: Client[] = [];
  const sig = (userId: string, expire = 3600, key = t.app.secretKey) => genUserSig({ sdkAppId: t.app.sdkAppId, secretKey: key, userId, expire });
  const client = () => {
    const c = new Client(t.server.url);
    clients.push(c);
    return c;
  };
  const login = async (userId: string) => {
    const c = client();
    const r = await c.request('auth', { sdkAppId: t.app.sdkAppId, userId, userSig: sig(userId) });
    assert.equal(r.ok, true, JSON.stringify(r));
    return c;
  };
  const pmk = (userId: string, roomId: number, privilegeMap: number = Privilege.All) =>
    genPrivateMapKey({ sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId, roomId, expire: 3600, privilegeMap });

  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    for (const c of clients) c.ws.terminate();
    await t.close();
  });

  it('authenticates with a valid UserSig', async () => {
    const c = client();
    const r = await c.request('auth', { sdkAppId: t.app.sdkAppId, userId: 'alice', userSig: sig('alice') });
    assert.equal(r.ok, true);
    assert.equal(r.v, 1);
    assert.equal(r.userId, 'alice');
    const again = await c.request('auth', { sdkAppId: t.app.sdkAppId, userId: 'alice', userSig: sig('alice') });
    assert.equal(again.code, 40101);
    await c.close();
  });

  for (const [name, body, code] of [
    ['expired', (s: () => string) => ({ userId: 'u1', userSig: s() }), 70001],
    ['wrong key', () => ({ userId: 'u1', userSig: sig('u1', 3600, 'x'.repeat(64)) }), 70009],
    ['other user', () => ({ userId: 'u1', userSig: sig('u2') }), 70013],
    ['empty', () => ({ userId: 'u1', userSig: '' }), 70002],
    ['malformed', () => ({ userId: 'u1', userSig: 'garbage!' }), 70003],
  ] as const) {
    it(`refuses a UserSig that is ${name} and closes 4401`, async () => {
      const c = client();
      const expired = () => genUserSig({ sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId: 'u1', expire: 10, now: Math.floor(Date.now() / 1000) - 100 });
      const r = await c.request('auth', { sdkAppId: t.app.sdkAppId, ...body(expired) });
      assert.equal(r.ok, false);
      assert.equal(r.code, code, JSON.stringify(r));
      assert.equal(await c.closed, CloseCodes.AUTH);
    });
  }

  it('refuses an unknown SDKAppID with 70020', async () => {
    const c = client();
    const r = await c.request('auth', { sdkAppId: 1, userId: 'u1', userSig: sig('u1') });
    assert.equal(r.code, 70020);
    assert.equal(await c.closed, CloseCodes.AUTH);
  });

  it('refuses requests before auth, then still accepts auth', async () => {
    const c = client();
    const r = await c.request('room.enter', { roomId: 1 });
    assert.equal(r.code, 40100);
    const ok = await c.request('auth', { sdkAppId: t.app.sdkAppId, userId: 'late', userSig: sig('late') });
    assert.equal(ok.ok, true);
    await c.close();
  });

  it('closes 4401 when auth does not come in time', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const c = client();
      await c.opened;
      mock.timers.tick(AUTH_TIMEOUT_MS);
      assert.equal(await c.closed, CloseCodes.AUTH);
    } finally {
      mock.timers.reset();
    }
  });

  it('enters a room, lists members and sends presence events', async () => {
    const a = await login('a1');
    const b = await login('b1');
    const ra = await a.request('room.enter', { roomId: 1001 });
    assert.equal(ra.ok, true, JSON.stringify(ra));
    assert.deepEqual(ra.room, { roomId: 1001 });
    assert.deepEqual(ra.members, [{ userId: 'a1', role: 'anchor' }]);
    const rb = await b.request('room.enter', { roomId: 1001, role: 'audience' });
    assert.deepEqual(rb.members, [{ userId: 'a1', role: 'anchor' }, { userId: 'b1', role: 'audience' }]);
    const ev = await a.event('room.userEnter');
    assert.deepEqual(ev, { v: 1, type: 'room.userEnter', room: { roomId: 1001 }, userId: 'b1', role: 'audience' });
    // A string room with the same digits is another room; one connection can be in both.
    const rs = await a.request('room.enter', { strRoomId: '1001' });
    assert.deepEqual(rs.members, [{ userId: 'a1', role: 'anchor' }]);
    assert.deepEqual(t.server.trtcRooms.members(t.app.sdkAppId, { strRoomId: '1001' }), [{ userId: 'a1', role: 'anchor' }]);
    const lb = await b.request('room.leave', { roomId: 1001 });
    assert.equal(lb.ok, true);
    const left = await a.event('room.userLeave');
    assert.equal(left.userId, 'b1');
    assert.equal((await b.request('room.leave', { roomId: 1001 })).code, 40400);
    // A connection closed with a close frame leaves its rooms at once.
    await a.close();
    for (let i = 0; i < 50 && t.server.trtcRooms.exists(t.app.sdkAppId, { roomId: 1001 }); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(t.server.trtcRooms.exists(t.app.sdkAppId, { roomId: 1001 }), false);
    assert.equal(t.server.trtcRooms.exists(t.app.sdkAppId, { strRoomId: '1001' }), false);
  });

  it('validates room ids', async () => {
    const a = await login('v1');
    assert.equal((await a.request('room.enter', { roomId: 0 })).code, 40004);
    assert.equal((await a.request('room.enter', { roomId: 4294967295 })).code, 40004);
    assert.equal((await a.request('room.enter', { strRoomId: 'x'.repeat(65) })).code, 40004);
    assert.equal((await a.request('room.enter', { roomId: 1, strRoomId: '1' })).code, 40004);
    assert.equal((await a.request('room.enter', { roomId: 4294967294 })).ok, true);
  });

  it('enforces PrivateMapKey room and privilege bits', async () => {
    const a = await login('k1');
    const wrongRoom = await a.request('room.enter', { roomId: 2, privateMapKey: pmk('k1', 1) });
    assert.equal(wrongRoom.code, -100006);
    const noEnter = await a.request('room.enter', { roomId: 1, privateMapKey: pmk('k1', 1, Privilege.All & ~Privilege.EnterRoom) });
    assert.equal(noEnter.code, -100006);
    const otherUser = await a.request('room.enter', { roomId: 1, privateMapKey: pmk('k2', 1) });
    assert.equal(otherUser.code, -100006);
    // Creating the room needs the create bit; entering an existing one does not.
    const enterOnly = pmk('k1', 1, Privilege.EnterRoom);
    assert.equal((await a.request('room.enter', { roomId: 1, privateMapKey: enterOnly })).code, -100006);
    const b = await login('k3');
    assert.equal((await b.request('room.enter', { roomId: 1, privateMapKey: pmk('k3', 1) })).ok, true);
    assert.equal((await a.request('room.enter', { roomId: 1, privateMapKey: enterOnly })).ok, true);
  });

  it('requires a PrivateMapKey when the app says so', async () => {
    await t.server.apps.update(t.app.sdkAppId, { 'trtc.requirePrivateMapKey': true });
    try {
      const a = await login('p1');
      assert.equal((await a.request('room.enter', { roomId: 77 })).code, -100006);
      assert.equal((await a.request('room.enter', { roomId: 77, privateMapKey: '' })).code, -100006);
      assert.equal((await a.request('room.enter', { roomId: 77, privateMapKey: pmk('p1', 77) })).ok, true);
    } finally {
      await t.server.apps.update(t.app.sdkAppId, { 'trtc.requirePrivateMapKey': false });
    }
  });

  it('refuses rooms when features.trtc is off', async () => {
    const a = await login('f1');
    await t.server.apps.update(t.app.sdkAppId, { 'features.trtc': false });
    try {
      assert.equal((await a.request('room.enter', { roomId: 5 })).code, -100013);
    } finally {
      await t.server.apps.update(t.app.sdkAppId, { 'features.trtc': true });
    }
  });

  it('delivers custom messages to the room and to listed users', async () => {
    const [a, b, c] = [await login('m1'), await login('m2'), await login('m3')];
    for (const x of [a, b, c]) assert.equal((await x.request('room.enter', { strRoomId: 'chat' })).ok, true);
    const r = await a.request('room.message', { strRoomId: 'chat', data: 'hello all' });
    assert.equal(r.delivered, 2);
    for (const x of [b, c]) assert.deepEqual(await x.event('room.message'), { v: 1, type: 'room.message', room: { strRoomId: 'chat' }, from: 'm1', data: 'hello all' });
    const one = await a.request('room.message', { strRoomId: 'chat', to: ['m3', 'nobody'], data: 'psst' });
    assert.equal(one.delivered, 1);
    assert.equal((await c.event('room.message')).data, 'psst');
    assert.equal((await a.request('room.message', { strRoomId: 'chat', data: 'x'.repeat(1025) })).code, 41300);
    assert.equal((await a.request('room.message', { strRoomId: 'other', data: 'x' })).code, 40400);
    await b.request('room.leave', { strRoomId: 'chat' });
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(b.inbox.filter((m) => m.type === 'room.message').length, 0, 'b got only the room-wide message');
  });

  it('tells removed users and the others at once when the Cloud API removes a user', async () => {
    const a = await login('x1');
    const b = await login('x2');
    await a.request('room.enter', { roomId: 3030 });
    await b.request('room.enter', { roomId: 3030 });
    await a.event('room.userEnter');
    const start = Date.now();
    await t.server.trtcRooms.removeUsers(t.app.sdkAppId, { roomId: 3030 }, ['x2'], 'kicked by admin');
    const removed = await b.event('room.removed');
    assert.deepEqual(removed, { v: 1, type: 'room.removed', room: { roomId: 3030 }, reason: 'kicked by admin' });
    const left = await a.event('room.userLeave');
    assert.deepEqual(left, { v: 1, type: 'room.userLeave', room: { roomId: 3030 }, userId: 'x2', reason: 'kicked by admin' });
    assert.ok(Date.now() - start < 1000);
    assert.equal((await b.request('room.message', { roomId: 3030, data: 'still here?' })).code, 40400);
    await t.server.trtcRooms.dismiss(t.app.sdkAppId, { roomId: 3030 }, 'dismissed');
    assert.equal((await a.event('room.removed')).reason, 'dismissed');
    assert.equal((await a.request('room.leave', { roomId: 3030 })).code, 40400);
  });

  it('answers bad frames with errors and keeps other clients unaffected', async () => {
    const good = await login('g1');
    await good.request('room.enter', { roomId: 909 });
    const bad = await login('g2');
    await bad.request('room.enter', { roomId: 909 });
    bad.ws.send('{not json');
    assert.equal((await bad.next((m) => m.code === 40001)).re, null);
    bad.ws.send('[1,2]');
    assert.equal((await bad.next((m) => m.code === 40001)).ok, false);
    bad.ws.send(JSON.stringify({ v: 1, id: 'q1' }));
    assert.equal((await bad.next((m) => m.re === 'q1')).code, 40003);
    assert.equal((await bad.request('no.such.thing')).code, 40003);
    bad.ws.send(JSON.stringify({ v: 2, id: 'q2', type: 'room.leave' }));
    assert.equal((await bad.next((m) => m.re === 'q2')).code, 40002);
    bad.ws.send(JSON.stringify({ v: 1, type: 'room.leave' }));
    assert.equal((await bad.next((m) => m.code === 40004)).re, null);
    bad.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal((await bad.next((m) => m.code === 40001)).re, null);
    assert.equal((await good.request('room.message', { roomId: 909, data: 'ok' })).delivered, 1);
    // Oversized frame: closed with 1009 by the WebSocket layer; the other client keeps going and sees the leave.
    bad.ws.send('x'.repeat(MAX_FRAME_BYTES + 1));
    assert.equal(await bad.closed, 1009);
    assert.equal((await good.event('room.userLeave')).reason, 'disconnected');
    assert.equal((await good.request('room.message', { roomId: 909, data: 'ok' })).delivered, 0);
  });

  it('counts requests in /metrics by type and code, an unknown type as unknown', async () => {
    const c = await login('m1');
    await c.request('room.enter', { roomId: 910 });
    assert.equal((await c.request('room.enter', { roomId: 0 })).ok, false);
    assert.equal((await c.request('made.up.type')).code, 40003);
    const text = await (await fetch(`${t.server.url}/metrics`)).text();
    assert.match(text, /trtcd_requests_total\{family="rtc",command="auth",code="0"\} [1-9]/);
    assert.match(text, /trtcd_requests_total\{family="rtc",command="room\.enter",code="0"\} [1-9]/);
    assert.match(text, /trtcd_requests_total\{family="rtc",command="room\.enter",code="4000\d"\} [1-9]/);
    assert.match(text, /trtcd_requests_total\{family="rtc",command="unknown",code="40003"\} [1-9]/);
    assert.doesNotMatch(text, /command="made\.up\.type"/);
  });

  it('rate limits floods and then closes 4429, without affecting others', async () => {
    const good = await login('h1');
    await good.request('room.enter', { roomId: 808 });
    const flood = await login('h2');
    await flood.request('room.enter', { roomId: 808 });
    for (let i = 0; i < FLOOD_MAX_FRAMES * 2; i++) flood.ws.send(JSON.stringify({ v: 1, id: `f${i}`, type: 'room.message', roomId: 808, data: 'spam' }));
    assert.equal((await flood.next((m) => m.code === 42900)).re, null);
    assert.equal(await flood.closed, CloseCodes.FLOOD);
    const r = await good.request('room.message', { roomId: 808, data: 'fine' });
    assert.equal(r.ok, true);
    assert.ok(good.inbox.filter((m) => m.type === 'room.message').length <= FLOOD_MAX_FRAMES);
  });
});
