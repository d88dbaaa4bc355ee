/** Bus topic of Chat messages, C2C and group: gateways deliver them to the recipients' connections. */
export const CHAT_TOPIC = 'chat.message';

/** One element of a message body, kept as Tencent's `{MsgType, MsgContent}` (docs/chat-and-calls.md; https://trtc.io/document/34919 "MsgBody"). */
export interface MsgElement {
  MsgType: string;
  MsgContent: Record<string, unknown>;
}

/** A one-to-one (C2C) message. Times in unix seconds. */
export interface C2CMessage {
  /** Store id, the recipient's sync cursor; 0 for an online-only message, which is not stored. */
  id: number;
  sdkAppId: number;
  from: string;
  to: string;
  /** MsgSeq: the sender's own number (the SDK's counter), or the server's per-sender counter. */
  seq: number;
  random: number;
  time: number;
  clientTime: number;
  body: MsgElement[];
  cloudCustomData: string;
  /** Delivered to connected clients only: not stored, never synced (MsgLifeTime 0, onlineUserOnly). */
  onlineOnly: boolean;
}

/** A group message, numbered by the group's own sequence (1, 2, …; 0 for an online-only message). */
export interface GroupMessage {
  sdkAppId: number;
  groupId: string;
  seq: number;
  from: string;
  random: number;
  clientSeq: number;
  time: number;
  body: MsgElement[];
  cloudCustomData: string;
  /** MsgPriority: High, Normal, Low or Lowest. */
  priority: string;
  onlineOnly: boolean;
}

/** Group types as stored: Tencent's current names (`Private` is stored as `Work`, `ChatRoom` as `Meeting`). */
export type GroupType = 'Work' | 'Public' | 'Meeting' | 'AVChatRoom' | 'Community';

/** A member's role. */
export type GroupRole = 'Owner' | 'Admin' | 'Member';

/** A Chat group with its members. Times in unix seconds. */
export interface Group {
  sdkAppId: number;
  groupId: string;
  type: GroupType;
  name: string;
  /** The owner's UserID; '' for a group without an owner. */
  owner: string;
  introduction: string;
  notification: string;
  faceUrl: string;
  /** Most members; 0 = no limit (AVChatRoom). */
  maxMemberNum: number;
  /** FreeAccess, NeedPermission or DisableApply. */
  applyJoinOption: string;
  createTime: number;
  /** The sequence number the next message will get. */
  nextMsgSeq: number;
  /** Bumped by every change of the group's profile. */
  infoSeq: number;
  lastInfoTime: number;
  /** Time of the last message, 0 before any. */
  lastMsgTime: number;
  members: Array<{ userId: string; role: GroupRole; joinTime: number }>;
}

/** What CHAT_TOPIC carries: a C2C message (`syncSender`: also to the sender's other sessions), or a group message with the members it goes to. */
export type ChatEvent = { kind: 'c2c'; message: C2CMessage; syncSender?: boolean } | { kind: 'group'; message: GroupMessage; members: string[] };

/** Element types a message body may hold (Tencent's TIMMsgElement types). */
const MSG_TYPES: ReadonlySet<string> = new Set([
  'TIMTextElem',
  'TIMCustomElem',
  'TIMFaceElem',
  'TIMLocationElem',
  'TIMImageElem',
  'TIMSoundElem',
  'TIMVideoFileElem',
  'TIMFileElem',
]);

/** Largest message (body JSON plus CloudCustomData), in bytes: Tencent's 12 KB message limit. */
export const MAX_MESSAGE_BYTES = 12 * 1024;

const STRING_FIELDS: Record<string, readonly string[]> = {
  TIMTextElem: ['Text'],
  TIMCustomElem: ['Data', 'Desc', 'Ext', 'Sound'],
};

/** Why a message body is unacceptable, or null: it must be a non-empty array of elements of known types. */
export function bodyProblem(body: unknown): string | null {
  if (!Array.isArray(body) || body.length === 0) return 'MsgBody must be a non-empty array';
  for (const [i, el] of body.entries()) {
    if (el === null || typeof el !== 'object' || Array.isArray(el)) return `MsgBody[${i}] is not an object`;
    const { MsgType, MsgContent } = el as Record<string, unknown>;
    if (typeof MsgType !== 'string' || !MSG_TYPES.has(MsgType)) return `MsgBody[${i}].MsgType ${JSON.stringify(MsgType)} is not a known element type`;
    if (MsgContent === null || typeof MsgContent !== 'object' || Array.isArray(MsgContent)) return `MsgBody[${i}].MsgContent is not an object`;
    const content = MsgContent as Record<string, unknown>;
    if (MsgType === 'TIMTextElem' && typeof content.Text !== 'string') return `MsgBody[${i}].MsgContent.Text must be a string`;
    for (const f of STRING_FIELDS[MsgType] ?? []) {
      if (content[f] !== undefined && typeof content[f] !== 'string') return `MsgBody[${i}].MsgContent.${f} must be a string`;
    }
  }
  return null;
}

/** Whether a message (body JSON plus CloudCustomData) is over MAX_MESSAGE_BYTES. */
export function messageTooLarge(body: MsgElement[], cloudCustomData = ''): boolean {
  return Buffer.byteLength(JSON.stringify(body)) + Buffer.byteLength(cloudCustomData) > MAX_MESSAGE_BYTES;
}

/** MsgKey of a C2C message (`<MsgSeq>_<MsgRandom>_<MsgTime>`), by which openim APIs name it. */
export function msgKey(m: Pick<C2CMessage, 'seq' | 'random' | 'time'>): string {
  return `${m.seq}_${m.random}_${m.time}`;
}

/** The name REST API v4 and the Chat SDK use on the wire for a group type: `Private` for Work, `ChatRoom` for Meeting. */
export function wireGroupType(type: GroupType): string {
  return type === 'Work' ? 'Private' : type === 'Meeting' ? 'ChatRoom' : type;
}

/** A group's profile fields as REST API v4 and the Chat SDK both name them, from Type to CreateTime. */
export function wireGroupProfile(g: Group): Record<string, unknown> {
  return {
    Type: wireGroupType(g.type),
    Name: g.name,
    Introduction: g.introduction,
    Notification: g.notification,
    FaceUrl: g.faceUrl,
    Owner_Account: g.owner,
    CreateTime: g.createTime,
  };
}

/** The message fields of a send_group_msg body, which REST API v4 and the Chat SDK name alike. */
interface WireGroupMessage {
  GroupId: string;
  Random?: number;
  MsgBody: unknown[];
  CloudCustomData?: string;
  MsgPriority?: string;
  OnlineOnlyFlag?: number;
}

/** A send_group_msg body's message fields as GroupsService.sendMessage takes them (OnlineOnlyFlag 1: online members only). */
export function groupMessageFields(b: WireGroupMessage): { groupId: string; random?: number; body: MsgElement[]; cloudCustomData?: string; priority?: string; onlineOnly: boolean } {
  return { groupId: b.GroupId, random: b.Random, body: b.MsgBody as MsgElement[], cloudCustomData: b.CloudCustomData, priority: b.MsgPriority, onlineOnly: b.OnlineOnlyFlag === 1 };
}
