import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { genUserSig } from '../src/auth/usersig.ts';
import { restUrl, tempDir } from '../test/helpers/server.ts';
import { cpuTicks, createBenchApp, othersLoad, pct, rssKiB, sleep, startPinnedServer, withHardStop, type BenchRow, type PinnedServer } from './harness.ts';

/** Audience clients held in one live room (the target), and the small audience of the baseline. */
const N = Number(process.env.BENCH_RT_CLIENTS ?? 10_000);
const N_BASE = 100;
/** Connections being opened (upgrade + auth + live.enter) at once. */
const IN_FLIGHT = 200;
/** Gifts measured per audience size, after WARMUP unmeasured ones; each waits for the previous one plus GAP_MS. */
const GIFTS = 20;
const WARMUP = 2;
const GAP_MS = 100;
/** Limits: the whole group, one connection, one gift's fan-out. */
const OVERALL_MS = 180_000;
const CONNECT_TIMEOUT_MS = 20_000;
const GIFT_TIMEOUT_MS = 10_000;
const ROOM = 'bench_live';
const P99_TARGET_MS = 250;

type Sink = (i: number, text: string) => void;

/** What one audience size measured: its clients, their connect time and failures. */
interface Cohort {
  sockets: WebSocket[];
  held: number;
  failures: string[];
  connectMs: number;
}

/**
 * Opens one client: upgrade to /rtc, `auth`, `live.enter`; resolves once live.enter replied ok. Later frames go to
 * `sink`; `lost` hears of a socket that closes after it was counted in.
 */
function join(url: string, sdkAppId: number, userId: string, userSig: string, i: number, sink: Sink, lost: (i: number, code: number) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let step = 0; // 0 authenticating, 1 entering, 2 in the room, 3 failed
    const fail = (why: string) => {
      if (step === 3) return;
      step = 3;
      clearTimeout(timer);
      ws.terminate();
      reject(new Error(`${userId}: ${why}`));
    };
    const timer = setTimeout(() => fail(`not in the room after ${CONNECT_TIMEOUT_MS} ms`), CONNECT_TIMEOUT_MS);
    ws.once('open', () => ws.send(JSON.stringify({ v: 1, id: 'a', type: 'auth', sdkAppId, userId, userSig })));
    ws.on('error', (err) => (step === 2 ? ws.terminate() : fail(err.message))); // in the room: 'close' counts it lost
    ws.on('close', (code) => (step === 2 ? lost(i, code) : fail(`closed with ${code}`)));
    ws.on('message', (data) => {
      const text = String(data);
      if (step === 2) return sink(i, text);
      if (text.startsWith('{"seq"')) return; // an event before the room was entered
      const m = JSON.parse(text) as { re?: string; ok?: boolean };
      if (m.ok !== true) return fail(`refused: ${text.slice(0, 200)}`);
      if (m.re === 'a' && step === 0) {
        step = 1;
        ws.send(JSON.stringify({ v: 1, id: 'e', type: 'live.enter', roomId: ROOM }));
      } else if (m.re === 'e' && step === 1) {
        step = 2;
        clearTimeout(timer);
        resolve(ws);
      }
    });
  });
}

/**
 * The `realtime` group: a trtcd child pinned to one core holds N idle /rtc clients (auth + live.enter into one live
 * room) opened from this process, and fans REST send_gift out to all of them as `live.event`s.
 */
