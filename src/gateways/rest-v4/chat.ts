import { Type } from '@sinclair/typebox';
import { groupMessageFields, msgKey, wireGroupProfile, type Group, type MsgElement } from '../../services/chat/message.ts';
import { DomainError } from '../../services/errors.ts';
import { Account, defineCommand, perSecond, type CommandTable } from './command.ts';
import { RestErrors, type RestErrorEntry } from './errors.ts';
import { GatewayError } from '../gateway-error.ts';

/** Longest MsgLifeTime of openim/sendmsg: 7 days, in seconds (90026 above it). */
export const MAX_MSG_LIFETIME = 604_800;
/** Most initial members of create_group. */
export const MAX_CREATE_MEMBERS = 500;
/** Most members one add_group_member adds. */
export const MAX_ADD_MEMBERS = 300;
/** Most members one delete_group_member removes. */
export const MAX_DELETE_MEMBERS = 100;
/** Most groups one get_group_info asks about (unconfirmed). */
const MAX_GROUP_INFO_IDS = 50;
/** Most GroupIds one get_appid_group_list returns, and its default Limit. */
const MAX_GROUP_LIST = 10_000;

const Uint32 = Type.Integer({ minimum: 0, maximum: 0xffffffff });
const GroupId = Type.String({ minLength: 1 });
/** Elements are checked by the services (MsgType, MsgContent, size), so each API answers with its own code. */
const MsgBody = Type.Array(Type.Unknown());
/** Accepted and ignored: trtcd has no offline push, callbacks on messages or read receipts. */
const ignored = {
  OfflinePushInfo: Type.Optional(Type.Object({})),
  SendMsgControl: Type.Optional(Type.Array(Type.String())),
  ForbidCallbackControl: Type.Optional(Type.Array(Type.String())),
  SupportMessageExtension: Type.Optional(Type.Integer()),
  IsNeedReadReceipt: Type.Optional(Type.Integer()),
};

const openim = { invalid: RestErrors.MSG_FORMAT, internal: RestErrors.MSG_INTERNAL };
const group = { limit: perSecond(200), invalid: RestErrors.GROUP_INVALID, internal: RestErrors.GROUP_INTERNAL };
const groupErrors = {
  NO_GROUP: RestErrors.GROUP_NOT_FOUND,
  GROUP_EXISTS: RestErrors.GROUP_ID_IN_USE,
  UNKNOWN_ACCOUNT: RestErrors.GROUP_ACCOUNT_NOT_FOUND,
  AVCHATROOM_MEMBERS: RestErrors.GROUP_PERMISSION,
  GROUP_FULL: RestErrors.GROUP_FULL,
  NOT_MEMBER: RestErrors.GROUP_PERMISSION,
  OWNER: RestErrors.GROUP_PERMISSION,
  BODY_TOO_LARGE: RestErrors.GROUP_MSG_TOO_LONG,
};

function fail(entry: RestErrorEntry, info: string): never {
  throw new GatewayError(entry, `${entry.message} ${info}`);
}

/** get_group_info's view of a group: its profile and (except for an AVChatRoom) its members. */
function groupInfo(g: Group): Record<string, unknown> {
  return {
    GroupId: g.groupId,
    ErrorCode: 0,
    ErrorInfo: '',
    ...wireGroupProfile(g),
    InfoSeq: g.infoSeq,
    LastInfoTime: g.lastInfoTime,
    LastMsgTime: g.lastMsgTime,
    NextMsgSeq: g.nextMsgSeq,
    MemberNum: g.members.length,
    MaxMemberNum: g.maxMemberNum,
    ApplyJoinOption: g.applyJoinOption,
    ShutUpAllMember: 'Off',
    ...(g.type === 'AVChatRoom'
      ? {}
      : { MemberList: g.members.map((m) => ({ Member_Account: m.userId, Role: m.role, JoinTime: m.joinTime, MsgFlag: 'AcceptAndNotify', LastSendMsgTime: 0, ShutUpUntil: 0 })) }),
  };
}

