// The media worker threads: the SFU's SRTP protection and UDP sends, spread over the machine's cores.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { join } from 'node:path';
import type { Logger } from '../../logger.ts';
import { packageRoot } from '../../package-root.ts';
import { nativeSrtpFile, type NativeSrtp } from './native-srtp.ts';

/** Packets a send ring holds (a power of two): a keyframe burst to a few hundred subscribers. */
const SLOTS = 4096;
/** Bytes per slot: a packet's header, extensions, payload and SRTP tag. */
export const LANE_SLOT_BYTES = 1600;
/** Packets written in one task before the worker is told of them anyway (a power of two). */
const FLUSH_EVERY = 256;
/** Room kept after a packet for its SRTP tag. */
export const LANE_TAG_ROOM = 16;
/** Fan-out members a lane holds (one per subscriber's sender whose publication's packets the worker fans out). */
const MEMBERS = 2048;
/** Bytes of a member's header template: the RTP header, the MID and transport-wide sequence extensions. */
const MEMBER_HEADER_BYTES = 48;

/**
 * Where things are in a send ring's SharedArrayBuffer (send-worker.mjs reads the same layout): what the main thread
 * writes (WRITE) and what the worker writes (READ, the counts) on separate cache lines, so that they do not bounce
 * between the cores with every packet.
 */
const LAYOUT = {
  WRITE: 0,
  SLEEPING: 1,
  /** Messages posted to the worker so far (it reads them before the packets written after them). */
  POSTED: 2,
  /** Bumped with every publication of packets or messages: a sleeping worker waits for it to change, so no wake-up is lost. */
  WAKE: 3,
  READ: 16,
  SENT: 32,
  DROPPED: 33,
  /** Publisher packets a worker read off an ingress and sent to its members itself. */
  INGRESS_FANNED: 34,
  ctlInts: 48,
  metaAt: 192,
  /**
   * Per slot: route (or minus a fan-out group), length (of the header alone when the payload is shared; of the
   * payload for a group), shared payload's offset or -1, its length, the transport-wide sequence field's offset or
   * -1 (the worker numbers it), and for a group the sequence number, timestamp and marker each member's header takes.
   */
  metaInts: 8,
  membersAt: 192 + SLOTS * 32,
  /**
   * Per member: generation (0: none), route, packets and payload octets sent, header length, transport-wide sequence
   * field's offset in it or -1, the ring position it joined at (earlier group packets are not its), and what it adds
   * to each packet's sequence number and timestamp (a subscriber that renumbers the stream it is sent).
   */
  memberInts: 10,
  dataAt: 192 + SLOTS * 32 + MEMBERS * 40,
  /** Where the members' header templates start in the data (after the slots), MEMBER_HEADER_BYTES each. */
  headersAt: SLOTS * LANE_SLOT_BYTES,
} as const;

/** What a member adds to each group packet's sequence number (mod 2^16) and timestamp (mod 2^32). */
export interface MemberOffsets {
  seq: number;
  timestamp: number;
}

const NO_OFFSETS: MemberOffsets = { seq: 0, timestamp: 0 };

/**
 * Where a subscriber's packets are fanned out by a worker: its slot in the lane's member table, its generation, and
 * the count of messages posted to the lane with its join (see IngressMark).
 */
export interface LaneMember {
  readonly slot: number;
  readonly gen: number;
  readonly joinedAt: number;
}

/**
 * Where a publisher packet handed on by an ingress was read: the worker's lane, how many of the lane's messages the
 * worker had handled when it read the packet, and whether it sent the packet to the members of its group there itself.
 * A member that joined with message number `joinedAt` (and left with `leftAt`, if it did) was sent the packet by the
 * worker when `fanned` and joinedAt <= handled < leftAt: see `workerSent`.
 */
export interface IngressMark {
  readonly lane: SendLane;
  readonly handled: number;
  readonly fanned: boolean;
}

/**
 * Whether a packet with `mark` went out to a member through its lane's worker: straight from the ingress (see
 * IngressMark), or, for a packet not fanned there, through the ring while the member belongs to the group (`current`,
 * the fan-out having committed the packet before it is handed on). `leftAt`: the message count of its leave, if it left.
 */
