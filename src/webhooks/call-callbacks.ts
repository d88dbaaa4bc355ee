import type { Call, MemberChange } from '../services/calls/call.ts';
import { callRecord, userList } from '../services/calls/call-views.ts';

/** A callback to queue: its command, the key that orders it, and its JSON body. */
export interface CallbackEvent {
  command: string;
  orderKey: string;
  body: Record<string, unknown>;
}

/** Call.CallbackAfterStartCall. Sends the media type as both `CallMediaType` (example) and `MediaType` (field table). */
export function afterStartCall(call: Call, now: number): CallbackEvent {
  return {
    command: 'Call.CallbackAfterStartCall',
    orderKey: `call:${call.callId}`,
    body: {
      CallbackCommand: 'Call.CallbackAfterStartCall',
      CallInfo: {
        CallId: call.callId,
        CallMediaType: call.mediaType,
        MediaType: call.mediaType,
        ChatGroupId: call.chatGroupId,
        RoomId: call.roomId,
        RoomIdType: call.roomIdType,
      },
      UserList: userList(call),
      EventTime: now,
    },
  };
}

/** Call.CallbackAfterMemberChanged. */
export function afterMemberChanged(call: Call, changes: MemberChange[], now: number): CallbackEvent {
  return {
    command: 'Call.CallbackAfterMemberChanged',
    orderKey: `call:${call.callId}`,
    body: {
      CallbackCommand: 'Call.CallbackAfterMemberChanged',
      CallId: call.callId,
      UserList: userList(call),
      ChangedUserList: changes.map((c) => ({ User_Account: c.userId, ActionType: c.action })),
      EventTime: now,
    },
  };
}

/** Call.CallbackAfterEndCall. */
export function afterEndCall(call: Call, now: number): CallbackEvent {
  return {
    command: 'Call.CallbackAfterEndCall',
    orderKey: `call:${call.callId}`,
    body: { CallbackCommand: 'Call.CallbackAfterEndCall', CallRecord: callRecord(call), EventTime: now },
  };
}
