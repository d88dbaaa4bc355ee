import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { genUserSig } from '../../auth/usersig.ts';
import { trtcCloudClient } from '../../../test/helpers/cloud-api.ts';
import { rtcLogin, type RtcTestClient } from '../../../test/helpers/rtc-client.ts';
import { sdkClient, SdkWsClient } from '../../../test/helpers/sdk-ws-client.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';
import type { MediaSource } from '../../realtime/media/source.ts';
import { Flag } from './protocol.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const byUser = (list: unknown): Array<Record<string, unknown>> => [...(list as Array<Record<string, unknown>>)].sort((a, b) => String(a.userId).localeCompare(String(b.userId)));

describe('trtc-sdk signalling (/v2/ws)', () => {
  let t: TestServer;
  let open: Array<SdkWsClient | RtcTestClient> = [];

  before(async () => {
    t = await startTestServer();
  });
  afterEach(async () => {
    // Every frame any client got was a JSON object with a numeric cmd: the SDK parses each without a try.
    for (const c of open) if (c instanceof SdkWsClient) assert.deepEqual(c.bad, [], `${c.userId} got frames the SDK cannot parse`);
    await Promise.all(open.map((c) => (c.ws.readyState === c.ws.CLOSED ? undefined : c.close())));
    open = [];
  });
  after(() => t.close());

  /** An SDK client of the dev app, closed after the test. */
  function client(userId: string, sig?: string): SdkWsClient {
    const c = sdkClient(t.server.url, t.app, userId, sig);
    open.push(c);
    return c;
  }

  /** An SDK client that has joined `roomId` with MPC `join`. */
  async function joined(userId: string, roomId: number | string): Promise<SdkWsClient> {
    const c = client(userId);
    const r = await c.join(roomId);
    assert.equal(r.code, 0, JSON.stringify(r));
    return c;
  }

  it('pushes cmd 19 with the client address and the server clock right after the upgrade', async () => {
    const c = client('setup1');
    const f = await c.next((m) => m.cmd === 19);
    assert.equal(c.all[0], f, 'cmd 19 is the first frame');
    assert.equal(f.seq, 0);
    assert.equal(f.code, 0);
    assert.match(String(f.data.clientIp), /127\.0\.0\.1/);
    assert.equal(typeof f.data.svrTime, 'number');
    assert.ok(Math.abs((f.data.svrTime as number) - Date.now()) < 5000, `svrTime ${String(f.data.svrTime)}`);
  });

  it('answers an MPC join with cmd 20: the seq echoed, the tinyId at the top level, the same for the same user next time', async () => {
    const c = client('join1');
    await c.send('ability_status_report', { sched_domain: 'x' }); // seq 1: the join must echo its own seq, not 1
    const r = await c.join(4001);
    assert.equal(r.seq, 2);
    assert.equal(r.code, 0, JSON.stringify(r));
    assert.match(String(r.tinyId), /^\d{1,20}$/);
    assert.ok(Array.isArray(r.data.publishers));
    assert.equal(r.data.ability, undefined, 'MPC join gets no ability');
    assert.equal((await c.next((m) => m.cmd === 4158 && m.seq === 1)).code, 0);
    const list = await c.request('get_user_list', 4137);
    assert.deepEqual(list.data.userList, [{ userId: 'join1', srcTinyId: r.tinyId, role: 20 }]);
    await c.send('leave');
    await c.close();

    const again = client('join1');
    const r2 = await again.join(4002);
    assert.equal(r2.code, 0);
    assert.equal(r2.tinyId, r.tinyId);
    const other = await joined('join2', 4002);
    assert.notEqual(other.tinyId, r.tinyId);
  });

  it('refuses bad credentials in cmd 20 with Tencent codes', async () => {
    const { sdkAppId, secretKey } = t.app;
    const cases: Array<[string, SdkWsClient, number]> = [
      ['wrong key', client('bad1', genUserSig({ sdkAppId, secretKey: 'not-the-key', userId: 'bad1', expire: 3600 })), 70009],
      ['expired', client('bad2', genUserSig({ sdkAppId, secretKey, userId: 'bad2', expire: 60, now: Math.floor(Date.now() / 1000) - 7200 })), 70001],
      ['identifier mismatch', client('bad3', genUserSig({ sdkAppId, secretKey, userId: 'someone-else', expire: 3600 })), 70013],
      ['unknown sdkAppId', new SdkWsClient(t.server.url, 1409999999, 'bad4', genUserSig({ sdkAppId: 1409999999, secretKey, userId: 'bad4', expire: 3600 })), 70020],
      ['empty', client('bad5', ''), 70002],
    ];
    open.push(cases[3]![1]);
    for (const [what, c, code] of cases) {
      const r = await c.join(4010);
      assert.equal(r.cmd, 20, what);
      assert.equal(r.code, code, `${what}: ${JSON.stringify(r)}`);
      assert.equal(r.tinyId, undefined, what);
      assert.ok(r.message.length > 0, what);
      // Refused, so not in the room.
      assert.notEqual((await c.request('get_user_list', 4137)).code, 0, what);
    }
    assert.deepEqual(t.server.trtcRooms.members(sdkAppId, { roomId: 4010 }), []);
  });

  it('refuses a join without a PrivateMapKey when the app requires one', async () => {
    await t.server.apps.update(t.app.sdkAppId, { 'trtc.requirePrivateMapKey': true });
    try {
      const c = client('pmk1');
      assert.equal((await c.join(4011)).code, -100006);
      assert.equal((await c.join(4011, { privateMapKey: '' })).code, -100006);
      assert.equal((await c.join(4011, { privateMapKey: 'not-a-key' })).code, -100006);
    } finally {
      await t.server.apps.update(t.app.sdkAppId, { 'trtc.requirePrivateMapKey': false });
    }
  });

  it('refuses bad room ids with a non-zero code and still takes a good join on the same socket', async () => {
    const c = client('room1');
    for (const roomId of ['0', 'abc', '4294967295', '-1', '1.5', '', 0, 4294967295, null, { x: 1 }, ['1']]) {
      const r = await c.request('join', 20, { roomId, useStringRoomId: false, userSig: c.userSig });
      assert.notEqual(r.code, 0, `roomId ${JSON.stringify(roomId)}`);
    }
    for (const strRoomId of ['', 'x'.repeat(65), 5]) {
      const r = await c.request('join', 20, { roomId: strRoomId, useStringRoomId: true, userSig: c.userSig });
      assert.notEqual(r.code, 0, `strRoomId ${JSON.stringify(strRoomId)}`);
    }
    const ok = await c.join(4294967294);
    assert.equal(ok.code, 0, JSON.stringify(ok));
    // A second join on a joined socket is refused, and the first stays.
    assert.notEqual((await c.join(4012)).code, 0);
    assert.deepEqual(t.server.trtcRooms.members(t.app.sdkAppId, { roomId: 4294967294 }).map((m) => m.userId), ['room1']);
    const str = await joined('room2', 'chat-room');
    assert.deepEqual((await str.request('get_user_list', 4137)).data.userList, [{ userId: 'room2', srcTinyId: str.tinyId, role: 20 }]);
  });

  it('tells members of joins, lists them, relays custom messages without echo, and tells of leaves and lost sockets', async () => {
    const a = await joined('A', 4020);
    const b = await joined('B', 4020);
    const enter = await a.push(4134);
    assert.deepEqual(enter.data, { srcTinyId: b.tinyId, userId: 'B', role: 20 });
    assert.ok(await b.none((m) => m.cmd === 4134), 'B is not told of itself or of A');

    const list = await a.request('get_user_list', 4137);
    assert.equal(list.code, 0);
    assert.deepEqual(byUser(list.data.userList), [
      { userId: 'A', srcTinyId: a.tinyId, role: 20 },
      { userId: 'B', srcTinyId: b.tinyId, role: 20 },
    ]);

    await a.send('channel_msg', { cmdId: 1, msg: b64('hello'), ordered: true, reliable: true, streamSeq: 7 });
    const msg = await b.push(4140);
    assert.equal(msg.data.srcTinyId, a.tinyId);
    assert.equal(msg.data.msg, b64('hello'));
    assert.equal(msg.data.streamSeq, 7);
    assert.equal(msg.data.cmdId, 1);
    assert.ok(await a.none((m) => m.cmd === 4140), 'not echoed to the sender');
    // Out-of-range cmdIds, non-base64 and oversized messages are dropped, and nothing is answered.
    for (const bad of [{ cmdId: 0, msg: b64('x') }, { cmdId: 11, msg: b64('x') }, { cmdId: 1, msg: '!!not base64' }, { cmdId: 1, msg: Buffer.alloc(8001).toString('base64') }, { cmdId: '1', msg: b64('x') }]) {
      await a.send('channel_msg', { ...bad, ordered: true, reliable: true, streamSeq: 1 });
    }
    await a.send('channel_msg', { cmdId: 10, msg: Buffer.alloc(8000, 1).toString('base64'), ordered: true, reliable: true, streamSeq: 8 });
    const big = await b.push(4140);
    assert.equal(big.data.cmdId, 10, 'the dropped messages did not arrive; the largest allowed one did');
    assert.equal(Buffer.from(big.data.msg as string, 'base64').length, 8000);

    await a.send('leave');
    assert.deepEqual((await b.push(4135)).data, { userId: 'A', srcTinyId: a.tinyId, reason: 0 });
    assert.deepEqual((await b.request('get_user_list', 4137)).data.userList, [{ userId: 'B', srcTinyId: b.tinyId, role: 20 }]);
    assert.notEqual((await a.request('get_user_list', 4137)).code, 0, 'A is out of the room after leave');

    const c = await joined('C', 4020);
    await b.push(4134, (m) => m.data.userId === 'C');
    c.ws.terminate();
    const gone = await b.push(4135, (m) => m.data.userId === 'C');
    assert.equal(gone.data.reason, 1);
    assert.deepEqual(t.server.trtcRooms.members(t.app.sdkAppId, { roomId: 4020 }).map((m) => m.userId), ['B']);
  });

  it('kicks the older socket when the same user joins again, without telling the room the user left', async () => {
    const w = await joined('watcher', 4021);
    const d1 = await joined('dup', 4021);
    await w.push(4134, (m) => m.data.userId === 'dup');
    const d2 = await joined('dup', 4021);
    assert.equal(d2.tinyId, d1.tinyId);
    assert.deepEqual((await d1.push(9)).data, { reason: 'kick' });
    await d1.close();
    assert.ok(await w.none((m) => m.cmd === 4135), 'the user is still in the room');
    assert.deepEqual(byUser((await w.request('get_user_list', 4137)).data.userList).map((u) => u.userId), ['dup', 'watcher']);
    await d2.send('channel_msg', { cmdId: 2, msg: b64('from d2'), ordered: true, reliable: true, streamSeq: 1 });
    assert.equal((await w.push(4140)).data.msg, b64('from d2'));
  });

  it('takes the user out of the room when a socket that was taken over joins again and leaves', async () => {
    const w = await joined('watch2', 4022);
    const d1 = await joined('dup2', 4022);
    const d2 = await joined('dup2', 4022);
    await d1.push(9);
    // d1's socket stays open (the SDK would close it) and joins the same room again, taking it back from d2.
    assert.equal((await d1.join(4022)).code, 0);
    assert.deepEqual((await d2.push(9)).data, { reason: 'kick' });
    await d1.send('leave');
    assert.deepEqual((await w.push(4135, (m) => m.data.userId === 'dup2')).data.reason, 0);
    assert.deepEqual(t.server.trtcRooms.members(t.app.sdkAppId, { roomId: 4022 }).map((m) => m.userId), ['watch2']);
  });

  it('shares rooms and custom messages with /rtc users', async () => {
    const s = await joined('sdk1', 4030);
    const { client: r } = await rtcLogin(t.server.url, t.app, 'rtc1');
    open.push(r);
    assert.equal((await r.request('room.enter', { roomId: 4030 })).ok, true);
    const enter = await s.push(4134);
    assert.equal(enter.data.userId, 'rtc1');
    assert.equal(enter.data.role, 20);
    assert.match(String(enter.data.srcTinyId), /^\d+$/);
    assert.notEqual(enter.data.srcTinyId, s.tinyId);
    const list = await s.request('get_user_list', 4137);
    assert.deepEqual(byUser(list.data.userList), [
      { userId: 'rtc1', srcTinyId: enter.data.srcTinyId, role: 20 },
      { userId: 'sdk1', srcTinyId: s.tinyId, role: 20 },
    ]);

    const sent = await r.request('room.message', { roomId: 4030, data: 'hi' });
    assert.equal(sent.ok, true);
    assert.equal(sent.delivered, 0, 'no other /rtc user');
    const got = await s.push(4140);
    assert.equal(got.data.msg, b64('hi'));
    assert.equal(got.data.srcTinyId, enter.data.srcTinyId);
    assert.equal(got.data.cmdId, 1);
    assert.equal(typeof got.data.streamSeq, 'number');
    assert.equal((await r.request('room.message', { roomId: 4030, data: 'hi again' })).ok, true);
    const second = await s.push(4140);
    assert.equal(second.data.streamSeq, (got.data.streamSeq as number) + 1, 'the /rtc sender is numbered in order');

    await s.send('channel_msg', { cmdId: 1, msg: b64('hello'), ordered: true, reliable: true, streamSeq: 3 });
    const ev = await r.event('room.message');
    assert.equal(ev.data, 'hello');
    assert.equal(ev.cmdId, 1);
    assert.equal(ev.from, 'sdk1');
    assert.deepEqual(ev.room, { roomId: 4030 });
    assert.ok(await s.none((m) => m.cmd === 4140), 'not echoed to the SDK sender');

    assert.equal((await r.request('room.leave', { roomId: 4030 })).ok, true);
    assert.deepEqual((await s.push(4135)).data, { userId: 'rtc1', srcTinyId: enter.data.srcTinyId, reason: 0 });
  });

  it('sends cmd 9 to users removed by the server or in a dismissed room, and 4135 reason 2 to the others', async () => {
    const k1 = await joined('k1', 4040);
    const k2 = await joined('k2', 4040);
    const k3 = await joined('k3', 4040);
    await t.server.trtcRooms.removeUsers(t.app.sdkAppId, { roomId: 4040 }, ['k1']);
    assert.deepEqual((await k1.push(9)).data, { reason: 'banned' });
    for (const c of [k2, k3]) assert.deepEqual((await c.push(4135, (m) => m.data.userId === 'k1')).data, { userId: 'k1', srcTinyId: k1.tinyId, reason: 2 });
    assert.notEqual((await k1.request('get_user_list', 4137)).code, 0, 'k1 is out of the room');
    assert.ok(await k1.none((m) => m.cmd === 4135), 'k1 is not told of its own removal as a leave');

    await t.server.trtcRooms.dismiss(t.app.sdkAppId, { roomId: 4040 });
    for (const c of [k2, k3]) {
      assert.deepEqual((await c.push(9)).data, { reason: 'room_disband' });
      assert.notEqual((await c.request('get_user_list', 4137)).code, 0);
    }
    assert.deepEqual(t.server.trtcRooms.members(t.app.sdkAppId, { roomId: 4040 }), []);
    // The socket stays usable: the SDK could join again (it closes it itself after a kick).
    assert.equal((await k1.join(4041)).code, 0);
  });

  it('shows a user the server blocked (SetUserBlocked) as muted in cmd 23 and the join reply, and unmuted once unblocked', async () => {
    const id = t.app.sdkAppId;
    const room = { roomId: 4045 };
    const s = await joined('blk-viewer', 4045);
    await t.server.trtcRooms.enter(id, room, 'blk-pub');
    const source: MediaSource = { kinds: { audio: true, video: true }, onRtp: () => undefined, requestKeyframe: () => undefined, close: () => undefined };
    const sfu = t.server.rtc.media.sfu;
    const pub = sfu.publish({ sdkAppId: id, room, userId: 'blk-pub', stream: 'main', source, owner: undefined });
    const flag = (list: unknown) => (list as Array<Record<string, unknown>>).find((u) => u.userId === 'blk-pub')?.flag;
    const both = Flag.AUDIO | Flag.BIG_VIDEO;
    assert.equal(flag((await s.push(23)).data.userList), both);

    const cloud = trtcCloudClient(t.server.url, t.app.cloudApi);
    const block = (IsMute: number) => cloud.request('SetUserBlocked', { SdkAppId: id, RoomId: 4045, UserId: 'blk-pub', IsMute });
    await block(1);
    assert.equal(flag((await s.push(23)).data.userList), both | Flag.AUDIO_MUTED | Flag.BIG_VIDEO_MUTED);
    await block(3);
    assert.equal(flag((await s.push(23)).data.userList), both | Flag.BIG_VIDEO_MUTED);
    const late = client('blk-late');
    const joinReply = await late.join(4045);
    assert.equal(flag(joinReply.data.publishers), both | Flag.BIG_VIDEO_MUTED, 'a late joiner sees the block');
    await block(0);
    assert.equal(flag((await s.push(23)).data.userList), both);
    sfu.unpublish(pub, 'unpublished');
    await t.server.trtcRooms.leave(id, room, 'blk-pub');
  });

  it('answers the other commands: roles, publishing without media refused, heartbeats, constraints, unsupported plugins', async () => {
    const c = await joined('cmd1', 4050);
    const w = await joined('cmd2', 4050);
    const role = await c.request('change_role', 4110, { role: 21 });
    assert.equal(role.code, 0);
    assert.equal(byUser((await w.request('get_user_list', 4137)).data.userList).find((u) => u.userId === 'cmd1')?.role, 21);
    assert.notEqual((await c.request('change_role', 4110, { role: 99 })).code, 0);
    assert.notEqual((await c.request('change_role', 4110, { role: 20, privateMapKey: 'bogus' })).code, 0);
    assert.equal((await c.request('change_role', 4110, { role: 20 })).code, 0);

    // MPC publish without an SDP offer, and SPC commands on a connection without a media transport, are refused.
    for (const data of [{}, { type: 'answer', sdp: 'v=0\r\n' }, { type: 'offer', sdp: 5 }, { type: 'offer' }]) {
      assert.notEqual((await c.request('publish', 4098, { ...data, screen: false, state: { audio: true }, constraintConfig: {} })).code, 0, JSON.stringify(data));
    }
    assert.notEqual((await c.request('publish/v2', 4146, { audioSsrc: 1, state: { audio: true } })).code, 0);
    assert.notEqual((await c.request('subscribe/v3', 4156, { srcUserId: 'cmd2', srcTinyId: w.tinyId, audio: true, ssrc: {} })).code, 0);

    const seq = await c.send('quality_report', { WebRTCQualityReq: {} });
    const stats = await c.push(22);
    assert.equal(typeof stats.data.rtt, 'number');
    assert.ok(await c.none((m) => m.seq === seq), 'quality_report gets no reply');

    const cons = await c.request('update_constraint_config', 772, { videoCodec: 'vp8', videoWidth: 640 });
    assert.equal(cons.code, 0);
    assert.equal((await c.request('ability_status_report', 4158, { scheduleCache: 1 })).code, 0);
    const time = await c.request('update_network_time', 5001, { clientSendTime: String(Date.now()) });
    assert.equal(typeof time.data.serverRecvTime, 'number');
    for (const [cmd, reply] of [['start_mcu_mix', 781], ['stop_mcu_mix', 783], ['start_publishing', 1286], ['start_publish_cdn_stream', 8196], ['switch_room', 4160], ['rebuild_pc', 4150], ['reconnect', 514]] as const) {
      const r = await c.request(cmd, reply, {});
      assert.notEqual(r.code, 0, cmd);
      assert.equal(typeof r.message, 'string');
    }
    // A name the server does not know gets no answer and does not disturb the connection.
    await c.send('no_such_command', {});
    assert.equal((await c.request('get_user_list', 4137)).code, 0);
  });

  it('refuses room commands before the join without closing the socket', async () => {
    const c = client('early1');
    const list = await c.request('get_user_list', 4137);
    assert.notEqual(list.code, 0);
    assert.equal(typeof list.data, 'object');
    assert.notEqual((await c.request('change_role', 4110, { role: 21 })).code, 0);
    assert.notEqual((await c.request('unpublish', 4100)).code, 0);
    assert.notEqual((await c.request('mute_uplink', 4108, { audio: true })).code, 0);
    assert.notEqual((await c.request('unsubscribe', 4104, { srcTinyId: '1' })).code, 0);
    await c.send('channel_msg', { cmdId: 1, msg: b64('x'), ordered: true, reliable: true, streamSeq: 1 });
    await c.send('leave');
    assert.equal(c.ws.readyState, c.ws.OPEN);
    assert.equal((await c.join(4060)).code, 0);
    const text = await (await fetch(`${t.server.url}/metrics`)).text();
    assert.match(text, /trtcd_requests_total\{family="trtc-sdk",command="get_user_list",code="-10\d+"\} [1-9]/);
    assert.match(text, /trtcd_requests_total\{family="trtc-sdk",command="join",code="0"\} [1-9]/);
    assert.match(text, /trtcd_requests_total\{family="trtc-sdk",command="leave",code="0"\} [1-9]/);
  });

  it('ignores frames that are not commands and keeps answering', async () => {
    const c = client('junk1');
    await c.opened;
    for (const f of ['not json', '[]', 'null', '42', '{"cmd":5}', '{"seq":1}', JSON.stringify({ cmd: 'x'.repeat(65), seq: 1 })]) c.ws.send(f);
    c.ws.send(Buffer.from([0, 1, 2, 3]), { binary: true });
    // A non-object data is read as {}, a non-numeric seq as 0.
    c.ws.send(JSON.stringify({ cmd: 'get_user_list', data: 'str', seq: 'one' }));
    const r = await c.next((m) => m.cmd === 4137);
    assert.equal(r.seq, 0);
    assert.notEqual(r.code, 0);
    const ok = await c.join(4070);
    assert.equal(ok.code, 0);
    assert.equal((await fetch(`${t.server.url}/healthz`)).status, 200);
  });

  it('closes a socket that floods frames', async () => {
    const c = client('flood1');
    await c.opened;
    for (let i = 0; i < 1000; i++) c.ws.send(JSON.stringify({ cmd: 'no_such_command', data: {}, seq: i + 1 }));
    assert.equal(await c.closed, 4429);
  });

  it('takes the user out of the room when a socket closes during its join', async () => {
    const c = client('race1');
    await c.send('join', { roomId: '4080', useStringRoomId: false, userSig: c.userSig });
    c.ws.terminate();
    await c.closed;
    const w = await joined('race2', 4080);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(t.server.trtcRooms.members(t.app.sdkAppId, { roomId: 4080 }).map((m) => m.userId), ['race2']);
    assert.deepEqual((await w.request('get_user_list', 4137)).data.userList, [{ userId: 'race2', srcTinyId: w.tinyId, role: 20 }]);
  });

  it('answers join/v2 with a server ability built on the client\'s codecs, and refuses an ability it cannot use', async () => {
    const c = client('spc1');
    const r = await c.request('join/v2', 20, { roomId: '4090', useStringRoomId: false, trtcRole: 20, userSig: c.userSig, ability: ABILITY });
    assert.equal(r.code, 0, JSON.stringify(r));
    const a = r.data.ability as {
      ice: { ufrag: string; password: string };
      dtls: { fingerprint: string; setup: string };
      candidates: Array<{ foundation: string }>;
      audio: { codecs: Array<{ payload: number }> };
      video: { codecs: Array<{ payload: number }> };
      useVp8: boolean;
    };
    assert.ok(a.ice.ufrag && a.ice.password);
    assert.match(a.dtls.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.ok(a.dtls.setup === 'active' || a.dtls.setup === 'passive');
    assert.ok(a.candidates.length > 0);
    for (const cand of a.candidates) assert.equal(cand.foundation, 'udp', 'the SDK writes foundation as the transport');
    assert.equal(a.audio.codecs[0]?.payload, 111);
    assert.equal(a.video.codecs[0]?.payload, 96);
    assert.equal(a.useVp8, true);
    for (const [what, ability] of [
      ['none', undefined],
      ['no VP8', { ...ABILITY, video: { codecs: [{ ...ABILITY.video.codecs[0], codec: 'H264' }], extensions: [] } }],
      ['codecs not a list', { ...ABILITY, audio: { codecs: 'opus' } }],
      ['junk', 'x'],
    ] as const) {
      const bad = client(`spc-bad-${what}`);
      const refused = await bad.request('join/v2', 20, { roomId: '4090', useStringRoomId: false, userSig: bad.userSig, ability });
      assert.notEqual(refused.code, 0, what);
    }
    assert.deepEqual(t.server.trtcRooms.members(t.app.sdkAppId, { roomId: 4090 }).map((m) => m.userId), ['spc1']);
  });

  it('answers rebuild_pc with a new server ability on a new transport, and closes the old one', async () => {
    const c = client('spc3');
    const r = await c.request('join/v2', 20, { roomId: '4092', useStringRoomId: false, trtcRole: 20, userSig: c.userSig, ability: ABILITY });
    assert.equal(r.code, 0, JSON.stringify(r));
    const first = r.data.ability as { ice: { ufrag: string }; candidates: Array<{ ip: string; port: number }> };
    const rebuilt = await c.request('rebuild_pc', 4150, { ability: ABILITY });
    assert.equal(rebuilt.code, 0, JSON.stringify(rebuilt));
    const second = rebuilt.data.ability as { ice: { ufrag: string }; candidates: Array<{ ip: string; port: number }> };
    assert.notEqual(second.ice.ufrag, first.ice.ufrag, 'new ICE credentials');
    await waitFor(async () => !(await udpBound(first.candidates.filter((x) => isIPv4(x.ip)))), 'the old transport is closed');
    assert.ok(await udpBound(second.candidates.filter((x) => isIPv4(x.ip))), 'the new transport listens');
    assert.notEqual((await c.request('rebuild_pc', 4150, { ability: { junk: true } })).code, 0, 'an unusable ability is refused');
    await c.close();
  });

  it('frees the media transport of a room the socket leaves: a join/v2 after leave or a kick does not keep the old one', async () => {
    const c = client('spc2');
    const ports: Array<Array<{ ip: string; port: number }>> = [];
    const join = async (): Promise<void> => {
      const r = await c.request('join/v2', 20, { roomId: '4091', useStringRoomId: false, trtcRole: 20, userSig: c.userSig, ability: ABILITY });
      assert.equal(r.code, 0, JSON.stringify(r));
      ports.push(((r.data.ability as { candidates: Array<{ ip: string; port: number }> }).candidates).filter((x) => isIPv4(x.ip)));
    };
    await join();
    assert.ok(ports[0]!.length > 0, 'an IPv4 candidate to watch');
    assert.ok(await udpBound(ports[0]!), 'the transport listens while in the room');
    // trtc-sdk-v5 with keepAlive reuses the socket after exitRoom: leave, then join/v2 with a new ability.
    await c.send('leave');
    await join();
    await waitFor(async () => !(await udpBound(ports[0]!)), 'the first transport is closed after leave');
    await t.server.trtcRooms.removeUsers(t.app.sdkAppId, { roomId: 4091 }, ['spc2']);
    await c.push(9);
    await join();
    await waitFor(async () => !(await udpBound(ports[1]!)), 'the second transport is closed after the kick');
    await c.close();
    await waitFor(async () => !(await udpBound(ports[2]!)), 'the last transport is closed with the socket');
  });
});

/** A client ability as trtc-sdk-v5 sends it in join/v2 (trimmed to what the server reads). */
const ABILITY = {
  ice: { ufrag: 'abcd', password: 'abcdefghijklmnopqrstuvwx' },
  dtls: { hash: 'sha-256', fingerprint: Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase()).join(':'), setup: 'actpass' },
  audio: { codecs: [{ codec: 'opus', fmtp: 'minptime=10;useinbandfec=1', payload: 111, rate: 48000, channels: 2, rtcpfb: [{ id: 'transport-cc', params: [] }], rtx: 0 }], extensions: [{ id: 3, uri: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01' }] },
  video: {
    codecs: [{ payload: 96, codec: 'VP8', fmtp: '', rate: 90000, rtx: 97, rtcpfb: [{ id: 'nack', params: [] }] }],
    decoders: [{ payload: 96, codec: 'VP8', fmtp: '', rate: 90000, rtx: 97, rtcpfb: [{ id: 'nack', params: [] }] }],
    extensions: [{ id: 3, uri: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01' }],
  },
  useDataChannel: false,
  useDtx: false,
};

/** Whether any of these UDP addresses is taken (binding it fails). */
async function udpBound(addrs: Array<{ ip: string; port: number }>): Promise<boolean> {
  for (const { ip, port } of addrs) {
    const taken = await new Promise<boolean>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => resolve(true));
      s.bind(port, ip, () => s.close(() => resolve(false)));
    });
    if (taken) return true;
  }
  return false;
}

async function waitFor(cond: () => Promise<boolean>, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
