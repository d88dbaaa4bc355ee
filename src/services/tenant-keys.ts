// Keys of tenant-scoped things. Every user, TRTC room, live room, group and call member belongs to one app
// (sdkAppId), and the maps that hold them for every app are keyed by these. The kind is part of the type: a user's
// key cannot be looked up in a map of rooms, and no key is built by hand elsewhere.
import type { RoomRef } from './trtc-rooms/trtc-rooms-service.ts';

declare const kind: unique symbol;

/** A map key naming one `K` of one app. */
type TenantKey<K extends string> = string & { readonly [kind]: K };
export type UserKey = TenantKey<'user'>;
export type TrtcRoomKey = TenantKey<'trtc-room'>;
export type LiveRoomKey = TenantKey<'live-room'>;
export type GroupKey = TenantKey<'group'>;
export type CallMemberKey = TenantKey<'call-member'>;

/** The key of a TRTC room within its app: numeric and string rooms never collide. */
export function roomKey(ref: RoomRef): string {
  return 'roomId' in ref ? `n:${ref.roomId}` : `s:${ref.strRoomId}`;
}

/** Whether a key names something of the app `sdkAppId`. */
export function inApp(key: TenantKey<string>, sdkAppId: number): boolean {
  const app = String(sdkAppId);
  return key.startsWith(app) && key.charCodeAt(app.length) === 10;
}

/** One user of one app. */
export function userKey(sdkAppId: number, userId: string): UserKey {
  return `${sdkAppId}\n${userId}` as UserKey;
}

/** One TRTC room of one app. */
export function trtcRoomKey(sdkAppId: number, ref: RoomRef): TrtcRoomKey {
  return `${sdkAppId}\n${roomKey(ref)}` as TrtcRoomKey;
}

/** One live room of one app. */
export function liveRoomKey(sdkAppId: number, roomId: string): LiveRoomKey {
  return `${sdkAppId}\n${roomId}` as LiveRoomKey;
}

/** One Chat group of one app. */
export function groupKey(sdkAppId: number, groupId: string): GroupKey {
  return `${sdkAppId}\n${groupId}` as GroupKey;
}

/** One member of one call of one app. */
export function callMemberKey(sdkAppId: number, callId: string, userId: string): CallMemberKey {
  return `${sdkAppId}\n${callId}\n${userId}` as CallMemberKey;
}
