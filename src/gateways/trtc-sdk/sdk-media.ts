// An SDK user's streams in the SFU: its uplink, routed by the SSRCs of publish/v2, as MediaSources; and, for each
// publisher it subscribes to, a MediaSink that writes the publisher's packets with the SSRCs chosen in subscribe/v3.
import { PictureLossIndication, ReceiverEstimatedMaxBitrate, RtcpPayloadSpecificFeedback, type RtcpPacket, type RtpPacket } from 'werift';
import type { MediaKind, MediaSink, MediaSource, RtpSink } from '../../realtime/media/source.ts';
import type { SpcTransport } from './spc-transport.ts';

/** The uplink SSRCs of publish/v2 (0 = none). */
export interface UplinkSsrcs {
  audioSsrc: number;
  bigVideoSsrc: number;
  smallVideoSsrc: number;
  auxVideoSsrc: number;
}

/** The downlink SSRCs the subscriber chose in subscribe/v3. */
export interface DownlinkSsrcs {
  audioSsrc: number;
  bigVideoSsrc: number;
  bigVideoRtxSsrc: number;
  auxVideoSsrc: number;
  auxVideoRtxSsrc: number;
}

/** The SSRC trtcd's own RTCP is sent from. */
const SERVER_SSRC = 0x7472_7463;
/** The bitrate announced to SDK publishers (REMB), bits/s: without an estimate the browser falls back to ~30 kbit/s. */
export const UPLINK_REMB_BPS = 2_500_000;

/** One published stream of an SDK user: packets arrive from its transport's router. */
export class SdkStreamSource implements MediaSource {
  private sink: RtpSink | undefined;
  private closed = false;

  constructor(
    readonly kinds: Readonly<Record<MediaKind, boolean>>,
    private readonly askKeyframe: () => void,
  ) {}

  /** Hands one uplink packet of `kind` to the SFU. */
  emit(kind: MediaKind, rtp: RtpPacket): void {
    if (!this.closed && this.kinds[kind]) this.sink?.(kind, rtp);
  }

  onRtp(sink: RtpSink): void {
    this.sink = sink;
  }

  requestKeyframe(): void {
    if (!this.closed) this.askKeyframe();
  }

  close(): void {
    this.closed = true;
    this.sink = undefined;
  }
}

/** A PLI for one of the publisher's SSRCs. */
export function pli(mediaSsrc: number): RtcpPacket {
  return new RtcpPayloadSpecificFeedback({ feedback: new PictureLossIndication({ senderSsrc: SERVER_SSRC, mediaSsrc }) });
}

/** A REMB for the publisher's video SSRCs. */
export function remb(ssrcs: number[], bps = UPLINK_REMB_BPS): RtcpPacket {
  // REMB carries the bitrate as an 18-bit mantissa and a 6-bit exponent.
  let exp = 0;
  while (bps >> exp > 0x3ffff) exp++;
  return new RtcpPayloadSpecificFeedback({
    feedback: new ReceiverEstimatedMaxBitrate({ senderSsrc: SERVER_SSRC, mediaSsrc: 0, ssrcNum: ssrcs.length, brExp: exp, brMantissa: bps >> exp, ssrcFeedbacks: ssrcs }),
  });
}

/**
 * A subscription's packets to an SDK user: audio on `audioSsrc` with the client's Opus payload type, video on
 * `videoSsrc` (the big-video or aux SSRC) with the VP8 payload type the server chose for the downlink. Sequence
 * numbers and timestamps are the publisher's.
 */
export class SdkSink implements MediaSink {
  private closed = false;

  constructor(
    private readonly transport: SpcTransport,
    private readonly ssrc: Record<MediaKind, number>,
    private readonly wants: Record<MediaKind, boolean>,
  ) {}

  send(kind: MediaKind, rtp: RtpPacket): void {
    if (this.closed || !this.wants[kind]) return;
    const h = rtp.header;
    const payloadType = kind === 'audio' ? this.transport.codecs.opus.payload : this.transport.codecs.downVp8.payload;
    this.transport.sendRtp({ payloadType, ssrc: this.ssrc[kind], sequenceNumber: h.sequenceNumber, timestamp: h.timestamp, marker: h.marker }, rtp.payload);
  }

  /** Changes which kinds are sent (subscribe_change). */
  want(wants: Record<MediaKind, boolean>): void {
    this.wants.audio = wants.audio;
    this.wants.video = wants.video;
  }

  close(): void {
    this.closed = true;
  }
}
