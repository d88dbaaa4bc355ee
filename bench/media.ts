// The SFU: one publisher (audio + video) to N subscribers on one core, stepping N up until forwarding degrades.
import { spawn } from 'node:child_process';
import type { RemoteInfo, Socket } from 'node:dgram';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { SrtpAuthenticationError } from 'werift';
import { genUserSig } from '../src/auth/usersig.ts';
import { MediaPeer } from '../test/helpers/media-peer.ts';
import { RtcTestClient, type Msg } from '../test/helpers/rtc-client.ts';
import { restUrl, tempDir } from '../test/helpers/server.ts';
import { cpuTicks, createBenchApp, othersLoad, pct, rssKiB, sleep, startPinnedServer, withHardStop, type BenchRow, type CpuTicks, type PinnedServer } from './harness.ts';

type Kind = 'audio' | 'video';
const KINDS: Kind[] = ['audio', 'video'];

/** Subscriber counts, each held for SETTLE_MS + MEASURE_MS; earlier subscribers stay as N grows. */
const STEPS = (process.env.BENCH_MEDIA_STEPS ?? (Number(process.env.BENCH_MEDIA_SOAK_S ?? 0) > 0 ? '1,10,25,40' : '1,10,25,40,50,60,75,100,150,200,250,300,400')).split(',').map(Number);
/** The publisher: 1000-byte video packets at this rate, plus 160-byte audio packets 50 times a second. */
const VIDEO_KBPS = 500;
const SETTLE_MS = 1000;
const MEASURE_MS = 10_000;
/** Packets sent in the window may still land this long after it closes. */
const GRACE_MS = 500;
/** Subscribers being set up (login, room.enter, media.subscribe, ICE + DTLS) at once. */
const IN_FLIGHT = 8;
/** Limits: the whole group, one request, one connection. */
/** A soak (BENCH_MEDIA_SOAK_S > 0): after the steps, N=SOAK_N subscribers are held this long, measured every minute. */
const SOAK_S = Number(process.env.BENCH_MEDIA_SOAK_S ?? 0);
const SOAK_N = 40;
const SOAK_EVERY_MS = 60_000;
/** A flat heap: the last third's mean JS heap within this share of the first third's. */
const SOAK_HEAP_DRIFT = 0.1;
const OVERALL_MS = 240_000 + SOAK_S * 1000;
const REQUEST_TIMEOUT_MS = 15_000;
const CONNECT_TIMEOUT_MS = 20_000;
/** "Degraded": more loss, a slower p99, or a busier server core than this. */
const LOSS_LIMIT = 0.01;
const P99_LIMIT_MS = 100;
/** The issue's line-rate rule and target ("Media at line rate", point 4). */
const STRICT_P99_MS = 20;
const STRICT_TARGET_PPS = 40_000;
/** The step at which REST latency is probed while the SFU forwards, and the probe's rate and length. */
const REST_PROBE_N = 40;
const REST_PROBE_RATE = 100;
const REST_PROBE_S = 5;
/** The issue's bound on REST latency under media load, ms. */
const REST_P99_LIMIT_MS = 10;
const CPU_LIMIT = 95;
/** Above this share of its core, the load generator may be what limits the figures. */
const CLIENT_BUSY = 90;
/** A step where other processes used more than this share of a core is "disturbed", %. */
const DISTURBED = 25;
/** More of a step's new subscribers than this failing to connect counts as degraded. */
const MAX_FAILED_SHARE = 0.05;
/** Subscribers on one core the row is met at (the issue sets no figure; 20 = 40 down-tracks). */
const TARGET_N = 20;
const ROOM = 4242;
const PUBLISHER = 'pub';
/** Seen-packet bitmaps per subscriber and kind: more than a window's packets. */
const WINDOW_SLOTS = 8192;
/** Event-loop delay sampling interval, ms (prom-client's default, which the server's metrics use). */
const LOOP_SAMPLE_MS = 10;

