import type { Bus } from '../../bus/bus.ts';
import type { Coordination } from '../../bus/coordination.ts';
import type { LiveRoomRow } from '../../store/live-repo.ts';
import type { Repos, Store } from '../../store/store.ts';
import type { CallbackEvent } from '../../webhooks/call-callbacks.ts';
import { callbackRows } from '../../webhooks/outbox.ts';
import { afterSeatInfoChanged } from '../../webhooks/live-after-callbacks.ts';
import type { AppsService } from '../apps/apps-service.ts';
import { DomainError } from '../errors.ts';
import { SerialPerApp } from '../serial.ts';
import { LIVE_TOPIC, type LiveEvent, type LiveRoom, type LiveRoomInfo, type LiveRoomState } from './room.ts';
import { seatsChanged } from './seats.ts';
import { liveRoomKey, type LiveRoomKey } from '../tenant-keys.ts';

const bytes = (s: string) => Buffer.byteLength(s);

/** Longest RoomId, in bytes. */
const MAX_ROOM_ID_BYTES = 48;
/** Seats of a room when create_room sets none (unconfirmed). */
const DEFAULT_MAX_SEAT_COUNT = 8;

/** Who made a change and from where: the callback's Operator_Account, ClientIP and OptPlatform. */
export interface LiveOrigin {
  operator: string;
  clientIp: string;
  platform: string;
}

/** A change made on the server's own account (no operator), e.g. by a test or at start-up. */
export const SERVER_ORIGIN: LiveOrigin = { operator: '', clientIp: '', platform: 'RESTAPI' };

/** What the callbacks of live rooms need: the apps (callback settings) and a nudge for the dispatcher. */
export interface LiveCallbacks {
  apps: Pick<AppsService, 'get'>;
  onQueued: () => void;
}

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
    SeatTemplate: '',
    SeatLayoutTemplateId: 0,
    KeepOwnerOnSeat: true,
  };
}

/** A room as the store keeps it. */
export function toRow(r: LiveRoom): LiveRoomRow {
  return { sdk_app_id: r.sdkAppId, room_id: r.roomId, owner: r.owner, info: JSON.stringify(r.info), state: JSON.stringify(r.state), view_count: r.viewCount, created_at: r.createdAt };
}

/** A stored room. */
export function fromRow(r: LiveRoomRow): LiveRoom {
  return {
    sdkAppId: Number(r.sdk_app_id),
    roomId: r.room_id,
    owner: r.owner,
    info: { ...defaultInfo(), ...(JSON.parse(r.info) as Partial<LiveRoomInfo>) },
    // Rooms stored before members and admins were kept have neither.
    state: { members: [], admins: [], ...(JSON.parse(r.state) as Partial<LiveRoomState>) } as LiveRoomState,
    viewCount: Number(r.view_count),
    createdAt: Number(r.created_at),
  };
}

/** Whether a user is online in the room. */
export function isMember(room: LiveRoom, user: string): boolean {
  return room.state.members.some((m) => m.userId === user);
}

/** Whether the seat APIs count `user` as in the room: a member, the owner, or one of the room's robots. */
export function inRoom(room: LiveRoom, user: string): boolean {
  return room.owner === user || isMember(room, user) || room.state.robots.includes(user);
}

/** Why a RoomId is unacceptable, or null. */
export function roomIdProblem(roomId: string): string | null {
  if (roomId.length === 0) return 'RoomId is empty';
  if (bytes(roomId) > MAX_ROOM_ID_BYTES) return `RoomId is longer than ${MAX_ROOM_ID_BYTES} bytes`;
  return null;
}

/** How a change is announced: its bus event, who made it, and the after-callbacks it causes. */
interface ChangeEvent {
  type: LiveEvent['type'];
  data: Record<string, unknown> | ((room: LiveRoom) => Record<string, unknown>);
  origin?: LiveOrigin;
  callbacks?: (next: LiveRoom, prev: LiveRoom, now: number) => CallbackEvent[];
}

/**
 * The live rooms of every app, in memory, and how they change: one change of a room at a time (cluster lock when nodes
 * share the store), written to the store before it is acknowledged together with the after-callbacks it causes (one
 * transaction: a change is never recorded without its callbacks, nor a callback without its change), then published
 * on the bus. Other nodes' changes arrive on the bus with the room as it is now.
 */
