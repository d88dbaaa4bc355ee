import type { Bus } from '../../bus/bus.ts';
import { SINGLE_NODE, type Coordination } from '../../bus/coordination.ts';
import type { GiftTotals } from '../../store/gifts-repo.ts';
import type { Store } from '../../store/store.ts';
import {
  afterChangeOwner,
  afterCreateRoom,
  afterDelMetadata,
  afterDestroyRoom,
  afterMemberStateChanged,
  afterModifyAdmin,
  afterSetMetadata,
  afterUpdateRoomInfo,
  type MemberCause,
} from '../../webhooks/live-after-callbacks.ts';
import type { AccountsService } from '../accounts/accounts-service.ts';
import { DomainError } from '../errors.ts';
import type { LiveMember, LiveRoom, LiveRoomInfo } from './room.ts';
import { defaultInfo, fromRow, inRoom, isMember, LiveRoomStore, roomIdProblem, SERVER_ORIGIN, toRow, type LiveCallbacks, type LiveOrigin } from './room-store.ts';
import { isSeatTemplate, SEAT_TEMPLATES, templateOfLayoutId, templateSeats } from './seat-templates.ts';
import { kickFromSeat, lockSeat, moveToSeat, pickOnSeat, placeOnSeat, seatList, switchSeat, unseat } from './seats.ts';
import { liveRoomKey, type LiveRoomKey } from '../tenant-keys.ts';

export type { LiveCallbacks, LiveOrigin } from './room-store.ts';

/** DomainError details of create_room refusals with codes of their own (https://trtc.io/document/63401). */
export const LiveRoomErrors = {
  /** The room exists with the same Owner_Account: "You can use it directly" (100010). */
  SAME_OWNER: 'ROOM_EXISTS_SAME_OWNER',
  /** The RoomId is a Chat group's GroupId (100011). */
  CHAT_GROUP: 'ROOM_ID_CHAT_GROUP',
  /** The same RoomId created again within a second (100012). */
  TOO_FREQUENT: 'ROOM_CREATE_TOO_FREQUENT',
} as const;

function roomExists(roomId: string, sameOwner: boolean): DomainError {
  return sameOwner
    ? new DomainError('ALREADY_EXISTS', `room ${roomId} already exists with the same Owner_Account; it can be used as it is`, LiveRoomErrors.SAME_OWNER)
    : new DomainError('ALREADY_EXISTS', `room ${roomId} already exists`);
}

/**
 * Resolves the seat template of a new room: SeatLayoutTemplateId names one when SeatTemplate is absent; a video
 * template fixes MaxSeatCount (a MaxSeatCount sent with it is ignored, as the page says it applies to audio rooms only).
 */
function withTemplate(info: LiveRoomInfo): LiveRoomInfo {
  let template = info.SeatTemplate;
  if (template !== '' && !isSeatTemplate(template)) {
    throw new DomainError('INVALID_ARGUMENT', `SeatTemplate must be one of ${Object.keys(SEAT_TEMPLATES).join(', ')}`);
  }
  if (info.SeatLayoutTemplateId) {
    const named = templateOfLayoutId(info.SeatLayoutTemplateId);
    if (template === '' && named) template = named;
    else if (template !== '' && named && named !== template) throw new DomainError('INVALID_ARGUMENT', `SeatLayoutTemplateId ${info.SeatLayoutTemplateId} is ${named}, not ${template}`);
  }
  const seats = templateSeats(template);
  return { ...info, SeatTemplate: template, MaxSeatCount: seats ?? info.MaxSeatCount };
}

/** Most seats a room may have (unconfirmed; the real limit depends on the package). */
const MAX_SEAT_COUNT = 16;
/** Most members ban_member takes per call. */
const MAX_BAN_PER_CALL = 20;
/** Most metadata keys per room (unconfirmed). */
const MAX_METADATA_KEYS = 10;
/** Longest metadata key and value, in bytes. */
const MAX_METADATA_KEY_BYTES = 50;
const MAX_METADATA_VALUE_BYTES = 2048;
/** Most bytes all of a room's metadata values may hold together (https://www.tencentcloud.com/document/product/647/64375). */
const MAX_METADATA_TOTAL_VALUE_BYTES = 16 * 1024;
/** Most robots a room may hold ("Each room can accommodate a maximum of three robots", https://trtc.io/document/69079). */
const MAX_ROBOTS = 3;
/** Longest text or custom message, in bytes (Chat's message limit). */
export const MAX_MESSAGE_BYTES = 12 * 1024;
/** Most rooms get_room_list returns per page. */
export const MAX_ROOM_LIST_COUNT = 20;
/** Most admins a room may have, and most Admin_Account entries of one modify_admin (100020 beyond). */
const MAX_ROOM_ADMINS = 5;
/** Members get_member_list returns per page (unconfirmed: the page gives no page size). */
export const MEMBER_PAGE_SIZE = 100;
/** Most members get_member_list returns over all pages ("only 1000 are returned above 1000 members"). */
export const MAX_MEMBER_LIST = 1000;