export function workerSent(lane: SendLane, member: LaneMember, leftAt: number | undefined, mark: IngressMark | undefined): boolean {
  if (!mark || !mark.fanned || mark.lane !== lane) return leftAt === undefined;
  return ((mark.handled - member.joinedAt) | 0) >= 0 && (leftAt === undefined || ((mark.handled - leftAt) | 0) < 0);
}
/**
 * At most this many packets are queued, half the ring: a packet may share the payload of one written less than
 * SHARE_SPAN packets before it, whose slot then cannot be reused while the packet waits.
 */
const QUEUED = SLOTS / 2;
const SHARE_SPAN = SLOTS / 4;

/** An SRTP session's keys: AEAD_AES_128_GCM from the derived session key and salt, AES_CM_128_HMAC_SHA1_80 from the master key and salt. */
export type SessionKeys = { gcm: true; key: Buffer; salt: Buffer } | { gcm: false; masterKeyAndSalt: Buffer };

/** A datagram an ingress handed back (send-worker.mjs): decrypted RTP the worker sent to its members, decrypted RTP it did not, or one as it came. */
export const IngressKind = { FANNED: 1, CLEAR: 2, RAW: 3 } as const;

/** One datagram of an ingress batch: `from` (address, port, family 4 or 6) for one handed back as it came. */
export interface IngressDatagram {
  kind: (typeof IngressKind)[keyof typeof IngressKind];
  data: Uint8Array;
  from?: [string, number, number];
}

/** What a worker reads for a publisher: the sockets of its checked ICE pairs (descriptors of its own), from their remote addresses. */
interface IngressSpec {
  /** Descriptors the worker owns and closes (see the addon's dup), one per socket. */
  fds: number[];
  /** The remote addresses RTP is taken from: address, port, family. */
  peers: [string, number, 4 | 6][];
  /** The inbound SRTP master key and salt, and whether the profile is AEAD_AES_128_GCM. */
  keys: { aead: boolean; masterKeyAndSalt: Buffer };
  /**
   * How a media packet's stream is told, as [value, stream] pairs (streams 0 to INGRESS_STREAMS - 1): by payload type
   * (a connection that publishes one audio and one video stream), or, when `ssrcs` is given, by SSRC (several streams
   * of one kind on one connection). Packets of no stream go to the main thread only.
   */
  payloadTypes: [number, number][];
  ssrcs?: [number, number][];
}

/** Streams one ingress forwards at most (see IngressSpec). */
export const INGRESS_STREAMS = 4;

/** Where an ingress's datagrams go on the main thread, and what it hears if its worker stops. */
export interface IngressReceiver {
  /** A batch read off the socket numbered `socket` (its place in the spec's fds), when the worker had handled `handled` messages. */
  receive(socket: number, packets: IngressDatagram[], handled: number): void;
  lost(): void;
}

/** Makes the accelerator's session for `keys`. */
export function nativeSession(native: NativeSrtp, keys: SessionKeys): unknown {
  return keys.gcm ? native.createGcm(keys.key, keys.salt) : native.create(false, keys.masterKeyAndSalt);
}

/** A socket address to send a route's packets to, on a UDP socket's descriptor. */
interface RouteTarget {
  /** How the worker makes the route's SRTP session (see sessionKeys in rtp-writer.ts). */
  keys: SessionKeys;
  fd: number;
  ip: string;
  port: number;
}

/**
 * One worker's send ring, written by the main thread only: a packet is written into a free slot (`reserve`, then
 * `commit` with its route), and the worker protects it in place and sends it; a packet whose payload another slot
 * already holds (`commitHeader`) is joined with it as the worker protects it. Nothing is copied between threads.
 */
