import type { Bus } from '../../bus/bus.ts';
import type { TrtcRoomRow, TrtcUserRow } from '../../store/trtc-repo.ts';
import type { Store } from '../../store/store.ts';
import { DomainError } from '../errors.ts';
import { SerialPerApp } from '../serial.ts';
import { inApp, trtcRoomKey, type TrtcRoomKey } from '../tenant-keys.ts';

/** A TRTC room id: numeric (1–4294967294) or string. A numeric room and a string room with the same digits differ. */
export type RoomRef = { roomId: number } | { strRoomId: string };

/** Bus topic of TRTC room events (enter, leave, removed, dismissed). */
export const TRTC_ROOM_TOPIC = 'trtc.room';

/** A TRTC room event as published on the bus. */
export interface TrtcRoomEvent {
  sdkAppId: number;
  room: RoomRef;
  type: 'enter' | 'leave' | 'removed' | 'dismissed';
  users: string[];
  reason: string;
}

/** Bus topic of media blocks (SetUserBlocked*): which of a user's kinds the SFU stops forwarding in a room. */
export const TRTC_BLOCK_TOPIC = 'trtc.block';

/** Which of a user's media kinds are blocked in a room. */
export interface MediaBlock {
  audio: boolean;
  video: boolean;
}

/** A change of a user's media block in a room, as published on the bus. */
export interface TrtcBlockEvent extends MediaBlock {
  sdkAppId: number;
  room: RoomRef;
  userId: string;
}

/** The block of a user nobody blocked. */
const NOT_BLOCKED: Readonly<MediaBlock> = Object.freeze({ audio: false, video: false });

/** Details of a client entering, kept in the user history. */
interface EnterInfo {
  role?: string;
  deviceType?: string;
  sdkVersion?: string;
  clientIp?: string;
}

interface Member {
  stayId: number;
  role: string;
}

interface Room {
  ref: RoomRef;
  commId: string;
  members: Map<string, Member>;
  /** Media blocks of users (in the room or not): they last until lifted or the room closes. */
  blocks: Map<string, MediaBlock>;
}

/** Largest numeric room id. */
export const MAX_NUMERIC_ROOM_ID = 4294967294;

const nowS = () => Math.floor(Date.now() / 1000);

/** The room id as text (RoomString / RoomStr of the history APIs). */
export function roomText(ref: RoomRef): string {
  return 'roomId' in ref ? String(ref.roomId) : ref.strRoomId;
}

/** A room as the history APIs show it. */
interface RoomHistory {
  commId: string;
  roomId: string;
  creator: string;
  createdAt: number;
  destroyedAt: number;
}

/** A user's stay as the history APIs show it. */
interface UserHistory {
  roomId: string;
  userId: string;
  joinTs: number;
  leaveTs: number;
  deviceType: string;
  sdkVersion: string;
  clientIp: string;
}

/**
 * TRTC rooms that clients are in: presence, removal, dismissal and media blocks, published on the bus for the
 * real-time plane, and the history of each room's lives and users' stays for DescribeRoomInfo / DescribeUserInfo.
 */
