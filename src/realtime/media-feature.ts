import { Type } from '@sinclair/typebox';
import { Privilege } from '../auth/private-map-key.ts';
import type { Bus } from '../bus/bus.ts';
import type { Logger } from '../logger.ts';
import {
  MAX_NUMERIC_ROOM_ID,
  TRTC_BLOCK_TOPIC,
  TRTC_ROOM_TOPIC,
  type RoomRef,
  type TrtcBlockEvent,
  type TrtcRoomEvent,
  type TrtcRoomsService,
} from '../services/trtc-rooms/trtc-rooms-service.ts';
import { listen, typed, type RtcFeature, type SessionEnd } from './feature.ts';
import type { MediaNetwork } from './media/peer-config.ts';
import { WebRtcPublisher } from './media/publisher.ts';
import { MAX_SDP_CHARS, offeredMedia, receives, sends, type OfferedMedia } from './media/sdp.ts';
import { Sfu, STREAM_TYPES, type Publication, type StreamType } from './media/sfu.ts';
import type { MediaKind } from './media/source.ts';
import { Subscriber } from './media/subscriber.ts';
import { event, MAX_SUBSCRIPTIONS_PER_SESSION, parseRoom, RtcErrors } from './protocol.ts';
import type { RtcSession } from './session.ts';
import { roomOf, type TrtcRoomFeature } from './trtc-room-feature.ts';
import { GatewayError } from '../gateways/gateway-error.ts';

/** What the media part of /rtc needs. */
interface MediaFeatureDeps {
  rooms: Pick<TrtcRoomFeature, 'entry' | 'sessionsIn'>;
  /** Where the room's media blocks (SetUserBlocked*) are kept; a new publication starts with its user's. */
  trtcRooms: Pick<TrtcRoomsService, 'blocked'>;
  bus: Bus;
  log: Logger;
  net: MediaNetwork;
}

/** The PrivateMapKey bit needed to send, and to receive, each kind of each stream (https://trtc.io/document/35157). */
const SEND_BIT: Record<StreamType, Record<MediaKind, number>> = {
  main: { audio: Privilege.SendAudio, video: Privilege.SendVideo },
  sub: { audio: Privilege.SendAudio, video: Privilege.SendSubVideo },
};
const RECEIVE_BIT: Record<StreamType, Record<MediaKind, number>> = {
  main: { audio: Privilege.ReceiveAudio, video: Privilege.ReceiveVideo },
  sub: { audio: Privilege.ReceiveAudio, video: Privilege.ReceiveSubVideo },
};
const BIT_NAMES: Record<number, string> = {
  [Privilege.SendAudio]: 'send audio (4)',
  [Privilege.SendVideo]: 'send video (16)',
  [Privilege.SendSubVideo]: 'send sub-stream video (64)',
  [Privilege.ReceiveAudio]: 'receive audio (8)',
  [Privilege.ReceiveVideo]: 'receive video (32)',
  [Privilege.ReceiveSubVideo]: 'receive sub-stream video (128)',
};

const Room = { roomId: Type.Optional(Type.Unknown()), strRoomId: Type.Optional(Type.Unknown()) };
const Stream = Type.Union(STREAM_TYPES.map((t) => Type.Literal(t)));
const Sdp = Type.String({ minLength: 1, maxLength: MAX_SDP_CHARS });

/** The wire form of a published stream (docs/realtime-protocol.md "Stream"). */
function streamView(p: Publication): Record<string, unknown> {
  return {
    userId: p.userId,
    stream: p.stream,
    audio: p.source.kinds.audio,
    video: p.source.kinds.video,
    audioMuted: p.muted.audio,
    videoMuted: p.muted.video,
    audioBlocked: p.blocked.audio,
    videoBlocked: p.blocked.video,
  };
}