export async function benchRealtime(): Promise<BenchRow[]> {
  const t0 = Date.now();
  const deadline = t0 + OVERALL_MS;
  const left = () => deadline - Date.now();
  const notes: string[] = [];

  // Open files: this process holds the clients, the child the server side; both inherit this limit.
  const fdLimit = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim());
  let n = N;
  if (Number.isFinite(fdLimit) && fdLimit < N + N_BASE + 500) {
    n = Math.max(N_BASE, fdLimit - N_BASE - 500);
    notes.push(`ulimit -n ${fdLimit}: N lowered to ${n}`);
  }

  const dir = tempDir('trtcd-bench-rt-');
  const { sdkAppId, secretKey } = createBenchApp(dir);
  const adminSig = genUserSig({ sdkAppId, secretKey, userId: 'administrator', expire: 86400 });

  // Every UserSig up front, so signing is not part of the connect time.
  const users = (prefix: string, count: number) =>
    Array.from({ length: count }, (_, i) => {
      const userId = `${prefix}${String(i).padStart(5, '0')}`;
      return { userId, userSig: genUserSig({ sdkAppId, secretKey, userId, expire: 86400 }) };
    });
  const base = users('b', N_BASE);
  const main = users('a', n);

  // The server: its own core (taskset, every thread), this process on the other ones.
  let server: PinnedServer | undefined;
  const all: WebSocket[] = [];
  // A hard stop a little after the soft deadline, in case something hangs: the finally below cleans up either way.
  try {
    return await withHardStop('realtime bench', OVERALL_MS + 30_000, run);
  } finally {
    for (const ws of all) ws.terminate();
    await server?.release();
    rmSync(dir, { recursive: true, force: true });
  }

  async function run(): Promise<BenchRow[]> {
    // BENCH_RT_SERVER_ARGS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, adds node options to the server (profiling).
    const nodeArgs = (process.env.BENCH_RT_SERVER_ARGS ?? '').split(' ').filter(Boolean);
    server = await startPinnedServer(dir, nodeArgs);
    const child = server.child;
    const pid = child.pid;
    notes.push(...server.notes);
    const where = server.where;

    const url = (command: string) => restUrl(child.url, command, { sdkappid: String(sdkAppId), identifier: 'administrator', usersig: adminSig, random: '1', contenttype: 'json' });
    const post = async (command: string, body: unknown) => {
      const res = await fetch(url(command), { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(GIFT_TIMEOUT_MS) });
      const env = (await res.json()) as Record<string, unknown>;
      if (env.ErrorCode !== 0) throw new Error(`${command}: ${JSON.stringify(env)}`);
      return env;
    };
    await post('im_open_login_svc/multiaccount_import', { Accounts: ['fan', 'host'] });
    await post('live_engine_http_srv/create_room', { RoomInfo: { RoomId: ROOM, Owner_Account: 'host' } });
    await post('live_engine_http_srv/add_gift', { GiftId: 'rose', Coins: 1, DefaultName: 'Rose' });

    // Gift receipts: client index → whether it got the gift with this Count.
    const tracks = new Map<number, { got: Uint8Array; have: number; need: number; first: number; done: (at: number) => void }>();
    const sink: Sink = (i, text) => {
      if (!text.includes('"kind":"gift"')) return;
      const t = tracks.get(Number(/"count":(\d+)/.exec(text)?.[1]));
      if (!t || t.got[i]) return;
      t.got[i] = 1;
      if (t.have === 0) t.first = performance.now();
      if (++t.have === t.need) t.done(performance.now());
    };
    let lostCount = 0;
    const lostCodes = new Set<number>();
    const lost = (_i: number, code: number) => {
      lostCount++;
      lostCodes.add(code);
    };

    const connect = async (list: Array<{ userId: string; userSig: string }>, offset: number): Promise<Cohort> => {
      const wsUrl = `${child.url.replace(/^http/, 'ws')}/rtc`;
      const sockets: WebSocket[] = [];
      const failures: string[] = [];
      let next = 0;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: Math.min(IN_FLIGHT, list.length) }, async () => {
          while (next < list.length && left() > 0) {
            const i = next++;
            try {
              const ws = await join(wsUrl, sdkAppId, list[i]!.userId, list[i]!.userSig, offset + i, sink, lost);
              sockets.push(ws);
              all.push(ws);
            } catch (err) {
              failures.push((err as Error).message);
            }
          }
        }),
      );
      return { sockets, held: sockets.length, failures, connectMs: performance.now() - start };
    };

    /** Sends gifts one at a time with unique Counts; the latency of each is REST send → the last client's receipt. */
    let nextCount = 1;
    const gifts = async (size: number): Promise<{ ms: number[]; reply: number[]; missed: number }> => {
      const ms: number[] = [];
      const reply: number[] = [];
      let missed = 0;
      for (let g = 0; g < WARMUP + GIFTS && left() > GIFT_TIMEOUT_MS; g++) {
        const count = nextCount++;
        const got = new Uint8Array(N_BASE + n);
        let done!: (at: number) => void;
        const arrived = new Promise<number>((r) => (done = r));
        const track = { got, have: 0, need: size, first: 0, done };
        tracks.set(count, track);
        const sent = performance.now();
        await post('live_engine_http_srv/send_gift', { RoomId: ROOM, GiftId: 'rose', Count: count, From_Account: 'fan', ReceiverList_Account: ['host'] });
        const replied = performance.now();
        let timer: NodeJS.Timeout | undefined;
        const at = await Promise.race([arrived, new Promise<null>((r) => (timer = setTimeout(() => r(null), GIFT_TIMEOUT_MS)))]);
        clearTimeout(timer);
        tracks.delete(count);
        if (g >= WARMUP) {
          if (at === null) {
            missed++;
            ms.push(Infinity);
            process.stderr.write(`realtime: gift ${count} reached ${track.have}/${size} clients in ${GIFT_TIMEOUT_MS} ms\n`);
          } else ms.push(at - sent);
          reply.push(replied - sent);
          if (process.env.BENCH_RT_DEBUG) {
            process.stderr.write(`realtime: gift ${count} to ${size}: reply ${(replied - sent).toFixed(1)} ms, first client ${(track.first - sent).toFixed(1)} ms, last ${((at ?? NaN) - sent).toFixed(1)} ms\n`);
          }
        }
        await sleep(GAP_MS);
      }
      return { ms: ms.sort((a, b) => a - b), reply: reply.sort((a, b) => a - b), missed };
    };

    // Baseline: 100 clients, their gifts, then they leave (clean close).
    const small = await connect(base, 0);
    if (small.held < N_BASE) throw new Error(`baseline: only ${small.held}/${N_BASE} clients entered: ${small.failures.slice(0, 3).join('; ')}`);
    const c0 = cpuTicks(['self', pid]);
    const baseGifts = await gifts(N_BASE);
    const c1 = cpuTicks(['self', pid]);
    await Promise.all(small.sockets.map((ws) => new Promise<void>((r) => (ws.once('close', () => r()), ws.close(1000)))));
    const lostBefore = lostCount;
    await sleep(1000);

    // N clients: connect time and the server's RSS before/after.
    const rssBefore = rssKiB(pid);
    const c2 = cpuTicks(['self', pid]);
    const big = await connect(main, N_BASE);
    const c3 = cpuTicks(['self', pid]);
    await sleep(500);
    const rssAfter = rssKiB(pid);
    process.stderr.write(`realtime: ${big.held}/${n} clients in ${(big.connectMs / 1000).toFixed(1)} s; server RSS ${rssBefore} → ${rssAfter} KiB\n`);
    const bigGifts = big.held > 0 ? await gifts(big.held) : { ms: [], reply: [], missed: 0 };
    const c4 = cpuTicks(['self', pid]);
    const rssGifts = rssKiB(pid);
    // Other processes on the machine (e.g. a test run) disturb the figures: say so.
    const others = { baseGifts: othersLoad(c0, c1), connect: othersLoad(c2, c3), gifts: othersLoad(c3, c4) };
    const disturbed = (phases: Array<keyof typeof others>) => {
      const busy = phases.filter((p) => others[p] > 10).map((p) => `${others[p].toFixed(0)}% during ${p === 'baseGifts' ? `the ${N_BASE}-client gifts` : p}`);
      return busy.length ? ` [disturbed: other processes used ${busy.join(', ')} of a core]` : '';
    };
    const stillHeld = big.held - (lostCount - lostBefore);
    if (lostCount > lostBefore) notes.push(`${lostCount - lostBefore} clients closed by the server during the gifts (codes ${[...lostCodes].join(', ')})`);
    if (big.failures.length) notes.push(`${big.failures.length} connections failed, e.g. ${big.failures[0]}`);
    if (left() <= 0) notes.push(`stopped by the ${OVERALL_MS / 1000} s limit`);

    const p50 = pct(bigGifts.ms, 0.5);
    const p99 = pct(bigGifts.ms, 0.99);
    const b50 = pct(baseGifts.ms, 0.5);
    const b99 = pct(baseGifts.ms, 0.99);
    const perConn = ((rssAfter - rssBefore) * 1024) / Math.max(1, big.held);
    process.stderr.write(`realtime: other processes' CPU (% of one core): ${JSON.stringify(Object.fromEntries(Object.entries(others).map(([k, v]) => [k, Math.round(v)])))}\n`);
    const note = notes.length ? ` [${notes.join('; ')}]` : '';
    const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : String(x));
    const fanout = `${GIFTS} REST send_gift, one at a time ${GAP_MS} ms apart after ${WARMUP} unmeasured, send → last client's live.event`;
    return [
      {
        name: `/rtc clients held idle in one live room (auth + live.enter each; ${where})${note}`,
        value: String(stillHeld),
        baseline: `${n} opened`,
        ratio: null,
        target: `${N.toLocaleString('en')} idle clients in one live room on one core`,
        pass: n === N && stillHeld === N && big.failures.length === 0,
      },
      {
        name: `Time to connect them (upgrade + auth (account import) + live.enter, ${IN_FLIGHT} in flight), s${disturbed(['connect'])}`,
        value: (big.connectMs / 1000).toFixed(2),
        baseline: `${((big.held / big.connectMs) * 1000).toFixed(0)} clients/s`,
        ratio: null,
        target: 'recorded (no target set)',
        pass: true,
      },
      {
        name: `Server memory per held connection (child VmRSS after − before, / ${big.held}), KiB`,
        value: Number.isFinite(perConn) ? (perConn / 1024).toFixed(1) : 'n/a',
        baseline: `${(rssBefore / 1024).toFixed(0)} → ${(rssAfter / 1024).toFixed(0)} MiB; ${(rssGifts / 1024).toFixed(0)} MiB after the gifts`,
        ratio: null,
        target: 'recorded (no target set)',
        pass: true,
      },
      {
        name: `Gift fan-out to ${big.held} clients, p50 ms (${fanout})${disturbed(['gifts', 'baseGifts'])}`,
        value: fmt(p50),
        baseline: `${fmt(b50)} (${N_BASE} clients)`,
        ratio: b50 > 0 && Number.isFinite(p50) ? p50 / b50 : null,
        target: 'recorded (no target set)',
        pass: true,
      },
      {
        name: `send_gift's own HTTP reply (written after the server has written the event to every client), p50 ms`,
        value: fmt(pct(bigGifts.reply, 0.5)),
        baseline: `${fmt(pct(baseGifts.reply, 0.5))} (${N_BASE} clients)`,
        ratio: null,
        target: 'recorded (no target set)',
        pass: true,
      },
      {
        name: `Gift fan-out to ${big.held} clients, p99 ms (same gifts; ${bigGifts.missed} not received by all within ${GIFT_TIMEOUT_MS / 1000} s)${note}${disturbed(['gifts', 'baseGifts'])}`,
        value: fmt(p99),
        baseline: `${fmt(b99)} (${N_BASE} clients)`,
        ratio: b99 > 0 && Number.isFinite(p99) ? p99 / b99 : null,
        target: `p99 < ${P99_TARGET_MS} ms at N = ${N.toLocaleString('en')}`,
        pass: n === N && big.held === N && bigGifts.ms.length === GIFTS && p99 < P99_TARGET_MS,
      },
    ];
  }
}
