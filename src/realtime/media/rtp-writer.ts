// The SFU's forwarding path: RTP written straight onto a werift DTLS-SRTP transport's UDP socket.
//
// werift keeps ICE, DTLS, SDP and RTCP. Outgoing RTP bypasses `RTCRtpSender.sendRtp` and `RTCDtlsTransport.sendRtp`,
// which build an RtpPacket, a header-extension list and a BigInt NTP time per packet per subscriber, keep the last
// 128 packets as objects and track sent-info for its bandwidth estimator. This is the one place that reaches into
// werift's internals to do so:
//   - `dtls.srtp.localContext`: the SRTP session keys and rollover counters (SrtpProtector, shared with werift's own
//     sends, so both agree on the ROC), and `dtls.srtp.config`: the master key, salt and profile (the libsrtp2
//     accelerator derives its own session keys; no RTP of these SSRCs is sent through werift then);
//   - `dtls.iceTransport.connection`: the nominated candidate pair (its UDP socket and remote address), its consent
//     check (`canSendApplicationData`) and its byte counters; a relayed pair (TURN) goes through `connection.send`;
//   - `dtls.transportSequenceNumber`, `dtls.bytesSent`, `dtls.packetsSent`: the transport-wide sequence (TWCC) and
//     the transport's statistics, kept as werift keeps them;
//   - `RTCRtpSender` `packetCount`, `octetCount`, `ntpTimestamp`, `rtpTimestamp` and `runRtcp()`: the figures of the
//     sender reports werift keeps sending (Subscriber), and `mid`/`headerExtensions` for the MID and TWCC extensions.
// NACKs are answered from a PacketHistory of the publication (bytes, not objects) instead of werift's packet cache.
import type { Socket } from 'node:dgram';
import { ProtectionProfileAeadAes128Gcm, type RTCDtlsTransport } from 'werift';
import { nativeSrtp, type NativeSrtp } from './native-srtp.ts';
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

/** Packets written and possibly still queued in the socket: each slot is reused this many packets later. */
const SLOTS = 64;
/** A slot: the header and extensions, the payload and the SRTP tag (16 bytes at most). */
const SLOT_BYTES = 1600;
/** Room kept after the packet for the tag. */
const TAG_ROOM = 16;

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
  srtp?: { localContext: WeriftSrtpContext; config: { profile: number; keys: { localMasterKey: Buffer; localMasterSalt: Buffer } } };
  iceTransport: { connection: IceConnection };
  transportSequenceNumber: number;
  bytesSent: number;
  packetsSent: number;
}

/**
 * Writes RTP onto one DTLS transport: the header into a preallocated slot, the payload protected, and the datagram
 * handed to the socket. With the SRTP accelerator (libsrtp2, see native-srtp.ts) the payload is copied after the
 * header and protected in place, so a packet allocates nothing; without it SrtpProtector (node:crypto) protects
 * and the three pieces (header, ciphertext, tag) go out as one datagram. Packets are dropped until DTLS-SRTP is up.
 */
export class RtpWriter {
  private readonly internals: DtlsInternals;
  private protector: SrtpProtector | undefined;
  private session: unknown;
  private context: WeriftSrtpContext | undefined;
  private readonly slots = Buffer.alloc(SLOTS * SLOT_BYTES);
  private slot = 0;

  constructor(
    readonly dtls: RTCDtlsTransport,
    /** The SRTP accelerator, if built; null protects with node:crypto. */
    private readonly native: NativeSrtp | null = nativeSrtp() ?? null,
  ) {
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
      const { profile, keys } = dtls.srtp.config;
      this.session = this.native?.create(profile === ProtectionProfileAeadAes128Gcm, Buffer.concat([keys.localMasterKey, keys.localMasterSalt]));
      this.protector = this.session === undefined ? new SrtpProtector(this.context) : undefined;
    }
    const at = this.slot * SLOT_BYTES;
    this.slot = (this.slot + 1) % SLOTS;
    const headerEnd = this.header(at, h, ext);
    const socket = pair.protocol.type === 'stun' ? pair.protocol.transport?.socket : undefined;
    if (socket && pair.protocol.transport?.closed) return false;
    let size: number;
    if (this.session !== undefined) {
      if (headerEnd - at + payload.length + TAG_ROOM > SLOT_BYTES) return false;
      payload.copy(this.slots, headerEnd);
      size = this.native!.protect(this.session, this.slots, at, headerEnd - at + payload.length);
      if (size < 0) return false;
      if (socket) socket.send(this.slots, at, size, pair.remoteAddr[1], pair.remoteAddr[0]);
      else void ice.send(Buffer.from(this.slots.subarray(at, at + size))).catch(() => undefined);
    } else {
      const [hdr, enc, tag] = this.protector!.protect(this.slots.subarray(at, headerEnd), payload);
      size = hdr.length + enc.length + tag.length;
      if (socket) socket.send([hdr, enc, tag], pair.remoteAddr[1], pair.remoteAddr[0]);
      else void ice.send(Buffer.concat([hdr, enc, tag])).catch(() => undefined);
    }
    if (socket) {
      pair.packetsSent++;
      pair.bytesSent += size;
    }
    dtls.bytesSent += size;
    dtls.packetsSent++;
    return true;
  }

  /** Writes the header (and extensions) at `at` in the slots; returns where it ends. */
  private header(at: number, h: RtpOut, ext: RtpExtensions | undefined): number {
    const b = this.slots;
    const withMid = ext?.midId !== undefined && ext.mid !== undefined && ext.mid.length > 0 && ext.mid.length <= 16;
    const withTwcc = ext?.twccId !== undefined;
    const hasExt = withMid || withTwcc;
    b[at] = hasExt ? 0x90 : 0x80;
    b[at + 1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
    b.writeUInt16BE(h.sequenceNumber & 0xffff, at + 2);
    b.writeUInt32BE(h.timestamp >>> 0, at + 4);
    b.writeUInt32BE(h.ssrc >>> 0, at + 8);
    if (!hasExt) return at + 12;
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
    return p;
  }
}
