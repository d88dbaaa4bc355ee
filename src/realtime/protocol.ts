// The /rtc client protocol, version 1: message shapes, limits, error codes and close codes. Spec: docs/realtime-protocol.md.
import type { UserSigFailure } from '../auth/usersig.ts';
import type { RoomRef } from '../services/trtc-rooms/trtc-rooms-service.ts';
import { GatewayError, type ErrorEntry } from '../gateways/gateway-error.ts';

/** Protocol version carried in every message as `v`. */
export const PROTOCOL_VERSION = 1;
/** The WebSocket path of the protocol. */
export const RTC_PATH = '/rtc';
/** `auth` must succeed within this long after the upgrade, ms. */
export const AUTH_TIMEOUT_MS = 10_000;
/** Largest frame a client may send, bytes (bigger → close 1009). */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Largest `data` of a room.message, UTF-8 bytes. */
export const MAX_MESSAGE_DATA_BYTES = 1024;
/** Most entries in a room.message `to`. */
export const MAX_RECIPIENTS = 100;
/** Longest request `id`, characters. */
export const MAX_REQUEST_ID_CHARS = 64;
/** Most rooms one connection may be in at once. */
export const MAX_ROOMS_PER_CONNECTION = 16;
/** Frames a connection may send per window before it is rate limited. */
export const FLOOD_MAX_FRAMES = 100;
/** The flood window (fixed, not sliding), ms. */
export const FLOOD_WINDOW_MS = 1000;
/** Rate-limited frames in one window after which the connection is closed with CloseCodes.FLOOD. */
export const FLOOD_CLOSE_AFTER = 20;
/** A connection whose unsent output exceeds this many bytes is closed with CloseCodes.SLOW_CONSUMER. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

/** How long a session whose connection dropped without a close frame waits to be resumed, ms. */
export const RESUME_GRACE_MS = 30_000;
/** Events kept per session for resumption. */
export const RESUME_BUFFER_EVENTS = 256;
/** Most live rooms one session may be in at once. */
export const MAX_LIVE_ROOMS_PER_SESSION = 16;
/** Most media subscriptions one session may hold at once. */
export const MAX_SUBSCRIPTIONS_PER_SESSION = 32;
/** `platform` values a client may report at auth (OptPlatform of callbacks). */
export const PLATFORMS = ['Web', 'Android', 'iOS', 'iPad', 'Windows', 'Mac', 'Linux', 'Unknown'] as const;

/** WebSocket close codes the server uses (close reasons are English sentences). */
export const CloseCodes = {
  /** After `logout`. */
  NORMAL: 1000,
  /** The server is shutting down. */
  SHUTDOWN: 1001,
  /** A frame over MAX_FRAME_BYTES (sent by the ws library). */
  TOO_BIG: 1009,
  /** `auth` failed, or did not succeed within AUTH_TIMEOUT_MS. */
  AUTH: 4401,
  /** The session's UserSig expired (after a `session.expired` event). */
  SIG_EXPIRED: 4403,
  /** The session was resumed by another connection. */
  RESUMED_ELSEWHERE: 4409,
  /** The client did not read its events fast enough (MAX_BUFFERED_BYTES). */
  SLOW_CONSUMER: 4408,
  /** More than FLOOD_MAX_FRAMES + FLOOD_CLOSE_AFTER frames in one FLOOD_WINDOW_MS window. */
  FLOOD: 4429,
} as const;

/** An error reply's code and default message. */
export type RtcErrorEntry = ErrorEntry<number>;

