// An SDK user's streams in the SFU: its uplink, routed by the SSRCs of publish/v2, as MediaSources; and, for each
// publisher it subscribes to, a MediaSink that writes the publisher's packets with the SSRCs chosen in subscribe/v3.
import {
  GenericNack,
  PictureLossIndication,
  ReceiverEstimatedMaxBitrate,
  RtcpPayloadSpecificFeedback,
  RtcpTransportLayerFeedback,
  RtpHeader,
  RtpPacket,
  type RtcpPacket,
} from 'werift';
import { takeCounts, type FanOut, type FanOutOwner } from '../../realtime/media/fan-out.ts';
import { workerSent, type IngressMark, type LaneMember, type SendLane } from '../../realtime/media/media-workers.ts';
import type { MediaKind, MediaSink, MediaSource, RtpSink } from '../../realtime/media/source.ts';
import { startsVp8Keyframe } from '../../realtime/media/vp8-packetizer.ts';
import type { SpcMembership, SpcTransport } from './spc-transport.ts';

/** The uplink SSRCs of publish/v2 (0 = none). */
export interface UplinkSsrcs {
  audioSsrc: number;
  bigVideoSsrc: number;
  bigVideoRtxSsrc: number;
  smallVideoSsrc: number;
  smallVideoRtxSsrc: number;
  auxVideoSsrc: number;
  auxVideoRtxSsrc: number;
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
const UPLINK_REMB_BPS = 2_500_000;

/** One published stream of an SDK user: packets arrive from its transport's router. */
export class SdkStreamSource implements MediaSource {
  private sink: RtpSink | undefined;
  private closed = false;

  readonly kinds: Record<MediaKind, boolean>;
  /** The publication's fan-outs, once published: a media worker reading the uplink may forward to them itself. */
  fanOut: Readonly<Record<MediaKind, FanOut>> | undefined;

  constructor(
    kinds: Readonly<Record<MediaKind, boolean>>,
    private readonly askKeyframe: () => void,
    private readonly onFanOuts: () => void = () => undefined,
  ) {
    this.kinds = { ...kinds };
  }

  /** Changes the kinds the stream carries (the SDK added or dropped a track of a published stream). */
  setKinds(kinds: Readonly<Record<MediaKind, boolean>>): void {
    this.kinds.audio = kinds.audio;
    this.kinds.video = kinds.video;
  }

  /** Hands one uplink packet of `kind` to the SFU; `from`: where a media worker read it (see IngressMark). */
  emit(kind: MediaKind, rtp: RtpPacket, from?: IngressMark): void {
    if (!this.closed && this.kinds[kind]) this.sink?.(kind, rtp, from);
  }

  onRtp(sink: RtpSink): void {
    this.sink = sink;
  }

