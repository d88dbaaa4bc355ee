import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';
import { CALLEE_BUSY_RESULT_CODE, MAX_CALLEES, MAX_USER_DATA_BYTES } from './calls.ts';
import { concurrentCodes, ENVELOPE, expectCodeAndInfo, freezeClock, importAccounts, withFreshServer } from './testkit.ts';

const GET_CALL_INFO = 'call_engine_http_srv/get_call_info';
const END_CALL = 'call_engine_http_srv/end_call';
const START = 'call_engine_http_srv/start_call_by_robot';
const RECORD = 'call_record_http_srv/get_record_by_callid';
const FILTER = 'call_record_http_srv/get_record_by_filter';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The documented start_call_by_robot sample body (https://trtc.io/document/74505). */
const SAMPLE = {
  Robot_Account: 'user1',
  CalleeList_Account: ['user5'],
  Timeout: 300000,
  UserData: 'userdata-12345687',
  CallInfo: { MediaType: 'Audio', RoomIdType: 2, RoomId: 'roomid-1234' },
};

interface CallRecord {
  CallId: string;
  Caller_Account: string;
  MediaType: string;
  CallType: string;
  StartTime: number;
  EndTime: number;
  AcceptTime: number;
  CallResult: string;
  CalleeList_Account: string[];
  RoomId: string;
  RoomIdType: number;
}

/** Asserts a 101002 whose ErrorInfo mentions `field`. */
async function expectInvalid(s: TestServer, command: string, body: unknown, field: RegExp): Promise<void> {
  const env = await s.rest(command, body);
  const what = `${command} ${JSON.stringify(body)}`;
  expectCodeAndInfo(env, 101002, what);
  assert.match(String(env.ErrorInfo), field, `${what}: ErrorInfo ${String(env.ErrorInfo)}`);
}

async function startCall(s: TestServer, body: Record<string, unknown>): Promise<{ callId: string; result: Array<{ Callee_Account: string; ResultCode: number }> }> {
  const env = expectCodeAndInfo(await s.rest(START, body), 0, JSON.stringify(body));
  const r = env.Response as { CallId: string; CallResult: Array<{ Callee_Account: string; ResultCode: number }> };
  return { callId: r.CallId, result: r.CallResult };
}

async function record(s: TestServer, callId: string): Promise<CallRecord> {
  const env = expectCodeAndInfo(await s.rest(RECORD, { CallId: callId }), 0, `record of ${callId}`);
  return (env.Response as { CallRecord: CallRecord }).CallRecord;
}

function robotCall(robot: string, callees: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { Robot_Account: robot, CalleeList_Account: callees, Timeout: 60000, CallInfo: { MediaType: 'Video' }, ...extra };
}

let t: TestServer;
before(async () => {
  t = await startTestServer();
  await t.server.apps.update(t.app.sdkAppId, { rateLimits: 'off' });
  await importAccounts(t, ['user1', 'user2', 'user3', 'user4', 'user5', 'user6', 'user7', 'user8', 'robot', 'b1', 'b2', 'b3', 'b4']);
});
after(() => t.close());

describe('start_call_by_robot and get_call_info (documented samples)', () => {
  let callId = '';

  it('starts the sample call: a UUID CallId and ResultCode 0 for the callee', async () => {
    const env = expectCodeAndInfo(await t.rest(START, SAMPLE), 0);
    assert.deepEqual(Object.keys(env), [...ENVELOPE, 'Response']);
    const r = env.Response as Record<string, unknown>;
    assert.deepEqual(Object.keys(r), ['CallId', 'CallResult']);
    assert.match(String(r.CallId), UUID_V4);
    assert.deepEqual(r.CallResult, [{ Callee_Account: 'user5', ResultCode: 0 }]);
    callId = String(r.CallId);
  });

  it('accepts the full documented request, OfflinePushInfo included', async () => {
    const { callId, result } = await startCall(t, { ...SAMPLE, CalleeList_Account: ['user8'], OfflinePushInfo: { PushFlag: 0, Title: 'title', Desc: 'desc', Ext: 'ext' } });
    assert.match(callId, UUID_V4);
    assert.deepEqual(result, [{ Callee_Account: 'user8', ResultCode: 0 }]);
    expectCodeAndInfo(await t.rest(END_CALL, { CallId: callId }), 0);
  });

  it('get_call_info returns exactly the documented shape', async () => {
    const env = expectCodeAndInfo(await t.rest(GET_CALL_INFO, { CallId: callId }), 0);
    assert.deepEqual(Object.keys(env), [...ENVELOPE, 'Response']);
    const r = env.Response as { CallInfo: Record<string, unknown>; UserList: Array<Record<string, unknown>> };
    assert.deepEqual(Object.keys(r), ['CallInfo', 'UserList']);
    assert.deepEqual(Object.keys(r.CallInfo), ['CallId', 'MediaType', 'ChatGroupId', 'RoomId', 'RoomIdType']);
    assert.deepEqual(r.CallInfo, { CallId: callId, MediaType: 'Audio', ChatGroupId: '', RoomId: 'roomid-1234', RoomIdType: 2 });
    assert.deepEqual(r.UserList, [
      { User_Account: 'user1', Status: 'Calling' },
      { User_Account: 'user5', Status: 'Waiting' },
    ]);
    for (const u of r.UserList) assert.deepEqual(Object.keys(u), ['User_Account', 'Status']);
  });

  it('has no record while the call is active (101050)', async () => {
    expectCodeAndInfo(await t.rest(RECORD, { CallId: callId }), 101050);
  });

  it('end_call answers the plain envelope; the call is then gone (101004) but recorded as Cancel', async () => {
    const before = Math.floor(Date.now() / 1000);
    const env = expectCodeAndInfo(await t.rest(END_CALL, { CallId: callId }), 0);
    assert.deepEqual(Object.keys(env), ENVELOPE);
    const afterS = Math.floor(Date.now() / 1000);

    const info = expectCodeAndInfo(await t.rest(GET_CALL_INFO, { CallId: callId }), 101004);
    assert.equal(info.Response, undefined);
    expectCodeAndInfo(await t.rest(END_CALL, { CallId: callId }), 101004);

    const recEnv = expectCodeAndInfo(await t.rest(RECORD, { CallId: callId }), 0);
    assert.deepEqual(Object.keys(recEnv), [...ENVELOPE, 'Response']);
    const rec = (recEnv.Response as { CallRecord: CallRecord }).CallRecord;
    assert.deepEqual(Object.keys(rec), ['CallId', 'Caller_Account', 'MediaType', 'CallType', 'StartTime', 'EndTime', 'AcceptTime', 'CallResult', 'CalleeList_Account', 'RoomId', 'RoomIdType']);
    assert.equal(rec.CallId, callId);
    assert.equal(rec.Caller_Account, 'user1');
    assert.equal(rec.MediaType, 'Audio');
    assert.equal(rec.CallType, 'SingleCall');
    assert.equal(rec.CallResult, 'Cancel');
    assert.deepEqual(rec.CalleeList_Account, ['user1', 'user5']);
    assert.equal(rec.AcceptTime, 0);
    assert.equal(rec.RoomId, 'roomid-1234');
    assert.equal(rec.RoomIdType, 2);
    // Seconds, not milliseconds.
    assert.ok(Number.isInteger(rec.StartTime) && Number.isInteger(rec.EndTime));
    assert.ok(rec.StartTime <= rec.EndTime);
    assert.ok(rec.StartTime > 1_600_000_000 && rec.StartTime <= afterS, `StartTime ${rec.StartTime}`);
    assert.ok(rec.EndTime >= before && rec.EndTime <= afterS, `EndTime ${rec.EndTime}`);
  });

  it('get_record_by_callid gives 101050 for an unknown CallId', async () => {
    expectCodeAndInfo(await t.rest(RECORD, { CallId: '00000000-0000-4000-8000-000000000000' }), 101050);
    expectCodeAndInfo(await t.rest(RECORD, { CallId: 'no-such-call' }), 101050);
  });

  it('get_call_info and end_call give 101004 for an unknown CallId', async () => {
    expectCodeAndInfo(await t.rest(GET_CALL_INFO, { CallId: '00000000-0000-4000-8000-000000000000' }), 101004);
    expectCodeAndInfo(await t.rest(END_CALL, { CallId: '00000000-0000-4000-8000-000000000000' }), 101004);
  });
});

describe('call lifecycle through the service', () => {
  it('an accepted call ended by end_call is recorded NormalEnd with AcceptTime', async () => {
    const { callId } = await startCall(t, robotCall('user2', ['user6']));
    const accepted = await t.server.calls.accept(t.app.sdkAppId, callId, 'user6');
    assert.ok(accepted.acceptTime > 0);
    const info = expectCodeAndInfo(await t.rest(GET_CALL_INFO, { CallId: callId }), 0);
    assert.deepEqual((info.Response as { UserList: unknown }).UserList, [
      { User_Account: 'user2', Status: 'Calling' },
      { User_Account: 'user6', Status: 'Calling' },
    ]);
    expectCodeAndInfo(await t.rest(END_CALL, { CallId: callId }), 0);
    const rec = await record(t, callId);
    assert.equal(rec.CallResult, 'NormalEnd');
    assert.equal(rec.AcceptTime, Math.floor(accepted.acceptTime / 1000));
    assert.ok(rec.AcceptTime > 0);
    assert.ok(rec.StartTime <= rec.AcceptTime && rec.AcceptTime <= rec.EndTime);
    assert.equal(rec.MediaType, 'Video');
    assert.equal(rec.RoomId, '');
    assert.equal(rec.RoomIdType, 0);
  });

  it('a call rejected by its only callee is recorded Reject and is no longer active', async () => {
    const { callId } = await startCall(t, robotCall('user2', ['user6']));
    await t.server.calls.reject(t.app.sdkAppId, callId, 'user6');
    expectCodeAndInfo(await t.rest(GET_CALL_INFO, { CallId: callId }), 101004);
    expectCodeAndInfo(await t.rest(END_CALL, { CallId: callId }), 101004);
    assert.equal((await record(t, callId)).CallResult, 'Reject');
  });

  it('a group call (two callees) is MultiCall and lists everyone, caller first', async () => {
    const { callId, result } = await startCall(t, robotCall('user2', ['user6', 'user7'], { CallInfo: { MediaType: 'Audio', RoomId: '12345', RoomIdType: 1 } }));
    assert.deepEqual(result, [
      { Callee_Account: 'user6', ResultCode: 0 },
      { Callee_Account: 'user7', ResultCode: 0 },
    ]);
    const info = expectCodeAndInfo(await t.rest(GET_CALL_INFO, { CallId: callId }), 0);
    assert.deepEqual((info.Response as { CallInfo: Record<string, unknown> }).CallInfo, { CallId: callId, MediaType: 'Audio', ChatGroupId: '', RoomId: '12345', RoomIdType: 1 });
    expectCodeAndInfo(await t.rest(END_CALL, { CallId: callId }), 0);
    const rec = await record(t, callId);
    assert.equal(rec.CallType, 'MultiCall');
    assert.deepEqual(rec.CalleeList_Account, ['user2', 'user6', 'user7']);
    assert.equal(rec.RoomIdType, 1);
  });
});

describe('busy callees', () => {
  it('a callee already in an active call gets ResultCode CALLEE_BUSY_RESULT_CODE; the others are rung', async () => {
    assert.equal(CALLEE_BUSY_RESULT_CODE, 101003);
    const first = await startCall(t, robotCall('b1', ['b2']));
    const second = await startCall(t, robotCall('b3', ['b2', 'b4']));
    assert.deepEqual(second.result, [
      { Callee_Account: 'b2', ResultCode: 101003 },
      { Callee_Account: 'b4', ResultCode: 0 },
    ]);
    const info = expectCodeAndInfo(await t.rest(GET_CALL_INFO, { CallId: second.callId }), 0);
    assert.deepEqual((info.Response as { UserList: unknown }).UserList, [
      { User_Account: 'b3', Status: 'Calling' },
      { User_Account: 'b4', Status: 'Waiting' },
    ]);
    expectCodeAndInfo(await t.rest(END_CALL, { CallId: second.callId }), 0);
    expectCodeAndInfo(await t.rest(END_CALL, { CallId: first.callId }), 0);
  });

  it('with every callee busy the call ends at once with CallBusy', async () => {
    const first = await startCall(t, robotCall('b1', ['b2', 'b4']));
    const busy = await startCall(t, robotCall('b3', ['b2', 'b4']));
    assert.match(busy.callId, UUID_V4);
    assert.deepEqual(busy.result, [
      { Callee_Account: 'b2', ResultCode: CALLEE_BUSY_RESULT_CODE },
      { Callee_Account: 'b4', ResultCode: CALLEE_BUSY_RESULT_CODE },
    ]);
    expectCodeAndInfo(await t.rest(GET_CALL_INFO, { CallId: busy.callId }), 101004);
    const rec = await record(t, busy.callId);
    assert.equal(rec.CallResult, 'CallBusy');
    assert.equal(rec.AcceptTime, 0);
    assert.equal(rec.Caller_Account, 'b3');
    expectCodeAndInfo(await t.rest(END_CALL, { CallId: first.callId }), 0);
  });

  it('a callee is free again once their call has ended', async () => {
    const again = await startCall(t, robotCall('b3', ['b2']));
    assert.deepEqual(again.result, [{ Callee_Account: 'b2', ResultCode: 0 }]);
    expectCodeAndInfo(await t.rest(END_CALL, { CallId: again.callId }), 0);
  });

  it('of concurrent calls to the same callee exactly one rings it', async () => {
    const calls = await Promise.all(Array.from({ length: 5 }, (_, i) => startCall(t, robotCall(`user${i + 1}`, ['user7']))));
    const codes = calls.map((c) => c.result[0]?.ResultCode);
    assert.equal(codes.filter((c) => c === 0).length, 1, JSON.stringify(codes));
    assert.equal(codes.filter((c) => c === CALLEE_BUSY_RESULT_CODE).length, 4, JSON.stringify(codes));
    for (const c of calls) {
      if (c.result[0]?.ResultCode === 0) expectCodeAndInfo(await t.rest(END_CALL, { CallId: c.callId }), 0);
      else assert.equal((await record(t, c.callId)).CallResult, 'CallBusy');
    }
  });

  it('the robot caller is never busy: it can start two calls at once', async () => {
    const a = await startCall(t, robotCall('robot', ['b1']));
    const b = await startCall(t, robotCall('robot', ['b2']));
    assert.deepEqual(b.result, [{ Callee_Account: 'b2', ResultCode: 0 }]);
    expectCodeAndInfo(await t.rest(END_CALL, { CallId: a.callId }), 0);
    expectCodeAndInfo(await t.rest(END_CALL, { CallId: b.callId }), 0);
  });
});

describe('invalid input (101002)', () => {
  it('get_call_info, end_call and get_record_by_callid: missing, wrong-typed or empty CallId', async () => {
    for (const cmd of [GET_CALL_INFO, END_CALL, RECORD]) {
      await expectInvalid(t, cmd, {}, /CallId/);
      await expectInvalid(t, cmd, { CallId: 123 }, /CallId/);
      await expectInvalid(t, cmd, { CallId: { id: 'x' } }, /CallId/);
      await expectInvalid(t, cmd, { CallId: ['x'] }, /CallId/);
      await expectInvalid(t, cmd, { CallId: '' }, /CallId/);
      await expectInvalid(t, cmd, { CallId: null }, /CallId/);
    }
  });

  const valid = robotCall('user3', ['user4']);
  const without = (key: string) => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== key));

  it('start_call_by_robot: each required field missing', async () => {
    for (const key of ['Robot_Account', 'CalleeList_Account', 'Timeout', 'CallInfo']) {
      await expectInvalid(t, START, without(key), new RegExp(key));
    }
    await expectInvalid(t, START, { ...valid, CallInfo: {} }, /MediaType/);
    await expectInvalid(t, START, { ...valid, CallInfo: { RoomId: 'r', RoomIdType: 2 } }, /MediaType/);
  });

  it('start_call_by_robot: each field with a wrong type', async () => {
    const wrong: unknown[] = [7, ['x'], { a: 1 }];
    for (const v of wrong) {
      await expectInvalid(t, START, { ...valid, Robot_Account: v }, /Robot_Account/);
      await expectInvalid(t, START, { ...valid, Timeout: v }, /Timeout/);
      await expectInvalid(t, START, { ...valid, UserData: v }, /UserData/);
      await expectInvalid(t, START, { ...valid, CallInfo: { MediaType: v } }, /MediaType/);
      await expectInvalid(t, START, { ...valid, CallInfo: { MediaType: 'Audio', RoomId: v } }, /RoomId/);
      await expectInvalid(t, START, { ...valid, CallInfo: { MediaType: 'Audio', RoomIdType: v } }, /RoomIdType/);
    }
    for (const v of [7, 'user4', { a: 1 }, [7], [['user4']], [{ a: 1 }]]) {
      await expectInvalid(t, START, { ...valid, CalleeList_Account: v }, /CalleeList_Account/);
    }
    for (const v of [7, 'Audio', ['Audio'], null]) {
      await expectInvalid(t, START, { ...valid, CallInfo: v }, /CallInfo/);
    }
    await expectInvalid(t, START, { ...valid, Timeout: '300000' }, /Timeout/);
    await expectInvalid(t, START, { ...valid, Timeout: 30000.5 }, /Timeout/);
    await expectInvalid(t, START, { ...valid, Robot_Account: '' }, /Robot_Account/);
    await expectInvalid(t, START, { ...valid, CalleeList_Account: [''] }, /CalleeList_Account/);
  });

  it('start_call_by_robot: Timeout outside 10000-600000 ms', async () => {
    await expectInvalid(t, START, { ...valid, Timeout: 9999 }, /Timeout/);
    await expectInvalid(t, START, { ...valid, Timeout: 600001 }, /Timeout/);
    await expectInvalid(t, START, { ...valid, Timeout: 0 }, /Timeout/);
    await expectInvalid(t, START, { ...valid, Timeout: -1 }, /Timeout/);
    for (const Timeout of [10000, 600000]) {
      const { callId } = await startCall(t, { ...valid, Timeout });
      expectCodeAndInfo(await t.rest(END_CALL, { CallId: callId }), 0);
    }
  });

  it('start_call_by_robot: MediaType, RoomIdType and numeric RoomId', async () => {
    await expectInvalid(t, START, { ...valid, CallInfo: { MediaType: 'Text' } }, /MediaType/);
    await expectInvalid(t, START, { ...valid, CallInfo: { MediaType: 'audio' } }, /MediaType/);
    await expectInvalid(t, START, { ...valid, CallInfo: { MediaType: 'Audio', RoomId: 'r1', RoomIdType: 3 } }, /RoomIdType/);
    await expectInvalid(t, START, { ...valid, CallInfo: { MediaType: 'Audio', RoomId: 'r1', RoomIdType: 0 } }, /RoomIdType/);
    await expectInvalid(t, START, { ...valid, CallInfo: { MediaType: 'Audio', RoomId: 'roomid-1234', RoomIdType: 1 } }, /RoomId/);
    await expectInvalid(t, START, { ...valid, CallInfo: { MediaType: 'Audio', RoomId: '0', RoomIdType: 1 } }, /RoomId/);
    await expectInvalid(t, START, { ...valid, CallInfo: { MediaType: 'Audio', RoomId: '4294967295', RoomIdType: 1 } }, /RoomId/);
    const { callId } = await startCall(t, { ...valid, CallInfo: { MediaType: 'Audio', RoomId: '4294967294', RoomIdType: 1 } });
    const info = expectCodeAndInfo(await t.rest(GET_CALL_INFO, { CallId: callId }), 0);
    assert.deepEqual((info.Response as { CallInfo: Record<string, unknown> }).CallInfo, { CallId: callId, MediaType: 'Audio', ChatGroupId: '', RoomId: '4294967294', RoomIdType: 1 });
    expectCodeAndInfo(await t.rest(END_CALL, { CallId: callId }), 0);
  });

  it(`start_call_by_robot: an empty callee list, or more than MAX_CALLEES (${MAX_CALLEES})`, async () => {
    await expectInvalid(t, START, { ...valid, CalleeList_Account: [] }, /CalleeList_Account/);
    const many = Array.from({ length: MAX_CALLEES + 1 }, (_, i) => `many${i}`);
    await expectInvalid(t, START, { ...valid, CalleeList_Account: many }, /CalleeList_Account/);
  });

  it('start_call_by_robot: a RoomId longer than 64 bytes', async () => {
    await expectInvalid(t, START, { ...valid, CallInfo: { MediaType: 'Audio', RoomId: 'r'.repeat(65), RoomIdType: 2 } }, /RoomId/);
    await expectInvalid(t, START, { ...valid, CallInfo: { MediaType: 'Audio', RoomId: '房'.repeat(22) } }, /RoomId/);
    const { callId } = await startCall(t, { ...valid, CallInfo: { MediaType: 'Audio', RoomId: 'r'.repeat(64) } });
    const info = expectCodeAndInfo(await t.rest(GET_CALL_INFO, { CallId: callId }), 0);
    assert.deepEqual((info.Response as { CallInfo: Record<string, unknown> }).CallInfo, { CallId: callId, MediaType: 'Audio', ChatGroupId: '', RoomId: 'r'.repeat(64), RoomIdType: 2 });
    expectCodeAndInfo(await t.rest(END_CALL, { CallId: callId }), 0);
  });

  it(`start_call_by_robot: UserData of ${MAX_USER_DATA_BYTES} bytes passes, one more byte is refused (ASCII and multibyte)`, async () => {
    assert.equal(MAX_USER_DATA_BYTES, 1000);
    await expectInvalid(t, START, { ...valid, UserData: 'u'.repeat(1001) }, /UserData/);
    // '中' is 3 bytes in UTF-8: 333 of them plus 2 ASCII characters make 1001 bytes in only 335 characters.
    const cjk1001 = '中'.repeat(333) + 'ab';
    assert.equal(Buffer.byteLength(cjk1001), 1001);
    await expectInvalid(t, START, { ...valid, UserData: cjk1001 }, /UserData/);
    // '😀' is 4 bytes (2 UTF-16 units): 250 of them are 1000 bytes, 251 are 1004.
    await expectInvalid(t, START, { ...valid, UserData: '😀'.repeat(251) }, /UserData/);
    for (const UserData of ['u'.repeat(1000), '中'.repeat(333) + 'a', '😀'.repeat(250)]) {
      assert.equal(Buffer.byteLength(UserData), 1000);
      const { callId } = await startCall(t, { ...valid, UserData });
      expectCodeAndInfo(await t.rest(END_CALL, { CallId: callId }), 0);
    }
  });

  it('start_call_by_robot: a Robot_Account or callee that was never imported', async () => {
    await expectInvalid(t, START, { ...valid, Robot_Account: 'ghost-robot' }, /ghost-robot/);
    await expectInvalid(t, START, { ...valid, CalleeList_Account: ['user4', 'ghost-callee'] }, /ghost-callee/);
    // Neither call was started: user4 is not busy.
    const { callId, result } = await startCall(t, valid);
    assert.deepEqual(result, [{ Callee_Account: 'user4', ResultCode: 0 }]);
    expectCodeAndInfo(await t.rest(END_CALL, { CallId: callId }), 0);
  });

  it('start_call_by_robot: the robot calling itself', async () => {
    const env = await t.rest(START, { ...valid, CalleeList_Account: ['user3'] });
    expectCodeAndInfo(env, 101002);
    assert.match(String(env.ErrorInfo), /itself|caller|user3/);
    expectCodeAndInfo(await t.rest(START, { ...valid, CalleeList_Account: ['user4', 'user3'] }), 101002);
  });

  it('get_record_by_filter: NumberPerPage, Page, CallResult, CallType, StartTime and EndTime', async () => {
    await expectInvalid(t, FILTER, { NumberPerPage: 0 }, /NumberPerPage/);
    await expectInvalid(t, FILTER, { NumberPerPage: 101 }, /NumberPerPage/);
    await expectInvalid(t, FILTER, { NumberPerPage: '10' }, /NumberPerPage/);
    await expectInvalid(t, FILTER, { Page: 0 }, /Page/);
    await expectInvalid(t, FILTER, { Page: -1 }, /Page/);
    await expectInvalid(t, FILTER, { CallResult: 'Foo' }, /CallResult/);
    await expectInvalid(t, FILTER, { CallResult: 1 }, /CallResult/);
    await expectInvalid(t, FILTER, { CallType: 'Single' }, /CallType/);
    await expectInvalid(t, FILTER, { StartTime: '1700000000' }, /StartTime/);
    await expectInvalid(t, FILTER, { EndTime: [1] }, /EndTime/);
    await expectInvalid(t, FILTER, { StartTime: 1700000100, EndTime: 1700000000 }, /EndTime/);
    expectCodeAndInfo(await t.rest(FILTER, { NumberPerPage: 100, Page: 1 }), 0);
    expectCodeAndInfo(await t.rest(FILTER, { StartTime: 1700000000, EndTime: 1700000000 }), 0);
  });
});

