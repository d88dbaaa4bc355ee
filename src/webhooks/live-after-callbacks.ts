import { roomInfoHead, type LiveRoom, type LiveRoomInfo } from '../services/live/room.ts';
import type { CallbackEvent } from './call-callbacks.ts';

// TUILiveKit "after" callbacks (command list: https://www.tencentcloud.com/zh/document/product/1071/78174). Every
// builder returns the body of one documented command; EventTime is unix ms, as in every example. All callbacks of a
// room share one order key, so the app server gets them in the order the room changed.

/** The command words of the TUILiveKit after-callbacks trtcd produces. */
const LiveAfter = {
  CREATE_ROOM: 'Live.CallbackAfterCreateRoom',
  DESTROY_ROOM: 'Live.CallbackAfterDestroyRoom',
  UPDATE_ROOM_INFO: 'Live.CallbackAfterUpdateRoomInfo',
  SET_METADATA: 'Live.CallbackAfterSetMetadata',
  DEL_METADATA: 'Live.CallbackAfterDelMetadata',
  MEMBER_STATE_CHANGED: 'Live.CallbackAfterMemberStateChanged',
  CHANGE_OWNER: 'Live.CallbackAfterChangeOwner',
  MODIFY_ADMIN: 'Live.CallbackAfterModifyAdmin',
  /** The live backend sends the seat callback under the Mic.* word (https://trtc.io/document/64425). */
  SEAT_INFO_CHANGED: 'Mic.CallbackAfterSeatInfoChanged',
} as const;

/** Why a member went online or offline (Live.CallbackAfterMemberStateChanged `EventCause`). */
export type MemberCause = 'Enter' | 'Leave' | 'HeartbeatInterrupt' | 'HeartbeatRecover' | 'Kicked';

/** The order key of every callback of one live room. */
function liveOrderKey(sdkAppId: number, roomId: string): string {
  return `live:${sdkAppId}:${roomId}`;
}

function event(room: LiveRoom, command: string, body: Record<string, unknown>): CallbackEvent {
  return { command, orderKey: liveOrderKey(room.sdkAppId, room.roomId), body: { CallbackCommand: command, ...body } };
}

/** `RoomInfo` of the create and destroy callbacks: the documented fields trtcd keeps (`CustomInfo` is never set). */
function roomInfo(r: LiveRoom): Record<string, unknown> {
  const i = r.info;
  return {
    ...roomInfoHead(r),
    MaxMemberCount: i.MaxMemberCount,
    IsMessageDisabled: i.IsMessageDisabled,
    CustomInfo: '',
    IsSeatEnabled: i.IsSeatEnabled,
    TakeSeatMode: i.TakeSeatMode,
    MaxSeatCount: i.MaxSeatCount,
    CreateTime: Math.floor(r.createdAt / 1000),
    IsPublicVisible: i.IsPublicVisible,
    CoverURL: i.CoverURL,
    Category: i.Category,
    ActivityStatus: i.ActivityStatus,
    IsUnlimitedRoomEnabled: i.IsUnlimitedRoomEnabled,
  };
}

/** Live.CallbackAfterCreateRoom (https://www.tencentcloud.com/zh/document/product/1071/78183; EventTime: https://cloud.tencent.com/document/product/647/110523). */
export function afterCreateRoom(room: LiveRoom, operator: string, now: number): CallbackEvent {
  return event(room, LiveAfter.CREATE_ROOM, { Operator_Account: operator, RoomInfo: roomInfo(room), EventTime: now });
}

/** Live.CallbackAfterDestroyRoom, destroyed by a user (https://cloud.tencent.com/document/product/647/110524). */
export function afterDestroyRoom(room: LiveRoom, operator: string, now: number): CallbackEvent {
  const info = { ...roomInfo(room), ViewCount: room.viewCount, BackgroundURL: '' };
  return event(room, LiveAfter.DESTROY_ROOM, { Operator_Account: operator, RoomId: room.roomId, EventType: 'DestroyByUser', EventTime: now, RoomInfo: info });
}

/**
 * Live.CallbackAfterUpdateRoomInfo (https://cloud.tencent.com/document/product/647/115659): `RoomInfo` holds RoomId and
 * the fields the update set, with their new values.
 */
export function afterUpdateRoomInfo(room: LiveRoom, fields: Array<keyof LiveRoomInfo>, operator: string, now: number): CallbackEvent {
  const info: Record<string, unknown> = { RoomId: room.roomId };
  for (const f of fields) info[f] = room.info[f];
  return event(room, LiveAfter.UPDATE_ROOM_INFO, { Operator_Account: operator, RoomInfo: info, EventTime: now });
}

/** Live.CallbackAfterSetMetadata (https://trtc.io/document/68222). */
export function afterSetMetadata(room: LiveRoom, entries: Array<{ key: string; value: string }>, operator: string, now: number): CallbackEvent {
  return event(room, LiveAfter.SET_METADATA, {
    Operator_Account: operator,
    RoomId: room.roomId,
    Metadata: entries.map((e) => ({ Key: e.key, Value: e.value })),
    EventTime: now,
  });
}

/** Live.CallbackAfterDelMetadata (https://trtc.io/document/68223). */
export function afterDelMetadata(room: LiveRoom, keys: string[], operator: string, now: number): CallbackEvent {
  return event(room, LiveAfter.DEL_METADATA, { Operator_Account: operator, RoomId: room.roomId, Keys: keys, EventTime: now });
}

/** Live.CallbackAfterMemberStateChanged (https://trtc.io/zh/document/64424?product=live; https://cloud.tencent.com/document/product/647/110526). */
export function afterMemberStateChanged(room: LiveRoom, online: boolean, cause: MemberCause, users: string[], now: number): CallbackEvent {
  return event(room, LiveAfter.MEMBER_STATE_CHANGED, {
    RoomId: room.roomId,
    EventType: online ? 'Online' : 'Offline',
    EventCause: cause,
    MemberList: users.map((u) => ({ Member_Account: u })),
    EventTime: now,
  });
}

/** Live.CallbackAfterChangeOwner (https://trtc.io/document/72553; https://www.tencentcloud.com/document/product/1071/78190). */
export function afterChangeOwner(room: LiveRoom, original: string, operator: string, now: number): CallbackEvent {
  return event(room, LiveAfter.CHANGE_OWNER, {
    RoomId: room.roomId,
    EventTime: now,
    Operator_Account: operator,
    CurrentOwner_Account: room.owner,
    OriginalOwner_Account: original,
  });
}

/** Live.CallbackAfterModifyAdmin; the operation field is spelled `opType` (https://trtc.io/document/72554; https://www.tencentcloud.com/document/product/1071/78191). */
export function afterModifyAdmin(room: LiveRoom, admins: string[], op: 'add' | 'delete', operator: string, now: number): CallbackEvent {
  return event(room, LiveAfter.MODIFY_ADMIN, { RoomId: room.roomId, EventTime: now, Operator_Account: operator, Admin_Account: admins, opType: op });
}

/** Mic.CallbackAfterSeatInfoChanged with the room's whole seat list after the change (https://trtc.io/document/64425). */
export function afterSeatInfoChanged(room: LiveRoom, now: number): CallbackEvent {
  return event(room, LiveAfter.SEAT_INFO_CHANGED, {
    RoomId: room.roomId,
    SeatList: room.state.seats.map((s) => ({
      Index: s.index,
      ...(s.member ? { Member_Account: s.member } : {}),
      IsTakenDisabled: s.locked,
      IsVideoDisabled: s.videoDisabled,
      IsAudioDisabled: s.audioDisabled,
    })),
    EventTime: now,
  });
}
