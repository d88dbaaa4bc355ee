import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';
import { WebSocket } from 'ws';
import { genUserSig } from '../../src/auth/usersig.ts';
import { DEFAULT_CONFIG } from '../../src/config.ts';
import { startServer, type Trtcd } from '../../src/server.ts';
import { peerConfig } from '../../src/realtime/media/peer-config.ts';
import { eventually, MediaPeer } from '../../test/helpers/media-peer.ts';
import { rtcLogin } from '../../test/helpers/rtc-client.ts';
import { nextEvent } from '../../test/helpers/sdk-events.ts';
import type { LocalPublication, PeerLike } from './media.ts';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { CONNECTION_LOST, TrtcdClient, TrtcdError, type TrtcdClientOptions } from './index.ts';

describe('TrtcdClient against a real server', () => {
  let t: TestServer;
  const clients: TrtcdClient[] = [];
  const sig = (userId: string, key = t.app.secretKey) => genUserSig({ sdkAppId: t.app.sdkAppId, secretKey: key, userId, expire: 3600 });
  const client = (userId: string, o: Partial<TrtcdClientOptions> = {}) => {
    const c = new TrtcdClient({
      url: `${t.server.url.replace(/^http/, 'ws')}/rtc`,
      sdkAppId: t.app.sdkAppId,
      userId,
      userSig: sig(userId),
      WebSocket,
      reconnect: { minDelayMs: 5, maxDelayMs: 50 },
      ...o,
    });
    clients.push(c);
    return c;
  };
  const login = async (userId: string) => {
    const c = client(userId);
    await c.connect();
    return c;
  };
  /** The client's own socket, to cut it without a close frame as a network loss would. */
  const socketOf = (c: TrtcdClient) => c['ws'] as unknown as WebSocket;

  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await t.close();
  });

  it('connects and authenticates', async () => {
    const c = client('alice');
    const connected = nextEvent(c, 'connected');
    const reply = await c.connect();
    assert.equal(reply.sdkAppId, t.app.sdkAppId);
    assert.equal(reply.userId, 'alice');
    assert.ok(reply.expiresAt > Date.now() / 1000);
    assert.equal((await connected).userId, 'alice');
    assert.equal(c.state, 'open');
    const closed = nextEvent(c, 'closed');
    await c.close();
    assert.equal((await closed).code, 1000);
    assert.equal(c.state, 'closed');
  });

  it('rejects a refused auth with its TrtcdError code and does not reconnect', async () => {
    const c = client('bob', { userSig: sig('bob', 'k'.repeat(64)) });
    const reconnecting = nextEvent(c, 'reconnecting', undefined, 200).then(() => true, () => false);
    const err = await c.connect().then(
      () => assert.fail('connected'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TrtcdError);
    assert.equal(err.code, 70009);
    assert.equal(err.type, 'auth');
    assert.equal(c.state, 'closed');
    assert.equal(await reconnecting, false);
  });

  it('rejects error replies with TrtcdError code, message and request type', async () => {
    const c = await login('carol');
    await assert.rejects(c.leaveRoom({ roomId: 5 }), (e: TrtcdError) => e.code === 40400 && e.type === 'room.leave' && e.message.length > 0);
    await assert.rejects(c.enterRoom({ roomId: 0 }), (e: TrtcdError) => e.code === 40004 && e.type === 'room.enter');
    await c.enterRoom('big');
    await assert.rejects(c.sendRoomMessage('big', 'x'.repeat(1025)), (e: TrtcdError) => e.code === 41300 && e.type === 'room.message');
    const idle = client('dave');
    await assert.rejects(idle.enterRoom(1), (e: TrtcdError) => e.code === CONNECTION_LOST);
  });

  it('shows two clients in a room each other’s entry, messages and leave', async () => {
    const a = await login('a1');
    const b = await login('b1');
    const entered = await a.enterRoom('lobby');
    assert.deepEqual(entered, { room: { strRoomId: 'lobby' }, members: [{ userId: 'a1', role: 'anchor' }], streams: [] });
    const userEnter = nextEvent(a, 'room.userEnter');
    const rb = await b.enterRoom({ strRoomId: 'lobby' }, { role: 'audience' });
    assert.deepEqual(rb.members.map((m) => m.userId), ['a1', 'b1']);
    assert.deepEqual((await userEnter), { v: 1, type: 'room.userEnter', room: { strRoomId: 'lobby' }, userId: 'b1', role: 'audience', ...seqOf(await userEnter) });
    const message = nextEvent(a, 'room.message');
    assert.deepEqual(await b.sendRoomMessage('lobby', 'hello'), { delivered: 1 });
    const m = await message;
    assert.equal(m.from, 'b1');
    assert.equal(m.data, 'hello');
    assert.deepEqual(m.room, { strRoomId: 'lobby' });
    const toOne = nextEvent(b, 'room.message');
    assert.deepEqual(await a.sendRoomMessage('lobby', 'just you', ['b1']), { delivered: 1 });
    assert.equal((await toOne).data, 'just you');
    const userLeave = nextEvent(a, 'room.userLeave');
    await b.leaveRoom('lobby');
    const left = await userLeave;
    assert.equal(left.userId, 'b1');
    assert.equal(left.reason, 'leave');
  });

  it('reconnects after the socket drops and keeps its room, role and messages', async () => {
    const a = await login('r1');
    const b = await login('r2');
    await a.enterRoom(4242, { role: 'audience' });
    await b.enterRoom(4242);
    const disconnected = nextEvent(a, 'disconnected');
    const reconnecting = nextEvent(a, 'reconnecting');
    const resumed = nextEvent(a, 'resumed');
    // A request in flight when the socket drops is lost; one made while reconnecting waits for the reconnection.
    const inFlight = a.sendRoomMessage(4242, 'in flight');
    socketOf(a).terminate();
    await assert.rejects(inFlight, (e: TrtcdError) => e.code === CONNECTION_LOST && e.type === 'room.message');
    assert.equal((await disconnected).code, 1006);
    assert.equal((await reconnecting).attempt, 1);
    assert.equal(a.state, 'reconnecting');
    const queuedMessage = nextEvent(b, 'room.message', (m) => m.data === 'sent while reconnecting');
    const queued = a.sendRoomMessage(4242, 'sent while reconnecting');
    const r = await resumed;
    assert.deepEqual(r.lost, []);
    assert.equal(a.state, 'open');
    assert.deepEqual(await queued, { delivered: 1 });
    assert.equal((await queuedMessage).from, 'r1');
    // Back in the room with its old role, and receiving its messages.
    assert.deepEqual(t.server.trtcRooms.members(t.app.sdkAppId, { roomId: 4242 }).find((m) => m.userId === 'r1'), { userId: 'r1', role: 'audience' });
    const message = nextEvent(a, 'room.message');
    assert.deepEqual(await b.sendRoomMessage(4242, 'welcome back'), { delivered: 1 });
    assert.equal((await message).data, 'welcome back');
    // And it reconnects again after a second drop.
    const again = nextEvent(a, 'resumed');
    socketOf(a).terminate();
    await again;
    const second = nextEvent(a, 'room.message');
    await b.sendRoomMessage(4242, 'still here');
    assert.equal((await second).data, 'still here');
  });

  it('resumes the session after a drop: same rooms, no leave seen by others, missed events replayed', async () => {
    const a = await login('s1');
    const b = await login('s2');
    await a.enterRoom('resume-room');
    await b.enterRoom('resume-room');
    const bLeaves: string[] = [];
    b.on('room.userLeave', (e) => bLeaves.push(e.userId));
    const got: string[] = [];
    a.on('room.message', (e) => got.push(e.data));
    const resumed = nextEvent(a, 'resumed');
    const disconnected = nextEvent(a, 'disconnected');
    socketOf(a).terminate();
    await disconnected;
    // Sent while a is away: the server keeps it for the session and replays it on resume.
    await b.sendRoomMessage('resume-room', 'while you were away');
    assert.deepEqual(await resumed, { resumed: true, lost: [] });
    const after = nextEvent(a, 'room.message', (m) => m.data === 'after');
    await b.sendRoomMessage('resume-room', 'after');
    await after;
    assert.deepEqual(got, ['while you were away', 'after']);
    assert.deepEqual(bLeaves, []);
  });

  it('starts, accepts and hangs up a call between two clients', async () => {
    const a = await login('c1');
    const b = await login('c2');
    const invited = nextEvent(b, 'call.invited');
    const { call, busy } = await a.startCall({ callees: ['c2'], mediaType: 'Audio', roomId: 5150 });
    assert.deepEqual(busy, []);
    assert.deepEqual([call.caller, call.mediaType, call.callType, call.roomId, call.roomIdType, call.result], ['c1', 'Audio', 'SingleCall', '5150', 1, null]);
    assert.equal((await invited).call.callId, call.callId);
    const accepted = nextEvent(a, 'call.updated', (e) => e.changes.some((x) => x.action === 'Accept'));
    const r = await b.acceptCall(call.callId);
    assert.deepEqual(r.call.members.map((m) => [m.userId, m.status]), [['c1', 'Calling'], ['c2', 'Calling']]);
    assert.deepEqual((await accepted).changes, [{ userId: 'c2', action: 'Accept' }]);
    assert.equal((await a.getCall(call.callId)).call.acceptTime > 0, true);
    const ended = nextEvent(b, 'call.updated', (e) => e.ended);
    assert.equal((await a.hangup(call.callId)).call.result, 'NormalEnd');
    assert.equal((await ended).call.result, 'NormalEnd');
    await assert.rejects(b.acceptCall(call.callId), (e: TrtcdError) => e.code === 40410 && e.type === 'call.accept');
  });

  it('enters a live room, sends text and a gift, and sees them as live.events', async () => {
    await t.server.accounts.importMany(t.app.sdkAppId, [{ userId: 'host9' }]);
    await t.server.live.create(t.app.sdkAppId, 'sdk-live', 'host9', {});
    await t.server.gifts.addGift(t.app.sdkAppId, { giftId: 'star', coins: 1, defaultName: 'Star' });
    const v = await login('viewer9');
    const { room } = await v.enterLiveRoom('sdk-live');
    assert.deepEqual([room.roomId, room.owner, room.viewCount], ['sdk-live', 'host9', 1]);
    const text = nextEvent(v, 'live.event', (e) => e.kind === 'text');
    const sent = await v.sendLiveText('sdk-live', 'hi all');
    assert.equal(typeof sent.seq, 'number');
    assert.deepEqual([(await text).roomId, (await text).data.text, (await text).data.sender], ['sdk-live', 'hi all', 'viewer9']);
    const gift = nextEvent(v, 'live.event', (e) => e.kind === 'gift');
    await v.sendGift('sdk-live', 'star', { count: 2 });
    assert.deepEqual([(await gift).data.giftId, (await gift).data.count, (await gift).data.receivers], ['star', 2, ['host9']]);
    await assert.rejects(v.sendGift('sdk-live', 'nope'), (e: TrtcdError) => e.code === 102002 && e.type === 'live.gift');
    await v.leaveLiveRoom('sdk-live');
    await assert.rejects(v.sendLiveText('sdk-live', 'gone'), (e: TrtcdError) => e.code === 40400);
    await assert.rejects(v.enterLiveRoom('no-such-room'), (e: TrtcdError) => e.code === 40410);
  });

  it('renews its UserSig', async () => {
    const a = await login('n1');
    const later = genUserSig({ sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId: 'n1', expire: 7200 });
    const { expiresAt } = await a.renewUserSig(later);
    assert.ok(expiresAt > Date.now() / 1000 + 3600);
    await assert.rejects(a.renewUserSig(sig('n2')), (e: TrtcdError) => e.code === 70013 && e.type === 'auth.renew');
  });

  it('does not reconnect after close() or logout()', async () => {
    const a = await login('z1');
    await a.enterRoom(77);
    let reconnects = 0;
    a.on('reconnecting', () => reconnects++);
    await a.close();
    assert.equal(a.state, 'closed');
    await assert.rejects(a.enterRoom(77), (e: TrtcdError) => e.code === CONNECTION_LOST);
    // A closed client can connect again, as a new session.
    await a.connect();
    assert.deepEqual((await a.enterRoom(77)).members, [{ userId: 'z1', role: 'anchor' }]);
    await a.logout();
    assert.equal(a.state, 'closed');
    await a.connect();
    await a.logout();
    assert.equal(reconnects, 0);
  });
});

