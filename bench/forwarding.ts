// The SFU's forwarding loop alone, in this process: one publisher packet → header rewrite → SRTP protect → UDP send,
// for each of 50 subscribers (each its own SRTP session), against werift's path and the bare `dgram` floor.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import type { RTCDtlsTransport } from 'werift';
import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, RtpHeader, RtpPacket, SrtpSession } from 'werift';
import { FanOut } from '../src/realtime/media/fan-out.ts';
import { MediaWorkers } from '../src/realtime/media/media-workers.ts';
import { nativeSrtp, type NativeSrtp } from '../src/realtime/media/native-srtp.ts';
import { RtpWriter } from '../src/realtime/media/rtp-writer.ts';
import type { BenchRow } from './harness.ts';

const SUBSCRIBERS = 50;
const PAYLOAD_BYTES = 1000;
/** CPU time each variant runs for, ms. */
const CPU_MS = Number(process.env.BENCH_FORWARD_MS ?? 3000);

interface Variant {
  name: string;
  /** Sends one publisher packet to every subscriber. */
  forward(seq: number, ts: number, payload: Buffer): void;
}

function session(profile: number): SrtpSession {
  const saltLen = profile === ProtectionProfileAeadAes128Gcm ? 12 : 14;
  return new SrtpSession({ profile, keys: { localMasterKey: randomBytes(16), localMasterSalt: randomBytes(saltLen), remoteMasterKey: randomBytes(16), remoteMasterSalt: randomBytes(saltLen) } });
}

/** The product path: RtpWriter over a transport shaped like werift's (its SRTP context, a nominated pair's socket). */
function ours(profile: number, socket: Socket, port: number, native: NativeSrtp | null): Variant {
  const writers = Array.from({ length: SUBSCRIBERS }, () => {
    const dtls = {
      state: 'connected',
      srtp: session(profile),
      iceTransport: { connection: { nominated: { protocol: { type: 'stun', transport: { socket } }, remoteAddr: ['127.0.0.1', port], packetsSent: 0, bytesSent: 0 }, canSendApplicationData: () => true } },
      transportSequenceNumber: 0,
      bytesSent: 0,
      packetsSent: 0,
    };
    return new RtpWriter(dtls as unknown as RTCDtlsTransport, native);
  });
  const ext = { midId: 1, mid: Buffer.from('1'), twccId: 3 };
  return {
    name: `RtpWriter, ${native ? 'SRTP accelerator' : 'node:crypto'}, ${profile === ProtectionProfileAeadAes128Gcm ? 'AEAD_AES_128_GCM' : 'AES_CM_128_HMAC_SHA1_80'}`,
    forward(seq, ts, payload) {
      for (let i = 0; i < SUBSCRIBERS; i++) writers[i]!.write({ payloadType: 96, ssrc: 1000 + i, sequenceNumber: seq, timestamp: ts, marker: false }, payload, ext);
    },
  };
}

/** werift's own path: a new RtpPacket/RtpHeader per subscriber, its SrtpSession, one Buffer per datagram. */
function weriftLike(socket: Socket, port: number): Variant {
  const sessions = Array.from({ length: SUBSCRIBERS }, () => session(ProtectionProfileAeadAes128Gcm));
  return {
    name: 'werift-like (RtpPacket per subscriber, werift SRTP, AEAD_AES_128_GCM)',
    forward(seq, ts, payload) {
      for (let i = 0; i < SUBSCRIBERS; i++) {
        const p = new RtpPacket(new RtpHeader({ payloadType: 96, ssrc: 1000 + i, sequenceNumber: seq, timestamp: ts }), payload);
        socket.send(sessions[i]!.encrypt(p.payload, p.header), port, '127.0.0.1');
      }
    },
  };
}

/** The floor: the same datagrams, unprotected and prebuilt. */
function floor(socket: Socket, port: number): Variant {
  const packet = Buffer.alloc(12 + PAYLOAD_BYTES + 16);
  return {
    name: 'dgram floor (no SRTP)',
    forward() {
      for (let i = 0; i < SUBSCRIBERS; i++) socket.send(packet, port, '127.0.0.1');
    },
  };
}

