// What a publication forwards: RTP packets of an audio and/or video track, from a WebRTC publisher or a clip player.
import type { RtpPacket } from 'werift';
import type { FanOut } from './fan-out.ts';
import type { IngressMark } from './media-workers.ts';
import type { PacketHistory } from './packet-history.ts';

/** A media kind. */
export type MediaKind = 'audio' | 'video';

/**
 * Receives every RTP packet of a source; the packet must not be changed (it is shared by every subscriber).
 * `from`: where a media worker's ingress read it, and whether that worker sent it to its members already.
 */
export type RtpSink = (kind: MediaKind, rtp: RtpPacket, from?: IngressMark) => void;

/**
 * A source of RTP for one published stream (main or sub): the SFU forwards what it emits to the stream's subscribers
 * without transcoding. Audio is Opus (48 kHz clock), video VP8 (90 kHz clock); payload types and SSRCs are rewritten
 * per subscriber, sequence numbers and timestamps are kept.
 */
export interface MediaSource {
  /** Which tracks the source carries. */
  readonly kinds: Readonly<Record<MediaKind, boolean>>;
  /** Sets the one sink that gets every packet (replaces any earlier one). */
  onRtp(sink: RtpSink): void;
  /** Given the publication's fan-outs, for a source whose packets a media worker forwards itself (sources that do). */
  useFanOuts?(fanOut: Readonly<Record<MediaKind, FanOut>>): void;
  /** Asks for a video keyframe soon (a new subscriber, or a subscriber's PLI/FIR). */
  requestKeyframe(): void;
  /** Stops producing packets and frees what the source holds. */
  close(): void;
}

/** Where a subscription's packets go: a client's connection, written with the SSRCs and payload types it negotiated. */
export interface MediaSink {
  /** Sends one packet of `kind` (read by a media worker's ingress as `from` says); the packet must not be changed. */
  send(kind: MediaKind, rtp: RtpPacket, from?: IngressMark): void;
  /** Given the publication's recent packets of `kind`, for answering the subscriber's NACKs (sinks that do). */
  useHistory?(kind: MediaKind, history: PacketHistory): void;
  /** Given the publication's fan-out of `kind`, which the sink's sender joins once a media worker sends for it (sinks that do). */
  useFanOut?(kind: MediaKind, fanOut: FanOut): void;
  /** Stops sending and frees the connection, if the sink owns one. */
  close(): void;
}

/** The media kind of a werift transceiver or track kind, or undefined for anything else. */
export function mediaKind(kind: string): MediaKind | undefined {
  return kind === 'audio' || kind === 'video' ? kind : undefined;
}
