// TUICallKit's call engine over the Chat socket (docs/chat-and-calls.md "Calls"): call_engine_srv.* requests drive
// trtcd's CallsService, and every call change is pushed to every instance of every member as the notifications the
// engine reacts to, whichever client (Chat, /rtc, REST) made it.
import { randomBytes } from 'node:crypto';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Logger } from '../../logger.ts';
import type { Call, MemberAction } from '../../services/calls/call.ts';
import type { CallChanged, CallsService, Origin } from '../../services/calls/calls-service.ts';
import { DomainError } from '../../services/errors.ts';
import type { ChatCommand, ChatCommandTable } from './command.ts';
import { CallEngineErrors, type ChatErrorEntry } from './errors.ts';
import type { ChatSession } from './session.ts';
import { callMemberKey, type CallMemberKey } from '../../services/tenant-keys.ts';
import { GatewayError } from '../gateway-error.ts';

/** What the call engine binding needs. */
interface CallEngineDeps {
  calls: Pick<CallsService, 'startCall' | 'accept' | 'reject' | 'hangup' | 'cancel' | 'join' | 'invite' | 'offline' | 'get' | 'callsOf'>;
  /** Pushes to every instance of a user on this node. */
  pushTo(sdkAppId: number, userId: string, servcmd: string, body: unknown): number;
  track(p: Promise<unknown>): void;
  log: Logger;
}

/** A member who sends no heart_beat for this long is taken as gone (Offline), ms; the engine beats every 2 s. */
export const HEARTBEAT_TIMEOUT_MS = 30_000;
/** How often heart_beats are checked, ms. */
const HEARTBEAT_SWEEP_MS = 5000;
/** Longest ring a call may ask for, ms (the engine sends its `timeout` in ms). */
const MAX_RING_MS = 600_000;
const MIN_RING_MS = 1000;

/** OperationUserList[].ActionType of call_member_changed_notify, by trtcd's member action. */
const ACTION_TYPE: Record<MemberAction, number> = {
  Join: 1,
  Reject: 2,
  NotAnswer: 3,
  Hangup: 4,
  Accept: 5,
  Offline: 6,
  Invite: 7,
  // A withdrawn invitation reads as the invitee leaving (the engine has no number of its own for it).
  Cancel_Invite: 4,
};

const REFUSALS: Partial<Record<string, ChatErrorEntry>> = {
  NOT_FOUND: CallEngineErrors.CALL_NOT_FOUND,
  CALLER_BUSY: CallEngineErrors.BUSY,
  CALLEE_BUSY: CallEngineErrors.BUSY,
  UNKNOWN_ACCOUNT: CallEngineErrors.USER_NOT_FOUND,
  FAILED_PRECONDITION: CallEngineErrors.CALL_STATE,
  INVALID_ARGUMENT: CallEngineErrors.INVALID_PARAMETER,
};

const UserId = Type.String({ minLength: 1, maxLength: 32 });
const CallId = Type.String({ minLength: 1, maxLength: 64 });
const Callees = Type.Array(UserId, { minItems: 1, maxItems: 100 });

/** The engine's media type numbers. */
function mediaNumber(c: Call): number {
  return c.mediaType === 'Video' ? 2 : 1;
}

function allUsers(c: Call): Array<{ User_Account: string; Status: number }> {
  return c.members.map((m) => ({ User_Account: m.userId, Status: m.status === 'Calling' ? 2 : 1 }));
}

function callInfo(c: Call): Record<string, unknown> {
  return {
    CallId: c.callId,
    CallMediaType: mediaNumber(c),
    ExcludeFromHistoryMessage: false,
    GroupId: c.chatGroupId,
    IsEphemeralCall: false,
    RoomId: c.roomId,
    RoomIdType: c.roomIdType || 1,
  };
}

/** invite_user_notify's Data, which get_invitation answers too. */
function invitation(c: Call): Record<string, unknown> {
  return {
    Operator_Account: c.caller,
    Caller_Account: c.caller,
    CalleeList_Account: c.invited.filter((u) => u !== c.caller),
    AllUserList: allUsers(c),
    CallInfo: callInfo(c),
    Timeout: c.ringTimeoutMs,
    UserData: c.userData,
  };
}

