// Session resumption, sequence numbers and close codes, against a scripted server (the protocol parts today's server
// does not implement yet, and failures a real server cannot be made to produce on demand).
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { collect, nextEvent } from '../../test/helpers/sdk-events.ts';
import { backoffDelay, CONNECTION_LOST, REQUEST_TIMEOUT, TrtcdClient, TrtcdError, type TrtcdClientOptions } from './index.ts';

type Msg = Record<string, unknown>;

/** A /rtc server driven by the test: `script` answers each request of each connection. */
class ScriptedServer {
  readonly wss = new WebSocketServer({ port: 0 });
  readonly sockets: WebSocket[] = [];
  readonly requests: Msg[] = [];
  script: (ws: WebSocket, m: Msg, n: number) => void = (ws, m) => this.reply(ws, m, {});

  constructor() {
    this.wss.on('connection', (ws) => {
      const n = this.sockets.push(ws) - 1;
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as Msg;
        this.requests.push(m);
        this.script(ws, m, n);
      });
    });
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/rtc`;
  }

  reply(ws: WebSocket, m: Msg, body: Msg): void {
    ws.send(JSON.stringify({ v: 1, re: m.id, ok: true, ...body }));
  }

  fail(ws: WebSocket, m: Msg, code: number, message: string): void {
    ws.send(JSON.stringify({ v: 1, re: m.id, ok: false, code, message }));
  }

  event(ws: WebSocket, body: Msg): void {
    ws.send(JSON.stringify({ v: 1, ...body }));
  }

  close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

/** Index of the last auth request. */
const lastAuth = (ms: Msg[]) => ms.map((m) => m.type).lastIndexOf('auth');

const authReply = (token: string, resumed: boolean) => ({ sdkAppId: 1400000001, userId: 'u1', expiresAt: 2e9, resumeToken: token, resumed, rooms: [], liveRooms: [] });

describe('TrtcdClient sessions (scripted server)', () => {
  let s: ScriptedServer;
  const clients: TrtcdClient[] = [];
  const client = (o: Partial<TrtcdClientOptions> = {}) => {
    const c = new TrtcdClient({ url: s.url, sdkAppId: 1400000001, userId: 'u1', userSig: 'sig', WebSocket, reconnect: { minDelayMs: 2, maxDelayMs: 20 }, ...o });
    clients.push(c);
    return c;
  };
  const newServer = () => (s = new ScriptedServer());
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await s.close();
  });

  it('resumes with resumeToken and lastSeq, and drops events it already processed', async () => {
    newServer();
    s.script = (ws, m, n) => {
      if (m.type === 'auth' && n === 0) {
        s.reply(ws, m, authReply('tok-1', false));
        for (const seq of [1, 2]) s.event(ws, { seq, type: 'room.message', room: { roomId: 1 }, from: 'x', data: `m${seq}` });
      } else if (m.type === 'auth') {
        s.reply(ws, m, authReply('tok-1', true));
        // Replay after lastSeq — and a stale duplicate a buggy server might send.
        for (const seq of [2, 3, 4]) s.event(ws, { seq, type: 'room.message', room: { roomId: 1 }, from: 'x', data: `m${seq}` });
      } else s.reply(ws, m, m.type === 'room.enter' ? { room: { roomId: 1 }, members: [] } : {});
    };
    const c = client();
    const got = collect(c, 'room.message');
    const second = nextEvent(c, 'room.message', (e) => e.seq === 2);
    await c.connect();
    await c.enterRoom(1);
    await second;
    const resumed = nextEvent(c, 'resumed');
    const fourth = nextEvent(c, 'room.message', (e) => e.seq === 4);
    s.sockets[0]!.terminate();
    assert.deepEqual(await resumed, { resumed: true, lost: [] });
    await fourth;
    assert.deepEqual(got.map((e) => e.data), ['m1', 'm2', 'm3', 'm4']);
    const auths = s.requests.filter((m) => m.type === 'auth');
    assert.equal(auths.length, 2);
    assert.equal(auths[0]!.resumeToken, undefined);
    assert.deepEqual({ token: auths[1]!.resumeToken, lastSeq: auths[1]!.lastSeq, sig: auths[1]!.userSig }, { token: 'tok-1', lastSeq: 2, sig: 'sig' });
    // A resumed session keeps its rooms on the server: nothing is entered again.
    assert.equal(s.requests.filter((m) => m.type === 'room.enter').length, 1);
  });

  it('enters rooms and live rooms again when the session was not resumed, and counts seq from 1 again', async () => {
    newServer();
    s.script = (ws, m, n) => {
      if (m.type === 'auth') {
        s.reply(ws, m, authReply(`tok-${n}`, false));
        s.event(ws, { seq: 1, type: 'call.invited', call: { callId: `c${n}` } });
      } else if (m.type === 'room.enter' && m.strRoomId === 'gone' && n > 0) s.fail(ws, m, -100006, 'privateMapKey check failed');
      else if (m.type === 'room.enter') s.reply(ws, m, { room: { roomId: m.roomId }, members: [] });
      else if (m.type === 'live.enter') s.reply(ws, m, { room: { roomId: m.roomId } });
      else s.reply(ws, m, {});
    };
    const c = client();
    const invites = collect(c, 'call.invited');
    await c.connect();
    await c.enterRoom(9, { role: 'audience', privateMapKey: 'pmk' });
    await c.enterRoom('gone');
    await c.enterLiveRoom('live-1');
    await c.renewUserSig('sig-2');
    const resumed = nextEvent(c, 'resumed');
    s.sockets[0]!.terminate();
    const r = await resumed;
    assert.equal(r.resumed, false);
    assert.deepEqual(r.lost, [{ room: { strRoomId: 'gone' }, code: -100006, message: 'privateMapKey check failed' }]);
    const again = s.requests.slice(lastAuth(s.requests));
    assert.deepEqual(
      again.map(({ type, roomId, strRoomId, role, privateMapKey, resumeToken, lastSeq, userSig }) => ({ type, roomId, strRoomId, role, privateMapKey, resumeToken, lastSeq, userSig })),
      [
        { type: 'auth', resumeToken: 'tok-0', lastSeq: 1, userSig: 'sig-2', roomId: undefined, strRoomId: undefined, role: undefined, privateMapKey: undefined },
        { type: 'room.enter', roomId: 9, role: 'audience', privateMapKey: 'pmk', strRoomId: undefined, resumeToken: undefined, lastSeq: undefined, userSig: undefined },
        { type: 'room.enter', strRoomId: 'gone', roomId: undefined, role: undefined, privateMapKey: undefined, resumeToken: undefined, lastSeq: undefined, userSig: undefined },
        { type: 'live.enter', roomId: 'live-1', strRoomId: undefined, role: undefined, privateMapKey: undefined, resumeToken: undefined, lastSeq: undefined, userSig: undefined },
      ],
    );
    // The new session's events start at seq 1 again and are not taken for duplicates.
    assert.deepEqual(invites.map((e) => e.call.callId), ['c0', 'c1']);
    // The next drop resumes with the new session's token.
    const next = nextEvent(c, 'resumed');
    s.sockets[1]!.terminate();
    await next;
    const last = s.requests[lastAuth(s.requests)]!;
    assert.deepEqual([last.resumeToken, last.lastSeq], ['tok-1', 1]);
    assert.equal(s.requests.filter((m) => m.type === 'room.enter' && m.strRoomId === 'gone').length, 2, 'a lost room is not entered again');
  });

  for (const code of [4401, 4403, 4409]) {
    it(`does not reconnect after close code ${code}`, async () => {
      newServer();
      const c = client();
      await c.connect();
      const closed = nextEvent(c, 'closed');
      const disconnected = nextEvent(c, 'disconnected');
      let reconnecting = 0;
      c.on('reconnecting', () => reconnecting++);
      s.sockets[0]!.close(code, 'bye');
      assert.deepEqual(await disconnected, { code, reason: 'bye' });
      assert.deepEqual(await closed, { code, reason: 'bye' });
      assert.equal(c.state, 'closed');
      assert.equal(reconnecting, 0);
      assert.equal(s.sockets.length, 1);
    });
  }

  it('reconnects after 1001 (server shutting down)', async () => {
    newServer();
    const c = client();
    await c.connect();
    const resumed = nextEvent(c, 'resumed');
    s.sockets[0]!.close(1001, 'server shutting down');
    assert.equal((await resumed).resumed, false);
    assert.equal(s.sockets.length, 2);
  });

  it('gives up after maxAttempts and rejects the requests that waited', async () => {
    newServer();
    const c = client({ reconnect: { minDelayMs: 1, maxDelayMs: 4, maxAttempts: 3 } });
    await c.connect();
    const attempts = collect(c, 'reconnecting');
    const closed = nextEvent(c, 'closed');
    const disconnected = nextEvent(c, 'disconnected');
    await s.close();
    await disconnected;
    const waiting = c.enterRoom(1);
    const done = await closed;
    assert.match(done.reason, /gave up reconnecting after 3 attempts/);
    assert.deepEqual(attempts.map((a) => a.attempt), [1, 2, 3]);
    await assert.rejects(waiting, (e: TrtcdError) => e.code === CONNECTION_LOST && e.type === 'room.enter');
    newServer();
  });

  it('rejects a request with no reply after requestTimeoutMs', async () => {
    newServer();
    s.script = (ws, m) => (m.type === 'auth' ? s.reply(ws, m, authReply('t', false)) : undefined);
    const c = client({ requestTimeoutMs: 50 });
    await c.connect();
    await assert.rejects(c.getCall('c1'), (e: TrtcdError) => e instanceof TrtcdError && e.code === REQUEST_TIMEOUT && e.type === 'call.get');
  });

  it('reports errors the server could not tie to a request', async () => {
    newServer();
    s.script = (ws, m) => {
      s.reply(ws, m, authReply('t', false));
      ws.send(JSON.stringify({ v: 1, re: null, ok: false, code: 42900, message: 'over 100 frames per second' }));
    };
    const c = client();
    const err = nextEvent(c, 'protocolError');
    await c.connect();
    assert.deepEqual(await err, { code: 42900, message: 'over 100 frames per second' });
  });

  it('sends the wire shapes of the spec for calls and live rooms', async () => {
    newServer();
    const c = client({ platform: 'Linux' });
    await c.connect();
    await c.startCall({ callees: ['u2'], mediaType: 'Video', strRoomId: 'r', ringTimeoutMs: 10000 });
    await c.acceptCall('c1');
    await c.rejectCall('c1');
    await c.hangup('c1');
    await c.cancelCall('c1');
    await c.cancelCall('c1', 'u3');
    await c.joinCall('c1');
    await c.inviteToCall('c1', ['u4']);
    await c.getCall('c1');
    await c.enterLiveRoom('L');
    await c.sendLiveText('L', 'hi');
    await c.sendLiveText('L', 'hi', '{"a":1}');
    await c.sendLiveCustom('L', 'biz', 'payload');
    await c.sendGift('L', 'rose', { count: 3, receivers: ['owner'] });
    await c.takeSeat('L', 2);
    await c.leaveSeat('L');
    await c.leaveLiveRoom('L');
    const sent = s.requests.map(({ v: _v, id: _id, ...rest }) => rest);
    assert.deepEqual(sent, [
      { type: 'auth', sdkAppId: 1400000001, userId: 'u1', userSig: 'sig', platform: 'Linux' },
      { type: 'call.start', callees: ['u2'], mediaType: 'Video', strRoomId: 'r', ringTimeoutMs: 10000 },
      { type: 'call.accept', callId: 'c1' },
      { type: 'call.reject', callId: 'c1' },
      { type: 'call.hangup', callId: 'c1' },
      { type: 'call.cancel', callId: 'c1' },
      { type: 'call.cancel', callId: 'c1', target: 'u3' },
      { type: 'call.join', callId: 'c1' },
      { type: 'call.invite', callId: 'c1', targets: ['u4'] },
      { type: 'call.get', callId: 'c1' },
      { type: 'live.enter', roomId: 'L' },
      { type: 'live.text', roomId: 'L', text: 'hi' },
      { type: 'live.text', roomId: 'L', text: 'hi', extensionInfo: '{"a":1}' },
      { type: 'live.custom', roomId: 'L', businessId: 'biz', data: 'payload' },
      { type: 'live.gift', roomId: 'L', giftId: 'rose', count: 3, receivers: ['owner'] },
      { type: 'live.takeSeat', roomId: 'L', index: 2 },
      { type: 'live.leaveSeat', roomId: 'L' },
      { type: 'live.leave', roomId: 'L' },
    ]);
    assert.ok(s.requests.every((m) => m.v === 1 && typeof m.id === 'string'));
    assert.equal(new Set(s.requests.map((m) => m.id)).size, s.requests.length);
  });
});

describe('backoffDelay', () => {
  it('doubles from minDelayMs up to maxDelayMs, with jitter in [d/2, d]', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 100, 1000, () => 1)), [100, 200, 400, 800, 1000, 1000]);
    assert.deepEqual([1, 2, 3, 6].map((n) => backoffDelay(n, 100, 1000, () => 0)), [50, 100, 200, 500]);
  });
});
