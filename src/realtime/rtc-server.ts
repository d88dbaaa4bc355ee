import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Bus } from '../bus/bus.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { AccountsService } from '../services/accounts/accounts-service.ts';
import type { AppsService } from '../services/apps/apps-service.ts';
import type { GiftsService } from '../services/gifts/gifts-service.ts';
import type { TrtcRoomsService } from '../services/trtc-rooms/trtc-rooms-service.ts';
import { AvatarMedia } from './avatar-media.ts';
import { CallFeature } from './call-feature.ts';
import { RtcConnection, RtcFatalError } from './connection.ts';
import type { RtcFeature, RtcHandler, SessionEnd } from './feature.ts';
import { LiveFeature } from './live-feature.ts';
import { MediaFeature } from './media-feature.ts';
import type { MediaNetwork } from './media/peer-config.ts';
import { CloseCodes, event, MAX_FRAME_BYTES, PLATFORMS, RESUME_GRACE_MS, RTC_PATH, RtcErrors, SIG_ERRORS, type RtcRequest } from './protocol.ts';
import type { Presence } from './presence.ts';
import { RtcSession } from './session.ts';
import { TrtcRoomFeature, trtcSuspended } from './trtc-room-feature.ts';
import { userKey, type UserKey } from '../services/tenant-keys.ts';
import { GatewayError } from '../gateways/gateway-error.ts';

/** How long shutdown waits for close handshakes before it destroys the sockets, ms. */
const SHUTDOWN_GRACE_MS = 1000;
/** Longest UserID, bytes (TRTC/IM limit). */
const MAX_USER_ID_BYTES = 32;
/** Longest delay setTimeout takes; longer UserSig lifetimes are waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Whether an upgrade request is for the /rtc protocol. */
export function isRtcPath(url: string): boolean {
  return url === RTC_PATH || url.startsWith(`${RTC_PATH}?`);
}

/** What the /rtc server needs from the rest of trtcd. */
interface RtcServerDeps {
  apps: Pick<AppsService, 'get' | 'verifyUserSig' | 'admit'>;
  accounts: Pick<AccountsService, 'exists' | 'importOne'>;
  trtcRooms: Pick<TrtcRoomsService, 'enter' | 'leave' | 'members' | 'exists' | 'blocked'>;
  calls: ConstructorParameters<typeof CallFeature>[0]['calls'];
  live: ConstructorParameters<typeof LiveFeature>[0]['live'];
  gifts: Pick<GiftsService, 'sendGift' | 'listGifts'>;
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  /** Several nodes: who is logged in on the others. */
  presence?: Presence;
  /** Where the SFU's peer connections listen. */
  media: MediaNetwork;
}

/**
 * The /rtc client protocol (docs/realtime-protocol.md): authenticates connections into sessions (resumable for
 * RESUME_GRACE_MS after a drop, ended when their UserSig expires), and dispatches requests to the features — TRTC
 * rooms, calls, live rooms — which turn service events on the bus into events for the sessions on this node.
 */
export class RtcServer {
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<RtcConnection>();
  private started = false;
  /** Live sessions by resume token. */
  private readonly sessions = new Map<string, RtcSession>();
  /** Live sessions of each user: `${sdkAppId}\n${userId}` → sessions. */
  private readonly byUser = new Map<UserKey, Set<RtcSession>>();
  private readonly graceTimers = new Map<RtcSession, NodeJS.Timeout>();
  private readonly expiryTimers = new Map<RtcSession, NodeJS.Timeout>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly features: RtcFeature[];
  private readonly handlers: Record<string, RtcHandler>;
  /** The live-room feature, exposed for counting audiences. */
  readonly live: LiveFeature;
  /** The WebRTC media feature (its SFU holds the node's publications). */
  readonly media: MediaFeature;
  /** Digital humans' media in their rooms. */
  readonly avatars: AvatarMedia;

  private readonly listeners: Array<{ start(): void }>;

