import { Privilege, verifyPrivateMapKey } from '../auth/private-map-key.ts';
import type { Bus } from '../bus/bus.ts';
import type { Logger } from '../logger.ts';
import type { App, AppsService } from '../services/apps/apps-service.ts';
import { DomainError } from '../services/errors.ts';
import { MAX_NUMERIC_ROOM_ID, TRTC_ROOM_TOPIC, type RoomRef, type TrtcRoomEvent, type TrtcRoomsService } from '../services/trtc-rooms/trtc-rooms-service.ts';
import { listen, type RtcFeature, type SessionEnd } from './feature.ts';
import { event, MAX_MESSAGE_DATA_BYTES, MAX_RECIPIENTS, MAX_ROOMS_PER_CONNECTION, parseRoom, ROLES, RtcErrors, type Role, type RtcRequest } from './protocol.ts';
import type { RtcSession } from './session.ts';
import { roomKey, trtcRoomKey, type TrtcRoomKey } from '../services/tenant-keys.ts';
import { GatewayError } from '../gateways/gateway-error.ts';

/** What the TRTC room part of /rtc needs. */
interface TrtcRoomFeatureDeps {
  apps: Pick<AppsService, 'get' | 'admit'>;
  trtcRooms: Pick<TrtcRoomsService, 'enter' | 'leave' | 'members' | 'exists'>;
  bus: Bus;
  log: Logger;
  /** Keeps a background promise for shutdown to wait on. */
  track(p: Promise<unknown>): void;
  /** The streams published in a room, for the room.enter reply. */
  streams?(sdkAppId: number, room: RoomRef): unknown[];
}

/** Bus topic of custom room messages, for members connected to other nodes. */
export const ROOM_MESSAGE_TOPIC = 'rtc.room.message';

/** A custom message as it travels between nodes and between the client protocols. */
export interface RoomMessage {
  sdkAppId: number;
  room: RoomRef;
  from: string;
  /** The message as text ('' when an SDK user's bytes are not UTF-8: then `b64` has them). */
  data: string;
  to?: string[];
  /** trtc-sdk-v5 messages: the SDK's cmdId (1-10), its bytes in base64 and its order number. */
  cmdId?: number;
  b64?: string;
  streamSeq?: number;
  /** The protocol that sent it, when not /rtc. */
  via?: 'trtc-sdk';
}

/** A room a session is in, with how it entered (kept to describe the session on resumption). */
export interface Entered {
  room: RoomRef;
  role: Role;
  /** PrivateMapKey privilege bits (Privilege.All when the room was entered without a key). */
  privileges: number;
}

/** The wire form of a room in replies and events. */
export function roomOf(ref: RoomRef): RoomRef {
  return 'roomId' in ref ? { roomId: ref.roomId } : { strRoomId: ref.strRoomId };
}

/** Whether the app may use TRTC now. */
export function trtcSuspended(apps: Pick<AppsService, 'admit'>, app: App): boolean {
  const r = apps.admit(app, undefined);
  return r === 'DISABLED' || r === 'EXPIRED';
}

/**
 * TRTC rooms over /rtc: room.enter/leave/message through TrtcRoomsService (PrivateMapKey checks, presence, history),
 * and the service's bus events turned into presence and removal events for the sessions on this node.
 */
export class TrtcRoomFeature implements RtcFeature {
  /** Sessions in each room on this node: `${sdkAppId}\n${roomKey}` → userId → session. */
  private readonly index = new Map<TrtcRoomKey, Map<string, RtcSession>>();
  /** Rooms each session is in, by roomKey. */
  private readonly rooms = new Map<RtcSession, Map<string, Entered>>();
  private unsubscribe: Array<() => void> = [];

  readonly handlers = {
    'room.enter': (s: RtcSession, m: RtcRequest) => this.enter(s, m),
    'room.leave': (s: RtcSession, m: RtcRequest) => this.leave(s, m),
    'room.message': (s: RtcSession, m: RtcRequest) => this.message(s, m),
  };

  constructor(private readonly d: TrtcRoomFeatureDeps) {}

  /** Follows room events and the custom messages sent on other nodes (or by other protocols). */
  start(): void {
    if (this.unsubscribe.length > 0) return;
    const d = this.d;
    this.unsubscribe = [
      listen(d.bus, TRTC_ROOM_TOPIC, d.log, 'rtc room event', (p) => this.onRoomEvent(p as TrtcRoomEvent)),
      // Custom messages sent on other nodes, for the members connected here.
      d.bus.subscribe(ROOM_MESSAGE_TOPIC, (p, remote) => {
        // /rtc messages sent on this node were delivered here already; those of another protocol were not.
        if (!remote && (p as RoomMessage).via === undefined) return;
        const m = p as RoomMessage;
        this.fanOut(m, undefined);
      }),
    ];
  }