/**
 * WebRTC media over /rtc: `media.publish` / `media.subscribe` carry SDP offers and answers (no trickle: each side's
 * candidates are in its description), the SFU forwards RTP between them, and the room hears `media.published`,
 * `media.updated` and `media.unpublished`. Publishing needs the anchor role and the PrivateMapKey send bit of each
 * kind the offer sends; subscribing needs the receive bits. Leaving or being removed from a room ends its media; a
 * server block (SetUserBlocked*) stops forwarding the user's blocked kinds and the room hears `media.blocked`.
 */
export class MediaFeature implements RtcFeature {
  readonly sfu: Sfu;
  private unsubscribe: Array<() => void> = [];

  readonly handlers = {
    'media.publish': typed(Type.Object({ ...Room, stream: Type.Optional(Stream), sdp: Sdp }), (s, m) => this.publish(s, parseRoom(m, MAX_NUMERIC_ROOM_ID), m.stream ?? 'main', m.sdp)),
    'media.unpublish': typed(Type.Object({ ...Room, stream: Type.Optional(Stream) }), (s, m) => {
      const ref = parseRoom(m, MAX_NUMERIC_ROOM_ID);
      this.inRoom(s, ref);
      const pub = this.sfu.find(s.sdkAppId, ref, s.userId, m.stream ?? 'main');
      if (!pub || pub.owner !== s) throw new GatewayError(RtcErrors.NO_SUCH_STREAM, 'this session does not publish that stream in this room');
      this.sfu.unpublish(pub, 'unpublished');
      return {};
    }),
    'media.subscribe': typed(Type.Object({ ...Room, userId: Type.String({ minLength: 1, maxLength: 32 }), stream: Type.Optional(Stream), sdp: Sdp }), (s, m) =>
      this.subscribe(s, parseRoom(m, MAX_NUMERIC_ROOM_ID), m.userId, m.stream ?? 'main', m.sdp),
    ),
    'media.unsubscribe': typed(Type.Object({ subscriptionId: Type.String({ minLength: 1, maxLength: 32 }) }), (s, m) => {
      const sub = this.sfu.subscription(m.subscriptionId);
      if (!sub || sub.owner !== s) throw new GatewayError(RtcErrors.NO_SUCH_SUBSCRIPTION);
      this.sfu.unsubscribe(sub);
      return {};
    }),
    'media.mute': typed(Type.Object({ ...Room, stream: Type.Optional(Stream), audio: Type.Optional(Type.Boolean()), video: Type.Optional(Type.Boolean()) }), (s, m) => {
      const ref = parseRoom(m, MAX_NUMERIC_ROOM_ID);
      this.inRoom(s, ref);
      const pub = this.sfu.find(s.sdkAppId, ref, s.userId, m.stream ?? 'main');
      if (!pub || pub.owner !== s) throw new GatewayError(RtcErrors.NO_SUCH_STREAM, 'this session does not publish that stream in this room');
      if (m.audio !== undefined) this.sfu.setMuted(pub, 'audio', m.audio);
      if (m.video !== undefined) this.sfu.setMuted(pub, 'video', m.video);
      this.tellRoom(pub, event('media.updated', { room: roomOf(pub.room), ...streamView(pub) }), s);
      return { audioMuted: pub.muted.audio, videoMuted: pub.muted.video };
    }),
  };

  constructor(private readonly d: MediaFeatureDeps) {
    this.sfu = new Sfu(
      { unpublished: (p, reason) => this.tellRoom(p, event('media.unpublished', { room: roomOf(p.room), userId: p.userId, stream: p.stream, reason }), p.owner) },
      (sdkAppId, room, userId) => d.trtcRooms.blocked(sdkAppId, room, userId),
    );
  }

