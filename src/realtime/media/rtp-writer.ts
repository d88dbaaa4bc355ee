// The SFU's forwarding path: RTP written straight onto a werift DTLS-SRTP transport's UDP socket.
//
// werift keeps ICE, DTLS, SDP and RTCP. Outgoing RTP bypasses `RTCRtpSender.sendRtp` and `RTCDtlsTransport.sendRtp`,
// which build an RtpPacket, a header-extension list and a BigInt NTP time per packet per subscriber, keep the last
// 128 packets as objects and track sent-info for its bandwidth estimator. This list is every werift internal the SFU
// reaches into (here, and in ingress.ts for incoming RTP):
//   - `dtls.srtp.localContext`: the SRTP session keys and rollover counters (SrtpProtector, shared with werift's own
//     sends, so both agree on the ROC; the accelerator's GCM takes the session key and salt and counts its own
//     rollovers), and `dtls.srtp.config`: the master key, salt and profile (libsrtp2 derives its own session keys for
//     AES_CM_128_HMAC_SHA1_80; no RTP of these SSRCs is sent through werift then);
//   - `dtls.iceTransport.connection`: the nominated candidate pair (its UDP socket and remote address), its consent
//     check (`canSendApplicationData`) and its byte counters; a relayed pair (TURN) goes through `connection.send`;
//   - `dtls.transportSequenceNumber`, `dtls.bytesSent`, `dtls.packetsSent`: the transport-wide sequence (TWCC) and
//     the transport's statistics, kept as werift keeps them;
//   - `RTCRtpSender` `packetCount`, `octetCount`, `ntpTimestamp`, `rtpTimestamp` and `runRtcp()`: the figures of the
//     sender reports werift keeps sending (Subscriber), and `mid`/`headerExtensions` for the MID and TWCC extensions.
//   - ingress.ts, a publisher's RTP read on a media worker (/rtc, and trtc-sdk-v5's single PeerConnection): `dtls.srtp.config` (the remote master key and salt),
//     `dtls.iceTransport.connection.checkList` (the checked pairs' sockets and remote addresses), `dtls.onRtp` (where
//     the decrypted RTP enters werift's receive path, as if its transport had decrypted it) and `bytesReceived` /
//     `packetsReceived`; each pair socket's `'message'` event takes the other datagrams as if the socket had read them.
// NACKs are answered from a PacketHistory of the publication (bytes, not objects) instead of werift's packet cache.
// With media workers (media-workers.ts), a packet to a host or reflexive pair is written into a worker's send ring and
// the worker protects it and sends it on the pair's UDP socket by its descriptor (Node keeps the socket's handle under
// its `state symbol`); werift's own packets (STUN, DTLS, RTCP) still go through the socket on the main thread. The
// worker numbers the transport-wide sequence of the packets it sends. A subscriber's sender on a worker joins its
// publication's FanOut (fan-out.ts) with the route and header template made here, and the worker writes its copies.
import type { Socket } from 'node:dgram';
import { ProtectionProfileAeadAes128Gcm, type RTCDtlsTransport } from 'werift';
import { LANE_SLOT_BYTES, LANE_TAG_ROOM, nativeSession, type MediaWorkers, type SendLane, type SessionKeys } from './media-workers.ts';
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

/** A transport's route in a media worker, and what it was made for. */
export interface LaneRoute {
  id: number;
  lane: SendLane;
  context: WeriftSrtpContext;
  socket: Socket;
  ip: string;
  port: number;
  /** The SRTP tag's length: 16 for AEAD_AES_128_GCM, 10 for AES_CM_128_HMAC_SHA1_80. */
  tag: number;
}

/**
 * The keys of the transport's outgoing SRTP: for AEAD_AES_128_GCM the session key and salt werift derived (the
 * accelerator does GCM itself), otherwise the master key and salt (libsrtp2 derives its own).
 */
function sessionKeys(srtp: NonNullable<DtlsInternals['srtp']>): SessionKeys {
  const { profile, keys } = srtp.config;
  if (profile === ProtectionProfileAeadAes128Gcm) return { gcm: true, key: Buffer.from(srtp.localContext.cipher.srtpSessionKey), salt: Buffer.from(srtp.localContext.cipher.srtpSessionSalt.subarray(0, 12)) };
  return { gcm: false, masterKeyAndSalt: Buffer.concat([keys.localMasterKey, keys.localMasterSalt]) };
}