/** Chat REST API v4: `openim` C2C messages and `group_open_http_svc` groups and group messages. */
export const chatCommands: CommandTable = {
  // https://cloud.tencent.com/document/product/269/2282 (zh), https://trtc.io/document/34919 (en): 200/s; reply MsgTime, MsgKey.
  'openim/sendmsg': defineCommand({
    ...openim,
    limit: perSecond(200),
    body: Type.Object({
      SyncOtherMachine: Type.Optional(Type.Integer({ minimum: 1, maximum: 2 })),
      From_Account: Type.Optional(Account({ minLength: 1 })),
      To_Account: Type.String({ minLength: 1 }),
      MsgLifeTime: Type.Optional(Type.Integer({ minimum: 0 })),
      MsgSeq: Type.Optional(Uint32),
      MsgRandom: Uint32,
      MsgBody,
      CloudCustomData: Type.Optional(Type.String()),
      ...ignored,
    }),
    fieldErrors: {
      To_Account: RestErrors.MSG_TO_ACCOUNT,
      MsgRandom: RestErrors.MSG_RANDOM,
      MsgBody: RestErrors.MSG_BODY,
      SyncOtherMachine: RestErrors.MSG_SYNC_OTHER_MACHINE,
      MsgLifeTime: RestErrors.MSG_LIFETIME_TYPE,
    },
    errors: { BAD_BODY: RestErrors.MSG_BODY, BODY_TOO_LARGE: RestErrors.MSG_TOO_LONG, UNKNOWN_ACCOUNT: RestErrors.MSG_ACCOUNT_NOT_FOUND },
    async handle(ctx, b) {
      if (b.MsgLifeTime !== undefined && b.MsgLifeTime > MAX_MSG_LIFETIME) fail(RestErrors.MSG_LIFETIME, `MsgLifeTime ${b.MsgLifeTime} is over ${MAX_MSG_LIFETIME} s`);
      const sdkAppId = ctx.app.sdkAppId;
      const m = await ctx.services.messages
        .sendC2C({
          sdkAppId,
          from: b.From_Account ?? ctx.identifier,
          to: b.To_Account,
          seq: b.MsgSeq,
          random: b.MsgRandom,
          body: b.MsgBody as MsgElement[],
          cloudCustomData: b.CloudCustomData,
          onlineOnly: b.MsgLifeTime === 0,
          syncSender: b.SyncOtherMachine === 1,
        })
        .catch(async (err: unknown) => {
          // An unknown recipient has its own code (90012); an unknown sender gets the general one (90048).
          if (err instanceof DomainError && err.detail === 'UNKNOWN_ACCOUNT' && !(await ctx.services.accounts.exists(sdkAppId, b.To_Account))) {
            fail(RestErrors.MSG_TO_NOT_FOUND, err.message);
          }
          throw err;
        });
      return { MsgTime: m.time, MsgKey: msgKey(m) };
    },
  }),

  // https://cloud.tencent.com/document/product/269/1615 (zh), https://trtc.io/document/34895 (en): 200/s; reply GroupId;
  // AVChatRoom with members → 10007; MemberList ≤ 500 (web SDK CreateGroupParams).
  'group_open_http_svc/create_group': defineCommand({
    ...group,
    body: Type.Object({
      Owner_Account: Type.Optional(Account({ minLength: 1 })),
      Type: Type.String({ minLength: 1 }),
      Name: Type.String({ minLength: 1 }),
      GroupId: Type.Optional(Type.String()),
      Introduction: Type.Optional(Type.String()),
      Notification: Type.Optional(Type.String()),
      FaceUrl: Type.Optional(Type.String()),
      MaxMemberCount: Type.Optional(Type.Integer({ minimum: 0 })),
      ApplyJoinOption: Type.Optional(Type.String()),
      MemberList: Type.Optional(Type.Array(Type.Object({ Member_Account: Account({ minLength: 1 }), Role: Type.Optional(Type.Literal('Admin')) }), { maxItems: MAX_CREATE_MEMBERS })),
      AppDefinedData: Type.Optional(Type.Array(Type.Object({ Key: Type.String(), Value: Type.String() }))),
      SupportTopic: Type.Optional(Type.Integer()),
      InviteJoinOption: Type.Optional(Type.String()),
    }),
    errors: groupErrors,
    async handle(ctx, b) {
      const g = await ctx.services.groups.create({
        sdkAppId: ctx.app.sdkAppId,
        type: b.Type,
        name: b.Name,
        owner: b.Owner_Account,
        groupId: b.GroupId,
        members: b.MemberList?.map((m) => ({ userId: m.Member_Account, role: m.Role })),
        introduction: b.Introduction,
        notification: b.Notification,
        faceUrl: b.FaceUrl,
        maxMemberNum: b.MaxMemberCount,
        applyJoinOption: b.ApplyJoinOption,
      });
      return { GroupId: g.groupId };
    },
  }),

  // https://cloud.tencent.com/document/product/269/1614 (zh), https://trtc.io/document/34960 (en): 1/s; Limit ≤ 10000
  // (default 10000); Next 0 to start, 0 back when done; reply TotalCount, GroupIdList [{GroupId}], Next.
  'group_open_http_svc/get_appid_group_list': defineCommand({
    ...group,
    limit: perSecond(1),
    body: Type.Object({
      Limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_GROUP_LIST })),
      Next: Type.Optional(Type.Integer({ minimum: 0 })),
      GroupType: Type.Optional(Type.String()),
    }),
    async handle(ctx, b) {
      const page = ctx.services.groups.list(ctx.app.sdkAppId, { limit: b.Limit ?? MAX_GROUP_LIST, next: b.Next ?? 0, type: b.GroupType });
      return { TotalCount: page.total, GroupIdList: page.groupIds.map((GroupId) => ({ GroupId })), Next: page.next };
    },
  }),

  // https://trtc.io/document/34961, https://www.tencentcloud.com/document/product/1047/34961: 200/s; per-group
  // ErrorCode; an AVChatRoom's member list is not returned. ResponseFilter is accepted and ignored (everything is returned).
  'group_open_http_svc/get_group_info': defineCommand({
    ...group,
    body: Type.Object({
      GroupIdList: Type.Array(GroupId, { minItems: 1, maxItems: MAX_GROUP_INFO_IDS }),
      ResponseFilter: Type.Optional(Type.Object({})),
    }),
    async handle(ctx, b) {
      return {
        GroupInfo: b.GroupIdList.map((id) => {
          try {
            return groupInfo(ctx.services.groups.get(ctx.app.sdkAppId, id));
          } catch {
            return { GroupId: id, ErrorCode: RestErrors.GROUP_NOT_FOUND.code, ErrorInfo: RestErrors.GROUP_NOT_FOUND.message };
          }
        }),
      };
    },
  }),

  // https://cloud.tencent.com/document/product/269/1629 (zh), https://trtc.io/document/34959 (en): 200/s; Random required;
  // From_Account optional (the admin when absent; it may name any existing account); reply MsgTime, MsgSeq.
  'group_open_http_svc/send_group_msg': defineCommand({
    ...group,
    body: Type.Object({
      GroupId,
      Random: Uint32,
      MsgPriority: Type.Optional(Type.String()),
      MsgBody,
      From_Account: Type.Optional(Account({ minLength: 1 })),
      OnlineOnlyFlag: Type.Optional(Type.Integer({ minimum: 0, maximum: 1 })),
      CloudCustomData: Type.Optional(Type.String()),
      TopicId: Type.Optional(Type.String()),
      ...ignored,
    }),
    errors: groupErrors,
    async handle(ctx, b) {
      const sdkAppId = ctx.app.sdkAppId;
      if (b.From_Account !== undefined && !(await ctx.services.accounts.exists(sdkAppId, b.From_Account))) {
        fail(RestErrors.GROUP_ACCOUNT_NOT_FOUND, `From_Account ${b.From_Account} is not imported`);
      }
      const m = await ctx.services.groups.sendMessage({ sdkAppId, from: b.From_Account ?? ctx.identifier, admin: true, ...groupMessageFields(b) });
      return { MsgTime: m.time, MsgSeq: m.seq };
    },
  }),

  // https://trtc.io/document/34921, https://www.tencentcloud.com/document/product/1047/34921: 200/s; ≤ 300 members;
  // AVChatRoom → 10007; per-member Result: 0 failed, 1 added, 2 already a member.
  'group_open_http_svc/add_group_member': defineCommand({
    ...group,
    body: Type.Object({
      GroupId,
      Silence: Type.Optional(Type.Integer({ minimum: 0, maximum: 1 })),
      MemberList: Type.Array(Type.Object({ Member_Account: Account({ minLength: 1 }) }), { minItems: 1, maxItems: MAX_ADD_MEMBERS }),
    }),
    errors: groupErrors,
    async handle(ctx, b) {
      const results = await ctx.services.groups.addMembers(
        ctx.app.sdkAppId,
        b.GroupId,
        b.MemberList.map((m) => m.Member_Account),
      );
      return { MemberList: results.map((r) => ({ Member_Account: r.userId, Result: r.result === 'added' ? 1 : r.result === 'already' ? 2 : 0 })) };
    },
  }),

  // https://trtc.io/document/34949, https://www.tencentcloud.com/document/product/1047/34949: 200/s; ≤ 100 members;
  // AVChatRoom → 10004.
  'group_open_http_svc/delete_group_member': defineCommand({
    ...group,
    body: Type.Object({
      GroupId,
      Silence: Type.Optional(Type.Integer({ minimum: 0, maximum: 1 })),
      Reason: Type.Optional(Type.String()),
      MemberToDel_Account: Type.Array(Account({ minLength: 1 }), { minItems: 1, maxItems: MAX_DELETE_MEMBERS }),
    }),
    errors: groupErrors,
    async handle(ctx, b) {
      if (ctx.services.groups.get(ctx.app.sdkAppId, b.GroupId).type === 'AVChatRoom') fail(RestErrors.GROUP_INVALID, 'an AVChatRoom has no members to delete');
      await ctx.services.groups.removeMembers(ctx.app.sdkAppId, b.GroupId, b.MemberToDel_Account);
      return {};
    },
  }),

  // https://cloud.tencent.com/document/product/269/1624 (zh), https://trtc.io/document/34896 (en): 200/s; errors 10002,
  // 10004, 10007, 10010, 10015.
  'group_open_http_svc/destroy_group': defineCommand({
    ...group,
    body: Type.Object({ GroupId }),
    errors: groupErrors,
    async handle(ctx, b) {
      await ctx.services.groups.destroy(ctx.app.sdkAppId, b.GroupId);
      return {};
    },
  }),
};
