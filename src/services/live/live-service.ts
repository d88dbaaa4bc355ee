import type { Bus } from '../../bus/bus.ts';
import { SINGLE_NODE, type Coordination } from '../../bus/coordination.ts';
import type { LiveRoomRow } from '../../store/live-repo.ts';
import type { GiftTotals } from '../../store/gifts-repo.ts';
import type { Store } from '../../store/store.ts';
import type { AccountsService } from '../accounts/accounts-service.ts';
import { DomainError } from '../errors.ts';
import { LIVE_TOPIC, type LiveEvent, type LiveRoom, type LiveRoomInfo, type LiveRoomState, type Seat } from './room.ts';
import { Serial } from '../serial.ts';

/** Longest RoomId, in bytes. */
export const MAX_ROOM_ID_BYTES = 48;
/** Seats of a room when create_room sets none (unconfirmed). */
export const DEFAULT_MAX_SEAT_COUNT = 8;
/** Most seats a room may have (unconfirmed; the real limit depends on the package). */
export const MAX_SEAT_COUNT = 16;
/** Most members ban_member takes per call. */
export const MAX_BAN_PER_CALL = 20;
/** Most metadata keys per room (unconfirmed). */
export const MAX_METADATA_KEYS = 10;
/** Longest metadata key and value, in bytes. */
export const MAX_METADATA_KEY_BYTES = 50;
export const MAX_METADATA_VALUE_BYTES = 2048;
/** Longest text or custom message, in bytes (Chat's message limit). */
export const MAX_MESSAGE_BYTES = 12 * 1024;
/** Most rooms get_room_list returns per page. */
export const MAX_ROOM_LIST_COUNT = 20;

/** Settings of a new room. */
export function defaultInfo(): LiveRoomInfo {
  return {
    RoomName: '',
    RoomType: 'Live',
    CoverURL: '',
    Category: [],
    Notice: '',
    IsMessageDisabled: false,
    IsPublicVisible: true,
    IsSeatEnabled: true,
    TakeSeatMode: 'FreeToTake',
    MaxSeatCount: DEFAULT_MAX_SEAT_COUNT,
    MaxMemberCount: 0,
    ActivityStatus: 0,
    IsUnlimitedRoomEnabled: false,
    IsGiftEnabled: true,
  };
}

function seats(n: number, old: Seat[] = []): Seat[] {
  return Array.from({ length: n }, (_, index) => old[index] ?? { index, member: '', locked: false, videoDisabled: false, audioDisabled: false });
}

function toRow(r: LiveRoom): LiveRoomRow {
  return { sdk_app_id: r.sdkAppId, room_id: r.roomId, owner: r.owner, info: JSON.stringify(r.info), state: JSON.stringify(r.state), view_count: r.viewCount, created_at: r.createdAt };
}

function fromRow(r: LiveRoomRow): LiveRoom {
  return {
    sdkAppId: Number(r.sdk_app_id),
    roomId: r.room_id,
    owner: r.owner,
    info: { ...defaultInfo(), ...(JSON.parse(r.info) as Partial<LiveRoomInfo>) },
    state: JSON.parse(r.state) as LiveRoomState,
    viewCount: Number(r.view_count),
    createdAt: Number(r.created_at),
  };
}

/** Time (unix s) and in-room sequence number of a message sent. */
export interface SentMessage {
  time: number;
  seq: number;
}

const bytes = (s: string) => Buffer.byteLength(s);
const nowS = () => Math.floor(Date.now() / 1000);

/** Why a RoomId is unacceptable, or null. */
export function roomIdProblem(roomId: string): string | null {
  if (roomId.length === 0) return 'RoomId is empty';
  if (bytes(roomId) > MAX_ROOM_ID_BYTES) return `RoomId is longer than ${MAX_ROOM_ID_BYTES} bytes`;
  return null;
}

/**
 * TUILiveKit live rooms: settings, seats, robots, mutes, bans, metadata and room messages. Rooms live in memory
 * and every change is written to the store before it is acknowledged, then published on the bus.
 */