  constructor(private readonly d: RtcServerDeps) {
    this.wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: MAX_FRAME_BYTES });
    const track = (p: Promise<unknown>) => this.track(p);
    const sessions = {
      sessionsOf: (sdkAppId: number, userId: string) => this.byUser.get(userKey(sdkAppId, userId)) ?? [],
      online: async (sdkAppId: number, userId: string) => this.byUser.has(userKey(sdkAppId, userId)) || ((await d.presence?.online(sdkAppId, userId)) ?? false),
    };
    this.live = new LiveFeature({ live: d.live, gifts: d.gifts, bus: d.bus, log: d.log });
    const rooms = new TrtcRoomFeature({ apps: d.apps, trtcRooms: d.trtcRooms, bus: d.bus, log: d.log, track, streams: (a, r) => this.media.streams(a, r) });
    // After the room feature: on a room's leave events the room index is updated before media is dropped.
    this.media = new MediaFeature({ rooms, trtcRooms: d.trtcRooms, bus: d.bus, log: d.log, net: d.media });
    this.avatars = new AvatarMedia({ bus: d.bus, log: d.log, media: this.media, trtcRooms: d.trtcRooms });
    const calls = new CallFeature({ calls: d.calls, bus: d.bus, log: d.log, sessions, track });
    this.features = [rooms, calls, this.live, this.media];
    // The order they listen to the bus in: on a room's leave events the room index is updated before media is dropped.
    this.listeners = [this.live, rooms, this.media, this.avatars, calls];
    this.handlers = Object.assign(
      {
        'auth.renew': (s: RtcSession, m: RtcRequest) => this.renew(s, m),
        logout: (s: RtcSession) => this.logout(s),
      },
      ...this.features.map((f) => f.handlers),
    );
  }

  /** Starts the features listening to the bus, and the presence refresh; safe to repeat. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const l of this.listeners) l.start();
    this.d.presence?.start();
  }

  /** Number of open connections. */
  get size(): number {
    return this.conns.size;
  }

  /** Number of live sessions (attached or waiting to be resumed). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Handles an HTTP upgrade for RTC_PATH. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const c = new RtcConnection(ws, req.socket.remoteAddress, {
        handle: (conn, r) => this.handle(conn, r),
        closed: (conn, clean) => this.disconnected(conn, clean),
        knows: (type) => type === 'auth' || Object.hasOwn(this.handlers, type),
        log: this.d.log,
        metrics: this.d.metrics,
      });
      this.conns.add(c);
    });
  }

  /** Closes every connection (1001), ends every session and waits for the rooms they leave to be recorded; safe to repeat. */
  async stop(): Promise<void> {
    this.started = false;
    this.avatars.close();
    for (const f of this.features) f.close?.();
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
    for (const s of [...this.sessions.values()]) this.end(s, 'disconnected');
    this.d.presence?.close();
    await Promise.allSettled([...this.pending]);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private async handle(c: RtcConnection, req: RtcRequest): Promise<Record<string, unknown> | void> {
    if (req.type === 'auth') return this.auth(c, req);
    const s = c.session;
    if (!s) throw new GatewayError(RtcErrors.NOT_AUTHENTICATED);
    const h = Object.hasOwn(this.handlers, req.type) ? this.handlers[req.type] : undefined;
    if (!h) throw new GatewayError(RtcErrors.UNKNOWN_TYPE, `unknown message type "${req.type}"`);
    return h(s, req);
  }

  private async auth(c: RtcConnection, m: RtcRequest): Promise<Record<string, unknown>> {
    if (c.authed) throw new GatewayError(RtcErrors.ALREADY_AUTHENTICATED);
    const refuse = (e: { code: number; message: string }, message?: string) => new RtcFatalError(e, CloseCodes.AUTH, message);
    const { sdkAppId, userId, userSig, platform = 'Web', resumeToken, lastSeq = 0 } = m;
    if (typeof sdkAppId !== 'number' || !Number.isSafeInteger(sdkAppId) || sdkAppId <= 0) throw refuse(RtcErrors.INVALID_ARGUMENT, 'sdkAppId must be a positive integer');
    if (typeof userId !== 'string' || userId === '' || Buffer.byteLength(userId) > MAX_USER_ID_BYTES) {
      throw refuse(RtcErrors.INVALID_ARGUMENT, `userId must be a string of 1-${MAX_USER_ID_BYTES} bytes`);
    }
    if (userSig !== undefined && typeof userSig !== 'string') throw refuse(RtcErrors.INVALID_ARGUMENT, 'userSig must be a string');
    if (typeof platform !== 'string' || !(PLATFORMS as readonly string[]).includes(platform)) throw refuse(RtcErrors.INVALID_ARGUMENT, `platform must be one of ${PLATFORMS.join(', ')}`);
    if (resumeToken !== undefined && typeof resumeToken !== 'string') throw refuse(RtcErrors.INVALID_ARGUMENT, 'resumeToken must be a string');
    if (typeof lastSeq !== 'number' || !Number.isSafeInteger(lastSeq) || lastSeq < 0) throw refuse(RtcErrors.INVALID_ARGUMENT, 'lastSeq must be a non-negative integer');
    const app = this.d.apps.get(sdkAppId);
    if (!app) throw refuse(RtcErrors.SDKAPPID_NOT_FOUND, `SDKAppID ${sdkAppId} not found`);
    if (trtcSuspended(this.d.apps, app)) throw refuse(RtcErrors.SERVICE_SUSPENDED, 'the app is disabled or its package expired');
    const v = this.d.apps.verifyUserSig(sdkAppId, userId, userSig ?? '');
    if (!v.ok) throw refuse(SIG_ERRORS[v.reason], v.message);
    await this.importAccount(sdkAppId, userId);
    if (c.closed) return {};

    const old = resumeToken === undefined ? undefined : this.sessions.get(resumeToken);
    const sameUser = old !== undefined && old.sdkAppId === sdkAppId && old.userId === userId;
    const missed = sameUser ? old.since(lastSeq) : null;
    let s: RtcSession;
    if (sameUser && missed !== null) {
      s = old;
      clearTimeout(this.graceTimers.get(s));
      this.graceTimers.delete(s);
      const prev = s.conn;
      if (prev && prev !== c) {
        prev.session = null;
        prev.close(CloseCodes.RESUMED_ELSEWHERE, 'the session was resumed by another connection');
      }
      s.conn = null;
      s.expiresAt = v.expiresAt;
      c.authenticated(s);
      // The missed events go first, in order, right after the reply; new events are written only once attached.
      c.afterReply(() => {
        if (s.ended) return;
        // Events may have arrived between the check above and now; the ring still holds them.
        for (const text of s.since(lastSeq) ?? missed) c.send(text);
        if (c.closed) return this.dropped(s);
        s.conn = c;
      });
    } else {
      if (sameUser) this.end(old, 'disconnected', 'the session was replaced by a new login');
      s = new RtcSession(sdkAppId, userId, platform, c.ip, c, v.expiresAt);
      this.sessions.set(s.token, s);
      const key = s.userKey;
      let set = this.byUser.get(key);
      if (!set) this.byUser.set(key, (set = new Set()));
      set.add(s);
      this.d.presence?.add(s);
      c.authenticated(s);
      c.afterReply(() => {
        for (const f of this.features) f.started?.(s);
      });
    }
    this.armExpiry(s);
    this.d.log.info({ sdkAppId, userId, platform, resumed: s === old }, 'rtc login');
    return { sdkAppId, userId, expiresAt: v.expiresAt, resumeToken: s.token, resumed: s === old, rooms: [], liveRooms: [], ...Object.assign({}, ...this.features.map((f) => f.describe?.(s) ?? {})) };
  }

  private renew(s: RtcSession, m: RtcRequest): Record<string, unknown> {
    if (typeof m.userSig !== 'string') throw new GatewayError(RtcErrors.INVALID_ARGUMENT, 'userSig must be a string');
    const v = this.d.apps.verifyUserSig(s.sdkAppId, s.userId, m.userSig);
    if (!v.ok) throw new GatewayError(SIG_ERRORS[v.reason], v.message);
    s.expiresAt = v.expiresAt;
    this.armExpiry(s);
    return { expiresAt: v.expiresAt };
  }

  private async logout(s: RtcSession): Promise<Record<string, unknown>> {
    const c = s.conn;
    this.end(s, 'logout');
    await Promise.allSettled([...this.pending]);
    if (c) {
      c.session = null;
      c.afterReply(() => c.close(CloseCodes.NORMAL, 'logged out'));
    }
    return {};
  }

  /** Logging in makes the UserID a Chat account, as the Chat SDK's login does (a failure leaves the login as it is). */
  private async importAccount(sdkAppId: number, userId: string): Promise<void> {
    try {
      if (!(await this.d.accounts.exists(sdkAppId, userId))) await this.d.accounts.importOne(sdkAppId, { userId });
    } catch (err) {
      this.d.log.warn({ err, sdkAppId, userId }, 'rtc login could not import the account');
    }
  }

  /** Schedules the session's end at its UserSig expiry (in steps, for lifetimes beyond setTimeout's range). */
  private armExpiry(s: RtcSession): void {
    clearTimeout(this.expiryTimers.get(s));
    const wait = Math.max(0, s.expiresAt * 1000 - Date.now());
    const timer = setTimeout(() => {
      if (wait > MAX_TIMER_MS) return this.armExpiry(s);
      s.deliver(event('session.expired', { expiresAt: s.expiresAt }));
      const c = s.conn;
      this.end(s, 'disconnected');
      if (c) {
        c.session = null;
        c.close(CloseCodes.SIG_EXPIRED, 'UserSig expired');
      }
    }, Math.min(wait, MAX_TIMER_MS));
    timer.unref?.();
    this.expiryTimers.set(s, timer);
  }

  /** A socket closed: a clean close ends its session, a drop keeps it for RESUME_GRACE_MS. */
  private disconnected(c: RtcConnection, clean: boolean): void {
    this.conns.delete(c);
    const s = c.session;
    if (!s || s.conn !== c) return;
    s.conn = null;
    if (clean) return this.end(s, 'disconnected');
    this.dropped(s);
  }

  /** The session has no connection: it waits RESUME_GRACE_MS to be resumed, then ends. */
  private dropped(s: RtcSession): void {
    clearTimeout(this.graceTimers.get(s));
    const timer = setTimeout(() => this.end(s, 'disconnected'), RESUME_GRACE_MS);
    timer.unref?.();
    this.graceTimers.set(s, timer);
  }

  /**
   * Ends a session: it leaves everything it is in (features) and can no longer be resumed. A connection still on it
   * is closed with 4409 and `replaced` as the reason.
   */
  private end(s: RtcSession, how: SessionEnd, replaced?: string): void {
    if (s.ended) return;
    s.ended = true;
    const c = s.conn;
    if (c && replaced !== undefined) {
      c.session = null;
      c.close(CloseCodes.RESUMED_ELSEWHERE, replaced);
    }
    clearTimeout(this.graceTimers.get(s));
    clearTimeout(this.expiryTimers.get(s));
    this.graceTimers.delete(s);
    this.expiryTimers.delete(s);
    this.sessions.delete(s.token);
    const set = this.byUser.get(s.userKey);
    if (set?.delete(s) && set.size === 0) this.byUser.delete(s.userKey);
    this.d.presence?.remove(s);
    for (const f of this.features) {
      try {
        const r = f.ended(s, how);
        if (r) this.track(r);
      } catch (err) {
        this.d.log.error({ err }, 'rtc session end failed');
      }
    }
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((err: unknown) => this.d.log.warn({ err }, 'rtc background change failed')).finally(() => this.pending.delete(q));
    this.pending.add(q);
  }
}
