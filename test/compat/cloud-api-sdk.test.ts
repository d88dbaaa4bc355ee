import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { iotexplorer } from 'tencentcloud-sdk-nodejs/tencentcloud/services/iotexplorer/index.js';
import { trtc } from 'tencentcloud-sdk-nodejs/tencentcloud/services/trtc/index.js';
import { verifyPrivateMapKey } from '../../src/auth/private-map-key.ts';
import { verifyUserSig } from '../../src/auth/usersig.ts';
import { loopbackAgent } from '../helpers/cloud-api.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
let port: string;
before(async () => {
  for (const k of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY']) delete process.env[k];
  t = await startTestServer();
  port = new URL(t.server.url).port;
});
after(() => t.close());

const loopback = loopbackAgent();

type Endpoint = 'ip' | 'product';
function iot(opts: { endpoint?: Endpoint; secretKey?: string; secretId?: string; region?: string; signMethod?: string } = {}) {
  const product = opts.endpoint === 'product';
  return new iotexplorer.v20190423.Client({
    credential: { secretId: opts.secretId ?? t.app.cloudApi.secretId, secretKey: opts.secretKey ?? t.app.cloudApi.secretKey },
    region: opts.region ?? 'ap-guangzhou',
    profile: {
      ...(opts.signMethod ? { signMethod: opts.signMethod as 'HmacSHA256' } : {}),
      httpProfile: { endpoint: product ? `iotexplorer.tencentcloudapi.com:${port}` : `127.0.0.1:${port}`, protocol: 'http://', reqTimeout: 10, ...(product ? { agent: loopback } : {}) },
    },
  });
}

function trtcClient() {
  return new trtc.v20190722.Client({
    credential: t.app.cloudApi,
    region: 'ap-guangzhou',
    profile: { httpProfile: { endpoint: `trtc.tencentcloudapi.com:${port}`, protocol: 'http://', reqTimeout: 10, agent: loopback } },
  });
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return (e as { code?: string }).code ?? `no code: ${(e as Error).message}`;
  }
}

