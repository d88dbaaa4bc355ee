// Group changes (GROUP_TOPIC) → the pushes the Chat SDK turns into group tips and group system notices. Both are
// im_open_push.msg_push EventArray items {Event, GroupTips: [item]}; the SDK dispatches them by the GroupTips key
// (→ groupTips) and then by Event (chat L25275–L25301 of the notes' re-print; the handlers below):
// - Event 6, online group tips: a GROUP_TIP message (MESSAGE_RECEIVED) in the group's conversation; by OpType
//   (→ payload.operationType) 1 joined, 2 quit, 3 kicked out (the SDK drops them from its member list and takes
//   MemberNum as the new member count) and 6 profile changed (MsgGroupNewInfo: the group in GROUP_LIST_UPDATED).
//   Event 4 would be the stored kind, which also counts as unread and moves the conversation on; trtcd does not
//   store tips, hence 6, as for the online-only tips Tencent sends.
// - Event 5, group system notices: a GROUP_SYSTEM_NOTICE message in @TIM#SYSTEM to the user concerned; by OpType
//   4 kicked out and 5 dismissed (the SDK drops the group and its conversation, GROUP_LIST_UPDATED), 7 added by
//   someone (it fetches the group, GROUP_LIST_UPDATED), 8 quit (the quitter's other instances drop the group).
// An item carries the message fields (From_Account → from, ToGroupId → to, MsgSeq, MsgRandom, MsgTimeStamp, TinyId),
// GroupInfo (→ groupProfile: the SDK needs its GroupId) and MsgBody (→ elements: the tip itself).
import { randomInt } from 'node:crypto';
import type { GroupChanged, GroupProfileUpdate } from '../../services/chat/groups-service.ts';
import { wireGroupType } from '../../services/chat/message.ts';
import { tinyIdOf } from '../trtc-sdk/protocol.ts';

/** What group pushes need. */
interface GroupPushDeps {
  /** Pushes to every instance of a user on this node; how many got it. */
  pushTo(sdkAppId: number, userId: string, servcmd: string, body: unknown): number;
}

/** Event numbers of EventArray items. */
const EVENT_TIPS = 6;
const EVENT_SYSTEM_NOTICE = 5;
/** OpType of group tips. */
const TIP = { JOINED: 1, QUIT: 2, KICKED: 3, PROFILE: 6 } as const;
/** OpType of group system notices. */
const NOTICE = { KICKED: 4, DISMISSED: 5, ADDED: 7, QUIT: 8 } as const;
/** The sender of what the app itself did (REST). */
const SYSTEM = '@TIM#SYSTEM';

/** MsgGroupNewInfo of a profile tip (the SDK's newGroupProfile: groupName, introduction, notification, avatar, joinOption). */
function newInfo(p: GroupProfileUpdate): Record<string, string> {
  const out: Record<string, string> = {};
  if (p.name !== undefined) out.GroupName = p.name;
  if (p.introduction !== undefined) out.GroupIntroduction = p.introduction;
  if (p.notification !== undefined) out.GroupNotification = p.notification;
  if (p.faceUrl !== undefined) out.GroupFaceUrl = p.faceUrl;
  if (p.applyJoinOption !== undefined) out.GroupApplyJoinOption = p.applyJoinOption;
  return out;
}

/** One GroupTips item of `e` (which has its `group`) with the tip `body`. */
function tipItem(e: GroupChanged & { group: NonNullable<GroupChanged['group']> }, body: Record<string, unknown>): Record<string, unknown> {
  const time = Math.floor(Date.now() / 1000);
  const random = randomInt(1, 0x100000000);
  const operator = e.operator ?? '';
  return {
    From_Account: operator || SYSTEM,
    GroupId: e.groupId,
    ToGroupId: e.groupId,
    // Tips take no sequence of their own: the group's last one (0 before any) keeps the SDK's next-sequence
    // bookkeeping (nextMessageSeq = a tip's sequence + 1) right.
    MsgSeq: Math.max(0, e.group.nextMsgSeq - 1),
    MsgRandom: random,
    MsgTimeStamp: time,
    MsgClientTime: time,
    TinyId: operator ? tinyIdOf(e.sdkAppId, operator) : '',
    GroupInfo: { GroupId: e.groupId, GroupType: wireGroupType(e.group.type), GroupName: e.group.name, From_AccountNick: '', From_AccountHeadurl: '' },
    MsgBody: { Operator_Account: operator, MemberNum: e.group.members.length, ...body },
  };
}

/** Pushes the tips and notices of a group change to the online instances (on this node) of the users concerned. */
export function pushGroupChange(d: GroupPushDeps, e: GroupChanged): void {
  const { group } = e;
  // `created` announces nothing (the members learn of the group from its first message, as before).
  if (!group || e.kind === 'created') return;
  const ev = { ...e, group };
  const send = (users: readonly string[], event: number, body: Record<string, unknown>) => {
    const payload = { EventArray: [{ Event: event, GroupTips: [tipItem(ev, body)] }] };
    for (const u of users) d.pushTo(e.sdkAppId, u, 'im_open_push.msg_push', payload);
  };
  switch (e.kind) {
    case 'members-added':
      if (!e.self) send(e.userIds, EVENT_SYSTEM_NOTICE, { OpType: NOTICE.ADDED, List_Account: e.userIds });
      if (!e.silent) send(group.members, EVENT_TIPS, { OpType: TIP.JOINED, List_Account: e.userIds });
      return;
    case 'members-removed':
      send(e.userIds, EVENT_SYSTEM_NOTICE, { OpType: e.self ? NOTICE.QUIT : NOTICE.KICKED, List_Account: e.userIds });
      if (!e.silent) send(group.members, EVENT_TIPS, { OpType: e.self ? TIP.QUIT : TIP.KICKED, List_Account: e.userIds });
      return;
    case 'updated':
      send(group.members, EVENT_TIPS, { OpType: TIP.PROFILE, MsgGroupNewInfo: newInfo(e.profile ?? {}) });
      return;
    case 'destroyed':
      send(group.members, EVENT_SYSTEM_NOTICE, { OpType: NOTICE.DISMISSED });
      return;
  }
}
