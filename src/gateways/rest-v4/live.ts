import { Type, type TSchema } from '@sinclair/typebox';
import { roomInfoHead, type LiveRoom, type LiveRoomInfo } from '../../services/live/room.ts';
import { LiveRoomErrors, MAX_MEMBER_LIST, MAX_ROOM_LIST_COUNT, MEMBER_PAGE_SIZE, parseCursor, type LiveOrigin } from '../../services/live/live-service.ts';
import { SeatErrors } from '../../services/live/seats.ts';
import { defineCommand, perSecond, type CommandTable, type RateLimit, type RestContext } from './command.ts';
import { RestErrors, type RestErrorEntry } from './errors.ts';

const live = {
  invalid: RestErrors.LIVE_INVALID,
  internal: RestErrors.LIVE_INTERNAL,
  errors: {
    NOT_FOUND: RestErrors.LIVE_ROOM_NOT_FOUND,
    ALREADY_EXISTS: RestErrors.LIVE_ROOM_EXISTS,
    FAILED_PRECONDITION: RestErrors.LIVE_INVALID,
    UNKNOWN_ACCOUNT: RestErrors.LIVE_INVALID,
  },
};
const at = (limit: RateLimit) => ({ ...live, limit });
/** `at` with codes of the command's own for some refusals (by DomainError detail). */
const atWith = (limit: RateLimit, own: Record<string, RestErrorEntry>) => ({ ...live, limit, errors: { ...live.errors, ...own } });

/** A REST change is made by the admin in the URL, from the caller's address (the callbacks' Operator_Account, ClientIP). */
const origin = (ctx: RestContext): LiveOrigin => ({ operator: ctx.identifier, clientIp: ctx.clientIp, platform: 'RESTAPI' });

const RoomId = Type.String({ minLength: 1 });
const Users = Type.Array(Type.String({ minLength: 1 }), { minItems: 1 });
const room = <P extends Record<string, TSchema>>(props: P) => Type.Object({ RoomId, ...props });

/** RoomInfo fields that create_room and update_room_info accept (TakeSeatMode also as the older 1/2). */
const infoFields = {
  RoomName: Type.Optional(Type.String()),
  RoomType: Type.Optional(Type.String()),
  CoverURL: Type.Optional(Type.String()),
  Category: Type.Optional(Type.Array(Type.Integer())),
  Notice: Type.Optional(Type.String()),
  IsMessageDisabled: Type.Optional(Type.Boolean()),
  IsPublicVisible: Type.Optional(Type.Boolean()),
  IsSeatEnabled: Type.Optional(Type.Boolean()),
  TakeSeatMode: Type.Optional(Type.Union([Type.Literal('FreeToTake'), Type.Literal('ApplyToTake'), Type.Literal(1), Type.Literal(2)])),
  MaxSeatCount: Type.Optional(Type.Integer()),
  MaxMemberCount: Type.Optional(Type.Integer({ minimum: 0 })),
  ActivityStatus: Type.Optional(Type.Integer()),
  IsUnlimitedRoomEnabled: Type.Optional(Type.Boolean()),
  IsGiftEnabled: Type.Optional(Type.Boolean()),
};

/** Fields only create_room takes: the seat template is fixed for the room's life. */
const createOnlyFields = {
  SeatTemplate: Type.Optional(Type.String()),
  SeatLayoutTemplateId: Type.Optional(Type.Integer({ minimum: 0 })),
  KeepOwnerOnSeat: Type.Optional(Type.Boolean()),
};

type InfoInput = { [K in keyof typeof infoFields | keyof typeof createOnlyFields]?: unknown };

/** The settings given in a RoomInfo body, in the service's form. */
function patch(i: InfoInput, keys = Object.keys(infoFields)): Partial<LiveRoomInfo> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (i[key as keyof InfoInput] !== undefined) out[key] = i[key as keyof InfoInput];
  if (i.TakeSeatMode === 1) out.TakeSeatMode = 'FreeToTake';
  if (i.TakeSeatMode === 2) out.TakeSeatMode = 'ApplyToTake';
  return out as Partial<LiveRoomInfo>;
}

