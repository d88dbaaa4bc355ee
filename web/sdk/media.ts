// Room audio and video: publishing local tracks to trtcd's SFU and subscribing to other members' streams, over
// WebRTC peer connections negotiated with `media.publish` / `media.subscribe` (docs/realtime-protocol.md "Media").
import type { RoomRef, StreamType } from './types.ts';

/** The parts of a MediaStreamTrack the SDK uses. */
export interface TrackLike {
  readonly kind: string;
  enabled: boolean;
  stop(): void;
}

/** The parts of a MediaStream the SDK uses. */
export interface StreamLike {
  getTracks(): TrackLike[];
  addTrack?(t: TrackLike): void;
}

interface DescriptionLike {
  type: string;
  sdp?: string;
}

/** The parts of an RTCPeerConnection the SDK uses; the browser's fits. */
export interface PeerLike {
  addTransceiver(trackOrKind: TrackLike | string, init: { direction: string; streams?: StreamLike[] }): unknown;
  createOffer(): Promise<DescriptionLike>;
  setLocalDescription(d: DescriptionLike): Promise<void>;
  setRemoteDescription(d: DescriptionLike): Promise<void>;
  readonly localDescription: DescriptionLike | null;
  readonly iceGatheringState: string;
  readonly connectionState: string;
  addEventListener(type: string, fn: (e: { track?: TrackLike; streams?: StreamLike[] }) => void): void;
  removeEventListener(type: string, fn: (e: never) => void): void;
  getStats(): Promise<Map<string, Record<string, unknown>> | { forEach(fn: (v: Record<string, unknown>) => void): void }>;
  close(): void;
}

/** An RTCPeerConnection constructor: `globalThis.RTCPeerConnection` in browsers. */
export type PeerConstructor = new (config?: Record<string, unknown>) => PeerLike;

/** Sends one request on the client's connection and resolves to the reply's fields. */
export type Requester = (type: string, body: Record<string, unknown>) => Promise<Record<string, unknown>>;

/** How long the SDK waits for its ICE candidates before sending an offer without the rest, ms. */
export const ICE_GATHER_WAIT_MS = 3000;

/** The offer with this side's candidates in it (trtcd does not take trickled candidates). */
async function offerWithCandidates(pc: PeerLike): Promise<string> {
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      const done = () => {
        if (pc.iceGatheringState !== 'complete') return;
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', done);
        resolve();
      };
      // Host candidates come at once; waiting for an unreachable STUN server would only delay the call.
      const timer = setTimeout(() => {
        pc.removeEventListener('icegatheringstatechange', done);
        resolve();
      }, ICE_GATHER_WAIT_MS);
      pc.addEventListener('icegatheringstatechange', done);
    });
  }
  const sdp = pc.localDescription?.sdp;
  if (!sdp) throw new Error('the peer connection made no offer');
  return sdp;
}

function peerConstructor(given?: PeerConstructor): PeerConstructor {
  const P = given ?? (globalThis as { RTCPeerConnection?: PeerConstructor }).RTCPeerConnection;
  if (!P) throw new TypeError('no RTCPeerConnection: media needs a browser (or pass options.RTCPeerConnection)');
  return P;
}

/** Offers `tracks` as `stream` on a new peer connection and applies the answer (`media.publish`). */
async function negotiatePublish(request: Requester, room: RoomRef, stream: StreamType, tracks: TrackLike[], Peer?: PeerConstructor): Promise<PeerLike> {
  const pc = new (peerConstructor(Peer))({ bundlePolicy: 'max-bundle' });
  try {
    for (const t of tracks) pc.addTransceiver(t, { direction: 'sendonly' });
    const reply = await request('media.publish', { ...room, stream, sdp: await offerWithCandidates(pc) });
    await pc.setRemoteDescription({ type: 'answer', sdp: reply.sdp as string });
    return pc;
  } catch (e) {
    pc.close();
    throw e;
  }
}

/** Your published stream in a room. */
export class LocalPublication {
  private current: PeerLike;
  private stopped = false;