describe('IoT Explorer CreateTRTCSignaturesWithRoomId through the official SDK', () => {
  for (const endpoint of ['ip', 'product'] as const) {
    it(`answers the documented input example (${endpoint} endpoint) with a TRTCParamList whose keys verify`, async () => {
      const room = `test-${endpoint}`;
      const res = await iot({ endpoint }).CreateTRTCSignaturesWithRoomId({ TRTCUserIds: ['test1'], RoomId: room });
      assert.match(res.RequestId ?? '', /^[0-9a-f-]{36}$/);
      assert.equal(res.TRTCParamList?.length, 1);
      const p = res.TRTCParamList![0]!;
      assert.deepEqual(Object.keys(p), ['SdkAppId', 'UserId', 'UserSig', 'StrRoomId', 'PrivateKey']);
      assert.deepEqual([p.SdkAppId, p.UserId, p.StrRoomId], [t.app.sdkAppId, 'test1', room]);
      const key = { sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId: 'test1' };
      assert.ok(verifyUserSig(p.UserSig!, key).ok);
      assert.ok(verifyPrivateMapKey(p.PrivateKey!, { ...key, strRoomId: room, privilege: 2 }).ok);
      assert.equal(verifyPrivateMapKey(p.PrivateKey!, { ...key, strRoomId: 'elsewhere' }).ok, false);
    });
  }

  it('signs with v1 HmacSHA256 and HmacSHA1 too', async () => {
    assert.equal(await code(iot({ signMethod: 'HmacSHA256' }).CreateTRTCSignaturesWithRoomId({ TRTCUserIds: ['a'], RoomId: 'v1-256' })), 'OK');
    assert.equal(await code(iot({ signMethod: 'HmacSHA1' }).CreateTRTCSignaturesWithRoomId({ TRTCUserIds: ['a', 'b'], RoomId: 'v1-1' })), 'OK');
  });

  it('refuses eleven users, a duplicate user, an existing room, a wrong key, a stale timestamp, a region and an app without TRTC', async () => {
    const c = iot();
    const eleven = Array.from({ length: 11 }, (_, i) => `u${i}`);
    assert.equal(await code(c.CreateTRTCSignaturesWithRoomId({ TRTCUserIds: eleven, RoomId: 'r11' })), 'InvalidParameter.UserIdOverLimit');
    assert.match(await code(c.CreateTRTCSignaturesWithRoomId({ TRTCUserIds: ['a', 'a'], RoomId: 'rdup' })), /^InvalidParameter/);
    assert.equal(await code(c.CreateTRTCSignaturesWithRoomId({ TRTCUserIds: ['a'], RoomId: 'test-ip' })), 'InvalidParameter.RoomIdExist');
    assert.equal(await code(iot({ secretKey: 'x'.repeat(32) }).CreateTRTCSignaturesWithRoomId({ TRTCUserIds: ['a'], RoomId: 'rk' })), 'AuthFailure.SignatureFailure');
    assert.equal(await code(iot({ secretId: `AKID${'0'.repeat(32)}` }).CreateTRTCSignaturesWithRoomId({ TRTCUserIds: ['a'], RoomId: 'rk' })), 'AuthFailure.SecretIdNotFound');
    // The SDK stamps its request with new Date().getTime(); the server reads Date.now(): age only the client's clock.
    const getTime = Date.prototype.getTime;
    Date.prototype.getTime = function (this: Date) {
      return getTime.call(this) - 600_000;
    };
    try {
      assert.equal(await code(c.CreateTRTCSignaturesWithRoomId({ TRTCUserIds: ['a'], RoomId: 'rstale' })), 'AuthFailure.SignatureExpire');
    } finally {
      Date.prototype.getTime = getTime;
    }
    assert.equal(await code(iot({ region: 'ap-tokyo' }).CreateTRTCSignaturesWithRoomId({ TRTCUserIds: ['a'], RoomId: 'rr' })), 'UnsupportedRegion');
    assert.equal(await code(c.CreateTRTCSignaturesWithRoomId({ TRTCUserIds: ['a'] } as never)), 'MissingParameter');
    await t.server.apps.update(t.app.sdkAppId, [['features.trtc', 'false']]);
    assert.equal(await code(c.CreateTRTCSignaturesWithRoomId({ TRTCUserIds: ['a'], RoomId: 'roff' })), 'UnsupportedOperation.TRTCServiceNotOpen');
    await t.server.apps.update(t.app.sdkAppId, [['features.trtc', 'true']]);
  });

  it('removes users from and dismisses the rooms it handed out', async () => {
    const c = iot();
    await c.CreateTRTCSignaturesWithRoomId({ TRTCUserIds: ['d1', 'd2'], RoomId: 'iot-room' });
    await t.server.trtcRooms.enter(t.app.sdkAppId, { strRoomId: 'iot-room' }, 'd1');
    await t.server.trtcRooms.enter(t.app.sdkAppId, { strRoomId: 'iot-room' }, 'd2');
    assert.equal(await code(c.RemoveUserByRoomIdFromTRTC({ RoomId: 'iot-room', TRTCUserIds: ['d2'] })), 'OK');
    assert.deepEqual(t.server.trtcRooms.members(t.app.sdkAppId, { strRoomId: 'iot-room' }).map((m) => m.userId), ['d1']);
    assert.equal(await code(c.DismissRoomByStrRoomIdFromTRTC({ RoomId: 'iot-room' })), 'OK');
    assert.equal(t.server.trtcRooms.exists(t.app.sdkAppId, { strRoomId: 'iot-room' }), false);
    assert.equal(await code(c.DismissRoomByStrRoomIdFromTRTC({ RoomId: 'iot-room' })), 'UnauthorizedOperation.NoPermissionToTRTCRoom');
  });

  it('limits CreateTRTCSignaturesWithRoomId to 20 requests per second per app', async () => {
    // Start well past any window the earlier tests opened.
    mock.timers.enable({ apis: ['Date', 'setTimeout'], now: Date.now() + 60_000 });
    try {
      const c = iot();
      const codes = await Promise.all(Array.from({ length: 25 }, (_, i) => code(c.CreateTRTCSignaturesWithRoomId({ TRTCUserIds: ['a'], RoomId: `rl-${i}` }))));
      assert.equal(codes.filter((x) => x === 'OK').length, 20);
      assert.equal(codes.filter((x) => x === 'RequestLimitExceeded').length, 5);
    } finally {
      mock.timers.reset();
    }
  });
});

