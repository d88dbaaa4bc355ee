// The SFU's state on this node: who publishes what in which room, who subscribes to it, and the forwarding between.
import type { RoomRef } from '../../services/trtc-rooms/trtc-rooms-service.ts';

import { FanOut } from './fan-out.ts';
import { PacketHistory } from './packet-history.ts';
import type { MediaKind, MediaSink, MediaSource } from './source.ts';
import { roomKey, trtcRoomKey, userKey, type TrtcRoomKey, type UserKey } from '../../services/tenant-keys.ts';

/** A user's two streams in a room: `main` (camera and microphone) and `sub` (screen share, video only). */
export type StreamType = 'main' | 'sub';
/** The stream types, as the protocol names them. */
export const STREAM_TYPES = ['main', 'sub'] as const;

/** Video packets kept per publication for retransmission: about 4 s of 1 Mbit/s video. */
const VIDEO_HISTORY_SLOTS = 512;

/** A keyframe is asked of a publisher at most this often, however many subscribers ask, ms. */
const KEYFRAME_INTERVAL_MS = 200;

/** Who owns a publication or subscription: a /rtc session (the avatar's publications have none). */
export interface Owner {
  /** `${sdkAppId}\n${userId}`. */
  readonly userKey: UserKey;
}

/** One published stream. */
export interface Publication {
  readonly sdkAppId: number;
  readonly room: RoomRef;
  readonly userId: string;
  readonly stream: StreamType;
  readonly source: MediaSource;
  readonly owner: Owner | undefined;
  readonly muted: Record<MediaKind, boolean>;
  /** Kinds the server blocked (SetUserBlocked*): not forwarded, whatever the publisher's own mute says. */
  readonly blocked: Record<MediaKind, boolean>;
  readonly subscriptions: Set<Subscription>;
  /** The recent video packets, as forwarded (subscribers' NACKs are answered from it). */
  readonly history: PacketHistory;
  /** Each kind's packets to the subscribers whose media workers write their copies. */
  readonly fanOut: Record<MediaKind, FanOut>;
  lastKeyframeAsk: number;
}

/** One subscriber's view of a publication. */
export interface Subscription {
  readonly id: string;
  readonly publication: Publication;
  readonly subscriber: MediaSink;
  readonly owner: Owner;
}

/** What happened to a publication, for the events each client protocol sends. */
interface SfuListener {
  unpublished(p: Publication, reason: string): void;
  published?(p: Publication): void;
  /** Muted or unmuted, blocked or unblocked. */
  updated?(p: Publication): void;
}

/** Which kinds of a user's publications in a room the server blocks (looked up once per publication, not per packet). */
type BlockLookup = (sdkAppId: number, room: RoomRef, userId: string) => Readonly<Record<MediaKind, boolean>>;

const NONE_BLOCKED: BlockLookup = () => ({ audio: false, video: false });

/**
 * Publications by room and stream, subscriptions by id and owner. A publication's packets go to each of its
 * subscriptions as they arrive (nothing is queued here); removing a publication or subscription stops that at once.
 */
export class Sfu {
  private readonly rooms = new Map<TrtcRoomKey, Map<string, Publication>>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly byOwner = new Map<Owner, { pubs: Set<Publication>; subs: Set<Subscription> }>();
  private nextId = 1;
  private readonly listeners: SfuListener[];

  /** `blockedOf` tells a new publication which of its kinds start blocked (the room's block of its user). */
  constructor(
    listener: SfuListener,
    private readonly blockedOf: BlockLookup = NONE_BLOCKED,
  ) {
    this.listeners = [listener];
  }

  /** Adds a listener (another client protocol that tells its users about publications). */
  observe(listener: SfuListener): void {
    this.listeners.push(listener);
  }

