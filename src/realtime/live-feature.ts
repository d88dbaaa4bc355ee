import { Type } from '@sinclair/typebox';
import type { Bus } from '../bus/bus.ts';
import type { Logger } from '../logger.ts';
import { DomainError } from '../services/errors.ts';
import { GiftErrors, GiftRefusedByApp } from '../services/gifts/gift.ts';
import type { GiftsService } from '../services/gifts/gifts-service.ts';
import { MAX_MESSAGE_BYTES, type LiveOrigin, type LiveService } from '../services/live/live-service.ts';
import { LIVE_TOPIC, type LiveEvent, type LiveRoom } from '../services/live/room.ts';
import { listen, refusal, typed, withRefusals, type RtcFeature } from './feature.ts';
import { event, MAX_LIVE_ROOMS_PER_SESSION, RtcErrors, type RtcErrorEntry } from './protocol.ts';
import type { RtcSession } from './session.ts';
import { liveRoomKey, type LiveRoomKey } from '../services/tenant-keys.ts';
import { GatewayError } from '../gateways/gateway-error.ts';

/** What the live-room part of /rtc needs. */
interface LiveFeatureDeps {
  live: Pick<LiveService, 'create' | 'get' | 'enter' | 'leave' | 'isBanned' | 'isMuted' | 'sendText' | 'sendCustom' | 'takeSeat' | 'kickOffSeat'>;
  gifts: Pick<GiftsService, 'sendGift' | 'listGifts'>;
  bus: Bus;
  log: Logger;
}

/** Live-room refusals; gift refusals carry send_gift's REST codes (https://trtc.io/document/72556). */
const LIVE_ERRORS: Partial<Record<string, RtcErrorEntry>> = {
  NOT_FOUND: RtcErrors.NOT_FOUND,
  BANNED: RtcErrors.BANNED,
  UNKNOWN_ACCOUNT: RtcErrors.USER_NOT_FOUND,
  FAILED_PRECONDITION: RtcErrors.CALL_STATE,
  ALREADY_EXISTS: RtcErrors.LIVE_ROOM_EXISTS,
  LIMIT_EXCEEDED: RtcErrors.CREATE_TOO_FREQUENT,
  [GiftErrors.DISABLED]: { code: 102001, message: 'gifts are not enabled for this app' },
  [GiftErrors.NOT_FOUND]: { code: 102002, message: 'the gift does not exist' },
  [GiftErrors.CALLBACK_FAILED]: { code: 102004, message: 'the app server refused the gift' },
  [GiftErrors.ROOM_DISABLED]: { code: 102008, message: 'gifts are off in this room' },
};

const RoomId = Type.String({ minLength: 1, maxLength: 48 });

/** A client's change is made by its user, from its address and platform (the callbacks' Operator_Account, ClientIP, OptPlatform). */
const origin = (s: RtcSession): LiveOrigin => ({ operator: s.userId, clientIp: s.ip ?? '', platform: s.platform });
const UserId = Type.String({ minLength: 1, maxLength: 32 });

/** The wire form of a live room (docs/realtime-protocol.md "LiveRoom"). */
function liveRoomView(r: LiveRoom): Record<string, unknown> {
  return {
    roomId: r.roomId,
    owner: r.owner,
    info: r.info,
    seats: r.state.seats.map((s) => ({ index: s.index, member: s.member, locked: s.locked })),
    viewCount: r.viewCount,
    metadata: r.state.metadata,
    admins: r.state.admins,
  };
}

/**
 * TUILiveKit live rooms over /rtc: sessions enter as audience and receive every room event in order (messages and
 * gifts from REST or clients, seats, mutes, bans, destroy); banned users are refused and removed, muted ones cannot
 * send.
 */
export class LiveFeature implements RtcFeature {
  /** Sessions in each live room on this node: `${sdkAppId}\n${roomId}` → sessions. */
  private readonly index = new Map<LiveRoomKey, Set<RtcSession>>();
  /** Live rooms each session is in. */
  private readonly rooms = new Map<RtcSession, Set<string>>();
  private unsubscribe: (() => void) | undefined;