export class SendLane {
  /** The ring's packet bytes (slot `i` at i × LANE_SLOT_BYTES). */
  readonly data: Buffer;
  private readonly ctl: Int32Array;
  private readonly meta: Int32Array;
  private readonly members: Int32Array;
  /** Member slots not in use, oldest freed first (a slot is reused as late as possible). */
  private readonly freeMembers: number[] = Array.from({ length: MEMBERS }, (_, i) => i);
  private nextGen = 1;
  private nextGroup = 1;
  private write = 0;
  /** The worker's read position when last looked at: slots before it are free. */
  private read = 0;
  private nextRoute = 1;
  private flushing = false;
  private lastPayload: Buffer | undefined;
  private lastPayloadAt = -1;
  private lastPayloadWrite = 0;
  private nextIngress = 1;
  private readonly ingresses = new Map<number, IngressReceiver>();
  /** Routes announced on this lane, and transports given to it that have none yet (for choosing the least loaded). */
  routes = 0;
  pending = 0;
  private postedCount = 0;
  alive = true;

  constructor(
    private readonly worker: Worker,
    sab: SharedArrayBuffer,
    /** Where messages to the worker go (it reads them synchronously, in step with the ring). */
    private readonly port: MessagePort,
  ) {
    this.ctl = new Int32Array(sab, 0, LAYOUT.ctlInts);
    this.meta = new Int32Array(sab, LAYOUT.metaAt, SLOTS * LAYOUT.metaInts);
    this.members = new Int32Array(sab, LAYOUT.membersAt, MEMBERS * LAYOUT.memberInts);
    this.data = Buffer.from(sab, LAYOUT.dataAt, SLOTS * LANE_SLOT_BYTES + MEMBERS * MEMBER_HEADER_BYTES);
  }

  /**
   * Announces a route (an SRTP session and a destination); its id tags the packets written for it. `twcc` is the
   * transport-wide sequence number the transport last sent: the worker numbers the route's packets on from it.
   */
  route(target: RouteTarget, twcc = 0): number {
    const id = this.nextRoute++;
    this.routes++;
    if (this.pending > 0) this.pending--;
    this.post({ op: 'route', id, keys: target.keys, fd: target.fd, ip: target.ip, port: target.port, twcc });
    return id;
  }

  /** Messages posted to the worker so far (wrapping as an int32, as the worker counts those it handled). */
  get posted(): number {
    return this.postedCount;
  }

  private post(message: object): void {
    this.port.postMessage(message);
    this.postedCount = (Atomics.add(this.ctl, LAYOUT.POSTED, 1) + 1) | 0;
    // A sleeping worker reads it now (an ingress's watch or gate may come with no packet to send).
    this.wake();
  }

  /** A new fan-out group: packets committed to it (`commitGroup`) go to each of its members. */
  group(): number {
    return this.nextGroup++;
  }

  /**
   * Makes a route a member of a group: the worker sends it every packet committed to the group from when it sees
   * the member on, with `header` (its header template, `twccAt` the transport-wide sequence field's offset in it or
   * -1) in front, its sequence number and timestamp those of the packet plus `offsets`. Undefined when the lane's
   * member table is full.
   */
  join(group: number, route: number, header: Buffer, twccAt: number, offsets: MemberOffsets = NO_OFFSETS): LaneMember | undefined {
    if (header.length > MEMBER_HEADER_BYTES) return undefined;
    const slot = this.freeMembers.shift();
    if (slot === undefined) return undefined;
    const m = slot * LAYOUT.memberInts;
    header.copy(this.data, LAYOUT.headersAt + slot * MEMBER_HEADER_BYTES);
    this.members[m + 1] = route;
    this.members[m + 2] = 0;
    this.members[m + 3] = 0;
    this.members[m + 4] = header.length;
    this.members[m + 5] = twccAt;
    this.members[m + 6] = this.write;
    this.members[m + 7] = offsets.seq & 0xffff;
    this.members[m + 8] = offsets.timestamp | 0;
    const gen = this.nextGen;
    this.nextGen = this.nextGen >= 0x7fffffff ? 1 : this.nextGen + 1;
    Atomics.store(this.members, m, gen);
    if (this.alive) this.post({ op: 'join', group, slot, gen });
    return { slot, gen, joinedAt: this.postedCount };
  }

