import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it, mock } from 'node:test';
import { callbackSign } from '../../auth/callback-sign.ts';
import { startReceiver, type Receiver } from '../../../test/helpers/receiver.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';
import { CALL_TOPIC, RING_RETRY_MS, type CallChanged } from './calls-service.ts';

let t: TestServer;
let rx: Receiver;
let id: number;

before(async () => {
  rx = await startReceiver();
});
after(() => rx.close());

beforeEach(async () => {
  mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_750_000_000_000 });
  t = await startTestServer({ callbackRetryBaseMs: 1000 });
  id = t.app.sdkAppId;
  await t.server.apps.update(id, { 'callback.url': rx.url, 'callback.token': 'tok', rateLimits: 'off' });
  await t.server.accounts.importMany(id, ['alice', 'bob', 'carol', 'dave'].map((userId) => ({ userId })));
  rx.all.length = 0;
});

afterEach(async () => {
  await t.close();
  mock.timers.reset();
});

const commands = (list: { body: Record<string, unknown> }[]) => list.map((r) => r.body.CallbackCommand);
const changed = (r: { body: Record<string, unknown> }) => r.body.ChangedUserList;

describe('call lifecycle and Call.* callbacks', () => {
  it('start → accept → hangup: StartCall, MemberChanged(Accept), MemberChanged(Hangup), EndCall(NormalEnd), signed', async () => {
    const { call } = await t.server.calls.startCall({ sdkAppId: id, caller: 'alice', callees: ['bob'], mediaType: 'Video' });
    assert.deepEqual(call.members.map((m) => [m.userId, m.status]), [['alice', 'Calling'], ['bob', 'Waiting']]);
    await t.server.calls.accept(id, call.callId, 'bob');
    await t.server.calls.hangup(id, call.callId, 'bob');
    const got = await rx.waitDelivered(4);
    assert.deepEqual(commands(got), ['Call.CallbackAfterStartCall', 'Call.CallbackAfterMemberChanged', 'Call.CallbackAfterMemberChanged', 'Call.CallbackAfterEndCall']);
    const [start, accept, hang, end] = got as [typeof got[0], typeof got[0], typeof got[0], typeof got[0]];
    assert.deepEqual(start.body.CallInfo, { CallId: call.callId, CallMediaType: 'Video', MediaType: 'Video', ChatGroupId: '', RoomId: '', RoomIdType: 0 });
    assert.deepEqual(start.body.UserList, [{ User_Account: 'alice', Status: 'Calling' }, { User_Account: 'bob', Status: 'Waiting' }]);
    assert.deepEqual(changed(accept), [{ User_Account: 'bob', ActionType: 'Accept' }]);
    assert.deepEqual(accept.body.UserList, [{ User_Account: 'alice', Status: 'Calling' }, { User_Account: 'bob', Status: 'Calling' }]);
    assert.deepEqual(changed(hang), [{ User_Account: 'bob', ActionType: 'Hangup' }]);
    const record = end.body.CallRecord as Record<string, unknown>;
    assert.equal(record.CallResult, 'NormalEnd');
    assert.equal(record.CallType, 'SingleCall');
    assert.deepEqual(record.CalleeList_Account, ['alice', 'bob']);
    assert.equal(record.AcceptTime, 1_750_000_000);
    for (const r of got) {
      assert.equal(r.query.get('SdkAppid'), String(id));
      assert.equal(r.query.get('CallbackCommand'), r.body.CallbackCommand);
      assert.equal(r.query.get('contenttype'), 'json');
      assert.equal(r.query.get('OptPlatform'), 'RESTAPI');
      assert.equal(r.query.get('Sign'), callbackSign('tok', Number(r.query.get('RequestTime'))));
      assert.equal(typeof r.body.EventTime, 'number');
    }
    await assert.rejects(t.server.calls.accept(id, call.callId, 'bob'), /does not exist or has ended/);
  });

  it('ring timeout: after 30 s a callee that did not answer is NotAnswer and the 1v1 call ends NotAnswer', async () => {
    const { call } = await t.server.calls.startCall({ sdkAppId: id, caller: 'alice', callees: ['bob'], mediaType: 'Audio' });
    await rx.waitDelivered(1);
    mock.timers.tick(29_999);
    assert.equal(t.server.calls.get(id, call.callId).result, null);
    mock.timers.tick(1);
    const got = await rx.waitDelivered(3);
    assert.deepEqual(changed(got[1]!), [{ User_Account: 'bob', ActionType: 'NotAnswer' }]);
    assert.equal((got[2]!.body.CallRecord as Record<string, unknown>).CallResult, 'NotAnswer');
    assert.equal((await t.server.calls.record(id, call.callId)).result, 'NotAnswer');
  });

  it('a ring timeout that the store fails to record is tried again until it is recorded', async () => {
    const { call } = await t.server.calls.startCall({ sdkAppId: id, caller: 'alice', callees: ['bob'], mediaType: 'Audio' });
    await rx.waitDelivered(1);
    const store = t.server.store;
    const transaction = store.transaction;
    let failures = 0;
    (store as { transaction: typeof transaction }).transaction = () => (failures++, Promise.reject(new Error('Connection terminated unexpectedly')));
    mock.timers.tick(30_000);
    await new Promise((r) => setImmediate(r));
    assert.equal(failures, 1);
    assert.equal(t.server.calls.get(id, call.callId).result, null, 'the failed timeout changed nothing');
    (store as { transaction: typeof transaction }).transaction = transaction;
    mock.timers.tick(RING_RETRY_MS);
    const got = await rx.waitDelivered(3);
    assert.deepEqual(changed(got[1]!), [{ User_Account: 'bob', ActionType: 'NotAnswer' }]);
    assert.equal((await t.server.calls.record(id, call.callId)).result, 'NotAnswer');
  });

  it('ring timeout honours the call and the app setting', async () => {
    await t.server.apps.update(id, { callRingTimeoutMs: 5000 });
    const { call } = await t.server.calls.startCall({ sdkAppId: id, caller: 'alice', callees: ['bob'], mediaType: 'Audio' });
    const own = await t.server.calls.startCall({ sdkAppId: id, caller: 'carol', callees: ['dave'], mediaType: 'Audio', ringTimeoutMs: 60_000 });
    mock.timers.tick(5000);
    await rx.waitDelivered(4);
    assert.equal((await t.server.calls.record(id, call.callId)).result, 'NotAnswer');
    assert.equal(t.server.calls.get(id, own.call.callId).result, null);
  });

  it('reject ends a 1v1 call with Reject', async () => {
    const { call } = await t.server.calls.startCall({ sdkAppId: id, caller: 'alice', callees: ['bob'], mediaType: 'Audio' });
    await t.server.calls.reject(id, call.callId, 'bob');
    const got = await rx.waitDelivered(3);
    assert.deepEqual(changed(got[1]!), [{ User_Account: 'bob', ActionType: 'Reject' }]);
    assert.equal((got[2]!.body.CallRecord as Record<string, unknown>).CallResult, 'Reject');
  });

  it('busy: calling someone already in a call ends CallBusy; in a group the busy callee is left out', async () => {
    const first = await t.server.calls.startCall({ sdkAppId: id, caller: 'alice', callees: ['bob'], mediaType: 'Audio' });
    assert.ok(t.server.calls.isBusy(id, 'bob'));
    const busy = await t.server.calls.startCall({ sdkAppId: id, caller: 'carol', callees: ['bob'], mediaType: 'Audio' });
    assert.deepEqual(busy.busy, ['bob']);
    assert.equal(busy.call.result, 'CallBusy');
    assert.equal((await t.server.calls.record(id, busy.call.callId)).result, 'CallBusy');
    const group = await t.server.calls.startCall({ sdkAppId: id, caller: 'carol', callees: ['bob', 'dave'], mediaType: 'Audio' });
    assert.deepEqual(group.busy, ['bob']);
    assert.deepEqual(group.call.members.map((m) => m.userId), ['carol', 'dave']);
    assert.equal(group.call.callType, 'MultiCall');
    await assert.rejects(t.server.calls.startCall({ sdkAppId: id, caller: 'bob', callees: ['carol'], mediaType: 'Audio' }), /already in a call/);
    const got = await rx.waitDelivered(4);
    assert.deepEqual(commands(got).filter((c) => c === 'Call.CallbackAfterEndCall').length, 1);
    assert.ok(first.call.callId);
  });

  it('group: join and invite; the call goes on while two remain and ends NormalEnd', async () => {
    const { call } = await t.server.calls.startCall({ sdkAppId: id, caller: 'alice', callees: ['bob', 'carol'], mediaType: 'Video' });
    await t.server.calls.accept(id, call.callId, 'bob');
    await t.server.calls.reject(id, call.callId, 'carol');
    await t.server.calls.join(id, call.callId, 'dave');
    let now = t.server.calls.get(id, call.callId);
    assert.deepEqual(now.members.map((m) => [m.userId, m.status]), [['alice', 'Calling'], ['bob', 'Calling'], ['dave', 'Calling']]);
    await t.server.calls.hangup(id, call.callId, 'alice');
    now = t.server.calls.get(id, call.callId);
    assert.deepEqual(now.members.map((m) => m.userId), ['bob', 'dave']);
    await t.server.calls.hangup(id, call.callId, 'bob');
    const got = await rx.waitDelivered(7);
    assert.deepEqual(
      got.slice(1, 6).map((r) => (changed(r) as Array<{ ActionType: string }>)[0]!.ActionType),
      ['Accept', 'Reject', 'Join', 'Hangup', 'Hangup'],
    );
    const record = got[6]!.body.CallRecord as Record<string, unknown>;
    assert.equal(record.CallResult, 'NormalEnd');
    assert.equal(record.CallType, 'MultiCall');
    assert.deepEqual(record.CalleeList_Account, ['alice', 'bob', 'carol', 'dave']);
  });

  it('retries a failing receiver with backoff and keeps the order per call', async () => {
    rx.failNext(2);
    const { call } = await t.server.calls.startCall({ sdkAppId: id, caller: 'alice', callees: ['bob'], mediaType: 'Audio' });
    await t.server.calls.endCall(id, call.callId);
    await rx.waitAll(1);
    mock.timers.tick(1000);
    await rx.waitAll(2);
    mock.timers.tick(2000);
    const got = await rx.waitDelivered(2);
    await t.server.callbacks.settled();
    assert.deepEqual(commands(rx.all), ['Call.CallbackAfterStartCall', 'Call.CallbackAfterStartCall', 'Call.CallbackAfterStartCall', 'Call.CallbackAfterEndCall']);
    assert.deepEqual(commands(got), ['Call.CallbackAfterStartCall', 'Call.CallbackAfterEndCall']);
    const log = await t.server.store.outbox.list({ sdkAppId: id, limit: 10 });
    assert.deepEqual(log.map((r) => [r.command, r.status, r.attempts]), [['Call.CallbackAfterEndCall', 'delivered', 1], ['Call.CallbackAfterStartCall', 'delivered', 3]]);
  });

  it('queues nothing when the app has no callback URL, and publishes every change on the bus', async () => {
    await t.server.apps.update(id, { 'callback.url': '' });
    const seen: CallChanged[] = [];
    const off = t.server.bus.subscribe(CALL_TOPIC, (e) => seen.push(e as CallChanged));
    const { call } = await t.server.calls.startCall({ sdkAppId: id, caller: 'alice', callees: ['bob'], mediaType: 'Audio' });
    await t.server.calls.accept(id, call.callId, 'bob');
    await t.server.calls.hangup(id, call.callId, 'alice');
    off();
    assert.deepEqual(await t.server.store.outbox.list({ sdkAppId: id, limit: 10 }), []);
    assert.deepEqual(seen.map((e) => [e.started, e.ended, e.changes.map((c) => c.action)]), [[true, false, []], [false, false, ['Accept']], [false, true, ['Hangup']]]);
  });

  it('survives a restart: active calls and their ring timers come back from the store', async () => {
    const { call } = await t.server.calls.startCall({ sdkAppId: id, caller: 'alice', callees: ['bob'], mediaType: 'Audio' });
    await rx.waitDelivered(1);
    const { startServer } = await import('../../server.ts');
    const { DEFAULT_CONFIG } = await import('../../config.ts');
    await t.server.close();
    const again = await startServer({ ...DEFAULT_CONFIG, dataDir: t.dir, port: 0, logLevel: 'silent' });
    try {
      assert.deepEqual(again.calls.get(id, call.callId).members.map((m) => m.status), ['Calling', 'Waiting']);
      assert.ok(again.calls.isBusy(id, 'bob'));
      mock.timers.tick(30_000);
      await rx.waitDelivered(3);
      assert.equal((await again.calls.record(id, call.callId)).result, 'NotAnswer');
    } finally {
      await again.close();
    }
  });
});
