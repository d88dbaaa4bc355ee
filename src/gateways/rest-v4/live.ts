import { Type, type TSchema } from '@sinclair/typebox';
import type { LiveRoom, LiveRoomInfo } from '../../services/live/room.ts';
import { MAX_ROOM_LIST_COUNT } from '../../services/live/live-service.ts';
import { defineCommand, perSecond, type CommandTable, type RateLimit } from './command.ts';
import { RestErrors } from './errors.ts';

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

type InfoInput = { [K in keyof typeof infoFields]?: unknown };

/** The settings given in a RoomInfo body, in the service's form. */
function patch(i: InfoInput): Partial<LiveRoomInfo> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(infoFields)) if (i[key as keyof InfoInput] !== undefined) out[key] = i[key as keyof InfoInput];
  if (i.TakeSeatMode === 1) out.TakeSeatMode = 'FreeToTake';
  if (i.TakeSeatMode === 2) out.TakeSeatMode = 'ApplyToTake';
  return out as Partial<LiveRoomInfo>;
}

/** RoomInfo as get_room_info returns it. */
function roomInfo(r: LiveRoom): Record<string, unknown> {
  const i = r.info;
  return {
    RoomId: r.roomId,
    RoomName: i.RoomName,
    RoomType: i.RoomType,
    Owner_Account: r.owner,
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
  };
}

/** `live_engine_http_srv` rooms, members, messages and robots; `room_engine_http_mic` seats (shared/spec/rest-v4.md §3). */
export const liveCommands: CommandTable = {
  'live_engine_http_srv/create_room': defineCommand({
    ...at(perSecond(200)),
    body: Type.Object({ RoomInfo: Type.Object({ RoomId, Owner_Account: Type.Optional(Type.String({ minLength: 1 })), ...infoFields }) }),
    async handle(ctx, b) {
      await ctx.services.live.create(ctx.app.sdkAppId, b.RoomInfo.RoomId, b.RoomInfo.Owner_Account ?? ctx.identifier, patch(b.RoomInfo));
      return {};
    },
  }),

  'live_engine_http_srv/destroy_room': defineCommand({
    ...at(perSecond(200)),
    body: room({}),
    async handle(ctx, b) {
      await ctx.services.live.destroy(ctx.app.sdkAppId, b.RoomId);
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
      await ctx.services.live.update(ctx.app.sdkAppId, b.RoomInfo.RoomId, patch(b.RoomInfo));
      return {};
    },
  }),

  'live_engine_http_srv/set_room_metadata': defineCommand({
    ...at(perSecond(200)),
    body: room({ Metadata: Type.Array(Type.Object({ Key: Type.String(), Value: Type.String() }), { minItems: 1 }) }),
    async handle(ctx, b) {
      await ctx.services.live.setMetadata(ctx.app.sdkAppId, b.RoomId, b.Metadata.map((m) => ({ key: m.Key, value: m.Value })));
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
      await ctx.services.live.delMetadata(ctx.app.sdkAppId, b.RoomId, b.Keys);
      return {};
    },
  }),

  'live_engine_http_srv/get_room_statistic': defineCommand({
    ...at(perSecond(200)),
    body: room({}),
    async handle(ctx, b) {
      const { room: r, gifts } = await ctx.services.live.statistic(ctx.app.sdkAppId, b.RoomId);
      return {
        Response: {
          RoomId: r.roomId,
          ViewCount: r.viewCount,
          MessageCount: r.state.messages,
          GiftCount: gifts.count,
          GiftCoins: gifts.coins,
          GiftSenderCount: gifts.senders,
          CreateTime: Math.floor(r.createdAt / 1000),
        },
      };
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
      await ctx.services.live.ban(ctx.app.sdkAppId, b.RoomId, b.MemberList_Account, b.Duration, b.Reason ?? '');
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

  'live_engine_http_srv/send_text_msg': defineCommand({
    ...at(perSecond(200)),
    body: room({ Sender_Account: Type.Optional(Type.String({ minLength: 1 })), TextContent: Type.String({ minLength: 1 }), ExtensionInfo: Type.Optional(Type.String()) }),
    async handle(ctx, b) {
      const sent = await ctx.services.live.sendText(ctx.app.sdkAppId, b.RoomId, b.Sender_Account ?? ctx.identifier, b.TextContent, b.ExtensionInfo);
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

  'live_engine_http_srv/get_robot': defineCommand({
    ...at(perSecond(200)),
    body: room({}),
    async handle(ctx, b) {
      return { Response: { RobotList_Account: ctx.services.live.get(ctx.app.sdkAppId, b.RoomId).state.robots } };
    },
  }),

  'live_engine_http_srv/del_robot': defineCommand({
    ...at(perSecond(200)),
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

  'room_engine_http_mic/pick_user_on_seat': defineCommand({
    ...at(perSecond(200)),
    body: room({ Member_Account: Type.String({ minLength: 1 }), Index: Type.Integer({ minimum: 0 }) }),
    async handle(ctx, b) {
      await ctx.services.live.pickOnSeat(ctx.app.sdkAppId, b.RoomId, b.Member_Account, b.Index);
      return {};
    },
  }),

  'room_engine_http_mic/kick_user_off_seat': defineCommand({
    ...at(perSecond(200)),
    body: room({ Member_Account: Type.String({ minLength: 1 }), Data: Type.Optional(Type.String()) }),
    async handle(ctx, b) {
      await ctx.services.live.kickOffSeat(ctx.app.sdkAppId, b.RoomId, b.Member_Account, b.Data ?? '');
      return {};
    },
  }),
};