describe('TrtcdClient across a server restart', () => {
  it('reconnects and enters its rooms again when the session is gone', async () => {
    const t = await startTestServer();
    let restarted: Trtcd | undefined;
    const clients: TrtcdClient[] = [];
    try {
      const client = (userId: string) => {
        const c = new TrtcdClient({
          url: `${t.server.url.replace(/^http/, 'ws')}/rtc`,
          sdkAppId: t.app.sdkAppId,
          userId,
          userSig: genUserSig({ sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId, expire: 3600 }),
          WebSocket,
          reconnect: { minDelayMs: 5, maxDelayMs: 100 },
        });
        clients.push(c);
        return c;
      };
      const a = client('p1');
      await a.connect();
      await a.enterRoom(606, { role: 'audience' });
      await a.enterRoom('second');
      const disconnected = nextEvent(a, 'disconnected');
      const resumed = nextEvent(a, 'resumed', undefined, 10_000);
      await t.server.close();
      assert.equal((await disconnected).code, 1001);
      restarted = await startServer({ ...DEFAULT_CONFIG, dataDir: t.dir, port: t.server.port, logLevel: 'silent', appsPollMs: 100 });
      assert.deepEqual(await resumed, { resumed: false, lost: [] });
      assert.deepEqual(restarted.trtcRooms.members(t.app.sdkAppId, { roomId: 606 }), [{ userId: 'p1', role: 'audience' }]);
      assert.deepEqual(restarted.trtcRooms.members(t.app.sdkAppId, { strRoomId: 'second' }), [{ userId: 'p1', role: 'anchor' }]);
      const b = client('p2');
      await b.connect();
      await b.enterRoom(606);
      const message = nextEvent(a, 'room.message');
      assert.deepEqual(await b.sendRoomMessage(606, 'after the restart'), { delivered: 1 });
      assert.equal((await message).data, 'after the restart');
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await restarted?.close();
      rmSync(t.dir, { recursive: true, force: true });
    }
  });
});