  /** The rooms of a session, for the auth reply. */
  describe(s: RtcSession): Record<string, unknown> {
    return { rooms: [...(this.rooms.get(s)?.values() ?? [])].map((e) => ({ room: roomOf(e.room), role: e.role })) };
  }

  /** A session that ended leaves every room it was in. */
  ended(s: RtcSession, how: SessionEnd): void {
    for (const e of [...(this.rooms.get(s)?.values() ?? [])]) {
      if (this.detach(s, e.room)) this.d.track(this.d.trtcRooms.leave(s.sdkAppId, e.room, s.userId, how === 'logout' ? 'leave' : 'disconnected'));
    }
    this.rooms.delete(s);
  }

  close(): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
  }

  private async enter(s: RtcSession, m: RtcRequest): Promise<Record<string, unknown>> {
    const ref = parseRoom(m, MAX_NUMERIC_ROOM_ID);
    const role = (m.role ?? 'anchor') as Role;
    if (!ROLES.includes(role)) throw new GatewayError(RtcErrors.INVALID_ARGUMENT, `role must be one of ${ROLES.join(', ')}`);
    const pmk = m.privateMapKey;
    if (pmk !== undefined && typeof pmk !== 'string') throw new GatewayError(RtcErrors.INVALID_ARGUMENT, 'privateMapKey must be a string');
    const app = this.d.apps.get(s.sdkAppId);
    if (!app || trtcSuspended(this.d.apps, app) || !app.settings.features.trtc) throw new GatewayError(RtcErrors.SERVICE_SUSPENDED);
    const rk = roomKey(ref);
    const k = trtcRoomKey(s.sdkAppId, ref);
    let mine = this.rooms.get(s);
    if (mine?.has(rk)) return this.entered(s.sdkAppId, ref);
    if ((mine?.size ?? 0) >= MAX_ROOMS_PER_CONNECTION) throw new GatewayError(RtcErrors.TOO_MANY_ROOMS);
    // TRTCParams.privateMapKey defaults to "": an empty key is no key, and then every privilege is granted.
    let privileges: number = Privilege.All;
    if (app.settings.trtc.requirePrivateMapKey || (pmk !== undefined && pmk !== '')) {
      if (!pmk) throw new GatewayError(RtcErrors.INVALID_PRIVATE_MAPKEY, 'this app requires a privateMapKey to enter a room');
      // Entering an empty room creates it: that needs the create bit as well.
      const privilege = this.d.trtcRooms.exists(s.sdkAppId, ref) ? Privilege.EnterRoom : Privilege.EnterRoom | Privilege.CreateRoom;
      const r = verifyPrivateMapKey(pmk, { sdkAppId: s.sdkAppId, secretKey: app.secretKey, userId: s.userId, ...ref, privilege });
      if (!r.ok) throw new GatewayError(RtcErrors.INVALID_PRIVATE_MAPKEY, `privateMapKey check failed: ${r.message}`);
      privileges = r.buffer.privilegeMap;
    }
    try {
      await this.d.trtcRooms.enter(s.sdkAppId, ref, s.userId, { role, clientIp: s.ip });
    } catch (e) {
      if (e instanceof DomainError && e.code === 'INVALID_ARGUMENT') throw new GatewayError(RtcErrors.INVALID_ARGUMENT, e.message);
      throw e;
    }
    if (s.ended) {
      this.d.track(this.d.trtcRooms.leave(s.sdkAppId, ref, s.userId, 'disconnected'));
      return {};
    }
    const members = this.d.trtcRooms.members(s.sdkAppId, ref);
    if (!members.some((x) => x.userId === s.userId)) throw new GatewayError(RtcErrors.REMOVED_WHILE_ENTERING);
    let room = this.index.get(k);
    if (!room) this.index.set(k, (room = new Map()));
    const prev = room.get(s.userId);
    if (prev && prev !== s) {
      // The same user entering from another session takes the seat over; the user never left the room.
      this.rooms.get(prev)?.delete(rk);
      prev.deliver(event('room.removed', { room: roomOf(ref), reason: 'entered from another connection' }));
    }
    room.set(s.userId, s);
    if (!mine) this.rooms.set(s, (mine = new Map()));
    mine.set(rk, { room: roomOf(ref), role, privileges });
    return this.entered(s.sdkAppId, ref, members);
  }

  /** How a session is in a room (role, privileges), or undefined when it is not (or no longer) in it. */
  entry(s: RtcSession, ref: RoomRef): Entered | undefined {
    const rk = roomKey(ref);
    const e = this.rooms.get(s)?.get(rk);
    return e && this.index.get(trtcRoomKey(s.sdkAppId, ref))?.get(s.userId) === s ? e : undefined;
  }

  /** The sessions on this node in a room. */
  sessionsIn(sdkAppId: number, ref: RoomRef): Iterable<RtcSession> {
    return this.index.get(trtcRoomKey(sdkAppId, ref))?.values() ?? [];
  }

  /** The room.enter reply: the room, its members and, with media, its published streams. */
  private entered(sdkAppId: number, ref: RoomRef, members = this.d.trtcRooms.members(sdkAppId, ref)): Record<string, unknown> {
    return { room: roomOf(ref), members, ...(this.d.streams ? { streams: this.d.streams(sdkAppId, ref) } : {}) };
  }

  private async leave(s: RtcSession, m: RtcRequest): Promise<Record<string, unknown>> {
    const ref = parseRoom(m, MAX_NUMERIC_ROOM_ID);
    if (!this.detach(s, ref)) throw new GatewayError(RtcErrors.NOT_IN_ROOM);
    await this.d.trtcRooms.leave(s.sdkAppId, ref, s.userId, 'leave');
    return { room: roomOf(ref) };
  }

  private message(s: RtcSession, m: RtcRequest): Record<string, unknown> {
    const ref = parseRoom(m, MAX_NUMERIC_ROOM_ID);
    const { data, to } = m;
    if (typeof data !== 'string') throw new GatewayError(RtcErrors.INVALID_ARGUMENT, 'data must be a string');
    if (Buffer.byteLength(data) > MAX_MESSAGE_DATA_BYTES) throw new GatewayError(RtcErrors.DATA_TOO_LARGE);
    if (to !== undefined && (!Array.isArray(to) || to.length === 0 || to.length > MAX_RECIPIENTS || !to.every((u) => typeof u === 'string'))) {
      throw new GatewayError(RtcErrors.INVALID_ARGUMENT, `to must be a list of 1-${MAX_RECIPIENTS} UserIDs`);
    }
    const rk = roomKey(ref);
    const room = this.index.get(trtcRoomKey(s.sdkAppId, ref));
    if (!this.rooms.get(s)?.has(rk) || room?.get(s.userId) !== s) throw new GatewayError(RtcErrors.NOT_IN_ROOM);
    const msg: RoomMessage = { sdkAppId: s.sdkAppId, room: roomOf(ref), from: s.userId, data, to: to ? [...new Set(to as string[])] : undefined };
    const delivered = this.fanOut(msg, s);
    this.d.bus.publish(ROOM_MESSAGE_TOPIC, msg);
    return { delivered };
  }

  /** Writes a custom message to its recipients connected to this node (not the sender); returns how many. */
  private fanOut(m: RoomMessage, sender: RtcSession | undefined): number {
    const room = this.index.get(trtcRoomKey(m.sdkAppId, m.room));
    if (!room) return 0;
    const text = event('room.message', { room: m.room, from: m.from, data: m.data, ...(m.cmdId === undefined ? {} : { cmdId: m.cmdId, binary: m.b64 }) });
    let delivered = 0;
    const targets = m.to ? m.to.map((u) => room.get(u)) : [...room.values()];
    for (const t of targets) {
      if (!t || t === sender || (sender === undefined && t.userId === m.from)) continue;
      t.deliver(text);
      delivered++;
    }
    return delivered;
  }

  /** Bus events of TRTC rooms → presence and removal events for the sessions in the room. */
  private onRoomEvent(e: TrtcRoomEvent): void {
    const k = trtcRoomKey(e.sdkAppId, e.room);
    const room = this.index.get(k);
    if (!room) return;
    const ref = roomOf(e.room);
    if (e.type === 'enter') {
      const roles = new Map(this.d.trtcRooms.members(e.sdkAppId, e.room).map((x) => [x.userId, x.role]));
      for (const u of e.users) {
        const text = event('room.userEnter', { room: ref, userId: u, role: roles.get(u) ?? 'anchor' });
        for (const [uid, s] of room) if (uid !== u) s.deliver(text);
      }
      return;
    }
    const gone = e.type === 'dismissed' ? new Set([...e.users, ...room.keys()]) : new Set(e.users);
    const removed = event('room.removed', { room: ref, reason: e.reason });
    for (const u of gone) {
      const s = room.get(u);
      if (!s) continue;
      room.delete(u);
      this.rooms.get(s)?.delete(roomKey(ref));
      s.deliver(removed);
    }
    for (const u of e.users) {
      const text = event('room.userLeave', { room: ref, userId: u, reason: e.reason });
      for (const s of room.values()) s.deliver(text);
    }
    if (room.size === 0) this.index.delete(k);
  }

  /** Takes a session out of a room's index; false if it was not in the room. */
  private detach(s: RtcSession, ref: RoomRef): boolean {
    const rk = roomKey(ref);
    if (!this.rooms.get(s)?.delete(rk)) return false;
    const k = trtcRoomKey(s.sdkAppId, ref);
    const room = this.index.get(k);
    if (room?.get(s.userId) !== s) return false;
    room.delete(s.userId);
    if (room.size === 0) this.index.delete(k);
    return true;
  }
}