/** Every error code a reply can carry: TRTC/IM client codes where they apply, trtcd's own 4xxxx otherwise. */
export const RtcErrors = {
  // Protocol (trtcd's own).
  MALFORMED: { code: 40001, message: 'frame is not a JSON object (text frames only)' },
  BAD_VERSION: { code: 40002, message: `unsupported protocol version (this server speaks v${PROTOCOL_VERSION})` },
  UNKNOWN_TYPE: { code: 40003, message: 'unknown message type' },
  INVALID_ARGUMENT: { code: 40004, message: 'invalid field' },
  SDP_REJECTED: { code: 40005, message: 'the SDP offer could not be negotiated' },
  NOT_AUTHENTICATED: { code: 40100, message: 'the first request must be auth' },
  ALREADY_AUTHENTICATED: { code: 40101, message: 'this connection is already authenticated' },
  CALL_STATE: { code: 40300, message: 'the call action does not apply now' },
  MUTED: { code: 40301, message: 'muted in this room' },
  BANNED: { code: 40302, message: 'banned from this room' },
  BUSY: { code: 40303, message: 'already in a call' },
  AUDIENCE_CANNOT_PUBLISH: { code: 40304, message: 'the audience role cannot publish; enter the room as anchor' },
  NOT_IN_ROOM: { code: 40400, message: 'not in this room' },
  REMOVED_WHILE_ENTERING: { code: 40401, message: 'removed from the room while entering' },
  NOT_FOUND: { code: 40410, message: 'no such call or room' },
  USER_NOT_FOUND: { code: 40411, message: 'not an imported account' },
  NO_SUCH_STREAM: { code: 40412, message: 'the user does not publish this stream in this room on this node' },
  NO_SUCH_SUBSCRIPTION: { code: 40413, message: 'no such subscription' },
  DATA_TOO_LARGE: { code: 41300, message: `data is over ${MAX_MESSAGE_DATA_BYTES} bytes` },
  LIVE_ROOM_EXISTS: { code: 40900, message: 'a live room with this id exists' },
  RATE_LIMITED: { code: 42900, message: `over ${FLOOD_MAX_FRAMES} frames per second` },
  TOO_MANY_ROOMS: { code: 42901, message: `in ${MAX_ROOMS_PER_CONNECTION} rooms already` },
  TOO_MANY_SUBSCRIPTIONS: { code: 42902, message: `holds ${MAX_SUBSCRIPTIONS_PER_SESSION} subscriptions already` },
  CREATE_TOO_FREQUENT: { code: 42903, message: 'a live room of this id was created less than a second ago' },
  INTERNAL: { code: 50000, message: 'internal error' },
  // UserSig (the IM/TRTC Web 70xxx account table: https://cloud.tencent.com/document/product/269/1671, https://web.sdk.qcloud.com/trtc/webrtc/doc/en/module-ERROR_CODE.html).
  SIG_EXPIRED: { code: 70001, message: 'UserSig expired' },
  SIG_EMPTY: { code: 70002, message: 'UserSig is empty' },
  SIG_INVALID: { code: 70003, message: 'UserSig parse or verify failed' },
  SIG_KEY_MISMATCH: { code: 70009, message: 'UserSig verification failed: wrong key or another SDKAppID' },
  SIG_IDENTIFIER_MISMATCH: { code: 70013, message: 'UserID differs from the identifier in the UserSig' },
  SIG_SDKAPPID_MISMATCH: { code: 70014, message: 'SDKAppID differs from the one in the UserSig' },
  SDKAPPID_NOT_FOUND: { code: 70020, message: 'SDKAppID not found' },
  // TRTC client SDK (https://tencentcloud.com/document/product/647/35135).
  INVALID_PRIVATE_MAPKEY: { code: -100006, message: 'privateMapKey check failed' },
  SERVICE_SUSPENDED: { code: -100013, message: 'the TRTC service is suspended for this app' },
} as const satisfies Record<string, RtcErrorEntry>;

/** The auth reply code of each UserSig failure. */
export const SIG_ERRORS: Readonly<Record<UserSigFailure, RtcErrorEntry>> = {
  EMPTY: RtcErrors.SIG_EMPTY,
  MALFORMED: RtcErrors.SIG_INVALID,
  V1_UNSUPPORTED: RtcErrors.SIG_INVALID,
  FIELD_MISSING: RtcErrors.SIG_INVALID,
  USERBUF_MISMATCH: RtcErrors.SIG_INVALID,
  IDENTIFIER_MISMATCH: RtcErrors.SIG_IDENTIFIER_MISMATCH,
  SDKAPPID_MISMATCH: RtcErrors.SIG_SDKAPPID_MISMATCH,
  EXPIRED: RtcErrors.SIG_EXPIRED,
  SIG_MISMATCH: RtcErrors.SIG_KEY_MISMATCH,
};


/** A client request as parsed from a frame. */
export interface RtcRequest {
  v: number;
  id: string;
  type: string;
  [field: string]: unknown;
}

/** Client roles in a TRTC room. */
export const ROLES = ['anchor', 'audience'] as const;
export type Role = (typeof ROLES)[number];

/** A success reply to request `re`. */
export function okReply(re: string, body: Record<string, unknown> = {}): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, re, ok: true, ...body });
}

/** An error reply to request `re` (null when the request had no usable id). */
export function errorReply(re: string | null, code: number, message: string): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, re, ok: false, code, message });
}

/** A server event. */
export function event(type: string, body: Record<string, unknown>): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, type, ...body });
}

/** The room a request names: exactly one of `roomId` (1–4294967294) or `strRoomId` (1–64 bytes). */
export function parseRoom(m: Record<string, unknown>, max: number): RoomRef {
  const hasNum = m.roomId !== undefined;
  const hasStr = m.strRoomId !== undefined;
  if (hasNum === hasStr) throw new GatewayError(RtcErrors.INVALID_ARGUMENT, 'give exactly one of roomId and strRoomId');
  if (hasNum) {
    const n = m.roomId;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max) throw new GatewayError(RtcErrors.INVALID_ARGUMENT, `roomId must be an integer 1-${max}`);
    return { roomId: n };
  }
  const s = m.strRoomId;
  if (typeof s !== 'string' || s.length === 0 || Buffer.byteLength(s) > 64) throw new GatewayError(RtcErrors.INVALID_ARGUMENT, 'strRoomId must be a string of 1-64 bytes');
  return { strRoomId: s };
}
