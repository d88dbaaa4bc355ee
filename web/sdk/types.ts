// Wire types of the trtcd /rtc protocol, version 1 (docs/realtime-protocol.md), as the client sees them.
import type { PeerConstructor } from './media.ts';

/** A TRTC room: numeric (1–4294967294) or string (1–64 UTF-8 bytes); a request carries exactly one of the two. */
export type RoomRef = { roomId: number } | { strRoomId: string };

/** A member's role in a TRTC room. */
export type Role = 'anchor' | 'audience';

/** The platforms a client may report at auth. */
export type Platform = 'Web' | 'Android' | 'iOS' | 'iPad' | 'Windows' | 'Mac' | 'Linux' | 'Unknown';

/** A member of a TRTC room. */
export interface RoomMember {
  userId: string;
  role: Role;
}

/** Reply to `auth`; `resumeToken`, `resumed`, `rooms` and `liveRooms` are absent on servers without sessions. */
export interface AuthReply {
  sdkAppId: number;
  userId: string;
  /** When the UserSig expires, unix seconds. */
  expiresAt: number;
  resumeToken?: string;
  resumed?: boolean;
  /** The TRTC rooms the session is in, with the role each was entered with. */
  rooms?: Array<{ room: RoomRef; role: Role }>;
  liveRooms?: string[];
}

/** A user's stream in a room: `main` (camera and microphone) or `sub` (screen share, video only). */
export type StreamType = 'main' | 'sub';

/** A published stream as `room.enter` and the media events describe it. */
export interface StreamInfo {
  userId: string;
  stream: StreamType;
  audio: boolean;
  video: boolean;
  audioMuted: boolean;
  videoMuted: boolean;
  /** Blocked by the server (SetUserBlocked*): not forwarded, whatever the publisher's own mute says. Absent on older servers. */
  audioBlocked?: boolean;
  videoBlocked?: boolean;
}

/** Reply to `room.enter`: everyone in the room now, the caller included, and the streams published in it. */
export interface EnterRoomReply {
  room: RoomRef;
  members: RoomMember[];
  /** Absent on servers without media. */
  streams?: StreamInfo[];
}

/** Options of `enterRoom`. */
export interface EnterRoomOptions {
  role?: Role;
  privateMapKey?: string;
}

/** Call media. */
export type MediaType = 'Audio' | 'Video';

/** How a call ended. */
export type CallResult = 'Cancel' | 'Reject' | 'NotAnswer' | 'NormalEnd' | 'CallBusy' | 'Interrupt';

/** A member of a call: `Calling` is in the call, `Waiting` is being rung. */
export interface CallMember {
  userId: string;
  status: 'Calling' | 'Waiting';
}

/** A call, as in `call.*` replies and events. Times are unix ms, 0 when not yet. */
export interface Call {
  callId: string;
  caller: string;
  mediaType: MediaType;
  callType: 'SingleCall' | 'MultiCall';
  /** The TRTC room of the call's media, as a string ('' when none). */
  roomId: string;
  /** 1 numeric room, 2 string room, 0 none. */
  roomIdType: number;
  /** '' when not a group call. */
  chatGroupId: string;
  userData: string;
  members: CallMember[];
  result: CallResult | null;
  startTime: number;
  acceptTime: number;
  endTime: number;
}

/** Options of `startCall`. */
export interface StartCallOptions {
  callees: string[];
  mediaType: MediaType;
  roomId?: number;
  strRoomId?: string;
  chatGroupId?: string;
  userData?: string;
  ringTimeoutMs?: number;
}

/** Reply to `call.start` and `call.invite`: callees that were busy are left out of the call. */
export interface StartCallReply {
  call: Call;
  busy: string[];
}

/** Reply to the other `call.*` requests. */
export interface CallReply {
  call: Call;
}

/** One change in a `call.updated` event. */
export interface CallChange {
  userId: string;
  action: 'Accept' | 'Reject' | 'NotAnswer' | 'Hangup' | 'Join' | 'Offline' | 'Invite' | 'Cancel_Invite';
}