  /** Follows room events and blocks: leaving, removal, dismissal and blocks act on the media here. */
  start(): void {
    if (this.unsubscribe.length > 0) return;
    const d = this.d;
    this.unsubscribe = [
      // Leaving a room, being removed from it or its dismissal ends the user's media there at once.
      listen(d.bus, TRTC_ROOM_TOPIC, d.log, 'rtc media room event', (p) => {
        const e = p as TrtcRoomEvent;
        if (e.type === 'dismissed') this.sfu.dropRoom(e.sdkAppId, e.room, e.reason);
        else if (e.type !== 'enter') for (const u of e.users) this.sfu.dropUser(e.sdkAppId, e.room, u, e.reason);
      }),
      // A block (from any node) applies to the user's publications here in the same tick; the room's sessions, the
      // blocked user's included, are told.
      listen(d.bus, TRTC_BLOCK_TOPIC, d.log, 'rtc media block event', (p) => {
        const e = p as TrtcBlockEvent;
        this.sfu.setBlocked(e.sdkAppId, e.room, e.userId, e);
        const text = event('media.blocked', { room: roomOf(e.room), userId: e.userId, audioBlocked: e.audio, videoBlocked: e.video });
        for (const s of this.d.rooms.sessionsIn(e.sdkAppId, e.room)) s.deliver(text);
      }),
    ];
  }

  /** The streams published in a room, for the room.enter reply. */
  streams(sdkAppId: number, room: RoomRef): Array<Record<string, unknown>> {
    return this.sfu.inRoom(sdkAppId, room).map(streamView);
  }

  /** Tells the room's sessions on this node (but `except`) about a published stream (the avatar's, say). */
  announce(pub: Publication): void {
    this.tellRoom(pub, event('media.published', { room: roomOf(pub.room), ...streamView(pub) }), pub.owner);
  }

  /** Tells the room's sessions on this node that a stream changed (muted, or other kinds), as `media.updated`. */
  announceUpdate(pub: Publication): void {
    this.tellRoom(pub, event('media.updated', { room: roomOf(pub.room), ...streamView(pub) }), pub.owner);
  }

  ended(s: RtcSession, how: SessionEnd): void {
    // The same reasons as the room.userLeave the others get for this session.
    this.sfu.dropOwner(s, how === 'logout' ? 'leave' : 'disconnected');
  }

  close(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    this.sfu.close();
  }

  private async publish(s: RtcSession, ref: RoomRef, stream: StreamType, sdp: string): Promise<Record<string, unknown>> {
    const entry = this.inRoom(s, ref);
    if (entry.role !== 'anchor') throw new GatewayError(RtcErrors.AUDIENCE_CANNOT_PUBLISH);
    const kinds = this.kindsOf(sdp, sends, 'send');
    if (stream === 'sub' && kinds.audio) throw new GatewayError(RtcErrors.INVALID_ARGUMENT, 'the sub stream carries video only');
    this.require(entry.privileges, stream, kinds, SEND_BIT);
    // Filled in once published: a connection that fails later unpublishes.
    const made: { pub?: Publication } = {};
    const answered = await WebRtcPublisher.answer(sdp, kinds, this.d.net, (why) => {
      if (made.pub && this.sfu.live(made.pub)) this.sfu.unpublish(made.pub, why === 'timeout' ? 'connection timed out' : 'connection failed');
    }).catch((err: unknown) => {
      throw new GatewayError(RtcErrors.SDP_REJECTED, `the offer could not be negotiated: ${(err as Error).message}`);
    });
    // The session may have left the room (or ended) while the answer was made.
    if (s.ended || !this.d.rooms.entry(s, ref)) {
      answered.publisher.close();
      throw new GatewayError(RtcErrors.NOT_IN_ROOM);
    }
    const pub = (made.pub = this.sfu.publish({ sdkAppId: s.sdkAppId, room: ref, userId: s.userId, stream, source: answered.publisher, owner: s }));
    this.announce(pub);
    return { room: roomOf(ref), stream, audio: kinds.audio, video: kinds.video, audioBlocked: pub.blocked.audio, videoBlocked: pub.blocked.video, sdp: answered.sdp };
  }