  /** Ends a membership at once: packets already queued for the group are not sent to it either. Safe to repeat. */
  leave(group: number, member: LaneMember): boolean {
    const m = member.slot * LAYOUT.memberInts;
    if (Atomics.load(this.members, m) !== member.gen) return false;
    Atomics.store(this.members, m, 0);
    this.freeMembers.push(member.slot);
    if (this.alive) this.post({ op: 'leave', group, slot: member.slot, gen: member.gen });
    return true;
  }

  /** Forgets a group whose members have all left. */
  ungroup(group: number): void {
    if (this.alive) this.post({ op: 'ungroup', group });
  }

  /** Packets the worker has sent to a member (it counts them as it sends). */
  memberPackets(member: LaneMember): number {
    return this.members[member.slot * LAYOUT.memberInts + 2]! >>> 0;
  }

  /** Payload octets the worker has sent to a member. */
  memberOctets(member: LaneMember): number {
    return this.members[member.slot * LAYOUT.memberInts + 3]! >>> 0;
  }

  /**
   * Writes one publisher packet for every member of a group: the payload is copied into the ring once, and the
   * worker sends it to each member behind the member's header with these fields. False when the ring is full.
   */
  commitGroup(group: number, payload: Buffer, seq: number, timestamp: number, marker: boolean): boolean {
    if (payload.length + MEMBER_HEADER_BYTES + LANE_TAG_ROOM > LANE_SLOT_BYTES) return false;
    const at = this.reserve();
    if (at < 0) return false;
    this.data.set(payload, at);
    this.publish(-group, payload.length, at, payload.length, -1, seq, timestamp, marker ? 1 : 0);
    return true;
  }

  /**
   * Forgets a route once the packets written for it so far are sent (new keys or a new path), or, with `drop`, now:
   * its packets still in the ring are not sent (route 0 is nobody's). The worker then frees its session.
   */
  unroute(id: number, drop: boolean): void {
    this.routes--;
    if (drop) {
      for (let w = Atomics.load(this.ctl, LAYOUT.READ); w !== this.write; w = (w + 1) | 0) {
        const i = (w & (SLOTS - 1)) * LAYOUT.metaInts;
        if (this.meta[i] === id) this.meta[i] = 0;
      }
    }
    if (this.alive) this.post({ op: 'unroute', id, at: this.write });
  }

  /** The byte offset of a free slot in `data`, or -1 when the ring is full (the packet is dropped). */
  reserve(): number {
    if (((this.write - this.read) | 0) >= QUEUED) {
      this.flush();
      this.read = Atomics.load(this.ctl, LAYOUT.READ);
      if (((this.write - this.read) | 0) >= QUEUED) return -1;
    }
    return (this.write & (SLOTS - 1)) * LANE_SLOT_BYTES;
  }

  /**
   * Where `payload` already lies in `data`, when this very buffer was written into a slot in this task not long ago
   * (the same publisher packet going to another subscriber); -1 otherwise.
   */
  sharedPayload(payload: Buffer): number {
    return payload === this.lastPayload && ((this.write - this.lastPayloadWrite) | 0) < SHARE_SPAN ? this.lastPayloadAt : -1;
  }

  /**
   * Hands the reserved slot's packet (`length` bytes, unprotected, its payload `payload` at `payloadAt`) to the worker. The worker sees it at the end of
   * this task (one publication and at most one wake-up per burst: a packet for every subscriber), or sooner in a long one.
   */
  commit(route: number, length: number, payload: Buffer, payloadAt: number, twccAt: number): void {
    this.publish(route, length, -1, 0, twccAt, 0, 0, 0);
    this.lastPayload = payload;
    this.lastPayloadAt = payloadAt;
    this.lastPayloadWrite = (this.write - 1) | 0;
  }

  /** Hands the reserved slot's header (`length` bytes) to the worker, to be sent with the payload at `payloadAt`. */
  commitHeader(route: number, length: number, payloadAt: number, payloadLength: number, twccAt: number): void {
    this.publish(route, length, payloadAt, payloadLength, twccAt, 0, 0, 0);
  }