describe('TRTC room management through the official SDK', () => {
  it('DismissRoom, RemoveUser and their string-room forms act on the rooms clients are in', async () => {
    const c = trtcClient();
    const id = t.app.sdkAppId;
    await t.server.trtcRooms.enter(id, { roomId: 4321 }, 'x1');
    await t.server.trtcRooms.enter(id, { roomId: 4321 }, 'x2');
    await t.server.trtcRooms.enter(id, { strRoomId: 'srt' }, 'y1');
    assert.equal(await code(c.RemoveUser({ SdkAppId: id, RoomId: 4321, UserIds: ['x2'] })), 'OK');
    assert.deepEqual(t.server.trtcRooms.members(id, { roomId: 4321 }).map((m) => m.userId), ['x1']);
    assert.equal(await code(c.DismissRoom({ SdkAppId: id, RoomId: 4321 })), 'OK');
    assert.equal(await code(c.DismissRoom({ SdkAppId: id, RoomId: 4321 })), 'FailedOperation.RoomNotExist');
    assert.equal(await code(c.RemoveUserByStrRoomId({ SdkAppId: id, RoomId: 'srt', UserIds: ['y1'] })), 'OK');
    assert.equal(await code(c.DismissRoomByStrRoomId({ SdkAppId: id, RoomId: 'srt' })), 'FailedOperation.RoomNotExist');
    assert.equal(await code(c.DismissRoom({ SdkAppId: id + 1, RoomId: 1 })), 'UnauthorizedOperation.SdkAppId');
    assert.equal(await code(c.RemoveUser({ SdkAppId: id, RoomId: 1, UserIds: Array.from({ length: 11 }, (_, i) => `u${i}`) })), 'InvalidParameter.UserIds');
  });

  it('DescribeRoomInfo and DescribeUserInfo read the room history', async () => {
    const c = trtcClient();
    const id = t.app.sdkAppId;
    const now = Math.floor(Date.now() / 1000);
    const rooms = await c.DescribeRoomInfo({ SdkAppId: id, StartTime: now - 3600, EndTime: now + 60, RoomId: '4321' });
    assert.equal(rooms.Total, 1);
    const r = rooms.RoomList![0]!;
    assert.equal(r.RoomString, '4321');
    assert.equal(r.UserId, 'x1');
    assert.equal(r.IsFinished, true);
    const users = await c.DescribeUserInfo({ CommId: r.CommId!, SdkAppId: id, StartTime: now - 3600, EndTime: now + 60 });
    assert.deepEqual(users.UserList!.map((u) => [u.UserId, u.Finished]), [['x1', true], ['x2', true]]);
    assert.equal(await code(c.DescribeRoomInfo({ SdkAppId: id, StartTime: now - 20 * 86400, EndTime: now - 20 * 86400 + 60 })), 'InvalidParameter.StartTsOversize');
    assert.equal(await code(c.DescribeRoomInfo({ SdkAppId: id, StartTime: now - 2 * 86400, EndTime: now })), 'InvalidParameter.QueryScaleOversize');
    assert.equal(await code(c.DescribeUserInfo({ CommId: r.CommId!, SdkAppId: id, StartTime: now - 5 * 3600, EndTime: now })), 'InvalidParameter.QueryScaleOversize');
    assert.equal(await code(c.DescribeUserInfo({ CommId: r.CommId!, SdkAppId: id, StartTime: now - 60, EndTime: now, UserIds: ['1', '2', '3', '4', '5', '6', '7'] })), 'InvalidParameter.UserIdsMorethanSix');
  });
});