describe('get_record_by_filter', () => {
  // A server of its own, so that only these records exist. They are made through the service with a frozen
  // clock set to chosen instants in the past hour, then queried with the real clock.
  let f: TestServer;
  const BASE_S = Math.floor(Date.now() / 1000) - 3600;
  /** Call i starts at BASE_S + 10 i seconds. */
  const at = (i: number) => (BASE_S + 10 * i) * 1000;
  const ids: string[] = [];
  const plan: Array<{ callees: string[]; outcome: 'end' | 'accept' | 'reject' }> = [];
  for (let i = 0; i < 12; i++) plan.push({ callees: i % 4 === 3 ? ['fb', 'fc'] : ['fb'], outcome: i % 3 === 0 ? 'accept' : i % 3 === 1 ? 'end' : 'reject' });

  before(async () => {
    f = await startTestServer();
    await f.server.apps.update(f.app.sdkAppId, { rateLimits: 'off' });
    await importAccounts(f, ['fa', 'fb', 'fc', 'fd']);
    mock.timers.enable({ apis: ['Date'], now: at(0) });
    try {
      const calls = f.server.calls;
      const id = f.app.sdkAppId;
      // Eight days old: outside the seven-day window of the filter API.
      mock.timers.setTime(at(0) - 8 * 86_400_000);
      const old = await calls.startCall({ sdkAppId: id, caller: 'fa', callees: ['fd'], mediaType: 'Audio', robot: true });
      await calls.endCall(id, old.call.callId);
      for (const [i, p] of plan.entries()) {
        // Half a second into the second, so that an inclusive EndTime must cover the whole second.
        mock.timers.setTime(at(i) + 500);
        const { call } = await calls.startCall({ sdkAppId: id, caller: 'fa', callees: p.callees, mediaType: 'Audio', robot: true });
        ids.push(call.callId);
        mock.timers.setTime(at(i) + 2000);
        if (p.outcome === 'accept') {
          await calls.accept(id, call.callId, 'fb');
          mock.timers.setTime(at(i) + 5000);
          await calls.endCall(id, call.callId);
        } else if (p.outcome === 'end') {
          await calls.endCall(id, call.callId);
        } else {
          await calls.reject(id, call.callId, 'fb');
          if (p.callees.length > 1) await calls.reject(id, call.callId, 'fc');
        }
      }
      // Still active: never listed.
      mock.timers.setTime(at(12));
      await calls.startCall({ sdkAppId: id, caller: 'fa', callees: ['fd'], mediaType: 'Audio', robot: true, ringTimeoutMs: 600_000 });
    } finally {
      mock.timers.reset();
    }
  });
  after(() => f.close());

  async function filter(body: Record<string, unknown>): Promise<{ TotalNum: number; Page: number; CallRecordList: CallRecord[] }> {
    const env = expectCodeAndInfo(await f.rest(FILTER, body), 0, JSON.stringify(body));
    assert.deepEqual(Object.keys(env), [...ENVELOPE, 'Response']);
    const r = env.Response as { TotalNum: number; Page: number; CallRecordList: CallRecord[] };
    assert.deepEqual(Object.keys(r), ['TotalNum', 'Page', 'CallRecordList']);
    return r;
  }

  /** Indexes of the plan whose records match. */
  const where = (pred: (p: (typeof plan)[number], i: number) => boolean) => plan.flatMap((p, i) => (pred(p, i) ? [i] : []));
  const idsOf = (idx: number[]) => idx.map((i) => ids[i]);

  it('the records are what the plan made', async () => {
    const rec = await record(f, ids[0]!);
    assert.equal(rec.CallResult, 'NormalEnd');
    assert.equal(rec.StartTime, BASE_S);
    assert.equal(rec.AcceptTime, BASE_S + 2);
    assert.equal(rec.EndTime, BASE_S + 5);
    assert.equal((await record(f, ids[1]!)).CallResult, 'Cancel');
    assert.equal((await record(f, ids[2]!)).CallResult, 'Reject');
    assert.equal((await record(f, ids[3]!)).CallType, 'MultiCall');
  });

  it('{} gives page 1 of at most 10, newest first, with TotalNum counting every record of the last 7 days', async () => {
    const r = await filter({});
    assert.equal(r.TotalNum, 12);
    assert.equal(r.Page, 1);
    assert.equal(r.CallRecordList.length, 10);
    assert.deepEqual(
      r.CallRecordList.map((c) => c.CallId),
      idsOf([11, 10, 9, 8, 7, 6, 5, 4, 3, 2]),
    );
    for (const c of r.CallRecordList) {
      assert.deepEqual(Object.keys(c), ['CallId', 'Caller_Account', 'MediaType', 'CallType', 'StartTime', 'EndTime', 'AcceptTime', 'CallResult', 'CalleeList_Account', 'RoomId', 'RoomIdType']);
    }
  });

  it('pages with NumberPerPage and Page; a page past the end is empty', async () => {
    const seen: string[] = [];
    for (const page of [1, 2, 3]) {
      const r = await filter({ NumberPerPage: 5, Page: page });
      assert.equal(r.TotalNum, 12);
      assert.equal(r.Page, page);
      assert.equal(r.CallRecordList.length, page === 3 ? 2 : 5);
      seen.push(...r.CallRecordList.map((c) => c.CallId));
    }
    assert.deepEqual(seen, idsOf([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]));
    const past = await filter({ NumberPerPage: 5, Page: 4 });
    assert.equal(past.TotalNum, 12);
    assert.deepEqual(past.CallRecordList, []);
    assert.deepEqual((await filter({ Page: 2 })).CallRecordList.map((c) => c.CallId), idsOf([1, 0]));
    assert.deepEqual((await filter({ Page: 99 })).CallRecordList, []);
  });

  // https://trtc.io/document/68931: "Page: When Page > 0, there is data. Incrementing Page by 1 allows you to
  // continue", so a client pages until Page is 0; a page with no records must not echo the page asked for.
  it('answers Page 0 for a page with no records, so that paging until Page is 0 ends', async () => {
    assert.equal((await filter({ NumberPerPage: 5, Page: 3 })).Page, 3);
    const past = await filter({ NumberPerPage: 5, Page: 4 });
    assert.deepEqual([past.TotalNum, past.Page, past.CallRecordList], [12, 0, []]);
    const none = await filter({ CallType: 'MultiCall', CallResult: 'CallBusy' });
    assert.deepEqual([none.TotalNum, none.Page, none.CallRecordList], [0, 0, []]);
    const seen: string[] = [];
    for (let page = 1; page < 10; page++) {
      const r = await filter({ NumberPerPage: 5, Page: page });
      if (r.Page === 0) break;
      seen.push(...r.CallRecordList.map((c) => c.CallId));
    }
    assert.equal(seen.length, 12);
  });

  // https://trtc.io/document/68940 lists `Offline` among the CallResult values of a call record (heartbeat expiry);
  // the record pages (https://trtc.io/document/68930, 68931) do not. trtcd records `Interrupt` but accepts the filter.
  it('accepts CallResult Offline as a filter (no record carries it)', async () => {
    const r = await filter({ CallResult: 'Offline' });
    assert.deepEqual([r.TotalNum, r.Page, r.CallRecordList], [0, 0, []]);
  });

  it('filters by CallResult', async () => {
    for (const [result, outcome] of [
      ['NormalEnd', 'accept'],
      ['Cancel', 'end'],
      ['Reject', 'reject'],
    ] as const) {
      const r = await filter({ CallResult: result, NumberPerPage: 100 });
      const want = where((p) => p.outcome === outcome).reverse();
      assert.equal(r.TotalNum, want.length, result);
      assert.deepEqual(r.CallRecordList.map((c) => c.CallId), idsOf(want), result);
      for (const c of r.CallRecordList) assert.equal(c.CallResult, result);
    }
    const none = await filter({ CallResult: 'Interrupt' });
    assert.deepEqual([none.TotalNum, none.CallRecordList], [0, []]);
  });

  it('filters by CallType, alone and with CallResult', async () => {
    const multi = await filter({ CallType: 'MultiCall' });
    assert.deepEqual(multi.CallRecordList.map((c) => c.CallId), idsOf(where((p) => p.callees.length > 1).reverse()));
    assert.equal(multi.TotalNum, 3);
    const single = await filter({ CallType: 'SingleCall', NumberPerPage: 100 });
    assert.equal(single.TotalNum, 9);
    for (const c of single.CallRecordList) assert.equal(c.CallType, 'SingleCall');
    const both = await filter({ CallType: 'MultiCall', CallResult: 'NormalEnd' });
    assert.deepEqual(both.CallRecordList.map((c) => c.CallId), idsOf(where((p) => p.callees.length > 1 && p.outcome === 'accept').reverse()));
  });

  it('filters by a StartTime/EndTime window (seconds, both ends inclusive) on the start time', async () => {
    const r = await filter({ StartTime: BASE_S + 20, EndTime: BASE_S + 50 });
    assert.deepEqual(r.CallRecordList.map((c) => c.CallId), idsOf([5, 4, 3, 2]));
    assert.equal(r.TotalNum, 4);
    const one = await filter({ StartTime: BASE_S + 30, EndTime: BASE_S + 30 });
    assert.deepEqual(one.CallRecordList.map((c) => c.CallId), idsOf([3]));
    const gap = await filter({ StartTime: BASE_S + 31, EndTime: BASE_S + 39 });
    assert.deepEqual([gap.TotalNum, gap.CallRecordList], [0, []]);
    const from = await filter({ StartTime: BASE_S + 100 });
    assert.deepEqual(from.CallRecordList.map((c) => c.CallId), idsOf([11, 10]));
    const until = await filter({ EndTime: BASE_S + 10 });
    assert.deepEqual(until.CallRecordList.map((c) => c.CallId), idsOf([1, 0]));
  });

  it('never returns records older than 7 days, even with StartTime 0', async () => {
    const r = await filter({ StartTime: 0, NumberPerPage: 100 });
    assert.equal(r.TotalNum, 12);
    assert.deepEqual(r.CallRecordList.map((c) => c.CallId), idsOf([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]));
    const old = await filter({ StartTime: 0, EndTime: BASE_S - 86_400 });
    assert.deepEqual([old.TotalNum, old.CallRecordList], [0, []]);
  });
});

describe('rate limits: 200/s for each call command', () => {
  freezeClock();

  it('205 concurrent requests: exactly 200 pass the limiter and 5 get 60007, per command', () =>
    withFreshServer(async (fresh) => {
      assert.equal(fresh.app.settings.rateLimits, 'tencent');
      const cases: Array<[string, unknown, number]> = [
        [GET_CALL_INFO, { CallId: 'unknown-call' }, 101004],
        [END_CALL, { CallId: 'unknown-call' }, 101004],
        [START, {}, 101002],
        [RECORD, { CallId: 'unknown-call' }, 101050],
        [FILTER, {}, 0],
      ];
      for (const [cmd, body, passCode] of cases) {
        const codes = await concurrentCodes(fresh, cmd, body, 205);
        assert.equal(codes.filter((c) => c === passCode).length, 200, cmd);
        assert.equal(codes.filter((c) => c === 60007).length, 5, cmd);
      }
      // A new window lets requests through again.
      mock.timers.tick(1000);
      assert.equal((await fresh.rest(GET_CALL_INFO, { CallId: 'unknown-call' })).ErrorCode, 101004);
    }));
});