/** A notification push: an im_open_push.msg_push item of Event 100 whose Content is the JSON text {Head, Data}. */
function notification(command: string, data: Record<string, unknown>): Record<string, unknown> {
  return { EventArray: [{ Event: 100, Content: JSON.stringify({ Head: { Version: 2, Command: `call_engine_srv.${command}` }, Data: data }) }] };
}

function origin(s: ChatSession): Origin {
  return { clientIp: s.ip ?? '', platform: 'Web' };
}

/** The call engine's commands and pushes, and the heart_beat watch. */
export class ChatCallEngine {
  /** Last heart_beat of each member that sends them: `${sdkAppId}\n${callId}\n${userId}` → ms. */
  private readonly beats = new Map<CallMemberKey, number>();
  private sweep: NodeJS.Timeout | undefined;

  readonly commands: ChatCommandTable;

  constructor(private readonly d: CallEngineDeps) {
    const c = d.calls;
    this.commands = {
      'call_engine_srv.get_invitation': this.command(Type.Object({}), (s) => {
        const ringing = c.callsOf(s.sdkAppId, s.userId).find((x) => x.members.some((m) => m.userId === s.userId && m.status === 'Waiting'));
        if (!ringing) throw new GatewayError(CallEngineErrors.NO_INVITATION);
        return invitation(ringing);
      }),
      // A new login: calls a previous instance of the user was still in are left, as that instance is gone.
      'call_engine_srv.clean_previous_device_call': this.command(Type.Object({}), async (s) => {
        for (const x of c.callsOf(s.sdkAppId, s.userId)) {
          if (x.members.some((m) => m.userId === s.userId && m.status === 'Calling')) await this.refused(() => c.hangup(s.sdkAppId, x.callId, s.userId, origin(s))).catch(() => undefined);
        }
        return {};
      }),
      'call_engine_srv.start_call': this.command(
        Type.Object({
          CallInfo: Type.Object({
            CallMediaType: Type.Union([Type.Literal(1), Type.Literal(2)]),
            RoomId: Type.String({ minLength: 1, maxLength: 64 }),
            RoomIdType: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)])),
            GroupId: Type.Optional(Type.String({ maxLength: 48 })),
          }),
          CalleeList_Account: Callees,
          Caller_Account: Type.Optional(UserId),
          Timeout: Type.Optional(Type.Integer({ minimum: 0 })),
          UserData: Type.Optional(Type.String({ maxLength: 1000 })),
        }),
        async (s, b) => {
          if (b.Caller_Account !== undefined && b.Caller_Account !== s.userId) throw new GatewayError(CallEngineErrors.INVALID_PARAMETER, 'Caller_Account must be the logged-in user');
          const roomIdType = b.CallInfo.RoomIdType ?? 1;
          if (roomIdType === 1 && !/^[1-9]\d{0,9}$/.test(b.CallInfo.RoomId)) throw new GatewayError(CallEngineErrors.INVALID_PARAMETER, 'RoomId of RoomIdType 1 must be a decimal room number');
          const ring = b.Timeout ? Math.min(MAX_RING_MS, Math.max(MIN_RING_MS, b.Timeout)) : undefined;
          const { call, busy } = await this.refused(() =>
            c.startCall(
              {
                sdkAppId: s.sdkAppId,
                caller: s.userId,
                callees: b.CalleeList_Account,
                mediaType: b.CallInfo.CallMediaType === 2 ? 'Video' : 'Audio',
                chatGroupId: b.CallInfo.GroupId || undefined,
                roomId: b.CallInfo.RoomId,
                roomIdType,
                userData: b.UserData,
                ringTimeoutMs: ring,
              },
              origin(s),
            ),
          );
          // ResultCode 2 is what makes the engine report the callee busy (onUserLineBusy).
          return { CallId: call.callId, CallResult: [...new Set(b.CalleeList_Account)].map((u) => ({ Callee_Account: u, ResultCode: busy.includes(u) ? 2 : 0 })) };
        },
      ),
      'call_engine_srv.handle_call': this.command(Type.Object({ CallId, ActionType: Type.Union([Type.Literal(1), Type.Literal(2)]) }), async (s, b) => {
        this.visible(s, b.CallId);
        await this.refused(() => (b.ActionType === 1 ? c.accept : c.reject).call(c, s.sdkAppId, b.CallId, s.userId, origin(s)));
        if (b.ActionType === 1) this.beat(s.sdkAppId, b.CallId, s.userId);
        return { CallId: b.CallId };
      }),
      'call_engine_srv.hangup': this.command(Type.Object({ CallId }), async (s, b) => {
        this.visible(s, b.CallId);
        await this.refused(() => c.hangup(s.sdkAppId, b.CallId, s.userId, origin(s)));
        return { CallId: b.CallId };
      }),
      'call_engine_srv.cancel_invite': this.command(Type.Object({ CallId, CalleeList_Account: Callees }), async (s, b) => {
        const call = this.visible(s, b.CallId);
        const waiting = call.members.filter((m) => m.status === 'Waiting').map((m) => m.userId);
        if (s.userId === call.caller && call.acceptTime === 0 && waiting.every((u) => b.CalleeList_Account.includes(u))) {
          await this.refused(() => c.cancel(s.sdkAppId, b.CallId, s.userId, undefined, origin(s)));
        } else {
          for (const t of b.CalleeList_Account.filter((u) => waiting.includes(u))) await this.refused(() => c.cancel(s.sdkAppId, b.CallId, s.userId, t, origin(s)));
        }
        return { CallId: b.CallId };
      }),
      'call_engine_srv.heart_beat': this.command(Type.Object({ CallId }), (s, b) => {
        const call = this.visible(s, b.CallId);
        if (!call.members.some((m) => m.userId === s.userId)) throw new GatewayError(CallEngineErrors.CALL_NOT_FOUND);
        this.beat(s.sdkAppId, b.CallId, s.userId);
        return {};
      }),
      'call_engine_srv.get_call_info': this.command(Type.Object({ CallId }), (s, b) => {
        const call = this.visible(s, b.CallId);
        return { CallInfo: callInfo(call), UserList: allUsers(call) };
      }),
      'call_engine_srv.invite_user': this.command(
        Type.Object({ CallId, CalleeList_Account: Callees, Timeout: Type.Optional(Type.Integer({ minimum: 0 })), UserData: Type.Optional(Type.String({ maxLength: 1000 })) }),
        async (s, b) => {
          this.visible(s, b.CallId);
          const { busy } = await this.refused(() => c.invite(s.sdkAppId, b.CallId, s.userId, b.CalleeList_Account, origin(s)));
          return { CallResult: [...new Set(b.CalleeList_Account)].map((u) => ({ Callee_Account: u, ResultCode: busy.includes(u) ? 2 : 0 })) };
        },
      ),
      'call_engine_srv.join_in_call': this.command(Type.Object({ CallId }), async (s, b) => {
        const call = await this.refused(() => c.join(s.sdkAppId, b.CallId, s.userId, origin(s)));
        this.beat(s.sdkAppId, b.CallId, s.userId);
        return { CallInfo: callInfo(call) };
      }),
    };
  }

  /** Starts the heart_beat watch. */
  start(): void {
    this.sweep ??= setInterval(() => this.checkBeats(), HEARTBEAT_SWEEP_MS);
    this.sweep.unref?.();
  }

  /** Stops the heart_beat watch. */
  stop(): void {
    clearInterval(this.sweep);
    this.sweep = undefined;
  }

  /** A call change (from any client or node) → the engine's notifications to the members on this node. */
  onCallChanged(e: CallChanged): void {
    const call = e.call;
    const app = call.sdkAppId;
    const send = (user: string, command: string, data: Record<string, unknown>): void => void this.d.pushTo(app, user, 'im_open_push.msg_push', notification(command, data));
    if (call.result !== null) for (const m of call.members) this.beats.delete(callMemberKey(app, call.callId, m.userId));
    const rung = e.started ? call.members.filter((m) => m.status === 'Waiting').map((m) => m.userId) : e.changes.filter((x) => x.action === 'Invite').map((x) => x.userId);
    if (call.result === null && rung.length) {
      const data = invitation(call);
      for (const u of rung) send(u, 'invite_user_notify', data);
    }
    if (e.started) return;
    const canceled = { CallId: call.callId, Operator_Account: call.caller, Caller_Account: call.caller, Reason: 0 };
    if (e.changes.length === 0) {
      // The whole call ended at once (cancelled, or end_call): those still rung stop ringing, those in it end.
      if (!e.ended) return;
      for (const m of call.members) {
        if (m.status === 'Waiting') send(m.userId, 'invite_canceled_notify', canceled);
        else send(m.userId, 'end_call_notify', { CallId: call.callId });
      }
      return;
    }
    const subjects = new Set(e.changes.map((x) => x.userId));
    for (const x of e.changes) {
      if (x.action === 'Accept' && x.userId !== call.caller && call.members.some((m) => m.userId === call.caller)) send(call.caller, 'call_handled_notify', { CallId: call.callId, ActionType: 1 });
      if (x.action === 'NotAnswer' || x.action === 'Cancel_Invite') send(x.userId, 'invite_canceled_notify', canceled);
    }
    const changed = {
      CallId: call.callId,
      AllUserList: allUsers(call),
      OperationUserList: e.changes.map((x) => ({ User_Account: x.userId, ActionType: ACTION_TYPE[x.action] })),
    };
    for (const m of call.members) {
      if (subjects.has(m.userId)) continue;
      // A call that ended with nobody in it leaves only people being rung: their ringing stops.
      if (e.ended && m.status === 'Waiting') send(m.userId, 'invite_canceled_notify', canceled);
      else send(m.userId, 'call_member_changed_notify', changed);
    }
  }

  private beat(sdkAppId: number, callId: string, userId: string): void {
    this.beats.set(callMemberKey(sdkAppId, callId, userId), Date.now());
  }

  /** Members whose heart_beats stopped go Offline (their engine or tab is gone). */
  private checkBeats(): void {
    const now = Date.now();
    for (const [key, at] of this.beats) {
      if (now - at <= HEARTBEAT_TIMEOUT_MS) continue;
      this.beats.delete(key);
      const [app, callId, userId] = key.split('\n') as [string, string, string];
      this.d.track(this.d.calls.offline(Number(app), callId, userId, { clientIp: '', platform: 'Web' }).catch((err: unknown) => {
        if (!(err instanceof DomainError)) throw err;
      }));
    }
  }

  /** The active call if the session's user was invited to it; CALL_NOT_FOUND otherwise (ids of others' calls stay unknown). */
  private visible(s: ChatSession, callId: string): Call {
    let call: Call | undefined;
    try {
      call = this.d.calls.get(s.sdkAppId, callId);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
    }
    if (!call || !call.invited.includes(s.userId)) throw new GatewayError(CallEngineErrors.CALL_NOT_FOUND);
    return call;
  }

  private async refused<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof DomainError) {
        const entry = (err.detail !== undefined ? REFUSALS[err.detail] : undefined) ?? REFUSALS[err.code];
        if (entry) throw new GatewayError(entry, err.message);
      }
      throw err;
    }
  }

  /** A command in the engine's envelope: Body checked against `schema`, the result as Response, errors as ErrorCode. */
  private command<S extends TSchema>(schema: S, fn: (s: ChatSession, body: Static<S>) => Promise<Record<string, unknown>> | Record<string, unknown>): ChatCommand {
    const check = TypeCompiler.Compile(schema);
    return {
      raw: true,
      handle: async (s, req) => {
        const RequestId = randomBytes(8).toString('hex');
        const body = (req.Body ?? {}) as unknown;
        try {
          if (!check.Check(body)) {
            const e = check.Errors(body).First();
            throw new GatewayError(CallEngineErrors.INVALID_PARAMETER, e ? `${e.path.slice(1) || 'Body'}: ${e.message}` : CallEngineErrors.INVALID_PARAMETER.message);
          }
          return { ErrorCode: 0, ErrorInfo: '', RequestId, Response: await fn(s, body) };
        } catch (err) {
          if (err instanceof GatewayError) return { ErrorCode: err.entry.code, ErrorInfo: err.message, RequestId };
          this.d.log.error({ err, userId: s.userId }, 'call engine request failed');
          return { ErrorCode: CallEngineErrors.INTERNAL.code, ErrorInfo: CallEngineErrors.INTERNAL.message, RequestId };
        }
      },
    };
  }
}
