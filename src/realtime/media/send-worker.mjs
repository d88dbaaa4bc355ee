// A media worker thread: protects and sends the RTP packets the main thread writes into its send ring (see
// media-workers.ts for the ring's layout). Plain JavaScript so that it runs the same under tsx and from the bundled
// CLI. Each route is one SRTP session and one destination on a peer connection's UDP socket descriptor, with the
// transport-wide sequence numbers of its packets. A fan-out group's packet is sent to each of the group's members (a
// route and a header template in the shared member table) with the member's header in front.
//
// The main thread's messages (routes, members) come on a port read synchronously before the ring is read: a message
// posted before a packet was written is always handled before that packet is sent.
//
// A publisher's ingress (ingress.ts) is read here too: the worker reads the UDP sockets of the publisher's checked ICE
// pairs through descriptors of its own, authenticates and decrypts the RTP from the pairs' remote addresses, sends each
// packet of a media payload type straight to the members of the publication's group of that kind on this worker,
// and hands every datagram to the main thread afterwards: the RTP decrypted (for werift's receiver, the NACK history
// and the subscribers elsewhere), anything else (STUN, DTLS, SRTCP, a stranger's datagram, a packet that does not
// authenticate) as it came, for werift to handle as if its socket had read it.
import { createRequire } from 'node:module';
import { setImmediate } from 'node:timers';
import { addressInts, addressText } from './ingress-address.mjs';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';

const { addon, sab, port, slots, slotBytes, members: memberCount, headerBytes, layout } = workerData;
const native = createRequire(import.meta.url)(addon);
const ctl = new Int32Array(sab, 0, layout.ctlInts);
const meta = new Int32Array(sab, layout.metaAt, slots * layout.metaInts);
const M = layout.metaInts;
const members = new Int32Array(sab, layout.membersAt, memberCount * layout.memberInts);
const MI = layout.memberInts;
const data = Buffer.from(sab, layout.dataAt, slots * slotBytes + memberCount * headerBytes);
const mask = slots - 1;
/** @type {Map<number, { session: unknown, fd: number, destination: unknown, twcc: number }>} */
const routes = new Map();
/** Each group's members, as pairs of member slot and generation (a member whose generation changed has left). */
/** @type {Map<number, number[]>} */
const groups = new Map();
/** Routes to forget once the ring is read past the position they were retired at (their packets are sent first). */
const retiring = [];
/** Messages handled so far (the main thread counts those it posted). */
let handled = 0;
let sent = 0;
let dropped = 0;

/** Datagrams read per batch, their bytes and meta ints each (as the addon's watch() writes them). */
const BATCH = 32;
const DATAGRAM_BYTES = 2048;
const DATAGRAM_INTS = 8;
/** A datagram's kinds, as the main thread reads them: decrypted RTP sent to this worker's members, decrypted RTP not sent, as it came. */
const FANNED = 1;
const CLEAR = 2;
const RAW = 3;
/** @type {Map<number, Ingress>} */
const ingresses = new Map();

/**
 * @typedef {object} Ingress
 * @property {number} id
 * @property {unknown} session
 * @property {{ watcher: unknown, buf: Buffer, meta: Int32Array }[]} sockets one watch per socket
 * @property {number[][]} from the remote addresses as watch() writes them: family, port, then one or four ints
 * @property {Map<number, number>} kinds media payload types and their stream (as IngressSpec in media-workers.ts)
 * @property {Map<number, number> | undefined} ssrcs media SSRCs and their stream, when streams are told by SSRC
 * @property {number[]} groups the group of each stream on this worker (0: none)
 * @property {number[]} open whether each stream is forwarded (not muted, not blocked)
 */

/** Streams one ingress forwards at most (INGRESS_STREAMS in media-workers.ts). */
const STREAMS = 4;

function fromRemote(ing, meta, i) {
  const m = i * DATAGRAM_INTS;
  next: for (const f of ing.from) {
    if (meta[m + 2] !== f[0] || meta[m + 1] !== f[1]) continue;
    for (let j = 2; j < f.length; j++) if (meta[m + 1 + j] !== f[j]) continue next;
    return true;
  }
  return false;
}

