// The signalling that Tencent's Web SDK trtc-sdk-v5 speaks, in JSON over a WebSocket: command numbers, flag bits,
// envelopes and the refusal codes trtcd sends. Described for users in docs/trtc-web-sdk.md.
import { createHash } from 'node:crypto';

/** The path the SDK appends to a scheduled or unified signalling host. */
export const SDK_WS_PATH = '/v2/ws';
/** The schedule the SDK asks before it connects (scheduleProxy, unifiedProxy, the DNS route). */
export const SCHEDULE_PATH = '/api/v1/config';
/** Where the SDK uploads its logs and reports (loggerProxy + this path). */
export const LOGGER_PATH = '/v5/AVQualityReportSvc/C2S';
/** Largest frame a client may send, bytes (a quality_report is a few KB; an ability with every codec ~10 KB). */
export const SDK_MAX_FRAME_BYTES = 256 * 1024;
/** Largest custom message the SDK sends (8000 bytes per second, so one message at most that), decoded bytes. */
export const MAX_CUSTOM_MESSAGE_BYTES = 8000;

/** Numeric commands the server sends: replies carry the request's seq, pushes seq 0. */
export const ServerCmd = {
  CLIENT_BANNED: 9,
  CHANNEL_SETUP_RESULT: 19,
  JOIN_ROOM_RESULT: 20,
  UPLINK_NETWORK_STATS: 22,
  UPDATE_REMOTE_MUTE_STAT: 23,
  CHANNEL_RECONNECT_RESULT: 514,
  UPDATE_CONSTRAINT_CONFIG_RES: 772,
  PUBLISH_RESULT: 4098,
  UNPUBLISH_RESULT: 4100,
  SUBSCRIBE_RESULT: 4102,
  UNSUBSCRIBE_RESULT: 4104,
  SUBSCRIBE_CHANGE_RESULT: 4106,
  MUTE_RESULT: 4108,
  SWITCH_ROLE_RES: 4110,
  PUBLISH_STATE_CHANGE_RESULT: 4112,
  UPDATE_OFFER_RESULT: 4128,
  PEER_JOIN: 4134,
  PEER_LEAVE: 4135,
  USER_LIST_RES: 4137,
  RECEIVE_CUSTOM_MSG: 4140,
  SPC_PUBLISH_RESULT: 4146,
  REBUILD_PEER_CONNECTION_RES: 4150,
  SPC_SUBSCRIBE_RESULT: 4156,
  ABILITY_STATUS_REPORT_RESULT: 4158,
  SEND_SWITCH_ROOM_RES: 4160,
  UPDATE_NETWORK_TIME_RESULT: 5001,
} as const;

/** The reply command of each client command that gets one (commands not listed get none). */
export const REPLY_OF: Readonly<Record<string, number>> = {
  join: ServerCmd.JOIN_ROOM_RESULT,
  'join/v2': ServerCmd.JOIN_ROOM_RESULT,
  get_user_list: ServerCmd.USER_LIST_RES,
  ability_status_report: ServerCmd.ABILITY_STATUS_REPORT_RESULT,
  'publish/v2': ServerCmd.SPC_PUBLISH_RESULT,
  publish: ServerCmd.PUBLISH_RESULT,
  publish_change: ServerCmd.UPDATE_OFFER_RESULT,
  publish_state_change: ServerCmd.PUBLISH_STATE_CHANGE_RESULT,
  unpublish: ServerCmd.UNPUBLISH_RESULT,
  mute_uplink: ServerCmd.MUTE_RESULT,
  update_constraint_config: ServerCmd.UPDATE_CONSTRAINT_CONFIG_RES,
  'subscribe/v3': ServerCmd.SPC_SUBSCRIBE_RESULT,
  subscribe: ServerCmd.SUBSCRIBE_RESULT,
  subscribe_change: ServerCmd.SUBSCRIBE_CHANGE_RESULT,
  unsubscribe: ServerCmd.UNSUBSCRIBE_RESULT,
  rebuild_pc: ServerCmd.REBUILD_PEER_CONNECTION_RES,
  reconnect: ServerCmd.CHANNEL_RECONNECT_RESULT,
  change_role: ServerCmd.SWITCH_ROLE_RES,
  switch_room: ServerCmd.SEND_SWITCH_ROOM_RES,
  update_network_time: ServerCmd.UPDATE_NETWORK_TIME_RESULT,
  start_publishing: 1286,
  stop_publishing: 1288,
  start_push_user_cdn: 777,
  stop_push_user_cdn: 779,
  start_mcu_mix: 781,
  stop_mcu_mix: 783,
  start_publish_cdn_stream: 8196,
  update_publish_cdn_stream: 8198,
  stop_publish_cdn_stream: 8200,
};

/** Bits of a user's flag word in cmd 23 and the join's `publishers`. */
export const Flag = {
  BIG_VIDEO: 1,
  SMALL_VIDEO: 2,
  AUX_VIDEO: 4,
  AUDIO: 8,
  BIG_VIDEO_MUTED: 16,
  AUX_VIDEO_MUTED: 32,
  AUDIO_MUTED: 64,
} as const;

/** trtcRole of join and change_role. */
export const SdkRole = { ANCHOR: 20, AUDIENCE: 21 } as const;

/** The reason index of a 4135 PEER_LEAVE (the SDK's remote-user-exit reason). */
export const LeaveReason = { NORMAL: 0, TIMEOUT: 1, KICK: 2, ROLE_CHANGE: 3 } as const;

/** Codes trtcd sends in refusals that have no Tencent code of their own (Tencent's are in RtcErrors). */
export const SdkErrors = {
  /** A command before the join reply, or in a room the connection is not in. */
  NOT_IN_ROOM: { code: -100015, message: 'not in a room: send join first' },
  /** A request whose data is not what the command takes. */
  INVALID_PARAMETER: { code: -100001, message: 'invalid parameter' },
  /** The audience role cannot publish. */
  AUDIENCE_CANNOT_PUBLISH: { code: -100016, message: 'the audience role cannot publish; switchRole("anchor") first' },
  /** Commands trtcd does not implement (CDN relay, mixing, room switching). */
  UNSUPPORTED: { code: -100033, message: 'not supported by this server' },
  /** A subscription to a user who does not publish. */
  NO_SUCH_STREAM: { code: -100035, message: 'the user does not publish this stream' },
  INTERNAL: { code: -100000, message: 'internal error' },
} as const;

/** A tinyId: the SDK's numeric id of a user in a room, a decimal string. The same for a user on every node and every join. */
export function tinyIdOf(sdkAppId: number, userId: string): string {
  const h = createHash('sha1').update(`${sdkAppId}\n${userId}`).digest();
  // 2^57 plus 48 bits of the hash: an 18-digit number like Tencent's, well within int64.
  return (0x200000000000000n + h.readBigUInt64BE(0) % 0x1000000000000n).toString();
}

/**
 * The data of a publisher snapshot (cmd 23): the publishers, and the mix robots (none in trtcd). trtc-sdk-v5 5.15 —
 * the one TUICallKit's call engine brings — reads `mixRobotList` without checking it is there.
 */
export function publishedUsers(userList: Array<Record<string, unknown>>): { userList: Array<Record<string, unknown>>; mixRobotList: [] } {
  return { userList, mixRobotList: [] };
}

/** A server frame: a reply (the request's seq) or a push (seq 0). */
export function frame(cmd: number, seq: number, data: unknown, code = 0, message = '', tinyId?: string): string {
  return JSON.stringify({ cmd, code, message, seq, ...(tinyId === undefined ? {} : { tinyId }), data });
}
