import { randomUUID } from 'node:crypto';
import type { Bus } from '../../bus/bus.ts';
import { SINGLE_NODE, type Coordination } from '../../bus/coordination.ts';
import type { CallRow } from '../../store/calls-repo.ts';
import type { Repos, Store } from '../../store/store.ts';
import { afterEndCall, afterMemberChanged, afterStartCall, type CallbackEvent } from '../../webhooks/call-callbacks.ts';
import { callbackRows } from '../../webhooks/outbox.ts';
import type { AccountsService } from '../accounts/accounts-service.ts';
import type { AppsService } from '../apps/apps-service.ts';
import { DomainError } from '../errors.ts';
import type { Call, CallResult, CallType, MediaType, MemberChange } from './call.ts';
import { end, transition, type CallAction, type Transition } from './call-machine.ts';
import { SerialPerApp } from '../serial.ts';
import { userKey, type UserKey } from '../tenant-keys.ts';

/** Ring timeout when neither the call nor the app sets one (TUICallKit's 30 s). */
const DEFAULT_RING_TIMEOUT_MS = 30_000;
/** Records are kept for the filter API this long (7 days). */
const RECORD_WINDOW_MS = 7 * 86_400_000;
/** Bus topic of call changes. */
export const CALL_TOPIC = 'call.changed';

/** Where a change came from, for the callback query string (ClientIP, OptPlatform). */
export interface Origin {
  clientIp: string;
  platform: string;
}

const REST_ORIGIN: Origin = { clientIp: '', platform: 'RESTAPI' };

/** What `start` needs. */
export interface StartCall {
  sdkAppId: number;
  caller: string;
  callees: string[];
  mediaType: MediaType;
  callType?: CallType;
  chatGroupId?: string;
  roomId?: string;
  roomIdType?: number;
  userData?: string;
  ringTimeoutMs?: number;
  /** Started by a robot (start_call_by_robot): the caller is not checked for busy. */
  robot?: boolean;
}

/** A call change as published on the bus. */
export interface CallChanged {
  call: Call;
  changes: MemberChange[];
  started: boolean;
  ended: boolean;
}

function toRow(c: Call): CallRow {
  return {
    call_id: c.callId,
    sdk_app_id: c.sdkAppId,
    caller: c.caller,
    media_type: c.mediaType,
    call_type: c.callType,
    chat_group_id: c.chatGroupId,
    room_id: c.roomId,
    room_id_type: c.roomIdType,
    user_data: c.userData,
    ring_timeout_ms: c.ringTimeoutMs,
    robot: c.robot ? 1 : 0,
    start_time: c.startTime,
    accept_time: c.acceptTime,
    end_time: c.endTime,
    result: c.result ?? '',
    members: JSON.stringify(c.members),
    invited: JSON.stringify(c.invited),
  };
}

/** A stored call. */
function fromRow(r: CallRow): Call {
  return {
    callId: r.call_id,
    sdkAppId: Number(r.sdk_app_id),
    caller: r.caller,
    mediaType: r.media_type as MediaType,
    callType: r.call_type as CallType,
    chatGroupId: r.chat_group_id,
    roomId: r.room_id,
    roomIdType: Number(r.room_id_type),
    userData: r.user_data,
    ringTimeoutMs: Number(r.ring_timeout_ms),
    robot: Number(r.robot) === 1,
    startTime: Number(r.start_time),
    acceptTime: Number(r.accept_time),
    endTime: Number(r.end_time),
    result: (r.result || null) as CallResult | null,
    members: JSON.parse(r.members) as Call['members'],
    invited: JSON.parse(r.invited) as string[],
  };
}

/** How long a ring timeout that could not be recorded (the store or Redis away) waits before it is tried again, ms. */
export const RING_RETRY_MS = 1000;

/**
 * TUICallKit calls: the lifecycle state machine driven by typed actions, with every transition persisted
 * (call row and callback outbox in one transaction) before it is acknowledged, then published on the bus.
 * Active calls live in memory; ring timeouts are timers rebuilt from the store at start-up.
 */
