import { Type } from '@sinclair/typebox';
import type { Bus } from '../bus/bus.ts';
import type { Logger } from '../logger.ts';
import type { Call } from '../services/calls/call.ts';
import { DomainError } from '../services/errors.ts';
import { CALL_TOPIC, type CallChanged, type CallsService, type Origin } from '../services/calls/calls-service.ts';
import { MAX_NUMERIC_ROOM_ID } from '../services/trtc-rooms/trtc-rooms-service.ts';
import { listen, typed, withRefusals, type RtcFeature, type SessionDirectory } from './feature.ts';
import { event, RtcErrors, type RtcErrorEntry } from './protocol.ts';
import type { RtcSession } from './session.ts';
import { GatewayError } from '../gateways/gateway-error.ts';

/** Most callees of one call.start or call.invite (the REST API's limit). */
const MAX_CALL_TARGETS = 100;
/** Longest call userData, bytes. */
const MAX_CALL_USER_DATA_BYTES = 1000;

/** What the call part of /rtc needs. */
interface CallFeatureDeps {
  calls: Pick<CallsService, 'startCall' | 'accept' | 'reject' | 'hangup' | 'cancel' | 'join' | 'invite' | 'offline' | 'get' | 'callsOf'>;
  bus: Bus;
  log: Logger;
  sessions: SessionDirectory;
  track(p: Promise<unknown>): void;
}

/** How call-engine refusals read on the wire. */
const CALL_ERRORS: Partial<Record<string, RtcErrorEntry>> = {
  NOT_FOUND: RtcErrors.NOT_FOUND,
  CALLER_BUSY: RtcErrors.BUSY,
  CALLEE_BUSY: RtcErrors.BUSY,
  UNKNOWN_ACCOUNT: RtcErrors.USER_NOT_FOUND,
  FAILED_PRECONDITION: RtcErrors.CALL_STATE,
};

const UserId = Type.String({ minLength: 1, maxLength: 32 });
const CallId = Type.Object({ callId: Type.String({ minLength: 1, maxLength: 64 }) });

/** The wire form of a call (docs/realtime-protocol.md "Call"). */
function callView(c: Call): Record<string, unknown> {
  return {
    callId: c.callId,
    caller: c.caller,
    mediaType: c.mediaType,
    callType: c.callType,
    roomId: c.roomId,
    roomIdType: c.roomIdType,
    chatGroupId: c.chatGroupId,
    userData: c.userData,
    members: c.members.map((m) => ({ userId: m.userId, status: m.status })),
    result: c.result,
    startTime: c.startTime,
    acceptTime: c.acceptTime,
    endTime: c.endTime,
  };
}

/**
 * TUICallKit calls over /rtc: the session's user drives the call engine (so get_call_info, records and Call.*
 * callbacks follow what clients do), and every call change reaches the sessions of the users invited to it.
 */
export class CallFeature implements RtcFeature {
  private unsubscribe: (() => void) | undefined;