/** Handles a batch of `n` datagrams read off an ingress's socket number `socket`. */
function ingest(ing, socket, n) {
  // Joins, leaves and gates posted so far apply to these packets.
  pull();
  sent = 0;
  dropped = 0;
  const { buf, meta } = ing.sockets[socket];
  const out = [];
  let fanned = 0;
  for (let i = 0; i < n; i++) {
    const at = i * DATAGRAM_BYTES;
    let length = meta[i * DATAGRAM_INTS];
    const b0 = buf[at];
    const b1 = buf[at + 1];
    // RTP (RFC 7983: 128-191, and not an RTCP packet type 192-223) from the pair's remote address only.
    let kind = RAW;
    if (length >= 12 && b0 >= 128 && b0 <= 191 && (b1 < 192 || b1 > 223) && fromRemote(ing, meta, i)) {
      const clear = native.unprotect(ing.session, buf, at, length);
      if (clear >= 0) {
        length = clear;
        kind = CLEAR;
        const media = ing.ssrcs ? ing.ssrcs.get(buf.readUInt32BE(at + 8)) : ing.kinds.get(b1 & 0x7f);
        if (media !== undefined && ing.open[media]) {
          kind = FANNED;
          fanned++;
          let header = 12 + 4 * (b0 & 0x0f);
          if (b0 & 0x10 && header + 4 <= length) header += 4 + 4 * buf.readUInt16BE(at + header + 2);
          const end = b0 & 0x20 ? length - buf[at + length - 1] : length;
          const list = groups.get(ing.groups[media]);
          if (list && end > header) sendToMembers(list, undefined, buf, at + header, end - header, buf.readUInt16BE(at + 2), buf.readUInt32BE(at + 4), b1 & 0x80);
        }
      }
    }
    // A copy of its own: a view would carry the whole batch buffer along.
    out.push({ kind, data: new Uint8Array(buf.subarray(at, at + length)), from: kind === RAW ? [addressText(Buffer.from(meta.buffer, meta.byteOffset + (i * DATAGRAM_INTS + 3) * 4, 16), meta[i * DATAGRAM_INTS + 2]), meta[i * DATAGRAM_INTS + 1], meta[i * DATAGRAM_INTS + 2]] : undefined });
  }
  if (sent) Atomics.add(ctl, layout.SENT, sent);
  if (dropped) Atomics.add(ctl, layout.DROPPED, dropped);
  if (fanned) Atomics.add(ctl, layout.INGRESS_FANNED, fanned);
  // `handled`: the joins and leaves the batch's members reflect, so the main thread knows which members have a packet.
  parentPort.postMessage({ op: 'ingress', id: ing.id, socket, packets: out, handled });
}

function handle(m) {
  if (m.op === 'route') {
    const k = m.keys;
    const session = k.gcm ? native.createGcm(Buffer.from(k.key), Buffer.from(k.salt)) : native.create(false, Buffer.from(k.masterKeyAndSalt));
    routes.set(m.id, { session, fd: m.fd, destination: native.destination(m.ip, m.port), twcc: m.twcc & 0xffff });
  } else if (m.op === 'unroute') {
    retiring.push(m);
  } else if (m.op === 'join') {
    let list = groups.get(m.group);
    if (!list) groups.set(m.group, (list = []));
    list.push(m.slot, m.gen);
  } else if (m.op === 'leave') {
    const list = groups.get(m.group);
    for (let j = 0; list && j < list.length; j += 2) {
      if (list[j] === m.slot && list[j + 1] === m.gen) {
        list.splice(j, 2);
        break;
      }
    }
  } else if (m.op === 'ungroup') {
    groups.delete(m.group);
  } else if (m.op === 'watch') {
    const k = m.keys;
    /** @type {Ingress} */
    const ing = {
      id: m.id,
      session: undefined,
      sockets: [],
      from: m.peers.map(([ip, port, family]) => [family, port, ...addressInts(ip, family)]),
      kinds: new Map(m.payloadTypes.filter((e) => e[1] >= 0 && e[1] < STREAMS)),
      ssrcs: m.ssrcs && new Map(m.ssrcs.filter((e) => e[1] >= 0 && e[1] < STREAMS)),
      groups: new Array(STREAMS).fill(0),
      open: new Array(STREAMS).fill(1),
    };
    try {
      ing.session = native.createInbound(k.aead, Buffer.from(k.masterKeyAndSalt));
      m.fds.forEach((fd, socket) => {
        const w = { watcher: undefined, buf: Buffer.alloc(BATCH * DATAGRAM_BYTES), meta: new Int32Array(BATCH * DATAGRAM_INTS) };
        w.watcher = native.watch(fd, w.buf, w.meta, (n) => ingest(ing, socket, n));
        ing.sockets.push(w);
      });
      ingresses.set(m.id, ing);
    } catch (err) {
      // This ingress only: its descriptors are closed and the main thread reads its sockets again.
      for (const w of ing.sockets) native.unwatch(w.watcher);
      for (const fd of m.fds.slice(ing.sockets.length)) native.close(fd);
      parentPort.postMessage({ op: 'unwatched', id: m.id, why: String(err) });
    }
  } else if (m.op === 'feed') {
    const ing = ingresses.get(m.id);
    if (ing && m.kind < STREAMS) ing.groups[m.kind] = m.group;
  } else if (m.op === 'gate') {
    const ing = ingresses.get(m.id);
    if (ing && m.kind < STREAMS) ing.open[m.kind] = m.open ? 1 : 0;
  } else if (m.op === 'ssrcs') {
    const ing = ingresses.get(m.id);
    if (ing) ing.ssrcs = new Map(m.ssrcs.filter((e) => e[1] >= 0 && e[1] < STREAMS));
  } else if (m.op === 'unwatch') {
    const ing = ingresses.get(m.id);
    for (const w of ing?.sockets ?? []) native.unwatch(w.watcher);
    ingresses.delete(m.id);
  }
}

