import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, MediaPeer } from '../../test/helpers/media-peer.ts';
import { rtcLogin, until, type RtcTestClient } from '../../test/helpers/rtc-client.ts';
import { isSpeaking } from './avatar-media.ts';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { RtcErrors } from './protocol.ts';

describe('/rtc and digital-human sessions on trtc', () => {
  let t: TestServer;
  const open: RtcTestClient[] = [];

  before(async () => {
    t = await startTestServer({ ivhPrepareDelayMs: 0 });
    await t.server.digitalHuman.createProject(t.app.sdkAppId, { projectId: 'proj-rtc', concurrency: 2 });
  });
  after(async () => {
    for (const c of open) c.ws.terminate();
    await t.close();
  });

  it('the avatar is a participant of its room; gettrtcsign keys enter that room and no other', async () => {
    const dh = t.server.digitalHuman;
    const s = await dh.createSession(t.app, { projectId: 'proj-rtc', userId: 'avatar-rtc', protocol: 'trtc', driverType: 1, protocolOption: { TrtcStrRoomId: 'ivh-rtc-room' } });
    await until(() => t.server.trtcRooms.exists(t.app.sdkAppId, { strRoomId: 'ivh-rtc-room' }));
    const keys = dh.getTrtcSign(t.app, s.sessionId, 'viewer-rtc', { strRoomId: 'ivh-rtc-room' });
    const { client: v } = await rtcLogin(t.server.url, t.app, 'viewer-rtc', {}, { sig: keys.userSig });
    open.push(v);
    const entered = await v.request('room.enter', { strRoomId: 'ivh-rtc-room', role: 'audience', privateMapKey: keys.privateMapKey });
    assert.equal(entered.ok, true, JSON.stringify(entered));
    assert.deepEqual(entered.members, [
      { userId: 'avatar-rtc', role: 'avatar' },
      { userId: 'viewer-rtc', role: 'audience' },
    ]);
    const other = await v.request('room.enter', { strRoomId: 'another-room', privateMapKey: keys.privateMapKey });
    assert.equal(other.code, RtcErrors.INVALID_PRIVATE_MAPKEY.code);
    // With the key required (the console's permission key switch), the key is the only way in.
    await t.server.apps.update(t.app.sdkAppId, { 'trtc.requirePrivateMapKey': true });
    assert.equal((await v.request('room.enter', { strRoomId: 'another-room' })).code, RtcErrors.INVALID_PRIVATE_MAPKEY.code);
    await t.server.apps.update(t.app.sdkAppId, { 'trtc.requirePrivateMapKey': false });
    // Closing the session takes the avatar out of the room.
    await dh.close(t.app, s.sessionId);
    const left = await v.event('room.userLeave');
    assert.deepEqual(left, { v: 1, type: 'room.userLeave', room: { strRoomId: 'ivh-rtc-room' }, userId: 'avatar-rtc', reason: 'session closed' });
  });

  it('the avatar publishes real audio and video in its room; speaking follows the command channel', async () => {
    const dh = t.server.digitalHuman;
    const s = await dh.createSession(t.app, { projectId: 'proj-rtc', userId: 'avatar-media', protocol: 'trtc', driverType: 1, protocolOption: { TrtcRoomId: 8123 } });
    await until(() => t.server.rtc.avatars.state(t.app.sdkAppId, 'avatar-media').playing);
    const keys = dh.getTrtcSign(t.app, s.sessionId, 'viewer-media', { roomId: 8123 });
    const { client: v } = await rtcLogin(t.server.url, t.app, 'viewer-media', {}, { sig: keys.userSig });
    open.push(v);
    const entered = await v.request('room.enter', { roomId: 8123, role: 'audience', privateMapKey: keys.privateMapKey });
    assert.deepEqual(entered.streams, [{ userId: 'avatar-media', stream: 'main', audio: true, video: true, audioMuted: false, videoMuted: false, audioBlocked: false, videoBlocked: false }]);
    const peer = new MediaPeer('subscribe', ['audio', 'video']);
    const sizes: number[] = [];
    peer.onPacket = (kind, rtp) => {
      if (kind === 'audio') sizes.push(rtp.payload.length);
    };
    try {
      const r = await v.request('media.subscribe', { roomId: 8123, userId: 'avatar-media', sdp: await peer.offer() });
      assert.equal(r.ok, true, JSON.stringify(r));
      await peer.answer(r.sdp as string);
      await eventually(() => peer.received.video > 10 && peer.received.audio > 10);
      // Idle: the audio track carries Opus silence frames (3 bytes).
      assert.ok(sizes.every((n) => n === 3), `idle audio is silence, got sizes ${[...new Set(sizes)].join(',')}`);
      await dh.startSession(t.app, s.sessionId);
      dh.command(t.app, s.sessionId, 'say-1', 'SEND_TEXT', { Text: 'Hello from the avatar' });
      assert.equal(t.server.rtc.avatars.state(t.app.sdkAppId, 'avatar-media').speaking, true);
      const from = sizes.length;
      await eventually(() => sizes.slice(from).some((n) => n > 3), 5000, 'speech packets');
      // Closing the session takes the avatar and its media out of the room.
      await dh.close(t.app, s.sessionId);
      const gone = await v.event('media.unpublished');
      assert.deepEqual(gone, { v: 1, type: 'media.unpublished', room: { roomId: 8123 }, userId: 'avatar-media', stream: 'main', reason: 'session closed' });
      assert.equal(t.server.rtc.avatars.state(t.app.sdkAppId, 'avatar-media').playing, false);
    } finally {
      await peer.close();
    }
  });

  it('speak statuses from *Start to *Over are speaking', () => {
    assert.deepEqual(
      (['Initial', 'TextStart', 'WaitingTextOver', 'TextOver', 'AudioStart', 'WaitingAudioOver', 'AudioOver', 'Error'] as const).map(isSpeaking),
      [false, true, true, false, true, true, false, false],
    );
  });
});