/** Time (unix s) and in-room sequence number of a message sent. */
interface SentMessage {
  time: number;
  seq: number;
}

const bytes = (s: string) => Buffer.byteLength(s);
const nowS = () => Math.floor(Date.now() / 1000);

/** The fields of `o` that are set. */
function definedOnly(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** The offset in a `<unix s>-<offset>` paging cursor ('' for the first page); 100002 for anything else. */
export function parseCursor(next: string, api: string): number {
  const cursor = /^\d+-(\d{1,9})$/.exec(next);
  if (next !== '' && !cursor) throw new DomainError('INVALID_ARGUMENT', `Next is not a cursor returned by ${api}`);
  return cursor ? Number(cursor[1]) : 0;
}

/**
 * TUILiveKit live rooms: settings, seats, members, admins, robots, mutes, bans, metadata and room messages. Rooms live
 * in memory; every change is written to the store before it is acknowledged, together with the after-callbacks it
 * causes (one transaction: a change is never recorded without its callbacks, nor a callback without its change), then
 * published on the bus.
 */
export class LiveService extends LiveRoomStore {
  constructor(
    store: Store,
    private readonly accounts: AccountsService,
    bus: Bus,
    coordination: Coordination = SINGLE_NODE,
    callbacks: LiveCallbacks | null = null,
  ) {
    super(store, bus, coordination, callbacks);
  }

  /** When each recently created RoomId was created (unix ms), for the once-per-second rule. */
  private readonly lastCreated = new Map<LiveRoomKey, number>();

  /**
   * Follows other nodes' rooms and loads every room from the store. On a single node the members a previous run left
   * in rooms have lost their connections: they go offline (Live.CallbackAfterMemberStateChanged, HeartbeatInterrupt).
   */
  async start(): Promise<void> {
    this.follow();
    for (const row of await this.store.live.all()) {
      const room = fromRow(row);
      this.rooms.set(liveRoomKey(room.sdkAppId, room.roomId), room);
    }
    if (this.coordination.shared) return;
    for (const room of [...this.rooms.values()]) {
      if (room.state.members.length === 0) continue;
      await this.change(room.sdkAppId, room.roomId, (r) => ({ ...r, state: { ...r.state, members: [] } }), {
        type: 'member',
        data: (r) => ({ online: false, users: r.state.members.map((m) => m.userId) }),
        callbacks: (_, prev, now) => [afterMemberStateChanged(prev, false, 'HeartbeatInterrupt', prev.state.members.map((m) => m.userId), now)],
      });
    }
  }

  /** Creates a room owned by an imported account; a RoomName not given is the RoomId. */
  async create(sdkAppId: number, roomId: string, owner: string, info: Partial<LiveRoomInfo>, origin: LiveOrigin = SERVER_ORIGIN): Promise<LiveRoom> {
    const problem = roomIdProblem(roomId);
    if (problem) throw new DomainError('INVALID_ARGUMENT', problem);
    await this.requireAccounts(sdkAppId, [owner]);
    // RoomName "defaults to Room ID" when create_room leaves it out (https://trtc.io/document/63418).
    const full = this.checkInfo(withTemplate({ ...defaultInfo(), RoomName: roomId, ...info }));
    return this.serial.run(sdkAppId, async () => {
      const existing = this.rooms.get(liveRoomKey(sdkAppId, roomId));
      if (existing) throw roomExists(roomId, existing.owner === owner);
      if (await this.store.chat.group(sdkAppId, roomId)) throw new DomainError('ALREADY_EXISTS', `room ID ${roomId} is taken by a Chat group`, LiveRoomErrors.CHAT_GROUP);
      const now = Date.now();
      this.checkCreateRate(sdkAppId, roomId, now);
      const room: LiveRoom = {
        sdkAppId,
        roomId,
        owner,
        info: full,
        state: { seats: seatList(full.MaxSeatCount), members: [], admins: [], robots: [], muted: {}, banned: {}, metadata: {}, messages: 0 },
        viewCount: 0,
        createdAt: now,
      };
      await this.persist(
        sdkAppId,
        async (r) => {
          if (!(await r.live.insert(toRow(room)))) throw roomExists(roomId, (await r.live.get(sdkAppId, roomId))?.owner === owner);
        },
        [afterCreateRoom(room, origin.operator, now)],
        origin,
      );
      this.rooms.set(liveRoomKey(sdkAppId, roomId), room);
      this.lastCreated.set(liveRoomKey(sdkAppId, roomId), now);
      this.publish({ sdkAppId, roomId, type: 'created', data: { owner }, room });
      return room;
    });
  }

  /** Dissolves a room; its audience is told. */
  async destroy(sdkAppId: number, roomId: string, origin: LiveOrigin = SERVER_ORIGIN): Promise<void> {
    await this.locked(sdkAppId, roomId, async (room) => {
      await this.persist(sdkAppId, (r) => r.live.delete(sdkAppId, roomId), [afterDestroyRoom(room, origin.operator, Date.now())], origin);
      this.rooms.delete(liveRoomKey(sdkAppId, roomId));
      this.publish({ sdkAppId, roomId, type: 'destroyed', data: {} });
    });
  }

  /**
   * One session of a user enters as audience (a client): refused while banned; counts one view. The user's first
   * session puts them online in the room (Live.CallbackAfterMemberStateChanged Online/Enter). Clients are not told.
   */
  async enter(sdkAppId: number, roomId: string, user: string, origin: LiveOrigin = SERVER_ORIGIN): Promise<LiveRoom> {
    return this.change(
      sdkAppId,
      roomId,
      (room) => {
        if ((room.state.banned[user]?.until ?? 0) > nowS()) throw new DomainError('PERMISSION_DENIED', `${user} is banned from this room`, 'BANNED');
        const had = room.state.members.find((m) => m.userId === user);
        const members: LiveMember[] = had
          ? room.state.members.map((m) => (m === had ? { ...m, sessions: m.sessions + 1 } : m))
          : [...room.state.members, { userId: user, sessions: 1, since: Date.now() }];
        return { ...room, viewCount: room.viewCount + 1, state: { ...room.state, members } };
      },
      {
        type: 'member',
        data: { online: true, users: [user] },
        origin,
        callbacks: (next, prev, now) => (isMember(prev, user) ? [] : [afterMemberStateChanged(next, true, 'Enter', [user], now)]),
      },
    );
  }

  /**
   * One session of a user leaves; when it was their last one they go offline (`cause`, Leave by default). A user who is
   * not a member (banned meanwhile, or never entered) changes nothing.
   */
  async leave(sdkAppId: number, roomId: string, user: string, origin: LiveOrigin = SERVER_ORIGIN, cause: MemberCause = 'Leave'): Promise<void> {
    await this.change(
      sdkAppId,
      roomId,
      (room) => {
        const had = room.state.members.find((m) => m.userId === user);
        if (!had) return room;
        const members = had.sessions > 1 ? room.state.members.map((m) => (m === had ? { ...m, sessions: m.sessions - 1 } : m)) : room.state.members.filter((m) => m !== had);
        return { ...room, state: { ...room.state, members } };
      },
      {
        type: 'member',
        data: { online: false, users: [user] },
        origin,
        callbacks: (next, _, now) => (isMember(next, user) ? [] : [afterMemberStateChanged(next, false, cause, [user], now)]),
      },
    );
  }

  /** The members online in a room, in order of entry. */
  members(sdkAppId: number, roomId: string): LiveMember[] {
    return this.get(sdkAppId, roomId).state.members;
  }

  /** Every room of an app, public or not, in order of creation (the developer console). */
  all(sdkAppId: number): LiveRoom[] {
    return [...this.rooms.values()].filter((r) => r.sdkAppId === sdkAppId);
  }

  /** Publicly visible rooms by ViewCount, descending; `next` is the cursor of the previous page. */
  list(sdkAppId: number, next: string, count: number): { rooms: LiveRoom[]; next: string } {
    const offset = parseCursor(next, 'get_room_list');
    const all = [...this.rooms.values()]
      .filter((r) => r.sdkAppId === sdkAppId && r.info.IsPublicVisible)
      // Stable sort over the map's insertion (creation) order breaks ties.
      .sort((a, b) => b.viewCount - a.viewCount);
    const page = all.slice(offset, offset + count);
    return { rooms: page, next: offset + count < all.length ? `${nowS()}-${offset + count}` : '' };
  }

  /** Changes a room's settings (only the fields given). */
  async update(sdkAppId: number, roomId: string, patch: Partial<LiveRoomInfo>, origin: LiveOrigin = SERVER_ORIGIN): Promise<LiveRoom> {
    const fields = Object.keys(patch) as Array<keyof LiveRoomInfo>;
    return this.change(
      sdkAppId,
      roomId,
      (room) => {
        if (patch.MaxSeatCount !== undefined && templateSeats(room.info.SeatTemplate) !== undefined) {
          throw new DomainError('INVALID_ARGUMENT', `MaxSeatCount applies only to AudioSalon and Karaoke rooms; this room's SeatTemplate is ${room.info.SeatTemplate}`);
        }
        const info = this.checkInfo({ ...room.info, ...patch });
        return { ...room, info, state: { ...room.state, seats: seatList(info.MaxSeatCount, room.state.seats) } };
      },
      { type: 'updated', data: { fields }, origin, callbacks: (next, _, now) => [afterUpdateRoomInfo(next, fields, origin.operator, now)] },
    );
  }

  /** Sets metadata keys (adds new ones, replaces existing ones). */
  async setMetadata(sdkAppId: number, roomId: string, entries: Array<{ key: string; value: string }>, origin: LiveOrigin = SERVER_ORIGIN): Promise<void> {
    for (const { key, value } of entries) {
      if (key === '' || bytes(key) > MAX_METADATA_KEY_BYTES) throw new DomainError('INVALID_ARGUMENT', `metadata Key must be 1-${MAX_METADATA_KEY_BYTES} bytes`);
      if (bytes(value) > MAX_METADATA_VALUE_BYTES) throw new DomainError('INVALID_ARGUMENT', `metadata Value of ${key} is longer than ${MAX_METADATA_VALUE_BYTES} bytes`);
    }
    await this.change(
      sdkAppId,
      roomId,
      (room) => {
        const metadata = { ...room.state.metadata };
        for (const { key, value } of entries) metadata[key] = value;
        if (Object.keys(metadata).length > MAX_METADATA_KEYS) throw new DomainError('INVALID_ARGUMENT', `a room holds at most ${MAX_METADATA_KEYS} metadata keys`);
        const total = Object.values(metadata).reduce((n, v) => n + bytes(v), 0);
        if (total > MAX_METADATA_TOTAL_VALUE_BYTES) throw new DomainError('INVALID_ARGUMENT', `a room's metadata values hold at most ${MAX_METADATA_TOTAL_VALUE_BYTES} bytes together (${total} after this call)`);
        return { ...room, state: { ...room.state, metadata } };
      },
      { type: 'metadata', data: { keys: entries.map((e) => e.key) }, origin, callbacks: (next, _, now) => [afterSetMetadata(next, entries, origin.operator, now)] },
    );
  }

  /** Deletes metadata keys. */
  async delMetadata(sdkAppId: number, roomId: string, keys: string[], origin: LiveOrigin = SERVER_ORIGIN): Promise<void> {
    await this.change(
      sdkAppId,
      roomId,
      (room) => {
        const metadata = { ...room.state.metadata };
        for (const k of keys) delete metadata[k];
        return { ...room, state: { ...room.state, metadata } };
      },
      { type: 'metadata', data: { deleted: keys }, origin, callbacks: (next, _, now) => [afterDelMetadata(next, keys, origin.operator, now)] },
    );
  }

  /** Mutes members for `seconds` (0 unmutes). */
  async mute(sdkAppId: number, roomId: string, users: string[], seconds: number): Promise<void> {
    await this.requireAccounts(sdkAppId, users);
    await this.change(
      sdkAppId,
      roomId,
      (room) => {
        const muted = { ...room.state.muted };
        for (const u of users) {
          if (seconds === 0) delete muted[u];
          else muted[u] = nowS() + seconds;
        }
        return { ...room, state: { ...room.state, muted } };
      },
      { type: 'mute', data: { users, seconds } },
    );
  }

  /** Bans members from the room for `seconds`: they leave it and any seat (Offline/Kicked) and cannot enter while it lasts. */
  async ban(sdkAppId: number, roomId: string, users: string[], seconds: number, reason: string, origin: LiveOrigin = SERVER_ORIGIN): Promise<void> {
    if (users.length > MAX_BAN_PER_CALL) throw new DomainError('INVALID_ARGUMENT', `at most ${MAX_BAN_PER_CALL} members per call`);
    if (bytes(reason) > 200) throw new DomainError('INVALID_ARGUMENT', 'Reason is longer than 200 bytes');
    await this.requireAccounts(sdkAppId, users);
    await this.change(
      sdkAppId,
      roomId,
      (room) => {
        const banned = { ...room.state.banned };
        for (const u of users) banned[u] = { until: nowS() + seconds, reason };
        const next = unseat(room, users);
        return { ...next, state: { ...next.state, banned, members: room.state.members.filter((m) => !users.includes(m.userId)) } };
      },
      {
        type: 'ban',
        data: { users, seconds, reason },
        origin,
        callbacks: (next, prev, now) => {
          const kicked = prev.state.members.filter((m) => users.includes(m.userId)).map((m) => m.userId);
          return kicked.length ? [afterMemberStateChanged(next, false, 'Kicked', kicked, now)] : [];
        },
      },
    );
  }

  /** Lifts bans. */
  async unban(sdkAppId: number, roomId: string, users: string[]): Promise<void> {
    await this.change(
      sdkAppId,
      roomId,
      (room) => {
        const banned = { ...room.state.banned };
        for (const u of users) delete banned[u];
        return { ...room, state: { ...room.state, banned } };
      },
      { type: 'unban', data: { users } },
    );
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

  /** Adds robots (imported accounts) to the room: at most MAX_ROBOTS in all (100002 beyond, nothing added). */
  async addRobots(sdkAppId: number, roomId: string, robots: string[]): Promise<void> {
    await this.requireAccounts(sdkAppId, robots);
    await this.change(
      sdkAppId,
      roomId,
      (room) => {
        const all = [...new Set([...room.state.robots, ...robots])];
        if (all.length > MAX_ROBOTS) throw new DomainError('INVALID_ARGUMENT', `a room holds at most ${MAX_ROBOTS} robots (RobotList_Account would make ${all.length})`);
        return { ...room, state: { ...room.state, robots: all } };
      },
      { type: 'robot', data: { added: robots } },
    );
  }

  /** Removes robots from the room. */
  async delRobots(sdkAppId: number, roomId: string, robots: string[]): Promise<void> {
    await this.change(sdkAppId, roomId, (room) => ({ ...room, state: { ...room.state, robots: room.state.robots.filter((r) => !robots.includes(r)) } }), { type: 'robot', data: { removed: robots } });
  }

  /** Puts a room member (the owner and robots count) on a seat: an admin action, no approval whatever TakeSeatMode says. */
  async pickOnSeat(sdkAppId: number, roomId: string, user: string, index: number, origin: LiveOrigin = SERVER_ORIGIN): Promise<void> {
    await this.requireAccounts(sdkAppId, [user]);
    await this.change(sdkAppId, roomId, (room) => pickOnSeat(room, user, index, inRoom(room, user)), { type: 'seat', data: { user, index, action: 'pick' }, origin });
  }

  /** A member asks for a seat: seated at once under FreeToTake; under ApplyToTake the owner must pick them. */
  async takeSeat(sdkAppId: number, roomId: string, user: string, index: number, origin: LiveOrigin = SERVER_ORIGIN): Promise<{ seated: boolean }> {
    if (this.get(sdkAppId, roomId).info.TakeSeatMode === 'ApplyToTake') {
      this.publish({ sdkAppId, roomId, type: 'seat', data: { user, index, action: 'apply' } });
      return { seated: false };
    }
    await this.change(sdkAppId, roomId, (room) => placeOnSeat(room, user, index), { type: 'seat', data: { user, index, action: 'take' }, origin });
    return { seated: true };
  }

  /** Takes a member off their seat; `data` is carried in the notification. */
  async kickOffSeat(sdkAppId: number, roomId: string, user: string, data: string, origin: LiveOrigin = SERVER_ORIGIN): Promise<void> {
    await this.change(sdkAppId, roomId, (room) => kickFromSeat(room, user), { type: 'seat', data: { user, action: 'kick', data }, origin });
  }

  /** Locks or unlocks a seat and forbids or allows its user's video and audio (lock_seat). */
  async lockSeat(sdkAppId: number, roomId: string, index: number, lock: { taken?: boolean; video?: boolean; audio?: boolean }, origin: LiveOrigin = SERVER_ORIGIN): Promise<void> {
    await this.change(sdkAppId, roomId, (room) => lockSeat(room, index, lock), { type: 'seat', data: { index, action: 'lock', ...definedOnly(lock) }, origin });
  }

  /** Moves a seated member to an empty seat (switch_seat). */
  async switchSeat(sdkAppId: number, roomId: string, user: string, toIndex: number, origin: LiveOrigin = SERVER_ORIGIN): Promise<void> {
    await this.change(sdkAppId, roomId, (room) => switchSeat(room, user, toIndex), { type: 'seat', data: { user, index: toIndex, action: 'switch' }, origin });
  }

  /** Moves a seated member to a seat, by `policy` when it is taken (move_user_to_seat; see MovePolicy). */
  async moveToSeat(sdkAppId: number, roomId: string, user: string, index: number, policy: number, origin: LiveOrigin = SERVER_ORIGIN): Promise<void> {
    await this.change(
      sdkAppId,
      roomId,
      (room) => moveToSeat(room, user, index, policy, inRoom(room, user)),
      { type: 'seat', data: { user, index, policy, action: 'move' }, origin },
    );
  }

  /** Hands the room to another imported account (change_room_owner); the new owner stops being an admin. */
  async changeOwner(sdkAppId: number, roomId: string, owner: string, origin: LiveOrigin = SERVER_ORIGIN): Promise<void> {
    this.get(sdkAppId, roomId);
    await this.requireAccounts(sdkAppId, [owner]);
    await this.change(
      sdkAppId,
      roomId,
      (room) => (room.owner === owner ? room : { ...room, owner, state: { ...room.state, admins: room.state.admins.filter((a) => a !== owner) } }),
      {
        type: 'owner',
        data: (next) => ({ owner: next.owner }),
        origin,
        callbacks: (next, prev, now) => [afterChangeOwner(next, prev.owner, origin.operator, now)],
      },
    );
  }

  /** Adds or removes room admins (modify_admin): at most MAX_ROOM_ADMINS per call and per room. */
  async modifyAdmins(sdkAppId: number, roomId: string, users: string[], op: 'add' | 'delete', origin: LiveOrigin = SERVER_ORIGIN): Promise<void> {
    if (users.length > MAX_ROOM_ADMINS) throw new DomainError('INVALID_ARGUMENT', `Admin_Account holds at most ${MAX_ROOM_ADMINS} accounts`);
    this.get(sdkAppId, roomId);
    if (op === 'add') await this.requireAccounts(sdkAppId, users);
    await this.change(
      sdkAppId,
      roomId,
      (room) => {
        const admins = op === 'add' ? [...new Set([...room.state.admins, ...users])] : room.state.admins.filter((a) => !users.includes(a));
        if (admins.length > MAX_ROOM_ADMINS) throw new DomainError('LIMIT_EXCEEDED', `a room has at most ${MAX_ROOM_ADMINS} admins`, 'ADMIN_LIMIT');
        return { ...room, state: { ...room.state, admins } };
      },
      { type: 'admin', data: { op, users }, origin, callbacks: (next, _, now) => [afterModifyAdmin(next, users, op, origin.operator, now)] },
    );
  }

  private async message(sdkAppId: number, roomId: string, sender: string, type: 'text' | 'custom', data: Record<string, unknown>): Promise<SentMessage> {
    await this.requireAccounts(sdkAppId, [sender]);
    const time = nowS();
    const room = await this.change(sdkAppId, roomId, (r) => ({ ...r, state: { ...r.state, messages: r.state.messages + 1 } }), {
      type,
      data: (r) => ({ sender, ...data, seq: r.state.messages, time }),
    });
    return { time, seq: room.state.messages };
  }

  /** Totals of a room for get_room_stats. */
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

  /** 100012: "The same Room ID can only be created once per second" (create_room, https://trtc.io/document/63401); a create that failed does not count. */
  private checkCreateRate(sdkAppId: number, roomId: string, now: number): void {
    const key = liveRoomKey(sdkAppId, roomId);
    const last = this.lastCreated.get(key);
    if (last !== undefined && now - last < 1000) throw new DomainError('LIMIT_EXCEEDED', `room ${roomId} was created less than a second ago`, LiveRoomErrors.TOO_FREQUENT);
    if (this.lastCreated.size >= 10_000) for (const [k, t] of this.lastCreated) if (now - t >= 1000) this.lastCreated.delete(k);
  }

  private async requireAccounts(sdkAppId: number, users: string[]): Promise<void> {
    const have = await this.accounts.existing(sdkAppId, users);
    const missing = users.filter((u) => !have.has(u));
    if (missing.length) throw new DomainError('INVALID_ARGUMENT', `accounts not imported: ${missing.join(', ')}`, 'UNKNOWN_ACCOUNT');
  }


}
