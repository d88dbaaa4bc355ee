// The trtc-sdk-v5 signalling server (/v2/ws): SDK users in the same TrtcRoomsService rooms and the same SFU as /rtc
// users, digital humans and IoT devices. Room events on the bus become the SDK's member pushes (4134/4135), SFU
// publications its publisher snapshots (23), custom messages cross between both protocols.
import type { IncomingMessage } from 'node:http';
import { networkInterfaces } from 'node:os';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Bus } from '../../bus/bus.ts';
import { utf8 } from '../../http/body.ts';
import type { Logger } from '../../logger.ts';
import type { Metrics } from '../../metrics.ts';
import { listen } from '../../realtime/feature.ts';
import { FrameBudget } from '../../realtime/frame-budget.ts';
import type { MediaFeature } from '../../realtime/media-feature.ts';
import type { MediaNetwork } from '../../realtime/media/peer-config.ts';
import type { Publication } from '../../realtime/media/sfu.ts';
import { ROOM_MESSAGE_TOPIC, type RoomMessage } from '../../realtime/trtc-room-feature.ts';
import type { AppsService } from '../../services/apps/apps-service.ts';
import { TRTC_ROOM_TOPIC, type RoomRef, type TrtcRoomEvent, type TrtcRoomsService } from '../../services/trtc-rooms/trtc-rooms-service.ts';
import { Flag, frame, publishedUsers, LeaveReason, SDK_MAX_FRAME_BYTES, SDK_WS_PATH, SdkRole, ServerCmd, tinyIdOf } from './protocol.ts';
import { SdkConnection } from './sdk-connection.ts';
import { trtcRoomKey, type TrtcRoomKey } from '../../services/tenant-keys.ts';

/** What the SDK gateway needs from the rest of trtcd. */
interface SdkSignallingDeps {
  apps: Pick<AppsService, 'get' | 'verifyUserSig' | 'admit'>;
  trtcRooms: Pick<TrtcRoomsService, 'enter' | 'leave' | 'members' | 'exists' | 'setRole'>;
  /** The /rtc media feature: its SFU, and how /rtc users hear of a new publication. */
  media: Pick<MediaFeature, 'sfu' | 'announce' | 'announceUpdate'>;
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  net: MediaNetwork;
}

/** A socket that has not joined a room within this long is closed, ms. */
const JOIN_TIMEOUT_MS = 30_000;
/** Frames a socket may send per second (the SDK sends a few; more is a fault or an attack). */
const MAX_FRAMES_PER_SECOND = 200;
/** How long shutdown waits for close handshakes, ms. */
const SHUTDOWN_GRACE_MS = 1000;

/** Whether an upgrade request is for the SDK's signalling. */
export function isSdkWsPath(url: string): boolean {
  return url === SDK_WS_PATH || url.startsWith(`${SDK_WS_PATH}?`);
}

/** A custom message from an SDK user, as it is handed to the room. */
interface SdkMessage {
  sdkAppId: number;
  room: RoomRef;
  from: string;
  bytes: Buffer;
  cmdId: number;
  streamSeq: number;
}

/** trtc-sdk-v5's signalling on this node. */
export class SdkSignalling {
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<SdkConnection>();
  /** SDK connections in each room on this node: `${sdkAppId}\n${roomKey}` → userId → connection. */
  private readonly rooms = new Map<TrtcRoomKey, Map<string, SdkConnection>>();
  /** streamSeq of the messages that reach SDK users from other protocols, per sender and cmdId. */
  private readonly streamSeqs = new Map<string, number>();
  private unsubscribe: Array<() => void> = [];
  private readonly pending = new Set<Promise<unknown>>();
  private relay: string | undefined;
  private observing = false;
  /**
   * Congestion feedback from SDK subscribers since start: loss windows read from transport-wide feedback, and the
   * times a subscriber that asked for the big stream was sent the small one because of it (or of its receiver reports
   * or REMB).
   */
  readonly congestion = { twccWindows: 0, narrowed: 0 };

