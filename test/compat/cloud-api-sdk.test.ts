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

function trtcClient(region = 'ap-guangzhou') {
  return new trtc.v20190722.Client({
    credential: t.app.cloudApi,
    region,
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
    await t.server.apps.update(t.app.sdkAppId, { 'features.trtc': false });
    assert.equal(await code(c.CreateTRTCSignaturesWithRoomId({ TRTCUserIds: ['a'], RoomId: 'roff' })), 'UnsupportedOperation.TRTCServiceNotOpen');
    await t.server.apps.update(t.app.sdkAppId, { 'features.trtc': true });
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

describe('TRTC actions as the current pages describe them', () => {
  // https://www.tencentcloud.com/document/api/647/39096 (DescribeUserInfo) and the SDK's UserInformation.LeaveTs:
  // "用户退房时间，用户没有退房则返回当前时间" — a user still in the room has LeaveTs = now, Finished false.
  it('DescribeUserInfo gives a user still in the room the current time as LeaveTs', async () => {
    const c = trtcClient();
    const id = t.app.sdkAppId;
    await t.server.trtcRooms.enter(id, { roomId: 4500 }, 'stay');
    const now = Math.floor(Date.now() / 1000);
    const rooms = await c.DescribeRoomInfo({ SdkAppId: id, StartTime: now - 60, EndTime: now + 60, RoomId: '4500' });
    const r = rooms.RoomList![0]!;
    assert.equal(r.IsFinished, false);
    const users = await c.DescribeUserInfo({ CommId: r.CommId!, SdkAppId: id, StartTime: now - 60, EndTime: now + 60 });
    const u = users.UserList![0]!;
    assert.equal(u.Finished, false);
    assert.ok(u.LeaveTs! >= now && u.LeaveTs! <= Math.floor(Date.now() / 1000), `LeaveTs ${u.LeaveTs} is the current time`);
    assert.ok(u.LeaveTs! >= u.JoinTs!);
    await t.server.trtcRooms.leave(id, { roomId: 4500 }, 'stay');
  });

  // https://www.tencentcloud.com/document/api/647/36754 (DescribeRoomInfo) and /39096 (DescribeUserInfo): "If PageNumber
  // or PageSize is not specified, 10 (6) records are returned by default" — either one alone is not enough.
  it('DescribeRoomInfo and DescribeUserInfo use the default page unless both PageNumber and PageSize are given', async () => {
    const c = trtcClient();
    const id = t.app.sdkAppId;
    for (const u of ['p1', 'p2', 'p3']) await t.server.trtcRooms.enter(id, { roomId: 4501 }, u);
    await t.server.trtcRooms.enter(id, { roomId: 4502 }, 'p1');
    const now = Math.floor(Date.now() / 1000);
    const span = { SdkAppId: id, StartTime: now - 3600, EndTime: now + 60 };
    const all = await c.DescribeRoomInfo(span);
    assert.ok(all.RoomList!.length >= 2);
    assert.equal((await c.DescribeRoomInfo({ ...span, PageSize: 1 })).RoomList!.length, Math.min(all.Total!, 10));
    assert.equal((await c.DescribeRoomInfo({ ...span, PageSize: 1, PageNumber: 1 })).RoomList!.length, 1);
    const commId = (await c.DescribeRoomInfo({ ...span, RoomId: '4501' })).RoomList![0]!.CommId!;
    const users = { CommId: commId, SdkAppId: id, StartTime: now - 60, EndTime: now + 60 };
    assert.equal((await c.DescribeUserInfo({ ...users, PageSize: 1 })).UserList!.length, 3);
    assert.equal((await c.DescribeUserInfo({ ...users, PageNumber: 2 })).UserList!.length, 3);
    assert.deepEqual((await c.DescribeUserInfo({ ...users, PageSize: 1, PageNumber: 2 })).UserList!.map((u) => u.UserId), ['p3']);
    assert.equal(await code(c.DescribeUserInfo({ ...users, PageSize: 101 })), 'InvalidParameter.PageSizeOversize');
    for (const u of ['p1', 'p2', 'p3']) await t.server.trtcRooms.leave(id, { roomId: 4501 }, u);
    await t.server.trtcRooms.leave(id, { roomId: 4502 }, 'p1');
  });

  // Region lists of the pages: room management "This API only supports: ap-beijing, ap-guangzhou, ap-singapore"
  // (https://www.tencentcloud.com/document/product/647/34268, /39630, /51289, /51288); history "ap-beijing, ap-guangzhou,
  // ap-mumbai, ap-singapore, na-toronto" (https://www.tencentcloud.com/document/api/647/36754, /39096).
  it('accepts each action only in the regions its page lists', async () => {
    const id = t.app.sdkAppId;
    const now = Math.floor(Date.now() / 1000);
    const span = { SdkAppId: id, StartTime: now - 60, EndTime: now };
    for (const region of ['ap-beijing', 'ap-guangzhou', 'ap-singapore']) {
      assert.equal(await code(trtcClient(region).DismissRoom({ SdkAppId: id, RoomId: 4599 })), 'FailedOperation.RoomNotExist', region);
    }
    for (const region of ['ap-shanghai', 'ap-mumbai', 'na-toronto', 'eu-frankfurt']) {
      const c = trtcClient(region);
      assert.equal(await code(c.DismissRoom({ SdkAppId: id, RoomId: 4599 })), 'UnsupportedRegion', region);
      assert.equal(await code(c.DismissRoomByStrRoomId({ SdkAppId: id, RoomId: 's4599' })), 'UnsupportedRegion', region);
      assert.equal(await code(c.RemoveUser({ SdkAppId: id, RoomId: 4599, UserIds: ['a'] })), 'UnsupportedRegion', region);
      assert.equal(await code(c.RemoveUserByStrRoomId({ SdkAppId: id, RoomId: 's4599', UserIds: ['a'] })), 'UnsupportedRegion', region);
      assert.equal(await code(c.request('SetUserBlocked', { SdkAppId: id, RoomId: 4599, UserId: 'a', IsMute: 1 })), 'UnsupportedRegion', region);
      assert.equal(await code(c.request('SetUserBlockedByStrRoomId', { SdkAppId: id, StrRoomId: 's4599', UserId: 'a', IsMute: 1 })), 'UnsupportedRegion', region);
    }
    for (const region of ['ap-beijing', 'ap-guangzhou', 'ap-mumbai', 'ap-singapore', 'na-toronto']) {
      assert.equal(await code(trtcClient(region).DescribeRoomInfo(span)), 'OK', region);
    }
    for (const region of ['ap-shanghai', 'eu-frankfurt']) {
      assert.equal(await code(trtcClient(region).DescribeRoomInfo(span)), 'UnsupportedRegion', region);
      assert.equal(await code(trtcClient(region).DescribeUserInfo({ ...span, CommId: `${id}_1_1` })), 'UnsupportedRegion', region);
    }
  });
});

describe('TRTC SetUserBlocked and SetUserBlockedByStrRoomId through the official SDK', () => {
  // tencentcloud-sdk-nodejs 4.1.313 (the Chinese site's SDK) has no method for these two actions; its generic
  // `request(action, params)` signs and sends them the same way the international SDK's methods do.
  const block = (c: ReturnType<typeof trtcClient>, action: 'SetUserBlocked' | 'SetUserBlockedByStrRoomId', params: Record<string, unknown>) =>
    c.request(action, params) as Promise<{ RequestId?: string }>;

  it('sets and lifts the block of a user in a numeric or string room: IsMute 0 none, 1 audio and video, 2 audio, 3 video', async () => {
    const c = trtcClient();
    const id = t.app.sdkAppId;
    const rooms = t.server.trtcRooms;
    await rooms.enter(id, { roomId: 4400 }, 'bl1');
    await rooms.enter(id, { strRoomId: 'bl-s' }, 'bl2');
    const res = await block(c, 'SetUserBlocked', { SdkAppId: id, RoomId: 4400, UserId: 'bl1', IsMute: 1 });
    assert.deepEqual(Object.keys(res), ['RequestId']);
    assert.match(res.RequestId ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(rooms.blocked(id, { roomId: 4400 }, 'bl1'), { audio: true, video: true });
    await block(c, 'SetUserBlocked', { SdkAppId: id, RoomId: 4400, UserId: 'bl1', IsMute: 2 });
    assert.deepEqual(rooms.blocked(id, { roomId: 4400 }, 'bl1'), { audio: true, video: false });
    await block(c, 'SetUserBlocked', { SdkAppId: id, RoomId: 4400, UserId: 'bl1', IsMute: 3 });
    assert.deepEqual(rooms.blocked(id, { roomId: 4400 }, 'bl1'), { audio: false, video: true });
    await block(c, 'SetUserBlocked', { SdkAppId: id, RoomId: 4400, UserId: 'bl1', IsMute: 0 });
    assert.deepEqual(rooms.blocked(id, { roomId: 4400 }, 'bl1'), { audio: false, video: false });
    // Unblocking someone not blocked is no error.
    assert.equal(await code(block(c, 'SetUserBlocked', { SdkAppId: id, RoomId: 4400, UserId: 'bl1', IsMute: 0 })), 'OK');

    assert.equal(await code(block(c, 'SetUserBlockedByStrRoomId', { SdkAppId: id, StrRoomId: 'bl-s', UserId: 'bl2', IsMute: 1 })), 'OK');
    assert.deepEqual(rooms.blocked(id, { strRoomId: 'bl-s' }, 'bl2'), { audio: true, video: true });
    // The numeric room with the same digits is another room.
    assert.deepEqual(rooms.blocked(id, { roomId: 4400 }, 'bl2'), { audio: false, video: false });

    // The block belongs to the room: it holds while the user is out and back, and can be lifted meanwhile.
    await rooms.enter(id, { strRoomId: 'bl-s' }, 'bl3');
    await rooms.leave(id, { strRoomId: 'bl-s' }, 'bl2');
    await rooms.enter(id, { strRoomId: 'bl-s' }, 'bl2');
    assert.deepEqual(rooms.blocked(id, { strRoomId: 'bl-s' }, 'bl2'), { audio: true, video: true });
    await rooms.leave(id, { strRoomId: 'bl-s' }, 'bl2');
    assert.equal(await code(block(c, 'SetUserBlockedByStrRoomId', { SdkAppId: id, StrRoomId: 'bl-s', UserId: 'bl2', IsMute: 0 })), 'OK');
    // Lifted and gone: the user is now unknown to the room.
    assert.equal(await code(block(c, 'SetUserBlockedByStrRoomId', { SdkAppId: id, StrRoomId: 'bl-s', UserId: 'bl2', IsMute: 1 })), 'FailedOperation.UserNotExist');
    // It ends with the room.
    await block(c, 'SetUserBlockedByStrRoomId', { SdkAppId: id, StrRoomId: 'bl-s', UserId: 'bl3', IsMute: 1 });
    await rooms.leave(id, { strRoomId: 'bl-s' }, 'bl3');
    await rooms.enter(id, { strRoomId: 'bl-s' }, 'bl3');
    assert.deepEqual(rooms.blocked(id, { strRoomId: 'bl-s' }, 'bl3'), { audio: false, video: false });
    await rooms.leave(id, { strRoomId: 'bl-s' }, 'bl3');
    await rooms.leave(id, { roomId: 4400 }, 'bl1');
  });

  it('refuses missing and wrong-typed fields, bad values, unknown rooms and users, another app and bad credentials', async () => {
    const c = trtcClient();
    const id = t.app.sdkAppId;
    await t.server.trtcRooms.enter(id, { roomId: 4401 }, 'in');
    await t.server.trtcRooms.enter(id, { strRoomId: 's4401' }, 'in');
    const ok = { SdkAppId: id, RoomId: 4401, UserId: 'in', IsMute: 1 };
    const okStr = { SdkAppId: id, StrRoomId: 's4401', UserId: 'in', IsMute: 1 };
    const cases: Array<[string, 'SetUserBlocked' | 'SetUserBlockedByStrRoomId', Record<string, unknown>, string]> = [
      ['no UserId', 'SetUserBlocked', { SdkAppId: id, RoomId: 4401, IsMute: 1 }, 'MissingParameter'],
      ['no IsMute', 'SetUserBlocked', { SdkAppId: id, RoomId: 4401, UserId: 'in' }, 'MissingParameter'],
      ['no SdkAppId', 'SetUserBlockedByStrRoomId', { StrRoomId: 's4401', UserId: 'in', IsMute: 1 }, 'MissingParameter'],
      ['no StrRoomId', 'SetUserBlockedByStrRoomId', { SdkAppId: id, UserId: 'in', IsMute: 1 }, 'MissingParameter'],
      ['RoomId on the string form', 'SetUserBlockedByStrRoomId', { ...okStr, RoomId: 's4401' }, 'UnknownParameter'],
      ['RoomId a string', 'SetUserBlocked', { ...ok, RoomId: '4401' }, 'InvalidParameter'],
      ['StrRoomId a number', 'SetUserBlockedByStrRoomId', { ...okStr, StrRoomId: 4401 }, 'InvalidParameter'],
      ['UserId a number', 'SetUserBlocked', { ...ok, UserId: 7 }, 'InvalidParameter'],
      ['IsMute a string', 'SetUserBlocked', { ...ok, IsMute: '1' }, 'InvalidParameter'],
      ['IsMute a boolean', 'SetUserBlockedByStrRoomId', { ...okStr, IsMute: true }, 'InvalidParameter'],
      ['IsMute 4', 'SetUserBlocked', { ...ok, IsMute: 4 }, 'InvalidParameterValue'],
      ['IsMute -1', 'SetUserBlockedByStrRoomId', { ...okStr, IsMute: -1 }, 'InvalidParameterValue'],
      ['UserId empty', 'SetUserBlocked', { ...ok, UserId: '' }, 'InvalidParameter.UserId'],
      ['UserId of 33 bytes', 'SetUserBlockedByStrRoomId', { ...okStr, UserId: 'x'.repeat(33) }, 'InvalidParameter.UserId'],
      ['RoomId 0', 'SetUserBlocked', { ...ok, RoomId: 0 }, 'InvalidParameter.RoomId'],
      ['RoomId 4294967295', 'SetUserBlocked', { ...ok, RoomId: 4294967295 }, 'InvalidParameter.RoomId'],
      ['StrRoomId empty', 'SetUserBlockedByStrRoomId', { ...okStr, StrRoomId: '' }, 'InvalidParameter.RoomId'],
      ['StrRoomId of 65 bytes', 'SetUserBlockedByStrRoomId', { ...okStr, StrRoomId: 'r'.repeat(65) }, 'InvalidParameter.RoomId'],
      ['a room nobody is in', 'SetUserBlocked', { ...ok, RoomId: 4402 }, 'FailedOperation.RoomNotExist'],
      ['a string room nobody is in', 'SetUserBlockedByStrRoomId', { ...okStr, StrRoomId: '4401' }, 'FailedOperation.RoomNotExist'],
      ['a user not in the room', 'SetUserBlocked', { ...ok, UserId: 'out' }, 'FailedOperation.UserNotExist'],
      ['another SdkAppId', 'SetUserBlocked', { ...ok, SdkAppId: id + 1 }, 'UnauthorizedOperation.SdkAppId'],
    ];
    for (const [what, action, params, expected] of cases) assert.equal(await code(block(c, action, params)), expected, what);
    assert.deepEqual(t.server.trtcRooms.blocked(id, { roomId: 4401 }, 'in'), { audio: false, video: false }, 'nothing refused was applied');

    // Another tenant: its own Cloud API key cannot touch this app's rooms, and its own SdkAppId does not reach them.
    const other = await t.server.apps.create();
    const theirs = new trtc.v20190722.Client({
      credential: other.cloudApi,
      region: 'ap-guangzhou',
      profile: { httpProfile: { endpoint: `trtc.tencentcloudapi.com:${port}`, protocol: 'http://', reqTimeout: 10, agent: loopback } },
    });
    assert.equal(await code(block(theirs, 'SetUserBlocked', ok)), 'UnauthorizedOperation.SdkAppId');
    assert.equal(await code(block(theirs, 'SetUserBlocked', { ...ok, SdkAppId: other.sdkAppId })), 'FailedOperation.RoomNotExist');

    // Unauthenticated: a wrong SecretKey, an unknown SecretId, no signature at all.
    const wrongKey = new trtc.v20190722.Client({
      credential: { secretId: t.app.cloudApi.secretId, secretKey: 'x'.repeat(32) },
      region: 'ap-guangzhou',
      profile: { httpProfile: { endpoint: `trtc.tencentcloudapi.com:${port}`, protocol: 'http://', reqTimeout: 10, agent: loopback } },
    });
    assert.equal(await code(block(wrongKey, 'SetUserBlocked', ok)), 'AuthFailure.SignatureFailure');
    const unknownId = new trtc.v20190722.Client({
      credential: { secretId: `AKID${'0'.repeat(32)}`, secretKey: t.app.cloudApi.secretKey },
      region: 'ap-guangzhou',
      profile: { httpProfile: { endpoint: `trtc.tencentcloudapi.com:${port}`, protocol: 'http://', reqTimeout: 10, agent: loopback } },
    });
    assert.equal(await code(block(unknownId, 'SetUserBlockedByStrRoomId', okStr)), 'AuthFailure.SecretIdNotFound');
    const unsigned = await fetch(`${t.server.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tc-action': 'SetUserBlocked', 'x-tc-version': '2019-07-22', 'x-tc-timestamp': String(Math.floor(Date.now() / 1000)) },
      body: JSON.stringify(ok),
    });
    const env = (await unsigned.json()) as { Response: { Error: { Code: string } } };
    assert.equal(env.Response.Error.Code, 'AuthFailure.InvalidAuthorization');
    assert.deepEqual(t.server.trtcRooms.blocked(id, { roomId: 4401 }, 'in'), { audio: false, video: false });
  });
});