/** Forwarded packets (one per subscriber) per CPU-second of this process, over about CPU_MS of CPU. */
async function measure(v: Variant): Promise<number> {
  const payload = randomBytes(PAYLOAD_BYTES);
  let seq = 0;
  const run = async (cpuMs: number) => {
    const start = process.cpuUsage();
    let packets = 0;
    for (;;) {
      for (let k = 0; k < 20; k++) {
        v.forward(seq, seq * 3000, payload);
        seq = (seq + 1) & 0xffff;
        packets += SUBSCRIBERS;
      }
      // Let libuv drain the socket now and then, as the event loop does between publisher packets.
      await new Promise((r) => setImmediate(r));
      const used = process.cpuUsage(start);
      const ms = (used.user + used.system) / 1000;
      if (ms >= cpuMs) return packets / (ms / 1000);
    }
  };
  await run(CPU_MS / 5); // warm-up
  return run(CPU_MS);
}

/** Wall time each media-worker run lasts, ms. */
const WORKERS_MS = Number(process.env.BENCH_FORWARD_WORKERS_MS ?? 3000);
/** Packets (subscribers’ copies) written but not yet sent, per worker, that the driver allows before it waits. */
const IN_FLIGHT = 4000;
/** Runs of each worker count; the median is reported. */
const ROUNDS = 3;

/**
 * A UDP port that receives nothing: a child process binds it and never reads, so the kernel drops what overflows
 * its buffer and this process spends nothing on receiving. Undefined without python3.
 */
async function silentSinks(n: number): Promise<{ ports: number[]; close(): void } | undefined> {
  const script = `import socket,sys\nss=[socket.socket(socket.AF_INET,socket.SOCK_DGRAM) for _ in range(${n})]\nfor s in ss: s.bind(('127.0.0.1',0))\nprint(' '.join(str(s.getsockname()[1]) for s in ss),flush=True)\nsys.stdin.read()`;
  const child = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'ignore'] });
  const ports = await new Promise<number[] | undefined>((resolve) => {
    child.once('error', () => resolve(undefined));
    child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim().split(' ').map(Number)));
  });
  if (!ports || ports.length !== n) return undefined;
  return { ports, close: () => child.kill() };
}

/**
 * Forwarded packets per wall-second with `workers` media workers: the main thread hands each publisher packet to the
 * publication's FanOut, which writes it once into each worker's send ring (waiting when IN_FLIGHT are queued), and the
 * workers write every subscriber's copy, protect and send it. The subscribers join as the SFU's senders do.
 */
async function workersRate(workers: number, sockets: Socket[], ports: number[]): Promise<{ pps: number; dropped: number; mainBusy: number }> {
  const pool = new MediaWorkers(workers, { warn: (f: unknown, m: string) => console.error(m, f) } as never);
  const fanOut = new FanOut();
  try {
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const nominated = { protocol: { type: 'stun', transport: { socket: sockets[i] } }, remoteAddr: ['127.0.0.1', ports[i]], packetsSent: 0, bytesSent: 0 };
      const dtls = {
        state: 'connected',
        srtp: session(ProtectionProfileAeadAes128Gcm),
        iceTransport: { connection: { nominated, canSendApplicationData: () => true } },
        transportSequenceNumber: 0,
        bytesSent: 0,
        packetsSent: 0,
      };
      const writer = new RtpWriter(dtls as unknown as RTCDtlsTransport, null, pool);
      const route = writer.laneRoute()!;
      const { header, twccAt } = writer.template({ payloadType: 96, ssrc: 1000 + i, sequenceNumber: 0, timestamp: 0, marker: false }, { midId: 1, mid: Buffer.from('1'), twccId: 3 });
      fanOut.join(route.lane, route.id, header, twccAt, { refresh: () => undefined });
    }
    const packet = new RtpPacket(new RtpHeader({ payloadType: 100, ssrc: 1, sequenceNumber: 0, timestamp: 0 }), randomBytes(PAYLOAD_BYTES));
    let written = 0;
    const run = async (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        for (let k = 0; k < 4; k++) {
          packet.header.sequenceNumber = (packet.header.sequenceNumber + 1) & 0xffff;
          packet.header.timestamp = (packet.header.timestamp + 3000) >>> 0;
          fanOut.send(packet);
          written += SUBSCRIBERS;
        }
        for (;;) {
          const c = pool.counts();
          if (written - c.sent - c.dropped < IN_FLIGHT * workers) break;
          await new Promise((r) => setTimeout(r, 1));
        }
      }
    };
    await run(WORKERS_MS / 4); // warm-up (and the workers' start)
    const before = pool.counts();
    const t0 = performance.now();
    const elu = performance.eventLoopUtilization();
    await run(WORKERS_MS);
    const after = pool.counts();
    const mainBusy = performance.eventLoopUtilization(elu).utilization;
    return { pps: (after.sent - before.sent) / ((performance.now() - t0) / 1000), dropped: after.dropped - before.dropped, mainBusy };
  } finally {
    fanOut.close();
    await pool.stop();
  }
}

