import type { SeatTemplate } from './seat-templates.ts';

/** How a seat is taken: directly, or after the owner or an admin approves. */
export type TakeSeatMode = 'FreeToTake' | 'ApplyToTake';

/** A live room's settings, in the field names of create_room / get_room_info. */
export interface LiveRoomInfo {
  RoomName: string;
  RoomType: 'Live';
  CoverURL: string;
  Category: number[];
  Notice: string;
  IsMessageDisabled: boolean;
  IsPublicVisible: boolean;
  IsSeatEnabled: boolean;
  TakeSeatMode: TakeSeatMode;
  MaxSeatCount: number;
  MaxMemberCount: number;
  ActivityStatus: number;
  IsUnlimitedRoomEnabled: boolean;
  /** The room's gift switch (error 102008 when off). */
  IsGiftEnabled: boolean;
  /** The seat template chosen at creation ('' when none was given); fixes MaxSeatCount for the video templates. */
  SeatTemplate: SeatTemplate;
  /** The older numeric layout id (0 when none was given). */
  SeatLayoutTemplateId: number;
  /** Whether the owner keeps a seat while live (TUILiveKit's keepOwnerOnSeat; kept and returned, not acted on). */
  KeepOwnerOnSeat: boolean;
}

/** One seat (mic position). */
export interface Seat {
  index: number;
  member: string;
  locked: boolean;
  videoDisabled: boolean;
  audioDisabled: boolean;
}

/** A member in the room (entered through a client): how many of their sessions are in it, and since when (unix ms). */
export interface LiveMember {
  userId: string;
  sessions: number;
  since: number;
}

/** What changes while a room is live. */
export interface LiveRoomState {
  seats: Seat[];
  /** Members online in the room, in order of entry (get_member_list, Live.CallbackAfterMemberStateChanged). */
  members: LiveMember[];
  /** Room administrators (modify_admin). */
  admins: string[];
  robots: string[];
  /** UserID → muted until (unix seconds). */
  muted: Record<string, number>;
  /** UserID → banned until (unix seconds) and why. */
  banned: Record<string, { until: number; reason: string }>;
  metadata: Record<string, string>;
  messages: number;
}

/** A TUILiveKit live room. */
export interface LiveRoom {
  sdkAppId: number;
  roomId: string;
  owner: string;
  info: LiveRoomInfo;
  state: LiveRoomState;
  viewCount: number;
  /** Unix ms. */
  createdAt: number;
}

/** The fields every documented RoomInfo of a room begins with (get_room_info's and the room callbacks'). */
export function roomInfoHead(r: LiveRoom): { RoomId: string; RoomName: LiveRoomInfo['RoomName']; RoomType: LiveRoomInfo['RoomType']; Owner_Account: string } {
  return { RoomId: r.roomId, RoomName: r.info.RoomName, RoomType: r.info.RoomType, Owner_Account: r.owner };
}

/**
 * Bus topic of live-room events (messages, seats, mutes, bans, gifts, owner and admin changes, destroy). `member`
 * events (a member online or offline) only keep other nodes' copies of the room current: clients are not told.
 */
export const LIVE_TOPIC = 'live.event';

/** A live-room event as published on the bus. */
export interface LiveEvent {
  sdkAppId: number;
  roomId: string;
  type: 'created' | 'updated' | 'destroyed' | 'text' | 'custom' | 'seat' | 'mute' | 'ban' | 'unban' | 'robot' | 'metadata' | 'gift' | 'owner' | 'admin' | 'member';
  /** Event-specific fields. */
  data: Record<string, unknown>;
  /** Unix ms. */
  time: number;
  /** The room after the change (for other nodes' copies; not sent to clients). */
  room?: LiveRoom;
}
