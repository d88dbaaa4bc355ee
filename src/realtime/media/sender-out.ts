// One sending transceiver of a server-side peer connection, fed by the SFU through the RtpWriter path.
import {
  GenericNack,
  ntpTime,
  PictureLossIndication,
  RTP_EXTENSION_URI,
  RtcpPayloadSpecificFeedback,
  RtcpTransportLayerFeedback,
  type RtcpPacket,
  type RtpPacket,
  type RTCRtpSender,
  type RTCRtpTransceiver,
} from 'werift';
import { takeCounts, type FanOut, type FanOutOwner, type RefreshClock } from './fan-out.ts';
import type { PacketHistory } from './packet-history.ts';
import { workerSent, type IngressMark, type LaneMember, type MediaWorkers } from './media-workers.ts';
import { RtpWriter, type LaneRoute, type RtpExtensions } from './rtp-writer.ts';

/** RTCP payload-specific feedback FMT of a Full Intra Request (RFC 5104; werift does not export its class). */
export const FIR_FMT = 4;

/** Calls `onFeedback` with the RTCP feedback the peer sends about a sending transceiver's stream. */
function onSenderFeedback(t: RTCRtpTransceiver, onFeedback: (p: RtcpPacket) => void): void {
  const sender = t.sender;
  sender.onRtcp.subscribe(onFeedback);
  // werift routes feedback by the sender SSRC first: from a peer that announced SSRCs for its recvonly sections it
  // lands on this transceiver's receiver instead of its sender.
  t.receiver.onRtcp.subscribe((p) => {
    if (p instanceof RtcpPayloadSpecificFeedback && 'mediaSsrc' in p.feedback && p.feedback.mediaSsrc === sender.ssrc) onFeedback(p);
    if (p instanceof RtcpTransportLayerFeedback && p.feedback instanceof GenericNack && p.feedback.mediaSourceSsrc === sender.ssrc) onFeedback(p);
  });
}

/** Calls `onKeyframe` when the peer asks a sending transceiver for a keyframe (PLI or FIR). */
export function onKeyframeRequest(t: RTCRtpTransceiver, onKeyframe: () => void): void {
  onSenderFeedback(t, (p) => {
    if (p instanceof RtcpPayloadSpecificFeedback && (p.feedback.count === PictureLossIndication.count || p.feedback.count === FIR_FMT)) onKeyframe();
  });
}

/** werift sender fields the forwarding path keeps up to date or reads (see rtp-writer.ts). */
interface SenderInternals {
  packetCount: number;
  octetCount: number;
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  runRtcp(): Promise<void>;
  /** Whether the sender-report loop runs (runRtcp returns at once then). */
  rtcpRunning?: boolean;
  headerExtensions: Array<{ uri: string; id: number }>;
  mid?: string;
}

/** How often the NTP/RTP time pair of the sender reports is refreshed, ms. */
const SR_CLOCK_MS = 100;

/** A sender's membership of its publication's fan-out, and the worker's counts as last taken. */
interface Membership {
  readonly fanOut: FanOut;
  readonly route: LaneRoute;
  readonly member: LaneMember;
  /** Bytes a packet takes besides its payload: the header and the SRTP tag. */
  readonly overhead: number;
  packets: number;
  octets: number;
}

/**
 * A sending transceiver's output: each packet keeps its sequence number and timestamp and takes the sender's
 * negotiated SSRC, payload type and extensions (MID, transport-wide sequence); it goes out through an RtpWriter.
 * Once its transport sends through a media worker, it joins the publication's FanOut there and the worker writes
 * its copies; it checks its transport on the fan-out's clock and leaves when the route changes. werift's sender
 * keeps sending its reports from the figures kept here; NACKs are answered from the publication's PacketHistory.
 */
export class SenderOut implements FanOutOwner {
  private readonly sender: RTCRtpSender;
  private writer: RtpWriter | undefined;
  private ext: RtpExtensions | undefined;
  private history: PacketHistory | undefined;
  private fanOut: FanOut | undefined;
  private membership: Membership | undefined;
  private srAt = 0;

  constructor(
    t: RTCRtpTransceiver,
    /** The media workers that protect and send, if any. */
    private readonly workers?: MediaWorkers,
  ) {
    this.sender = t.sender;
    onSenderFeedback(t, (p) => {
      if (p instanceof RtcpTransportLayerFeedback && p.feedback instanceof GenericNack) this.retransmit(p.feedback.lost);
    });
  }

  /** The SSRC the sender negotiated. */
  get ssrc(): number {
    return this.sender.ssrc;
  }

  /** The publication's recent packets, which NACKs are answered from. */
  useHistory(history: PacketHistory): void {
    this.history = history;
  }