/** Rows: forwarding with one and with two media workers, and the ratio between them (target ≥ 1.8×). */
async function benchWorkers(floor: number): Promise<BenchRow[]> {
  const sink = await silentSinks(SUBSCRIBERS);
  if (!sink || !nativeSrtp()) {
    sink?.close();
    return [{ name: 'SFU forwarding with media workers', value: 'not run (needs python3 and the SRTP accelerator)', baseline: '', ratio: null, target: '2 workers ≥ 1.8× 1', pass: false }];
  }
  // One socket per subscriber, as each subscriber's peer connection has its own.
  const sockets = await Promise.all(
    sink.ports.map(async () => {
      const s = createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
      return s;
    }),
  );
  try {
    // One worker, then two, three times over: the median of each (this machine's other work comes and goes).
    const ones: Array<Awaited<ReturnType<typeof workersRate>>> = [];
    const twos: Array<Awaited<ReturnType<typeof workersRate>>> = [];
    for (let round = 0; round < ROUNDS; round++) {
      ones.push(await workersRate(1, sockets, sink.ports));
      twos.push(await workersRate(2, sockets, sink.ports));
    }
    const median = (runs: typeof ones) => [...runs].sort((a, b) => a.pps - b.pps)[Math.floor(runs.length / 2)]!;
    const one = median(ones);
    const two = median(twos);
    console.error(`media workers: 1 → ${ones.map((r) => r.pps.toFixed(0)).join(', ')}/s; 2 → ${twos.map((r) => r.pps.toFixed(0)).join(', ')}/s`);
    const ratio = two.pps / one.pps;
    return [
      {
        name: `SFU forwarding driven in process (publisher packets in, UDP sink out), ${SUBSCRIBERS} subscribers, AEAD_AES_128_GCM: 2 media workers vs 1, forwarded packets per wall-second (median of ${ROUNDS} runs of ${WORKERS_MS / 1000} s each; main thread busy ${(one.mainBusy * 100).toFixed(0)} % / ${(two.mainBusy * 100).toFixed(0)} %; dropped ${one.dropped} / ${two.dropped}; the same run's dgram floor ${floor.toFixed(0)}/s, lower on a machine busy with other work)`,
        value: two.pps.toFixed(0),
        baseline: `${one.pps.toFixed(0)} (1 media worker)`,
        ratio,
        target: '≥ 1.8× (two cores)',
        pass: ratio >= 1.8,
      },
    ];
  } finally {
    for (const s of sockets) s.close();
    sink.close();
  }
}

/** The forwarding micro-benchmark rows. */
export async function benchForwarding(): Promise<BenchRow[]> {
  const sink = createSocket('udp4');
  sink.on('message', () => undefined);
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
  const port = sink.address().port;
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  try {
    const results: Array<[string, number]> = [];
    const native = nativeSrtp();
    const variants = [floor(socket, port), weriftLike(socket, port)];
    for (const engine of native ? [null, native] : [null]) {
      variants.push(ours(ProtectionProfileAeadAes128Gcm, socket, port, engine), ours(ProtectionProfileAes128CmHmacSha1_80, socket, port, engine));
    }
    for (const v of variants) {
      results.push([v.name, await measure(v)]);
    }
    const base = results[0]![1];
    const workerRows = await benchWorkers(base);
    return [...results.slice(1).map(([name, pps]) => ({
      name: `SFU forwarding loop, in process: ${name}, 1 packet → ${SUBSCRIBERS} subscribers (header, SRTP, UDP send), packets per CPU-second`,
      value: pps.toFixed(0),
      baseline: `${base.toFixed(0)} (dgram floor, same datagrams unprotected)`,
      ratio: pps / base,
      target: 'recorded (no target set)',
      pass: true,
    })), ...workerRows];
  } finally {
    socket.close();
    sink.close();
  }
}