export class TrtcRoomsService {
  private readonly rooms = new Map<TrtcRoomKey, Room>();
  private readonly serial = new SerialPerApp();

  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
  ) {}

  /** Closes the history that a previous run left open: nobody is connected after a restart. */
  async start(): Promise<void> {
    await this.store.trtc.closeDangling(nowS());
  }

  /** Nothing to undo: the rooms live as long as their members' connections. */
  stop(): void {}

  /** Whether a room has anyone in it. */
  exists(sdkAppId: number, ref: RoomRef): boolean {
    return this.rooms.has(trtcRoomKey(sdkAppId, ref));
  }

  /** Who is in a room, with their roles. */
  members(sdkAppId: number, ref: RoomRef): Array<{ userId: string; role: string }> {
    const room = this.rooms.get(trtcRoomKey(sdkAppId, ref));
    return room ? [...room.members].map(([userId, m]) => ({ userId, role: m.role })) : [];
  }

  /** The rooms of an app that have someone in them on this node, with their members and roles. */
  roomsOf(sdkAppId: number): Array<{ ref: RoomRef; members: Array<{ userId: string; role: string }> }> {
    const out: Array<{ ref: RoomRef; members: Array<{ userId: string; role: string }> }> = [];
    for (const [key, room] of this.rooms) {
      if (inApp(key, sdkAppId)) out.push({ ref: room.ref, members: [...room.members].map(([userId, m]) => ({ userId, role: m.role })) });
    }
    return out;
  }

  /** A user enters a room (opening it if empty). Entering again is a no-op. */
  async enter(sdkAppId: number, ref: RoomRef, userId: string, info: EnterInfo = {}): Promise<void> {
    checkRef(ref);
    await this.serial.run(sdkAppId, async () => {
      const key = trtcRoomKey(sdkAppId, ref);
      let room = this.rooms.get(key);
      const now = nowS();
      if (room?.members.has(userId)) return;
      if (!room) {
        const commId = `${sdkAppId}_${roomText(ref)}_${now}`;
        const row: TrtcRoomRow = { comm_id: commId, sdk_app_id: sdkAppId, room_id: roomText(ref), str_room: 'roomId' in ref ? 0 : 1, creator: userId, created_at: now, destroyed_at: 0 };
        // A room reopened within the same second keeps one CommId per life.
        row.comm_id = await this.uniqueCommId(row.comm_id);
        await this.store.trtc.openRoom(row);
        room = { ref, commId: row.comm_id, members: new Map(), blocks: new Map() };
        this.rooms.set(key, room);
      }
      const stayId = await this.store.trtc.join({
        comm_id: room.commId,
        sdk_app_id: sdkAppId,
        room_id: roomText(ref),
        user_id: userId,
        join_ts: now,
        leave_ts: 0,
        device_type: info.deviceType ?? '',
        sdk_version: info.sdkVersion ?? '',
        client_ip: info.clientIp ?? '',
      });
      room.members.set(userId, { stayId, role: info.role ?? 'anchor' });
      this.publish({ sdkAppId, room: ref, type: 'enter', users: [userId], reason: '' });
    });
  }

  /** Changes a member's role (anchor ⇄ audience); false when the user is not in the room. */
  setRole(sdkAppId: number, ref: RoomRef, userId: string, role: string): boolean {
    const m = this.rooms.get(trtcRoomKey(sdkAppId, ref))?.members.get(userId);
    if (m) m.role = role;
    return m !== undefined;
  }

  /** A user leaves a room (closing it when the last one leaves). */
  async leave(sdkAppId: number, ref: RoomRef, userId: string, reason = 'leave'): Promise<void> {
    await this.serial.run(sdkAppId, () => this.drop(sdkAppId, ref, [userId], 'leave', reason));
  }

  /** Removes users from a room at once (RemoveUser*); NOT_FOUND when nobody is in the room. */
  async removeUsers(sdkAppId: number, ref: RoomRef, userIds: string[], reason = 'removed by the server'): Promise<string[]> {
    checkRef(ref);
    return this.serial.run(sdkAppId, async () => {
      if (!this.exists(sdkAppId, ref)) throw new DomainError('NOT_FOUND', `room ${roomText(ref)} does not exist`, 'ROOM_NOT_EXIST');
      return this.drop(sdkAppId, ref, userIds, 'removed', reason);
    });
  }

  /** Removes everyone and closes the room (DismissRoom*); NOT_FOUND when nobody is in the room. */
  async dismiss(sdkAppId: number, ref: RoomRef, reason = 'room dismissed by the server'): Promise<string[]> {
    checkRef(ref);
    return this.serial.run(sdkAppId, async () => {
      const room = this.rooms.get(trtcRoomKey(sdkAppId, ref));
      if (!room) throw new DomainError('NOT_FOUND', `room ${roomText(ref)} does not exist`, 'ROOM_NOT_EXIST');
      return this.drop(sdkAppId, ref, [...room.members.keys()], 'dismissed', reason);
    });
  }

  /**
   * Sets which of a user's media kinds are blocked in a room (SetUserBlocked*), published on TRTC_BLOCK_TOPIC when it
   * changes. The block belongs to the room: it holds for the user's later publications and re-entries until lifted or
   * the room closes. NOT_FOUND when nobody is in the room, or the user is neither in it nor blocked there.
   */
  async setBlocked(sdkAppId: number, ref: RoomRef, userId: string, block: MediaBlock): Promise<void> {
    checkRef(ref);
    await this.serial.run(sdkAppId, async () => {
      const room = this.rooms.get(trtcRoomKey(sdkAppId, ref));
      if (!room) throw new DomainError('NOT_FOUND', `room ${roomText(ref)} does not exist`, 'ROOM_NOT_EXIST');
      const was = room.blocks.get(userId) ?? NOT_BLOCKED;
      if (!room.members.has(userId) && was === NOT_BLOCKED) throw new DomainError('NOT_FOUND', `user ${userId} is not in room ${roomText(ref)}`, 'USER_NOT_EXIST');
      if (was.audio === block.audio && was.video === block.video) return;
      if (block.audio || block.video) room.blocks.set(userId, { audio: block.audio, video: block.video });
      else room.blocks.delete(userId);
      const e: TrtcBlockEvent = { sdkAppId, room: ref, userId, audio: block.audio, video: block.video };
      this.bus.publish(TRTC_BLOCK_TOPIC, e);
    });
  }

  /** Which of a user's media kinds are blocked in a room (NOT_BLOCKED when none). */
  blocked(sdkAppId: number, ref: RoomRef, userId: string): Readonly<MediaBlock> {
    return this.rooms.get(trtcRoomKey(sdkAppId, ref))?.blocks.get(userId) ?? NOT_BLOCKED;
  }

  /** Room lives created in [from, to] (unix s), newest first. */
  async roomHistory(f: { sdkAppId: number; from: number; to: number; roomId?: string; page: number; size: number }): Promise<{ total: number; rooms: RoomHistory[] }> {
    const { rows, total } = await this.store.trtc.rooms({ sdkAppId: f.sdkAppId, from: f.from, to: f.to, roomId: f.roomId, limit: f.size, offset: f.page * f.size });
    return {
      total,
      rooms: rows.map((r) => ({ commId: r.comm_id, roomId: r.room_id, creator: r.creator, createdAt: Number(r.created_at), destroyedAt: Number(r.destroyed_at) })),
    };
  }

  /** User stays in one room life overlapping [from, to] (unix s). */
  async userHistory(f: { sdkAppId: number; commId: string; from: number; to: number; userIds?: string[]; page: number; size: number }): Promise<{ total: number; users: UserHistory[] }> {
    const { rows, total } = await this.store.trtc.users({ ...f, limit: f.size, offset: f.page * f.size });
    return { total, users: rows.map(toUser) };
  }

  private async drop(sdkAppId: number, ref: RoomRef, userIds: string[], type: TrtcRoomEvent['type'], reason: string): Promise<string[]> {
    const key = trtcRoomKey(sdkAppId, ref);
    const room = this.rooms.get(key);
    if (!room) return [];
    const now = nowS();
    const gone: string[] = [];
    for (const u of new Set(userIds)) {
      const m = room.members.get(u);
      if (!m) continue;
      await this.store.trtc.leave(m.stayId, now);
      room.members.delete(u);
      gone.push(u);
    }
    if (room.members.size === 0 || type === 'dismissed') {
      await this.store.trtc.closeRoom(room.commId, now);
      this.rooms.delete(key);
    }
    if (gone.length || type === 'dismissed') this.publish({ sdkAppId, room: ref, type, users: gone, reason });
    return gone;
  }

  private async uniqueCommId(base: string): Promise<string> {
    let id = base;
    for (let n = 1; [...this.rooms.values()].some((r) => r.commId === id) || (await this.commIdTaken(id)); n++) id = `${base}_${n}`;
    return id;
  }

  private commIdTaken(id: string): Promise<boolean> {
    return this.store.trtc.hasRoom(id);
  }

  private publish(e: TrtcRoomEvent): void {
    this.bus.publish(TRTC_ROOM_TOPIC, e);
  }

}

function checkRef(ref: RoomRef): void {
  if ('roomId' in ref) {
    if (!Number.isInteger(ref.roomId) || ref.roomId < 1 || ref.roomId > MAX_NUMERIC_ROOM_ID) throw new DomainError('INVALID_ARGUMENT', `RoomId must be 1-${MAX_NUMERIC_ROOM_ID}`, 'ROOM_ID');
  } else if (ref.strRoomId.length === 0 || Buffer.byteLength(ref.strRoomId) > 64) {
    throw new DomainError('INVALID_ARGUMENT', 'a string RoomId must be 1-64 bytes', 'ROOM_ID');
  }
}

function toUser(r: TrtcUserRow): UserHistory {
  return {
    roomId: r.room_id,
    userId: r.user_id,
    joinTs: Number(r.join_ts),
    leaveTs: Number(r.leave_ts),
    deviceType: r.device_type,
    sdkVersion: r.sdk_version,
    clientIp: r.client_ip,
  };
}