  /** Publishes a stream, replacing the user's earlier publication of the same stream in the room. */
  publish(p: { sdkAppId: number; room: RoomRef; userId: string; stream: StreamType; source: MediaSource; owner: Owner | undefined }): Publication {
    const old = this.find(p.sdkAppId, p.room, p.userId, p.stream);
    if (old) this.unpublish(old, 'replaced');
    const b = this.blockedOf(p.sdkAppId, p.room, p.userId);
    const pub: Publication = {
      ...p,
      muted: { audio: false, video: false },
      blocked: { audio: b.audio, video: b.video },
      subscriptions: new Set(),
      history: new PacketHistory(VIDEO_HISTORY_SLOTS),
      fanOut: { audio: new FanOut(), video: new FanOut() },
      lastKeyframeAsk: 0,
    };
    p.source.onRtp((kind, rtp, from) => {
      if (pub.muted[kind] || pub.blocked[kind]) return;
      // Kept once for every subscriber (only video is NACKed: Opus sections negotiate no NACK). A packet kept already
      // came again: browsers probe their bandwidth with RTX copies of what they sent, which werift turns back into the
      // original; sent on, the subscribers' SRTP replay check would drop it and their feedback count it lost.
      if (kind === 'video') {
        const h = rtp.header;
        if (pub.history.has(h.sequenceNumber, h.timestamp)) return;
        pub.history.put(h.sequenceNumber, h.timestamp, h.marker, rtp.payload);
      }
      // The workers' members first; the other subscribers' copies are written here (a member's send does nothing).
      pub.fanOut[kind].send(rtp, from?.fanned ? from.lane : undefined);
      for (const s of pub.subscriptions) s.subscriber.send(kind, rtp, from);
    });
    gate(pub);
    p.source.useFanOuts?.(pub.fanOut);
    const k = key(p.sdkAppId, p.room);
    let room = this.rooms.get(k);
    if (!room) this.rooms.set(k, (room = new Map()));
    room.set(`${p.userId}\n${p.stream}`, pub);
    if (p.owner) this.owned(p.owner).pubs.add(pub);
    for (const l of this.listeners) l.published?.(pub);
    return pub;
  }

  /** Ends a publication and every subscription to it; tells the listener. */
  unpublish(pub: Publication, reason: string): void {
    const k = key(pub.sdkAppId, pub.room);
    const room = this.rooms.get(k);
    const id = `${pub.userId}\n${pub.stream}`;
    if (room?.get(id) !== pub) return;
    room.delete(id);
    if (room.size === 0) this.rooms.delete(k);
    if (pub.owner) this.byOwner.get(pub.owner)?.pubs.delete(pub);
    pub.source.close();
    for (const s of [...pub.subscriptions]) this.unsubscribe(s);
    pub.fanOut.audio.close();
    pub.fanOut.video.close();
    for (const l of this.listeners) l.unpublished(pub, reason);
  }

  /** The user's publication of `stream` in the room, if any. */
  find(sdkAppId: number, room: RoomRef, userId: string, stream: StreamType): Publication | undefined {
    return this.rooms.get(key(sdkAppId, room))?.get(`${userId}\n${stream}`);
  }

  /** Every publication in the room. */
  inRoom(sdkAppId: number, room: RoomRef): Publication[] {
    return [...(this.rooms.get(key(sdkAppId, room))?.values() ?? [])];
  }

  /** Whether the publication is still published. */
  live(pub: Publication): boolean {
    return this.find(pub.sdkAppId, pub.room, pub.userId, pub.stream) === pub;
  }

  /** Starts forwarding a publication to a subscriber. */
  subscribe(pub: Publication, subscriber: MediaSink, owner: Owner): Subscription {
    const sub: Subscription = { id: `s${this.nextId++}`, publication: pub, subscriber, owner };
    subscriber.useHistory?.('video', pub.history);
    subscriber.useFanOut?.('audio', pub.fanOut.audio);
    subscriber.useFanOut?.('video', pub.fanOut.video);
    pub.subscriptions.add(sub);
    this.subscriptions.set(sub.id, sub);
    this.owned(owner).subs.add(sub);
    return sub;
  }

  /** Stops a subscription and closes its connection. */
  unsubscribe(sub: Subscription): void {
    if (!this.subscriptions.delete(sub.id)) return;
    sub.publication.subscriptions.delete(sub);
    this.byOwner.get(sub.owner)?.subs.delete(sub);
    sub.subscriber.close();
  }

  /** A subscription by id. */
  subscription(id: string): Subscription | undefined {
    return this.subscriptions.get(id);
  }

  /** Number of subscriptions an owner holds. */
  subscriptionCount(owner: Owner): number {
    return this.byOwner.get(owner)?.subs.size ?? 0;
  }

  /** Mutes or unmutes one kind of a publication (muted kinds are not forwarded); unmuting video asks for a keyframe. */
  setMuted(pub: Publication, kind: MediaKind, muted: boolean): void {
    if (pub.muted[kind] === muted) return;
    pub.muted[kind] = muted;
    gate(pub);
    if (!muted && kind === 'video') this.askKeyframe(pub, true);
    this.changed(pub);
  }

