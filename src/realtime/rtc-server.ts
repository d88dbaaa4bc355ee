import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { Privilege, verifyPrivateMapKey } from '../auth/private-map-key.ts';
import type { Bus } from '../bus/bus.ts';
import type { Logger } from '../logger.ts';
import type { App, AppsService } from '../services/apps/apps-service.ts';
import { DomainError } from '../services/errors.ts';
import {
  MAX_NUMERIC_ROOM_ID,
  roomKey,
  TRTC_ROOM_TOPIC,
  type RoomRef,
  type TrtcRoomEvent,
  type TrtcRoomsService,
} from '../services/trtc-rooms/trtc-rooms-service.ts';
import { RtcConnection, RtcFatalError } from './connection.ts';
import {
  CloseCodes,
  event,
  MAX_FRAME_BYTES,
  MAX_MESSAGE_DATA_BYTES,
  MAX_RECIPIENTS,
  MAX_ROOMS_PER_CONNECTION,
  parseRoom,
  ROLES,
  RTC_PATH,
  RtcError,
  RtcErrors,
  SIG_ERRORS,
  type Role,
  type RtcRequest,
} from './protocol.ts';

/** How long shutdown waits for close handshakes before it destroys the sockets, ms. */
const SHUTDOWN_GRACE_MS = 1000;
/** Longest UserID, bytes (TRTC/IM limit). */
const MAX_USER_ID_BYTES = 32;

/** Whether an upgrade request is for the /rtc protocol. */
export function isRtcPath(url: string): boolean {
  return url === RTC_PATH || url.startsWith(`${RTC_PATH}?`);
}

/** What the /rtc server needs from the rest of trtcd. */
export interface RtcServerDeps {
  apps: Pick<AppsService, 'get' | 'verifyUserSig' | 'admit'>;
  trtcRooms: Pick<TrtcRoomsService, 'enter' | 'leave' | 'members' | 'exists'>;
  bus: Bus;
  log: Logger;
}

/** The wire form of a room in replies and events. */
function roomOf(ref: RoomRef): RoomRef {
  return 'roomId' in ref ? { roomId: ref.roomId } : { strRoomId: ref.strRoomId };
}

/**
 * The /rtc client protocol (docs/realtime-protocol.md): authenticates connections, puts them in TRTC rooms through
 * TrtcRoomsService, and turns the service's bus events into presence and removal events for the connections here.
 */
export class RtcServer {
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<RtcConnection>();
  /** Connections in each room on this node: `${sdkAppId}\n${roomKey}` → userId → connection. */
  private readonly index = new Map<string, Map<string, RtcConnection>>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly unsubscribe: () => void;