/** A seat of a live room. */
export interface LiveSeat {
  index: number;
  /** The UserID on the seat, '' when free. */
  member: string;
  locked: boolean;
}

/** A TUILiveKit live room as `live.enter` answers it. */
export interface LiveRoom {
  roomId: string;
  owner: string;
  /** The room's info as REST `get_room_info` gives it (RoomName, …). */
  info: Record<string, unknown>;
  seats: LiveSeat[];
  viewCount: number;
  metadata: Record<string, string>;
  /** The room's admins (modify_admin). */
  admins: string[];
}

/** Reply to `live.text` / `live.custom`: the room's message sequence and unix time in s. */
export interface LiveMessageReply {
  seq: number;
  time: number;
}

/** Options of `sendGift`. */
export interface GiftOptions {
  count?: number;
  /** UserIDs; default the room's owner. */
  receivers?: string[];
}

/** What a `live.event` announces. */
export type LiveEventKind = 'text' | 'custom' | 'gift' | 'seat' | 'mute' | 'ban' | 'unban' | 'metadata' | 'updated' | 'robot' | 'owner' | 'admin' | 'destroyed';

/** Fields every server event carries: its type and, on servers with sessions, its sequence number. */
export interface EventBase<T extends string> {
  type: T;
  seq?: number;
  v?: number;
}

/** Someone else entered a room you are in. */
export interface RoomUserEnterEvent extends EventBase<'room.userEnter'> {
  room: RoomRef;
  userId: string;
  role: Role;
}

/** Someone else left a room you are in (`leave`, `disconnected`, or the removal reason). */
export interface RoomUserLeaveEvent extends EventBase<'room.userLeave'> {
  room: RoomRef;
  userId: string;
  reason: string;
}

/** A custom message for you. */
export interface RoomMessageEvent extends EventBase<'room.message'> {
  room: RoomRef;
  from: string;
  data: string;
}

/** You are no longer in the room (removed, dismissed, or taken over by another connection of yours). */
export interface RoomRemovedEvent extends EventBase<'room.removed'> {
  room: RoomRef;
  reason: string;
}

/** Someone in a room you are in published a stream (subscribe to receive it). */
export interface MediaPublishedEvent extends EventBase<'media.published'>, StreamInfo {
  room: RoomRef;
}

/** A stream you could subscribe to was muted or unmuted. */
export interface MediaUpdatedEvent extends EventBase<'media.updated'>, StreamInfo {
  room: RoomRef;
}

/** A stream ended (`unpublished`, `replaced`, `leave`, `disconnected`, a removal reason, `connection failed`); its subscriptions are closed. */
export interface MediaUnpublishedEvent extends EventBase<'media.unpublished'> {
  room: RoomRef;
  userId: string;
  stream: StreamType;
  reason: string;
}

/** The server blocked or unblocked a user's audio and/or video in a room (SetUserBlocked*); you may be that user. */
export interface MediaBlockedEvent extends EventBase<'media.blocked'> {
  room: RoomRef;
  userId: string;
  audioBlocked: boolean;
  videoBlocked: boolean;
}

/** The UserSig expired; the server closes with 4403 next. */
export interface SessionExpiredEvent extends EventBase<'session.expired'> {
  expiresAt: number;
}

/** You are being rung. */
export interface CallInvitedEvent extends EventBase<'call.invited'> {
  call: Call;
}

/** A call you were invited to changed. */
export interface CallUpdatedEvent extends EventBase<'call.updated'> {
  call: Call;
  changes: CallChange[];
  ended: boolean;
}

/** Something happened in a live room you are in. */
export interface LiveEvent extends EventBase<'live.event'> {
  roomId: string;
  kind: LiveEventKind;
  data: Record<string, unknown>;
  /** Unix ms. */
  time: number;
}

/** You are out of a live room: banned or the room was destroyed. */
export interface LiveRemovedEvent extends EventBase<'live.removed'> {
  roomId: string;
  reason: 'banned' | 'destroyed' | string;
}