export class CallsService {
  private readonly active = new Map<string, Call>();
  /** `${sdkAppId}\n${userId}` → ids of the active calls the user is a member of (busy detection). */
  private readonly byUser = new Map<UserKey, Set<string>>();
  /** Ring timers of each active call, by callee. */
  private readonly timers = new Map<string, NodeJS.Timeout[]>();
  private readonly serial = new SerialPerApp();
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly apps: AppsService,
    private readonly accounts: AccountsService,
    private readonly bus: Bus,
    private readonly onQueued: () => void = () => undefined,
    private readonly coordination: Coordination = SINGLE_NODE,
  ) {}

  /** Follows calls changed by other nodes, reloads active calls and re-arms their ring timers (expired ones fire at once). */
  async start(): Promise<void> {
    this.stopped = false;
    // Calls changed by other nodes: keep this node's view (busy detection, get_call_info, invitations) current.
    this.unsubscribe ??= this.bus.subscribe(CALL_TOPIC, (p, remote) => {
      if (remote) this.remember((p as CallChanged).call);
    });
    for (const row of await this.store.calls.active()) this.remember(fromRow(row));
  }

  /** Stops every ring timer and stops following other nodes. */
  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const list of this.timers.values()) list.forEach(clearTimeout);
    this.timers.clear();
  }

  /** An active call, or NOT_FOUND when it does not exist or has ended. */
  get(sdkAppId: number, callId: string): Call {
    const call = this.active.get(callId);
    if (!call || call.sdkAppId !== sdkAppId) throw new DomainError('NOT_FOUND', `call ${callId} does not exist or has ended`);
    return call;
  }

  /** Whether a user is a member of an active call. */
  isBusy(sdkAppId: number, userId: string): boolean {
    return (this.byUser.get(userKey(sdkAppId, userId))?.size ?? 0) > 0;
  }

  /** The active calls a user is a member of (in the call or being rung). */
  callsOf(sdkAppId: number, userId: string): Call[] {
    return [...(this.byUser.get(userKey(sdkAppId, userId)) ?? [])].map((id) => this.active.get(id)).filter((c): c is Call => c !== undefined);
  }

  /** The calls of an app ringing or in progress, oldest first. */
  activeCalls(sdkAppId: number): Call[] {
    return [...this.active.values()].filter((c) => c.sdkAppId === sdkAppId);
  }

  /** The record of an ended call, or NOT_FOUND. */
  async record(sdkAppId: number, callId: string): Promise<Call> {
    const row = await this.store.calls.get(sdkAppId, callId);
    if (!row || !row.result) throw new DomainError('NOT_FOUND', `no record of call ${callId}`);
    return fromRow(row);
  }

  /** Ended calls that started in [fromMs, toMs], newest first (only the last 7 days are kept for this). */
  async records(f: { sdkAppId: number; fromMs?: number; toMs?: number; result?: string; callType?: string; page: number; perPage: number }): Promise<{ total: number; calls: Call[] }> {
    const now = Date.now();
    const fromMs = Math.max(f.fromMs ?? 0, now - RECORD_WINDOW_MS);
    const { rows, total } = await this.store.calls.ended({
      sdkAppId: f.sdkAppId,
      fromMs,
      toMs: f.toMs ?? now,
      result: f.result,
      callType: f.callType,
      limit: f.perPage,
      offset: (f.page - 1) * f.perPage,
    });
    return { total, calls: rows.map(fromRow) };
  }

  /** Starts a call: the caller is in it, callees are rung; busy callees are left out (all busy: ends CallBusy). */
  async startCall(s: StartCall, origin: Origin = REST_ORIGIN): Promise<{ call: Call; busy: string[] }> {
    const callees = [...new Set(s.callees)];
    if (callees.length === 0) throw new DomainError('INVALID_ARGUMENT', 'at least one callee is needed');
    if (callees.includes(s.caller)) throw new DomainError('INVALID_ARGUMENT', 'the caller cannot call itself');
    const missing = await this.missingAccounts(s.sdkAppId, [s.caller, ...callees]);
    if (missing.length) throw new DomainError('INVALID_ARGUMENT', `accounts not imported: ${missing.join(', ')}`, 'UNKNOWN_ACCOUNT');
    return this.serial.run(s.sdkAppId, async () => {
      if (!s.robot && this.isBusy(s.sdkAppId, s.caller)) throw new DomainError('FAILED_PRECONDITION', `${s.caller} is already in a call`, 'CALLER_BUSY');
      const now = Date.now();
      const ring = s.ringTimeoutMs ?? this.apps.get(s.sdkAppId)?.settings.callRingTimeoutMs ?? DEFAULT_RING_TIMEOUT_MS;
      const busy = callees.filter((c) => this.isBusy(s.sdkAppId, c));
      const free = callees.filter((c) => !busy.includes(c));
      let call: Call = {
        callId: randomUUID(),
        sdkAppId: s.sdkAppId,
        caller: s.caller,
        mediaType: s.mediaType,
        callType: s.callType ?? (callees.length > 1 || s.chatGroupId ? 'MultiCall' : 'SingleCall'),
        chatGroupId: s.chatGroupId ?? '',
        roomId: s.roomId ?? '',
        roomIdType: s.roomIdType ?? 0,
        userData: s.userData ?? '',
        ringTimeoutMs: ring,
        robot: s.robot ?? false,
        startTime: now,
        acceptTime: 0,
        endTime: 0,
        result: null,
        members: [{ userId: s.caller, status: 'Calling', ringDeadline: 0 }, ...free.map((userId) => ({ userId, status: 'Waiting' as const, ringDeadline: now + ring }))],
        invited: [s.caller, ...callees],
      };
      const events: CallbackEvent[] = [afterStartCall(call, now)];
      if (free.length === 0) {
        call = end(call, 'CallBusy', now);
        events.push(afterEndCall(call, now));
      }
      await this.commit(call, events, origin);
      this.publish({ call, changes: [], started: true, ended: call.result !== null });
      return { call, busy };
    });
  }

  /** A callee answers. */
  accept(sdkAppId: number, callId: string, user: string, origin?: Origin): Promise<Call> {
    return this.act(sdkAppId, callId, { type: 'accept', user }, origin);
  }

  /** A callee declines. */
  reject(sdkAppId: number, callId: string, user: string, origin?: Origin): Promise<Call> {
    return this.act(sdkAppId, callId, { type: 'reject', user }, origin);
  }

  /** A member leaves (the caller before any answer: cancel; a callee still ringing: reject). */
  hangup(sdkAppId: number, callId: string, user: string, origin?: Origin): Promise<Call> {
    return this.act(sdkAppId, callId, { type: 'hangup', user }, origin);
  }

  /** The caller cancels the whole call before anyone answered, or (with `target`) one pending invitation. */
  cancel(sdkAppId: number, callId: string, user: string, target?: string, origin?: Origin): Promise<Call> {
    return this.act(sdkAppId, callId, target === undefined ? { type: 'cancel', user } : { type: 'cancelInvite', user, target }, origin);
  }

  /** A user joins a group call on their own initiative. */
  async join(sdkAppId: number, callId: string, user: string, origin?: Origin): Promise<Call> {
    if ((await this.missingAccounts(sdkAppId, [user])).length) throw new DomainError('INVALID_ARGUMENT', `account not imported: ${user}`, 'UNKNOWN_ACCOUNT');
    if (this.isBusy(sdkAppId, user)) throw new DomainError('FAILED_PRECONDITION', `${user} is already in a call`, 'CALLEE_BUSY');
    return this.act(sdkAppId, callId, { type: 'join', user }, origin);
  }

  /** A member of a group call invites more users; busy ones are skipped and returned. */
  async invite(sdkAppId: number, callId: string, user: string, targets: string[], origin?: Origin): Promise<{ call: Call; busy: string[] }> {
    const missing = await this.missingAccounts(sdkAppId, targets);
    if (missing.length) throw new DomainError('INVALID_ARGUMENT', `accounts not imported: ${missing.join(', ')}`, 'UNKNOWN_ACCOUNT');
    const busy = targets.filter((t) => this.isBusy(sdkAppId, t) && !this.get(sdkAppId, callId).members.some((m) => m.userId === t));
    const call = await this.act(sdkAppId, callId, { type: 'invite', user, targets: targets.filter((t) => !busy.includes(t)) }, origin);
    return { call, busy };
  }

  /** A member's connection is gone (heartbeat lost). */
  offline(sdkAppId: number, callId: string, user: string, origin?: Origin): Promise<Call> {
    return this.act(sdkAppId, callId, { type: 'offline', user }, origin);
  }

  /** Ends a call for everyone (end_call). */
  endCall(sdkAppId: number, callId: string, origin?: Origin): Promise<Call> {
    return this.act(sdkAppId, callId, { type: 'end' }, origin);
  }

  private act(sdkAppId: number, callId: string, action: CallAction, origin: Origin = REST_ORIGIN): Promise<Call> {
    return this.serial.run(sdkAppId, () =>
      this.coordination.withLock(`call:${callId}`, async () => {
        const t = transition(await this.current(sdkAppId, callId), action, Date.now());
        await this.apply(t, origin);
        return t.call;
      }),
    );
  }

  /** The active call as it is now: from memory on one node, from the store when other nodes may have changed it. */
  private async current(sdkAppId: number, callId: string): Promise<Call> {
    if (!this.coordination.shared) return this.get(sdkAppId, callId);
    const row = await this.store.calls.get(sdkAppId, callId);
    if (!row || row.result) {
      if (row) this.remember(fromRow(row));
      throw new DomainError('NOT_FOUND', `call ${callId} does not exist or has ended`);
    }
    return fromRow(row);
  }

  private async apply(t: Transition, origin: Origin): Promise<void> {
    const now = t.call.endTime || Date.now();
    const events: CallbackEvent[] = [];
    if (t.changes.length) events.push(afterMemberChanged(t.call, t.changes, now));
    if (t.ended) events.push(afterEndCall(t.call, now));
    await this.commit(t.call, events, origin);
    this.publish({ call: t.call, changes: t.changes, started: false, ended: t.ended });
  }

  /** Persists the call and the callbacks its app wants (callbackTarget) in one transaction, then updates memory and timers. */
  private async commit(call: Call, events: CallbackEvent[], origin: Origin): Promise<void> {
    const rows = callbackRows(this.apps.get(call.sdkAppId)?.settings, call.sdkAppId, events, origin);
    await this.store.transaction(async (tx: Repos) => {
      await tx.calls.save(toRow(call));
      if (rows.length) await tx.outbox.enqueue(rows);
    });
    this.remember(call);
    if (rows.length) this.onQueued();
  }

  private remember(call: Call): void {
    const prev = this.active.get(call.callId);
    for (const m of prev?.members ?? []) {
      const key = userKey(call.sdkAppId, m.userId);
      const set = this.byUser.get(key);
      if (set?.delete(call.callId) && set.size === 0) this.byUser.delete(key);
    }
    this.timers.get(call.callId)?.forEach(clearTimeout);
    this.timers.delete(call.callId);
    if (call.result !== null) {
      this.active.delete(call.callId);
      return;
    }
    this.active.set(call.callId, call);
    const timers: NodeJS.Timeout[] = [];
    for (const m of call.members) {
      if (!(call.robot && m.userId === call.caller)) {
        const key = userKey(call.sdkAppId, m.userId);
        let set = this.byUser.get(key);
        if (!set) this.byUser.set(key, (set = new Set()));
        set.add(call.callId);
      }
      if (m.status === 'Waiting') {
        const timer = setTimeout(() => void this.ringTimeout(call.sdkAppId, call.callId, m.userId), Math.max(0, m.ringDeadline - Date.now()));
        timer.unref?.();
        timers.push(timer);
      }
    }
    if (timers.length) this.timers.set(call.callId, timers);
  }

  private async ringTimeout(sdkAppId: number, callId: string, user: string): Promise<void> {
    try {
      await this.act(sdkAppId, callId, { type: 'timeout', user });
    } catch (err) {
      // A refusal means the call moved on (answered, ended) meanwhile. Any other failure (the store or Redis away) must
      // not leave the callee ringing for ever: try again, until the timeout is recorded or the call has moved on.
      if (err instanceof DomainError || this.stopped || !this.active.has(callId)) return;
      const timer = setTimeout(() => void this.ringTimeout(sdkAppId, callId, user), RING_RETRY_MS);
      timer.unref?.();
      const list = this.timers.get(callId);
      if (list) list.push(timer);
      else this.timers.set(callId, [timer]);
    }
  }

  private publish(e: CallChanged): void {
    this.bus.publish(CALL_TOPIC, e);
  }

  private async missingAccounts(sdkAppId: number, userIds: string[]): Promise<string[]> {
    const have = await this.accounts.existing(sdkAppId, userIds);
    return userIds.filter((u) => !have.has(u));
  }

}
