import type { Call } from './call.ts';

/** `UserList` entries: current members and their status. */
export function userList(call: Call): Array<{ User_Account: string; Status: string }> {
  return call.members.map((m) => ({ User_Account: m.userId, Status: m.status }));
}

/** `CallInfo` of get_call_info. */
export function callInfo(call: Call): Record<string, unknown> {
  return { CallId: call.callId, MediaType: call.mediaType, ChatGroupId: call.chatGroupId, RoomId: call.roomId, RoomIdType: call.roomIdType };
}

/** `CallRecord` of the record APIs and Call.CallbackAfterEndCall; times in seconds. */
export function callRecord(call: Call): Record<string, unknown> {
  const s = (ms: number) => Math.floor(ms / 1000);
  return {
    CallId: call.callId,
    Caller_Account: call.caller,
    MediaType: call.mediaType,
    CallType: call.callType,
    StartTime: s(call.startTime),
    EndTime: s(call.endTime),
    AcceptTime: s(call.acceptTime),
    CallResult: call.result ?? '',
    CalleeList_Account: call.invited,
    RoomId: call.roomId,
    RoomIdType: call.roomIdType,
  };
}
