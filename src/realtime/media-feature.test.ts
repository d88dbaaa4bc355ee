import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GenericNack, RtcpTransportLayerFeedback } from 'werift';
import { genPrivateMapKey, Privilege } from '../auth/private-map-key.ts';
import { trtcCloudClient } from '../../test/helpers/cloud-api.ts';
import { eventually, MediaPeer } from '../../test/helpers/media-peer.ts';
import type { RtcTestClient } from '../../test/helpers/rtc-client.ts';
import { rtcSuite } from '../../test/helpers/rtc-suite.ts';
import { nativeSrtp } from './media/native-srtp.ts';
import { RtcErrors } from './protocol.ts';

describe('/rtc media (werift peers through the SFU)', () => {
  const peers: MediaPeer[] = [];
  const suite = rtcSuite({ teardown: () => Promise.all(peers.map((p) => p.close())) });

  async function login(userId: string): Promise<RtcTestClient> {
    return (await suite.login(userId)).client;
  }

  function peer(role: 'publish' | 'subscribe', kinds: Array<'audio' | 'video'> = ['audio', 'video']): MediaPeer {
    const p = new MediaPeer(role, kinds);
    peers.push(p);
    return p;
  }

  function pmk(userId: string, roomId: number, privilegeMap: number): string {
    return genPrivateMapKey({ sdkAppId: suite.t.app.sdkAppId, secretKey: suite.t.app.secretKey, userId, expire: 3600, roomId, privilegeMap });
  }

  type Room = number | { strRoomId: string };
  const roomOf = (r: Room) => (typeof r === 'number' ? { roomId: r } : r);

  /** Publishes audio+video from a new werift peer and starts writing packets. */
  async function publish(c: RtcTestClient, roomId: Room, kinds: Array<'audio' | 'video'> = ['audio', 'video']): Promise<MediaPeer> {
    const p = peer('publish', kinds);
    const r = await c.request('media.publish', { ...roomOf(roomId), sdp: await p.offer() });
    assert.equal(r.ok, true, JSON.stringify(r));
    // A publisher's answer keeps transport-wide congestion control (the server sends its feedback).
    if (kinds.includes('video')) assert.match(r.sdp as string, /a=extmap:\d+ http:\/\/www.ietf.org\/id\/draft-holmer-rmcat-transport-wide-cc-extensions-01/);
    await p.answer(r.sdp as string);
    await p.connected();
    p.start(300);
    return p;
  }

  async function subscribe(c: RtcTestClient, roomId: Room, userId: string, kinds: Array<'audio' | 'video'> = ['audio', 'video']): Promise<{ peer: MediaPeer; reply: Record<string, unknown> }> {
    const p = peer('subscribe', kinds);
    const r = await c.request('media.subscribe', { ...roomOf(roomId), userId, sdp: await p.offer() });
    assert.equal(r.ok, true, JSON.stringify(r));
    await p.answer(r.sdp as string);
    await p.connected();
    return { peer: p, reply: r };
  }

  it('an anchor publishes audio and video; another member is told and receives both; keyframe requests reach the publisher, NACKs are answered', async () => {
    const a = await login('m-anchor');
    const b = await login('m-viewer');
    assert.equal((await a.request('room.enter', { roomId: 7001 })).ok, true);
    const entered = await b.request('room.enter', { roomId: 7001, role: 'audience' });
    assert.deepEqual(entered.streams, []);
    const pub = await publish(a, 7001);
    const published = await b.event('media.published');
    assert.deepEqual(published, { v: 1, type: 'media.published', room: { roomId: 7001 }, userId: 'm-anchor', stream: 'main', audio: true, video: true, audioMuted: false, videoMuted: false, audioBlocked: false, videoBlocked: false });
    const again = await b.request('room.enter', { roomId: 7001, role: 'audience' });
    assert.deepEqual(again.streams, [{ userId: 'm-anchor', stream: 'main', audio: true, video: true, audioMuted: false, videoMuted: false, audioBlocked: false, videoBlocked: false }]);

    let plis = 0;
    pub.pc.getTransceivers().find((x) => x.kind === 'video')!.sender.onPictureLossIndication.subscribe(() => plis++);
    const { peer: sub, reply } = await subscribe(b, 7001, 'm-anchor');
    assert.equal(reply.audio, true);
    assert.equal(reply.video, true);
    assert.match(reply.subscriptionId as string, /^s\d+$/);
    // A subscription's answer leaves out its header extension, so no feedback comes (nothing would read it); REMB stays.
    assert.doesNotMatch(reply.sdp as string, /transport-wide-cc/);
    assert.match(reply.sdp as string, /a=rtcp-fb:\d+ goog-remb/);
    await eventually(() => sub.received.audio > 5 && sub.received.video > 5);
    const metrics = await (await fetch(`${suite.t.server.url}/metrics`)).text();
    assert.match(metrics, /trtcd_media_publications [1-9]/);
    assert.match(metrics, /trtcd_media_subscriptions [1-9]/);
    // With the SRTP accelerator the media workers write the subscriber's copies (its audio and video senders).
    if (nativeSrtp()) assert.match(metrics, /trtcd_media_fanout_members 2\n/);
    // ... and read the publisher's socket themselves: its packets reach the subscriber without the main thread.
    if (nativeSrtp()) assert.match(metrics, /trtcd_media_worker_ingress_packets [1-9]/);
    // A new subscriber gets a keyframe request sent upstream; so does the subscriber's own PLI.
    await eventually(() => plis >= 1);
    // Past the keyframe-request throttle (KEYFRAME_INTERVAL_MS).
    await sleep(250);
    const before = plis;
    const rx = sub.pc.getTransceivers().find((x) => x.kind === 'video')!.receiver;
    await rx.sendRtcpPLI(rx.tracks[0]!.ssrc!);
    await eventually(() => plis > before);

    // A NACK from the subscriber is answered from the server's history: the lost packet comes again.
    const seen: number[] = [];
    sub.onPacket = (kind, rtp) => {
      if (kind === 'video') seen.push(rtp.header.sequenceNumber);
    };
    await eventually(() => seen.length > 3);
    const lost = seen[1]!;
    const copies = () => seen.filter((n) => n === lost).length;
    const rxTrack = sub.pc.getTransceivers().find((x) => x.kind === 'video')!.receiver;
    await rxTrack.dtlsTransport.sendRtcp([new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: 1, mediaSourceSsrc: rxTrack.tracks[0]!.ssrc!, lost: [lost] }) })]);
    await eventually(() => copies() === 2, 5000, 'the retransmission');
    sub.onPacket = undefined;

    // Muting video stops it; the room is told.
    const muted = await a.request('media.mute', { roomId: 7001, video: true });
    assert.deepEqual([muted.audioMuted, muted.videoMuted], [false, true]);
    assert.equal((await b.event('media.updated')).videoMuted, true);
    await sleep(100);
    const frozen = sub.received.video;
    const audioThen = sub.received.audio;
    await sleep(300);
    assert.equal(sub.received.video, frozen, 'muted video is not forwarded');
    assert.ok(sub.received.audio > audioThen, 'audio still flows');
    await a.request('media.mute', { roomId: 7001, video: false });
    await eventually(() => sub.received.video > frozen);

    // Unsubscribing stops the flow to that subscriber only.
    assert.equal((await b.request('media.unsubscribe', { subscriptionId: reply.subscriptionId })).ok, true);
    assert.equal((await b.request('media.unsubscribe', { subscriptionId: reply.subscriptionId })).code, RtcErrors.NO_SUCH_SUBSCRIPTION.code);
    // Leaving the room unpublishes.
    await a.request('room.leave', { roomId: 7001 });
    const gone = await b.event('media.unpublished');
    assert.deepEqual(gone, { v: 1, type: 'media.unpublished', room: { roomId: 7001 }, userId: 'm-anchor', stream: 'main', reason: 'leave' });
    assert.equal(suite.t.server.rtc.media.sfu.inRoom(suite.t.app.sdkAppId, { roomId: 7001 }).length, 0);
  });

  it('a keyframe asked for before the publisher sent any video is asked of it once its first video packet comes', async () => {
    const a = await login('m-early');
    assert.equal((await a.request('room.enter', { roomId: 7009 })).ok, true);
    const p = peer('publish');
    const r = await a.request('media.publish', { roomId: 7009, sdp: await p.offer() });
    assert.equal(r.ok, true, JSON.stringify(r));
    await p.answer(r.sdp as string);
    await p.connected();
    let plis = 0;
    p.pc.getTransceivers().find((x) => x.kind === 'video')!.sender.onPictureLossIndication.subscribe(() => plis++);
    const sfu = suite.t.server.rtc.media.sfu;
    sfu.askKeyframe(sfu.find(suite.t.app.sdkAppId, { roomId: 7009 }, 'm-early', 'main')!, true);
    p.start(300);
    await eventually(() => plis >= 1);
  });

  it('the audience cannot publish; a PrivateMapKey without the send bit is refused; receive bits are enforced', async () => {
    const a = await login('m-aud');
    assert.equal((await a.request('room.enter', { roomId: 7002, role: 'audience' })).ok, true);
    const p = peer('publish');
    const offer = await p.offer();
    assert.equal((await a.request('media.publish', { roomId: 7002, sdp: offer })).code, RtcErrors.AUDIENCE_CANNOT_PUBLISH.code);

    // An anchor whose key grants enter + send audio (2|4): audio passes, video is refused.
    const k = await login('m-audio-only');
    const key = pmk('m-audio-only', 7002, Privilege.EnterRoom | Privilege.SendAudio | Privilege.ReceiveAudio);
    assert.equal((await k.request('room.enter', { roomId: 7002, privateMapKey: key })).ok, true);
    const refused = await k.request('media.publish', { roomId: 7002, sdp: offer });
    assert.equal(refused.code, RtcErrors.INVALID_PRIVATE_MAPKEY.code);
    assert.match(refused.message as string, /send video \(16\)/);
    assert.equal(suite.t.server.rtc.media.sfu.inRoom(suite.t.app.sdkAppId, { roomId: 7002 }).length, 0);
    const screen = peer('publish', ['video']);
    const sub = await k.request('media.publish', { roomId: 7002, stream: 'sub', sdp: await screen.offer() });
    assert.match(sub.message as string, /send sub-stream video \(64\)/);
    await publish(k, 7002, ['audio']);

    // The audio-only anchor may receive audio but not video.
    const v = await login('m-video-pub');
    await v.request('room.enter', { roomId: 7002 });
    await publish(v, 7002);
    const noVideo = peer('subscribe', ['video']);
    const r = await k.request('media.subscribe', { roomId: 7002, userId: 'm-video-pub', sdp: await noVideo.offer() });
    assert.equal(r.code, RtcErrors.INVALID_PRIVATE_MAPKEY.code);
    assert.match(r.message as string, /receive video \(32\)/);
    const { reply } = await subscribe(k, 7002, 'm-video-pub', ['audio']);
    assert.deepEqual([reply.audio, reply.video], [true, false]);
    // The publisher's connection closes: its session ends, and with it its stream.
    await v.close();
    assert.deepEqual(await k.event('media.unpublished'), { v: 1, type: 'media.unpublished', room: { roomId: 7002 }, userId: 'm-video-pub', stream: 'main', reason: 'disconnected' });
  });

  it("a removed user's media (RemoveUser through the official Cloud API SDK) stops reaching the others within 1 s", async () => {
    const cloud = trtcCloudClient(suite.t.server.url, suite.t.app.cloudApi);
    const a = await login('m-removed');
    const b = await login('m-stays');
    await a.request('room.enter', { roomId: 7003 });
    await b.request('room.enter', { roomId: 7003 });
    await publish(a, 7003);
    const { peer: sub } = await subscribe(b, 7003, 'm-removed');
    await eventually(() => sub.received.video > 5);
    const { subscriptions } = suite.t.server.rtc.media.sfu.stats();
    const t0 = Date.now();
    await cloud.RemoveUser({ SdkAppId: suite.t.app.sdkAppId, RoomId: 7003, UserIds: ['m-removed'] });
    const gone = await b.event('media.unpublished');
    assert.equal(gone.reason, 'removed by the server');
    const atEvent = sub.received.video + sub.received.audio;
    assert.ok(Date.now() - t0 < 1000, 'told within 1 s');
    // Packets already on the wire may land; nothing is forwarded after that.
    await sleep(200);
    const settled = sub.received.video + sub.received.audio;
    assert.ok(settled - atEvent <= 5, `at most a few in-flight packets, got ${settled - atEvent}`);
    await sleep(500);
    assert.equal(sub.received.video + sub.received.audio, settled, 'no media after removal');
    assert.equal(Date.now() - t0 < 2000, true);
    assert.equal(suite.t.server.rtc.media.sfu.stats().subscriptions, subscriptions - 1, 'the subscription to the removed user ended');
  });

  it('SetUserBlocked (official Cloud API SDK) stops forwarding the user\'s media and tells the room; the block holds for a re-publish; IsMute 0 restores the flow', async () => {
    const cloud = trtcCloudClient(suite.t.server.url, suite.t.app.cloudApi);
    const setBlocked = (params: Record<string, unknown>) => cloud.request('SetUserBlocked', { SdkAppId: suite.t.app.sdkAppId, RoomId: 7006, UserId: 'm-blocked', ...params });
    const a = await login('m-blocked');
    const b = await login('m-sees-block');
    await a.request('room.enter', { roomId: 7006 });
    await b.request('room.enter', { roomId: 7006 });
    const pub = await publish(a, 7006);
    assert.equal((await b.event('media.published')).audioBlocked, false);
    const { peer: sub } = await subscribe(b, 7006, 'm-blocked');
    await eventually(() => sub.received.audio > 5 && sub.received.video > 5);
    const total = () => sub.received.audio + sub.received.video;

    // Blocked: both sessions are told (the blocked user too), and nothing is forwarded once the wire is drained.
    await setBlocked({ IsMute: 1 });
    const told = { v: 1, type: 'media.blocked', room: { roomId: 7006 }, userId: 'm-blocked', audioBlocked: true, videoBlocked: true };
    assert.deepEqual(await b.event('media.blocked'), told);
    assert.deepEqual(await a.event('media.blocked'), told);
    await sleep(200);
    const settled = total();
    const sentThen = pub.sent.audio + pub.sent.video;
    await sleep(500);
    assert.ok(pub.sent.audio + pub.sent.video > sentThen + 10, 'the publisher still sends');
    assert.equal(total(), settled, 'no media of a blocked user reaches a subscriber');
    const entered = await b.request('room.enter', { roomId: 7006 });
    assert.deepEqual(entered.streams, [{ userId: 'm-blocked', stream: 'main', audio: true, video: true, audioMuted: false, videoMuted: false, audioBlocked: true, videoBlocked: true }]);
    // The user's own unmute does not lift a server block.
    await a.request('media.mute', { roomId: 7006, audio: false, video: false });
    await sleep(300);
    assert.equal(total(), settled);

    // IsMute 2 blocks audio only: video comes back (after a keyframe request), audio stays off.
    await setBlocked({ IsMute: 2 });
    assert.deepEqual(await b.event('media.blocked'), { ...told, videoBlocked: false });
    const audioNow = sub.received.audio;
    await eventually(() => sub.received.video > 20);
    await sleep(300);
    assert.ok(sub.received.audio - audioNow <= 2, 'audio stays blocked');

    // Publishing again keeps the room's block: the new stream starts blocked.
    const again = await publish(a, 7006);
    assert.equal((await b.event('media.unpublished')).reason, 'replaced');
    assert.deepEqual(await b.event('media.published'), { v: 1, type: 'media.published', room: { roomId: 7006 }, userId: 'm-blocked', stream: 'main', audio: true, video: true, audioMuted: false, videoMuted: false, audioBlocked: true, videoBlocked: false });
    const { peer: sub2 } = await subscribe(b, 7006, 'm-blocked');
    await eventually(() => sub2.received.video > 5);
    await sleep(300);
    assert.equal(sub2.received.audio, 0, 'the re-published audio is blocked from the start');

    // IsMute 0 lifts it: audio flows again.
    await setBlocked({ IsMute: 0 });
    assert.deepEqual(await b.event('media.blocked'), { ...told, audioBlocked: false, videoBlocked: false });
    await eventually(() => sub2.received.audio > 5, 5000, 'audio after unblocking');
    assert.ok(again.sent.audio > 0);
  });

  it('SetUserBlockedByStrRoomId blocks video only (IsMute 3) in a string room; the block ends with the room', async () => {
    const cloud = trtcCloudClient(suite.t.server.url, suite.t.app.cloudApi);
    const room = { strRoomId: 'blk-room' };
    const a = await login('m-str-blocked');
    const b = await login('m-str-watch');
    await a.request('room.enter', room);
    await b.request('room.enter', room);
    await publish(a, room);
    const { peer: sub } = await subscribe(b, room, 'm-str-blocked');
    await eventually(() => sub.received.audio > 5 && sub.received.video > 5);
    await cloud.request('SetUserBlockedByStrRoomId', { SdkAppId: suite.t.app.sdkAppId, StrRoomId: 'blk-room', UserId: 'm-str-blocked', IsMute: 3 });
    assert.deepEqual(await b.event('media.blocked'), { v: 1, type: 'media.blocked', room, userId: 'm-str-blocked', audioBlocked: false, videoBlocked: true });
    await sleep(200);
    const video = sub.received.video;
    const audio = sub.received.audio;
    await sleep(500);
    assert.equal(sub.received.video, video, 'video is blocked');
    assert.ok(sub.received.audio > audio + 5, 'audio still flows');
    // The room ends (both leave); a new life of the room starts unblocked.
    await a.request('room.leave', room);
    await b.request('room.leave', room);
    await a.request('room.enter', room);
    await publish(a, room);
    assert.deepEqual(suite.t.server.rtc.media.sfu.find(suite.t.app.sdkAppId, room, 'm-str-blocked', 'main')?.blocked, { audio: false, video: false });
  });

  it('a screen share is the sub stream: video only, its own bits, received apart from main', async () => {
    const a = await login('m-screen');
    const b = await login('m-screen-viewer');
    await a.request('room.enter', { roomId: 7005 });
    await b.request('room.enter', { roomId: 7005 });
    const screen = peer('publish', ['video']);
    const r = await a.request('media.publish', { roomId: 7005, stream: 'sub', sdp: await screen.offer() });
    assert.equal(r.ok, true, JSON.stringify(r));
    await screen.answer(r.sdp as string);
    await screen.connected();
    screen.start(300);
    assert.deepEqual(await b.event('media.published'), { v: 1, type: 'media.published', room: { roomId: 7005 }, userId: 'm-screen', stream: 'sub', audio: false, video: true, audioMuted: false, videoMuted: false, audioBlocked: false, videoBlocked: false });
    assert.equal((await b.request('media.subscribe', { roomId: 7005, userId: 'm-screen', sdp: await peer('subscribe').offer() })).code, RtcErrors.NO_SUCH_STREAM.code);
    const s = peer('subscribe', ['video']);
    const sub = await b.request('media.subscribe', { roomId: 7005, userId: 'm-screen', stream: 'sub', sdp: await s.offer() });
    assert.deepEqual([sub.ok, sub.audio, sub.video], [true, false, true]);
    await s.answer(sub.sdp as string);
    await eventually(() => s.received.video > 5);
    assert.equal((await a.request('media.unpublish', { roomId: 7005, stream: 'sub' })).ok, true);
    assert.deepEqual(await b.event('media.unpublished'), { v: 1, type: 'media.unpublished', room: { roomId: 7005 }, userId: 'm-screen', stream: 'sub', reason: 'unpublished' });
  });

  it('refuses bad media requests with the protocol codes', async () => {
    const a = await login('m-bad');
    const notIn = await a.request('media.publish', { roomId: 7004, sdp: 'v=0\r\n' });
    assert.equal(notIn.code, RtcErrors.NOT_IN_ROOM.code);
    await a.request('room.enter', { roomId: 7004 });
    const cases: Array<[Record<string, unknown>, number]> = [
      [{ roomId: 7004 }, RtcErrors.INVALID_ARGUMENT.code],
      [{ roomId: 7004, sdp: 42 }, RtcErrors.INVALID_ARGUMENT.code],
      [{ roomId: 7004, sdp: '' }, RtcErrors.INVALID_ARGUMENT.code],
      [{ roomId: 7004, sdp: 'x'.repeat(40_000) }, RtcErrors.INVALID_ARGUMENT.code],
      [{ roomId: 7004, sdp: 'hello' }, RtcErrors.SDP_REJECTED.code],
      [{ roomId: 7004, sdp: 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=recvonly\r\n' }, RtcErrors.SDP_REJECTED.code],
      [{ roomId: 7004, sdp: 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendonly\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendonly\r\n' }, RtcErrors.SDP_REJECTED.code],
      [{ roomId: 7004, sdp: 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendonly\r\n' }, RtcErrors.SDP_REJECTED.code],
      [{ roomId: 7004, stream: 'third', sdp: 'v=0\r\n' }, RtcErrors.INVALID_ARGUMENT.code],
      [{ sdp: 'v=0\r\n' }, RtcErrors.INVALID_ARGUMENT.code],
    ];
    for (const [body, code] of cases) {
      const r = await a.request('media.publish', body);
      assert.equal(r.code, code, `${JSON.stringify(body).slice(0, 120)} → ${JSON.stringify(r)}`);
    }
    const audioOnSub = peer('publish', ['audio']);
    assert.equal((await a.request('media.publish', { roomId: 7004, stream: 'sub', sdp: await audioOnSub.offer() })).code, RtcErrors.INVALID_ARGUMENT.code);
    const s = peer('subscribe');
    assert.equal((await a.request('media.subscribe', { roomId: 7004, userId: 'nobody', sdp: await s.offer() })).code, RtcErrors.NO_SUCH_STREAM.code);
    assert.equal((await a.request('media.subscribe', { roomId: 7004, sdp: await s.offer() })).code, RtcErrors.INVALID_ARGUMENT.code);
    assert.equal((await a.request('media.unpublish', { roomId: 7004 })).code, RtcErrors.NO_SUCH_STREAM.code);
    assert.equal((await a.request('media.mute', { roomId: 7004, audio: 'yes' })).code, RtcErrors.INVALID_ARGUMENT.code);
    assert.equal((await a.request('media.unsubscribe', {})).code, RtcErrors.INVALID_ARGUMENT.code);
    // The connection is still usable after all that.
    assert.equal((await a.request('room.leave', { roomId: 7004 })).ok, true);
  });
});
