// The Chat SDK's group management (group_open_http_svc.*, chat.getGroupMemberList … dismissGroup): member lists and
// member profiles, adding and removing members, joining, quitting, dismissing and profile changes, with Tencent's role
// rules per group type and its group error codes (100xx). The group tips these changes cause are pushed from the bus
// (group-pushes.ts). Request bodies are the SDK's own after its key maps (e.g. userIDList → MemberToDel_Account).
import { Type } from '@sinclair/typebox';
import type { GroupProfileUpdate, GroupsService } from '../../services/chat/groups-service.ts';
import type { Group, GroupRole } from '../../services/chat/message.ts';
import { chatCommand, withRefusals, type ChatCommandTable } from './command.ts';
import { ChatErrors, type ChatErrorEntry } from './errors.ts';
import type { ChatSession } from './session.ts';
import { GatewayError } from '../gateway-error.ts';

/** What the group commands need. */
interface GroupDeps {
  groups: Pick<GroupsService, 'get' | 'addMembers' | 'join' | 'removeMembers' | 'quit' | 'update' | 'destroy'>;
}

const REFUSALS: Partial<Record<string, ChatErrorEntry>> = {
  NO_GROUP: ChatErrors.GROUP_NOT_FOUND,
  NOT_FOUND: ChatErrors.GROUP_NOT_FOUND,
  NOT_MEMBER: ChatErrors.NOT_GROUP_MEMBER,
  OWNER: ChatErrors.GROUP_PERMISSION_DENIED,
  OWNER_QUIT: ChatErrors.GROUP_OWNER_CANNOT_QUIT,
  AVCHATROOM_MEMBERS: ChatErrors.GROUP_PERMISSION_DENIED,
  GROUP_FULL: ChatErrors.GROUP_FULL,
  // Any other refusal of a value (a name too long, an unknown ApplyJoinOption): Tencent's 10004.
  INVALID_ARGUMENT: ChatErrors.GROUP_INVALID_PARAMETER,
};

/** Most members one get_group_member_info page holds when the SDK names no Limit. */
const MAX_MEMBER_PAGE = 6000;

const GroupId = Type.String({ minLength: 1, maxLength: 48 });
const UserId = Type.String({ minLength: 1, maxLength: 32 });
const Flag = Type.Optional(Type.Union([Type.Integer(), Type.Boolean()]));
const Filter = Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 50 }));

/** A member as get_group_member_info and get_specified_group_member_info describe it (the SDK's GroupMember). */
function memberItem(m: Group['members'][number]): Record<string, unknown> {
  return { Member_Account: m.userId, Role: m.role, JoinTime: m.joinTime, NameCard: '', MsgFlag: 'AcceptAndNotify', LastSendMsgTime: 0, ShutUpUntil: 0, AppMemberDefinedData: [] };
}

const deny = (why: string): never => {
  throw new GatewayError(ChatErrors.GROUP_PERMISSION_DENIED, why);
};

/** The group (10010 when the app has none by that id) and the session user's role in it (10007 when not a member). */
function asMember(d: GroupDeps, s: ChatSession, groupId: string): { g: Group; role: GroupRole } {
  let g: Group;
  try {
    g = d.groups.get(s.sdkAppId, groupId);
  } catch {
    throw new GatewayError(ChatErrors.GROUP_NOT_FOUND);
  }
  const me = g.members.find((m) => m.userId === s.userId);
  if (!me) throw new GatewayError(ChatErrors.NOT_GROUP_MEMBER, `${s.userId} is not a member of group ${groupId}`);
  return { g, role: me.role };
}

const manager = (role: GroupRole) => role === 'Owner' || role === 'Admin';