  private async subscribe(s: RtcSession, ref: RoomRef, userId: string, stream: StreamType, sdp: string): Promise<Record<string, unknown>> {
    const entry = this.inRoom(s, ref);
    const pub = this.sfu.find(s.sdkAppId, ref, userId, stream);
    if (!pub) throw new GatewayError(RtcErrors.NO_SUCH_STREAM);
    if (this.sfu.subscriptionCount(s) >= MAX_SUBSCRIPTIONS_PER_SESSION) throw new GatewayError(RtcErrors.TOO_MANY_SUBSCRIPTIONS);
    const asked = this.kindsOf(sdp, receives, 'receive');
    const kinds = { audio: asked.audio && pub.source.kinds.audio, video: asked.video && pub.source.kinds.video };
    if (!kinds.audio && !kinds.video) throw new GatewayError(RtcErrors.INVALID_ARGUMENT, 'the offer receives none of the kinds the stream carries');
    this.require(entry.privileges, stream, kinds, RECEIVE_BIT);
    const made: { id?: string } = {};
    const answered = await Subscriber.answer(
      sdp,
      kinds,
      this.d.net,
      () => this.sfu.askKeyframe(pub),
      () => {
        const sub = made.id === undefined ? undefined : this.sfu.subscription(made.id);
        if (sub) this.sfu.unsubscribe(sub);
      },
    ).catch((err: unknown) => {
      throw new GatewayError(RtcErrors.SDP_REJECTED, `the offer could not be negotiated: ${(err as Error).message}`);
    });
    if (s.ended || !this.d.rooms.entry(s, ref) || !this.sfu.live(pub)) {
      answered.subscriber.close();
      throw new GatewayError(s.ended || !this.d.rooms.entry(s, ref) ? RtcErrors.NOT_IN_ROOM : RtcErrors.NO_SUCH_STREAM);
    }
    const sub = this.sfu.subscribe(pub, answered.subscriber, s);
    made.id = sub.id;
    return { subscriptionId: sub.id, room: roomOf(ref), userId, stream, audio: kinds.audio, video: kinds.video, sdp: answered.sdp };
  }

  /** The session's entry in the room, or NOT_IN_ROOM. */
  private inRoom(s: RtcSession, ref: RoomRef): NonNullable<ReturnType<MediaFeatureDeps['rooms']['entry']>> {
    const e = this.d.rooms.entry(s, ref);
    if (!e) throw new GatewayError(RtcErrors.NOT_IN_ROOM);
    return e;
  }

  /** Which kinds an offer sends (or receives): at most one section of each, nothing else active. */
  private kindsOf(sdp: string, active: (m: OfferedMedia) => boolean, verb: string): Record<MediaKind, boolean> {
    let sections: OfferedMedia[];
    try {
      sections = offeredMedia(sdp);
    } catch (err) {
      throw new GatewayError(RtcErrors.SDP_REJECTED, (err as Error).message);
    }
    const kinds = { audio: false, video: false };
    for (const m of sections.filter(active)) {
      if (m.kind !== 'audio' && m.kind !== 'video') throw new GatewayError(RtcErrors.SDP_REJECTED, `only audio and video sections may ${verb}`);
      if (kinds[m.kind]) throw new GatewayError(RtcErrors.SDP_REJECTED, `the offer may ${verb} one ${m.kind} section at most`);
      kinds[m.kind] = true;
    }
    if (!kinds.audio && !kinds.video) throw new GatewayError(RtcErrors.SDP_REJECTED, `the offer does not ${verb} audio or video`);
    return kinds;
  }

  /** Refuses (-100006) unless `privileges` holds the bit of every kind asked for. */
  private require(privileges: number, stream: StreamType, kinds: Record<MediaKind, boolean>, bits: Record<StreamType, Record<MediaKind, number>>): void {
    for (const kind of ['audio', 'video'] as const) {
      const bit = bits[stream][kind];
      if (kinds[kind] && (privileges & bit) === 0) {
        throw new GatewayError(RtcErrors.INVALID_PRIVATE_MAPKEY, `the privateMapKey does not grant ${BIT_NAMES[bit] ?? bit}`);
      }
    }
  }

  /** Writes an event to the room's sessions on this node but `except`. */
  private tellRoom(p: Publication, text: string, except: unknown): void {
    for (const s of this.d.rooms.sessionsIn(p.sdkAppId, p.room)) if (s !== except) s.deliver(text);
  }
}