  readonly handlers = {
    // TUILiveKit's startLive: the user creates the room as its owner and is in it.
    'live.create': typed(
      Type.Object({
        roomId: RoomId,
        name: Type.Optional(Type.String({ maxLength: 100 })),
        seatCount: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 })),
      }),
      async (s, m) => {
        const info = { ...(m.name ? { RoomName: m.name } : {}), ...(m.seatCount ? { MaxSeatCount: m.seatCount } : {}) };
        await this.run(() => this.d.live.create(s.sdkAppId, m.roomId, s.userId, info, origin(s)));
        return this.enter(s, m.roomId);
      },
    ),
    'live.enter': typed(Type.Object({ roomId: RoomId }), (s, m) => this.enter(s, m.roomId)),
    'live.leave': typed(Type.Object({ roomId: RoomId }), async (s, m) => {
      if (!this.detach(s, m.roomId)) throw new GatewayError(RtcErrors.NOT_IN_ROOM);
      await this.leaveRoom(s, m.roomId);
      return {};
    }),
    'live.text': typed(
      Type.Object({ roomId: RoomId, text: Type.String({ minLength: 1, maxLength: MAX_MESSAGE_BYTES }), extensionInfo: Type.Optional(Type.String()) }),
      async (s, m) => {
        this.canSpeak(s, m.roomId);
        return { ...(await this.run(() => this.d.live.sendText(s.sdkAppId, m.roomId, s.userId, m.text, m.extensionInfo))) };
      },
    ),
    'live.custom': typed(
      Type.Object({ roomId: RoomId, businessId: Type.String({ maxLength: 128 }), data: Type.String({ maxLength: MAX_MESSAGE_BYTES }) }),
      async (s, m) => {
        this.canSpeak(s, m.roomId);
        return { ...(await this.run(() => this.d.live.sendCustom(s.sdkAppId, m.roomId, s.userId, m.businessId, m.data))) };
      },
    ),
    'live.gift': typed(
      Type.Object({
        roomId: RoomId,
        giftId: Type.String({ minLength: 1, maxLength: 64 }),
        count: Type.Optional(Type.Integer({ minimum: 1 })),
        receivers: Type.Optional(Type.Array(UserId, { minItems: 1, maxItems: 100 })),
      }),
      async (s, m) => {
        this.inRoom(s, m.roomId);
        const owner = this.guard(() => this.d.live.get(s.sdkAppId, m.roomId)).owner;
        await this.run(() =>
          this.d.gifts
            .sendGift(
              { sdkAppId: s.sdkAppId, roomId: m.roomId, giftId: m.giftId, from: s.userId, receivers: m.receivers ?? [owner], count: m.count },
              { clientIp: s.ip ?? '', platform: s.platform },
            )
            .catch((err: unknown) => {
              // The app server's own ErrorCode in [102100, 102200] reaches the sender with its ErrorInfo.
              if (err instanceof GiftRefusedByApp) throw new GatewayError({ code: err.errorCode, message: err.errorInfo || 'the app server refused the gift' });
              throw err;
            }),
        );
        return {};
      },
    ),
    // The gift panel's list (TUILiveKit's getGiftList): the app's catalogue.
    'live.gifts': typed(Type.Object({}), async (s) => {
      const gifts = this.guard(() => this.d.gifts.listGifts(s.sdkAppId));
      return { gifts: gifts.map((g) => ({ giftId: g.giftId, name: g.defaultName, desc: g.defaultDesc, coins: g.coins, level: g.level, iconUrl: g.iconUrl, resourceUrl: g.resourceUrl })) };
    }),
    'live.takeSeat': typed(Type.Object({ roomId: RoomId, index: Type.Integer({ minimum: 0, maximum: 1000 }) }), async (s, m) => {
      this.inRoom(s, m.roomId);
      return this.run(() => this.d.live.takeSeat(s.sdkAppId, m.roomId, s.userId, m.index, origin(s)));
    }),
    'live.leaveSeat': typed(Type.Object({ roomId: RoomId }), async (s, m) => {
      this.inRoom(s, m.roomId);
      await this.run(() => this.d.live.kickOffSeat(s.sdkAppId, m.roomId, s.userId, '', origin(s)));
      return {};
    }),
  };

  constructor(private readonly d: LiveFeatureDeps) {}

  /** Follows the bus. */
  start(): void {
    const d = this.d;
    this.unsubscribe ??= listen(d.bus, LIVE_TOPIC, d.log, 'rtc live event', (p) => this.onLiveEvent(p as LiveEvent));
  }

  /** The live rooms of a session, for the auth reply. */
  describe(s: RtcSession): Record<string, unknown> {
    return { liveRooms: [...(this.rooms.get(s) ?? [])] };
  }

  /** A session that ended leaves its live rooms (audience leaving is not announced to clients). */
  ended(s: RtcSession): Promise<void> {
    const left: Array<Promise<void>> = [];
    for (const roomId of [...(this.rooms.get(s) ?? [])]) if (this.detach(s, roomId)) left.push(this.leaveRoom(s, roomId));
    this.rooms.delete(s);
    return Promise.all(left).then(() => undefined);
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Number of sessions in a live room on this node. */
  audience(sdkAppId: number, roomId: string): number {
    return this.index.get(liveRoomKey(sdkAppId, roomId))?.size ?? 0;
  }

  /** The session enters a live room (live.enter, and live.create once the room exists). */
  private async enter(s: RtcSession, roomId: string): Promise<Record<string, unknown>> {
    const mine = this.rooms.get(s);
    if (mine?.has(roomId)) return { room: liveRoomView(this.guard(() => this.d.live.get(s.sdkAppId, roomId))) };
    if ((mine?.size ?? 0) >= MAX_LIVE_ROOMS_PER_SESSION) throw new GatewayError(RtcErrors.TOO_MANY_ROOMS, `in ${MAX_LIVE_ROOMS_PER_SESSION} live rooms already`);
    const room = await this.run(() => this.d.live.enter(s.sdkAppId, roomId, s.userId, origin(s)));
    // A ban or destroy recorded while the entry was being written has been published already: check again. A
    // session that ended meanwhile was not in the room when it left its rooms: it leaves this one now.
    if (s.ended) {
      void this.leaveRoom(s, roomId);
      return { room: liveRoomView(room) };
    }
    if (this.guard(() => this.d.live.isBanned(s.sdkAppId, roomId, s.userId))) throw new GatewayError(RtcErrors.BANNED);
    const k = liveRoomKey(s.sdkAppId, roomId);
    let set = this.index.get(k);
    if (!set) this.index.set(k, (set = new Set()));
    set.add(s);
    if (mine) mine.add(roomId);
    else this.rooms.set(s, new Set([roomId]));
    return { room: liveRoomView(room) };
  }

  /** Records that a session left a room (the user goes offline with their last session); a failure is only logged. */
  private leaveRoom(s: RtcSession, roomId: string): Promise<void> {
    return this.d.live.leave(s.sdkAppId, roomId, s.userId, origin(s)).catch((err: unknown) => {
      // The room was destroyed meanwhile: nobody is in it any more.
      if (!(err instanceof DomainError && err.code === 'NOT_FOUND')) this.d.log.error({ err, roomId }, 'rtc live leave failed');
    });
  }

  private inRoom(s: RtcSession, roomId: string): void {
    if (!this.rooms.get(s)?.has(roomId)) throw new GatewayError(RtcErrors.NOT_IN_ROOM);
  }

  /** Muted members, and everyone but the owner while messages are disabled, cannot send. */
  private canSpeak(s: RtcSession, roomId: string): void {
    this.inRoom(s, roomId);
    const room = this.guard(() => this.d.live.get(s.sdkAppId, roomId));
    if (this.d.live.isMuted(s.sdkAppId, roomId, s.userId)) throw new GatewayError(RtcErrors.MUTED);
    if (room.info.IsMessageDisabled && room.owner !== s.userId) throw new GatewayError(RtcErrors.MUTED, 'messages are disabled in this room');
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    return withRefusals(LIVE_ERRORS, fn);
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      refusal(err, LIVE_ERRORS);
    }
  }

  /**
   * A room event → `live.event` to everyone in the room here, then `live.removed` for the banned or a destroyed room.
   * Members going online or offline are not announced.
   */
  private onLiveEvent(e: LiveEvent): void {
    const k = liveRoomKey(e.sdkAppId, e.roomId);
    const set = this.index.get(k);
    if (!set || e.type === 'member') return;
    const text = event('live.event', { roomId: e.roomId, kind: e.type, data: e.data, time: e.time });
    for (const s of set) s.deliver(text);
    if (e.type === 'ban') {
      const banned = new Set(e.data.users as string[]);
      const removed = event('live.removed', { roomId: e.roomId, reason: 'banned' });
      for (const s of [...set]) if (banned.has(s.userId) && this.detach(s, e.roomId)) s.deliver(removed);
    } else if (e.type === 'destroyed') {
      const removed = event('live.removed', { roomId: e.roomId, reason: 'destroyed' });
      for (const s of [...set]) if (this.detach(s, e.roomId)) s.deliver(removed);
    }
  }

  private detach(s: RtcSession, roomId: string): boolean {
    if (!this.rooms.get(s)?.delete(roomId)) return false;
    const k = liveRoomKey(s.sdkAppId, roomId);
    const set = this.index.get(k);
    set?.delete(s);
    if (set?.size === 0) this.index.delete(k);
    return true;
  }
}