  useFanOuts(fanOut: Readonly<Record<MediaKind, FanOut>>): void {
    this.fanOut = fanOut;
    this.onFanOuts();
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

/** Packets kept per downlink SSRC to answer NACKs (about 1.5 s of 500 kbit/s video). */
export const NACK_HISTORY = 128;

/** Video clock ticks put between the last packet of one source and the first of the next on the same SSRC (~30 fps). */
const SWITCH_TS_GAP = 3000;

/**
 * Writes packets of one kind to one downlink SSRC. The source behind an SSRC can change (the big and the small stream
 * of a publisher both go out on the big-video SSRC): sequence numbers and timestamps are then offset so the receiver
 * sees one continuous stream. With a preferred source (`prefer`), packets of any other are dropped, and a switch to the
 * preferred one waits for the first packet of its next keyframe, the old source being sent until then. While one
 * source is sent and no switch waits, the SSRC joins that source's fan-out (when the SFU gave one and the transport
 * sends through a media worker): the worker writes each copy with this SSRC's offsets, and `write` only keeps the
 * numbering and the NACK history; a switch, a kind no longer wanted or a changed route leaves at once. When the
 * publisher's uplink is read by that same worker, it forwards packets before this thread sees them, and learns of a
 * join or leave only when it handles the message: each packet's IngressMark says whether it went out under a
 * membership, so the numbering here stays the worker's, and a switch waits until the worker is past the leave.
 */
export class SsrcWriter implements FanOutOwner {
  private source: object | undefined;
  /** The fan-out of each source that has one (an SFU publication's subscription). */
  private readonly fanOuts = new Map<object, FanOut>();
  private membership: (SpcMembership & { source: object }) | undefined;
  /**
   * The membership last left, while the worker may still send packets under it: those it read before it handled the
   * leave (message `leftAt`, see IngressMark), numbered with the offsets it had (`seq`, `timestamp`).
   */
  private left: { source: object; lane: SendLane; member: LaneMember; leftAt: number; seq: number; timestamp: number } | undefined;
  private preferred: object | undefined;
  /** Called with each packet offered, before it is chosen or dropped. */
  onOffered: ((source: object, rtp: RtpPacket) => void) | undefined;
  private seqOffset = 0;
  private tsOffset = 0;
  private lastSeq = -1;
  private lastTs = 0;
  /**
   * The last NACK_HISTORY packets written, by sequence number modulo the ring's size: their sequence number (-1 for
   * none), timestamp and marker in typed arrays, and the publisher's payload itself (shared, not copied), so a packet
   * written allocates nothing here.
   */
  private readonly sent = { seq: new Int32Array(NACK_HISTORY).fill(-1), timestamp: new Uint32Array(NACK_HISTORY), marker: new Uint8Array(NACK_HISTORY), payload: new Array<Buffer | undefined>(NACK_HISTORY) };
  private rtxSeq = Math.floor(Math.random() * 0x10000);

  constructor(
    private readonly transport: Pick<SpcTransport, 'sendRtp'> & Partial<Pick<SpcTransport, 'joinFanOut' | 'holds'>>,
    readonly ssrc: number,
    private readonly payloadType: number,
    /** Where retransmissions go (RFC 4588): the RTX SSRC and payload type the subscriber's answer declares; none for audio. */
    private readonly rtx?: { ssrc: number; payloadType: number },
  ) {}

  /**
   * Answers a NACK: each lost packet still kept is sent again as RTX (the original sequence number in front of the
   * payload), or on the media SSRC itself when the subscriber has no RTX stream.
   */
  resend(lost: number[]): void {
    const kept = this.sent;
    for (const seq of lost) {
      const at = seq % NACK_HISTORY;
      const payload = kept.payload[at];
      if (kept.seq[at] !== seq || !payload) continue;
      const timestamp = kept.timestamp[at]!;
      const marker = kept.marker[at] === 1;
      if (this.rtx && this.rtx.ssrc !== 0 && this.rtx.payloadType !== 0) {
        const osn = Buffer.allocUnsafe(2);
        osn.writeUInt16BE(seq);
        this.rtxSeq = (this.rtxSeq + 1) & 0xffff;
        this.transport.sendRtp({ payloadType: this.rtx.payloadType, ssrc: this.rtx.ssrc, sequenceNumber: this.rtxSeq, timestamp, marker }, Buffer.concat([osn, payload]));
      } else {
        this.transport.sendRtp({ payloadType: this.payloadType, ssrc: this.ssrc, sequenceNumber: seq, timestamp, marker }, payload);
      }
    }
  }

  /** Sends `source` from its next keyframe on, and only it (undefined: whatever source writes, at once). */
  prefer(source: object | undefined): void {
    this.preferred = source;
    if (this.membership && source !== undefined && source !== this.membership.source) this.leaveFanOut();
  }

  /** The fan-out that `source`'s packets are also handed to (the SFU's, for its publication's kind). */
  useFanOut(source: object, fanOut: FanOut): void {
    if (this.membership?.source === source && this.membership.fanOut !== fanOut) this.leaveFanOut();
    this.fanOuts.set(source, fanOut);
  }

  /** Stops taking `source`'s packets from its fan-out (the kind is no longer wanted, or the subscription ended). */
  dropFanOut(source: object, forget: boolean): void {
    if (this.membership?.source === source) this.leaveFanOut();
    if (forget) this.fanOuts.delete(source);
  }

  /** Takes the worker's counts for the transport's statistics, and leaves when the transport's route changed. */
  refresh(): void {
    const m = this.membership;
    if (!m) return;
    this.count(m);
    if (!this.transport.holds?.(m)) this.leaveFanOut();
  }

  private count(m: SpcMembership): void {
    const sent = takeCounts(m);
    if (sent.packets > 0) m.writer.account(sent.packets, sent.octets + sent.packets * m.overhead);
  }

  private leaveFanOut(): void {
    const m = this.membership;
    if (!m) return;
    this.membership = undefined;
    this.count(m);
    const lane = m.route.lane;
    m.fanOut.leave(lane, m.member, this);
    this.left = { source: m.source, lane, member: m.member, leftAt: lane.posted, seq: this.seqOffset, timestamp: this.tsOffset };
  }

  /** The preferred source. */
  get preference(): object | undefined {
    return this.preferred;
  }

  /** Writes one packet that came from `source`; `from`: where a media worker's ingress read it (see IngressMark). */
  write(source: object, rtp: RtpPacket, from?: IngressMark): void {
    const h = rtp.header;
    this.onOffered?.(source, rtp);
    const left = this.left;
    // Packets read after the worker handled the leave (or not read by it at all) show it sends nothing more under it.
    if (left && (!from || from.lane !== left.lane || ((from.handled - left.leftAt) | 0) >= 0)) this.left = undefined;
    // A packet the worker sent already, under a membership and with its offsets: only its numbering is kept here.
    const m = this.membership;
    if (m?.source === source && workerSent(m.route.lane, m.member, undefined, from)) {
      this.keep(h, this.seqOffset, this.tsOffset, rtp.payload);
      return;
    }
    if (this.left?.source === source && workerSent(this.left.lane, this.left.member, this.left.leftAt, from)) {
      this.keep(h, this.left.seq, this.left.timestamp, rtp.payload);
      return;
    }
    if (this.preferred !== undefined && source !== this.preferred && source !== this.source) return;
    if (source !== this.source && this.preferred !== undefined && this.source !== undefined && !startsVp8Keyframe(rtp.payload)) return;
    // A membership carries the offsets of the source it joined with.
    if (m && m.source !== source) this.leaveFanOut();
    if (source !== this.source) {
      // Not while the worker may still send the old source's packets, numbered on from the last one seen here.
      if (this.left) return;
      if (this.lastSeq >= 0) {
        this.seqOffset = (this.lastSeq + 1 - h.sequenceNumber) & 0xffff;
        this.tsOffset = (this.lastTs + SWITCH_TS_GAP - h.timestamp) >>> 0;
      }
      this.source = source;
    }
    const sequenceNumber = this.keep(h, this.seqOffset, this.tsOffset, rtp.payload);
    this.transport.sendRtp({ payloadType: this.payloadType, ssrc: this.ssrc, sequenceNumber, timestamp: this.lastTs, marker: h.marker }, rtp.payload);
    if (this.membership === undefined && this.left === undefined && (this.preferred === undefined || this.preferred === source)) this.joinFanOut(source);
  }

  /** Numbers a packet written (here or by the worker) with these offsets and keeps it for NACKs; its sequence number. */
  private keep(h: RtpHeader, seqOffset: number, tsOffset: number, payload: Buffer): number {
    const sequenceNumber = (h.sequenceNumber + seqOffset) & 0xffff;
    const timestamp = (h.timestamp + tsOffset) >>> 0;
    this.lastSeq = sequenceNumber;
    this.lastTs = timestamp;
    if (this.rtx) {
      const at = sequenceNumber % NACK_HISTORY;
      this.sent.seq[at] = sequenceNumber;
      this.sent.timestamp[at] = timestamp;
      this.sent.marker[at] = h.marker ? 1 : 0;
      this.sent.payload[at] = payload;
    }
    return sequenceNumber;
  }

  /** Joins `source`'s fan-out with this SSRC's offsets: the packets after this one are written by a media worker. */
  private joinFanOut(source: object): void {
    const fanOut = this.fanOuts.get(source);
    if (!fanOut || !this.transport.joinFanOut) return;
    const m = this.transport.joinFanOut(fanOut, { payloadType: this.payloadType, ssrc: this.ssrc }, { seq: this.seqOffset, timestamp: this.tsOffset }, this);
    if (m) this.membership = { ...m, source };
  }
}

/** A subscription's packets to an SDK user, through the writers of the SSRCs it chose. */
export class SdkSink implements MediaSink {
  private closed = false;

  constructor(
    private readonly writers: Partial<Record<MediaKind, SsrcWriter>>,
    readonly wants: Record<MediaKind, boolean>,
  ) {}

  send(kind: MediaKind, rtp: RtpPacket, from?: IngressMark): void {
    if (!this.closed && this.wants[kind]) this.writers[kind]?.write(this, rtp, from);
  }

  /** The SFU's fan-out of the publication's `kind`: the writer joins it while it sends this subscription alone. */
  useFanOut(kind: MediaKind, fanOut: FanOut): void {
    if (!this.closed) this.writers[kind]?.useFanOut(this, fanOut);
  }

  /** Changes which kinds are sent (subscribe_change); a kind no longer wanted leaves its fan-out at once. */
  want(wants: Record<MediaKind, boolean>): void {
    this.wants.audio = wants.audio;
    this.wants.video = wants.video;
    for (const kind of ['audio', 'video'] as const) if (!wants[kind]) this.writers[kind]?.dropFanOut(this, false);
  }

  close(): void {
    this.closed = true;
    for (const w of Object.values(this.writers)) w.dropFanOut(this, true);
  }
}

/** Uplink sequence numbers remembered as arrived, so that an RTX copy of one is not forwarded again (a power of two). */
const UPLINK_SEEN = 1024;

/** The longest gap in an uplink stream that is asked for again (a larger jump is a restart, not loss). */
const MAX_NACK_GAP = 64;

/**
 * Loss repair on one uplink video stream of an SDK publisher: sequence gaps become a NACK to the publisher, and its
 * RTX answers (RFC 4588: the original sequence number, then the payload) become the original packets again.
 */
export class UplinkRepair {
  private highest = -1;
  /** The recent sequence numbers that arrived, by sequence number modulo the ring's size (-1: none). */
  private readonly seen = new Int32Array(UPLINK_SEEN).fill(-1);

  constructor(
    readonly ssrc: number,
    readonly rtxSsrc: number,
    private readonly payloadType: number,
  ) {}

  /** A media packet arrived: the sequence numbers it skipped, to be asked for (empty when none). */
  arrived(seq: number): number[] {
    this.seen[seq % UPLINK_SEEN] = seq;
    if (this.highest < 0) {
      this.highest = seq;
      return [];
    }
    const ahead = (seq - this.highest) & 0xffff;
    if (ahead === 0 || ahead >= 0x8000) return [];
    const lost: number[] = [];
    if (ahead > 1 && ahead <= MAX_NACK_GAP) for (let s = 1; s < ahead; s++) lost.push((this.highest + s) & 0xffff);
    this.highest = seq;
    return lost;
  }

  /**
   * The original packet of an RTX packet, or undefined when it carries none (RTX padding) or one that arrived already:
   * the browser probes its bandwidth with RTX copies of packets it sent, which forwarded again would reach subscribers
   * as duplicates (dropped by their SRTP replay check, and counted as lost in their transport-wide feedback).
   */
  unwrap(rtx: RtpPacket): RtpPacket | undefined {
    if (rtx.payload.length <= 2) return undefined;
    const seq = rtx.payload.readUInt16BE(0);
    if (this.seen[seq % UPLINK_SEEN] === seq) return undefined;
    this.seen[seq % UPLINK_SEEN] = seq;
    const h = rtx.header;
    return new RtpPacket(new RtpHeader({ payloadType: this.payloadType, ssrc: this.ssrc, sequenceNumber: seq, timestamp: h.timestamp, marker: h.marker }), rtx.payload.subarray(2));
  }

  /** The NACK asking for `lost`. */
  nack(lost: number[]): RtcpPacket {
    return new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: SERVER_SSRC, mediaSourceSsrc: this.ssrc, lost }) });
  }
}