/** One step's figures. */
interface Step {
  n: number;
  /** Server CPU, % of its one core; this process's, % of one core. */
  cpu: number;
  clientCpu: number;
  /** Other processes on the machine, % of one core. */
  others: number;
  rssKiB: number;
  expected: number;
  received: number;
  loss: number;
  p50: number;
  p99: number;
  /** Event-loop delay beyond the 10 ms sampling interval, p99 ms: the load generator's and the server's (its metrics). */
  loopP99: number;
  serverLoopP99: number;
  serverLoopMax: number;
  /** Time the server spent in garbage collection in the window, ms; its JS heap in use at the end, KiB. */
  serverGcMs: number;
  /** The server's GC pauses in the window longer than 10 ms and 100 ms. */
  gcOver10ms: number;
  gcOver100ms: number;
  /** Those over 10 ms by GC kind. */
  gcOver10msByKind: Record<string, number>;
  heapKiB: number;
  /** Forwarded packets received per second, all subscribers. */
  pps: number;
  setupS: number;
  degraded: string[];
}

/** A subscriber's receipts in the current window. */
interface Receipts {
  seen: Record<Kind, Uint8Array>;
  got: number;
}

let nextId = 0;
/** Sends a request on a test client and waits for its reply (longer than the test helper's 2 s: the server may be busy). */
async function ask(c: RtcTestClient, type: string, body: Msg): Promise<Msg> {
  await c.opened;
  const id = `m${++nextId}`;
  c.ws.send(JSON.stringify({ v: 1, id, type, ...body }));
  const r = await c.next((m) => m.re === id, REQUEST_TIMEOUT_MS);
  if (r.ok !== true) throw new Error(`${type} refused: ${JSON.stringify(r).slice(0, 300)}`);
  return r;
}