/** Handles every message the main thread has posted so far. */
function pull() {
  const posted = Atomics.load(ctl, layout.POSTED);
  while (handled !== posted) {
    const m = receiveMessageOnPort(port);
    if (!m) break;
    handle(m.message);
    handled = (handled + 1) | 0;
  }
}

function retire() {
  const r = Atomics.load(ctl, layout.READ);
  for (let i = retiring.length - 1; i >= 0; i--) {
    const m = retiring[i];
    if (((r - m.at) | 0) >= 0) {
      routes.delete(m.id);
      retiring.splice(i, 1);
    }
  }
}

/** Sends the group packet at ring position `r` (slot `i`) to each member that joined before it was written. */
function fanOut(i, r, list) {
  sendToMembers(list, r, data, meta[i * M + 2], meta[i * M + 3], meta[i * M + 5], meta[i * M + 6] >>> 0, meta[i * M + 7] ? 0x80 : 0);
}

/**
 * Sends a publisher packet's payload (buf[at, at + length)) to each member of a group behind the member's header, with
 * the sequence number, timestamp and marker bit given; a ring packet (ring position `r`) only to the members that
 * joined before it was written, an ingress packet (`r` undefined) to every member this worker knows of.
 */
function sendToMembers(list, r, buf, at, length, seq, timestamp, marker) {
  for (let j = 0; j < list.length; j += 2) {
    const slot = list[j];
    const m = slot * MI;
    if (Atomics.load(members, m) !== list[j + 1] || (r !== undefined && ((r - members[m + 6]) | 0) < 0)) continue;
    const route = routes.get(members[m + 1]);
    if (!route) continue;
    const h = layout.headersAt + slot * headerBytes;
    data[h + 1] = marker | (data[h + 1] & 0x7f);
    data.writeUInt16BE((seq + members[m + 7]) & 0xffff, h + 2);
    data.writeUInt32BE((timestamp + members[m + 8]) >>> 0, h + 4);
    const twccAt = members[m + 5];
    if (twccAt >= 0) {
      route.twcc = (route.twcc + 1) & 0xffff;
      data.writeUInt16BE(route.twcc, h + twccAt);
    }
    const n = native.protectSendParts(route.session, route.fd, route.destination, data, h, members[m + 4], buf, at, length);
    if (n < 0) dropped++;
    else {
      sent++;
      members[m + 2]++;
      members[m + 3] += length;
    }
  }
}

/** Sends every packet in the ring, in order. */
function drain() {
  let r = Atomics.load(ctl, layout.READ);
  const w = Atomics.load(ctl, layout.WRITE);
  // Read after the write position: every message posted before these packets were written.
  pull();
  sent = 0;
  dropped = 0;
  while (r !== w) {
    const i = r & mask;
    const id = meta[i * M];
    if (id < 0) {
      const list = groups.get(-id);
      if (list) fanOut(i, r, list);
    } else {
      // A route removed since is dropped silently: its subscriber is gone.
      const route = routes.get(id);
      if (route) {
        const twccAt = meta[i * M + 4];
        if (twccAt >= 0) {
          route.twcc = (route.twcc + 1) & 0xffff;
          data.writeUInt16BE(route.twcc, twccAt);
        }
        const payloadAt = meta[i * M + 2];
        const n =
          payloadAt < 0
            ? native.protectSend(route.session, route.fd, route.destination, data, i * slotBytes, meta[i * M + 1])
            : native.protectSendJoined(route.session, route.fd, route.destination, data, i * slotBytes, meta[i * M + 1], payloadAt, meta[i * M + 3]);
        if (n < 0) dropped++;
        else sent++;
      }
    }
    r = (r + 1) | 0;
    // The read position is published now and then, not per packet: the main thread only needs it when the ring is full.
    if ((r & 63) === 0) Atomics.store(ctl, layout.READ, r);
  }
  Atomics.store(ctl, layout.READ, r);
  if (retiring.length) retire();
  if (sent) Atomics.add(ctl, layout.SENT, sent);
  if (dropped) Atomics.add(ctl, layout.DROPPED, dropped);
}

// A pending Atomics.waitAsync does not keep a thread alive: this timer does, until the worker is terminated.
setInterval(() => undefined, 1 << 30);

let busy = 0;
for (;;) {
  // Read before the work is looked at: anything published after this changes it, and the wait below returns at once.
  const seen = Atomics.load(ctl, layout.WAKE);
  drain();
  Atomics.store(ctl, layout.SLEEPING, 1);
  if (Atomics.load(ctl, layout.WRITE) !== Atomics.load(ctl, layout.READ) || Atomics.load(ctl, layout.POSTED) !== handled) {
    Atomics.store(ctl, layout.SLEEPING, 0);
    // A ring that never empties still lets the event loop read the ingresses now and then.
    if ((++busy & 255) === 0) await new Promise((resolve) => setImmediate(resolve));
    continue;
  }
  const wait = Atomics.waitAsync(ctl, layout.WAKE, seen);
  if (wait.async) await wait.value;
  Atomics.store(ctl, layout.SLEEPING, 0);
}
