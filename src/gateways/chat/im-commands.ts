// The Chat SDK's own commands: what it sends at login and while idle, C2C and group messages. Features trtcd does
// not keep (friends, blocklists, conversation groups, profiles beyond the nick) get the empty answers the SDK
// takes for "none" (docs/chat-and-calls.md "What works").
import { Type } from '@sinclair/typebox';
import { groupMessageFields, wireGroupProfile, wireGroupType, type C2CMessage, type Group, type GroupMessage, type GroupType, type MsgElement } from '../../services/chat/message.ts';
import type { GroupsService } from '../../services/chat/groups-service.ts';
import type { MessagesService } from '../../services/chat/messages-service.ts';
import { tinyIdOf } from '../trtc-sdk/protocol.ts';
import { answer, chatCommand, withRefusals, type ChatCommandTable } from './command.ts';
import { conversationCommands, type ConversationDeps } from './conversation-commands.ts';
import { ChatErrors, type ChatErrorEntry } from './errors.ts';
import type { ChatSession } from './session.ts';
import { GatewayError } from '../gateway-error.ts';

/**
 * What the message commands need. Without the conversation methods (a `messages` typed for sending and syncing only),
 * the conversation list stays empty and getroammsg/msgreaded get the empty answers of before.
 */
interface ImDeps {
  messages: Pick<MessagesService, 'sendC2C' | 'sync'> & ConversationDeps;
  groups: Pick<GroupsService, 'create' | 'get' | 'joined' | 'sendMessage'>;
}

const REFUSALS: Partial<Record<string, ChatErrorEntry>> = {
  UNKNOWN_ACCOUNT: ChatErrors.ACCOUNT_NOT_FOUND,
  BAD_BODY: ChatErrors.MSG_BODY_INVALID,
  BODY_TOO_LARGE: ChatErrors.MSG_TOO_LARGE,
  NO_GROUP: ChatErrors.GROUP_NOT_FOUND,
  NOT_FOUND: ChatErrors.GROUP_NOT_FOUND,
  NOT_MEMBER: ChatErrors.NOT_GROUP_MEMBER,
  GROUP_EXISTS: ChatErrors.GROUP_EXISTS,
};

/** Most messages one openim.getmsg page returns. */
const SYNC_PAGE = 20;
/** Most conversations whose unread count the first openim.getmsg reply of a login carries. */
const UNREAD_CONVERSATIONS = 100;

const UserId = Type.String({ minLength: 1, maxLength: 32 });
const Elements = Type.Array(Type.Object({ MsgType: Type.String({ maxLength: 32 }), MsgContent: Type.Record(Type.String(), Type.Unknown()) }), { minItems: 1, maxItems: 20 });
const Uint = Type.Integer({ minimum: 0, maximum: 0xffffffff });

/** A C2C message item as the SDK reads it from a push or getmsg, for `forUser` (a copy to the sender is a sync copy). */
export function c2cItem(m: C2CMessage, forUser: string): Record<string, unknown> {
  const sync = m.from === forUser && m.to !== forUser;
  return {
    // The SDK swaps From and To of a sync copy (IsSyncMsg 1) back.
    From_Account: sync ? m.to : m.from,
    To_Account: sync ? m.from : m.to,
    MsgSeq: m.seq,
    MsgRandom: m.random,
    MsgTimeStamp: m.time,
    MsgClientTime: m.clientTime,
    // The sender's TinyId makes the message id the receiver builds equal the sender's own.
    TinyId: tinyIdOf(m.sdkAppId, m.from),
    MsgBody: m.body,
    CloudCustomData: m.cloudCustomData,
    MsgKey: `${m.seq}_${m.random}_${m.time}`,
    From_AccountNick: '',
    From_AccountHeadurl: '',
    ClientSeq: m.seq,
    IsSyncMsg: sync ? 1 : 0,
    NeedAck: 0,
  };
}

/** A group message item of GroupMsgArray. */
export function groupItem(m: GroupMessage, type: GroupType): Record<string, unknown> {
  return {
    From_Account: m.from,
    GroupId: m.groupId,
    MsgSeq: m.seq,
    MsgRandom: m.random,
    MsgTimeStamp: m.time,
    MsgBody: m.body,
    CloudCustomData: m.cloudCustomData,
    ClientSeq: m.clientSeq,
    MsgPriority: m.priority,
    OnlineOnlyFlag: 0,
    ToGroupId: m.groupId,
    TinyId: tinyIdOf(m.sdkAppId, m.from),
    GroupInfo: { GroupId: m.groupId, GroupType: wireGroupType(type), From_AccountNick: '', From_AccountHeadurl: '' },
  };
}

