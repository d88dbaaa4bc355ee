import { errorEntry, type ErrorEntry } from '../gateway-error.ts';

/** One Cloud API 3.0 error: its `Error.Code` and default `Error.Message`. */
export type CloudErrorEntry = ErrorEntry<string>;

const e = (code: string, message: string): CloudErrorEntry => errorEntry(code, message);

/** The Cloud API 3.0 error catalogue: common codes (https://www.tencentcloud.com/document/product/213/33281) and the actions' own codes (their API pages). */
export const CloudErrors = {
  UNSUPPORTED_PROTOCOL: e('UnsupportedProtocol', 'The HTTP method is not supported; use POST or GET.'),
  REQUEST_SIZE: e('RequestSizeLimitExceeded', 'The request body exceeds the size limit.'),
  INVALID_AUTHORIZATION: e('AuthFailure.InvalidAuthorization', 'The Authorization header does not meet Tencent Cloud standards.'),
  INVALID_SECRET_ID: e('AuthFailure.InvalidSecretId', 'Invalid key (not a TencentCloud API key type).'),
  SECRET_ID_NOT_FOUND: e('AuthFailure.SecretIdNotFound', 'The SecretId does not exist.'),
  SIGNATURE_EXPIRE: e('AuthFailure.SignatureExpire', 'Signature expired: the timestamp and the server time differ by more than five minutes.'),
  /**
   * A signature v1 Nonce + Timestamp pair presented again within the window. API 3.0 documents no code for a replay;
   * API 2.0 had one (4500, https://intl.cloud.tencent.com/document/product/239/1757) covering the Nonce and the
   * Timestamp, and 3.0 reports the Timestamp half with AuthFailure.SignatureExpire, so the Nonce half goes there too.
   */
  NONCE_USED: e('AuthFailure.SignatureExpire', 'The Nonce was already used with this Timestamp: a signed request is accepted once.'),
  SIGNATURE_FAILURE: e('AuthFailure.SignatureFailure', 'The provided credentials could not be validated. Please ensure your signature is correct.'),
  TOKEN_FAILURE: e('AuthFailure.TokenFailure', 'Token error.'),
  UNAUTHORIZED: e('AuthFailure.UnauthorizedOperation', 'The request is not authorized.'),
  IP_NOT_IN_WHITELIST: e('IpNotInWhitelist', 'The IP address is not in the allowlist.'),
  INTERNAL: e('InternalError', 'Internal error.'),
  INVALID_ACTION: e('InvalidAction', 'The API does not exist.'),
  NO_SUCH_VERSION: e('NoSuchVersion', 'The API version does not exist.'),
  INVALID_PARAMETER: e('InvalidParameter', 'Incorrect parameter.'),
  INVALID_PARAMETER_VALUE: e('InvalidParameterValue', 'Invalid parameter value.'),
  MISSING_PARAMETER: e('MissingParameter', 'A parameter is missing.'),
  UNKNOWN_PARAMETER: e('UnknownParameter', 'Unknown parameter.'),
  REQUEST_LIMIT: e('RequestLimitExceeded', 'The request frequency exceeds the limit.'),
  UNSUPPORTED_REGION: e('UnsupportedRegion', 'The API does not support this region.'),
  FAILED_OPERATION: e('FailedOperation', 'Operation failed.'),
  // IoT Explorer 2019-04-23
  ROOM_ID_EXIST: e('InvalidParameter.RoomIdExist', 'RoomId already exists.'),
  USER_ID_OVER_LIMIT: e('InvalidParameter.UserIdOverLimit', 'The number of UserIds exceeds the limit.'),
  TRTC_SERVICE_NOT_OPEN: e('UnsupportedOperation.TRTCServiceNotOpen', 'The TRTC value-added service is not activated.'),
  REQUEST_TRTC_FAIL: e('FailedOperation.RequestTRTCFail', 'Request to TRTC failed.'),
  NO_PERMISSION_TO_ROOM: e('UnauthorizedOperation.NoPermissionToTRTCRoom', 'No permission to operate this TRTC room.'),
  // TRTC 2019-07-22
  ROOM_NOT_EXIST: e('FailedOperation.RoomNotExist', 'The room does not exist.'),
  INVALID_ROOM_ID: e('InvalidParameter.RoomId', 'Invalid RoomId.'),
  INVALID_SDK_APP_ID: e('InvalidParameter.SdkAppId', 'Invalid SdkAppId.'),
  INVALID_USER_IDS: e('InvalidParameter.UserIds', 'Invalid UserIds.'),
  INVALID_USER_ID: e('InvalidParameter.UserId', 'Invalid UserId.'),
  USER_NOT_EXIST: e('FailedOperation.UserNotExist', 'The user is not in the room.'),
  UNAUTHORIZED_SDK_APP_ID: e('UnauthorizedOperation.SdkAppId', 'No permission to operate this SdkAppId.'),
  INVALID_START_TS: e('InvalidParameter.StartTs', 'Invalid StartTime.'),
  INVALID_END_TS: e('InvalidParameter.EndTs', 'Invalid EndTime.'),
  QUERY_SCALE_OVERSIZE: e('InvalidParameter.QueryScaleOversize', 'The query window is too long.'),
  START_TS_OVERSIZE: e('InvalidParameter.StartTsOversize', 'StartTime is too far in the past.'),
  PAGE_SIZE_OVERSIZE: e('InvalidParameter.PageSizeOversize', 'PageSize is too large.'),
  USER_IDS_MORE_THAN_SIX: e('InvalidParameter.UserIdsMorethanSix', 'At most six UserIds per query.'),
} as const;