  constructor(readonly d: SdkSignallingDeps) {
    this.wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: SDK_MAX_FRAME_BYTES });
  }

  /** Follows room events, custom messages from other nodes and protocols, and the SFU's publications. */
  start(): void {
    if (this.unsubscribe.length > 0) return;
    const d = this.d;
    this.unsubscribe.push(listen(d.bus, TRTC_ROOM_TOPIC, d.log, 'trtc-sdk room event', (p) => this.onRoomEvent(p as TrtcRoomEvent)));
    this.unsubscribe.push(
      d.bus.subscribe(ROOM_MESSAGE_TOPIC, (p, remote) => {
        const m = p as RoomMessage;
        // Messages an SDK user sent on this node were delivered to the SDK users here already.
        if (!remote && m.via === 'trtc-sdk') return;
        try {
          this.fanOut(m, undefined);
        } catch (err) {
          d.log.error({ err }, 'trtc-sdk custom message failed');
        }
      }),
    );
    if (this.observing) return;
    this.observing = true;
    d.media.sfu.observe({
      published: (pub) => this.publicationChanged(pub, true),
      updated: (pub) => this.publicationChanged(pub, false),
      // A stream republished with other kinds is replaced in one step: the next snapshot shows the new one.
      unpublished: (pub, reason) => reason !== 'replaced' && this.publicationChanged(pub, false),
    });
  }

  /** Open SDK sockets. */
  get size(): number {
    return this.conns.size;
  }

  /** Handles an HTTP upgrade for /v2/ws. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const q = new URLSearchParams((req.url ?? '').slice(SDK_WS_PATH.length + 1));
    this.wss.handleUpgrade(req, socket, head, (ws) => this.opened(ws, q, req.socket.remoteAddress));
  }

  private opened(ws: WebSocket, q: URLSearchParams, ip: string | undefined): void {
    const sdkAppId = Number(q.get('sdkAppId'));
    const userId = q.get('userId') ?? '';
    const c = new SdkConnection(ws, Number.isSafeInteger(sdkAppId) ? sdkAppId : 0, userId, q.get('userSig') ?? '', ip, this);
    this.conns.add(c);
    ws.on('error', () => ws.terminate());
    // The SDK takes clientIp and the server clock from cmd 19, sent straight after the upgrade.
    c.send(frame(ServerCmd.CHANNEL_SETUP_RESULT, 0, { clientIp: ip ?? '', signalInnerIp: this.relayIp(), svrTime: Date.now() }));
    const joinTimer = setTimeout(() => {
      if (!c.room) ws.close(1000, 'no join');
    }, JOIN_TIMEOUT_MS);
    joinTimer.unref?.();
    const budget = new FrameBudget(MAX_FRAMES_PER_SECOND);
    let queue = Promise.resolve();
    ws.on('message', (data, isBinary) => {
      if (budget.spend()) return ws.close(4429, 'too many frames');
      const f = isBinary ? null : parseFrame(data as Buffer);
      if (!f) return this.d.log.debug({ userId }, 'trtc-sdk frame ignored: not a command');
      // One command at a time, in order: the SDK's join is followed at once by commands that need its result.
      queue = queue.then(() => this.track(c.handle(f)));
    });
    ws.on('close', () => {
      clearTimeout(joinTimer);
      this.conns.delete(c);
      void queue.then(() => this.track(c.ended()));
    });
  }

  /** A connection entered its room: it takes over the same user's older SDK connection there. */
  attach(c: SdkConnection): void {
    const k = c.roomKey!;
    let room = this.rooms.get(k);
    if (!room) this.rooms.set(k, (room = new Map()));
    const prev = room.get(c.userId);
    if (prev && prev !== c) {
      prev.replaced = true;
      prev.kick('kick');
    }
    room.set(c.userId, c);
  }

  /** A connection left its room. */
  detach(c: SdkConnection, ref: RoomRef): void {
    const k = trtcRoomKey(c.sdkAppId, ref);
    const room = this.rooms.get(k);
    if (room?.get(c.userId) !== c) return;
    room.delete(c.userId);
    if (room.size === 0) this.rooms.delete(k);
  }

  /** Every member of a room (all protocols), as 4137 lists them. */
  userList(sdkAppId: number, ref: RoomRef): Array<Record<string, unknown>> {
    return this.d.trtcRooms.members(sdkAppId, ref).map((m) => ({ userId: m.userId, srcTinyId: tinyIdOf(sdkAppId, m.userId), role: m.role === 'audience' ? SdkRole.AUDIENCE : SdkRole.ANCHOR }));
  }

  /** Every publisher of a room with its flag word, as cmd 23 and the join reply list them. */
  publishers(sdkAppId: number, ref: RoomRef): Array<Record<string, unknown>> {
    const byUser = new Map<string, Publication[]>();
    for (const p of this.d.media.sfu.inRoom(sdkAppId, ref)) byUser.set(p.userId, [...(byUser.get(p.userId) ?? []), p]);
    return [...byUser].map(([userId, pubs]) => {
      const small = this.connectionOf(sdkAppId, ref, userId)?.smallOn ? Flag.SMALL_VIDEO : 0;
      return { userId, srcTinyId: tinyIdOf(sdkAppId, userId), flag: SdkConnection.flagOf(pubs) | small };
    });
  }

  /** The SDK connection of a user in a room on this node. */
  connectionOf(sdkAppId: number, ref: RoomRef, userId: string): SdkConnection | undefined {
    return this.rooms.get(trtcRoomKey(sdkAppId, ref))?.get(userId);
  }

  /** A user started or stopped its small stream: the room's SDK users get the snapshot and follow the change. */
  smallChanged(c: SdkConnection): void {
    const room = c.roomKey === undefined ? undefined : this.rooms.get(c.roomKey);
    if (!room || !c.room) return;
    const text = frame(ServerCmd.UPDATE_REMOTE_MUTE_STAT, 0, publishedUsers(this.publishers(c.sdkAppId, c.room)));
    for (const other of room.values()) {
      if (other !== c) other.sync(c.userId);
      other.send(text);
    }
  }

  /** The member of the room with this tinyId. */
  userOfTinyId(sdkAppId: number, ref: RoomRef, tinyId: unknown): string | undefined {
    if (typeof tinyId !== 'string') return undefined;
    return this.d.trtcRooms.members(sdkAppId, ref).find((m) => tinyIdOf(sdkAppId, m.userId) === tinyId)?.userId;
  }

  /** A custom message from an SDK user: to the SDK users here, and over the bus to /rtc users and other nodes. */
  customMessage(m: SdkMessage, sender: SdkConnection): void {
    const text = utf8(m.bytes);
    const msg: RoomMessage = { sdkAppId: m.sdkAppId, room: m.room, from: m.from, data: text ?? '', cmdId: m.cmdId, b64: m.bytes.toString('base64'), streamSeq: m.streamSeq, via: 'trtc-sdk' };
    this.fanOut(msg, sender);
    this.d.bus.publish(ROOM_MESSAGE_TOPIC, msg);
  }

  /** Writes a custom message (4140) to the SDK users of its room on this node, but not its sender. */
  private fanOut(m: RoomMessage, sender: SdkConnection | undefined): void {
    const room = this.rooms.get(trtcRoomKey(m.sdkAppId, m.room));
    if (!room) return;
    const cmdId = m.cmdId ?? 1;
    let streamSeq = m.streamSeq;
    if (streamSeq === undefined) {
      // Messages from other protocols are numbered here: the SDK delivers each sender's messages in streamSeq order.
      const k = `${m.sdkAppId}\n${m.from}\n${cmdId}`;
      streamSeq = this.streamSeqs.get(k) ?? 0;
      this.streamSeqs.set(k, (streamSeq + 1) % 0x10000);
    }
    const msg = m.b64 ?? Buffer.from(m.data, 'utf8').toString('base64');
    const text = frame(ServerCmd.RECEIVE_CUSTOM_MSG, 0, { cmdId, msg, ordered: true, reliable: true, streamSeq, userId: m.from, srcTinyId: tinyIdOf(m.sdkAppId, m.from) });
    const targets = m.to ? m.to.map((u) => room.get(u)) : [...room.values()];
    for (const c of targets) if (c && c !== sender && c.userId !== m.from) c.send(text);
  }

  /** Room events: members entering and leaving, users removed, rooms dismissed. */
  private onRoomEvent(e: TrtcRoomEvent): void {
    const k = trtcRoomKey(e.sdkAppId, e.room);
    const room = this.rooms.get(k);
    if (!room) return;
    if (e.type === 'enter') {
      const roles = new Map(this.d.trtcRooms.members(e.sdkAppId, e.room).map((m) => [m.userId, m.role]));
      for (const u of e.users) {
        const text = frame(ServerCmd.PEER_JOIN, 0, { srcTinyId: tinyIdOf(e.sdkAppId, u), userId: u, role: roles.get(u) === 'audience' ? SdkRole.AUDIENCE : SdkRole.ANCHOR });
        for (const [uid, c] of room) if (uid !== u) c.send(text);
      }
      return;
    }
    const gone = e.type === 'dismissed' ? new Set([...e.users, ...room.keys()]) : new Set(e.users);
    for (const u of gone) {
      const c = room.get(u);
      if (!c) continue;
      room.delete(u);
      if (e.type !== 'leave') c.kick(e.type === 'dismissed' ? 'room_disband' : 'banned');
    }
    const reason = e.type === 'leave' ? (e.reason === 'disconnected' ? LeaveReason.TIMEOUT : LeaveReason.NORMAL) : LeaveReason.KICK;
    for (const u of e.users) {
      const text = frame(ServerCmd.PEER_LEAVE, 0, { userId: u, srcTinyId: tinyIdOf(e.sdkAppId, u), reason });
      for (const c of room.values()) {
        c.forget(u);
        c.send(text);
      }
    }
    if (room.size === 0) this.rooms.delete(k);
  }

  /** A publication appeared, changed or ended: the room's SDK users get the new snapshot (and subscribe if they asked). */
  private publicationChanged(pub: Publication, published: boolean): void {
    const room = this.rooms.get(trtcRoomKey(pub.sdkAppId, pub.room));
    if (!room) return;
    const text = frame(ServerCmd.UPDATE_REMOTE_MUTE_STAT, 0, publishedUsers(this.publishers(pub.sdkAppId, pub.room)));
    for (const c of room.values()) {
      if (published && c.userId !== pub.userId) c.sync(pub.userId);
      c.send(text);
    }
  }

  /** The address given as the SDK's relay: the first external IPv4 address of this machine. */
  relayIp(): string {
    if (this.relay === undefined) {
      const all = Object.values(networkInterfaces()).flat();
      this.relay = all.find((a) => a && a.family === 'IPv4' && !a.internal)?.address ?? '127.0.0.1';
    }
    return this.relay;
  }

  /** Closes every socket (1001) and waits for the rooms they leave to be recorded; safe to repeat. */
  async stop(): Promise<void> {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    await Promise.all([...this.conns].map((c) => c.shutdown(1001, 'server shutting down', SHUTDOWN_GRACE_MS)));
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private track<T>(p: Promise<T>): Promise<void> {
    const done = p.then(
      () => undefined,
      (err: unknown) => this.d.log.error({ err }, 'trtc-sdk connection failed'),
    );
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
    return done;
  }
}

/** A client frame, or null when the text is not a command object. */
function parseFrame(data: Buffer): { cmd: string; seq: number; data: Record<string, unknown> } | null {
  let m: unknown;
  try {
    m = JSON.parse(data.toString('utf8'));
  } catch {
    return null;
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return null;
  const { cmd, seq, data: d } = m as Record<string, unknown>;
  if (typeof cmd !== 'string' || cmd.length > 64) return null;
  const s = typeof seq === 'number' && Number.isSafeInteger(seq) ? seq : 0;
  const body = d !== null && typeof d === 'object' && !Array.isArray(d) ? (d as Record<string, unknown>) : {};
  return { cmd, seq: s, data: body };
}
