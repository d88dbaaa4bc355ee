import { Type } from '@sinclair/typebox';
import { MAX_USER_ID_BYTES } from '../../services/accounts/accounts-service.ts';
import type { MediaBlock, RoomRef } from '../../services/trtc-rooms/trtc-rooms-service.ts';
import { defineAction, type ActionTable, type CloudContext } from './action.ts';
import { CloudErrors } from './errors.ts';
import { GatewayError } from '../gateway-error.ts';

/** Requests per second per app for the TRTC room-management actions (unconfirmed; Cloud API's usual default). */
const TRTC_RATE_LIMIT = 20;
/** DescribeRoomInfo looks back at most 14 days, over a window of at most 24 h; DescribeUserInfo over at most 4 h. */
const ROOM_INFO_LOOKBACK_S = 14 * 86_400;
const ROOM_INFO_WINDOW_S = 86_400;
const USER_INFO_WINDOW_S = 4 * 3600;
/** Largest PageNumber of the history queries (keeps the row offset within what the store can take). */
const MAX_PAGE_NUMBER = 1_000_000;
/**
 * Regions the pages list for each family of actions (UnsupportedRegion elsewhere; a request without a region is
 * allowed, as for every action). Room management (DismissRoom*, RemoveUser*, SetUserBlocked*):
 * https://www.tencentcloud.com/document/product/647/34268; history (DescribeRoomInfo, DescribeUserInfo):
 * https://www.tencentcloud.com/document/api/647/39096 (na-toronto is missing from some copies of that page).
 */
const TRTC_ROOM_REGIONS = ['ap-beijing', 'ap-guangzhou', 'ap-singapore'] as const;
const TRTC_HISTORY_REGIONS = ['ap-beijing', 'ap-guangzhou', 'ap-mumbai', 'ap-singapore', 'na-toronto'] as const;
/** Most UserIds per RemoveUser* call. */
const MAX_REMOVE_USERS = 10;

/** IsMute of SetUserBlocked*: 0 lifts the block, 1 blocks audio and video, 2 audio only, 3 video only (the state set, not added to). */
const IS_MUTE: readonly MediaBlock[] = [
  { audio: false, video: false },
  { audio: true, video: true },
  { audio: true, video: false },
  { audio: false, video: true },
];

const strict = { additionalProperties: false } as const;
const roomErrors = { ROOM_NOT_EXIST: CloudErrors.ROOM_NOT_EXIST, ROOM_ID: CloudErrors.INVALID_ROOM_ID };
const blockErrors = { ...roomErrors, USER_NOT_EXIST: CloudErrors.USER_NOT_EXIST };

function ownApp(ctx: CloudContext, sdkAppId: number): void {
  if (sdkAppId !== ctx.app.sdkAppId) throw new GatewayError(CloudErrors.UNAUTHORIZED_SDK_APP_ID, `the SecretId has no permission on SdkAppId ${sdkAppId}`);
}

function users(userIds: string[]): string[] {
  if (userIds.length === 0 || userIds.length > MAX_REMOVE_USERS) throw new GatewayError(CloudErrors.INVALID_USER_IDS, `UserIds must hold 1-${MAX_REMOVE_USERS} users`);
  return userIds;
}

function window(start: number, end: number, maxWindow: number): void {
  const now = Math.floor(Date.now() / 1000);
  if (end < start) throw new GatewayError(CloudErrors.INVALID_END_TS, 'EndTime is before StartTime');
  if (start < now - ROOM_INFO_LOOKBACK_S) throw new GatewayError(CloudErrors.START_TS_OVERSIZE, 'StartTime is more than 14 days ago');
  if (end - start > maxWindow) throw new GatewayError(CloudErrors.QUERY_SCALE_OVERSIZE, `the query window is longer than ${maxWindow} s`);
}

/** PageNumber and PageSize of the history queries (see `paging`). */
const pageParams = {
  PageNumber: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_PAGE_NUMBER })),
  PageSize: Type.Optional(Type.Integer()),
};

/**
 * The page asked for. The pages say "PageNumber和PageSize 其中一个不填均默认返回10条数据" (6 for DescribeUserInfo): when
 * either is left out the first page of the default size is returned, whatever the other one says.
 */
function paging(number: number | undefined, size: number | undefined, fallback: number): { page: number; size: number } {
  if (size !== undefined && (size < 1 || size > 100)) throw new GatewayError(CloudErrors.PAGE_SIZE_OVERSIZE, 'PageSize must be 1-100');
  if (number === undefined || size === undefined) return { page: 0, size: fallback };
  return { page: number, size };
}

const dismiss = (numeric: boolean) =>
  defineAction({
    regions: TRTC_ROOM_REGIONS,
    limit: TRTC_RATE_LIMIT,
    params: Type.Object({ SdkAppId: Type.Integer(), RoomId: numeric ? Type.Integer() : Type.String() }, strict),
    errors: roomErrors,
    async handle(ctx, p) {
      ownApp(ctx, p.SdkAppId);
      const ref: RoomRef = numeric ? { roomId: p.RoomId as number } : { strRoomId: p.RoomId as string };
      await ctx.services.trtcRooms.dismiss(ctx.app.sdkAppId, ref);
      return {};
    },
  });