/** werift's peer connection as the SDK's PeerLike (Node has no RTCPeerConnection); candidates are in its offer. */
class WeriftPeer implements PeerLike {
  private readonly pc = new RTCPeerConnection(peerConfig({ portRange: '' }));
  addTransceiver(trackOrKind: unknown, init: { direction: string }): unknown {
    return this.pc.addTransceiver(trackOrKind as MediaStreamTrack, { direction: init.direction as 'sendonly' });
  }
  createOffer() {
    return this.pc.createOffer();
  }
  async setLocalDescription(d: { type: string; sdp?: string }) {
    await this.pc.setLocalDescription(d as never);
  }
  async setRemoteDescription(d: { type: string; sdp?: string }) {
    await this.pc.setRemoteDescription(d as never);
  }
  get localDescription() {
    return this.pc.localDescription ?? null;
  }
  get iceGatheringState() {
    return 'complete';
  }
  get connectionState() {
    return this.pc.connectionState;
  }
  addEventListener(): void {}
  removeEventListener(): void {}
  async getStats() {
    return new Map<string, Record<string, unknown>>();
  }
  close(): void {
    void this.pc.close();
  }
}

describe('TrtcdClient media after a reconnection that did not resume', () => {
  it('publishes its streams again (muted kinds stay muted) and a new subscriber receives them', { timeout: 30_000 }, async () => {
    const t = await startTestServer();
    let restarted: Trtcd | undefined;
    const peers: MediaPeer[] = [];
    let pump: NodeJS.Timeout | undefined;
    let publication: LocalPublication | undefined;
    const a = new TrtcdClient({
      url: `${t.server.url.replace(/^http/, 'ws')}/rtc`,
      sdkAppId: t.app.sdkAppId,
      userId: 'pub1',
      userSig: genUserSig({ sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId: 'pub1', expire: 3600 }),
      WebSocket,
      RTCPeerConnection: WeriftPeer,
      reconnect: { minDelayMs: 5, maxDelayMs: 100 },
    });
    try {
      await a.connect();
      await a.enterRoom(707);
      const audio = new MediaStreamTrack({ kind: 'audio' });
      const video = new MediaStreamTrack({ kind: 'video' });
      publication = await a.publish(707, [audio, video]);
      let seq = 0;
      pump = setInterval(() => {
        seq = (seq + 1) & 0xffff;
        audio.writeRtp(new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: seq, timestamp: seq * 960, ssrc: 1111 }), Buffer.alloc(160, 0xf8)));
      }, 20);
      await publication.mute('video', true);
      const first = publication.pc;
      assert.ok(t.server.rtc.media.sfu.find(t.app.sdkAppId, { roomId: 707 }, 'pub1', 'main'));

      const republished = nextEvent(a, 'republished', undefined, 15_000);
      await t.server.close();
      restarted = await startServer({ ...DEFAULT_CONFIG, dataDir: t.dir, port: t.server.port, logLevel: 'silent', appsPollMs: 100 });
      assert.deepEqual(await republished, { room: { roomId: 707 }, stream: 'main' });
      assert.notEqual(publication.pc, first, 'a new peer connection');
      const pub = restarted.rtc.media.sfu.find(t.app.sdkAppId, { roomId: 707 }, 'pub1', 'main');
      assert.ok(pub, 'the restarted server has the stream');
      await eventually(() => pub.muted.video, 5000, 'video muted again');
      assert.equal(pub.muted.audio, false);

      // Someone who enters after the restart hears it.
      const { client: b } = await rtcLogin(restarted.url, t.app, 'sub1');
      await b.request('room.enter', { roomId: 707, role: 'audience' });
      const sub = new MediaPeer('subscribe', ['audio']);
      peers.push(sub);
      const r = await b.request('media.subscribe', { roomId: 707, userId: 'pub1', sdp: await sub.offer() });
      assert.equal(r.ok, true, JSON.stringify(r));
      await sub.answer(r.sdp as string);
      await eventually(() => sub.received.audio > 10, 10_000, 'audio from the republished stream');
      b.ws.terminate();
    } finally {
      clearInterval(pump);
      await Promise.all(peers.map((p) => p.close()));
      await publication?.stop();
      await a.close();
      await restarted?.close();
      rmSync(t.dir, { recursive: true, force: true });
    }
  });
});

/** The `seq` of an event, as an object to spread (absent on servers without sessions). */
function seqOf(e: { seq?: number }): { seq?: number } {
  return e.seq === undefined ? {} : { seq: e.seq };
}