  /**
   * Blocks or unblocks kinds of every publication of a user in a room (blocked kinds are not forwarded); unblocking
   * video asks for a keyframe. The listeners hear of each publication that changed.
   */
  setBlocked(sdkAppId: number, room: RoomRef, userId: string, block: Readonly<Record<MediaKind, boolean>>): void {
    for (const pub of this.inRoom(sdkAppId, room)) {
      if (pub.userId !== userId || (pub.blocked.audio === block.audio && pub.blocked.video === block.video)) continue;
      const unblocksVideo = pub.blocked.video && !block.video;
      pub.blocked.audio = block.audio;
      pub.blocked.video = block.video;
      gate(pub);
      if (unblocksVideo && !pub.muted.video) this.askKeyframe(pub, true);
      this.changed(pub);
    }
  }

  /** Tells the listeners that a publication changed (muted, or its source now carries other kinds). */
  changed(pub: Publication): void {
    for (const l of this.listeners) l.updated?.(pub);
  }

  /** Asks the publisher for a keyframe, at most once per KEYFRAME_INTERVAL_MS unless `now`. */
  askKeyframe(pub: Publication, force = false): void {
    const t = Date.now();
    if (!force && t - pub.lastKeyframeAsk < KEYFRAME_INTERVAL_MS) return;
    pub.lastKeyframeAsk = t;
    pub.source.requestKeyframe();
  }

  /** Ends everything a user has in a room: its publications and its subscriptions there. */
  dropUser(sdkAppId: number, room: RoomRef, userId: string, reason: string): void {
    const k = key(sdkAppId, room);
    for (const pub of this.inRoom(sdkAppId, room)) if (pub.userId === userId) this.unpublish(pub, reason);
    for (const s of [...this.subscriptions.values()]) {
      if (s.owner.userKey === userKey(sdkAppId, userId) && key(s.publication.sdkAppId, s.publication.room) === k) this.unsubscribe(s);
    }
  }

  /** Ends everything in a room. */
  dropRoom(sdkAppId: number, room: RoomRef, reason: string): void {
    for (const pub of this.inRoom(sdkAppId, room)) this.unpublish(pub, reason);
  }

  /** Ends everything an owner has, in every room; or only in `room`. */
  dropOwner(owner: Owner, reason: string, room?: { sdkAppId: number; room: RoomRef }): void {
    const o = this.byOwner.get(owner);
    if (!o) return;
    const inScope = (p: Publication) => !room || (p.sdkAppId === room.sdkAppId && roomKey(p.room) === roomKey(room.room));
    for (const s of [...o.subs]) if (inScope(s.publication)) this.unsubscribe(s);
    for (const p of [...o.pubs]) if (inScope(p)) this.unpublish(p, reason);
    if (o.subs.size === 0 && o.pubs.size === 0) this.byOwner.delete(owner);
  }

  /** Totals for metrics and the benchmark. */
  stats(): { publications: number; subscriptions: number; fanOutMembers: number } {
    let publications = 0;
    let fanOutMembers = 0;
    for (const r of this.rooms.values()) {
      publications += r.size;
      for (const p of r.values()) fanOutMembers += p.fanOut.audio.size + p.fanOut.video.size;
    }
    return { publications, subscriptions: this.subscriptions.size, fanOutMembers };
  }

  /** Ends everything. */
  close(): void {
    for (const r of [...this.rooms.values()]) for (const p of [...r.values()]) this.unpublish(p, 'server shutting down');
  }

  private owned(owner: Owner): { pubs: Set<Publication>; subs: Set<Subscription> } {
    let o = this.byOwner.get(owner);
    if (!o) this.byOwner.set(owner, (o = { pubs: new Set(), subs: new Set() }));
    return o;
  }
}

/** Tells the publication's fan-outs which kinds are forwarded (a worker that reads the publisher forwards only those). */
function gate(pub: Publication): void {
  for (const kind of ['audio', 'video'] as const) pub.fanOut[kind].setOpen(!pub.muted[kind] && !pub.blocked[kind]);
}

function key(sdkAppId: number, room: RoomRef): TrtcRoomKey {
  return trtcRoomKey(sdkAppId, room);
}