  private publish(route: number, length: number, payloadAt: number, payloadLength: number, twccAt: number, seq: number, timestamp: number, marker: number): void {
    const i = (this.write & (SLOTS - 1)) * LAYOUT.metaInts;
    const meta = this.meta;
    meta[i] = route;
    meta[i + 1] = length;
    meta[i + 2] = payloadAt;
    meta[i + 3] = payloadLength;
    meta[i + 4] = twccAt;
    meta[i + 5] = seq;
    meta[i + 6] = timestamp | 0;
    meta[i + 7] = marker;
    this.write = (this.write + 1) | 0;
    if (!this.flushing) {
      this.flushing = true;
      queueMicrotask(this.flush);
    } else if ((this.write & (FLUSH_EVERY - 1)) === 0) this.flush();
  }

  /** Publishes the packets written so far to the worker, waking it if it sleeps. */
  private readonly flush = (): void => {
    this.flushing = false;
    // A payload is shared within one task only: a buffer rewritten in place later is never taken for the old packet.
    this.lastPayload = undefined;
    Atomics.store(this.ctl, LAYOUT.WRITE, this.write);
    this.wake();
  };

  private wake(): void {
    Atomics.add(this.ctl, LAYOUT.WAKE, 1);
    if (Atomics.load(this.ctl, LAYOUT.SLEEPING) === 1) {
      Atomics.store(this.ctl, LAYOUT.SLEEPING, 0);
      Atomics.notify(this.ctl, LAYOUT.WAKE, 1);
    }
  }

  /** Has the worker read a publisher's socket (see send-worker.mjs); its datagrams then go to `receiver`. */
  watch(spec: IngressSpec, receiver: IngressReceiver): number {
    const id = this.nextIngress++;
    this.ingresses.set(id, receiver);
    // Load on the lane like a route, for choosing the least loaded one.
    this.routes++;
    if (this.pending > 0) this.pending--;
    this.post({ op: 'watch', id, ...spec });
    return id;
  }

  /** Tells the worker which of its groups takes an ingress's packets of a stream (0: none). */
  feed(id: number, stream: number, group: number): void {
    if (this.alive) this.post({ op: 'feed', id, kind: stream, group });
  }

  /** Tells the worker whether an ingress's packets of a stream are forwarded at all (muted or blocked ones are not). */
  gate(id: number, stream: number, open: boolean): void {
    if (this.alive) this.post({ op: 'gate', id, kind: stream, open });
  }

  /** Tells the worker the SSRCs of an ingress's streams, from now on (see IngressSpec). */
  ssrcs(id: number, ssrcs: [number, number][]): void {
    if (this.alive) this.post({ op: 'ssrcs', id, ssrcs });
  }

  /** Stops reading an ingress; the worker closes its descriptor. Safe to repeat. */
  unwatch(id: number): void {
    if (!this.ingresses.delete(id)) return;
    this.routes--;
    if (this.alive) this.post({ op: 'unwatch', id });
  }

  /** A batch the worker read for an ingress. */
  ingressed(id: number, socket: number, packets: IngressDatagram[], handled: number): void {
    this.ingresses.get(id)?.receive(socket, packets, handled);
  }

  /** Publisher uplinks the worker reads now. */
  get watching(): number {
    return this.ingresses.size;
  }

  /** Publisher packets the worker sent to its members straight from an ingress. */
  ingressFanned(): number {
    return Atomics.load(this.ctl, LAYOUT.INGRESS_FANNED) >>> 0;
  }

  /** The worker could not read an ingress's sockets: the main thread reads them again. */
  ingressFailed(id: number): void {
    const r = this.ingresses.get(id);
    if (!r) return;
    this.ingresses.delete(id);
    this.routes--;
    r.lost();
  }

  /** The worker stopped: its ingresses are read on the main thread again. */
  died(): void {
    this.alive = false;
    const lost = [...this.ingresses.values()];
    this.ingresses.clear();
    for (const r of lost) r.lost();
  }

  /** Stops the worker; its transports send on the main thread from then on. */
  async stop(): Promise<void> {
    this.died();
    await this.worker.terminate();
    this.port.close();
  }

