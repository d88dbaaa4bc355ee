// A publisher's ingress read on a media worker: the worker reads the UDP sockets of the publisher's checked ICE pairs
// (a peer may send from or to another pair than the one this side nominated), decrypts their RTP and sends each media
// packet to the publication's subscribers on that worker itself, so that a pause of the main thread (a collection, a
// burst of signalling) does not delay forwarding. The publisher is a /rtc peer connection (its streams told apart by
// payload type) or a trtc-sdk-v5 single PeerConnection (by the SSRCs of its publish). The main thread still
// gets every datagram afterwards (send-worker.mjs): werift's receiver sees the decrypted RTP as if its DTLS transport
// had decrypted it (receiver reports, TWCC feedback, NACKs to the publisher), the publication keeps its NACK history
// and forwards to the subscribers elsewhere, and STUN, DTLS and SRTCP reach werift as if its socket had read them.
// The werift internals this reads are listed with the others in rtp-writer.ts. It also reaches into Node's socket
// handle (`recvStop`, `recvStart`), so that the main thread stops reading a socket while the worker does.
import type { Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { ProtectionProfileAeadAes128Gcm, RtpPacket, type RTCDtlsTransport, type RTCPeerConnection } from 'werift';
import type { FanOut } from './fan-out.ts';
import { IngressKind, type IngressDatagram, type IngressMark, type IngressReceiver, type MediaWorkers, type SendLane } from './media-workers.ts';
import { nativeSrtp } from './native-srtp.ts';
import { socketFd } from './rtp-writer.ts';
import { mediaKind, type MediaKind } from './source.ts';

/** The werift internals an ingress reads (see above). */
interface DtlsInternals {
  state: string;
  srtp?: { config: { profile: number; keys: { remoteMasterKey: Buffer; remoteMasterSalt: Buffer } } };
  iceTransport: { connection: { checkList: IcePair[]; nominated?: IcePair } };
  onRtp: { execute(rtp: RtpPacket): void };
  bytesReceived: number;
  packetsReceived: number;
}

interface IcePair {
  protocol: { type?: string; transport?: { socket?: Socket } };
  remoteAddr: [string, number];
  state: number;
}

/** werift's CandidatePairState.SUCCEEDED. */
const PAIR_SUCCEEDED = 3;

/** Node's handle of a bound dgram socket (under its `state symbol`): reading can be stopped and started again. */
interface UdpHandle {
  recvStop(): number;
  recvStart(): number;
}

function udpHandle(socket: Socket): UdpHandle | undefined {
  const state = Object.getOwnPropertySymbols(socket).find((k) => k.description === 'state symbol');
  const handle = state && (socket as unknown as Record<symbol, { handle?: UdpHandle } | undefined>)[state]?.handle;
  return handle && typeof handle.recvStop === 'function' && typeof handle.recvStart === 'function' ? handle : undefined;
}

const KIND_INDEX: Record<MediaKind, 0 | 1> = { audio: 0, video: 1 };

/** How the worker tells an ingress's streams apart (see IngressSpec): by payload type, or by SSRC when `ssrcs` is given. */
export interface IngressStreams {
  payloadTypes: [number, number][];
  ssrcs?: [number, number][];
}

/**
 * The streams of a connection that publishes one stream of each kind: the media payload types it negotiated for the
 * published kinds (not RTX, RED or FEC: the main thread handles those), audio as stream 0 and video as stream 1.
 */
export function publishedStreams(pc: RTCPeerConnection, kinds: Readonly<Record<MediaKind, boolean>>): IngressStreams {
  return { payloadTypes: mediaPayloadTypes(pc, kinds) };
}

function mediaPayloadTypes(pc: RTCPeerConnection, kinds: Readonly<Record<MediaKind, boolean>>): [number, 0 | 1][] {
  const seen = new Map<number, 0 | 1 | -1>();
  for (const t of pc.getTransceivers()) {
    const kind = mediaKind(t.kind);
    if (!kind || !kinds[kind]) continue;
    for (const c of t.codecs) {
      const name = c.mimeType.split('/')[1]?.toLowerCase() ?? '';
      if (name === 'rtx' || name === 'red' || name === 'ulpfec' || name === 'flexfec-03') continue;
      const k = KIND_INDEX[kind];
      seen.set(c.payloadType, seen.has(c.payloadType) && seen.get(c.payloadType) !== k ? -1 : k);
    }
  }
  return [...seen].filter((e): e is [number, 0 | 1] => e[1] !== -1);
}

/** A publisher's socket read by a media worker, from start until stop (or its worker stops). */
export class PublisherIngress implements IngressReceiver {
  private current: IngressMark | undefined;
  /** The fan-out of each stream, by its number. */
  private fed: (FanOut | undefined)[] = [];

  private id = 0;

  private constructor(
    private readonly dtls: DtlsInternals,
    /** The sockets the worker reads, and their handles, in the order of the spec's descriptors. */
    private readonly sockets: { socket: Socket; handle: UdpHandle }[],
    private lane: SendLane | undefined,
  ) {}

  /**
   * Moves the reading of a connected publisher's sockets to a media worker; undefined when it cannot (no workers or no
   * accelerator, a relayed pair, DTLS-SRTP not up), and the main thread keeps reading.
   */
  static start(pc: RTCPeerConnection, streams: IngressStreams, workers: MediaWorkers | undefined): PublisherIngress | undefined {
    const native = nativeSrtp();
    const transport: RTCDtlsTransport | undefined = pc.dtlsTransports[0];
    if (!workers?.enabled || !native || !transport) return undefined;
    const dtls = transport as unknown as DtlsInternals;
    const ice = dtls.iceTransport.connection;
    const pairs = ice.checkList.filter((p) => p.state === PAIR_SUCCEEDED || p === ice.nominated);
    if (dtls.state !== 'connected' || !dtls.srtp || pairs.length === 0 || pairs.some((p) => p.protocol.type === 'turn' || !p.protocol.transport?.socket)) return undefined;
    const sockets: { socket: Socket; handle: UdpHandle; fd: number }[] = [];
    for (const p of pairs) {
      const socket = p.protocol.transport!.socket!;
      if (sockets.some((x) => x.socket === socket)) continue;
      const handle = udpHandle(socket);
      const fd = socketFd(socket);
      if (!handle || fd < 0) return undefined;
      sockets.push({ socket, handle, fd });
    }
    const lane = workers.lane(transport);
    if (!lane) return undefined;
    const fds = sockets.map((x) => native.dup(x.fd));
    if (fds.some((fd) => fd < 0)) {
      for (const fd of fds) if (fd >= 0) native.close(fd);
      return undefined;
    }
    for (const x of sockets) x.handle.recvStop();
    const { profile, keys } = dtls.srtp.config;
    const ingress = new PublisherIngress(dtls, sockets, lane);
    ingress.id = lane.watch(
      {
        fds,
        peers: pairs.map((p) => [p.remoteAddr[0], p.remoteAddr[1], isIPv6(p.remoteAddr[0]) ? 6 : 4]),
        keys: { aead: profile === ProtectionProfileAeadAes128Gcm, masterKeyAndSalt: Buffer.concat([keys.remoteMasterKey, keys.remoteMasterSalt]) },
        ...streams,
      },
      ingress,
    );
    return ingress;
  }

  /** Where the packet being handed on was read, while it is (see IngressMark). */
  get mark(): IngressMark | undefined {
    return this.current;
  }

  /** Gives the publication's fan-outs (see publishedStreams): the worker forwards each kind to their members on its lane. */
  useFanOuts(fanOut: Readonly<Record<MediaKind, FanOut>>): void {
    const streams: FanOut[] = [];
    for (const kind of ['audio', 'video'] as const) streams[KIND_INDEX[kind]] = fanOut[kind];
    this.feedStreams(streams);
  }

  /**
   * Gives the fan-out of each stream, by its number: the worker forwards the stream's packets to their members on its
   * lane. A fan-out no longer given is no longer fed.
   */
  feedStreams(fanOuts: readonly (FanOut | undefined)[]): void {
    for (const old of this.fed) if (old && !fanOuts.includes(old)) old.useFeed(undefined);
    this.fed = [...fanOuts];
    const lane = this.lane;
    if (!lane) return;
    fanOuts.forEach((f, stream) => {
      // A stream that stood for another fan-out forwards nothing until this one's group on the lane is known.
      lane.feed(this.id, stream, 0);
      f?.useFeed({ lane, group: (g) => lane.feed(this.id, stream, g), gate: (open) => lane.gate(this.id, stream, open) });
    });
  }

  /** Tells the worker the SSRC of each stream (an ingress started with `ssrcs`). */
  useSsrcs(ssrcs: [number, number][]): void {
    this.lane?.ssrcs(this.id, ssrcs);
  }

  receive(socket: number, packets: IngressDatagram[], handled: number): void {
    const lane = this.lane;
    const fanned = lane && { lane, handled, fanned: true };
    const clear = lane && { lane, handled, fanned: false };
    for (const p of packets) {
      const data = Buffer.from(p.data.buffer, p.data.byteOffset, p.data.length);
      if (p.kind === IngressKind.RAW) {
        const [address, port, family] = p.from!;
        this.sockets[socket]?.socket.emit('message', data, { address, port, family: family === 6 ? 'IPv6' : 'IPv4', size: data.length });
        continue;
      }
      let rtp: RtpPacket;
      try {
        rtp = RtpPacket.deSerialize(data);
      } catch {
        continue;
      }
      this.dtls.bytesReceived += data.length;
      this.dtls.packetsReceived++;
      this.current = p.kind === IngressKind.FANNED ? fanned : clear;
      try {
        this.dtls.onRtp.execute(rtp);
      } finally {
        this.current = undefined;
      }
    }
  }

  /** The worker stopped: the main thread reads the socket again and forwards everything. */
  lost(): void {
    this.detach();
  }

  /** Stops the worker's reading; the main thread reads the socket again if it is still open. Safe to repeat. */
  stop(): void {
    this.lane?.unwatch(this.id);
    this.detach();
  }

  private detach(): void {
    if (!this.lane) return;
    this.lane = undefined;
    for (const f of this.fed) f?.useFeed(undefined);
    // A closed socket has no handle any more; an open one is read here again.
    for (const { socket, handle } of this.sockets) if (udpHandle(socket) === handle) handle.recvStart();
  }
}
