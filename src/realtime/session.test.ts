import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { genUserSig } from '../auth/usersig.ts';
import { rtcLogin, RtcTestClient, until, type Msg } from '../../test/helpers/rtc-client.ts';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { CloseCodes, event, RESUME_BUFFER_EVENTS, RESUME_GRACE_MS } from './protocol.ts';
import { RtcSession } from './session.ts';

const fakeConn = () => ({ send: (_: string) => undefined }) as unknown as ConstructorParameters<typeof RtcSession>[4];

describe('RtcSession event numbering', () => {
  it('numbers events and gives back what was missed, or null when it is gone', () => {
    const sent: string[] = [];
    const s = new RtcSession(1, 'u', 'Web', undefined, { send: (t: string) => sent.push(t) } as never, 0);
    for (let i = 1; i <= 3; i++) s.deliver(event('x', { i }));
    assert.deepEqual(sent.map((t) => (JSON.parse(t) as Msg).seq), [1, 2, 3]);
    assert.deepEqual(JSON.parse(sent[0]!), { seq: 1, v: 1, type: 'x', i: 1 });
    assert.deepEqual(s.since(1)?.map((t) => (JSON.parse(t) as Msg).i), [2, 3]);
    assert.deepEqual(s.since(3), []);
    assert.equal(s.since(4), null);
    assert.equal(s.since(-1), null);
  });

  it('keeps only the last RESUME_BUFFER_EVENTS', () => {
    const s = new RtcSession(1, 'u', 'Web', undefined, fakeConn(), 0);
    for (let i = 0; i < RESUME_BUFFER_EVENTS + 10; i++) s.deliver(event('x', { i }));
    assert.equal(s.since(9), null);
    assert.equal(s.since(10)?.length, RESUME_BUFFER_EVENTS);
    assert.equal((JSON.parse(s.since(10)![0]!) as Msg).seq, 11);
  });
});