  /** Packets the worker sent, and those the socket refused or protection failed on. */
  counts(): { sent: number; dropped: number } {
    return { sent: Atomics.load(this.ctl, LAYOUT.SENT) >>> 0, dropped: Atomics.load(this.ctl, LAYOUT.DROPPED) >>> 0 };
  }
}

/**
 * `count` worker threads, started when the first packet needs one. Each peer connection's transport is given to one
 * lane (the one with the fewest routes) and stays there. Without the SRTP accelerator there are none: the main thread
 * protects and sends.
 */
export class MediaWorkers {
  private lanes: SendLane[] | undefined;
  private readonly byTransport = new WeakMap<object, SendLane>();
  private readonly addon: string | undefined;

  constructor(
    readonly count: number,
    private readonly log: Pick<Logger, 'warn'>,
    /** The built accelerator (native/build/srtp.node), which the workers load. */
    addon: string | undefined = nativeSrtpFile(),
  ) {
    this.addon = count > 0 ? addon : undefined;
  }

  /** Whether packets go through workers at all. */
  get enabled(): boolean {
    return this.addon !== undefined;
  }

  /** The lane of a transport (the same one for its life), or undefined to send on the main thread. */
  lane(transport: object): SendLane | undefined {
    if (!this.addon) return undefined;
    const known = this.byTransport.get(transport);
    if (known?.alive) return known;
    this.lanes ??= Array.from({ length: this.count }, () => this.spawn(this.addon!));
    let best: SendLane | undefined;
    for (const l of this.lanes) if (l.alive && (!best || l.routes + l.pending < best.routes + best.pending)) best = l;
    if (best) {
      best.pending++;
      this.byTransport.set(transport, best);
    }
    return best;
  }

  /** Packets sent and dropped by every worker so far. */
  counts(): { sent: number; dropped: number } {
    let sent = 0;
    let dropped = 0;
    for (const l of this.lanes ?? []) {
      const c = l.counts();
      sent += c.sent;
      dropped += c.dropped;
    }
    return { sent, dropped };
  }

  /** Publisher uplinks the workers read now. */
  ingresses(): number {
    let n = 0;
    for (const l of this.lanes ?? []) if (l.alive) n += l.watching;
    return n;
  }

  /** Publisher packets the workers sent to their members straight from an ingress so far. */
  ingressFanned(): number {
    let n = 0;
    for (const l of this.lanes ?? []) n += l.ingressFanned();
    return n;
  }

  /** Stops the workers; safe to repeat. Transports created later send on the main thread. */
  async stop(): Promise<void> {
    const lanes = this.lanes ?? [];
    this.lanes = [];
    await Promise.all(lanes.map((l) => l.stop()));
  }

  private spawn(addon: string): SendLane {
    const sab = new SharedArrayBuffer(LAYOUT.dataAt + SLOTS * LANE_SLOT_BYTES + MEMBERS * MEMBER_HEADER_BYTES);
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(join(packageRoot() ?? '.', 'src', 'realtime', 'media', 'send-worker.mjs'), {
      workerData: { addon, sab, port: port2, slots: SLOTS, slotBytes: LANE_SLOT_BYTES, members: MEMBERS, headerBytes: MEMBER_HEADER_BYTES, layout: LAYOUT },
      transferList: [port2],
    });
    worker.unref();
    port1.unref();
    const lane = new SendLane(worker, sab, port1);
    const dead = (why: string) => {
      if (!lane.alive) return;
      lane.died();
      this.log.warn({ why }, 'media worker stopped; its transports send on the main thread');
    };
    worker.on('message', (m: { op: string; id: number; socket: number; packets: IngressDatagram[]; handled: number; why?: string }) => {
      if (m.op === 'ingress') lane.ingressed(m.id, m.socket, m.packets, m.handled);
      else if (m.op === 'unwatched') {
        this.log.warn({ why: m.why }, "a media worker could not read a publisher's sockets; the main thread reads them");
        lane.ingressFailed(m.id);
      }
    });
    worker.on('error', (err) => dead(err.message));
    worker.on('exit', (code) => dead(`exit ${code}`));
    return lane;
  }
}