/** Every server event, by type. */
export interface ServerEvents {
  'room.userEnter': RoomUserEnterEvent;
  'room.userLeave': RoomUserLeaveEvent;
  'room.message': RoomMessageEvent;
  'room.removed': RoomRemovedEvent;
  'session.expired': SessionExpiredEvent;
  'call.invited': CallInvitedEvent;
  'call.updated': CallUpdatedEvent;
  'live.event': LiveEvent;
  'live.removed': LiveRemovedEvent;
  'media.published': MediaPublishedEvent;
  'media.updated': MediaUpdatedEvent;
  'media.unpublished': MediaUnpublishedEvent;
  'media.blocked': MediaBlockedEvent;
}

/** A gift of the app's catalogue (`live.gifts`). */
export interface LiveGift {
  giftId: string;
  name: string;
  desc: string;
  coins: number;
  level: number;
  iconUrl: string;
  resourceUrl: string;
}

/** A room or live room the client could not enter again after a reconnection that did not resume the session. */
export interface LostRoom {
  room?: RoomRef;
  liveRoomId?: string;
  code: number;
  message: string;
}

/** Events the client itself emits about its connection. */
export interface LifecycleEvents {
  /** An `auth` succeeded (the first connection and every reconnection). */
  connected: AuthReply;
  /** The connection dropped; the next attempt starts after `delayMs`. */
  reconnecting: { attempt: number; delayMs: number };
  /** A reconnection completed: the server resumed the session, or the client entered its rooms again (`lost`: those it could not). */
  resumed: { resumed: boolean; lost: LostRoom[] };
  /**
   * After a reconnection that did not resume the session, a stream you published was published again on a new peer
   * connection; with `code` (and `message`) it could not be, and the publication is over.
   */
  republished: { room: RoomRef; stream: StreamType; code?: number; message?: string };
  /** The socket closed without the client asking; a reconnection follows unless `closed` does. */
  disconnected: { code: number; reason: string };
  /** The client is closed for good: close(), logout(), a refused or expired session, or reconnection gave up. */
  closed: { code: number; reason: string };
  /** An error reply the server could not tie to a request (`re` null), e.g. rate limiting. */
  protocolError: { code: number; message: string };
}

/** Every event a TrtcdClient emits, by name. */
export interface TrtcdEvents extends ServerEvents, LifecycleEvents {}

/** The part of a WebSocket the client uses; the browser's WebSocket and `ws`'s both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: never) => unknown) | null;
  onmessage: ((ev: never) => unknown) | null;
  onclose: ((ev: never) => unknown) | null;
  onerror: ((ev: never) => unknown) | null;
}

/** A WebSocket constructor: `globalThis.WebSocket` in browsers, `ws`'s WebSocket in Node 20. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Reconnection backoff: attempt n waits a random time in [d/2, d] with d = min(maxDelayMs, minDelayMs · 2^(n-1)). */
export interface ReconnectOptions {
  /** Default 500 ms. */
  minDelayMs?: number;
  /** Default 15 000 ms. */
  maxDelayMs?: number;
  /** Attempts before giving up; default unlimited. */
  maxAttempts?: number;
}

/** Options of `new TrtcdClient(...)`. */
export interface TrtcdClientOptions {
  /** `ws://host:port/rtc` or `wss://…/rtc`. */
  url: string;
  sdkAppId: number;
  userId: string;
  userSig: string;
  /** Reported as OptPlatform in callbacks; default `Web`. */
  platform?: Platform | string;
  /** Default `globalThis.WebSocket`; Node 20 has none, pass `ws`'s WebSocket. */
  WebSocket?: WebSocketConstructor;
  /** For media; default `globalThis.RTCPeerConnection`. */
  RTCPeerConnection?: PeerConstructor;
  /** Backoff settings, or false to never reconnect. */
  reconnect?: ReconnectOptions | false;
  /** How long a request may wait for its reply, reconnection included; default 10 000 ms. */
  requestTimeoutMs?: number;
}