export class LiveRoomStore {
  protected readonly rooms = new Map<LiveRoomKey, LiveRoom>();
  protected readonly serial = new SerialPerApp();
  private unsubscribe: (() => void) | undefined;

  constructor(
    protected readonly store: Store,
    private readonly bus: Bus,
    protected readonly coordination: Coordination,
    private readonly callbacks: LiveCallbacks | null,
  ) {}

  /** Follows the rooms other nodes change (each event carries the room as it is now). */
  protected follow(): void {
    this.unsubscribe ??= this.bus.subscribe(LIVE_TOPIC, (p, remote) => {
      if (!remote) return;
      const e = p as LiveEvent;
      if (e.type === 'destroyed') this.rooms.delete(liveRoomKey(e.sdkAppId, e.roomId));
      else if (e.room) this.rooms.set(liveRoomKey(e.sdkAppId, e.roomId), e.room);
    });
  }

  /** Stops following other nodes. */
  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** A room, or NOT_FOUND (100004). */
  get(sdkAppId: number, roomId: string): LiveRoom {
    const problem = roomIdProblem(roomId);
    if (problem) throw new DomainError('INVALID_ARGUMENT', problem);
    const room = this.rooms.get(liveRoomKey(sdkAppId, roomId));
    if (!room) throw new DomainError('NOT_FOUND', `room ${roomId} does not exist`);
    return room;
  }

  /** Publishes a room event on the bus. */
  publish(e: Omit<LiveEvent, 'time'>): void {
    this.bus.publish(LIVE_TOPIC, { ...e, time: Date.now() } satisfies LiveEvent);
  }

  /**
   * Applies a change to a room (a change that returns the room itself is no change: nothing is written or sent),
   * persists it with its callbacks (plus Mic.CallbackAfterSeatInfoChanged whenever the seats changed), then updates
   * memory and publishes the event with the new room.
   */
  protected change(
    sdkAppId: number,
    roomId: string,
    fn: (room: LiveRoom) => LiveRoom,
    ev: ChangeEvent,
  ): Promise<LiveRoom> {
    return this.locked(sdkAppId, roomId, async (room) => {
      const next = fn(room);
      if (next === room) return room;
      const now = Date.now();
      const events = ev.callbacks?.(next, room, now) ?? [];
      if (seatsChanged(room.state.seats, next.state.seats)) events.push(afterSeatInfoChanged(next, now));
      await this.persist(sdkAppId, (r) => r.live.update(toRow(next)), events, ev.origin ?? SERVER_ORIGIN);
      this.rooms.set(liveRoomKey(sdkAppId, roomId), next);
      this.publish({ sdkAppId, roomId, type: ev.type, data: typeof ev.data === 'function' ? ev.data(next) : ev.data, room: next });
      return next;
    });
  }

  /**
   * Writes a change, and in the same transaction the callbacks the app wants (callbackTarget not null); without any
   * callback to queue the write goes straight to the store.
   */
  protected async persist(sdkAppId: number, write: (r: Repos) => Promise<unknown>, events: CallbackEvent[], origin: LiveOrigin): Promise<void> {
    const rows = callbackRows(this.callbacks?.apps.get(sdkAppId)?.settings, sdkAppId, events, origin);
    if (rows.length === 0) {
      await write(this.store);
      return;
    }
    await this.store.transaction(async (tx) => {
      await write(tx);
      await tx.outbox.enqueue(rows);
    });
    this.callbacks?.onQueued();
  }

  /**
   * Runs one change of a room at a time: in this process's queue, and under the room's cluster lock with the room
   * read again from the store when other nodes share it.
   */
  protected locked<T>(sdkAppId: number, roomId: string, fn: (room: LiveRoom) => Promise<T>): Promise<T> {
    return this.serial.run(sdkAppId, () =>
      this.coordination.withLock(`live:${sdkAppId}:${roomId}`, async () => {
        if (!this.coordination.shared) return fn(this.get(sdkAppId, roomId));
        this.get(sdkAppId, roomId);
        const row = await this.store.live.get(sdkAppId, roomId);
        if (!row) {
          this.rooms.delete(liveRoomKey(sdkAppId, roomId));
          throw new DomainError('NOT_FOUND', `room ${roomId} does not exist`);
        }
        return fn(fromRow(row));
      }),
    );
  }
}