/** RoomInfo as get_room_info returns it. */
function roomInfo(r: LiveRoom): Record<string, unknown> {
  const i = r.info;
  return {
    ...roomInfoHead(r),
    CreateTime: Math.floor(r.createdAt / 1000),
    IsSeatEnabled: i.IsSeatEnabled,
    TakeSeatMode: i.TakeSeatMode,
    MaxSeatCount: i.MaxSeatCount,
    MaxMemberCount: i.MaxMemberCount,
    IsMessageDisabled: i.IsMessageDisabled,
    CoverURL: i.CoverURL,
    Category: i.Category,
    Notice: i.Notice,
    ActivityStatus: i.ActivityStatus,
    ViewCount: r.viewCount,
    IsPublicVisible: i.IsPublicVisible,
    IsUnlimitedRoomEnabled: i.IsUnlimitedRoomEnabled,
    IsGiftEnabled: i.IsGiftEnabled,
    SeatTemplate: i.SeatTemplate,
    KeepOwnerOnSeat: i.KeepOwnerOnSeat,
  };
}

/**
 * get_room_stats (100/s; https://trtc.io/zh/document/80421, https://cloud.tencent.com/document/product/647/132566):
 * cumulative views, gifts received (count, coins, distinct senders), likes (trtcd has none: 0) and room messages.
 */
const getRoomStats = defineCommand({
  ...at(perSecond(100)),
  body: room({}),
  async handle(ctx, b) {
    const { room: r, gifts } = await ctx.services.live.statistic(ctx.app.sdkAppId, b.RoomId);
    return {
      Response: {
        TotalViewers: r.viewCount,
        TotalGiftsSent: gifts.count,
        TotalGiftCoins: gifts.coins,
        TotalUniqueGiftSenders: gifts.senders,
        TotalLikesReceived: 0,
        TotalMsgCount: r.state.messages,
      },
    };
  },
});

