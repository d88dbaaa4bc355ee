import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { tempDir } from '../../../test/helpers/server.ts';
import { InProcessBus } from '../../bus/bus.ts';
import { createLogger } from '../../logger.ts';
import { AccountsService } from '../../services/accounts/accounts-service.ts';
import { AppsService } from '../../services/apps/apps-service.ts';
import { CALL_TOPIC, CallsService, type CallChanged } from '../../services/calls/calls-service.ts';
import { openStore, type Store } from '../../store/store.ts';
import { ChatCallEngine, HEARTBEAT_TIMEOUT_MS } from './call-engine.ts';
import type { ChatSession } from './session.ts';

interface Push {
  user: string;
  command: string;
  data: Record<string, unknown>;
}
type Reply = { ErrorCode: number; ErrorInfo: string; RequestId: string; Response?: Record<string, unknown> };

let dir: string;
let store: Store;
let calls: CallsService;
let engine: ChatCallEngine;
let app: number;
let pushes: Push[];
let tracked: Promise<unknown>[];
let unsubscribe: () => void;

beforeEach(async () => {
  mock.timers.enable({ apis: ['Date', 'setTimeout', 'setInterval'], now: 1_750_000_000_000 });
  dir = tempDir();
  store = await openStore({ dataDir: dir });
  const apps = new AppsService(store);
  await apps.load();
  app = (await apps.create()).sdkAppId;
  const bus = new InProcessBus();
  const accounts = new AccountsService(store, apps, bus);
  await accounts.importMany(app, ['alice', 'bob', 'carol', 'dave', 'erin'].map((userId) => ({ userId })));
  calls = new CallsService(store, apps, accounts, bus);
  pushes = [];
  tracked = [];
  engine = new ChatCallEngine({
    calls,
    pushTo: (sdkAppId, user, servcmd, body) => {
      assert.equal(sdkAppId, app);
      assert.equal(servcmd, 'im_open_push.msg_push');
      const [item] = (body as { EventArray: Array<{ Event: number; Content: string }> }).EventArray;
      assert.equal(item!.Event, 100);
      const content = JSON.parse(item!.Content) as { Head: { Version: number; Command: string }; Data: Record<string, unknown> };
      assert.equal(content.Head.Version, 2);
      pushes.push({ user, command: content.Head.Command.replace('call_engine_srv.', ''), data: content.Data });
      return 1;
    },
    track: (p) => void tracked.push(p),
    log: createLogger('silent'),
  });
  // As createChatGateway does: every call change becomes the engine's pushes.
  unsubscribe = bus.subscribe(CALL_TOPIC, (p) => engine.onCallChanged(p as CallChanged));
});