/** From the server's /metrics: event-loop delay since the last scrape (prom-client resets it), GC time so far, JS heap used. */
async function serverGauges(url: string): Promise<{ lagP99: number; lagMax: number; gcSeconds: number; gcOver10ms: number; gcOver100ms: number; gcOver10msByKind: Record<string, number>; heapUsed: number }> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })).text();
  const one = (name: string) => Number(new RegExp(`^trtcd_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  let gcSeconds = 0;
  for (const m of text.matchAll(/^trtcd_nodejs_gc_duration_seconds_sum\{[^}]*\} (\S+)$/gm)) gcSeconds += Number(m[1]);
  // Pauses longer than 10 ms and 100 ms: all GCs less those in the le="0.01" and le="0.1" buckets (prom-client's defaults).
  const gcCount = (le: string) => [...text.matchAll(new RegExp(`^trtcd_nodejs_gc_duration_seconds_bucket\\{le="${le}"[^}]*\\} (\\S+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
  const all = gcCount('\\+Inf');
  // The same by kind (minor = scavenge, major = mark-compact, incremental = marking steps), to tell which stalls.
  const byKind: Record<string, number> = {};
  for (const le of ['\\+Inf', '0.01'])
    for (const m of text.matchAll(new RegExp(`^trtcd_nodejs_gc_duration_seconds_bucket\\{le="${le}",kind="(\\w+)"\\} (\\S+)$`, 'gm'))) byKind[m[1]!] = (byKind[m[1]!] ?? 0) + (le === '0.01' ? -1 : 1) * Number(m[2]);
  return {
    lagP99: one('nodejs_eventloop_lag_p99_seconds'),
    lagMax: one('nodejs_eventloop_lag_max_seconds'),
    gcSeconds,
    gcOver10ms: all - gcCount('0.01'),
    gcOver100ms: all - gcCount('0.1'),
    gcOver10msByKind: byKind,
    heapUsed: one('nodejs_heap_size_used_bytes'),
  };
}

/** Payload type → kind, from the m= lines of an SDP. */
function payloadKinds(sdp: string): Map<number, Kind> {
  const map = new Map<number, Kind>();
  for (const m of sdp.matchAll(/^m=(audio|video) \d+ \S+ ([\d ]+)/gm)) for (const pt of m[2]!.trim().split(' ')) map.set(Number(pt), m[1] as Kind);
  return map;
}

/**
 * The `media` group. trtcd runs as a child pinned to one core; this process, on the other core, runs the load:
 * one werift publisher writing VIDEO_KBPS of 1000-byte "video" packets and 50/s 160-byte "audio" packets, and N
 * werift subscribers of it, each its own /rtc session (auth, room.enter as audience, media.subscribe). N steps up
 * (STEPS); each step settles, then measures a MEASURE_MS window: the server's CPU (/proc/<pid>/stat) and VmRSS,
 * the packets every subscriber got of those the publisher sent in the window (loss), and each packet's latency.
 *
 * Why the client does not decrypt: werift is pure JavaScript, and SRTP decryption of every packet at every
 * subscriber would cost this process as much as the forwarding costs the server, so the load generator, not the SFU,
 * would be measured. The SFU keeps each packet's RTP sequence number and timestamp (only SSRC and payload type are
 * rewritten), and the RTP header is sent in the clear in SRTP, so the subscribers here replace their SRTP session's
 * `decrypt` (bench only, after the connection is up) with a function that reads the clear header (payload type →
 * kind, sequence number), notes the receive time and drops the packet the way werift drops a packet that fails
 * authentication. The publisher notes each packet's send time by sequence number as its track emits it, so latency
 * is receive time − send time in this one process. ICE, DTLS and RTCP run unchanged on both sides. This process's
 * CPU and event-loop delay are measured in every window, and a step where this process was near a full core is
 * reported as bound by the load generator rather than by the server.
 */
export async function benchMedia(): Promise<BenchRow[]> {
  const deadline = Date.now() + OVERALL_MS;
  const left = () => deadline - Date.now();
  const notes: string[] = [];
  const dir = tempDir('trtcd-bench-media-');
  const app = createBenchApp(dir);
  let server: PinnedServer | undefined;
  const clients: RtcTestClient[] = [];
  const peers: MediaPeer[] = [];
  // A hard stop a little after the soft deadline, in case something hangs: the finally below cleans up either way.
  try {
    return await withHardStop('media bench', OVERALL_MS + 30_000, run);
  } finally {
    for (const p of peers) p.stop();
    await Promise.race([Promise.allSettled(peers.map((p) => p.close())), sleep(5000)]);
    for (const c of clients) c.ws.terminate();
    await server?.release();
    rmSync(dir, { recursive: true, force: true });
  }

  async function run(): Promise<BenchRow[]> {
    // BENCH_MEDIA_SERVER_ARGS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, adds node options to the server (profiling).
    server = await startPinnedServer(dir, (process.env.BENCH_MEDIA_SERVER_ARGS ?? '').split(' ').filter(Boolean));
    notes.push(...server.notes);
    const { pid, url } = server.child;

    const login = async (userId: string, role: 'anchor' | 'audience'): Promise<RtcTestClient> => {
      const c = new RtcTestClient(url);
      clients.push(c);
      await ask(c, 'auth', { sdkAppId: app.sdkAppId, userId, userSig: genUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, userId, expire: 86400 }) });
      await ask(c, 'room.enter', { roomId: ROOM, role });
      return c;
    };
    const connected = async (p: MediaPeer) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not connected in ${CONNECT_TIMEOUT_MS} ms (ICE ${p.pc.iceConnectionState}, DTLS ${p.pc.dtlsTransports.map((d) => d.state).join()})`)), CONNECT_TIMEOUT_MS)));
      try {
        await Promise.race([p.connected(), late]);
      } finally {
        clearTimeout(timer);
      }
    };

    // The window: from the first sequence number of each kind sent after it opened, how many were sent while open.
    const sentAt: Record<Kind, Float64Array> = { audio: new Float64Array(65536), video: new Float64Array(65536) };
    const lastSeq: Record<Kind, number> = { audio: -1, video: -1 };
    const win = { open: false, collecting: false, from: { audio: 0, video: 0 }, count: { audio: 0, video: 0 } };
    const latencies: number[] = [];
    const receipts: Receipts[] = [];
    /** RTP that reached werift's SRTP session instead of the socket listener above (it costs this process more). */
    let viaWerift = 0;

    const pub = new MediaPeer('publish', KINDS);
    peers.push(pub);
    const anchor = await login(PUBLISHER, 'anchor');
    const published = await ask(anchor, 'media.publish', { roomId: ROOM, sdp: await pub.offer() });
    await pub.answer(published.sdp as string);
    await connected(pub);
    for (const t of pub.pc.getTransceivers()) {
      const kind = t.kind as Kind;
      t.sender.track?.onReceiveRtp.subscribe((rtp) => {
        const seq = rtp.header.sequenceNumber;
        sentAt[kind][seq] = performance.now();
        lastSeq[kind] = seq;
        if (win.open) win.count[kind]++;
      });
    }
    pub.start(VIDEO_KBPS);

    /** A subscriber whose SRTP `decrypt` only reads the clear RTP header (see above). */
    const subscribe = async (i: number): Promise<void> => {
      const c = await login(`v${String(i).padStart(4, '0')}`, 'audience');
      const peer = new MediaPeer('subscribe', KINDS);
      peers.push(peer);
      const r = await ask(c, 'media.subscribe', { roomId: ROOM, userId: PUBLISHER, sdp: await peer.offer() });
      await peer.answer(r.sdp as string);
      await connected(peer);
      const kinds = payloadKinds(r.sdp as string);
      const dtls = peer.pc.dtlsTransports[0];
      if (!dtls?.srtp) throw new Error('no SRTP session after connecting');
      const mine: Receipts = { seen: { audio: new Uint8Array(WINDOW_SLOTS), video: new Uint8Array(WINDOW_SLOTS) }, got: 0 };
      receipts.push(mine);
      const record = (buf: Buffer): void => {
        if (!win.collecting || buf.length < 12) return;
        const kind = kinds.get(buf[1]! & 0x7f);
        if (!kind) return;
        const seq = buf.readUInt16BE(2);
        const d = (seq - win.from[kind]) & 0xffff;
        if (d < win.count[kind] && d < WINDOW_SLOTS && mine.seen[kind][d] === 0) {
          mine.seen[kind][d] = 1;
          mine.got++;
          latencies.push(performance.now() - sentAt[kind][seq]!);
        }
      };
      // RTP is read off the subscriber's UDP socket before werift's ICE and DTLS code sees it (STUN, DTLS and RTCP
      // still go to werift), so that the load generator spends little per packet; werift's decrypt is the fallback.
      // Every local candidate's socket: the one the server's packets arrive on is the nominated pair's, which may change.
      const sockets = (dtls.iceTransport.connection as unknown as { protocols: Array<{ transport?: { socket?: Socket } }> }).protocols.flatMap((p) => (p.transport?.socket ? [p.transport.socket] : []));
      for (const socket of new Set(sockets)) {
        const werift = socket.listeners('message') as Array<(m: Buffer, r: RemoteInfo) => void>;
        socket.removeAllListeners('message');
        socket.on('message', (m: Buffer, r: RemoteInfo) => {
          // RTP: version 2, and not an RTCP packet type (200-206 have 72-78 in the low 7 bits of byte 1).
          const pt = m.length >= 12 ? m[1]! & 0x7f : 0;
          if ((m[0]! & 0xc0) === 0x80 && !(pt >= 64 && pt <= 95)) return record(m);
          for (const l of werift) l(m, r);
        });
      }
      const drop = new SrtpAuthenticationError('bench: header read, payload not decrypted');
      dtls.srtp.decrypt = (buf: Buffer): Buffer => {
        viaWerift++;
        record(buf);
        throw drop;
      };
    };

    const addSubscribers = async (from: number, to: number): Promise<string[]> => {
      const failures: string[] = [];
      let next = from;
      await Promise.all(
        Array.from({ length: Math.min(IN_FLIGHT, to - from) }, async () => {
          while (next < to && left() > 0) {
            const i = next++;
            await subscribe(i).catch((err: unknown) => failures.push(`subscriber ${i}: ${(err as Error).message}`));
          }
        }),
      );
      return failures;
    };

    const loop = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
    const measure = async (setupS: number): Promise<Step> => {
      const n = receipts.length;
      await sleep(SETTLE_MS);
      for (const r of receipts) {
        r.got = 0;
        r.seen.audio.fill(0);
        r.seen.video.fill(0);
      }
      latencies.length = 0;
      const g0 = await serverGauges(url);
      for (const k of KINDS) {
        win.from[k] = (lastSeq[k] + 1) & 0xffff;
        win.count[k] = 0;
      }
      loop.reset();
      loop.enable();
      const a: CpuTicks = cpuTicks([pid]);
      const self0 = cpuTicks(['self']);
      win.open = win.collecting = true;
      await sleep(MEASURE_MS);
      win.open = false;
      const b = cpuTicks([pid]);
      const self1 = cpuTicks(['self']);
      loop.disable();
      const g1 = await serverGauges(url);
      await sleep(GRACE_MS);
      win.collecting = false;
      const seconds = (b.at - a.at) / 1000;
      const perPeer = win.count.audio + win.count.video;
      const expected = perPeer * receipts.length;
      const received = receipts.reduce((s, r) => s + r.got, 0);
      const sorted = Float64Array.from(latencies).sort();
      const step: Step = {
        n,
        cpu: (b.ours - a.ours) / seconds,
        clientCpu: (self1.ours - self0.ours) / ((self1.at - self0.at) / 1000),
        others: othersLoad({ ...a, ours: a.ours + self0.ours }, { ...b, ours: b.ours + self1.ours }),
        rssKiB: rssKiB(pid),
        expected,
        received,
        loss: expected === 0 ? 0 : 1 - received / expected,
        p50: pct(sorted, 0.5),
        p99: pct(sorted, 0.99),
        loopP99: loop.percentile(99) / 1e6 - LOOP_SAMPLE_MS,
        serverLoopP99: g1.lagP99 * 1000 - LOOP_SAMPLE_MS,
        serverLoopMax: g1.lagMax * 1000 - LOOP_SAMPLE_MS,
        serverGcMs: (g1.gcSeconds - g0.gcSeconds) * 1000,
        gcOver10ms: g1.gcOver10ms - g0.gcOver10ms,
        gcOver100ms: g1.gcOver100ms - g0.gcOver100ms,
        gcOver10msByKind: Object.fromEntries(Object.entries(g1.gcOver10msByKind).map(([k, v]) => [k, v - (g0.gcOver10msByKind[k] ?? 0)]).filter(([, v]) => (v as number) > 0)),
        heapKiB: g1.heapUsed / 1024,
        pps: received / (MEASURE_MS / 1000),
        setupS,
        degraded: [],
      };
      if (n > 0) {
        if (step.loss > LOSS_LIMIT) step.degraded.push(`loss ${(step.loss * 100).toFixed(2)} %`);
        if (!(step.p99 <= P99_LIMIT_MS)) step.degraded.push(`p99 ${step.p99.toFixed(1)} ms`);
        if (step.cpu >= CPU_LIMIT) step.degraded.push(`server CPU ${step.cpu.toFixed(0)} %`);
      }
      process.stderr.write(
        `media: N=${n}: server CPU ${step.cpu.toFixed(1)} %, RSS ${(step.rssKiB / 1024).toFixed(1)} MiB (JS heap ${(step.heapKiB / 1024).toFixed(1)}), got ${received}/${expected} (loss ${(step.loss * 100).toFixed(2)} %), ` +
          `p50 ${step.p50.toFixed(2)} ms, p99 ${step.p99.toFixed(2)} ms, ${step.pps.toFixed(0)} pkt/s; client CPU ${step.clientCpu.toFixed(0)} %, loop delay p99 ${step.loopP99.toFixed(1)} ms; ` +
          `server loop delay p99 ${step.serverLoopP99.toFixed(1)} / max ${step.serverLoopMax.toFixed(1)} ms, GC ${step.serverGcMs.toFixed(0)} ms (${step.gcOver10ms} pauses > 10 ms ${JSON.stringify(step.gcOver10msByKind)}, ${step.gcOver100ms} > 100 ms); ` +
          `others ${Math.max(0, step.others).toFixed(0)} %; RTP through werift ${viaWerift}; setup ${setupS.toFixed(1)} s${step.degraded.length ? ` — DEGRADED: ${step.degraded.join(', ')}` : ''}\n`,
      );
      return step;
    };

    // N = 0: the publisher alone (the server receives, forwards nothing) — the base the per-subscriber figures subtract.
    const base = await measure(0);
    let restProbe: { p99: number; p50: number; requests: number; errors: number } | undefined;
    const steps: Step[] = [];
    let tried = 0;
    let stopped = '';
    for (const n of STEPS) {
      // A step needs its set-up (at the last step's pace), the settle time, the window and the grace.
      const last = steps.at(-1);
      const pace = last && last.n > 0 ? last.setupS / Math.max(1, last.n - (steps.at(-2)?.n ?? 0)) : 0.1;
      if (left() < (n - tried) * pace * 1000 + SETTLE_MS + MEASURE_MS + GRACE_MS + 5000) {
        stopped = `stopped before N=${n} by the ${OVERALL_MS / 1000} s limit`;
        break;
      }
      const t = performance.now();
      const failures = await addSubscribers(tried, n);
      const setupS = (performance.now() - t) / 1000;
      if (failures.length) notes.push(`${failures.length} of ${n - tried} new subscribers failed to connect at N=${n}, e.g. ${failures[0]}`);
      const failedShare = failures.length / (n - tried);
      tried = n;
      let step = await measure(setupS);
      // Other load on the machine (a test run, say) can take the server's core: a degraded step measured while other
      // processes used more than DISTURBED % of a core is measured again (twice at most), and the last window decides.
      for (let again = 0; again < 2 && step.degraded.length > 0 && step.others > DISTURBED && left() > SETTLE_MS + MEASURE_MS + GRACE_MS + 5000; again++) {
        notes.push(`N=${step.n} measured again: ${step.degraded.join(', ')} while other processes used ${step.others.toFixed(0)} % of a core`);
        step = await measure(setupS);
      }
      if (failedShare > MAX_FAILED_SHARE) step.degraded.push(`${(failedShare * 100).toFixed(0)} % of the new subscribers failed to connect`);
      steps.push(step);
      if (n === REST_PROBE_N) restProbe = await probeRest(url, app);
      if (step.degraded.length) break;
    }
    if (stopped) notes.push(stopped);
    const soak: Step[] = [];
    if (SOAK_S > 0 && steps.at(-1)?.n === SOAK_N && !steps.at(-1)!.degraded.length) {
      const end = performance.now() + SOAK_S * 1000;
      while (performance.now() + MEASURE_MS + SETTLE_MS < end) {
        const t = performance.now();
        soak.push(await measure(0));
        await sleep(Math.max(0, SOAK_EVERY_MS - (performance.now() - t)));
      }
    }
    if (steps.length === STEPS.length && !steps.at(-1)!.degraded.length) notes.push(`not degraded at the largest step (N=${STEPS.at(-1)})`);

    const clean = steps.filter((s) => s.degraded.length === 0);
    const best = clean.at(-1);
    const worse = steps.find((s) => s.degraded.length > 0);
    // Whose limit: a degraded step with this process near a full core and the server not is the load generator's.
    const clientBound = worse !== undefined && worse.clientCpu >= CLIENT_BUSY && worse.cpu < CPU_LIMIT - 5;
    if (worse) {
      notes.push(
        `degraded at N=${worse.n}: ${worse.degraded.join(', ')} (server CPU ${worse.cpu.toFixed(0)} %, its event loop delayed up to ${worse.serverLoopMax.toFixed(0)} ms; ` +
          `load generator CPU ${worse.clientCpu.toFixed(0)} %${clientBound ? ': bound by the load generator, not the server' : ''})`,
      );
    }
    const disturbed = steps.filter((s) => s.others > DISTURBED);
    if (disturbed.length) notes.push(`other processes used ${disturbed.map((s) => `${s.others.toFixed(0)} % at N=${s.n}`).join(', ')} of a core`);
    const note = notes.length ? ` [${notes.join('; ')}]` : '';
    const fmt = (x: number | undefined, digits = 1) => (x !== undefined && Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
    const first = steps[0];
    const bestN = best?.n ?? 0;
    const cpuPer = best ? (best.cpu - base.cpu) / best.n : NaN;
    const memPer = best ? (best.rssKiB - base.rssKiB) / best.n : NaN;
    const pktPerSub = best ? best.pps / best.n : NaN;
    const load = `1 publisher: ${VIDEO_KBPS} kbps of 1000-byte video packets + 50/s audio, each subscriber audio + video`;
    // The issue's rule for line rate: the largest step forwarded with p99 < 20 ms and no loss at all.
    const strict = steps.filter((s) => s.degraded.length === 0 && s.p99 < STRICT_P99_MS && s.loss === 0).at(-1);
    const soakRows: BenchRow[] = [];
    if (soak.length >= 3) {
      const third = Math.max(1, Math.floor(soak.length / 3));
      const mean = (xs: Step[], f: (s: Step) => number) => xs.reduce((a, x) => a + f(x), 0) / xs.length;
      const h0 = mean(soak.slice(0, third), (x) => x.heapKiB) / 1024;
      const h1 = mean(soak.slice(-third), (x) => x.heapKiB) / 1024;
      const r0 = mean(soak.slice(0, third), (x) => x.rssKiB) / 1024;
      const r1 = mean(soak.slice(-third), (x) => x.rssKiB) / 1024;
      const worstP99 = Math.max(...soak.map((x) => x.p99));
      const lost = soak.reduce((a, x) => a + x.expected - x.received, 0);
      soakRows.push({
        name: `SFU soak: N=${SOAK_N} subscribers held ${(SOAK_S / 60).toFixed(0)} min, ${soak.length} windows of ${MEASURE_MS / 1000} s a minute apart: server JS heap, mean of the first third → last third, MiB (RSS ${fmt(r0, 0)} → ${fmt(r1, 0)} MiB; worst window p99 ${fmt(worstP99)} ms; ${lost} packets lost)`,
        value: `${fmt(h0)} → ${fmt(h1)}`,
        baseline: `${fmt(base.heapKiB / 1024)} MiB with the publisher alone`,
        ratio: h1 / h0,
        target: `flat heap (within ${SOAK_HEAP_DRIFT * 100} %) for the soak (issue: one hour at N = ${SOAK_N})`,
        pass: Math.abs(h1 - h0) <= SOAK_HEAP_DRIFT * h0,
      });
    }
    if (SOAK_S > 0) return soakRows;
    return [
      {
        name: `SFU: REST account_check latency while the SFU forwards to N=${REST_PROBE_N} subscribers (${REST_PROBE_RATE} req/s for ${REST_PROBE_S} s after 1 s unmeasured, from a separate autocannon process on the load generator's CPU), p50 / p99 ms`,
        value: restProbe ? `${fmt(restProbe.p50, 1)} / ${fmt(restProbe.p99, 1)}` : 'n/a',
        baseline: restProbe ? `${restProbe.requests} requests, ${restProbe.errors} failed` : `the bench did not reach N=${REST_PROBE_N}`,
        ratio: null,
        target: `p99 < ${REST_P99_LIMIT_MS} ms`,
        pass: restProbe !== undefined && restProbe.errors === 0 && restProbe.p99 < REST_P99_LIMIT_MS,
      },
      {
        name: `SFU: packets forwarded per second on one core at the largest step with p99 < ${STRICT_P99_MS} ms and no loss (N=${strict?.n ?? 0}; ${load})`,
        value: fmt(strict?.pps, 0),
        baseline: 'LiveKit ≈ 38,000 per core (560,962/s out at 92 % of 16 cores)',
        ratio: strict ? strict.pps / (560_962 / (16 * 0.92)) : null,
        target: `≥ ${STRICT_TARGET_PPS.toLocaleString('en')} packets/s per core, p99 < ${STRICT_P99_MS} ms, no loss`,
        pass: strict !== undefined && strict.pps >= STRICT_TARGET_PPS,
      },
      {
        name: `SFU: subscribers forwarded on one core before loss > ${LOSS_LIMIT * 100} %, p99 > ${P99_LIMIT_MS} ms or CPU ≥ ${CPU_LIMIT} % (${load}; steps ${steps.map((s) => s.n).join(', ')}; ${server.where})${note}`,
        value: String(bestN),
        baseline: 'per core: LiveKit ≈ 50 (100 down-tracks, "Going beyond a single-core"), ≈ 190 (1 pub × 3000 subs, 16 cores at 92 %); mediasoup ≈ 250 (~500 consumers per worker)',
        ratio: null,
        target: `≥ ${TARGET_N} (no target in the issue; ${TARGET_N} subscribers = ${TARGET_N * 2} down-tracks)`,
        pass: bestN >= TARGET_N,
      },
      {
        name: `SFU: packets forwarded per second on that core at N=${bestN} (received by the subscribers; ${fmt(pktPerSub, 0)} per subscriber)`,
        value: fmt(best?.pps, 0),
        baseline: 'LiveKit ≈ 38,000 per core (560,962/s out at 92 % of 16 cores)',
        ratio: best ? best.pps / (560_962 / (16 * 0.92)) : null,
        target: 'recorded (no target set)',
        pass: true,
      },
      {
        name: `SFU: server CPU per subscriber at N=${bestN} ((CPU − ${fmt(base.cpu)} % with the publisher alone) / N; a full core at that rate ≈ ${fmt(100 / cpuPer, 0)} subscribers), % of one core`,
        value: fmt(cpuPer, 2),
        baseline: `LiveKit ≈ 0.49 (92 % × 16 cores / 3000); mediasoup ≈ 0.4 (a core / ~250)`,
        ratio: null,
        target: 'recorded (no target set)',
        pass: true,
      },
      {
        name: `SFU: server memory per subscriber at N=${bestN} ((VmRSS − ${fmt(base.rssKiB / 1024, 0)} MiB with the publisher alone) / N), KiB`,
        value: fmt(memPer, 0),
        baseline: `${fmt(best ? best.rssKiB / 1024 : NaN, 0)} MiB at N=${bestN}, of which JS heap ${fmt(best ? (best.heapKiB - base.heapKiB) / best.n : NaN, 0)} KiB per subscriber; the anchors publish no figure`,
        ratio: null,
        target: 'recorded (no target set)',
        pass: true,
      },
      {
        name: `SFU: forwarding latency at N=${bestN} (publisher's send → subscriber's receipt, both in the load generator), p50 / p99 ms`,
        value: best ? `${fmt(best.p50, 2)} / ${fmt(best.p99, 2)}` : 'n/a',
        baseline: first ? `${fmt(first.p50, 2)} / ${fmt(first.p99, 2)} (N=${first.n})` : '',
        ratio: null,
        target: `p99 < ${P99_LIMIT_MS} ms`,
        pass: best !== undefined && best.p99 < P99_LIMIT_MS,
      },
      {
        name: `SFU: forwarding loss at N=${bestN}${worse ? ` (N=${worse.n}: ${fmt(worse.loss * 100, 2)} %, p99 ${fmt(worse.p99)} ms)` : ''}, %`,
        value: fmt(best ? best.loss * 100 : NaN, 2),
        baseline: first ? `${fmt(first.loss * 100, 2)} (N=${first.n})` : '',
        ratio: null,
        target: `≤ ${LOSS_LIMIT * 100} %`,
        pass: best !== undefined && best.loss <= LOSS_LIMIT,
      },
    ];
  }
}

