// The Chat protocol's error catalogue: the codes a Chat SDK reply carries in its body's ErrorCode, from Tencent's
// Chat error code list (https://trtc.io/document/34348) and the SDK's V2TIMErrorCode.h; login 70xxx as the REST API.

import { errorEntry, type ErrorEntry } from '../gateway-error.ts';

/** One entry: the wire code and Tencent's text for it. */
export type ChatErrorEntry = ErrorEntry<number>;

const e = (code: number, info: string): ChatErrorEntry => errorEntry(code, info);

/** Every code the Chat gateway sends. */
export const ChatErrors = {
  /** 70001: the UserSig (or the session ticket issued from it) expired; the SDK reports KICKED_OUT userSigExpired. */
  SIG_EXPIRED: e(70001, 'UserSig expired. Please regenerate a new UserSig.'),
  /** 70002: no UserSig in the login. */
  SIG_EMPTY: e(70002, 'UserSig length is 0.'),
  /** 70003: the UserSig cannot be decoded. */
  SIG_INVALID: e(70003, 'The UserSig in use is illegal. Please regenerate UserSig through official API'),
  /** 70009: the UserSig was not made with the app's key. */
  SIG_KEY_MISMATCH: e(70009, 'UserSig verification failed. Confirm the content of UserSig and the key.'),
  /** 70013: the identifier differs from the one inside the UserSig. */
  SIG_IDENTIFIER_MISMATCH: e(70013, 'The UserID in the request does not match the UserID in the UserSig.'),
  /** 70014: the SDKAppID differs from the one inside the UserSig, or is unknown. */
  SIG_SDKAPPID_MISMATCH: e(70014, 'The SDKAppID in the request does not match the SDKAppID in the UserSig.'),
  /** 70398: the app holds as many accounts as its package allows. */
  ACCOUNT_LIMIT: e(70398, 'The number of accounts exceeds the limit.'),
  /** 70402: a login without the fields it needs. */
  LOGIN_INVALID: e(70402, 'Invalid parameter.'),
  /** 20002: a request whose session ticket (a2/tinyid) is not this socket's login. */
  TICKET_INVALID: e(20002, 'A2 key invalid. Log in again.'),
  /** 60002: the app is disabled or its package expired (stops the SDK reconnecting). */
  APP_DISABLED: e(60002, 'The SDKAppID is disabled or its package has expired.'),
  /** 60018: no such command on this server. */
  UNKNOWN_COMMAND: e(60018, 'The request is not supported.'),
  /** 20001: a request body that is not what the command takes (ERR_SVR_MSG_PKG_PARSE_FAILED). */
  INVALID_PARAMETER: e(20001, 'Invalid request packet.'),
  /** 90002: the message has no elements, or an element of an unknown type (ERR_SVR_MSG_INVALID_JSON_BODY_FORMAT). */
  MSG_BODY_INVALID: e(90002, 'The MsgBody is not in the required format.'),
  /** 80002: the message is over the 12 KB a message may hold. */
  MSG_TOO_LARGE: e(80002, 'The message is too long (12 KB at most).'),
  /** 90012: a recipient account that was never imported (ERR_SVR_MSG_TO_ACCOUNT_NOT_FOUND). */
  ACCOUNT_NOT_FOUND: e(90012, 'The To_Account does not exist.'),
  /** 10010: the group does not exist (or was dismissed). */
  GROUP_NOT_FOUND: e(10010, 'The group does not exist or has been dismissed.'),
  /** 10007: not a member of the group. */
  NOT_GROUP_MEMBER: e(10007, 'The operator is not a group member.'),
  /** 10004: a group request with a value the group cannot take (a field too long, an unknown option). */
  GROUP_INVALID_PARAMETER: e(10004, 'Invalid parameter.'),
  /** 10007: the operator's role (or the group's type) does not allow the operation. */
  GROUP_PERMISSION_DENIED: e(10007, 'Insufficient permissions for the operation.'),
  /** 10009: the owner of a group other than Work cannot quit it (only dismiss it). */
  GROUP_OWNER_CANNOT_QUIT: e(10009, 'The group owner cannot quit the group.'),
  /** 10013: joining a group the user is already a member of. */
  ALREADY_GROUP_MEMBER: e(10013, 'The user is already a group member.'),
  /** 10014: the group is full. */
  GROUP_FULL: e(10014, 'The group is full.'),
  /** 10021: a custom group id that is taken. */
  GROUP_EXISTS: e(10021, 'The group ID is already in use.'),
  /** 70500: the server failed; the request may be retried. */
  INTERNAL: e(70500, 'Internal server error.'),
  /** 1002: this instance was replaced by a newer login (KickType in the body). */
  KICKED: e(1002, 'Kicked off by another login.'),
} as const;


/**
 * Codes of the call engine's own envelope ({ErrorCode, ErrorInfo, RequestId, Response}); the engine reads 101004 (the
 * call is gone: it ends the call) and 101005 (no invitation) itself, and shows 9999 to the app as "not supported".
 */
export const CallEngineErrors = {
  /** 101001: a request body without the fields the command takes. */
  INVALID_PARAMETER: e(101001, 'invalid parameter'),
  /** 101002: the action does not apply to the call as it is (already answered, not being rung, …). */
  CALL_STATE: e(101002, 'the call is not in a state that allows this'),
  /** 101003: the user is already in a call. */
  BUSY: e(101003, 'the user is busy in another call'),
  /** 101004: no such active call, or not the requester's. */
  CALL_NOT_FOUND: e(101004, 'the call does not exist or has ended'),
  /** 101005: get_invitation found nothing ringing for the user. */
  NO_INVITATION: e(101005, 'no invitation'),
  /** 101006: a callee that is not an account of the app. */
  USER_NOT_FOUND: e(101006, 'the user does not exist'),
  /** 9999: the app's package or settings do not include calls (the engine reports error 5). */
  NOT_SUPPORTED: e(9999, 'the current package does not support this feature'),
  /** 101500: the server failed; the request may be retried. */
  INTERNAL: e(101500, 'internal server error'),
} as const;