const remove = (numeric: boolean) =>
  defineAction({
    regions: TRTC_ROOM_REGIONS,
    limit: TRTC_RATE_LIMIT,
    params: Type.Object({ SdkAppId: Type.Integer(), RoomId: numeric ? Type.Integer() : Type.String(), UserIds: Type.Array(Type.String()) }, strict),
    errors: roomErrors,
    async handle(ctx, p) {
      ownApp(ctx, p.SdkAppId);
      const ref: RoomRef = numeric ? { roomId: p.RoomId as number } : { strRoomId: p.RoomId as string };
      await ctx.services.trtcRooms.removeUsers(ctx.app.sdkAppId, ref, users(p.UserIds));
      return {};
    },
  });

function userId(u: string): string {
  if (u.length === 0 || Buffer.byteLength(u) > MAX_USER_ID_BYTES) throw new GatewayError(CloudErrors.INVALID_USER_ID, `UserId must be 1-${MAX_USER_ID_BYTES} bytes`);
  return u;
}

const IsMute = Type.Integer({ minimum: 0, maximum: IS_MUTE.length - 1 });

/** SetUserBlocked / SetUserBlockedByStrRoomId: blocks or unblocks a user's upstream audio and/or video in a room. */
const block = (numeric: boolean) =>
  defineAction({
    regions: TRTC_ROOM_REGIONS,
    limit: TRTC_RATE_LIMIT,
    params: numeric
      ? Type.Object({ SdkAppId: Type.Integer(), RoomId: Type.Integer(), UserId: Type.String(), IsMute }, strict)
      : Type.Object({ SdkAppId: Type.Integer(), StrRoomId: Type.String(), UserId: Type.String(), IsMute }, strict),
    errors: blockErrors,
    async handle(ctx, p) {
      ownApp(ctx, p.SdkAppId);
      const ref: RoomRef = 'RoomId' in p ? { roomId: p.RoomId } : { strRoomId: p.StrRoomId };
      await ctx.services.trtcRooms.setBlocked(ctx.app.sdkAppId, ref, userId(p.UserId), IS_MUTE[p.IsMute]!);
      return {};
    },
  });

/** TRTC 2019-07-22: room management and room/user history (https://www.tencentcloud.com/document/api/647/34260). */
export const trtcActions: ActionTable = {
  '2019-07-22/DismissRoom': dismiss(true),
  '2019-07-22/DismissRoomByStrRoomId': dismiss(false),
  '2019-07-22/RemoveUser': remove(true),
  '2019-07-22/RemoveUserByStrRoomId': remove(false),
  '2019-07-22/SetUserBlocked': block(true),
  '2019-07-22/SetUserBlockedByStrRoomId': block(false),

  '2019-07-22/DescribeRoomInfo': defineAction({
    regions: TRTC_HISTORY_REGIONS,
    limit: TRTC_RATE_LIMIT,
    params: Type.Object(
      {
        SdkAppId: Type.Integer(),
        StartTime: Type.Integer(),
        EndTime: Type.Integer(),
        RoomId: Type.Optional(Type.String()),
        ...pageParams,
      },
      strict,
    ),
    async handle(ctx, p) {
      ownApp(ctx, p.SdkAppId);
      window(p.StartTime, p.EndTime, ROOM_INFO_WINDOW_S);
      const { total, rooms } = await ctx.services.trtcRooms.roomHistory({
        sdkAppId: ctx.app.sdkAppId,
        from: p.StartTime,
        to: p.EndTime,
        roomId: p.RoomId,
        ...paging(p.PageNumber, p.PageSize, 10),
      });
      return {
        Total: total,
        RoomList: rooms.map((r) => ({ CommId: r.commId, RoomString: r.roomId, CreateTime: r.createdAt, DestroyTime: r.destroyedAt, IsFinished: r.destroyedAt > 0, UserId: r.creator })),
      };
    },
  }),

  '2019-07-22/DescribeUserInfo': defineAction({
    regions: TRTC_HISTORY_REGIONS,
    limit: TRTC_RATE_LIMIT,
    params: Type.Object(
      {
        CommId: Type.String({ minLength: 1 }),
        StartTime: Type.Integer(),
        EndTime: Type.Integer(),
        SdkAppId: Type.Integer(),
        UserIds: Type.Optional(Type.Array(Type.String())),
        ...pageParams,
      },
      strict,
    ),
    async handle(ctx, p) {
      ownApp(ctx, p.SdkAppId);
      window(p.StartTime, p.EndTime, USER_INFO_WINDOW_S);
      if (p.UserIds && p.UserIds.length > 6) throw new GatewayError(CloudErrors.USER_IDS_MORE_THAN_SIX);
      const { total, users: list } = await ctx.services.trtcRooms.userHistory({
        sdkAppId: ctx.app.sdkAppId,
        commId: p.CommId,
        from: p.StartTime,
        to: p.EndTime,
        userIds: p.UserIds,
        ...paging(p.PageNumber, p.PageSize, 6),
      });
      // "用户退房时间，用户没有退房则返回当前时间" (UserInformation.LeaveTs): a user still in the room leaves now.
      const now = Math.floor(Date.now() / 1000);
      return {
        Total: total,
        UserList: list.map((u) => ({
          RoomStr: u.roomId,
          UserId: u.userId,
          JoinTs: u.joinTs,
          LeaveTs: u.leaveTs > 0 ? u.leaveTs : now,
          DeviceType: u.deviceType,
          SdkVersion: u.sdkVersion,
          ClientIp: u.clientIp,
          Finished: u.leaveTs > 0,
        })),
      };
    },
  }),
};