/** A group as get_joined_group_list and get_group_self_member_info describe it to `userId`. */
function groupView(g: Group, userId: string): Record<string, unknown> {
  const me = g.members.find((m) => m.userId === userId);
  const now = Math.floor(Date.now() / 1000);
  return {
    GroupId: g.groupId,
    ErrorCode: 0,
    ...wireGroupProfile(g),
    InfoSeq: 1,
    LastInfoTime: g.createTime,
    LastMsgTime: now,
    MemberNum: g.members.length,
    MaxMemberNum: g.maxMemberNum,
    ApplyJoinOption: g.applyJoinOption,
    NextMsgSeq: g.nextMsgSeq,
    ShutUpAllMember: 'Off',
    SelfInfo: me ? { Role: me.role, JoinTime: me.joinTime, MsgFlag: 'AcceptAndNotify', NameCard: '', MsgSeq: g.nextMsgSeq - 1 } : {},
  };
}

function self(s: ChatSession, account: unknown): void {
  if (account !== undefined && account !== s.userId) throw new GatewayError(ChatErrors.INVALID_PARAMETER, 'From_Account must be the logged-in user');
}

/** The Chat SDK's commands, bound to the message and group services. */
export function imCommands(d: ImDeps): ChatCommandTable {
  return {
    // Sent at login (docs/chat-and-calls.md "Login"); trtcd keeps no friends, blocklists or conversation groups.
    'profile.portrait_get_all': chatCommand(Type.Object({ UserItem: Type.Optional(Type.Array(Type.Object({ To_Account: UserId }), { maxItems: 100 })) }), (_s, b) => ({
      UserProfileItem: (b.UserItem ?? []).map((u) => ({ To_Account: u.To_Account, ResultCode: 0, ResultInfo: '', ProfileItem: [{ Tag: 'Tag_Profile_IM_Nick', Value: '' }] })),
      CurrentStandardSequence: 0,
    })),
    'sns.black_list_get': answer({ BlackListItem: [], StartIndex: 0, CurruentSequence: 0 }),
    'sns.friend_get': answer({ FriendNum: 0, UserDataItem: [], CompleteFlag: 1, StandardSequence: 0, CustomSequence: 0, NextStartIndex: 0 }),
    'sns.group_get': answer({ ResultItem: [], LastSequence: 0 }),
    'sns.pendency_get': answer({ PendencyItem: [], UnreadPendencyCount: 0 }),
    'recentcontact.page_get': { handle: () => ({ CompleteFlag: 1, TimeStamp: Math.floor(Date.now() / 1000), StartIndex: 0, TopTimeStamp: 0, TopStartIndex: 0, SessionItem: [] }) },
    'recentcontact.get_contact_group': answer({ ContactGroupItem: [], CompleteFlag: 1 }),
    'recentcontact.search_contact_group': answer(),
    'million_group_open_http_svc.get_joined_group_list': answer({ GroupIdList: [], TotalCount: 0 }),
    'im_sdk_config_mgr.fetch_config': chatCommand(Type.Object({ uint32_sdkappid: Type.Optional(Type.Integer()) }), (s) => ({
      int32_error_code: 0,
      str_json_config: '{}',
      uint32_expired_time: 3600,
      uint64_version: 1,
      uint32_sdkappid: s.sdkAppId,
    })),
    'im_sdk_config_mgr.fetch_imsdk_purchase_bitsv2': {
      handle: (s) => ({ int32_error_code: 0, str_purchase_bits: s.purchaseBits, uint32_expired_time: 3600 }),
    },
    'imopenstat.tim_web_report_v2': answer(),
    'openim.get_peer_read_time': answer(),
    'openim.get_c2c_peer_mute_notifications': answer(),
    'openim.msgreaded': answer(),
    'openim.ws_msg_push_ack': answer(),
    'group_open_http_svc.msg_read_report': answer(),

    'openim.sendmsg': chatCommand(
      Type.Object({
        From_Account: Type.Optional(Type.String()),
        To_Account: UserId,
        MsgSeq: Type.Optional(Uint),
        MsgRandom: Type.Optional(Uint),
        MsgBody: Elements,
        CloudCustomData: Type.Optional(Type.String({ maxLength: 12 * 1024 })),
        MsgClientTime: Type.Optional(Type.Integer({ minimum: 0 })),
        MsgLifeTime: Type.Optional(Type.Integer({ minimum: 0 })),
      }),
      async (s, b) => {
        self(s, b.From_Account);
        const m = await withRefusals(REFUSALS, () =>
          d.messages.sendC2C({
            sdkAppId: s.sdkAppId,
            from: s.userId,
            to: b.To_Account,
            seq: b.MsgSeq,
            random: b.MsgRandom,
            body: b.MsgBody as MsgElement[],
            cloudCustomData: b.CloudCustomData,
            clientTime: b.MsgClientTime,
            onlineOnly: b.MsgLifeTime === 0,
          }),
        );
        return { MsgTime: m.time, MsgSeq: m.seq };
      },
    ),
    // Cookie '' starts a login's sync. Its reply also carries the unread count of each C2C conversation: the SDK takes
    // them (C2CPairUnreadCount → C2CPairUnreadList, items {from, unreadCount}) only from a reply with SyncFlag 0 or 1, so
    // that reply says "more" when there are any, and the next (same cookie) ends the sync.
    'openim.getmsg': chatCommand(Type.Object({ Cookie: Type.Optional(Type.String({ maxLength: 64 })) }), async (s, b) => {
      const cookie = b.Cookie ?? '';
      const page = await withRefusals(REFUSALS, () => d.messages.sync(s.sdkAppId, s.userId, cookie, SYNC_PAGE));
      const unread = cookie === '' ? (await d.messages.conversations(s.sdkAppId, s.userId, { limit: UNREAD_CONVERSATIONS })).filter((c) => c.unread > 0) : [];
      return {
        Cookie: page.cookie,
        SyncFlag: page.more || unread.length > 0 ? 1 : 2,
        MsgList: page.messages.map((m) => c2cItem(m, s.userId)),
        ...(unread.length > 0 ? { C2CPairUnreadCount: unread.map((c) => ({ From_Account: c.peer, UnreadCount: c.unread })) } : {}),
      };
    }),

    'group_open_http_svc.create_group': chatCommand(
      Type.Object({
        Type: Type.String({ maxLength: 16 }),
        Name: Type.String({ minLength: 1, maxLength: 100 }),
        GroupId: Type.Optional(Type.String({ minLength: 1, maxLength: 48 })),
        Owner_Account: Type.Optional(Type.String()),
        MemberList: Type.Optional(Type.Array(Type.Object({ Member_Account: UserId }), { maxItems: 500 })),
        Introduction: Type.Optional(Type.String({ maxLength: 400 })),
        Notification: Type.Optional(Type.String({ maxLength: 400 })),
        FaceUrl: Type.Optional(Type.String({ maxLength: 500 })),
        MaxMemberNum: Type.Optional(Type.Integer({ minimum: 1 })),
        ApplyJoinOption: Type.Optional(Type.String({ maxLength: 32 })),
      }),
      async (s, b) => {
        const g = await withRefusals(REFUSALS, () =>
          d.groups.create({
            sdkAppId: s.sdkAppId,
            type: b.Type,
            name: b.Name,
            owner: s.userId,
            groupId: b.GroupId,
            members: (b.MemberList ?? []).filter((m) => m.Member_Account !== s.userId).map((m) => ({ userId: m.Member_Account })),
            introduction: b.Introduction,
            notification: b.Notification,
            faceUrl: b.FaceUrl,
            maxMemberNum: b.MaxMemberNum,
            applyJoinOption: b.ApplyJoinOption,
          }),
        );
        return { GroupId: g.groupId };
      },
    ),
    'group_open_http_svc.get_joined_group_list': chatCommand(
      Type.Object({ Limit: Type.Optional(Type.Integer({ minimum: 0 })), Offset: Type.Optional(Type.Integer({ minimum: 0 })) }),
      async (s, b) => {
        const all = await d.groups.joined(s.sdkAppId, s.userId);
        const offset = b.Offset ?? 0;
        const page = all.slice(offset, offset + (b.Limit || 200));
        return { GroupIdList: page.map((g) => groupView(g, s.userId)), TotalCount: all.length };
      },
    ),
    'group_open_http_svc.get_group_self_member_info': chatCommand(Type.Object({ GroupIdList: Type.Array(Type.String({ maxLength: 48 }), { minItems: 1, maxItems: 50 }) }), (s, b) => ({
      GroupInfo: b.GroupIdList.map((id) => {
        try {
          const g = d.groups.get(s.sdkAppId, id);
          if (!g.members.some((m) => m.userId === s.userId)) return { GroupId: id, ErrorCode: ChatErrors.NOT_GROUP_MEMBER.code, ErrorInfo: ChatErrors.NOT_GROUP_MEMBER.message };
          return { ...groupView(g, s.userId), MemberList: g.members.map((m) => ({ Member_Account: m.userId, Role: m.role, JoinTime: m.joinTime, MsgFlag: 'AcceptAndNotify', NameCard: '' })) };
        } catch {
          return { GroupId: id, ErrorCode: ChatErrors.GROUP_NOT_FOUND.code, ErrorInfo: ChatErrors.GROUP_NOT_FOUND.message };
        }
      }),
    })),
    'group_open_http_svc.send_group_msg': chatCommand(
      Type.Object({
        From_Account: Type.Optional(Type.String()),
        GroupId: Type.String({ minLength: 1, maxLength: 48 }),
        Random: Type.Optional(Uint),
        ClientSeq: Type.Optional(Uint),
        MsgPriority: Type.Optional(Type.String({ maxLength: 16 })),
        MsgBody: Elements,
        CloudCustomData: Type.Optional(Type.String({ maxLength: 12 * 1024 })),
        OnlineOnlyFlag: Type.Optional(Type.Integer()),
      }),
      async (s, b) => {
        self(s, b.From_Account);
        const m = await withRefusals(REFUSALS, () => d.groups.sendMessage({ sdkAppId: s.sdkAppId, from: s.userId, clientSeq: b.ClientSeq, ...groupMessageFields(b) }));
        return { MsgTime: m.time, MsgSeq: m.seq };
      },
    ),

    // The conversation list, history and read marks (conversation-commands.ts), over the answers above.
    ...conversationCommands(d.messages),
  };
}