/** The SDK's group management commands, bound to the groups service. */
export function groupCommands(d: GroupDeps): ChatCommandTable {
  return {
    // chat.getGroupMemberList: {GroupId, Limit (≤ 100), Offset, MemberRoleFilter?, MemberInfoFilter} → the page and the
    // member count; the SDK works out the next offset itself (a short page ends the list).
    'group_open_http_svc.get_group_member_info': chatCommand(
      Type.Object({
        GroupId,
        Limit: Type.Optional(Type.Integer({ minimum: 0 })),
        Offset: Type.Optional(Type.Integer({ minimum: 0 })),
        MemberRoleFilter: Type.Optional(Type.Array(Type.String({ maxLength: 16 }), { maxItems: 3 })),
        MemberInfoFilter: Filter,
        AppDefinedDataFilter_GroupMember: Filter,
      }),
      (s, b) => {
        const { g } = asMember(d, s, b.GroupId);
        const roles = b.MemberRoleFilter?.length ? new Set(b.MemberRoleFilter) : undefined;
        const all = roles ? g.members.filter((m) => roles.has(m.role)) : g.members;
        const offset = b.Offset ?? 0;
        const limit = Math.min(b.Limit || MAX_MEMBER_PAGE, MAX_MEMBER_PAGE);
        return { MemberNum: g.members.length, MemberList: all.slice(offset, offset + limit).map(memberItem) };
      },
    ),
    // chat.getGroupMemberProfile: {GroupId, Member_List_Account (≤ 50)} → the ones that are members.
    'group_open_http_svc.get_specified_group_member_info': chatCommand(
      Type.Object({ GroupId, Member_List_Account: Type.Array(UserId, { minItems: 1, maxItems: 50 }), MemberInfoFilter: Filter, AppDefinedDataFilter_GroupMember: Filter }),
      (s, b) => {
        const { g } = asMember(d, s, b.GroupId);
        const wanted = new Set(b.Member_List_Account);
        return { MemberList: g.members.filter((m) => wanted.has(m.userId)).map(memberItem) };
      },
    ),
    // chat.addGroupMember: {GroupId, MemberList: [{Member_Account}], Silence?} → per user Result 1 added, 2 already a
    // member, 0 failed (not an account). Any member of a Work (or Community) group may add; Public and Meeting groups
    // take members only from the app admin (REST), an AVChatRoom none.
    'group_open_http_svc.add_group_member': chatCommand(
      Type.Object({ GroupId, MemberList: Type.Array(Type.Object({ Member_Account: UserId }), { minItems: 1, maxItems: 500 }), Silence: Flag }),
      async (s, b) => {
        const { g } = asMember(d, s, b.GroupId);
        if (g.type !== 'Work' && g.type !== 'Community') deny(`members of a ${g.type} group cannot add members; the app admin can (REST add_group_member)`);
        const results = await withRefusals(REFUSALS, () =>
          d.groups.addMembers(
            s.sdkAppId,
            b.GroupId,
            b.MemberList.map((m) => m.Member_Account),
            { operator: s.userId, silent: b.Silence === 1 || b.Silence === true },
          ),
        );
        return { MemberList: results.map((r) => ({ Member_Account: r.userId, Result: r.result === 'added' ? 1 : r.result === 'already' ? 2 : 0 })) };
      },
    ),
    // chat.deleteGroupMember: {GroupId, MemberToDel_Account, Reason?, Silence?}. Work: the owner only; other types: the
    // owner, or an admin removing ordinary members. Never the owner; users that are not members are skipped.
    'group_open_http_svc.delete_group_member': chatCommand(
      Type.Object({ GroupId, MemberToDel_Account: Type.Array(UserId, { minItems: 1, maxItems: 500 }), Reason: Type.Optional(Type.String({ maxLength: 1024 })), Silence: Flag }),
      async (s, b) => {
        const { g, role } = asMember(d, s, b.GroupId);
        if (g.type === 'AVChatRoom') deny('members of an AVChatRoom are banned, not removed');
        if (g.type === 'Work' ? role !== 'Owner' : !manager(role)) deny(`only the owner${g.type === 'Work' ? '' : ' or an admin'} may remove members of this group`);
        const targets = g.members.filter((m) => b.MemberToDel_Account.includes(m.userId));
        if (targets.some((m) => m.role === 'Owner')) deny('the group owner cannot be removed');
        if (role === 'Admin' && targets.some((m) => m.role !== 'Member')) deny('an admin may remove ordinary members only');
        await withRefusals(REFUSALS, () => d.groups.removeMembers(s.sdkAppId, b.GroupId, b.MemberToDel_Account, { operator: s.userId, silent: b.Silence === 1 || b.Silence === true }));
        return {};
      },
    ),
    // chat.quitGroup: {GroupId}. The owner may quit a Work group only (it is left without an owner): 10009 otherwise.
    'group_open_http_svc.quit_group': chatCommand(Type.Object({ GroupId }), async (s, b) => {
      await withRefusals(REFUSALS, () => d.groups.quit(s.sdkAppId, b.GroupId, s.userId));
      return {};
    }),
    // chat.dismissGroup: {GroupId}. The owner of a Public, Meeting, AVChatRoom or Community group; nobody dismisses a
    // Work group (only the app admin, REST destroy_group).
    'group_open_http_svc.destroy_group': chatCommand(Type.Object({ GroupId }), async (s, b) => {
      const { g, role } = asMember(d, s, b.GroupId);
      if (g.type === 'Work') deny('a Work group cannot be dismissed by its members; the app admin can (REST destroy_group)');
      if (role !== 'Owner') deny('only the group owner may dismiss the group');
      await withRefusals(REFUSALS, () => d.groups.destroy(s.sdkAppId, b.GroupId, { operator: s.userId }));
      return {};
    }),
    // chat.joinGroup: {GroupId, ApplyMsg?, …} → {JoinedStatus: 'JoinedSuccess'} for a group whose ApplyJoinOption is
    // FreeAccess (Meeting, AVChatRoom and Community by default). Work groups take no applications, and approval
    // (NeedPermission, Public's default) is not kept by trtcd: both 10007. Already a member: 10013.
    'group_open_http_svc.apply_join_group': chatCommand(
      Type.Object({
        GroupId,
        ApplyMsg: Type.Optional(Type.String({ maxLength: 1024 })),
        UserDefinedField: Type.Optional(Type.String({ maxLength: 1024 })),
        WebPushFlag: Flag,
        HugeGroupHistoryMsgFlag: Flag,
      }),
      async (s, b) => {
        let g: Group;
        try {
          g = d.groups.get(s.sdkAppId, b.GroupId);
        } catch {
          throw new GatewayError(ChatErrors.GROUP_NOT_FOUND);
        }
        if (g.members.some((m) => m.userId === s.userId)) throw new GatewayError(ChatErrors.ALREADY_GROUP_MEMBER);
        if (g.type === 'Work') deny('a Work group cannot be applied to; its members add others');
        if (g.applyJoinOption === 'DisableApply') deny('the group does not accept applications');
        if (g.applyJoinOption !== 'FreeAccess') deny('the group needs approval to join, which this server does not support; make it FreeAccess');
        const [r] = await withRefusals(REFUSALS, () => d.groups.join(s.sdkAppId, b.GroupId, [s.userId]));
        if (r?.result === 'already') throw new GatewayError(ChatErrors.ALREADY_GROUP_MEMBER);
        return { GroupId: b.GroupId, JoinedStatus: 'JoinedSuccess' };
      },
    ),
    // chat.updateGroupProfile: {GroupId, Name?, Introduction?, Notification?, FaceUrl?, ApplyJoinOption? (Public and
    // Community)}. Any member of a Work group; the owner or an admin of others. Muting everyone, custom fields, the
    // invite option and the member limit are not kept: 10004 when asked for.
    'group_open_http_svc.modify_group_base_info': chatCommand(
      Type.Object({
        GroupId,
        Name: Type.Optional(Type.String({ maxLength: 1000 })),
        Introduction: Type.Optional(Type.String({ maxLength: 2000 })),
        Notification: Type.Optional(Type.String({ maxLength: 2000 })),
        FaceUrl: Type.Optional(Type.String({ maxLength: 2000 })),
        ApplyJoinOption: Type.Optional(Type.String({ maxLength: 32 })),
        ShutUpAllMember: Type.Optional(Type.String({ maxLength: 8 })),
        AppDefinedData: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 100 })),
        InviteJoinOption: Type.Optional(Type.String({ maxLength: 32 })),
        MaxMemberNum: Type.Optional(Type.Integer()),
      }),
      async (s, b) => {
        const { g, role } = asMember(d, s, b.GroupId);
        if (g.type !== 'Work' && !manager(role)) deny('only the owner or an admin may change the group profile');
        const unsupported =
          (b.ShutUpAllMember === 'On' && 'ShutUpAllMember') || (b.AppDefinedData?.length && 'AppDefinedData') || (b.InviteJoinOption !== undefined && 'InviteJoinOption') || (b.MaxMemberNum !== undefined && 'MaxMemberNum');
        if (unsupported) throw new GatewayError(ChatErrors.GROUP_INVALID_PARAMETER, `${unsupported} is not supported by this server`);
        const changes: GroupProfileUpdate = { name: b.Name, introduction: b.Introduction, notification: b.Notification, faceUrl: b.FaceUrl, applyJoinOption: b.ApplyJoinOption };
        if (Object.values(changes).some((v) => v !== undefined)) await withRefusals(REFUSALS, () => d.groups.update(s.sdkAppId, b.GroupId, changes, { operator: s.userId }));
        return {};
      },
    ),
  };
}
