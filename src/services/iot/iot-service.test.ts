import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyPrivateMapKey } from '../../auth/private-map-key.ts';
import { verifyUserSig } from '../../auth/usersig.ts';
import { detail } from '../../../test/helpers/domain-error.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(() => t.close());


describe('IoT Explorer TRTC signatures', () => {
  it('signs each user into that string room only', async () => {
    const params = await t.server.iot.createSignatures(t.app, 'test', ['test1', 'test2']);
    assert.deepEqual(params.map((p) => Object.keys(p)), [0, 1].map(() => ['SdkAppId', 'UserId', 'UserSig', 'StrRoomId', 'PrivateKey']));
    for (const p of params) {
      assert.equal(p.SdkAppId, t.app.sdkAppId);
      assert.equal(p.StrRoomId, 'test');
      assert.ok(verifyUserSig(p.UserSig, { sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId: p.UserId }).ok);
      const key = { sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId: p.UserId };
      assert.ok(verifyPrivateMapKey(p.PrivateKey, { ...key, strRoomId: 'test', privilege: 2 }).ok);
      assert.equal(verifyPrivateMapKey(p.PrivateKey, { ...key, strRoomId: 'other' }).ok, false);
      assert.equal(verifyPrivateMapKey(p.PrivateKey, { ...key, roomId: 1 }).ok, false);
    }
  });

  it('refuses 11 users, duplicates, bad ids, a room handed out already, and apps without TRTC', async () => {
    const users = Array.from({ length: 11 }, (_, i) => `u${i}`);
    await assert.rejects(t.server.iot.createSignatures(t.app, 'r-11', users), detail('USER_LIMIT'));
    await assert.rejects(t.server.iot.createSignatures(t.app, 'r-dup', ['a', 'a']), detail('DUPLICATE_USER'));
    await assert.rejects(t.server.iot.createSignatures(t.app, 'r-bad', ['x'.repeat(33)]), detail('USER_ID'));
    await assert.rejects(t.server.iot.createSignatures(t.app, '', ['a']), detail('ROOM_ID'));
    await assert.rejects(t.server.iot.createSignatures(t.app, 'test', ['a']), detail('ROOM_EXISTS'));
    assert.equal((await t.server.iot.createSignatures(t.app, 'r-10', users.slice(0, 10))).length, 10);
    const off = await t.server.apps.update(t.app.sdkAppId, { 'features.trtc': false });
    await assert.rejects(t.server.iot.createSignatures(off, 'r-off', ['a']), detail('TRTC_OFF'));
    await t.server.apps.update(t.app.sdkAppId, { 'features.trtc': true });
  });

  it('dismisses and removes users only in rooms it handed out; a dismissed room id can be used again', async () => {
    await t.server.trtcRooms.enter(t.app.sdkAppId, { strRoomId: 'test' }, 'test1');
    await t.server.trtcRooms.enter(t.app.sdkAppId, { strRoomId: 'test' }, 'test2');
    await t.server.iot.removeUsers(t.app, 'test', ['test2']);
    assert.deepEqual(t.server.trtcRooms.members(t.app.sdkAppId, { strRoomId: 'test' }).map((m) => m.userId), ['test1']);
    await t.server.iot.dismiss(t.app, 'test');
    assert.equal(t.server.trtcRooms.exists(t.app.sdkAppId, { strRoomId: 'test' }), false);
    await assert.rejects(t.server.iot.dismiss(t.app, 'test'), detail('NOT_IOT_ROOM'));
    await assert.rejects(t.server.iot.removeUsers(t.app, 'never', ['a']), detail('NOT_IOT_ROOM'));
    assert.equal((await t.server.iot.createSignatures(t.app, 'test', ['test1'])).length, 1);
  });
});