  readonly handlers = {
    'call.start': typed(
      Type.Object({
        callees: Type.Array(UserId, { minItems: 1, maxItems: MAX_CALL_TARGETS }),
        mediaType: Type.Union([Type.Literal('Audio'), Type.Literal('Video')]),
        roomId: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_NUMERIC_ROOM_ID })),
        strRoomId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        chatGroupId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        userData: Type.Optional(Type.String({ maxLength: MAX_CALL_USER_DATA_BYTES })),
        ringTimeoutMs: Type.Optional(Type.Integer({ minimum: 10_000, maximum: 600_000 })),
      }),
      async (s, m) => {
        if (m.roomId !== undefined && m.strRoomId !== undefined) throw invalid('give at most one of roomId and strRoomId');
        if (m.userData !== undefined && Buffer.byteLength(m.userData) > MAX_CALL_USER_DATA_BYTES) throw invalid(`userData is over ${MAX_CALL_USER_DATA_BYTES} bytes`);
        const room = m.roomId !== undefined ? { roomId: String(m.roomId), roomIdType: 1 } : m.strRoomId !== undefined ? { roomId: m.strRoomId, roomIdType: 2 } : {};
        const { call, busy } = await this.run(() =>
          this.d.calls.startCall(
            { sdkAppId: s.sdkAppId, caller: s.userId, callees: m.callees, mediaType: m.mediaType, chatGroupId: m.chatGroupId, userData: m.userData, ringTimeoutMs: m.ringTimeoutMs, ...room },
            origin(s),
          ),
        );
        return { call: callView(call), busy };
      },
    ),
    'call.accept': typed(CallId, async (s, m) => ({ call: callView(await this.run(() => this.d.calls.accept(s.sdkAppId, m.callId, s.userId, origin(s)))) })),
    'call.reject': typed(CallId, async (s, m) => ({ call: callView(await this.run(() => this.d.calls.reject(s.sdkAppId, m.callId, s.userId, origin(s)))) })),
    'call.hangup': typed(CallId, async (s, m) => ({ call: callView(await this.run(() => this.d.calls.hangup(s.sdkAppId, m.callId, s.userId, origin(s)))) })),
    'call.join': typed(CallId, async (s, m) => ({ call: callView(await this.run(() => this.d.calls.join(s.sdkAppId, m.callId, s.userId, origin(s)))) })),
    'call.cancel': typed(Type.Object({ callId: CallId.properties.callId, target: Type.Optional(UserId) }), async (s, m) => ({
      call: callView(await this.run(() => this.d.calls.cancel(s.sdkAppId, m.callId, s.userId, m.target, origin(s)))),
    })),
    'call.invite': typed(Type.Object({ callId: CallId.properties.callId, targets: Type.Array(UserId, { minItems: 1, maxItems: MAX_CALL_TARGETS }) }), async (s, m) => {
      const { call, busy } = await this.run(() => this.d.calls.invite(s.sdkAppId, m.callId, s.userId, m.targets, origin(s)));
      return { call: callView(call), busy };
    }),
    'call.get': typed(CallId, async (s, m) => ({ call: callView(this.visible(s, m.callId)) })),
  };

  constructor(private readonly d: CallFeatureDeps) {}

  /** Follows the bus. */
  start(): void {
    const d = this.d;
    this.unsubscribe ??= listen(d.bus, CALL_TOPIC, d.log, 'rtc call event', (p) => this.onCallChanged(p as CallChanged));
  }

  /** A user who logs in while calls still ring them is told about each. */
  started(s: RtcSession): void {
    for (const call of this.d.calls.callsOf(s.sdkAppId, s.userId)) {
      if (call.members.some((m) => m.userId === s.userId && m.status === 'Waiting')) s.deliver(event('call.invited', { call: callView(call) }));
    }
  }

  /** The user's last session is gone: the calls they are in see them go offline. */
  async ended(s: RtcSession): Promise<void> {
    if (await this.d.sessions.online(s.sdkAppId, s.userId)) return;
    for (const call of this.d.calls.callsOf(s.sdkAppId, s.userId)) {
      if (call.members.some((m) => m.userId === s.userId && m.status === 'Calling')) this.d.track(this.d.calls.offline(s.sdkAppId, call.callId, s.userId, origin(s)));
    }
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** The active call if the session's user was invited to it (the caller included); NOT_FOUND otherwise. */
  private visible(s: RtcSession, callId: string): Call {
    let call: Call | undefined;
    try {
      call = this.d.calls.get(s.sdkAppId, callId);
    } catch (err) {
      if (!(err instanceof DomainError && err.code === 'NOT_FOUND')) throw err;
    }
    // One refusal, worded here, for an unknown call and someone else's: a reply must not tell which ids exist.
    if (!call || !call.invited.includes(s.userId)) throw new GatewayError(RtcErrors.NOT_FOUND, `call ${callId} does not exist or has ended`);
    return call;
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    return withRefusals(CALL_ERRORS, fn);
  }

  /** A call change → `call.invited` for the users newly rung, then `call.updated` for every session of everyone invited. */
  private onCallChanged(e: CallChanged): void {
    const view = callView(e.call);
    const rung = e.started ? e.call.members.filter((m) => m.status === 'Waiting').map((m) => m.userId) : e.changes.filter((c) => c.action === 'Invite').map((c) => c.userId);
    if (rung.length && e.call.result === null) {
      const invited = event('call.invited', { call: view });
      for (const u of rung) for (const s of this.d.sessions.sessionsOf(e.call.sdkAppId, u)) s.deliver(invited);
    }
    const updated = event('call.updated', { call: view, changes: e.changes, ended: e.ended });
    for (const u of e.call.invited) for (const s of this.d.sessions.sessionsOf(e.call.sdkAppId, u)) s.deliver(updated);
  }
}

function origin(s: RtcSession): Origin {
  return { clientIp: s.ip ?? '', platform: s.platform };
}

function invalid(message: string): GatewayError<RtcErrorEntry> {
  return new GatewayError(RtcErrors.INVALID_ARGUMENT, message);
}
