import type { DomainError } from '../../services/errors.ts';
import { entryFor, errorEntry, type ErrorEntry } from '../gateway-error.ts';

/** One IVH (AI Digital Human) error: its `Header.Code` and default `Header.Message`. */
export type IvhErrorEntry = ErrorEntry<number>;

const e = (code: number, message: string): IvhErrorEntry => errorEntry(code, message);

/** The IVH error catalogue (https://www.tencentcloud.com/document/product/1211/62122); the messages paraphrase the documented meanings. */
export const IvhErrors = {
  INTERNAL: e(-101000, 'Internal system error.'),
  INSUFFICIENT_RESOURCES: e(-101001, 'Insufficient compute resources.'),
  IMAGE_DOWNLOAD: e(-101002, 'Image download failed.'),
  STREAM_PARAMS: e(-111001, 'Updating the stream parameters failed.'),
  CONNECTION_DROPPED: e(-111002, 'The connection dropped abnormally.'),
  MODEL_LOAD: e(-111003, 'Model load error.'),
  STREAM_TIMEOUT: e(-111004, 'Internal stream-creation timeout.'),
  DRIVE_FAILED: e(-111005, 'Error while driving with text or audio.'),
  /** 100001: format, length, type or non-empty check of a parameter failed; the message names the field. */
  INVALID_PARAMETER: e(100001, 'Request parameter error.'),
  /** 100005: unauthorized operation; also every authentication failure (see the `IVH_AUTH_*` messages in gateway.ts). */
  UNAUTHORIZED: e(100005, 'Unauthorized operation.'),
  CONCURRENCY_LIMIT: e(100008, 'Concurrency limit exceeded.'),
  TOO_FREQUENT: e(100012, 'Requests are too frequent.'),
  QUOTA_EXPIRED: e(100014, 'Concurrency quota insufficient or expired.'),
  AVATAR_EXPIRED: e(100015, 'The avatar has expired.'),
  SESSION_CLOSED: e(110013, 'The session is closed.'),
  SESSION_NOT_READY: e(110014, 'The session is not ready.'),
  WRONG_TIME: e(110015, 'The command was sent at the wrong time.'),
  SESSION_NOT_STARTED: e(110016, 'The session has not been started (call startsession first).'),
  SESSION_NOT_FOUND: e(110018, 'The session does not exist.'),
  TRTC_ARREARS: e(110021, 'The TRTC account is in arrears or out of duration.'),
  SESSION_REPLACED: e(110022, 'The session was closed because a new session was created with the same UserId.'),
} as const;


/** The code of each `DomainError.detail` the digital-human service uses. */
const BY_DETAIL: Readonly<Record<string, IvhErrorEntry>> = {
  SESSION_NOT_FOUND: IvhErrors.SESSION_NOT_FOUND,
  SESSION_CLOSED: IvhErrors.SESSION_CLOSED,
  SESSION_NOT_READY: IvhErrors.SESSION_NOT_READY,
  SESSION_NOT_STARTED: IvhErrors.SESSION_NOT_STARTED,
  WRONG_TIME: IvhErrors.WRONG_TIME,
  TOO_FREQUENT: IvhErrors.TOO_FREQUENT,
  QUOTA: IvhErrors.CONCURRENCY_LIMIT,
  QUOTA_EXPIRED: IvhErrors.QUOTA_EXPIRED,
  PERMISSION: IvhErrors.UNAUTHORIZED,
  REPLACED: IvhErrors.SESSION_REPLACED,
  INVALID: IvhErrors.INVALID_PARAMETER,
};

/** Maps a service refusal to its IVH code: by `detail`, then any INVALID_ARGUMENT → 100001, anything else → -101000. */
export function domainToIvh(err: DomainError): IvhErrorEntry {
  return entryFor(err, BY_DETAIL, (code) => (code === 'INVALID_ARGUMENT' ? IvhErrors.INVALID_PARAMETER : IvhErrors.INTERNAL))!;
}

/**
 * The authentication failures. The IVH error table has no signature or timestamp codes (https://www.tencentcloud.com/document/product/1211/62053), so every one is
 * 100005 "unauthorized operation" with its own message; on the WebSocket they refuse the upgrade with HTTP 401.
 */
export const IvhAuthErrors = {
  /** `appkey`, `timestamp` or `signature` (and `requestid` on the WebSocket) absent or empty. */
  MISSING_PARAMETER: e(100005, 'Authentication failed: a required query parameter (appkey, timestamp, signature) is missing.'),
  /** `timestamp` is not a Unix time in seconds. */
  TIMESTAMP_INVALID: e(100005, 'Authentication failed: timestamp must be a Unix time in seconds.'),
  /** `timestamp` differs from the server clock by more than IVH_SIGNATURE_WINDOW_SECONDS. */
  TIMESTAMP_EXPIRED: e(100005, 'Authentication failed: timestamp expired (more than 300 seconds from the server time).'),
  /** No app has this IVH appkey. */
  UNKNOWN_APPKEY: e(100005, 'Authentication failed: appkey not found.'),
  /** The app owning the appkey is disabled, expired or refuses the client's address. */
  APP_REFUSED: e(100005, 'Authentication failed: the app owning this appkey cannot serve requests.'),
  /** The signature is not Base64(HMAC-SHA256(accesstoken, signing string)). */
  SIGNATURE_MISMATCH: e(100005, 'Authentication failed: signature invalid.'),
} as const;
