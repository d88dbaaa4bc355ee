// TrtcdClient: the typed requests of the /rtc protocol (docs/realtime-protocol.md) over a reconnecting Connection.
import { Connection, roomFields } from './connection.ts';
import { TrtcdError } from './errors.ts';
import { publish, subscribe, type LocalPublication, type RemoteSubscription, type StreamLike, type TrackLike } from './media.ts';
import type {
  CallReply,
  EnterRoomOptions,
  EnterRoomReply,
  GiftOptions,
  LiveGift,
  LiveMessageReply,
  LiveRoom,
  LostRoom,
  RoomRef,
  StartCallOptions,
  StartCallReply,
  StreamType,
  TrtcdClientOptions,
} from './types.ts';

/** A room as the methods take it: a RoomRef, a number (roomId) or a string (strRoomId). */
export type RoomInput = RoomRef | number | string;

function toRoom(r: RoomInput): RoomRef {
  if (typeof r === 'number') return { roomId: r };
  if (typeof r === 'string') return { strRoomId: r };
  return roomFields(r);
}

/**
 * A trtcd real-time client: `await new TrtcdClient({...}).connect()`, then rooms, calls and live rooms. Every method
 * returns a promise of the reply and rejects with a TrtcdError; server and lifecycle events come through on()/once().
 */
export class TrtcdClient extends Connection {
  /** Streams this client publishes, published again after a reconnection that did not resume the session. */
  private readonly publications = new Set<LocalPublication>();

  /** A client that does nothing until connect(). */
  constructor(options: TrtcdClientOptions) {
    super(options);
    this.on('resumed', ({ resumed, lost }) => {
      if (!resumed) void this.republish(lost);
    });
  }

  /** The UserID this client logs in as. */
  get userId(): string {
    return this.options.userId;
  }

  /** Enters a TRTC room (`room.enter`); the client enters it again by itself after a reconnection that did not resume. */
  async enterRoom(room: RoomInput, opts: EnterRoomOptions = {}): Promise<EnterRoomReply> {
    const body: Record<string, unknown> = { ...toRoom(room) };
    if (opts.role !== undefined) body.role = opts.role;
    if (opts.privateMapKey !== undefined) body.privateMapKey = opts.privateMapKey;
    return (await this.request('room.enter', body)) as unknown as EnterRoomReply;
  }

  /** Leaves a TRTC room (`room.leave`). */
  async leaveRoom(room: RoomInput): Promise<{ room: RoomRef }> {
    return (await this.request('room.leave', { ...toRoom(room) })) as { room: RoomRef };
  }

  /** Sends a custom message (≤ 1024 bytes) to the room, or to the listed members (`room.message`). */
  async sendRoomMessage(room: RoomInput, data: string, to?: string[]): Promise<{ delivered: number }> {
    return (await this.request('room.message', { ...toRoom(room), data, ...(to ? { to } : {}) })) as { delivered: number };
  }

  /** Starts a call as this user (`call.start`). */
  async startCall(o: StartCallOptions): Promise<StartCallReply> {
    return (await this.request('call.start', { ...o })) as unknown as StartCallReply;
  }

  /** Accepts a call that rings this user (`call.accept`). */
  acceptCall(callId: string): Promise<CallReply> {
    return this.callRequest('call.accept', { callId });
  }

  /** Declines a call that rings this user (`call.reject`). */
  rejectCall(callId: string): Promise<CallReply> {
    return this.callRequest('call.reject', { callId });
  }

  /** Leaves a call (`call.hangup`): before anyone answered the caller cancels it, a ringing callee rejects it. */
  hangup(callId: string): Promise<CallReply> {
    return this.callRequest('call.hangup', { callId });
  }

  /** Cancels an unanswered call, or with `target` withdraws one pending invitation (`call.cancel`). */
  cancelCall(callId: string, target?: string): Promise<CallReply> {
    return this.callRequest('call.cancel', target === undefined ? { callId } : { callId, target });
  }

  /** Joins a group call (`call.join`). */
  joinCall(callId: string): Promise<CallReply> {
    return this.callRequest('call.join', { callId });
  }

  /** Rings more users in a group call (`call.invite`). */
  async inviteToCall(callId: string, targets: string[]): Promise<StartCallReply> {
    return (await this.request('call.invite', { callId, targets })) as unknown as StartCallReply;
  }

  /** Reads an active call (`call.get`). */
  getCall(callId: string): Promise<CallReply> {
    return this.callRequest('call.get', { callId });
  }

