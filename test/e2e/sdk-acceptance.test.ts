// Issue acceptance for the real-time plane, driven by the TypeScript client SDK (web/sdk) against a real server:
// a 1-to-1 call with its record and callbacks, PrivateMapKey and UserSig refusals, and RemoveUser through the
// official Cloud API SDK.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { genPrivateMapKey, Privilege } from '../../src/auth/private-map-key.ts';
import { genUserSig } from '../../src/auth/usersig.ts';
import { TrtcdClient, TrtcdError, type TrtcdEvents } from '../../web/sdk/index.ts';
import { trtcCloudClient } from '../helpers/cloud-api.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('real-time plane acceptance (client SDK)', () => {
  let t: TestServer;
  let rx: Receiver;
  const clients: TrtcdClient[] = [];
  const sig = (userId: string, expire = 3600, now?: number) => genUserSig({ sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId, expire, now });
  const client = (userId: string, userSig = sig(userId)) => {
    const c = new TrtcdClient({ url: `${t.server.url.replace('http', 'ws')}/rtc`, sdkAppId: t.app.sdkAppId, userId, userSig, WebSocket: WebSocket as never, reconnect: false });
    clients.push(c);
    return c;
  };
  const next = <K extends keyof TrtcdEvents>(c: TrtcdClient, name: K, pred: (e: TrtcdEvents[K]) => boolean = () => true) =>
    new Promise<TrtcdEvents[K]>((resolve) => {
      const off = c.on(name, (e) => {
        if (!pred(e)) return;
        off();
        resolve(e);
      });
    });
  const code = async (p: Promise<unknown>) => {
    try {
      await p;
      return 0;
    } catch (e) {
      assert.ok(e instanceof TrtcdError, String(e));
      return e.code;
    }
  };

  before(async () => {
    rx = await startReceiver();
    t = await startTestServer();
    await t.server.apps.update(t.app.sdkAppId, { 'callback.url': rx.url, rateLimits: 'off' });
  });
  after(async () => {
    for (const c of clients) c.close();
    await t.close();
    await rx.close();
  });

  it('A calls B, B accepts, get_call_info shows both Calling, A hangs up: NormalEnd and the Call.* callbacks in order', async () => {
    const a = client('sdk-alice');
    const b = client('sdk-bob');
    await a.connect();
    await b.connect();
    const invited = next(b, 'call.invited');
    const { call } = await a.startCall({ callees: ['sdk-bob'], mediaType: 'Audio' });
    assert.equal((await invited).call.callId, call.callId);
    const accepted = await b.acceptCall(call.callId);
    assert.deepEqual(accepted.call.members.map((m) => m.status), ['Calling', 'Calling']);
    const info = await t.rest('call_engine_http_srv/get_call_info', { CallId: call.callId });
    assert.deepEqual((info.Response as Record<string, unknown>).UserList, [
      { User_Account: 'sdk-alice', Status: 'Calling' },
      { User_Account: 'sdk-bob', Status: 'Calling' },
    ]);
    const bSeesEnd = next(b, 'call.updated', (e) => e.ended);
    const hung = await a.hangup(call.callId);
    assert.equal(hung.call.result, 'NormalEnd');
    assert.equal((await bSeesEnd).call.result, 'NormalEnd');
    const record = await t.rest('call_record_http_srv/get_record_by_callid', { CallId: call.callId });
    assert.equal(((record.Response as Record<string, unknown>).CallRecord as Record<string, unknown>).CallResult, 'NormalEnd');
    const got = await rx.waitDelivered(4);
    assert.deepEqual(
      got.map((r) => r.body.CallbackCommand),
      ['Call.CallbackAfterStartCall', 'Call.CallbackAfterMemberChanged', 'Call.CallbackAfterMemberChanged', 'Call.CallbackAfterEndCall'],
    );
    assert.deepEqual(got.map((r) => (r.body.ChangedUserList as unknown[] | undefined)?.length ?? 0), [0, 1, 1, 0]);
    assert.equal(((got[3]!.body.CallRecord as Record<string, unknown>).CallResult), 'NormalEnd');
  });

  it('PrivateMapKey for room 1 does not enter room 2; no enter bit, no entry; an expired UserSig is refused', async () => {
    const u = client('sdk-keyed');
    await u.connect();
    const key = (roomId: number, privilegeMap: number) => genPrivateMapKey({ sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId: 'sdk-keyed', roomId, expire: 3600, privilegeMap });
    assert.equal(await code(u.enterRoom({ roomId: 2 }, { privateMapKey: key(1, Privilege.All) })), -100006);
    assert.equal(await code(u.enterRoom({ roomId: 1 }, { privateMapKey: key(1, Privilege.All & ~Privilege.EnterRoom) })), -100006);
    assert.equal(await code(u.enterRoom({ roomId: 1 }, { privateMapKey: key(1, Privilege.All) })), 0);
    const expired = client('sdk-expired', sig('sdk-expired', 10, Math.floor(Date.now() / 1000) - 100));
    assert.equal(await code(expired.connect()), 70001);
  });

  it('RemoveUser (official Cloud API SDK) takes the user out of the room within 1 s', async () => {
    const cloud = trtcCloudClient(t.server.url, t.app.cloudApi);
    const host = client('sdk-host');
    const guest = client('sdk-guest');
    await host.connect();
    await guest.connect();
    await host.enterRoom({ roomId: 4242 });
    await guest.enterRoom({ roomId: 4242 });
    const removed = next(guest, 'room.removed');
    const left = next(host, 'room.userLeave');
    const start = Date.now();
    await cloud.RemoveUser({ SdkAppId: t.app.sdkAppId, RoomId: 4242, UserIds: ['sdk-guest'] });
    assert.deepEqual((await removed).room, { roomId: 4242 });
    assert.equal((await left).userId, 'sdk-guest');
    assert.ok(Date.now() - start < 1000);
    assert.equal(await code(guest.sendRoomMessage({ roomId: 4242 }, 'still here?')), 40400);
  });
});