  /** The publication's fan-out of this sender's kind, which the sender joins once it sends through a media worker. */
  useFanOut(fanOut: FanOut): void {
    // A membership of another publication's fan-out (one that ended) is left first.
    if (this.membership && this.membership.fanOut !== fanOut) this.leaveFanOut();
    this.fanOut = fanOut;
  }

  /**
   * Sends one packet (dropped until the connection is up); nothing to do when the fan-out's worker sent it, which it
   * did unless its ingress read the packet before it knew of this member (`from`, see IngressMark).
   */
  send(rtp: RtpPacket, from?: IngressMark): void {
    const m = this.membership;
    if (m && workerSent(m.route.lane, m.member, undefined, from)) return;
    const h = rtp.header;
    this.write(h.sequenceNumber, h.timestamp, h.marker, rtp.payload);
    if (!m && this.fanOut && this.writer) this.join(this.fanOut, this.writer);
  }

  /** Joins the fan-out when the transport sends through a media worker: the packets after this one go that way. */
  private join(fanOut: FanOut, writer: RtpWriter): void {
    const sender = this.sender;
    const route = writer.laneRoute();
    if (!route || !sender.codec) return;
    const { header, twccAt } = writer.template({ payloadType: sender.codec.payloadType, ssrc: sender.ssrc, sequenceNumber: 0, timestamp: 0, marker: false }, this.ext);
    const member = fanOut.join(route.lane, route.id, header, twccAt, this);
    if (member) this.membership = { fanOut, route, member, overhead: header.length + route.tag, packets: 0, octets: 0 };
  }

  refresh(timestamp: number, clock: RefreshClock): void {
    const m = this.membership;
    if (!m) return;
    const { packets: dp, octets: doct } = takeCounts(m);
    const s = this.sender as unknown as SenderInternals;
    if (dp > 0) {
      s.packetCount = (s.packetCount + dp) >>> 0;
      s.octetCount += doct;
      this.writer?.account(dp, doct + dp * m.overhead);
      this.srAt = clock.ms;
      s.ntpTimestamp = clock.ntp;
      s.rtpTimestamp = timestamp;
      if (!s.rtcpRunning) void s.runRtcp();
    }
    const writer = this.writer;
    if (!writer || writer.dtls !== this.sender.dtlsTransport || writer.laneRoute() !== m.route) this.leaveFanOut();
  }

  /** Leaves the fan-out at once: packets go through the writer again (and may join again on a new route). */
  leaveFanOut(): void {
    const m = this.membership;
    if (!m) return;
    this.membership = undefined;
    m.fanOut.leave(m.route.lane, m.member, this);
  }

  private write(seq: number, timestamp: number, marker: boolean, payload: Buffer): void {
    const sender = this.sender;
    if (!sender.codec || sender.dtlsTransport.state !== 'connected') return;
    if (this.writer?.dtls !== sender.dtlsTransport) {
      this.writer?.close();
      this.writer = new RtpWriter(sender.dtlsTransport, undefined, this.workers);
    }
    this.ext ??= extensionsOf(sender);
    if (!this.writer.write({ payloadType: sender.codec.payloadType, ssrc: sender.ssrc, sequenceNumber: seq, timestamp, marker }, payload, this.ext)) return;
    const s = sender as unknown as SenderInternals;
    s.packetCount = (s.packetCount + 1) >>> 0;
    s.octetCount += payload.length;
    const now = Date.now();
    if (now - this.srAt >= SR_CLOCK_MS) {
      this.srAt = now;
      s.ntpTimestamp = ntpTime();
      s.rtpTimestamp = timestamp;
      void s.runRtcp();
    }
  }

  /** Stops sending at once (the fan-out membership ends and the writer's worker route is freed). */
  close(): void {
    this.leaveFanOut();
    this.fanOut = undefined;
    this.writer?.close();
    this.writer = undefined;
  }

  /** Sends again the packets a NACK lists, those the publication still keeps. */
  private retransmit(lost: number[]): void {
    if (!this.history) return;
    for (const seq of lost) {
      const p = this.history.get(seq);
      if (p) this.write(seq, p.timestamp, p.marker, p.payload);
    }
  }
}

/** The MID and transport-wide sequence extensions a sender negotiated. */
function extensionsOf(sender: RTCRtpSender): RtpExtensions {
  const s = sender as unknown as SenderInternals;
  const midId = s.headerExtensions.find((e) => e.uri === RTP_EXTENSION_URI.sdesMid)?.id;
  const twccId = s.headerExtensions.find((e) => e.uri === RTP_EXTENSION_URI.transportWideCC)?.id;
  return { midId, mid: s.mid ? Buffer.from(s.mid) : undefined, twccId };
}