/** The descriptor of a bound dgram socket (Node keeps its handle under a symbol), or -1 where there is none. */
export function socketFd(socket: Socket): number {
  const state = Object.getOwnPropertySymbols(socket).find((k) => k.description === 'state symbol');
  const fd = (state && (socket as unknown as Record<symbol, { handle?: { fd?: number } } | undefined>)[state]?.handle?.fd) ?? -1;
  return typeof fd === 'number' ? fd : -1;
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
  private slots: Buffer | undefined;
  private slot = 0;
  private route: LaneRoute | undefined;
  /** Where the last header written left the transport-wide sequence for the worker, from the header's start; -1 if nowhere. */
  private twccAt = -1;

  constructor(
    readonly dtls: RTCDtlsTransport,
    /** The SRTP accelerator, if built; null protects with node:crypto. */
    private readonly native: NativeSrtp | null = nativeSrtp() ?? null,
    /** The media workers; packets to a host or reflexive pair are protected and sent by one of them when given. */
    private readonly workers?: MediaWorkers,
  ) {
    this.internals = dtls as unknown as DtlsInternals;
  }

  /** Sends one packet; false when it was dropped (transport not up, no consent, closed socket, full send ring). */
  write(h: RtpOut, payload: Buffer, ext?: RtpExtensions): boolean {
    const dtls = this.internals;
    if (dtls.state !== 'connected' || !dtls.srtp) return false;
    const ice = dtls.iceTransport.connection;
    const pair = ice.nominated;
    if (!pair || !ice.canSendApplicationData()) return false;
    const socket = pair.protocol.type === 'stun' ? pair.protocol.transport?.socket : undefined;
    if (socket && pair.protocol.transport?.closed) return false;
    const route = socket && this.workers?.enabled ? this.routeTo(dtls.srtp, pair, socket) : undefined;
    const size = route ? this.toLane(route, h, payload, ext) : this.sendHere(dtls.srtp, ice, pair, socket, h, payload, ext);
    if (size < 0) return false;
    this.account(1, size);
    return true;
  }

  /** Counts packets sent for the transport (and its ICE pair), as werift counts its own. */
  account(packets: number, bytes: number): void {
    const dtls = this.internals;
    const pair = dtls.iceTransport.connection.nominated;
    if (pair && pair.protocol.type === 'stun') {
      pair.packetsSent += packets;
      pair.bytesSent += bytes;
    }
    dtls.bytesSent += bytes;
    dtls.packetsSent += packets;
  }

  /**
   * The media worker route packets would take now (the transport up, consented, on a host or reflexive pair, with
   * the keys it has now), for a fan-out to send on; undefined when packets go out on this thread or not at all.
   */
  laneRoute(): LaneRoute | undefined {
    const dtls = this.internals;
    if (dtls.state !== 'connected' || !dtls.srtp || !this.workers?.enabled) return undefined;
    const ice = dtls.iceTransport.connection;
    const pair = ice.nominated;
    if (!pair || !ice.canSendApplicationData() || pair.protocol.type !== 'stun') return undefined;
    const socket = pair.protocol.transport?.socket;
    if (!socket || pair.protocol.transport?.closed) return undefined;
    return this.routeTo(dtls.srtp, pair, socket);
  }

  /**
   * A fan-out member's header template for packets with these fields (the sequence number, timestamp and marker
   * are written per packet by the worker, the transport-wide sequence too): the header and where that field is.
   */
  template(h: RtpOut, ext: RtpExtensions | undefined): { header: Buffer; twccAt: number } {
    const b = Buffer.alloc(64);
    const end = this.header(b, 0, h, ext, true);
    return { header: Buffer.from(b.subarray(0, end)), twccAt: this.twccAt };
  }

  /** Stops using the transport: packets not yet sent by a media worker are dropped. Safe to repeat. */
  close(): void {
    this.route?.lane.unroute(this.route.id, true);
    this.route = undefined;
  }

  /** The media worker route for the transport's current keys and nominated pair (a new one when either changed). */
  private routeTo(srtp: NonNullable<DtlsInternals['srtp']>, pair: IcePair, socket: Socket): LaneRoute | undefined {
    const r = this.route;
    if (r && r.context === srtp.localContext && r.socket === socket && r.ip === pair.remoteAddr[0] && r.port === pair.remoteAddr[1] && r.lane.alive) return r;
    // The old route's packets still go out, with its keys and to its address.
    r?.lane.unroute(r.id, false);
    this.route = undefined;
    const lane = this.workers!.lane(this.dtls);
    const fd = lane ? socketFd(socket) : -1;
    if (!lane || fd < 0) return undefined;
    const keys = sessionKeys(srtp);
    const id = lane.route({ keys, fd, ip: pair.remoteAddr[0], port: pair.remoteAddr[1] }, this.internals.transportSequenceNumber);
    this.route = { id, lane, context: srtp.localContext, socket, ip: pair.remoteAddr[0], port: pair.remoteAddr[1], tag: keys.gcm ? 16 : 10 };
    return this.route;
  }

  /** Writes the packet into the route's send ring; its size once protected, or -1 when the ring is full. */
  private toLane(route: LaneRoute, h: RtpOut, payload: Buffer, ext: RtpExtensions | undefined): number {
    const lane = route.lane;
    const at = lane.reserve();
    if (at < 0) return -1;
    const headerEnd = this.header(lane.data, at, h, ext, true);
    const length = headerEnd - at + payload.length;
    if (length + LANE_TAG_ROOM > LANE_SLOT_BYTES) return -1;
    const twccAt = this.twccAt < 0 ? -1 : at + this.twccAt;
    // The publisher's packet is copied once per burst: the other subscribers' copies take only their header.
    const shared = lane.sharedPayload(payload);
    if (shared >= 0) lane.commitHeader(route.id, headerEnd - at, shared, payload.length, twccAt);
    else {
      lane.data.set(payload, headerEnd);
      lane.commit(route.id, length, payload, headerEnd, twccAt);
    }
    return length + route.tag;
  }

  /** Protects and sends the packet on this thread; its size, or -1 when it was dropped. */
  private sendHere(
    srtp: NonNullable<DtlsInternals['srtp']>,
    ice: IceConnection,
    pair: IcePair,
    socket: Socket | undefined,
    h: RtpOut,
    payload: Buffer,
    ext: RtpExtensions | undefined,
  ): number {
    // werift makes a new SRTP session when DTLS renegotiates keys.
    if (this.context !== srtp.localContext) {
      this.context = srtp.localContext;
      this.session = this.native ? nativeSession(this.native, sessionKeys(srtp)) : undefined;
      this.protector = this.session === undefined ? new SrtpProtector(this.context) : undefined;
    }
    const slots = (this.slots ??= Buffer.alloc(SLOTS * SLOT_BYTES));
    const at = this.slot * SLOT_BYTES;
    this.slot = (this.slot + 1) % SLOTS;
    const headerEnd = this.header(slots, at, h, ext, false);
    if (this.session !== undefined) {
      if (headerEnd - at + payload.length + TAG_ROOM > SLOT_BYTES) return -1;
      payload.copy(slots, headerEnd);
      const size = this.native!.protect(this.session, slots, at, headerEnd - at + payload.length);
      if (size < 0) return -1;
      if (socket) socket.send(slots, at, size, pair.remoteAddr[1], pair.remoteAddr[0]);
      else void ice.send(Buffer.from(slots.subarray(at, at + size))).catch(() => undefined);
      return size;
    }
    const [hdr, enc, tag] = this.protector!.protect(slots.subarray(at, headerEnd), payload);
    if (socket) socket.send([hdr, enc, tag], pair.remoteAddr[1], pair.remoteAddr[0]);
    else void ice.send(Buffer.concat([hdr, enc, tag])).catch(() => undefined);
    return hdr.length + enc.length + tag.length;
  }

  /**
   * Writes the header (and extensions) at `at` in `b`; returns where it ends. With `laneNumbers` the transport-wide
   * sequence is left for the media worker to write (each route numbers its own packets); `twccAt` is then where.
   */
  private header(b: Buffer, at: number, h: RtpOut, ext: RtpExtensions | undefined, laneNumbers: boolean): number {
    this.twccAt = -1;
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
      b[p++] = (ext.twccId! << 4) | 1;
      if (laneNumbers) {
        this.twccAt = p - at;
        b.writeUInt16BE(0, p);
      } else {
        this.internals.transportSequenceNumber = (this.internals.transportSequenceNumber + 1) & 0xffff;
        b.writeUInt16BE(this.internals.transportSequenceNumber, p);
      }
      p += 2;
    }
    while ((p - at - 16) % 4 !== 0) b[p++] = 0;
    b.writeUInt16BE(0xbede, at + 12);
    b.writeUInt16BE((p - at - 16) / 4, at + 14);
    return p;
  }
}
