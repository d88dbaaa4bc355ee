import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startReceiver, type Receiver } from '../../test/helpers/receiver.ts';
import type { RtcTestClient} from '../../test/helpers/rtc-client.ts';
import { rtcLogin, type Msg } from '../../test/helpers/rtc-client.ts';
import { startTestServer, type TestServer } from '../../test/helpers/server.ts';
import { RtcErrors } from './protocol.ts';

describe('/rtc calls', () => {
  let t: TestServer;
  let rx: Receiver;
  const open: RtcTestClient[] = [];
  const login = async (userId: string, extra: Msg = {}) => {
    const { client } = await rtcLogin(t.server.url, t.app, userId, extra);
    open.push(client);
    return client;
  };
  const call = (m: Msg) => m.call as Record<string, unknown> & { callId: string; members: Array<{ userId: string; status: string }> };
  const statuses = (m: Msg) => call(m).members.map((x) => [x.userId, x.status]);

  before(async () => {
    rx = await startReceiver();
    t = await startTestServer();
    await t.server.apps.update(t.app.sdkAppId, { 'callback.url': rx.url, rateLimits: 'off' });
  });
  beforeEach(() => {
    rx.all.length = 0;
  });
  after(async () => {
    for (const c of open) c.ws.terminate();
    await t.close();
    await rx.close();
  });

  it('A calls B, B accepts, get_call_info shows both Calling, A hangs up: NormalEnd and the Call.* callbacks in order', async () => {
    const a = await login('alice1');
    const b = await login('bob1', { platform: 'Android' });
    const started = await a.request('call.start', { callees: ['bob1'], mediaType: 'Video', roomId: 888 });
    assert.equal(started.ok, true, JSON.stringify(started));
    assert.deepEqual(started.busy, []);
    const callId = call(started).callId;
    const invited = await b.event('call.invited');
    assert.equal(call(invited).callId, callId);
    assert.equal(call(invited).caller, 'alice1');
    assert.deepEqual([call(invited).roomId, call(invited).roomIdType], ['888', 1]);
    const accepted = await b.request('call.accept', { callId });
    assert.deepEqual(statuses(accepted), [['alice1', 'Calling'], ['bob1', 'Calling']]);
    const seen = await a.next((m) => m.type === 'call.updated' && (m.changes as unknown[]).length > 0);
    assert.deepEqual(seen.changes, [{ userId: 'bob1', action: 'Accept' }]);
    const info = await t.rest('call_engine_http_srv/get_call_info', { CallId: callId });
    assert.equal(info.ErrorCode, 0, JSON.stringify(info));
    assert.deepEqual((info.Response as Msg).UserList, [{ User_Account: 'alice1', Status: 'Calling' }, { User_Account: 'bob1', Status: 'Calling' }]);
    const hung = await a.request('call.hangup', { callId });
    assert.equal(call(hung).result, 'NormalEnd');
    const ended = await b.next((m) => m.type === 'call.updated' && m.ended === true);
    assert.equal(call(ended).result, 'NormalEnd');
    assert.deepEqual(ended.changes, [{ userId: 'alice1', action: 'Hangup' }]);
    const record = await t.rest('call_record_http_srv/get_record_by_callid', { CallId: callId });
    assert.equal(((record.Response as Msg).CallRecord as Msg).CallResult, 'NormalEnd');
    const got = await rx.waitDelivered(4);
    assert.deepEqual(
      got.map((r) => [r.body.CallbackCommand, r.query.get('OptPlatform')]),
      [
        ['Call.CallbackAfterStartCall', 'Web'],
        ['Call.CallbackAfterMemberChanged', 'Android'],
        ['Call.CallbackAfterMemberChanged', 'Web'],
        ['Call.CallbackAfterEndCall', 'Web'],
      ],
    );
    assert.equal((got[3]!.body.CallRecord as Msg).CallResult, 'NormalEnd');
    assert.equal(await t.server.calls.isBusy(t.app.sdkAppId, 'alice1'), false);
  });

  it('rings a callee who logs in while the call still rings them; a reject ends it', async () => {
    const a = await login('alice2');
    await t.server.accounts.importOne(t.app.sdkAppId, { userId: 'carol2' });
    const started = await a.request('call.start', { callees: ['carol2'], mediaType: 'Audio' });
    const callId = call(started).callId;
    const c = await login('carol2');
    const invited = await c.event('call.invited');
    assert.equal(call(invited).callId, callId);
    const rejected = await c.request('call.reject', { callId });
    assert.equal(call(rejected).result, 'Reject');
    const ended = await a.next((m) => m.type === 'call.updated' && m.ended === true);
    assert.deepEqual(ended.changes, [{ userId: 'carol2', action: 'Reject' }]);
  });

  it('invites online callees of a call started by the REST API', async () => {
    const b = await login('bob3');
    await t.server.accounts.importOne(t.app.sdkAppId, { userId: 'robot3' });
    const r = await t.rest('call_engine_http_srv/start_call_by_robot', { Robot_Account: 'robot3', CalleeList_Account: ['bob3'], Timeout: 30000, CallInfo: { MediaType: 'Audio' } });
    assert.equal(r.ErrorCode, 0, JSON.stringify(r));
    const invited = await b.event('call.invited');
    assert.equal(call(invited).callId, (r.Response as Msg).CallId);
    assert.equal((await b.request('call.accept', { callId: call(invited).callId })).ok, true);
    await t.rest('call_engine_http_srv/end_call', { CallId: call(invited).callId });
    const ended = await b.next((m) => m.type === 'call.updated' && m.ended === true);
    assert.equal(call(ended).result, 'NormalEnd');
  });

  it('reports busy callees, refuses a busy caller, and ends an all-busy call with CallBusy', async () => {
    const a = await login('alice4');
    await login('bob4');
    const first = await a.request('call.start', { callees: ['bob4'], mediaType: 'Audio' });
    const d = await login('dave4');
    const busy = await d.request('call.start', { callees: ['bob4'], mediaType: 'Audio' });
    assert.deepEqual(busy.busy, ['bob4']);
    assert.equal(call(busy).result, 'CallBusy');
    assert.equal((await a.request('call.start', { callees: ['dave4'], mediaType: 'Audio' })).code, RtcErrors.BUSY.code);
    assert.equal((await a.request('call.cancel', { callId: call(first).callId })).ok, true);
  });

  it('a member whose last session ends goes Offline: the call ends Interrupt', async () => {
    const a = await login('alice5');
    const b = await login('bob5');
    const started = await a.request('call.start', { callees: ['bob5'], mediaType: 'Audio' });
    await b.event('call.invited');
    await b.request('call.accept', { callId: call(started).callId });
    await a.close();
    const ended = await b.next((m) => m.type === 'call.updated' && m.ended === true);
    assert.deepEqual(ended.changes, [{ userId: 'alice5', action: 'Offline' }]);
    assert.equal(call(ended).result, 'Interrupt');
  });

  it('group calls: join, invite, withdraw an invitation; refusals carry protocol codes', async () => {
    const a = await login('alice6');
    const b = await login('bob6');
    const c = await login('carol6');
    const d = await login('dave6');
    const started = await a.request('call.start', { callees: ['bob6', 'carol6'], mediaType: 'Video', chatGroupId: 'group6' });
    const callId = call(started).callId;
    assert.equal(call(started).callType, 'MultiCall');
    await b.event('call.invited');
    await c.event('call.invited');
    await b.request('call.accept', { callId });
    const joined = await d.request('call.join', { callId });
    assert.deepEqual(statuses(joined).map(([u]) => u), ['alice6', 'bob6', 'carol6', 'dave6']);
    const withdrawn = await a.request('call.cancel', { callId, target: 'carol6' });
    assert.deepEqual(statuses(withdrawn).map(([u]) => u), ['alice6', 'bob6', 'dave6']);
    assert.deepEqual((await c.next((m) => m.type === 'call.updated' && (m.changes as Msg[])[0]?.action === 'Cancel_Invite')).changes, [{ userId: 'carol6', action: 'Cancel_Invite' }]);
    const again = await b.request('call.invite', { callId, targets: ['carol6'] });
    assert.deepEqual(again.busy, []);
    assert.equal(call(await c.event('call.invited')).callId, callId);
    assert.equal((await c.request('call.get', { callId })).ok, true);
    // Refusals.
    assert.equal((await c.request('call.hangup', { callId: 'no-such-call' })).code, RtcErrors.NOT_FOUND.code);
    assert.equal((await a.request('call.accept', { callId })).code, RtcErrors.CALL_STATE.code);
    const e = await login('erin6');
    assert.equal((await e.request('call.start', { callees: ['never-logged-in-6'], mediaType: 'Audio' })).code, RtcErrors.USER_NOT_FOUND.code);
    for (const bad of [{}, { callees: [] }, { callees: ['x'], mediaType: 'Hologram' }, { callees: 'x', mediaType: 'Audio' }, { callees: ['x'], mediaType: 'Audio', roomId: 1, strRoomId: 'r' }, { callees: ['x'], mediaType: 'Audio', ringTimeoutMs: 5 }]) {
      assert.equal((await e.request('call.start', bad)).code, RtcErrors.INVALID_ARGUMENT.code, JSON.stringify(bad));
    }
    assert.equal((await e.request('call.accept', { callId: 7 })).code, RtcErrors.INVALID_ARGUMENT.code);
    await a.request('call.hangup', { callId });
  });

  it('call.get answers the users invited to the call; anyone else gets the refusal of a call that does not exist', async () => {
    const a = await login('alice7');
    const b = await login('bob7');
    const c = await login('carol7');
    const eve = await login('eve7');
    const started = await a.request('call.start', { callees: ['bob7', 'carol7'], mediaType: 'Audio' });
    const callId = call(started).callId;
    await b.event('call.invited');
    await c.event('call.invited');
    assert.equal((await c.request('call.reject', { callId })).ok, true);
    // The caller, a callee, and a callee who has left (who still gets the call's events).
    for (const member of [a, b, c]) {
      const got = await member.request('call.get', { callId });
      assert.equal(got.ok, true, JSON.stringify(got));
      assert.equal(call(got).callId, callId);
    }
    const { re: _a, ...probe } = await eve.request('call.get', { callId });
    const { re: _b, ...unknown } = await eve.request('call.get', { callId: 'no-such-call-7' });
    assert.equal(probe.code, RtcErrors.NOT_FOUND.code);
    assert.deepEqual(probe, { ...unknown, message: String(unknown.message).replace('no-such-call-7', callId) });
    assert.doesNotMatch(JSON.stringify(probe), /alice7|bob7/);
    await a.request('call.hangup', { callId });
  });
});
