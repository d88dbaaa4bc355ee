import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rtcLogin, until, type RtcTestClient } from '../../test/helpers/rtc-client.ts';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { RtcErrors } from './protocol.ts';

describe('/rtc and digital-human sessions on trtc', () => {
  let t: TestServer;
  const open: RtcTestClient[] = [];

  before(async () => {
    t = await startTestServer({ ivhPrepareDelayMs: 0 });
    await t.server.digitalHuman.createProject(t.app.sdkAppId, { projectId: 'proj-rtc', concurrency: 1 });
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
    await t.server.apps.update(t.app.sdkAppId, [['trtc.requirePrivateMapKey', 'true']]);
    assert.equal((await v.request('room.enter', { strRoomId: 'another-room' })).code, RtcErrors.INVALID_PRIVATE_MAPKEY.code);
    await t.server.apps.update(t.app.sdkAppId, [['trtc.requirePrivateMapKey', 'false']]);
    // Closing the session takes the avatar out of the room.
    await dh.close(t.app, s.sessionId);
    const left = await v.event('room.userLeave');
    assert.deepEqual(left, { v: 1, type: 'room.userLeave', room: { strRoomId: 'ivh-rtc-room' }, userId: 'avatar-rtc', reason: 'session closed' });
  });
});