export class LiveService {
  private readonly rooms = new Map<string, LiveRoom>();
  private readonly serial = new Serial();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: Store,
    private readonly accounts: AccountsService,
    private readonly bus: Bus,
    private readonly coordination: Coordination = SINGLE_NODE,
  ) {
    // Rooms changed by other nodes: their events carry the room as it is now.
    this.unsubscribe = bus.subscribe(LIVE_TOPIC, (p, remote) => {
      if (!remote) return;
      const e = p as LiveEvent;
      if (e.type === 'destroyed') this.rooms.delete(`${e.sdkAppId}\n${e.roomId}`);
      else if (e.room) this.rooms.set(`${e.sdkAppId}\n${e.roomId}`, e.room);
    });
  }

  /** Stops following other nodes. */
  stop(): void {
    this.unsubscribe();
  }

  /** Loads every room from the store. */
  async load(): Promise<void> {
    for (const row of await this.store.live.all()) {
      const room = fromRow(row);
      this.rooms.set(`${room.sdkAppId}\n${room.roomId}`, room);
    }
  }

  /** A room, or NOT_FOUND (100004). */
  get(sdkAppId: number, roomId: string): LiveRoom {
    const problem = roomIdProblem(roomId);
    if (problem) throw new DomainError('INVALID_ARGUMENT', problem);
    const room = this.rooms.get(`${sdkAppId}\n${roomId}`);
    if (!room) throw new DomainError('NOT_FOUND', `room ${roomId} does not exist`);
    return room;
  }

  /** Publishes a room event on the bus. */
  publish(e: Omit<LiveEvent, 'time'>): void {
    this.bus.publish(LIVE_TOPIC, { ...e, time: Date.now() } satisfies LiveEvent);
  }

  /** Creates a room owned by an imported account. */
  async create(sdkAppId: number, roomId: string, owner: string, info: Partial<LiveRoomInfo>): Promise<LiveRoom> {
    const problem = roomIdProblem(roomId);
    if (problem) throw new DomainError('INVALID_ARGUMENT', problem);
    await this.requireAccounts(sdkAppId, [owner]);
    const full = this.checkInfo({ ...defaultInfo(), ...info });
    return this.serial.run(async () => {
      if (this.rooms.has(`${sdkAppId}\n${roomId}`)) throw new DomainError('ALREADY_EXISTS', `room ${roomId} already exists`);
      const room: LiveRoom = {
        sdkAppId,
        roomId,
        owner,
        info: full,
        state: { seats: seats(full.MaxSeatCount), robots: [], muted: {}, banned: {}, metadata: {}, messages: 0 },
        viewCount: 0,
        createdAt: Date.now(),
      };
      if (!(await this.store.live.insert(toRow(room)))) throw new DomainError('ALREADY_EXISTS', `room ${roomId} already exists`);
      this.rooms.set(`${sdkAppId}\n${roomId}`, room);
      this.publish({ sdkAppId, roomId, type: 'created', data: { owner }, room });
      return room;
    });
  }

  /** Dissolves a room; its audience is told. */
  async destroy(sdkAppId: number, roomId: string): Promise<void> {
    await this.locked(sdkAppId, roomId, async () => {
      await this.store.live.delete(sdkAppId, roomId);
      this.rooms.delete(`${sdkAppId}\n${roomId}`);
      this.publish({ sdkAppId, roomId, type: 'destroyed', data: {} });
    });
  }

  /** A member enters as audience (a client): refused while banned; counts one view. No event is published. */
  async enter(sdkAppId: number, roomId: string, user: string): Promise<LiveRoom> {
    return this.locked(sdkAppId, roomId, async (room) => {
      if ((room.state.banned[user]?.until ?? 0) > nowS()) throw new DomainError('PERMISSION_DENIED', `${user} is banned from this room`, 'BANNED');
      const next = { ...room, viewCount: room.viewCount + 1 };
      await this.store.live.update(toRow(next));
      this.rooms.set(`${sdkAppId}\n${roomId}`, next);
      return next;
    });
  }

  /** Publicly visible rooms by ViewCount, descending; `next` is the cursor of the previous page. */
  list(sdkAppId: number, next: string, count: number): { rooms: LiveRoom[]; next: string } {
    const cursor = /^\d+-(\d{1,9})$/.exec(next);
    if (next !== '' && !cursor) throw new DomainError('INVALID_ARGUMENT', 'Next is not a cursor returned by get_room_list');
    const offset = cursor ? Number(cursor[1]) : 0;
    const all = [...this.rooms.values()]
      .filter((r) => r.sdkAppId === sdkAppId && r.info.IsPublicVisible)
      // Stable sort over the map's insertion (creation) order breaks ties.
      .sort((a, b) => b.viewCount - a.viewCount);
    const page = all.slice(offset, offset + count);
    return { rooms: page, next: offset + count < all.length ? `${nowS()}-${offset + count}` : '' };
  }

  /** Changes a room's settings (only the fields given). */
  async update(sdkAppId: number, roomId: string, patch: Partial<LiveRoomInfo>): Promise<LiveRoom> {
    return this.change(sdkAppId, roomId, (room) => {
      const info = this.checkInfo({ ...room.info, ...patch });
      return { ...room, info, state: { ...room.state, seats: seats(info.MaxSeatCount, room.state.seats) } };
    }, 'updated', { fields: Object.keys(patch) });
  }

  /** Sets metadata keys (adds new ones, replaces existing ones). */
  async setMetadata(sdkAppId: number, roomId: string, entries: Array<{ key: string; value: string }>): Promise<void> {
    for (const { key, value } of entries) {
      if (key === '' || bytes(key) > MAX_METADATA_KEY_BYTES) throw new DomainError('INVALID_ARGUMENT', `metadata Key must be 1-${MAX_METADATA_KEY_BYTES} bytes`);
      if (bytes(value) > MAX_METADATA_VALUE_BYTES) throw new DomainError('INVALID_ARGUMENT', `metadata Value of ${key} is longer than ${MAX_METADATA_VALUE_BYTES} bytes`);
    }
    await this.change(sdkAppId, roomId, (room) => {
      const metadata = { ...room.state.metadata };
      for (const { key, value } of entries) metadata[key] = value;
      if (Object.keys(metadata).length > MAX_METADATA_KEYS) throw new DomainError('INVALID_ARGUMENT', `a room holds at most ${MAX_METADATA_KEYS} metadata keys`);
      return { ...room, state: { ...room.state, metadata } };
    }, 'metadata', { keys: entries.map((e) => e.key) });
  }

  /** Deletes metadata keys. */
  async delMetadata(sdkAppId: number, roomId: string, keys: string[]): Promise<void> {
    await this.change(sdkAppId, roomId, (room) => {
      const metadata = { ...room.state.metadata };
      for (const k of keys) delete metadata[k];
      return { ...room, state: { ...room.state, metadata } };
    }, 'metadata', { deleted: keys });
  }

  /** Mutes members for `seconds` (0 unmutes). */
  async mute(sdkAppId: number, roomId: string, users: string[], seconds: number): Promise<void> {
    await this.requireAccounts(sdkAppId, users);
    await this.change(sdkAppId, roomId, (room) => {
      const muted = { ...room.state.muted };
      for (const u of users) {
        if (seconds === 0) delete muted[u];
        else muted[u] = nowS() + seconds;
      }
      return { ...room, state: { ...room.state, muted } };
    }, 'mute', { users, seconds });
  }

  /** Bans members from the room for `seconds`; they cannot enter while it lasts. */
  async ban(sdkAppId: number, roomId: string, users: string[], seconds: number, reason: string): Promise<void> {
    if (users.length > MAX_BAN_PER_CALL) throw new DomainError('INVALID_ARGUMENT', `at most ${MAX_BAN_PER_CALL} members per call`);
    if (bytes(reason) > 200) throw new DomainError('INVALID_ARGUMENT', 'Reason is longer than 200 bytes');
    await this.requireAccounts(sdkAppId, users);
    await this.change(sdkAppId, roomId, (room) => {
      const banned = { ...room.state.banned };
      for (const u of users) banned[u] = { until: nowS() + seconds, reason };
      // A banned member also leaves any seat.
      const seatsNow = room.state.seats.map((s) => (users.includes(s.member) ? { ...s, member: '' } : s));
      return { ...room, state: { ...room.state, banned, seats: seatsNow } };
    }, 'ban', { users, seconds, reason });
  }

  /** Lifts bans. */
  async unban(sdkAppId: number, roomId: string, users: string[]): Promise<void> {
    await this.change(sdkAppId, roomId, (room) => {
      const banned = { ...room.state.banned };
      for (const u of users) delete banned[u];
      return { ...room, state: { ...room.state, banned } };
    }, 'unban', { users });
  }

  /** Members muted now, with when it ends. */
  muted(sdkAppId: number, roomId: string): Array<{ user: string; until: number }> {
    const now = nowS();
    return Object.entries(this.get(sdkAppId, roomId).state.muted)
      .filter(([, until]) => until > now)
      .map(([user, until]) => ({ user, until }));
  }

  /** Members banned now, with when it ends. */
  banned(sdkAppId: number, roomId: string): Array<{ user: string; until: number; reason: string }> {
    const now = nowS();
    return Object.entries(this.get(sdkAppId, roomId).state.banned)
      .filter(([, b]) => b.until > now)
      .map(([user, b]) => ({ user, until: b.until, reason: b.reason }));
  }

  /** Whether a user may not enter the room now. */
  isBanned(sdkAppId: number, roomId: string, user: string): boolean {
    return (this.get(sdkAppId, roomId).state.banned[user]?.until ?? 0) > nowS();
  }

  /** Whether a user may not send messages in the room now. */
  isMuted(sdkAppId: number, roomId: string, user: string): boolean {
    return (this.get(sdkAppId, roomId).state.muted[user] ?? 0) > nowS();
  }

  /** Sends a text message to the room on behalf of an imported account. */
  async sendText(sdkAppId: number, roomId: string, sender: string, text: string, extensionInfo?: string): Promise<SentMessage> {
    if (bytes(text) > MAX_MESSAGE_BYTES) throw new DomainError('INVALID_ARGUMENT', `TextContent is longer than ${MAX_MESSAGE_BYTES} bytes`);
    if (extensionInfo !== undefined) {
      try {
        JSON.parse(extensionInfo);
      } catch {
        throw new DomainError('INVALID_ARGUMENT', 'ExtensionInfo must be a JSON string');
      }
    }
    return this.message(sdkAppId, roomId, sender, 'text', { text, extensionInfo: extensionInfo ?? '' });
  }

  /** Sends a custom message to the room on behalf of an imported account. */
  async sendCustom(sdkAppId: number, roomId: string, sender: string, businessId: string, data: string): Promise<SentMessage> {
    if (bytes(data) + bytes(businessId) > MAX_MESSAGE_BYTES) throw new DomainError('INVALID_ARGUMENT', `the message is longer than ${MAX_MESSAGE_BYTES} bytes`);
    return this.message(sdkAppId, roomId, sender, 'custom', { businessId, data });
  }

  /** Adds robots (imported accounts) to the room. */
  async addRobots(sdkAppId: number, roomId: string, robots: string[]): Promise<void> {
    await this.requireAccounts(sdkAppId, robots);
    await this.change(sdkAppId, roomId, (room) => ({ ...room, state: { ...room.state, robots: [...new Set([...room.state.robots, ...robots])] } }), 'robot', { added: robots });
  }

  /** Removes robots from the room. */
  async delRobots(sdkAppId: number, roomId: string, robots: string[]): Promise<void> {
    await this.change(sdkAppId, roomId, (room) => ({ ...room, state: { ...room.state, robots: room.state.robots.filter((r) => !robots.includes(r)) } }), 'robot', { removed: robots });
  }

  /** Puts a member on a seat (an admin action: no approval needed whatever TakeSeatMode says). */
  async pickOnSeat(sdkAppId: number, roomId: string, user: string, index: number): Promise<void> {
    await this.requireAccounts(sdkAppId, [user]);
    await this.change(sdkAppId, roomId, (room) => this.seat(room, user, index), 'seat', { user, index, action: 'pick' });
  }

  /** A member asks for a seat: seated at once under FreeToTake; under ApplyToTake the owner must pick them. */
  async takeSeat(sdkAppId: number, roomId: string, user: string, index: number): Promise<{ seated: boolean }> {
    if (this.get(sdkAppId, roomId).info.TakeSeatMode === 'ApplyToTake') {
      this.publish({ sdkAppId, roomId, type: 'seat', data: { user, index, action: 'apply' } });
      return { seated: false };
    }
    await this.change(sdkAppId, roomId, (room) => this.seat(room, user, index), 'seat', { user, index, action: 'take' });
    return { seated: true };
  }

  /** Takes a member off their seat; `data` is carried in the notification. */
  async kickOffSeat(sdkAppId: number, roomId: string, user: string, data: string): Promise<void> {
    await this.change(sdkAppId, roomId, (room) => {
      if (!room.state.seats.some((s) => s.member === user)) throw new DomainError('FAILED_PRECONDITION', `${user} is not on a seat`);
      return { ...room, state: { ...room.state, seats: room.state.seats.map((s) => (s.member === user ? { ...s, member: '' } : s)) } };
    }, 'seat', { user, action: 'kick', data });
  }

  private seat(room: LiveRoom, user: string, index: number): LiveRoom {
    if (!room.info.IsSeatEnabled) throw new DomainError('FAILED_PRECONDITION', 'seats are disabled in this room');
    if (index < 0 || index >= room.info.MaxSeatCount) throw new DomainError('INVALID_ARGUMENT', `Index must be from 0 to ${room.info.MaxSeatCount - 1}`);
    if ((room.state.banned[user]?.until ?? 0) > nowS()) throw new DomainError('FAILED_PRECONDITION', `${user} is banned from this room`);
    const target = room.state.seats[index]!;
    if (target.locked) throw new DomainError('FAILED_PRECONDITION', `seat ${index} is locked`);
    if (target.member && target.member !== user) throw new DomainError('FAILED_PRECONDITION', `seat ${index} is taken by ${target.member}`);
    if (room.state.seats.some((s) => s.member === user && s.index !== index)) throw new DomainError('FAILED_PRECONDITION', `${user} is already on another seat`);
    return { ...room, state: { ...room.state, seats: room.state.seats.map((s) => (s.index === index ? { ...s, member: user } : s)) } };
  }

  private async message(sdkAppId: number, roomId: string, sender: string, type: 'text' | 'custom', data: Record<string, unknown>): Promise<SentMessage> {
    await this.requireAccounts(sdkAppId, [sender]);
    const time = nowS();
    const room = await this.change(
      sdkAppId,
      roomId,
      (r) => ({ ...r, state: { ...r.state, messages: r.state.messages + 1 } }),
      type,
      (r) => ({ sender, ...data, seq: r.state.messages, time }),
    );
    return { time, seq: room.state.messages };
  }

  /** Totals of a room for get_room_statistic. */
  async statistic(sdkAppId: number, roomId: string): Promise<{ room: LiveRoom; gifts: GiftTotals }> {
    const room = this.get(sdkAppId, roomId);
    return { room, gifts: await this.store.gifts.totals(sdkAppId, roomId) };
  }

  private checkInfo(info: LiveRoomInfo): LiveRoomInfo {
    if (info.RoomType !== 'Live') throw new DomainError('INVALID_ARGUMENT', 'RoomType must be Live');
    if (bytes(info.RoomName) > 100) throw new DomainError('INVALID_ARGUMENT', 'RoomName is longer than 100 bytes');
    if (bytes(info.Notice) > 100) throw new DomainError('INVALID_ARGUMENT', 'Notice is longer than 100 bytes');
    if (bytes(info.CoverURL) > 200) throw new DomainError('INVALID_ARGUMENT', 'CoverURL is longer than 200 bytes');
    if (info.Category.length > 3) throw new DomainError('INVALID_ARGUMENT', 'Category holds at most 3 tags');
    if (info.MaxSeatCount < 1 || info.MaxSeatCount > MAX_SEAT_COUNT) throw new DomainError('INVALID_ARGUMENT', `MaxSeatCount must be from 1 to ${MAX_SEAT_COUNT}`);
    return info;
  }

  private async requireAccounts(sdkAppId: number, users: string[]): Promise<void> {
    const have = await this.accounts.existing(sdkAppId, users);
    const missing = users.filter((u) => !have.has(u));
    if (missing.length) throw new DomainError('INVALID_ARGUMENT', `accounts not imported: ${missing.join(', ')}`, 'UNKNOWN_ACCOUNT');
  }

  /** Applies a change to a room, persists it, then updates memory and publishes the event (with the new room). */
  private change(
    sdkAppId: number,
    roomId: string,
    fn: (room: LiveRoom) => LiveRoom,
    type: LiveEvent['type'],
    data: Record<string, unknown> | ((room: LiveRoom) => Record<string, unknown>),
  ): Promise<LiveRoom> {
    return this.locked(sdkAppId, roomId, async (room) => {
      const next = fn(room);
      await this.store.live.update(toRow(next));
      this.rooms.set(`${sdkAppId}\n${roomId}`, next);
      this.publish({ sdkAppId, roomId, type, data: typeof data === 'function' ? data(next) : data, room: next });
      return next;
    });
  }

  /**
   * Runs one change of a room at a time: in this process's queue, and under the room's cluster lock with the room
   * read again from the store when other nodes share it.
   */
  private locked<T>(sdkAppId: number, roomId: string, fn: (room: LiveRoom) => Promise<T>): Promise<T> {
    return this.serial.run(() =>
      this.coordination.withLock(`live:${sdkAppId}:${roomId}`, async () => {
        if (!this.coordination.shared) return fn(this.get(sdkAppId, roomId));
        this.get(sdkAppId, roomId);
        const row = await this.store.live.get(sdkAppId, roomId);
        if (!row) {
          this.rooms.delete(`${sdkAppId}\n${roomId}`);
          throw new DomainError('NOT_FOUND', `room ${roomId} does not exist`);
        }
        return fn(fromRow(row));
      }),
    );
  }
}