  /** Creates a TUILiveKit live room with this user as its owner and enters it (`live.create`). */
  async createLiveRoom(roomId: string, opts: { name?: string; seatCount?: number } = {}): Promise<{ room: LiveRoom }> {
    return (await this.request('live.create', { roomId, ...opts })) as { room: LiveRoom };
  }

  /** Enters a TUILiveKit live room (`live.enter`); entered again after a reconnection that did not resume. */
  async enterLiveRoom(roomId: string): Promise<{ room: LiveRoom }> {
    return (await this.request('live.enter', { roomId })) as { room: LiveRoom };
  }

  /** Leaves a live room (`live.leave`). */
  async leaveLiveRoom(roomId: string): Promise<void> {
    await this.request('live.leave', { roomId });
  }

  /** Sends a text message to a live room (`live.text`); everyone in it, the sender included, gets the live.event. */
  async sendLiveText(roomId: string, text: string, extensionInfo?: string): Promise<LiveMessageReply> {
    return (await this.request('live.text', { roomId, text, ...(extensionInfo === undefined ? {} : { extensionInfo }) })) as unknown as LiveMessageReply;
  }

  /** Sends a custom message to a live room (`live.custom`). */
  async sendLiveCustom(roomId: string, businessId: string, data: string): Promise<LiveMessageReply> {
    return (await this.request('live.custom', { roomId, businessId, data })) as unknown as LiveMessageReply;
  }

  /** Sends a gift in a live room (`live.gift`); refusals carry send_gift's REST error code. */
  async sendGift(roomId: string, giftId: string, opts: GiftOptions = {}): Promise<void> {
    await this.request('live.gift', { roomId, giftId, ...opts });
  }

  /** The app's gift catalogue, for a gift panel (`live.gifts`). */
  async listGifts(): Promise<LiveGift[]> {
    return ((await this.request('live.gifts', {})) as unknown as { gifts: LiveGift[] }).gifts;
  }

  /** Takes a seat (`live.takeSeat`); `seated` is false when the owner was asked (ApplyToTake). */
  async takeSeat(roomId: string, index: number): Promise<{ seated: boolean }> {
    return (await this.request('live.takeSeat', { roomId, index })) as { seated: boolean };
  }

  /** Leaves the seat this user holds (`live.leaveSeat`). */
  async leaveSeat(roomId: string): Promise<void> {
    await this.request('live.leaveSeat', { roomId });
  }

  /**
   * Publishes local tracks in a room you entered as anchor (`media.publish`): camera and microphone as `main`, a screen
   * as `sub`. Each kind needs its PrivateMapKey send bit.
   */
  async publish(room: RoomInput, tracks: TrackLike[] | StreamLike, stream: StreamType = 'main'): Promise<LocalPublication> {
    const list = Array.isArray(tracks) ? tracks : tracks.getTracks();
    const p = await publish((t, b) => this.request(t, b), toRoom(room), list, stream, this.options.RTCPeerConnection, (stopped) => this.publications.delete(stopped));
    this.publications.add(p);
    return p;
  }

  /** Receives a member's stream (`media.subscribe`); attach `subscription.media` to a <video>. */
  subscribe(room: RoomInput, userId: string, opts: { stream?: StreamType; audio?: boolean; video?: boolean } = {}): Promise<RemoteSubscription> {
    return subscribe((t, b) => this.request(t, b), toRoom(room), userId, opts, this.options.RTCPeerConnection);
  }

  /** Publishes every stream again in the rooms entered again; `republished` tells how each went. */
  private async republish(lost: LostRoom[]): Promise<void> {
    for (const p of [...this.publications]) {
      const key = JSON.stringify(roomFields(p.room));
      if (lost.some((l) => l.room && JSON.stringify(roomFields(l.room)) === key)) {
        // The room could not be entered again: the stream cannot be published there.
        this.publications.delete(p);
        p.pc.close();
        this.emit('republished', { room: p.room, stream: p.stream, code: lost.find((l) => l.room && JSON.stringify(roomFields(l.room)) === key)!.code });
        continue;
      }
      try {
        await p.renew();
        this.emit('republished', { room: p.room, stream: p.stream });
      } catch (err) {
        this.emit('republished', { room: p.room, stream: p.stream, code: err instanceof TrtcdError ? err.code : -1, message: (err as Error).message });
      }
    }
  }

  private async callRequest(type: string, body: Record<string, unknown>): Promise<CallReply> {
    return (await this.request(type, body)) as unknown as CallReply;
  }
}
