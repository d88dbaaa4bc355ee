// A media worker thread: protects and sends the RTP packets the main thread writes into its send ring (see
// media-workers.ts for the ring's layout). Plain JavaScript so that it runs the same under tsx and from the bundled
// CLI. Each route is one SRTP session and one destination on a peer connection's UDP socket descriptor, with the
// transport-wide sequence numbers of its packets. A fan-out group's packet is sent to each of the group's members (a
// route and a header template in the shared member table) with the member's header in front.
//
// The main thread's messages (routes, members) come on a port read synchronously before the ring is read: a message
// posted before a packet was written is always handled before that packet is sent.
import { createRequire } from 'node:module';
import { receiveMessageOnPort, workerData } from 'node:worker_threads';

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
  const payloadAt = meta[i * M + 2];
  const payloadLength = meta[i * M + 3];
  const seq = meta[i * M + 5];
  const timestamp = meta[i * M + 6] >>> 0;
  const marker = meta[i * M + 7] ? 0x80 : 0;
  for (let j = 0; j < list.length; j += 2) {
    const slot = list[j];
    const m = slot * MI;
    if (Atomics.load(members, m) !== list[j + 1] || ((r - members[m + 6]) | 0) < 0) continue;
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
    const n = native.protectSendJoined(route.session, route.fd, route.destination, data, h, members[m + 4], payloadAt, payloadLength);
    if (n < 0) dropped++;
    else {
      sent++;
      members[m + 2]++;
      members[m + 3] += payloadLength;
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

for (;;) {
  drain();
  Atomics.store(ctl, layout.SLEEPING, 1);
  const w = Atomics.load(ctl, layout.WRITE);
  if (w !== Atomics.load(ctl, layout.READ)) {
    Atomics.store(ctl, layout.SLEEPING, 0);
    continue;
  }
  const wait = Atomics.waitAsync(ctl, layout.WRITE, w);
  if (wait.async) await wait.value;
  Atomics.store(ctl, layout.SLEEPING, 0);
}
