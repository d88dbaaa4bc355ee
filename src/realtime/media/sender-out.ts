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
import type { PacketHistory } from './packet-history.ts';
import type { MediaWorkers } from './media-workers.ts';
import { RtpWriter, type RtpExtensions } from './rtp-writer.ts';

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
  headerExtensions: Array<{ uri: string; id: number }>;
  mid?: string;
}

/** How often the NTP/RTP time pair of the sender reports is refreshed, ms. */
const SR_CLOCK_MS = 100;

/**
 * A sending transceiver's output: each packet keeps its sequence number and timestamp and takes the sender's
 * negotiated SSRC, payload type and extensions (MID, transport-wide sequence); it goes out through an RtpWriter.
 * werift's sender keeps sending its reports from the figures kept here; NACKs are answered from the
 * publication's PacketHistory.
 */
export class SenderOut {
  private readonly sender: RTCRtpSender;
  private writer: RtpWriter | undefined;
  private ext: RtpExtensions | undefined;
  private history: PacketHistory | undefined;
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

  /** Sends one packet (dropped until the connection is up). */
  send(rtp: RtpPacket): void {
    const h = rtp.header;
    this.write(h.sequenceNumber, h.timestamp, h.marker, rtp.payload);
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

  /** Stops sending (the writer's worker route is freed). */
  close(): void {
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