afterEach(async () => {
  engine.stop();
  unsubscribe();
  calls.stop();
  mock.timers.reset();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const session = (userId: string): ChatSession => ({ sdkAppId: app, userId, ip: '10.0.0.1' }) as unknown as ChatSession;

async function send(userId: string, cmd: string, Body: unknown): Promise<Reply> {
  const handler = engine.commands[`call_engine_srv.${cmd}`];
  assert.ok(handler, cmd);
  return (await handler.handle(session(userId), { Head: { Command: `call_engine_srv.${cmd}`, Version: 2 }, Body } as Record<string, unknown>)) as Reply;
}

/** Lets a timer-started action (ring timeout, heart_beat sweep) reach the store and the bus. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), 'condition not reached');
}

async function flush(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
}

const take = (): Push[] => pushes.splice(0);
const brief = (list: Push[]) => list.map((p) => [p.user, p.command]);

/** start_call from `caller`; returns the CallId and clears the pushes. */
async function start(caller: string, callees: string[], extra: Record<string, unknown> = {}): Promise<string> {
  const r = await send(caller, 'start_call', { CallInfo: { CallMediaType: 2, RoomId: '767515797', RoomIdType: 1 }, CalleeList_Account: callees, Caller_Account: caller, Timeout: 30_000, UserData: 'ud', ...extra });
  assert.equal(r.ErrorCode, 0, r.ErrorInfo);
  take();
  return r.Response!.CallId as string;
}

describe('ChatCallEngine', () => {
  // docs/chat-and-calls.md, call engine: replies, notifications (invite_user_notify) and a 1v1 call, accepted.
  it('start_call: one invite_user_notify to the callee, none to the caller, and the reply envelope', async () => {
    const r = await send('alice', 'start_call', { CallInfo: { CallMediaType: 1, RoomId: '767515797', RoomIdType: 1 }, CalleeList_Account: ['bob'], Caller_Account: 'alice', Timeout: 30_000, UserData: 'hi' });
    const callId = r.Response!.CallId as string;
    assert.match(callId, /^[0-9a-f-]{36}$/);
    assert.match(r.RequestId, /^[0-9a-f]{16}$/);
    assert.deepEqual(r, { ErrorCode: 0, ErrorInfo: '', RequestId: r.RequestId, Response: { CallId: callId, CallResult: [{ Callee_Account: 'bob', ResultCode: 0 }] } });
    assert.deepEqual(take(), [
      {
        user: 'bob',
        command: 'invite_user_notify',
        data: {
          Operator_Account: 'alice',
          Caller_Account: 'alice',
          CalleeList_Account: ['bob'],
          AllUserList: [{ User_Account: 'alice', Status: 2 }, { User_Account: 'bob', Status: 1 }],
          CallInfo: { CallId: callId, CallMediaType: 1, ExcludeFromHistoryMessage: false, GroupId: '', IsEphemeralCall: false, RoomId: '767515797', RoomIdType: 1 },
          Timeout: 30_000,
          UserData: 'hi',
        },
      },
    ]);
    // get_invitation answers the same Data (docs/chat-and-calls.md, call engine replies).
    const inv = await send('bob', 'get_invitation', { User_Account: 'bob' });
    assert.equal((inv.Response!.CallInfo as Record<string, unknown>).CallId, callId);
    assert.deepEqual(inv.Response!.AllUserList, [{ User_Account: 'alice', Status: 2 }, { User_Account: 'bob', Status: 1 }]);
  });

  // docs/chat-and-calls.md, call engine: a 1v1 call, accepted (step 7); ActionType numbers.
  it('accept: call_handled_notify then call_member_changed_notify (ActionType 5) to the caller, nothing to the callee', async () => {
    const callId = await start('alice', ['bob']);
    assert.deepEqual(await send('bob', 'handle_call', { CallId: callId, ActionType: 1 }).then((r) => [r.ErrorCode, r.Response]), [0, { CallId: callId }]);
    assert.deepEqual(take(), [
      { user: 'alice', command: 'call_handled_notify', data: { CallId: callId, ActionType: 1 } },
      {
        user: 'alice',
        command: 'call_member_changed_notify',
        data: { CallId: callId, AllUserList: [{ User_Account: 'alice', Status: 2 }, { User_Account: 'bob', Status: 2 }], OperationUserList: [{ User_Account: 'bob', ActionType: 5 }] },
      },
    ]);
    assert.deepEqual((await send('bob', 'get_call_info', { CallId: callId })).Response!.UserList, [{ User_Account: 'alice', Status: 2 }, { User_Account: 'bob', Status: 2 }]);
  });

  // docs/chat-and-calls.md, call engine: a 1v1 call, accepted (step 10).
  it('hangup in a call: the other gets ActionType 4 with an AllUserList of one; the call ends NormalEnd', async () => {
    const callId = await start('alice', ['bob']);
    await send('bob', 'handle_call', { CallId: callId, ActionType: 1 });
    take();
    assert.equal((await send('alice', 'hangup', { CallId: callId })).ErrorCode, 0);
    assert.deepEqual(take(), [
      { user: 'bob', command: 'call_member_changed_notify', data: { CallId: callId, AllUserList: [{ User_Account: 'bob', Status: 2 }], OperationUserList: [{ User_Account: 'alice', ActionType: 4 }] } },
    ]);
    assert.equal((await calls.record(app, callId)).result, 'NormalEnd');
  });

  // docs/chat-and-calls.md, call engine: reject, cancel, no answer, busy.
  it('reject: the caller gets ActionType 2, the call ends Reject', async () => {
    const callId = await start('alice', ['bob']);
    assert.equal((await send('bob', 'handle_call', { CallId: callId, ActionType: 2 })).ErrorCode, 0);
    assert.deepEqual(take(), [
      { user: 'alice', command: 'call_member_changed_notify', data: { CallId: callId, AllUserList: [{ User_Account: 'alice', Status: 2 }], OperationUserList: [{ User_Account: 'bob', ActionType: 2 }] } },
    ]);
    assert.equal((await calls.record(app, callId)).result, 'Reject');
  });

  for (const [how, cmd, body] of [
    ['hangup', 'hangup', {}],
    ['cancel_invite', 'cancel_invite', { CalleeList_Account: ['bob'], Operator_Account: 'alice' }],
  ] as const) {
    // docs/chat-and-calls.md, call engine: cancel. The caller also gets end_call_notify (its engine has ended the call already).
    it(`caller ${how} while ringing: invite_canceled_notify to the callee, the call ends Cancel`, async () => {
      const callId = await start('alice', ['bob']);
      assert.equal((await send('alice', cmd, { CallId: callId, ...body })).ErrorCode, 0);
      assert.deepEqual(take(), [
        { user: 'alice', command: 'end_call_notify', data: { CallId: callId } },
        { user: 'bob', command: 'invite_canceled_notify', data: { CallId: callId, Operator_Account: 'alice', Caller_Account: 'alice', Reason: 0 } },
      ]);
      assert.equal((await calls.record(app, callId)).result, 'Cancel');
    });
  }

  // docs/chat-and-calls.md, call engine: no answer (the server's ring timer drives it).
  it('ring timeout: the caller gets ActionType 3, the callee invite_canceled_notify; the call ends NotAnswer', async () => {
    const callId = await start('alice', ['bob'], { Timeout: 20_000 });
    mock.timers.tick(19_999);
    await flush();
    assert.deepEqual(take(), []);
    mock.timers.tick(1);
    await until(() => pushes.length === 2);
    assert.deepEqual(take(), [
      { user: 'bob', command: 'invite_canceled_notify', data: { CallId: callId, Operator_Account: 'alice', Caller_Account: 'alice', Reason: 0 } },
      { user: 'alice', command: 'call_member_changed_notify', data: { CallId: callId, AllUserList: [{ User_Account: 'alice', Status: 2 }], OperationUserList: [{ User_Account: 'bob', ActionType: 3 }] } },
    ]);
    assert.equal((await calls.record(app, callId)).result, 'NotAnswer');
  });

  // docs/chat-and-calls.md, call engine: busy (ResultCode 2 → onUserLineBusy).
  it('busy: start_call to a callee already rung answers ResultCode 2 and ends CallBusy without any invite', async () => {
    await start('alice', ['bob']);
    const r = await send('carol', 'start_call', { CallInfo: { CallMediaType: 1, RoomId: '42' }, CalleeList_Account: ['bob'] });
    assert.equal(r.ErrorCode, 0);
    assert.deepEqual(r.Response!.CallResult, [{ Callee_Account: 'bob', ResultCode: 2 }]);
    assert.deepEqual(take(), []);
    assert.equal((await calls.record(app, r.Response!.CallId as string)).result, 'CallBusy');
    assert.equal(calls.isBusy(app, 'carol'), false);
  });

  // docs/chat-and-calls.md, call engine: group calls.
  it('group call: accept, reject, invite_user (ActionType 7) and join_in_call (ActionType 1) reach the right members', async () => {
    const callId = await start('alice', ['bob', 'carol']);
    await send('bob', 'handle_call', { CallId: callId, ActionType: 1 });
    const members = (...s: Array<[string, number]>) => s.map(([u, st]) => ({ User_Account: u, Status: st }));
    const changed = (all: unknown, user: string, action: number) => ({ CallId: callId, AllUserList: all, OperationUserList: [{ User_Account: user, ActionType: action }] });
    const accepted = changed(members(['alice', 2], ['bob', 2], ['carol', 1]), 'bob', 5);
    assert.deepEqual(take(), [
      { user: 'alice', command: 'call_handled_notify', data: { CallId: callId, ActionType: 1 } },
      { user: 'alice', command: 'call_member_changed_notify', data: accepted },
      { user: 'carol', command: 'call_member_changed_notify', data: accepted },
    ]);
    await send('carol', 'handle_call', { CallId: callId, ActionType: 2 });
    const rejected = changed(members(['alice', 2], ['bob', 2]), 'carol', 2);
    assert.deepEqual(take(), [
      { user: 'alice', command: 'call_member_changed_notify', data: rejected },
      { user: 'bob', command: 'call_member_changed_notify', data: rejected },
    ]);

    const inv = await send('bob', 'invite_user', { CallId: callId, CalleeList_Account: ['dave'], Caller_Account: 'alice', Timeout: 30_000 });
    assert.deepEqual([inv.ErrorCode, inv.Response], [0, { CallResult: [{ Callee_Account: 'dave', ResultCode: 0 }] }]);
    const invited = take();
    assert.deepEqual(brief(invited), [['dave', 'invite_user_notify'], ['alice', 'call_member_changed_notify'], ['bob', 'call_member_changed_notify']]);
    assert.deepEqual(invited[0]!.data.CalleeList_Account, ['bob', 'carol', 'dave']);
    assert.deepEqual(invited[0]!.data.AllUserList, members(['alice', 2], ['bob', 2], ['dave', 1]));
    assert.deepEqual(invited[1]!.data, changed(members(['alice', 2], ['bob', 2], ['dave', 1]), 'dave', 7));

    const join = await send('erin', 'join_in_call', { CallId: callId, User_Account: 'erin' });
    assert.deepEqual(join.Response, { CallInfo: { CallId: callId, CallMediaType: 2, ExcludeFromHistoryMessage: false, GroupId: '', IsEphemeralCall: false, RoomId: '767515797', RoomIdType: 1 } });
    const joined = changed(members(['alice', 2], ['bob', 2], ['dave', 1], ['erin', 2]), 'erin', 1);
    assert.deepEqual(take(), ['alice', 'bob', 'dave'].map((user) => ({ user, command: 'call_member_changed_notify', data: joined })));
  });

  // docs/chat-and-calls.md, call engine: heart_beat (ActionType 6, Offline).
  it('heart_beat watch: a member silent for HEARTBEAT_TIMEOUT_MS goes Offline; the other gets ActionType 6 and the call ends Interrupt', async () => {
    engine.start();
    const callId = await start('alice', ['bob']);
    await send('bob', 'handle_call', { CallId: callId, ActionType: 1 });
    assert.deepEqual(await send('alice', 'heart_beat', { CallId: callId, User_Account: 'alice' }).then((r) => [r.ErrorCode, r.Response]), [0, {}]);
    take();
    // alice beats every 5 s; bob's last sign of life is his accept at t0. The sweep runs every 5 s.
    for (let t = 5000; t <= HEARTBEAT_TIMEOUT_MS; t += 5000) {
      mock.timers.tick(5000);
      assert.equal((await send('alice', 'heart_beat', { CallId: callId })).ErrorCode, 0);
    }
    await Promise.all(tracked);
    assert.deepEqual(take(), [], 'exactly HEARTBEAT_TIMEOUT_MS of silence is still alive');
    mock.timers.tick(5000);
    await until(() => pushes.length === 1);
    await Promise.all(tracked);
    assert.deepEqual(take(), [
      { user: 'alice', command: 'call_member_changed_notify', data: { CallId: callId, AllUserList: [{ User_Account: 'alice', Status: 2 }], OperationUserList: [{ User_Account: 'bob', ActionType: 6 }] } },
    ]);
    assert.equal((await calls.record(app, callId)).result, 'Interrupt');
    mock.timers.tick(60_000);
    await flush();
    await Promise.all(tracked);
    assert.deepEqual(take(), [], 'the ended call is no longer watched');
  });

  // docs/chat-and-calls.md, call engine replies: ErrorCode 101001 … 101006 in {ErrorCode, ErrorInfo, RequestId}.
  it('refusals in the envelope: 101001 bad Body, 101004 unknown call or not a member, 101005 nothing ringing', async () => {
    const code = async (user: string, cmd: string, body: unknown) => {
      const r = await send(user, cmd, body);
      if (r.ErrorCode !== 0) assert.deepEqual([r.Response, typeof r.ErrorInfo, r.ErrorInfo.length > 0], [undefined, 'string', true]);
      return r.ErrorCode;
    };
    assert.equal(await code('alice', 'start_call', {}), 101001);
    assert.equal(await code('alice', 'start_call', { CallInfo: { CallMediaType: 1, RoomId: 'abc', RoomIdType: 1 }, CalleeList_Account: ['bob'] }), 101001);
    assert.equal(await code('alice', 'start_call', { CallInfo: { CallMediaType: 1, RoomId: '1' }, CalleeList_Account: ['bob'], Caller_Account: 'carol' }), 101001);
    assert.equal(await code('alice', 'start_call', { CallInfo: { CallMediaType: 1, RoomId: '1' }, CalleeList_Account: ['nobody'] }), 101006);
    assert.equal(await code('alice', 'get_invitation', { User_Account: 'alice' }), 101005);
    assert.equal(await code('alice', 'hangup', { CallId: 'no-such-call' }), 101004);
    const callId = await start('alice', ['bob']);
    assert.equal(await code('bob', 'handle_call', { CallId: callId, ActionType: 3 }), 101001);
    assert.equal(await code('carol', 'hangup', { CallId: callId }), 101004);
    assert.equal(await code('carol', 'get_call_info', { CallId: callId }), 101004);
    assert.equal(await code('carol', 'heart_beat', { CallId: callId }), 101004);
    assert.equal(await code('alice', 'handle_call', { CallId: callId, ActionType: 1 }), 101002);
    assert.equal(await code('alice', 'get_invitation', {}), 101005, 'the caller has no invitation');
    assert.equal(await code('carol', 'start_call', { CallInfo: { CallMediaType: 1, RoomId: '1' }, CalleeList_Account: ['dave'], Caller_Account: 'carol' }), 0);
    assert.equal(await code('alice', 'join_in_call', { CallId: callId }), 101003);
    assert.equal(await code('erin', 'join_in_call', { CallId: callId }), 101002, 'a 1v1 call cannot be joined');
    assert.deepEqual(brief(take()), [['dave', 'invite_user_notify']]);
  });

  // docs/chat-and-calls.md, call engine: requests after login (get_invitation, clean_previous_device_call).
  it('clean_previous_device_call leaves the calls the user is in, not those ringing it', async () => {
    const inCall = await start('alice', ['bob']);
    await send('bob', 'handle_call', { CallId: inCall, ActionType: 1 });
    const ringing = await start('carol', ['dave']);
    take();
    assert.deepEqual(await send('dave', 'clean_previous_device_call', {}).then((r) => [r.ErrorCode, r.Response]), [0, {}]);
    assert.equal(calls.get(app, ringing).result, null, 'a ringing callee is left ringing');
    assert.deepEqual(await send('bob', 'clean_previous_device_call', {}).then((r) => [r.ErrorCode, r.Response]), [0, {}]);
    assert.deepEqual(take(), [
      { user: 'alice', command: 'call_member_changed_notify', data: { CallId: inCall, AllUserList: [{ User_Account: 'alice', Status: 2 }], OperationUserList: [{ User_Account: 'bob', ActionType: 4 }] } },
    ]);
    assert.equal((await calls.record(app, inCall)).result, 'NormalEnd');
    assert.equal(calls.isBusy(app, 'bob'), false);
  });
});
