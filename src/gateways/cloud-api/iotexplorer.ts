import { Type } from '@sinclair/typebox';
import { defineAction, type ActionTable } from './action.ts';
import { CloudErrors } from './errors.ts';

/** Regions where IoT Explorer serves these actions (UnsupportedRegion elsewhere). */
export const IOT_REGIONS = ['ap-bangkok', 'ap-guangzhou', 'ap-shanghai', 'ap-shanghai-fsi', 'eu-frankfurt', 'na-ashburn'] as const;
/** Requests per second per app (CreateTRTCSignaturesWithRoomId's published default; assumed for the other two). */
const IOT_RATE_LIMIT = 20;

const strict = { additionalProperties: false } as const;
const base = { regions: IOT_REGIONS, limit: IOT_RATE_LIMIT };
const common = {
  USER_ID: CloudErrors.INVALID_PARAMETER_VALUE,
  ROOM_ID: CloudErrors.INVALID_PARAMETER_VALUE,
  TRTC_OFF: CloudErrors.TRTC_SERVICE_NOT_OPEN,
  NOT_IOT_ROOM: CloudErrors.NO_PERMISSION_TO_ROOM,
};

/** IoT Explorer 2019-04-23: the TRTC call actions (https://cloud.tencent.com/document/api/1081/105920). */
export const iotExplorerActions: ActionTable = {
  '2019-04-23/CreateTRTCSignaturesWithRoomId': defineAction({
    ...base,
    params: Type.Object({ TRTCUserIds: Type.Array(Type.String()), RoomId: Type.String() }, strict),
    errors: { ...common, USER_LIMIT: CloudErrors.USER_ID_OVER_LIMIT, DUPLICATE_USER: CloudErrors.INVALID_PARAMETER, ROOM_EXISTS: CloudErrors.ROOM_ID_EXIST },
    async handle(ctx, p) {
      return { TRTCParamList: await ctx.services.iot.createSignatures(ctx.app, p.RoomId, p.TRTCUserIds) };
    },
  }),

  '2019-04-23/DismissRoomByStrRoomIdFromTRTC': defineAction({
    ...base,
    params: Type.Object({ RoomId: Type.String() }, strict),
    errors: common,
    async handle(ctx, p) {
      await ctx.services.iot.dismiss(ctx.app, p.RoomId);
      return {};
    },
  }),

  '2019-04-23/RemoveUserByRoomIdFromTRTC': defineAction({
    ...base,
    params: Type.Object({ RoomId: Type.String(), TRTCUserIds: Type.Array(Type.String()) }, strict),
    errors: { ...common, USER_LIMIT: CloudErrors.INVALID_PARAMETER, DUPLICATE_USER: CloudErrors.INVALID_PARAMETER },
    async handle(ctx, p) {
      await ctx.services.iot.removeUsers(ctx.app, p.RoomId, p.TRTCUserIds);
      return {};
    },
  }),
};
