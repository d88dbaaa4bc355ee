/* global setImmediate */
// A media worker thread: protects and sends the RTP packets the main thread writes into its send ring (see
// media-workers.ts for the ring's layout). Plain JavaScript so that it runs the same under tsx and from the bundled
// CLI. Each route is one SRTP session (libsrtp2) and one destination on a peer connection's UDP socket descriptor.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const { addon, sab, slots, slotBytes, layout } = workerData;
const native = createRequire(import.meta.url)(addon);
const ctl = new Int32Array(sab, 0, layout.ctlInts);
const meta = new Int32Array(sab, layout.metaAt, slots * layout.metaInts);
const M = layout.metaInts;
const data = Buffer.from(sab, layout.dataAt, slots * slotBytes);
const mask = slots - 1;
/** @type {Map<number, { session: unknown, fd: number, destination: unknown }>} */
const routes = new Map();
/** The highest route id announced: a packet of a higher one waits for its route message. */
let announced = 0;
let waitingForRoute = false;

parentPort.on('message', (m) => {
  if (m.op === 'route') {
    const k = m.keys;
    const session = k.gcm ? native.createGcm(Buffer.from(k.key), Buffer.from(k.salt)) : native.create(false, Buffer.from(k.masterKeyAndSalt));
    routes.set(m.id, { session, fd: m.fd, destination: native.destination(m.ip, m.port) });
    if (m.id > announced) announced = m.id;
    if (waitingForRoute) drain();
  } else if (m.op === 'unroute') {
    retiring.push(m);
    retire();
  }
});

/** Routes to forget once the ring is read past the position they were retired at (their packets are sent first). */
const retiring = [];

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

/** Sends every packet in the ring, in order; stops at a packet whose route has not arrived yet. */
function drain() {
  waitingForRoute = false;
  let r = Atomics.load(ctl, layout.READ);
  const w = Atomics.load(ctl, layout.WRITE);
  let sent = 0;
  let dropped = 0;
  while (r !== w) {
    const i = r & mask;
    const id = meta[i * M];
    const route = routes.get(id);
    if (!route && id > announced) {
      waitingForRoute = true;
      break;
    }
    // A route removed since is dropped silently: its subscriber is gone.
    if (route) {
      const payloadAt = meta[i * M + 2];
      const n =
        payloadAt < 0
          ? native.protectSend(route.session, route.fd, route.destination, data, i * slotBytes, meta[i * M + 1])
          : native.protectSendJoined(route.session, route.fd, route.destination, data, i * slotBytes, meta[i * M + 1], payloadAt, meta[i * M + 3]);
      if (n < 0) dropped++;
      else sent++;
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

for (;;) {
  drain();
  Atomics.store(ctl, layout.SLEEPING, 1);
  const w = Atomics.load(ctl, layout.WRITE);
  if (waitingForRoute || w !== Atomics.load(ctl, layout.READ)) {
    // More to send, or a route to wait for: let the messages in first.
    Atomics.store(ctl, layout.SLEEPING, 0);
    await new Promise((resolve) => setImmediate(resolve));
    continue;
  }
  const wait = Atomics.waitAsync(ctl, layout.WRITE, w);
  if (wait.async) await wait.value;
  Atomics.store(ctl, layout.SLEEPING, 0);
}