  constructor(
    private readonly request: Requester,
    readonly room: RoomRef,
    readonly stream: StreamType,
    pc: PeerLike,
    readonly tracks: TrackLike[],
    private readonly Peer?: PeerConstructor,
    /** Called once when the publication is stopped. */
    private readonly onStop?: (p: LocalPublication) => void,
  ) {
    this.current = pc;
  }

  /** The peer connection that carries the stream now (a new one after renew()). */
  get pc(): PeerLike {
    return this.current;
  }

  /** Mutes or unmutes what you send (the track is disabled and the server stops forwarding it). */
  async mute(kind: 'audio' | 'video', muted: boolean): Promise<void> {
    for (const t of this.tracks) if (t.kind === kind) t.enabled = !muted;
    await this.request('media.mute', { ...this.room, stream: this.stream, [kind]: muted });
  }

  /** Stops publishing; the tracks themselves are left running (stop them yourself if you are done). */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.onStop?.(this);
    }
    this.current.close();
    await this.request('media.unpublish', { ...this.room, stream: this.stream }).catch(() => undefined);
  }

  /**
   * Publishes the same tracks again on a new peer connection, keeping what is muted: the client does this by itself
   * when a reconnection did not resume the session (the server ended the stream with the old session).
   */
  async renew(): Promise<void> {
    if (this.stopped) return;
    const pc = await negotiatePublish(this.request, this.room, this.stream, this.tracks, this.Peer);
    const old = this.current;
    this.current = pc;
    old.close();
    if (this.stopped) {
      pc.close();
      return;
    }
    for (const kind of ['audio', 'video'] as const) {
      if (this.tracks.some((t) => t.kind === kind && !t.enabled)) await this.request('media.mute', { ...this.room, stream: this.stream, [kind]: true });
    }
  }
}

/** Another member's stream as you receive it. */
export class RemoteSubscription {
  constructor(
    private readonly request: Requester,
    readonly subscriptionId: string,
    readonly userId: string,
    readonly stream: StreamType,
    readonly pc: PeerLike,
    /** The received tracks, as a MediaStream where the platform has one (attach it to a <video>). */
    readonly media: StreamLike,
  ) {}

  /** Stops receiving. */
  async close(): Promise<void> {
    this.pc.close();
    await this.request('media.unsubscribe', { subscriptionId: this.subscriptionId }).catch(() => undefined);
  }
}

/** Publishes local tracks (at most one audio and one video) as your `stream` in a room you entered as anchor. */
export async function publish(
  request: Requester,
  room: RoomRef,
  tracks: TrackLike[],
  stream: StreamType = 'main',
  Peer?: PeerConstructor,
  onStop?: (p: LocalPublication) => void,
): Promise<LocalPublication> {
  const pc = await negotiatePublish(request, room, stream, tracks, Peer);
  return new LocalPublication(request, room, stream, pc, tracks, Peer, onStop);
}

/** Subscribes to a member's stream; `kinds` defaults to audio and video. */
export async function subscribe(
  request: Requester,
  room: RoomRef,
  userId: string,
  opts: { stream?: StreamType; audio?: boolean; video?: boolean } = {},
  Peer?: PeerConstructor,
): Promise<RemoteSubscription> {
  const stream = opts.stream ?? 'main';
  const pc = new (peerConstructor(Peer))({ bundlePolicy: 'max-bundle' });
  const MS = (globalThis as { MediaStream?: new () => StreamLike }).MediaStream;
  const received: TrackLike[] = [];
  const media: StreamLike = MS ? new MS() : { getTracks: () => received };
  pc.addEventListener('track', (e) => {
    if (!e.track) return;
    received.push(e.track);
    media.addTrack?.(e.track);
  });
  try {
    if (opts.audio !== false && stream === 'main') pc.addTransceiver('audio', { direction: 'recvonly' });
    if (opts.video !== false) pc.addTransceiver('video', { direction: 'recvonly' });
    const reply = await request('media.subscribe', { ...room, userId, stream, sdp: await offerWithCandidates(pc) });
    await pc.setRemoteDescription({ type: 'answer', sdp: reply.sdp as string });
    return new RemoteSubscription(request, reply.subscriptionId as string, userId, stream, pc, media);
  } catch (e) {
    pc.close();
    throw e;
  }
}
