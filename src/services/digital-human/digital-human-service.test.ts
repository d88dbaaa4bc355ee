import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { genPrivateMapKeyWithStringRoomId } from '../../auth/private-map-key.ts';
import { verifyPrivateMapKey } from '../../auth/private-map-key.ts';
import { genUserSig, verifyUserSig } from '../../auth/usersig.ts';
import { detail } from '../../../test/helpers/domain-error.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';
import { IVH_EVENT_TOPIC, type IvhEvent } from './session.ts';

let t: TestServer;
beforeEach(async () => {
  mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_770_000_000_000 });
  t = await startTestServer({ ivhPrepareDelayMs: 2000 });
  await t.server.digitalHuman.createProject(t.app.sdkAppId, { projectId: 'proj1', concurrency: 2 });
});
afterEach(async () => {
  await t.close();
  mock.timers.reset();
});

const dh = () => t.server.digitalHuman;
const settle = () => new Promise((r) => setImmediate(r));

async function readySession(userId = 'avatar1', protocol = 'trtc', protocolOption: Record<string, unknown> = {}) {
  const s = await dh().createSession(t.app, { projectId: 'proj1', userId, protocol, driverType: 1, protocolOption });
  mock.timers.tick(2000);
  await settle();
  return s;
}

describe('digital-human sessions', () => {
  it('prepares (3), becomes ready (1), starts, drives, and closes (2)', async () => {
    const s = await dh().createSession(t.app, { projectId: 'proj1', userId: 'avatar1', protocol: 'rtmp', driverType: 1 });
    assert.equal(s.status, 3);
    assert.match(s.sessionId, /^m\d+$/);
    assert.equal(s.playStreamAddr, `rtmp://liveplay.ivh.qq.com/live/${s.sessionId}`);
    assert.throws(() => dh().command(t.app, s.sessionId, 'r0', 'SEND_TEXT', { Text: 'hi' }), detail('SESSION_NOT_READY'));
    await assert.rejects(dh().startSession(t.app, s.sessionId), detail('SESSION_NOT_READY'));
    mock.timers.tick(1999);
    assert.equal(dh().stat(t.app, s.sessionId).status, 3);
    mock.timers.tick(1);
    await settle();
    assert.equal(dh().stat(t.app, s.sessionId).status, 1);
    assert.throws(() => dh().command(t.app, s.sessionId, 'r0', 'SEND_TEXT', { Text: 'hi' }), detail('SESSION_NOT_STARTED'));
    await dh().startSession(t.app, s.sessionId);
    const events: IvhEvent[] = [];
    const off = t.server.bus.subscribe(IVH_EVENT_TOPIC, (e) => events.push((e as { event: IvhEvent }).event));
    dh().command(t.app, s.sessionId, 'r1', 'SEND_TEXT', { Text: '<speak>你好</speak>' });
    assert.equal(dh().stat(t.app, s.sessionId).speakStatus, 'TextStart');
    mock.timers.tick(5000);
    off();
    assert.deepEqual(events.map((e) => [e.Type, e.ReqId, e.SpeakStatus]), [[3, 'r1', 'TextStart'], [3, 'r1', 'TextOver']]);
    assert.equal(dh().stat(t.app, s.sessionId).speakStatus, 'TextOver');
    await dh().close(t.app, s.sessionId);
    assert.equal(dh().stat(t.app, s.sessionId).status, 2);
    assert.equal(dh().stat(t.app, s.sessionId).started, true);
    assert.throws(() => dh().command(t.app, s.sessionId, 'r2', 'SEND_TEXT', { Text: 'x' }), detail('SESSION_CLOSED'));
    assert.throws(() => dh().stat(t.app, 'm404'), detail('SESSION_NOT_FOUND'));
  });

  it('a new session with the same UserId closes the old one with 110022; the quota counts live sessions', async () => {
    const a = await dh().createSession(t.app, { projectId: 'proj1', userId: 'u1', protocol: 'webrtc', driverType: 3 });
    assert.match(a.playStreamAddr, /^webrtc:\/\/liveplay\.ivh\.qq\.com\/live\/m\d+\?min_delay_ms=100$/);
    const b = await dh().createSession(t.app, { projectId: 'proj1', userId: 'u1', protocol: 'rtmp', driverType: 1 });
    assert.deepEqual([dh().stat(t.app, a.sessionId).status, dh().stat(t.app, a.sessionId).errorCode], [2, 110022]);
    await dh().createSession(t.app, { projectId: 'proj1', userId: 'u2', protocol: 'rtmp', driverType: 1 });
    await assert.rejects(dh().createSession(t.app, { projectId: 'proj1', userId: 'u3', protocol: 'rtmp', driverType: 1 }), detail('QUOTA'));
    assert.deepEqual(dh().list(t.app, { projectId: 'proj1' }).map((s) => s.userId).sort(), ['u1', 'u2']);
    assert.equal(b.status, 3);
    await assert.rejects(dh().createSession(t.app, { projectId: 'nope', userId: 'u4', protocol: 'rtmp', driverType: 1 }), detail('INVALID'));
    await assert.rejects(dh().createSession(t.app, { projectId: 'proj1', userId: 'u4', protocol: 'RTMP', driverType: 1 }), detail('INVALID'));
    await assert.rejects(dh().createSession(t.app, { projectId: 'proj1', userId: 'u4', protocol: 'rtmp', driverType: 2 }), detail('INVALID'));
  });

  it('trtc on the internal app: the avatar enters its room; gettrtcsign admits another user to that room only', async () => {
    const s = await readySession('avatar1', 'trtc', { TrtcStrRoomId: 'ivh-room' });
    const addr = new URL(s.playStreamAddr);
    assert.equal(addr.protocol, 'trtc:');
    assert.deepEqual([addr.searchParams.get('sdkappid'), addr.searchParams.get('strroomid'), addr.searchParams.get('userid')], [String(t.app.sdkAppId), 'ivh-room', 'avatar1']);
    assert.ok(verifyUserSig(addr.searchParams.get('usersig')!, { sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId: 'avatar1' }).ok);
    assert.deepEqual(t.server.trtcRooms.members(t.app.sdkAppId, { strRoomId: 'ivh-room' }), [{ userId: 'avatar1', role: 'avatar' }]);
    const keys = dh().getTrtcSign(t.app, s.sessionId, 'viewer', { strRoomId: 'ivh-room' });
    const who = { sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId: 'viewer' };
    assert.ok(verifyUserSig(keys.userSig, who).ok);
    assert.ok(verifyPrivateMapKey(keys.privateMapKey, { ...who, strRoomId: 'ivh-room', privilege: 2 }).ok);
    assert.equal(verifyPrivateMapKey(keys.privateMapKey, { ...who, strRoomId: 'other' }).ok, false);
    assert.throws(() => dh().getTrtcSign(t.app, s.sessionId, 'viewer', { strRoomId: 'other' }), detail('INVALID'));
    assert.throws(() => dh().getTrtcSign(t.app, s.sessionId, 'avatar1', { strRoomId: 'ivh-room' }), detail('INVALID'));
    await dh().close(t.app, s.sessionId);
    assert.equal(t.server.trtcRooms.exists(t.app.sdkAppId, { strRoomId: 'ivh-room' }), false);
  });

  it('trtc with an external app checks the UserSig and PrivateMapKey; gettrtcsign is refused there', async () => {
    const key = { sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId: 'avatar2', expire: 3600 };
    const good = { TrtcUseExternalApp: true, TrtcAppId: String(t.app.sdkAppId), TrtcStrRoomId: 'ext', TrtcUserSig: genUserSig(key), TrtcPrivateMapKey: genPrivateMapKeyWithStringRoomId({ ...key, strRoomId: 'ext', privilegeMap: 255 }) };
    await assert.rejects(dh().createSession(t.app, { projectId: 'proj1', userId: 'avatar2', protocol: 'trtc', driverType: 1, protocolOption: { ...good, TrtcUserSig: 'bad' } }), detail('PERMISSION'));
    await assert.rejects(
      dh().createSession(t.app, { projectId: 'proj1', userId: 'avatar2', protocol: 'trtc', driverType: 1, protocolOption: { ...good, TrtcStrRoomId: 'elsewhere' } }),
      detail('PERMISSION'),
    );
    await assert.rejects(dh().createSession(t.app, { projectId: 'proj1', userId: 'avatar2', protocol: 'trtc', driverType: 1, protocolOption: { ...good, TrtcAppId: '1' } }), detail('INVALID'));
    const s = await readySession('avatar2', 'trtc', good);
    assert.throws(() => dh().getTrtcSign(t.app, s.sessionId, 'viewer', { strRoomId: 'ext' }), detail('PERMISSION'));
  });

  it('closes a started session after 10 minutes without traffic; heartbeats keep it open', async () => {
    const s = await readySession('avatar3', 'rtmp');
    await dh().startSession(t.app, s.sessionId);
    mock.timers.tick(9 * 60_000);
    dh().command(t.app, s.sessionId, 'hb', 'SEND_HEARTBEAT', { Text: 'PING' });
    mock.timers.tick(9 * 60_000);
    assert.equal(dh().stat(t.app, s.sessionId).status, 1);
    mock.timers.tick(60_000);
    await settle();
    assert.equal(dh().stat(t.app, s.sessionId).status, 2);
  });
});