/** `live_engine_http_srv` rooms, members, messages and robots; `room_engine_http_mic` seats (https://trtc.io/document/63398). */
export const liveCommands: CommandTable = {
  // create_room's own codes (https://trtc.io/document/63401): 100003 exists, 100010 exists with the same owner,
  // 100011 taken by a Chat group, 100012 the same RoomId created again within a second.
  'live_engine_http_srv/create_room': defineCommand({
    ...atWith(perSecond(200), {
      [LiveRoomErrors.SAME_OWNER]: RestErrors.LIVE_ROOM_EXISTS_SAME_OWNER,
      [LiveRoomErrors.CHAT_GROUP]: RestErrors.LIVE_ROOM_ID_CHAT_GROUP,
      [LiveRoomErrors.TOO_FREQUENT]: RestErrors.LIVE_TOO_FREQUENT,
    }),
    body: Type.Object({ RoomInfo: Type.Object({ RoomId, Owner_Account: Type.Optional(Type.String({ minLength: 1 })), ...infoFields, ...createOnlyFields }) }),
    async handle(ctx, b) {
      await ctx.services.live.create(ctx.app.sdkAppId, b.RoomInfo.RoomId, b.RoomInfo.Owner_Account ?? ctx.identifier, patch(b.RoomInfo, [...Object.keys(infoFields), ...Object.keys(createOnlyFields)]), origin(ctx));
      return {};
    },
  }),

  'live_engine_http_srv/destroy_room': defineCommand({
    ...at(perSecond(200)),
    body: room({}),
    async handle(ctx, b) {
      await ctx.services.live.destroy(ctx.app.sdkAppId, b.RoomId, origin(ctx));
      return {};
    },
  }),

  'live_engine_http_srv/get_room_info': defineCommand({
    ...at(perSecond(200)),
    body: room({}),
    async handle(ctx, b) {
      return { Response: { RoomInfo: roomInfo(ctx.services.live.get(ctx.app.sdkAppId, b.RoomId)) } };
    },
  }),

  'live_engine_http_srv/get_room_list': defineCommand({
    ...at(perSecond(10)),
    body: Type.Object({ Next: Type.Optional(Type.String()), Count: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ROOM_LIST_COUNT })) }),
    async handle(ctx, b) {
      const { rooms, next } = ctx.services.live.list(ctx.app.sdkAppId, b.Next ?? '', b.Count ?? MAX_ROOM_LIST_COUNT);
      return {
        Response: {
          Next: next,
          RoomList: rooms.map((r) => ({
            RoomName: r.info.RoomName,
            RoomId: r.roomId,
            Owner_Account: r.owner,
            CoverURL: r.info.CoverURL,
            Category: r.info.Category,
            CreateTime: Math.floor(r.createdAt / 1000),
            ActivityStatus: r.info.ActivityStatus,
            ViewCount: r.viewCount,
          })),
        },
      };
    },
  }),

  'live_engine_http_srv/update_room_info': defineCommand({
    ...at(perSecond(200)),
    body: Type.Object({ RoomInfo: Type.Object({ RoomId, ...infoFields }) }),
    async handle(ctx, b) {
      await ctx.services.live.update(ctx.app.sdkAppId, b.RoomInfo.RoomId, patch(b.RoomInfo), origin(ctx));
      return {};
    },
  }),

  'live_engine_http_srv/set_room_metadata': defineCommand({
    ...at(perSecond(200)),
    body: room({ Metadata: Type.Array(Type.Object({ Key: Type.String(), Value: Type.String() }), { minItems: 1 }) }),
    async handle(ctx, b) {
      await ctx.services.live.setMetadata(ctx.app.sdkAppId, b.RoomId, b.Metadata.map((m) => ({ key: m.Key, value: m.Value })), origin(ctx));
      return {};
    },
  }),

  'live_engine_http_srv/get_room_metadata': defineCommand({
    ...at(perSecond(200)),
    body: room({ Keys: Type.Optional(Type.Array(Type.String())) }),
    async handle(ctx, b) {
      const all = ctx.services.live.get(ctx.app.sdkAppId, b.RoomId).state.metadata;
      const keys = b.Keys && b.Keys.length > 0 ? b.Keys.filter((k) => k in all) : Object.keys(all);
      return { Response: { Metadata: keys.map((Key) => ({ Key, Value: all[Key] })) } };
    },
  }),

  'live_engine_http_srv/del_room_metadata': defineCommand({
    ...at(perSecond(200)),
    body: room({ Keys: Type.Array(Type.String(), { minItems: 1 }) }),
    async handle(ctx, b) {
      await ctx.services.live.delMetadata(ctx.app.sdkAppId, b.RoomId, b.Keys, origin(ctx));
      return {};
    },
  }),

  'live_engine_http_srv/get_room_stats': getRoomStats,
  /** The name trtcd used before get_room_stats was documented (and an admin-console client's constant): an alias of it. */
  'live_engine_http_srv/get_room_statistic': getRoomStats,

  'live_engine_http_srv/get_member_list': defineCommand({
    ...at(perSecond(200)),
    body: room({ Next: Type.Optional(Type.String()) }),
    async handle(ctx, b) {
      const all = ctx.services.live.members(ctx.app.sdkAppId, b.RoomId);
      const offset = parseCursor(b.Next ?? '', 'get_member_list');
      const end = Math.min(offset + MEMBER_PAGE_SIZE, all.length, MAX_MEMBER_LIST);
      return {
        Response: {
          Next: end < Math.min(all.length, MAX_MEMBER_LIST) ? `${Math.floor(Date.now() / 1000)}-${end}` : '',
          MemberCount: all.length,
          MemberList: all.slice(offset, Math.max(offset, end)).map((m) => ({ Member_Account: m.userId })),
        },
      };
    },
  }),

  'live_engine_http_srv/change_room_owner': defineCommand({
    ...at(perSecond(200)),
    body: room({ NewOwner_Account: Type.String({ minLength: 1 }) }),
    async handle(ctx, b) {
      await ctx.services.live.changeOwner(ctx.app.sdkAppId, b.RoomId, b.NewOwner_Account, origin(ctx));
      return {};
    },
  }),

  'live_engine_http_srv/modify_admin': defineCommand({
    ...atWith(perSecond(200), { ADMIN_LIMIT: RestErrors.LIVE_ADMIN_LIMIT }),
    body: room({ Admin_Account: Users, OpType: Type.Union([Type.Literal('add'), Type.Literal('delete')]) }),
    async handle(ctx, b) {
      await ctx.services.live.modifyAdmins(ctx.app.sdkAppId, b.RoomId, b.Admin_Account, b.OpType, origin(ctx));
      return {};
    },
  }),

  'live_engine_http_srv/mute_member': defineCommand({
    ...at(perSecond(200)),
    body: room({ MemberList_Account: Users, MuteTime: Type.Integer({ minimum: 0 }) }),
    async handle(ctx, b) {
      await ctx.services.live.mute(ctx.app.sdkAppId, b.RoomId, b.MemberList_Account, b.MuteTime);
      return {};
    },
  }),

  'live_engine_http_srv/get_muted_member_list': defineCommand({
    ...at(perSecond(200)),
    body: room({}),
    async handle(ctx, b) {
      return { Response: { MutedAccountList: ctx.services.live.muted(ctx.app.sdkAppId, b.RoomId).map((m) => ({ Member_Account: m.user, MutedUntil: m.until })) } };
    },
  }),

  'live_engine_http_srv/ban_member': defineCommand({
    ...at(perSecond(200)),
    body: room({ MemberList_Account: Users, Reason: Type.Optional(Type.String()), Duration: Type.Integer({ minimum: 1 }) }),
    async handle(ctx, b) {
      await ctx.services.live.ban(ctx.app.sdkAppId, b.RoomId, b.MemberList_Account, b.Duration, b.Reason ?? '', origin(ctx));
      return {};
    },
  }),

  'live_engine_http_srv/unban_member': defineCommand({
    ...at(perSecond(200)),
    body: room({ MemberList_Account: Users }),
    async handle(ctx, b) {
      await ctx.services.live.unban(ctx.app.sdkAppId, b.RoomId, b.MemberList_Account);
      return {};
    },
  }),

  'live_engine_http_srv/get_banned_member_list': defineCommand({
    ...at(perSecond(200)),
    body: room({ Offset: Type.Optional(Type.Integer({ minimum: 0 })), Limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }),
    async handle(ctx, b) {
      const all = ctx.services.live.banned(ctx.app.sdkAppId, b.RoomId);
      const offset = b.Offset ?? 0;
      const limit = b.Limit ?? 10;
      const page = all.slice(offset, offset + limit);
      return {
        Response: {
          BannedAccountList: page.map((x) => ({ Member_Account: x.user, BannedUntil: x.until })),
          NextOffset: offset + limit < all.length ? offset + limit : 0,
        },
      };
    },
  }),

  // Sender_Account is required here (https://www.tencentcloud.com/document/product/647/74353) and optional on
  // send_custom_msg, which then sends as the admin ("选填", https://cloud.tencent.com/document/product/269/125772).
  'live_engine_http_srv/send_text_msg': defineCommand({
    ...at(perSecond(200)),
    body: room({ Sender_Account: Type.String({ minLength: 1 }), TextContent: Type.String({ minLength: 1 }), ExtensionInfo: Type.Optional(Type.String()) }),
    async handle(ctx, b) {
      const sent = await ctx.services.live.sendText(ctx.app.sdkAppId, b.RoomId, b.Sender_Account, b.TextContent, b.ExtensionInfo);
      return { Response: { MsgTime: sent.time, MsgSeq: sent.seq } };
    },
  }),

  'live_engine_http_srv/send_custom_msg': defineCommand({
    ...at(perSecond(200)),
    body: room({ Sender_Account: Type.Optional(Type.String({ minLength: 1 })), BusinessId: Type.String({ minLength: 1 }), Data: Type.String() }),
    async handle(ctx, b) {
      const sent = await ctx.services.live.sendCustom(ctx.app.sdkAppId, b.RoomId, b.Sender_Account ?? ctx.identifier, b.BusinessId, b.Data);
      return { Response: { MsgTime: sent.time, MsgSeq: sent.seq } };
    },
  }),

  'live_engine_http_srv/add_robot': defineCommand({
    ...at(perSecond(100)),
    body: room({ RobotList_Account: Users }),
    async handle(ctx, b) {
      await ctx.services.live.addRobots(ctx.app.sdkAppId, b.RoomId, b.RobotList_Account);
      return {};
    },
  }),

  /** get_robot: 100/s like add_robot (https://trtc.io/document/69081). */
  'live_engine_http_srv/get_robot': defineCommand({
    ...at(perSecond(100)),
    body: room({}),
    async handle(ctx, b) {
      return { Response: { RobotList_Account: ctx.services.live.get(ctx.app.sdkAppId, b.RoomId).state.robots } };
    },
  }),

  /** del_robot: 100/s (https://www.tencentcloud.com/document/product/1071/76864). */
  'live_engine_http_srv/del_robot': defineCommand({
    ...at(perSecond(100)),
    body: room({ RobotList_Account: Users }),
    async handle(ctx, b) {
      await ctx.services.live.delRobots(ctx.app.sdkAppId, b.RoomId, b.RobotList_Account);
      return {};
    },
  }),

  'room_engine_http_mic/get_seat_list': defineCommand({
    ...at(perSecond(200)),
    body: room({}),
    async handle(ctx, b) {
      const seats = ctx.services.live.get(ctx.app.sdkAppId, b.RoomId).state.seats;
      return {
        Response: {
          SeatList: seats.map((s) => ({
            Index: s.index,
            ...(s.member ? { Member_Account: s.member } : {}),
            IsTakenDisabled: s.locked,
            IsVideoDisabled: s.videoDisabled,
            IsAudioDisabled: s.audioDisabled,
          })),
        },
      };
    },
  }),

  // pick_user_on_seat's own codes (https://cloud.tencent.com/document/product/647/110668).
  'room_engine_http_mic/pick_user_on_seat': defineCommand({
    ...atWith(perSecond(200), {
      [SeatErrors.NOT_MEMBER]: RestErrors.LIVE_NOT_MEMBER,
      [SeatErrors.LOCKED]: RestErrors.LIVE_SEAT_LOCKED,
      [SeatErrors.ALREADY_SEATED]: RestErrors.LIVE_ALREADY_SEATED,
      [SeatErrors.TAKEN]: RestErrors.LIVE_SEAT_TAKEN,
      [SeatErrors.DISABLED]: RestErrors.LIVE_SEATS_DISABLED,
    }),
    body: room({ Member_Account: Type.String({ minLength: 1 }), Index: Type.Integer({ minimum: 0 }) }),
    async handle(ctx, b) {
      await ctx.services.live.pickOnSeat(ctx.app.sdkAppId, b.RoomId, b.Member_Account, b.Index, origin(ctx));
      return {};
    },
  }),

  'room_engine_http_mic/kick_user_off_seat': defineCommand({
    ...at(perSecond(200)),
    body: room({ Member_Account: Type.String({ minLength: 1 }), Data: Type.Optional(Type.String()) }),
    async handle(ctx, b) {
      await ctx.services.live.kickOffSeat(ctx.app.sdkAppId, b.RoomId, b.Member_Account, b.Data ?? '', origin(ctx));
      return {};
    },
  }),

  'room_engine_http_mic/lock_seat': defineCommand({
    ...atWith(perSecond(200), { [SeatErrors.DISABLED]: RestErrors.LIVE_SEATS_DISABLED }),
    body: room({ Index: Type.Integer({ minimum: 0 }), ForbidTaken: Type.Optional(Type.Boolean()), ForbidVideo: Type.Optional(Type.Boolean()), ForbidAudio: Type.Optional(Type.Boolean()) }),
    async handle(ctx, b) {
      await ctx.services.live.lockSeat(ctx.app.sdkAppId, b.RoomId, b.Index, { taken: b.ForbidTaken, video: b.ForbidVideo, audio: b.ForbidAudio }, origin(ctx));
      return {};
    },
  }),

  'room_engine_http_mic/switch_seat': defineCommand({
    ...at(perSecond(200)),
    body: room({ ToIndex: Type.Integer({ minimum: 0 }), Member_Account: Type.String({ minLength: 1 }) }),
    async handle(ctx, b) {
      await ctx.services.live.switchSeat(ctx.app.sdkAppId, b.RoomId, b.Member_Account, b.ToIndex, origin(ctx));
      return {};
    },
  }),

  'room_engine_http_mic/move_user_to_seat': defineCommand({
    ...atWith(perSecond(200), { [SeatErrors.NOT_MEMBER]: RestErrors.LIVE_NOT_MEMBER, [SeatErrors.TAKEN]: RestErrors.LIVE_SEAT_TAKEN }),
    body: room({ SeatIndex: Type.Integer({ minimum: 0 }), Member_Account: Type.String({ minLength: 1 }), Policy: Type.Integer() }),
    async handle(ctx, b) {
      await ctx.services.live.moveToSeat(ctx.app.sdkAppId, b.RoomId, b.Member_Account, b.SeatIndex, b.Policy, origin(ctx));
      return {};
    },
  }),
};
