import { randomInt } from 'node:crypto';
import type { GroupType } from './message.ts';

// Group rules from Tencent's pages: types and AVChatRoom rules from create_group (https://trtc.io/document/34895), field
// and GroupId limits from the SDK's V2TIMGroupInfo (https://im.sdk.qcloud.com/doc/zh-cn/interfaceV2TIMGroupInfo.html), default
// MaxMemberNum from the web SDK's CreateGroupParams (https://web.sdk.qcloud.com/im/doc/chat-engine/CreateGroupParams.html).

/** Types `create` accepts: Tencent's current names and the old ones (`Private` = Work, `ChatRoom` = Meeting). */
export const CREATE_TYPES: Readonly<Record<string, GroupType>> = {
  Private: 'Work',
  Work: 'Work',
  Public: 'Public',
  ChatRoom: 'Meeting',
  Meeting: 'Meeting',
  AVChatRoom: 'AVChatRoom',
  Community: 'Community',
};

/** MaxMemberNum when the creator gives none (0 = no limit); Community's 100000 is unconfirmed. */
export const DEFAULT_MAX_MEMBERS: Readonly<Record<GroupType, number>> = { Work: 200, Public: 2000, Meeting: 10_000, AVChatRoom: 0, Community: 100_000 };
/** ApplyJoinOption when the creator gives none (unconfirmed beyond Work's DisableApply). */
export const DEFAULT_APPLY_JOIN: Readonly<Record<GroupType, string>> = {
  Work: 'DisableApply',
  Public: 'NeedPermission',
  Meeting: 'FreeAccess',
  AVChatRoom: 'FreeAccess',
  Community: 'FreeAccess',
};
/** ApplyJoinOption values. */
export const APPLY_JOIN_OPTIONS: ReadonlySet<string> = new Set(['FreeAccess', 'NeedPermission', 'DisableApply']);
/** Longest custom GroupId, in bytes. */
const MAX_GROUP_ID_BYTES = 48;
/** Prefix of server-made GroupIds (custom ones may not use it, except Community ids, which must start `@TGS#_`). */
const AUTO_ID_PREFIX = '@TGS#';
/** Longest profile fields, in UTF-8 bytes (the current SDK limits; older pages say 30/240/300/100). */
export const GROUP_FIELD_LIMITS = { name: 100, introduction: 400, notification: 400, faceUrl: 500 } as const;
/** Largest MaxMemberNum a creator may ask for. */
export const MAX_MEMBER_NUM = 100_000;
/** Message priorities (MsgPriority). */
export const PRIORITIES: ReadonlySet<string> = new Set(['High', 'Normal', 'Low', 'Lowest']);

const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/** Why a custom GroupId is unacceptable for a group of `type`, or null. */
export function groupIdProblem(id: string, type: GroupType): string | null {
  if (id.length === 0 || Buffer.byteLength(id) > MAX_GROUP_ID_BYTES) return `GroupId must be 1-${MAX_GROUP_ID_BYTES} bytes`;
  if (!PRINTABLE_ASCII.test(id)) return 'GroupId must be printable ASCII';
  if (type === 'Community' && !id.startsWith(`${AUTO_ID_PREFIX}_`)) return `a Community's GroupId must start with ${AUTO_ID_PREFIX}_`;
  if (type !== 'Community' && id.startsWith(AUTO_ID_PREFIX)) return `a custom GroupId cannot start with ${AUTO_ID_PREFIX}`;
  return null;
}

/** A random GroupId like the server makes: `@TGS#` (`@TGS#_` for a Community) and 9 capitals or digits. */
export function randomGroupId(type: GroupType): string {
  let id = type === 'Community' ? `${AUTO_ID_PREFIX}_` : AUTO_ID_PREFIX;
  for (let i = 0; i < 9; i++) id += ID_CHARS[randomInt(ID_CHARS.length)];
  return id;
}
