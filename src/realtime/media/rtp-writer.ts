// The SFU's forwarding path: RTP written straight onto a werift DTLS-SRTP transport's UDP socket.
//
// werift keeps ICE, DTLS, SDP and RTCP. Outgoing RTP bypasses `RTCRtpSender.sendRtp` and `RTCDtlsTransport.sendRtp`,
// which build an RtpPacket, a header-extension list and a BigInt NTP time per packet per subscriber, keep the last
// 128 packets as objects and track sent-info for its bandwidth estimator. This is the one place that reaches into
// werift's internals to do so:
//   - `dtls.srtp.localContext`: the SRTP session keys and rollover counters (SrtpProtector, shared with werift's own
//     sends, so both agree on the ROC);
//   - `dtls.iceTransport.connection`: the nominated candidate pair (its UDP socket and remote address), its consent
//     check (`canSendApplicationData`) and its byte counters; a relayed pair (TURN) goes through `connection.send`;
//   - `dtls.transportSequenceNumber`, `dtls.bytesSent`, `dtls.packetsSent`: the transport-wide sequence (TWCC) and
//     the transport's statistics, kept as werift keeps them;
//   - `RTCRtpSender` `packetCount`, `octetCount`, `ntpTimestamp`, `rtpTimestamp` and `runRtcp()`: the figures of the
//     sender reports werift keeps sending (Subscriber), and `mid`/`headerExtensions` for the MID and TWCC extensions.
// NACKs are answered from a PacketHistory of the publication (bytes, not objects) instead of werift's packet cache.
import type { Socket } from 'node:dgram';
import type { RTCDtlsTransport } from 'werift';
import { SrtpProtector, type WeriftSrtpContext } from './srtp-protect.ts';

/** The header fields of an outgoing packet. */
export interface RtpOut {
  payloadType: number;
  ssrc: number;
  sequenceNumber: number;
  timestamp: number;
  marker: boolean;
}

/** One-byte header extensions (RFC 8285) to write: the MID (its id and value) and the transport-wide sequence. */
export interface RtpExtensions {
  midId?: number;
  mid?: Buffer;
  twccId?: number;
}

/** Headers written and possibly still queued in the socket: each slot is reused this many packets later. */
const HEADER_SLOTS = 1024;
/** Room for the 12-byte header and the extensions (MID up to 16 bytes, TWCC). */
const HEADER_BYTES = 64;

interface IcePair {
  protocol: { type?: string; transport?: { socket?: Socket; closed?: boolean } };
  remoteAddr: [string, number];
  packetsSent: number;
  bytesSent: number;
}

interface IceConnection {
  nominated?: IcePair;
  canSendApplicationData(): boolean;
  send(data: Buffer): Promise<void>;
}

interface DtlsInternals {
  state: string;
  srtpStarted?: boolean;
  srtp?: { localContext: WeriftSrtpContext };
  iceTransport: { connection: IceConnection };
  transportSequenceNumber: number;
  bytesSent: number;
  packetsSent: number;
}

/**
 * Writes RTP onto one DTLS transport: the header into a preallocated slot, the payload protected by SrtpProtector,
 * and the three pieces handed to the socket as one datagram. Packets are dropped until DTLS-SRTP is up.
 */
export class RtpWriter {
  private readonly internals: DtlsInternals;
  private protector: SrtpProtector | undefined;
  private context: WeriftSrtpContext | undefined;
  private readonly headers = Buffer.alloc(HEADER_SLOTS * HEADER_BYTES);
  private slot = 0;

  constructor(readonly dtls: RTCDtlsTransport) {
    this.internals = dtls as unknown as DtlsInternals;
  }

  /** Sends one packet; false when it was dropped (transport not up, no consent, closed socket). */
  write(h: RtpOut, payload: Buffer, ext?: RtpExtensions): boolean {
    const dtls = this.internals;
    if (dtls.state !== 'connected' || !dtls.srtp) return false;
    const ice = dtls.iceTransport.connection;
    const pair = ice.nominated;
    if (!pair || !ice.canSendApplicationData()) return false;
    // werift makes a new SRTP session when DTLS renegotiates keys.
    if (this.context !== dtls.srtp.localContext) {
      this.context = dtls.srtp.localContext;
      this.protector = new SrtpProtector(this.context);
    }
    const header = this.header(h, ext);
    const [hdr, enc, tag] = this.protector!.protect(header, payload);
    const size = hdr.length + enc.length + tag.length;
    const socket = pair.protocol.transport?.socket;
    if (socket && pair.protocol.type === 'stun') {
      if (pair.protocol.transport?.closed) return false;
      socket.send([hdr, enc, tag], pair.remoteAddr[1], pair.remoteAddr[0]);
      pair.packetsSent++;
      pair.bytesSent += size;
    } else {
      void ice.send(Buffer.concat([hdr, enc, tag])).catch(() => undefined);
    }
    dtls.bytesSent += size;
    dtls.packetsSent++;
    return true;
  }

  /** Writes the header (and extensions) into the next slot; returns a view of it. */
  private header(h: RtpOut, ext: RtpExtensions | undefined): Buffer {
    const at = this.slot * HEADER_BYTES;
    this.slot = (this.slot + 1) % HEADER_SLOTS;
    const b = this.headers;
    const withMid = ext?.midId !== undefined && ext.mid !== undefined && ext.mid.length > 0 && ext.mid.length <= 16;
    const withTwcc = ext?.twccId !== undefined;
    const hasExt = withMid || withTwcc;
    b[at] = hasExt ? 0x90 : 0x80;
    b[at + 1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
    b.writeUInt16BE(h.sequenceNumber & 0xffff, at + 2);
    b.writeUInt32BE(h.timestamp >>> 0, at + 4);
    b.writeUInt32BE(h.ssrc >>> 0, at + 8);
    if (!hasExt) return b.subarray(at, at + 12);
    let p = at + 16;
    if (withMid) {
      b[p++] = (ext.midId! << 4) | (ext.mid!.length - 1);
      ext.mid!.copy(b, p);
      p += ext.mid!.length;
    }
    if (withTwcc) {
      this.internals.transportSequenceNumber = (this.internals.transportSequenceNumber + 1) & 0xffff;
      b[p++] = (ext.twccId! << 4) | 1;
      b.writeUInt16BE(this.internals.transportSequenceNumber, p);
      p += 2;
    }
    while ((p - at - 16) % 4 !== 0) b[p++] = 0;
    b.writeUInt16BE(0xbede, at + 12);
    b.writeUInt16BE((p - at - 16) / 4, at + 14);
    return b.subarray(at, p);
  }
}