  constructor(private readonly d: RtcServerDeps) {
    this.wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: MAX_FRAME_BYTES });
    this.unsubscribe = d.bus.subscribe(TRTC_ROOM_TOPIC, (p) => {
      try {
        this.onRoomEvent(p as TrtcRoomEvent);
      } catch (err) {
        d.log.error({ err }, 'rtc room event failed');
      }
    });
  }

  /** Number of open connections. */
  get size(): number {
    return this.conns.size;
  }

  /** Handles an HTTP upgrade for RTC_PATH. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const c = new RtcConnection(ws, req.socket.remoteAddress, {
        handle: (conn, r) => this.handle(conn, r),
        closed: (conn) => this.forget(conn),
        failed: (conn, err) => this.d.log.error({ err, sdkAppId: conn.sdkAppId, userId: conn.userId }, 'rtc request failed'),
      });
      this.conns.add(c);
    });
  }

  /** Closes every connection (1001) and waits for the rooms they leave to be recorded. */
  async close(): Promise<void> {
    this.unsubscribe();
    await Promise.all(
      [...this.conns].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.ws.readyState === c.ws.CLOSED) return resolve();
            const force = setTimeout(() => c.ws.terminate(), SHUTDOWN_GRACE_MS);
            c.ws.once('close', () => (clearTimeout(force), resolve()));
            c.close(CloseCodes.SHUTDOWN, 'server shutting down');
          }),
      ),
    );
    await Promise.allSettled([...this.pending]);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private handle(c: RtcConnection, req: RtcRequest): Promise<Record<string, unknown> | void> {
    if (req.type === 'auth') return this.auth(c, req);
    if (!c.authed) throw new RtcError(RtcErrors.NOT_AUTHENTICATED);
    switch (req.type) {
      case 'room.enter':
        return this.enter(c, req);
      case 'room.leave':
        return this.leave(c, req);
      case 'room.message':
        return Promise.resolve(this.message(c, req));
      default:
        throw new RtcError(RtcErrors.UNKNOWN_TYPE, `unknown message type "${req.type}"`);
    }
  }

  private async auth(c: RtcConnection, m: RtcRequest): Promise<Record<string, unknown>> {
    if (c.authed) throw new RtcError(RtcErrors.ALREADY_AUTHENTICATED);
    const refuse = (e: { code: number; message: string }, message?: string) => new RtcFatalError(e, CloseCodes.AUTH, message);
    const { sdkAppId, userId, userSig } = m;
    if (typeof sdkAppId !== 'number' || !Number.isSafeInteger(sdkAppId) || sdkAppId <= 0) throw refuse(RtcErrors.INVALID_ARGUMENT, 'sdkAppId must be a positive integer');
    if (typeof userId !== 'string' || userId === '' || Buffer.byteLength(userId) > MAX_USER_ID_BYTES) {
      throw refuse(RtcErrors.INVALID_ARGUMENT, `userId must be a string of 1-${MAX_USER_ID_BYTES} bytes`);
    }
    if (userSig !== undefined && typeof userSig !== 'string') throw refuse(RtcErrors.INVALID_ARGUMENT, 'userSig must be a string');
    const app = this.d.apps.get(sdkAppId);
    if (!app) throw refuse(RtcErrors.SDKAPPID_NOT_FOUND, `SDKAppID ${sdkAppId} not found`);
    if (this.suspended(app)) throw refuse(RtcErrors.SERVICE_SUSPENDED, 'the app is disabled or its package expired');
    const v = this.d.apps.verifyUserSig(sdkAppId, userId, userSig ?? '');
    if (!v.ok) throw refuse(SIG_ERRORS[v.reason], v.message);
    c.authenticated(sdkAppId, userId);
    return { sdkAppId, userId, expiresAt: v.expiresAt };
  }

  private async enter(c: RtcConnection, m: RtcRequest): Promise<Record<string, unknown>> {
    const ref = parseRoom(m, MAX_NUMERIC_ROOM_ID);
    const role = (m.role ?? 'anchor') as Role;
    if (!ROLES.includes(role)) throw new RtcError(RtcErrors.INVALID_ARGUMENT, `role must be one of ${ROLES.join(', ')}`);
    const pmk = m.privateMapKey;
    if (pmk !== undefined && typeof pmk !== 'string') throw new RtcError(RtcErrors.INVALID_ARGUMENT, 'privateMapKey must be a string');
    const app = this.d.apps.get(c.sdkAppId);
    if (!app || this.suspended(app) || !app.settings.features.trtc) throw new RtcError(RtcErrors.SERVICE_SUSPENDED);
    const rk = roomKey(ref);
    const k = `${c.sdkAppId}\n${rk}`;
    if (c.rooms.has(rk)) return { room: roomOf(ref), members: this.d.trtcRooms.members(c.sdkAppId, ref) };
    if (c.rooms.size >= MAX_ROOMS_PER_CONNECTION) throw new RtcError(RtcErrors.TOO_MANY_ROOMS);
    // TRTCParams.privateMapKey defaults to "": an empty key is no key.
    if (app.settings.trtc.requirePrivateMapKey || (pmk !== undefined && pmk !== '')) {
      if (!pmk) throw new RtcError(RtcErrors.INVALID_PRIVATE_MAPKEY, 'this app requires a privateMapKey to enter a room');
      // Entering an empty room creates it: that needs the create bit as well.
      const privilege = this.d.trtcRooms.exists(c.sdkAppId, ref) ? Privilege.EnterRoom : Privilege.EnterRoom | Privilege.CreateRoom;
      const r = verifyPrivateMapKey(pmk, { sdkAppId: c.sdkAppId, secretKey: app.secretKey, userId: c.userId, ...ref, privilege });
      if (!r.ok) throw new RtcError(RtcErrors.INVALID_PRIVATE_MAPKEY, `privateMapKey check failed: ${r.message}`);
    }
    try {
      await this.d.trtcRooms.enter(c.sdkAppId, ref, c.userId, { role, clientIp: c.ip });
    } catch (e) {
      if (e instanceof DomainError && e.code === 'INVALID_ARGUMENT') throw new RtcError(RtcErrors.INVALID_ARGUMENT, e.message);
      throw e;
    }
    if (c.closed) {
      this.track(this.d.trtcRooms.leave(c.sdkAppId, ref, c.userId, 'disconnected'));
      return {};
    }
    const members = this.d.trtcRooms.members(c.sdkAppId, ref);
    if (!members.some((x) => x.userId === c.userId)) throw new RtcError(RtcErrors.REMOVED_WHILE_ENTERING);
    let room = this.index.get(k);
    if (!room) this.index.set(k, (room = new Map()));
    const prev = room.get(c.userId);
    if (prev && prev !== c) {
      // The same user entering from another connection takes the seat over; the user never left the room.
      prev.rooms.delete(rk);
      prev.send(event('room.removed', { room: roomOf(ref), reason: 'entered from another connection' }));
    }
    room.set(c.userId, c);
    c.rooms.set(rk, roomOf(ref));
    return { room: roomOf(ref), members };
  }

  private async leave(c: RtcConnection, m: RtcRequest): Promise<Record<string, unknown>> {
    const ref = parseRoom(m, MAX_NUMERIC_ROOM_ID);
    if (!this.detach(c, ref)) throw new RtcError(RtcErrors.NOT_IN_ROOM);
    await this.d.trtcRooms.leave(c.sdkAppId, ref, c.userId, 'leave');
    return { room: roomOf(ref) };
  }

  private message(c: RtcConnection, m: RtcRequest): Record<string, unknown> {
    const ref = parseRoom(m, MAX_NUMERIC_ROOM_ID);
    const { data, to } = m;
    if (typeof data !== 'string') throw new RtcError(RtcErrors.INVALID_ARGUMENT, 'data must be a string');
    if (Buffer.byteLength(data) > MAX_MESSAGE_DATA_BYTES) throw new RtcError(RtcErrors.DATA_TOO_LARGE);
    if (to !== undefined && (!Array.isArray(to) || to.length === 0 || to.length > MAX_RECIPIENTS || !to.every((u) => typeof u === 'string'))) {
      throw new RtcError(RtcErrors.INVALID_ARGUMENT, `to must be a list of 1-${MAX_RECIPIENTS} UserIDs`);
    }
    const rk = roomKey(ref);
    const room = this.index.get(`${c.sdkAppId}\n${rk}`);
    if (!c.rooms.has(rk) || room?.get(c.userId) !== c) throw new RtcError(RtcErrors.NOT_IN_ROOM);
    const text = event('room.message', { room: roomOf(ref), from: c.userId, data });
    let delivered = 0;
    const targets = to ? [...new Set(to as string[])].map((u) => room.get(u)) : [...room.values()];
    for (const t of targets) {
      if (!t || t === c) continue;
      t.send(text);
      delivered++;
    }
    return { delivered };
  }

  /** Bus events of TRTC rooms → presence and removal events for the connections in the room. */
  private onRoomEvent(e: TrtcRoomEvent): void {
    const k = `${e.sdkAppId}\n${roomKey(e.room)}`;
    const room = this.index.get(k);
    if (!room) return;
    const ref = roomOf(e.room);
    if (e.type === 'enter') {
      const roles = new Map(this.d.trtcRooms.members(e.sdkAppId, e.room).map((x) => [x.userId, x.role]));
      for (const u of e.users) {
        const text = event('room.userEnter', { room: ref, userId: u, role: roles.get(u) ?? 'anchor' });
        for (const [uid, c] of room) if (uid !== u) c.send(text);
      }
      return;
    }
    const gone = e.type === 'dismissed' ? new Set([...e.users, ...room.keys()]) : new Set(e.users);
    const removed = event('room.removed', { room: ref, reason: e.reason });
    for (const u of gone) {
      const c = room.get(u);
      if (!c) continue;
      room.delete(u);
      c.rooms.delete(roomKey(ref));
      c.send(removed);
    }
    for (const u of e.users) {
      const text = event('room.userLeave', { room: ref, userId: u, reason: e.reason });
      for (const c of room.values()) c.send(text);
    }
    if (room.size === 0) this.index.delete(k);
  }

  /** Takes a connection out of a room's index; false if it was not in the room. */
  private detach(c: RtcConnection, ref: RoomRef): boolean {
    const rk = roomKey(ref);
    if (!c.rooms.delete(rk)) return false;
    const k = `${c.sdkAppId}\n${rk}`;
    const room = this.index.get(k);
    if (room?.get(c.userId) !== c) return false;
    room.delete(c.userId);
    if (room.size === 0) this.index.delete(k);
    return true;
  }

  /** A closed connection leaves every room it was in (no grace period yet). */
  private forget(c: RtcConnection): void {
    this.conns.delete(c);
    for (const ref of [...c.rooms.values()]) {
      if (this.detach(c, ref)) this.track(this.d.trtcRooms.leave(c.sdkAppId, ref, c.userId, 'disconnected'));
    }
  }

  private suspended(app: App): boolean {
    const r = this.d.apps.admit(app, undefined);
    return r === 'DISABLED' || r === 'EXPIRED';
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((err: unknown) => this.d.log.warn({ err }, 'rtc room leave failed')).finally(() => this.pending.delete(q));
    this.pending.add(q);
  }
}