describe('/rtc sessions', () => {
  let t: TestServer;
  const open: RtcTestClient[] = [];
  const login = async (userId: string, extra: Msg = {}, opts: { expire?: number } = {}) => {
    const r = await rtcLogin(t.server.url, t.app, userId, extra, opts);
    open.push(r.client);
    return r;
  };

  /**
   * Waits for every close handshake to finish on the server: a handshake finishing while timers are mocked would
   * clear its real timer with the mocked clearTimeout and leave it to hold the process for 30 s.
   */
  const quiet = () => until(() => t.server.rtc.size === open.filter((c) => c.ws.readyState === c.ws.OPEN).length);

  /** Cuts a client's connection without a goodbye and waits until the server has let it go (its session stays). */
  const drop = async (c: RtcTestClient) => {
    const conns = t.server.rtc.size;
    c.ws.terminate();
    await c.closed;
    await until(() => t.server.rtc.size === conns - 1);
  };

  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    mock.timers.reset();
    for (const c of open) c.ws.terminate();
    await t.close();
  });

  it('imports the account at login, as the Chat SDK login does', async () => {
    assert.equal(await t.server.accounts.exists(t.app.sdkAppId, 'fresh-user'), false);
    await login('fresh-user');
    assert.equal(await t.server.accounts.exists(t.app.sdkAppId, 'fresh-user'), true);
  });

  it('resumes a dropped connection within the grace period, replaying missed events, unseen by others', async () => {
    const { client: a, reply } = await login('ra');
    assert.equal(reply.resumed, false);
    assert.equal(typeof reply.resumeToken, 'string');
    const { client: b } = await login('rb');
    await a.request('room.enter', { roomId: 5151 });
    await b.request('room.enter', { roomId: 5151 });
    const enter = await a.next((m) => m.type === 'room.userEnter');
    await quiet();
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      await drop(a);
      // While a is away, b talks: the messages wait in a's session.
      assert.equal((await b.request('room.message', { roomId: 5151, data: 'one' })).delivered, 1);
      assert.equal((await b.request('room.message', { roomId: 5151, data: 'two' })).delivered, 1);
      mock.timers.tick(RESUME_GRACE_MS - 1);
      const { client: a2, reply: r2 } = await login('ra', { resumeToken: reply.resumeToken, lastSeq: enter.seq });
      assert.equal(r2.resumed, true);
      assert.equal(r2.resumeToken, reply.resumeToken);
      assert.deepEqual(r2.rooms, [{ room: { roomId: 5151 }, role: 'anchor' }]);
      const one = await a2.next((m) => m.type === 'room.message');
      const two = await a2.next((m) => m.type === 'room.message');
      assert.deepEqual([one.data, two.data, one.seq, two.seq], ['one', 'two', (enter.seq as number) + 1, (enter.seq as number) + 2]);
      mock.timers.tick(RESUME_GRACE_MS);
      // Still in the room: b never saw a leave, and new messages reach the resumed connection.
      assert.equal((await b.request('room.message', { roomId: 5151, data: 'three' })).delivered, 1);
      assert.equal((await a2.next((m) => m.type === 'room.message')).data, 'three');
      assert.equal(b.inbox.some((m) => m.type === 'room.userLeave'), false);
    } finally {
      mock.timers.reset();
    }
  });

  it('ends a dropped session after the grace period: the others see it leave', async () => {
    const { client: a, reply } = await login('ga');
    const { client: b } = await login('gb');
    await a.request('room.enter', { roomId: 5252 });
    await b.request('room.enter', { roomId: 5252 });
    await quiet();
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      await drop(a);
      mock.timers.tick(RESUME_GRACE_MS);
      const left = await b.event('room.userLeave');
      assert.deepEqual(left, { v: 1, type: 'room.userLeave', room: { roomId: 5252 }, userId: 'ga', reason: 'disconnected' });
      // Too late to resume: a new session, with no rooms.
      const { reply: r2 } = await login('ga', { resumeToken: reply.resumeToken, lastSeq: 0 });
      assert.equal(r2.resumed, false);
      assert.notEqual(r2.resumeToken, reply.resumeToken);
      assert.deepEqual(r2.rooms, []);
    } finally {
      mock.timers.reset();
    }
  });

  it('does not resume with a token of another user, and a resume on a live connection closes the old one with 4409', async () => {
    const { client: a, reply } = await login('ta');
    await a.request('room.enter', { roomId: 5353 });
    const { reply: other } = await login('tb', { resumeToken: reply.resumeToken });
    assert.equal(other.resumed, false);
    const { client: a2, reply: r2 } = await login('ta', { resumeToken: reply.resumeToken, lastSeq: 0 });
    assert.equal(r2.resumed, true);
    assert.equal(await a.closed, CloseCodes.RESUMED_ELSEWHERE);
    assert.deepEqual(r2.rooms, [{ room: { roomId: 5353 }, role: 'anchor' }]);
    assert.equal(t.server.trtcRooms.members(t.app.sdkAppId, { roomId: 5353 }).length, 1);
    // lastSeq ahead of the session: no resume; the old session ends (its rooms are left).
    const { reply: r3 } = await login('ta', { resumeToken: reply.resumeToken, lastSeq: 999 });
    assert.equal(r3.resumed, false);
    assert.equal(await a2.closed, CloseCodes.RESUMED_ELSEWHERE);
    await until(() => !t.server.trtcRooms.exists(t.app.sdkAppId, { roomId: 5353 }));
  });

  it('closes with 4403 after session.expired when the UserSig expires, unless renewed', async () => {
    await quiet();
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const { client: a, reply } = await login('ea', {}, { expire: 60 });
      const { client: b } = await login('eb', {}, { expire: 60 });
      await a.request('room.enter', { roomId: 5454 });
      // b renews before expiry; a does not.
      const renewed = await b.request('auth.renew', { userSig: genUserSig({ sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId: 'eb', expire: 3600 }) });
      assert.equal(renewed.ok, true);
      assert.ok((renewed.expiresAt as number) > (reply.expiresAt as number));
      const bad = await b.request('auth.renew', { userSig: genUserSig({ sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId: 'someone-else', expire: 3600 }) });
      assert.equal(bad.code, 70013);
      mock.timers.tick(61_000);
      const expired = await a.event('session.expired');
      assert.equal(expired.expiresAt, reply.expiresAt);
      assert.equal(await a.closed, CloseCodes.SIG_EXPIRED);
      assert.equal(t.server.trtcRooms.exists(t.app.sdkAppId, { roomId: 5454 }), false);
      assert.equal((await b.request('room.enter', { roomId: 5455 })).ok, true);
    } finally {
      mock.timers.reset();
    }
  });

  it('logout leaves the rooms with reason "leave" and closes with 1000', async () => {
    const { client: a } = await login('la');
    const { client: b } = await login('lb');
    await a.request('room.enter', { roomId: 5555 });
    await b.request('room.enter', { roomId: 5555 });
    assert.equal((await a.request('logout')).ok, true);
    assert.equal(await a.closed, CloseCodes.NORMAL);
    assert.equal((await b.event('room.userLeave')).reason, 'leave');
  });

  it('refuses bad auth fields with 40004 and 4401', async () => {
    for (const extra of [{ platform: 'Amiga' }, { resumeToken: 5 }, { lastSeq: -1 }, { lastSeq: 'x' }]) {
      const c = new RtcTestClient(t.server.url);
      open.push(c);
      const r = await c.request('auth', { sdkAppId: t.app.sdkAppId, userId: 'bad', userSig: genUserSig({ sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId: 'bad', expire: 60 }), ...extra });
      assert.equal(r.code, 40004, JSON.stringify(extra));
      assert.equal(await c.closed, CloseCodes.AUTH);
    }
  });
});