/** REST account_check at a steady rate from an autocannon child process (so the bench's own event loop adds nothing). */
async function probeRest(url: string, app: { sdkAppId: number; secretKey: string }): Promise<{ p99: number; p50: number; requests: number; errors: number }> {
  const usersig = genUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, userId: 'administrator', expire: 86400 });
  const target = restUrl(url, 'im_open_login_svc/account_check', { sdkappid: String(app.sdkAppId), identifier: 'administrator', usersig, random: '1', contenttype: 'json' });
  const body = JSON.stringify({ CheckItem: [{ UserID: 'administrator' }] });
  const run = async (seconds: number): Promise<string> => {
    const args = [fileURLToPath(new URL('../node_modules/autocannon/autocannon.js', import.meta.url)), '-j', '-c', '2', '-R', String(REST_PROBE_RATE), '-d', String(seconds), '-m', 'POST', '-b', body, target];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => child.on('close', r));
    return out;
  };
  // A second unmeasured first, as the REST rows have: the server's first requests on this path compile it.
  await run(1);
  const out = await run(REST_PROBE_S);
  const r = JSON.parse(out) as { latency: { p99: number; p50: number }; requests: { total: number }; errors: number; non2xx: number; timeouts: number };
  return { p99: r.latency.p99, p50: r.latency.p50, requests: r.requests.total, errors: r.errors + r.non2xx + r.timeouts };
}
