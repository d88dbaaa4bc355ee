import { Type } from '@sinclair/typebox';
import { CALL_RESULTS } from '../../services/calls/call.ts';
import { callInfo, callRecord, userList } from '../../services/calls/call-views.ts';
import { defineCommand, perSecond, type CommandTable } from './command.ts';
import { RestErrors } from './errors.ts';
import { GatewayError } from '../gateway-error.ts';

/** Largest UserData of start_call_by_robot, in bytes. */
export const MAX_USER_DATA_BYTES = 1000;
/** Most callees one start_call_by_robot may ring (unconfirmed; see docs/compatibility.md). */
export const MAX_CALLEES = 100;
/** Largest NumberPerPage of get_record_by_filter (unconfirmed). */
const MAX_RECORDS_PER_PAGE = 100;
/** Per-callee ResultCode of start_call_by_robot for a callee already in a call (unconfirmed). */
export const CALLEE_BUSY_RESULT_CODE = 101003;
/**
 * CallResult values get_record_by_filter accepts: every value trtcd records, plus `Offline`, which the
 * Call.CallbackAfterEndCall page lists (https://trtc.io/document/68940) although trtcd records a heartbeat loss as
 * `Interrupt`, as the record pages do (see docs/compatibility.md).
 */
const FILTER_CALL_RESULTS: readonly string[] = [...CALL_RESULTS, 'Offline'];

const callId = Type.Object({ CallId: Type.String({ minLength: 1 }) });
const engine = { limit: perSecond(200), invalid: RestErrors.CALL_INVALID, internal: RestErrors.CALL_INTERNAL };
const engineErrors = { NOT_FOUND: RestErrors.CALL_NOT_FOUND, FAILED_PRECONDITION: RestErrors.CALL_NOT_FOUND };
const records = { limit: perSecond(200), invalid: RestErrors.CALL_INVALID, internal: RestErrors.CALL_INTERNAL, errors: { NOT_FOUND: RestErrors.CALL_RECORD_NOT_FOUND } };

function invalid(info: string): never {
  throw new GatewayError(RestErrors.CALL_INVALID, `${RestErrors.CALL_INVALID.message} ${info}`);
}

/** RoomId/RoomIdType as the call APIs number them: 1 numeric (1–4294967294), 2 string; the type is inferred when absent. */
function room(roomId: string | undefined, roomIdType: number | undefined): { roomId: string; roomIdType: number } {
  if (roomId === undefined || roomId === '') return { roomId: '', roomIdType: roomIdType ?? 0 };
  const type = roomIdType ?? 2;
  if (type === 1 && !(/^[1-9]\d{0,9}$/.test(roomId) && Number(roomId) <= 4294967294)) invalid('CallInfo.RoomId must be 1-4294967294 when RoomIdType is 1');
  if (Buffer.byteLength(roomId) > 64) invalid('CallInfo.RoomId is longer than 64 bytes');
  return { roomId, roomIdType: type };
}

/** `call_engine_http_srv` and `call_record_http_srv` (https://www.tencentcloud.com/document/product/647/68927). */
export const callCommands: CommandTable = {
  'call_engine_http_srv/get_call_info': defineCommand({
    ...engine,
    body: callId,
    errors: engineErrors,
    async handle(ctx, b) {
      const call = ctx.services.calls.get(ctx.app.sdkAppId, b.CallId);
      return { Response: { CallInfo: callInfo(call), UserList: userList(call) } };
    },
  }),

  'call_engine_http_srv/end_call': defineCommand({
    ...engine,
    body: callId,
    errors: engineErrors,
    async handle(ctx, b) {
      await ctx.services.calls.endCall(ctx.app.sdkAppId, b.CallId, { clientIp: ctx.clientIp, platform: 'RESTAPI' });
      return {};
    },
  }),

  'call_engine_http_srv/start_call_by_robot': defineCommand({
    ...engine,
    body: Type.Object({
      Robot_Account: Type.String({ minLength: 1 }),
      CalleeList_Account: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: MAX_CALLEES }),
      Timeout: Type.Integer({ minimum: 10_000, maximum: 600_000 }),
      UserData: Type.Optional(Type.String()),
      CallInfo: Type.Object({
        MediaType: Type.Union([Type.Literal('Audio'), Type.Literal('Video')]),
        RoomId: Type.Optional(Type.String()),
        RoomIdType: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)])),
      }),
      OfflinePushInfo: Type.Optional(Type.Object({})),
    }),
    errors: { UNKNOWN_ACCOUNT: RestErrors.CALL_INVALID },
    async handle(ctx, b) {
      if (b.UserData !== undefined && Buffer.byteLength(b.UserData) > MAX_USER_DATA_BYTES) invalid(`UserData is longer than ${MAX_USER_DATA_BYTES} bytes`);
      const { call, busy } = await ctx.services.calls.startCall(
        {
          sdkAppId: ctx.app.sdkAppId,
          caller: b.Robot_Account,
          callees: b.CalleeList_Account,
          mediaType: b.CallInfo.MediaType,
          ...room(b.CallInfo.RoomId, b.CallInfo.RoomIdType),
          userData: b.UserData,
          ringTimeoutMs: b.Timeout,
          robot: true,
        },
        { clientIp: ctx.clientIp, platform: 'RESTAPI' },
      );
      const callees = [...new Set(b.CalleeList_Account)];
      return {
        Response: {
          CallId: call.callId,
          CallResult: callees.map((c) => ({ Callee_Account: c, ResultCode: busy.includes(c) ? CALLEE_BUSY_RESULT_CODE : 0 })),
        },
      };
    },
  }),

  'call_record_http_srv/get_record_by_callid': defineCommand({
    ...records,
    body: callId,
    async handle(ctx, b) {
      return { Response: { CallRecord: callRecord(await ctx.services.calls.record(ctx.app.sdkAppId, b.CallId)) } };
    },
  }),

  'call_record_http_srv/get_record_by_filter': defineCommand({
    ...records,
    body: Type.Object({
      StartTime: Type.Optional(Type.Integer({ minimum: 0 })),
      EndTime: Type.Optional(Type.Integer({ minimum: 0 })),
      CallResult: Type.Optional(Type.Union(FILTER_CALL_RESULTS.map((r) => Type.Literal(r)))),
      CallType: Type.Optional(Type.Union([Type.Literal('SingleCall'), Type.Literal('MultiCall')])),
      NumberPerPage: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_RECORDS_PER_PAGE })),
      Page: Type.Optional(Type.Integer({ minimum: 1 })),
    }),
    async handle(ctx, b) {
      if (b.StartTime !== undefined && b.EndTime !== undefined && b.EndTime < b.StartTime) invalid('EndTime is before StartTime');
      const page = b.Page ?? 1;
      const { total, calls } = await ctx.services.calls.records({
        sdkAppId: ctx.app.sdkAppId,
        fromMs: b.StartTime === undefined ? undefined : b.StartTime * 1000,
        toMs: b.EndTime === undefined ? undefined : b.EndTime * 1000 + 999,
        result: b.CallResult,
        callType: b.CallType,
        page,
        perPage: b.NumberPerPage ?? 10,
      });
      // "When Page > 0, there is data" (https://trtc.io/document/68931): a page with no records answers Page 0.
      return { Response: { TotalNum: total, Page: calls.length > 0 ? page : 0, CallRecordList: calls.map(callRecord) } };
    },
  }),
};
